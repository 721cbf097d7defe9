"""Checks of the Markdown text of controlled documents: one small check per concern over one scanner.

`scan` reads a text once and yields its lines outside fenced code, each with inline code
removed; every check takes those lines (or the whole text) and yields findings. Every
check runs in time linear in the text: no regular expression here can backtrack over a
long run of one character (`<` followed by 160,000 spaces, 50,000 `[`), and `limit_findings`
refuses text that the renderers themselves (Python-Markdown for the site, pandoc for Word)
would take minutes to read, so that `check` reports it and no build can stall on it.

The site and the Word copy must show one text (see README, Document format). Constructs
that one renderer shows and the other hides, or that hide text from every reader, are
reported: comments written as link definitions, unused link definitions, footnotes nothing
refers to, link titles, attribute lists with classes or key=value pairs, and invisible
direction controls.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
import urllib.parse
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from .model import Document, Finding, Severity

WARN = Severity.WARNING

# Limits within which both renderers read a document in about a second (measured with pandoc 3.9
# and Python-Markdown 3.11: 1,000 unclosed `[` in one paragraph take pandoc 3 s, 200 unclosed `[](`
# 3 s, 25,000 `<x ` in a document Python-Markdown over a minute; lists nested 2,000 deep make
# Python-Markdown recurse out). A document at every limit at once converts in under a second.
MAX_LINE_CHARS = 10_000
MAX_LINES_PER_BLOCK = 1_000
MAX_NESTING = 8
BLOCK_LIMITS = {
    # what is counted in one paragraph: (limit, what it is, how to fix it)
    "open_brackets": (64, "[ not closed by ]", "close each [ with ], or write a bracket that is text as \\["),
    "open_destinations": (64, "link addresses ]( not closed by )", "close each link address with )"),
    "angles": (500, "< characters", "write fewer < in one paragraph, or split it"),
    "ampersands": (2_000, "& characters", "write fewer & in one paragraph, or split it"),
    "backticks": (2_000, "backticks (`)", "write fewer backticks in one paragraph, or split it"),
}
# The renderers' cost adds up over a document's paragraphs: the same characters, counted over the whole text
# (brackets and link addresses at their most unclosed in each paragraph).
DOCUMENT_LIMITS = {
    "open_brackets": (128, "[ not closed by ]", "close each [ with ], or write a bracket that is text as \\["),
    "open_destinations": (128, "link addresses ]( not closed by )", "close each link address with )"),
    "angles": (1_000, "< characters", "write fewer <, or split the document"),
    "ampersands": (2_000, "& characters", "write fewer &, or split the document"),
    "backticks": (5_000, "backticks (`)", "write fewer backticks, or split the document"),
}

SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")


@dataclass(frozen=True)
class Line:
    """A line of Markdown outside fenced code: its number in the file, its text, and its text without inline code."""

    number: int
    text: str
    plain: str


def scan(text: str, first_line: int) -> Iterator[Line]:
    """The lines of text outside fenced code blocks (``` or ~~~), inline code spans removed."""
    fence = ""
    for offset, line in enumerate(text.split("\n")):
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            if not fence:
                fence = marker
                continue
            if marker == fence:
                fence = ""
                continue
        if fence:
            continue
        yield Line(first_line + offset, line, strip_inline_code(line))


def strip_inline_code(line: str) -> str:
    """line without its `code spans` (an unclosed backtick leaves the rest as it is)."""
    if "`" not in line:
        return line
    out, position = [], 0
    while True:
        start = line.find("`", position)
        if start < 0:
            break
        end = line.find("`", start + 1)
        if end < 0:
            break
        out.append(line[position:start])
        position = end + 1
    out.append(line[position:])
    return "".join(out)


def document_texts(doc: Document) -> Iterator[tuple[str, str, int]]:
    """(path, text, line of the text's first line) for the main body and every part."""
    yield doc.path, doc.body, doc.body_line
    for part in doc.parts:
        yield part.path, part.text, 1


def check_markdown(ctx) -> Iterator[Finding]:
    """The Markdown validator registered in validate.VALIDATORS. What a text gives depends on nothing but its path,
    its first line and its characters, so with the context's `markdown_memo` (get/put, see validate.Context) a text
    checked before is not checked again."""
    memo = ctx.markdown_memo
    for doc in ctx.documents:
        for path, text, first in document_texts(doc):
            if memo is None:
                yield from markdown_findings(path, text, first)
                continue
            key = ("markdown", path, first, limits_digest(text).hex())
            found = memo.get(key)
            if found is None:
                found = tuple(markdown_findings(path, text, first))
                memo.put(key, found)
            yield from found


def markdown_findings(path: str, text: str, first_line: int) -> Iterator[Finding]:
    limits = list(limit_text(path, text, first_line))
    if limits:
        yield from limits
        return  # the other checks would read what the renderers cannot
    lines = list(scan(text, first_line))
    for check in LINE_CHECKS:
        yield from check(path, lines)


def limit_findings(doc: Document) -> list[Finding]:
    """What in doc exceeds the limits the renderers read in bounded time (the build refuses it)."""
    return [f for path, text, first in document_texts(doc) for f in limit_text(path, text, first)]


def refuse_beyond_limits(documents: Iterable[Document], what: str,
                         passed: Collection[bytes] = frozenset()) -> set[bytes]:
    """Raise before rendering when any document exceeds the limits: no single text may stall `what`.

    Whether a text is within the limits depends on nothing but the text, so a text whose digest
    (`limits_digest`) is in `passed` (accepted before) is not read again. Returns the digests of the texts."""
    from .errors import DoccontrolError

    accepted: set[bytes] = set()
    findings: list[Finding] = []
    for doc in documents:
        for path, text, first in document_texts(doc):
            key = limits_digest(text)
            if key in accepted or key in passed:
                accepted.add(key)
                continue
            found = list(limit_text(path, text, first))
            findings += found
            if not found:
                accepted.add(key)
    if findings:
        raise DoccontrolError(f"cannot {what}: a document's Markdown exceeds what the renderers read in bounded time",
                              findings=findings,
                              fix="correct the document as the findings say; `doccontrol check` reports the same")
    return accepted


def limits_digest(text: str) -> bytes:
    """What `refuse_beyond_limits` knows a text by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


# -- limits ------------------------------------------------------------------------------------

def limit_text(path: str, text: str, first_line: int) -> Iterator[Finding]:
    """The first limit text exceeds: a line too long, a paragraph too long or holding too many unclosed
    brackets (or other costly characters), quotes or lists nested too deep, too many of them in the text."""
    counts, document = Counts(), Totals()
    block_start, fence = first_line, ""
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        if len(line) > MAX_LINE_CHARS:
            yield Finding(path, number, "markdown-limit", f"line of {len(line):,} characters; the limit is "
                          f"{MAX_LINE_CHARS:,}", "break the paragraph into shorter ones, or the table into rows")
            return
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~") and (not fence or marker == fence):
            fence = "" if fence else marker
            continue
        if fence:
            continue
        if not line.strip():
            counts, block_start = Counts(), number + 1
            continue
        depth = nesting_depth(line)
        if depth > MAX_NESTING:
            yield Finding(path, number, "markdown-limit", f"quotes or lists nested {depth} deep; the limit is "
                          f"{MAX_NESTING}", "flatten the structure: use headings or numbered paragraphs")
            return
        exceeded = counts.add(line)
        if exceeded:
            limit, what, fix = BLOCK_LIMITS[exceeded]
            yield Finding(path, number, "markdown-limit", f"more than {limit:,} {what} in one paragraph; the site "
                          "and the Word export would take minutes to read it", fix)
            return
        exceeded = document.add(line, counts)
        if exceeded:
            limit, what, fix = DOCUMENT_LIMITS[exceeded]
            yield Finding(path, number, "markdown-limit", f"more than {limit:,} {what} in the document; the site "
                          "and the Word export would take minutes to read it", fix)
            return
        if counts.lines > MAX_LINES_PER_BLOCK:
            yield Finding(path, block_start, "markdown-limit", f"a paragraph, list or table of more than "
                          f"{MAX_LINES_PER_BLOCK:,} lines", "separate it into several with blank lines or headings")
            return


@dataclass
class Counts:
    """What one paragraph holds of the characters that cost the renderers most."""

    lines: int = 0
    open_brackets: int = 0
    open_destinations: int = 0
    angles: int = 0
    ampersands: int = 0
    backticks: int = 0
    peak_brackets: int = 0
    peak_destinations: int = 0

    def add(self, line: str) -> str | None:
        """Count line in; the name of the first limit now exceeded, if any."""
        self.lines += 1
        self.open_brackets = max(0, self.open_brackets + line.count("[") - line.count("]"))
        self.open_destinations = max(0, self.open_destinations + line.count("](") - line.count(")"))
        self.peak_brackets = max(self.peak_brackets, self.open_brackets)
        self.peak_destinations = max(self.peak_destinations, self.open_destinations)
        self.angles += line.count("<")
        self.ampersands += line.count("&")
        self.backticks += line.count("`")
        return next((name for name, (limit, _, _) in BLOCK_LIMITS.items() if getattr(self, name) > limit), None)


@dataclass
class Totals:
    """The same counts over the whole text: characters added up, unclosed brackets at each paragraph's peak."""

    open_brackets: int = 0
    open_destinations: int = 0
    angles: int = 0
    ampersands: int = 0
    backticks: int = 0
    finished_brackets: int = 0
    finished_destinations: int = 0

    def add(self, line: str, paragraph: Counts) -> str | None:
        if paragraph.lines == 1:
            self.finished_brackets, self.finished_destinations = self.open_brackets, self.open_destinations
        self.open_brackets = self.finished_brackets + paragraph.peak_brackets
        self.open_destinations = self.finished_destinations + paragraph.peak_destinations
        self.angles += line.count("<")
        self.ampersands += line.count("&")
        self.backticks += line.count("`")
        return next((name for name, (limit, _, _) in DOCUMENT_LIMITS.items() if getattr(self, name) > limit), None)


def nesting_depth(line: str) -> int:
    """How deep a line nests: its `>` quote markers, plus, for a list item, its indentation in levels of 4 spaces."""
    quotes, position = 0, 0
    while position < len(line) and line[position] in "> ":
        if line[position] == ">":
            quotes += 1
        position += 1
    rest = line.lstrip("> ")
    if not LIST_ITEM.match(rest):
        return quotes
    indent = len(line) - len(line.lstrip(" ")) if not quotes else 0
    return quotes + indent // 4 + 1


# -- lists -------------------------------------------------------------------------------------

LIST_ITEM = re.compile(r"( *)(?:[-*+]|[0-9]{1,9}[.)])[ \t]")


def list_indent(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Nested list items indented by other than 4 spaces: Python-Markdown and pandoc nest them differently."""
    stack: list[int] = []
    for line in lines:
        item = LIST_ITEM.match(line.text)
        if item:
            indent = len(item.group(1))
            while stack and stack[-1] > indent:
                stack.pop()
            if stack and indent > stack[-1] and indent - stack[-1] != 4:
                yield Finding(path, line.number, "list-indent",
                              f"nested list item indented by {indent - stack[-1]} spaces; the site and Word read it "
                              "differently", "indent nested list items by exactly 4 spaces", WARN)
            if not stack or indent > stack[-1]:
                stack.append(indent)
        elif line.text.strip() and not line.text.startswith(" "):
            stack = []


# -- raw HTML ----------------------------------------------------------------------------------

DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "frame", "frameset", "meta", "link", "base",
                  "form", "svg", "math", "textarea"}
TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")


def html_tags(line: str) -> Iterator[str]:
    """The names of the HTML tags in line, read as Python-Markdown would, in one pass.

    A tag is `<`, optional `/` (blanks around it allowed), a name, then `>` or a blank or `/`
    followed by anything up to `>` without another `<`. A line that starts with `<name` opens an
    HTML block even without `>`, and a dangerous name after `<` is reported even when unclosed."""
    missing = len(line) + 1
    next_gt = next_lt = -1
    position = line.find("<")
    while position >= 0:
        name_at = _skip_blanks_and_slash(line, position + 1)
        name = TAG_NAME.match(line, name_at)
        if name:
            after = name.end()
            if next_gt < after:
                next_gt = _find(line, ">", after, missing)
            if next_lt < after:
                next_lt = _find(line, "<", after, missing)
            ends = after >= len(line) or line[after] in " \t/>"
            closed = next_gt < missing and next_gt < next_lt
            opens_block = position <= 3 and not line[:position].strip(" ") and ends
            if ends and (closed or opens_block or name.group(0).lower() in DANGEROUS_TAGS):
                yield name.group(0)
        position = line.find("<", position + 1)


def _find(line: str, char: str, start: int, missing: int) -> int:
    found = line.find(char, start)
    return found if found >= 0 else missing


def _skip_blanks_and_slash(line: str, position: int) -> int:
    """The position after the blanks, one optional /, and more blanks that may follow a <."""
    end = len(line)
    while position < end and line[position] in " \t":
        position += 1
    if position < end and line[position] == "/":
        position += 1
        while position < end and line[position] in " \t":
            position += 1
    return position


HTML_OTHER = re.compile(r"<!--|<!\[CDATA\[|<![A-Za-z]|<\?")


def raw_html(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Raw HTML, comments and declarations: controlled documents are plain Markdown."""
    for line in lines:
        tag = next(html_tags(line.plain), None)
        if tag:
            yield Finding(path, line.number, "raw-html", f"raw HTML <{tag}> is not allowed in controlled documents",
                          "write it in Markdown; tables, lists and emphasis cover what documents need")
        elif HTML_OTHER.search(line.plain):
            yield Finding(path, line.number, "raw-html", "an HTML comment or declaration (<!-- -->, <!...>) is not "
                          "allowed: readers of the site and the Word file would not see it",
                          "delete it, or write the note as visible text")


# -- attribute lists ---------------------------------------------------------------------------

ATTRIBUTE_LIST = re.compile(r"\{:?([^{}]*)\}")
UNSAFE_ATTRIBUTE = re.compile(r"(?:^|[\s'\"])(on[a-z]+|style|src|href|srcdoc|formaction|action)\s*=", re.IGNORECASE)
ID_ONLY = re.compile(r"\s*(?:#[A-Za-z][\w-]*\s*)?")


def attribute_lists(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Attribute lists may set an id (`{#id}`), nothing else: a handler or style could run script or hide
    text on the site, and a class or key=value (`.md-toggle`, data-toc-label) changes what the site shows
    while Word ignores it."""
    for line in lines:
        if "{" not in line.plain:
            continue
        for attributes in ATTRIBUTE_LIST.finditer(line.plain):
            inside = attributes.group(1)
            unsafe = UNSAFE_ATTRIBUTE.search(inside)
            if unsafe:
                yield Finding(path, line.number, "attribute-list",
                              f"the attribute list {attributes.group(0)!r} sets {unsafe.group(1)}=, which could run "
                              "script or load content in the site", "remove it; only ids and classes may be set")
            elif (attributes.group(0).startswith("{:") or not ID_ONLY.fullmatch(inside)) \
                    and looks_like_attributes(inside):
                yield Finding(path, line.number, "two-renderers",
                              f"the attribute list {attributes.group(0)!r} sets classes or attributes: the site "
                              "would apply them (hiding or relabelling text) and Word would not",
                              "remove it; an attribute list may only give a heading an id, as {#id}")


def looks_like_attributes(inside: str) -> bool:
    """Text between braces that Python-Markdown's attr_list would read (.class, #id, key=value)."""
    tokens = inside.split()
    return bool(tokens) and all(t.startswith((".", "#")) or "=" in t for t in tokens)


# -- links -------------------------------------------------------------------------------------

LINK_END = re.compile(r"\]\(")
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
LINK_DEFINITION = re.compile(r" {0,3}\[([^\]]{1,999})\]:[ \t]*<?([^\s>]*)>?(.*)")
MAX_URL = 2048
BARE_DESTINATION = re.compile(rf"[ \t]*([^ \t)]{{0,{MAX_URL}}})")
ANGLE_DESTINATION = re.compile(rf"[ \t]*<([^<>]{{0,{MAX_URL}}})>?")


def link_destinations(plain: str) -> Iterator[tuple[str, str]]:
    """(destination, rest up to the closing parenthesis) of every inline link or image `](target "title")`,
    each read within a bounded distance, so a line of n `](` costs O(n)."""
    for end in LINK_END.finditer(plain):
        yield destination_at(plain, end.end())


def destination_at(plain: str, start: int) -> tuple[str, str]:
    angle = ANGLE_DESTINATION.match(plain, start)
    found = angle if angle and plain.startswith("<", angle.start(1) - 1) else BARE_DESTINATION.match(plain, start)
    assert found is not None  # both patterns match the empty string
    close = plain.find(")", found.end(), found.end() + MAX_URL)
    return found.group(1), plain[found.end(): close if close >= 0 else found.end()]


def link_targets(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Links and images may point at web addresses, anchors and other documents, never at local files or scripts."""
    for line in lines:
        targets = [target for target, _ in link_destinations(line.plain)]
        targets += [m.group(1) for m in AUTOLINK.finditer(line.plain)] if "<" in line.plain else []
        definition = LINK_DEFINITION.fullmatch(line.plain)
        if definition:
            targets.append(definition.group(2))
        pictures = {source for _, source in images(line.plain)} if "![" in line.plain else set()
        for target in targets:
            if target in pictures:
                continue  # a picture's source is checked by images.check_images
            problem = unsafe_link(target)
            if problem:
                yield Finding(path, line.number, "link-target", f"link to {target!r} {problem}",
                              "link only to web addresses (https://) or to other documents by number")


def images(plain: str) -> Iterator[tuple[int, str]]:
    """(position, source) of every image `![description](source)`: each `![` paired with the next `](`."""
    ends = [m.start() for m in LINK_END.finditer(plain)]
    used: set[int] = set()
    for bang in re.finditer(r"!\[", plain):
        index = bisect.bisect_right(ends, bang.start())
        if index < len(ends) and ends[index] not in used:
            used.add(ends[index])
            yield bang.start(), destination_at(plain, ends[index] + 2)[0]


def unsafe_link(target: str) -> str | None:
    # Read the target as a browser would: entities and %-escapes decoded, blanks and controls dropped.
    target = re.sub(r"[\x00-\x20\x7f]", "", urllib.parse.unquote(html.unescape(target)))
    lowered = target.lower()
    if lowered.startswith("#"):
        return None
    if lowered.startswith(SAFE_SCHEMES):
        rest = target.split(":", 1)[1]
        if lowered.startswith(("http:", "https:")) and not rest.startswith("//"):
            return "is not a complete web address (write http:// or https:// followed by the host)"
        return None
    if lowered.startswith(("javascript:", "data:", "vbscript:")):
        return "uses a script or data scheme"
    if lowered.startswith("file:") or target.startswith(("/", "\\")) or re.match(r"^[a-zA-Z]:[\\/]", target):
        return "points outside the repository (absolute path or file://)"
    if ".." in re.split(r"[\\/]", target):
        return "points outside the document's folder (..)"
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", lowered)
    if scheme:
        return f"uses the {scheme.group(1)}: scheme, which points outside the repository"
    return None


# -- one text, two renderers -------------------------------------------------------------------

FOOTNOTE_DEFINITION = re.compile(r" {0,3}\[\^([^\]\s]{1,99})\]:")
LINK_TITLE = re.compile(r"""^\s*(?:"[^"]*"|'[^']*'|\([^)]*\))\s*$""")


def hidden_text(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Text that one renderer shows and the other hides, or that no reader sees: comments written as link
    definitions (`[//]: # (...)`), link definitions nothing uses, footnotes nothing refers to, link titles."""
    definitions: list[tuple[Line, str, bool]] = []
    footnotes: list[tuple[Line, str]] = []
    used_labels: set[str] = set()
    used_notes: set[str] = set()
    for line in lines:
        note = FOOTNOTE_DEFINITION.match(line.plain)
        definition = None if note else LINK_DEFINITION.fullmatch(line.plain)
        if note:
            footnotes.append((line, note.group(1)))
        elif definition:
            definitions.append((line, definition.group(1), bool(definition.group(3).strip())))
        rest = line.plain[note.end():] if note else "" if definition else line.plain
        used_notes.update(re.findall(r"\[\^([^\]\s]{1,99})\]", rest))
        used_labels.update(label.lower() for label in re.findall(r"\[([^\[\]]{1,999})\](?!\()", rest))
        for _, after in link_destinations(rest):
            if LINK_TITLE.match(after):
                yield _hidden(path, line, "a link title (shown as a tooltip on the site, dropped in Word)",
                              "remove the title in quotes after the address; write what it says as text")
    for line, label, titled in definitions:
        if label.lower() not in used_labels:
            what = "a comment written as a link definition" if label.startswith("//") or label == "#" \
                else f"the link definition [{label}] that no link uses"
            yield _hidden(path, line, what, "delete it, or write the note as visible text")
        elif titled:
            yield _hidden(path, line, "a link definition's title (a tooltip on the site, dropped in Word)",
                          "remove the title; write what it says as text")
    for line, label in footnotes:
        if label not in used_notes:
            yield _hidden(path, line, f"the footnote [^{label}] that nothing refers to",
                          f"refer to it with [^{label}] in the text, or delete it")


def _hidden(path: str, line: Line, what: str, fix: str) -> Finding:
    return Finding(path, line.number, "two-renderers", f"{what}: readers of the site and of the Word copy would "
                   "not see the same text", fix)


INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def invisible_characters(path: str, lines: list[Line]) -> Iterator[Finding]:
    """Direction controls (U+202E …) reorder what a reader sees without showing themselves."""
    for line in lines:
        found = INVISIBLE.search(line.text)
        if found:
            yield Finding(path, line.number, "invisible-character",
                          f"an invisible direction control (U+{ord(found.group()):04X}) reorders the text around it",
                          "delete it; if you cannot see it, retype the line")


LINE_CHECKS = (list_indent, raw_html, attribute_lists, link_targets, hidden_text, invisible_characters)


def findings_for(path: str, texts: Iterable[tuple[str, int]]) -> list[Finding]:
    return [f for text, first in texts for f in markdown_findings(path, text, first)]
