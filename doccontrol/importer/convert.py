"""Markdown conversions: another system's Markdown made into what doccontrol's site and Word both read.

Each pass takes a document's lines (each remembering its source line) and returns new lines,
noting on the source document what it converted and what needs a person's attention. Fenced
code and inline code are never changed.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from .common import ATTENTION, CONVERTED, Line, SourceDoc

FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
ATX = re.compile(r"^( {0,3})(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
TABLE_DELIMITER = re.compile(r"^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1)[\s\S])*?\1")


# -- helpers ---------------------------------------------------------------------------------

def code_lines(lines: list[Line]) -> list[bool]:
    """For each line, whether it is inside a fenced code block (or is one of its fences)."""
    inside: list[bool] = []
    fence: str | None = None
    for line in lines:
        match = FENCE.match(line.text)
        if fence is None and match:
            fence = match.group(2)[0] * len(match.group(2))
            inside.append(True)
        elif fence is not None:
            inside.append(True)
            if match and match.group(2).startswith(fence) and not match.group(3).strip():
                fence = None
        else:
            inside.append(False)
    return inside


def outside_inline_code(text: str, change: Callable[[str], str]) -> str:
    """text with change applied to every part that is not inline code."""
    out, last = [], 0
    for match in INLINE_CODE.finditer(text):
        out.append(change(text[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(change(text[last:]))
    return "".join(out)


def indent_of(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _heading_level(lines: list[Line], index: int, in_code: list[bool]) -> int:
    """The level of an ATX heading at index, 0 when the line is none."""
    if in_code[index]:
        return 0
    match = ATX.match(lines[index].text)
    return len(match.group(2)) if match else 0


def _setext_level(lines: list[Line], index: int, in_code: list[bool]) -> int:
    """1 or 2 when lines[index] is the text of a setext heading (underlined by the next line), else 0."""
    if index + 1 >= len(lines) or in_code[index] or in_code[index + 1]:
        return 0
    text, under = lines[index].text, lines[index + 1].text
    match = SETEXT.match(under)
    if not match or not text.strip() or indent_of(text) > 3:
        return 0
    if re.match(r"^ {0,3}(#|>|\||[-*+] |\d+[.)] |```|~~~)", text) or TABLE_DELIMITER.match(text):
        return 0
    if index > 0 and lines[index - 1].text.strip() and not in_code[index - 1]:
        return 0  # the underline ends a longer paragraph: leave such text alone
    return 1 if match.group(1).startswith("=") else 2


def _lines_with(lines: list[Line], origin: int, *texts: str) -> list[Line]:
    return [Line(origin, text) for text in texts]


# -- admonitions and content tabs ----------------------------------------------------------

ADMONITION = re.compile(r'^( *)(!!!|\?\?\?\+?) *([A-Za-z][\w-]*)?((?: +[A-Za-z][\w-]*)*) *(?:"(.*)")? *$')
TAB = re.compile(r'^( *)===[!+]? +"(.*)" *$')

LABELS = {
    "note": ("注意", "Note"), "seealso": ("参见", "See also"), "abstract": ("摘要", "Abstract"),
    "summary": ("摘要", "Summary"), "tldr": ("摘要", "Summary"), "info": ("说明", "Info"),
    "todo": ("待办", "To do"), "tip": ("提示", "Tip"), "hint": ("提示", "Hint"),
    "important": ("重要", "Important"), "success": ("成功", "Success"), "check": ("核对", "Check"),
    "done": ("完成", "Done"), "question": ("问题", "Question"), "help": ("帮助", "Help"), "faq": ("常见问题", "FAQ"),
    "warning": ("警告", "Warning"), "caution": ("小心", "Caution"), "attention": ("注意", "Attention"),
    "failure": ("失败", "Failure"), "fail": ("失败", "Failure"), "missing": ("缺失", "Missing"),
    "danger": ("危险", "Danger"), "error": ("错误", "Error"), "bug": ("缺陷", "Bug"), "example": ("示例", "Example"),
    "quote": ("引用", "Quote"), "cite": ("引用", "Quote"),
}


def admonition_label(kind: str, chinese: bool) -> str:
    pair = LABELS.get(kind.lower())
    if pair:
        return pair[0] if chinese else pair[1]
    return kind.capitalize()


def _block_of(lines: list[Line], start: int, indent: int) -> tuple[list[Line], int]:
    """The lines after start indented by at least indent + 4 (blank lines inside kept), dedented; and the end."""
    end = start + 1
    last_content = start
    while end < len(lines):
        text = lines[end].text
        if text.strip() and indent_of(text) < indent + 4:
            break
        if text.strip():
            last_content = end
        end += 1
    block = [Line(line.origin, line.text[indent + 4:] if line.text.strip() else "")
             for line in lines[start + 1:last_content + 1]]
    return block, last_content + 1


PLAIN_START = re.compile(r"^(?!#|>|\||[-*+] |\d+[.)] |```|~~~|!!!|\?\?\?|===| {4}|\*\*\*|---)")


def site_only_syntax(doc: SourceDoc, lines: list[Line], chinese: bool, level: int = 1) -> list[Line]:
    """Admonitions (`!!! note "Title"`, `??? tip`) become a paragraph led by a bold label; content tabs
    (`=== "Tab"`) a heading each (a bold line inside a list). Nested ones are converted too."""
    out: list[Line] = []
    in_code = code_lines(lines)
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _heading_level(lines, index, in_code)
        if heading:
            level = heading
        admonition = None if in_code[index] else ADMONITION.match(line.text)
        tab = None if in_code[index] else TAB.match(line.text)
        if admonition and (admonition.group(3) or admonition.group(5) is not None):
            indent = len(admonition.group(1))
            content, index = _block_of(lines, index, indent)
            content = site_only_syntax(doc, content, chinese, level)
            label = admonition.group(5) if admonition.group(5) is not None else \
                admonition_label(admonition.group(3) or "note", chinese)
            out.extend(_indented(_labelled(label.strip(), content, line.origin, chinese), indent))
            doc.note(CONVERTED, "admonitions made into labelled paragraphs", line.origin)
            continue
        if tab:
            indent = len(tab.group(1))
            content, index = _block_of(lines, index, indent)
            content = site_only_syntax(doc, content, chinese, min(level + 1, 6))
            title = tab.group(2).strip()
            head = f"**{title}**" if indent else "#" * min(max(level + 1, 2), 6) + " " + title
            out.extend(_indented([Line(line.origin, head), Line(line.origin, ""), *content], indent))
            out.append(Line(line.origin, ""))
            doc.note(CONVERTED, "content tabs made into headings", line.origin)
            continue
        out.append(line)
        index += 1
    return out


def _labelled(label: str, content: list[Line], origin: int, chinese: bool) -> list[Line]:
    if not label:
        return [*content, Line(origin, "")]
    colon = "" if label.endswith((":", "：")) else ("：" if chinese else ":")
    bold = f"**{label}{colon}**"
    first = next((i for i, line in enumerate(content) if line.text.strip()), None)
    if first is None:
        return [Line(origin, bold), Line(origin, "")]
    if PLAIN_START.match(content[first].text):
        joined = bold + ("" if chinese else " ") + content[first].text
        return [*content[:first], Line(content[first].origin, joined), *content[first + 1:], Line(origin, "")]
    return [Line(origin, bold), Line(origin, ""), *content, Line(origin, "")]


def _indented(lines: list[Line], indent: int) -> list[Line]:
    if not indent:
        return lines
    return [Line(line.origin, " " * indent + line.text if line.text.strip() else "") for line in lines]


# -- title and headings ---------------------------------------------------------------------

def take_title(lines: list[Line]) -> tuple[str, list[Line], int]:
    """The text of a first-level heading that opens the document, the lines without it, and its line."""
    in_code = code_lines(lines)
    first = next((i for i, line in enumerate(lines) if line.text.strip()), None)
    if first is None:
        return "", lines, 0
    if _heading_level(lines, first, in_code) == 1:
        match = ATX.match(lines[first].text)
        title = (match.group(3) or "").strip() if match else ""
        return title, _drop_blank_start(lines[first + 1:]), lines[first].origin
    if _setext_level(lines, first, in_code) == 1:
        return lines[first].text.strip(), _drop_blank_start(lines[first + 2:]), lines[first].origin
    return "", lines, 0


def _drop_blank_start(lines: list[Line]) -> list[Line]:
    start = 0
    while start < len(lines) and not lines[start].text.strip():
        start += 1
    return lines[start:]


def demote_headings(doc: SourceDoc, lines: list[Line]) -> list[Line]:
    """Every heading one level down when the text still has a first-level heading (the title is metadata)."""
    in_code = code_lines(lines)
    has_h1 = any(_heading_level(lines, i, in_code) == 1 or _setext_level(lines, i, in_code) == 1
                 for i in range(len(lines)))
    if not has_h1:
        return lines
    doc.note(CONVERTED, "headings moved one level down (the title is no longer a heading)")
    out: list[Line] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        level = _heading_level(lines, index, in_code)
        setext = 0 if level else _setext_level(lines, index, in_code)
        if level:
            match = ATX.match(line.text)
            assert match is not None
            if level == 6:
                doc.note(ATTENTION, "a level-6 heading cannot go one level down: it stays at level 6", line.origin)
            out.append(Line(line.origin, "#" * min(level + 1, 6) + " " + (match.group(3) or "").strip()))
        elif setext:
            out.append(Line(line.origin, "#" * (setext + 1) + " " + line.text.strip()))
            index += 1
        else:
            out.append(line)
        index += 1
    return out


def plain_title(text: str) -> str:
    """A heading's text as a one-line title: no attribute list, emphasis, code marks or link syntax."""
    text = re.sub(r"\s*\{[:#.][^{}]*\}\s*$", "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)
    text = re.sub(r"<[^<>]*>", "", text)
    text = html.unescape(text).replace("\\", "")
    return " ".join(text.split())


# -- raw HTML -------------------------------------------------------------------------------

HTML_ELEMENTS = frozenset([
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "base", "basefont", "bdi", "bdo",
    "big", "blink", "blockquote", "body", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
    "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em",
    "embed", "fieldset", "figcaption", "figure", "font", "footer", "form", "frame", "frameset", "h1", "h2", "h3",
    "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe", "img", "input", "ins", "kbd",
    "label", "legend", "li", "link", "main", "map", "mark", "marquee", "math", "menu", "meta", "meter", "nav",
    "nobr", "noframes", "noscript", "object", "ol", "optgroup", "option", "output", "p", "param", "picture",
    "plaintext", "pre", "progress", "q", "rp", "rt", "ruby", "s", "samp", "script", "search", "section", "select",
    "slot", "small", "source", "span", "strike", "strong", "style", "sub", "summary", "sup", "svg", "table",
    "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time", "title", "tr", "track", "tt", "u",
    "ul", "var", "video", "wbr", "xmp"
])
VOID = frozenset([
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"
])
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)(/?)>")
NON_ASCII_PLACEHOLDER = re.compile(r"<([^<>\sA-Za-z/!?][^<>\n]*)>")
AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>")
COMMENT = re.compile(r"<!--|<!\[CDATA\[|<![A-Za-z]|<\?")
ATTRIBUTE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(3) or m.group(4) or m.group(5) or "")
            for m in ATTRIBUTE.finditer(text)}


def _wrap(mark: str, inner: str) -> str:
    """inner between emphasis marks, the spaces at its edges moved outside so the marks still read."""
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    tail = inner[len(inner.rstrip()):]
    return f"{lead}{mark}{stripped}{mark}{tail}"


def _code(inner: str) -> str:
    text = html.unescape(re.sub(r"<[^<>]*>", "", inner))
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


@dataclass
class _HtmlContext:
    doc: SourceDoc
    origin: int
    separator: str  # what a line break becomes inside a table cell
    in_table: bool
    closed: frozenset[str]  # element names closed somewhere in the document


PAIRS = [
    (re.compile(r"<(b|strong)(?:\s[^<>]*)?>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL), "bold"),
    (re.compile(r"<(i|em)(?:\s[^<>]*)?>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL), "italic"),
    (re.compile(r"<(code|tt|kbd|samp)(?:\s[^<>]*)?>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL), "code"),
    (re.compile(r"<(a)(\s[^<>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL), "link"),
]
LIST_TAGS = re.compile(r"</?(ul|ol|li)(?:\s[^<>]*)?>", re.IGNORECASE)
BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
PARAGRAPH_TAGS = re.compile(r"</?p(?:\s[^<>]*)?>", re.IGNORECASE)


def _inline_html(text: str, ctx: _HtmlContext) -> str:
    """Raw HTML inside one line that Markdown can express, written as Markdown; placeholders made text."""
    for pattern, kind in PAIRS:
        text = pattern.sub(functools.partial(_pair, kind=kind, ctx=ctx), text)
    text = re.sub(r"<img(\s[^<>]*)?/?>", lambda m: _image(m, ctx), text, flags=re.IGNORECASE)
    if ctx.in_table:
        text = _cell_html(text, ctx)
    return _placeholders(text, ctx)


def _pair(match: re.Match, kind: str, ctx: _HtmlContext) -> str:
    ctx.doc.note(CONVERTED, f"HTML <{match.group(1).lower()}> written as Markdown", ctx.origin)
    if kind == "bold":
        return _wrap("**", match.group(2))
    if kind == "italic":
        return _wrap("*", match.group(2))
    if kind == "code":
        return _code(match.group(2))
    attributes = _attributes(match.group(2))
    inner = match.group(3)
    href = attributes.get("href")
    if href is None:
        if inner.strip():
            return inner
        ctx.doc.note(ATTENTION, "an HTML anchor (<a name=…>) was removed; links to it need a heading instead",
                     ctx.origin)
        return ""
    return f"[{inner.strip() or href}]({_destination(href)})"


def _destination(target: str) -> str:
    return f"<{target}>" if re.search(r"[\s()]", target) else target


def _image(match: re.Match, ctx: _HtmlContext) -> str:
    attributes = _attributes(match.group(1) or "")
    src = attributes.get("src")
    if not src:
        ctx.doc.note(ATTENTION, "an HTML <img> without src was left as it is", ctx.origin)
        return match.group(0)
    ctx.doc.note(CONVERTED, "HTML <img> written as Markdown", ctx.origin)
    alt = attributes.get("alt", "").replace("[", "(").replace("]", ")")
    title = attributes.get("title")
    return f"![{alt}]({_destination(src)}" + (f' "{title}"' if title else "") + ")"


def _cell_html(text: str, ctx: _HtmlContext) -> str:
    """Line breaks, paragraphs and simple lists inside table cells become the separator."""
    def separated(pattern: re.Pattern, what: str, value: str) -> str:
        count = len(pattern.findall(value))
        if count:
            ctx.doc.note(CONVERTED, what, ctx.origin)
        return value if not count else pattern.sub("\x00", value)

    text = separated(BREAK, "<br> in table cells", text)
    text = separated(PARAGRAPH_TAGS, "HTML paragraphs in table cells", text)
    text = separated(LIST_TAGS, "HTML lists in table cells", text)
    cells = text.split("|")
    joined = []
    for cell in cells:
        parts = [part.strip() for part in cell.split("\x00")]
        kept = [part for part in parts if part]
        if len(parts) == 1:
            joined.append(cell)
        else:
            lead = " " if cell.startswith(" ") else ""
            tail = " " if cell.endswith(" ") else ""
            joined.append(lead + ctx.separator.join(kept) + tail)
    return "|".join(joined)


def _placeholders(text: str, ctx: _HtmlContext) -> str:
    """Angle-bracketed text that is no HTML (`<客户名称>`, `<Company Name>`) becomes text 〈…〉; real tags stay
    and are reported."""
    kept: list[str] = []

    def protect(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\x01{len(kept) - 1}\x01"

    text = AUTOLINK.sub(protect, text)

    def tag(match: re.Match) -> str:
        name = match.group(2).lower()
        closing = bool(match.group(1))
        if name not in HTML_ELEMENTS or (name not in VOID and not closing and name not in ctx.closed):
            ctx.doc.note(CONVERTED, "placeholders in angle brackets written as text 〈…〉", ctx.origin)
            return "〈" + match.group(0)[1:-1] + "〉"
        if closing and name not in ctx.closed:
            return "〈" + match.group(0)[1:-1] + "〉"
        ctx.doc.note(ATTENTION, f"raw HTML <{name}> left as it is: `check` refuses it; write it in Markdown",
                     ctx.origin)
        return match.group(0)

    text = TAG.sub(tag, text)

    def non_ascii(match: re.Match) -> str:
        ctx.doc.note(CONVERTED, "placeholders in angle brackets written as text 〈…〉", ctx.origin)
        return "〈" + match.group(1) + "〉"

    text = NON_ASCII_PLACEHOLDER.sub(non_ascii, text)
    return re.sub("\x01([0-9]+)\x01", lambda m: kept[int(m.group(1))], text)


def table_rows(lines: list[Line], in_code: list[bool]) -> set[int]:
    """The indexes of lines that belong to a pipe table (header, delimiter and body rows)."""
    rows: set[int] = set()
    for index, line in enumerate(lines):
        if in_code[index] or index == 0 or "|" not in line.text and "-" not in line.text:
            continue
        if TABLE_DELIMITER.match(line.text) and "|" in line.text + lines[index - 1].text \
                and lines[index - 1].text.strip() and not in_code[index - 1]:
            rows.add(index - 1)
            end = index
            while end < len(lines) and lines[end].text.strip() and not in_code[end]:
                rows.add(end)
                end += 1
    return rows


def raw_html(doc: SourceDoc, lines: list[Line], chinese: bool) -> list[Line]:
    """Raw HTML that Markdown can express, converted; angle-bracket placeholders made text; the rest reported."""
    in_code = code_lines(lines)
    tables = table_rows(lines, in_code)
    text = "\n".join(line.text for index, line in enumerate(lines) if not in_code[index])
    closed = frozenset(name.lower() for name in re.findall(r"</([A-Za-z][A-Za-z0-9-]*)\s*>", text))
    separator = "；" if chinese else "; "
    out: list[Line] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if in_code[index] or "<" not in line.text:
            out.append(line)
            index += 1
            continue
        block = None if index in tables else _html_list_block(lines, index, in_code)
        if block is not None:
            converted, index = block
            out.extend(_html_list(doc, converted, lines[index - 1].origin, chinese))
            continue
        ctx = _HtmlContext(doc, line.origin, separator, index in tables, closed)
        if COMMENT.search(line.text):
            doc.note(ATTENTION, "an HTML comment (<!-- … -->) is hidden from readers and `check` refuses it: "
                                "delete it or write it as visible text", line.origin)
        converted_text = outside_inline_code(line.text, functools.partial(_inline_html, ctx=ctx))
        out.extend(_block_breaks(doc, Line(line.origin, converted_text), index in tables))
        index += 1
    return out


def _block_breaks(doc: SourceDoc, line: Line, in_table: bool) -> list[Line]:
    """`<br>`, `<p>` and `<hr>` outside tables: a hard line break, a new paragraph, a rule."""
    if in_table:
        return [line]
    text = line.text
    found = BREAK.search(text) or PARAGRAPH_TAGS.search(text) or re.search(r"<hr\s*/?>", text, re.IGNORECASE)
    if not found:
        return [line]
    if re.fullmatch(r"\s*<hr\s*/?>\s*", text, re.IGNORECASE):
        doc.note(CONVERTED, "HTML <hr> written as a rule", line.origin)
        return [Line(line.origin, ""), Line(line.origin, "***"), Line(line.origin, "")]
    heading = ATX.match(text)
    if heading:
        doc.note(CONVERTED, "<br> in headings written as a space", line.origin)
        return [Line(line.origin, BREAK.sub(" ", PARAGRAPH_TAGS.sub("", text)))]
    indent = " " * indent_of(text)
    list_item = LIST_ITEM.match(text)
    if list_item:
        indent = " " * (len(list_item.group(0)) if list_item.group(3) else len(list_item.group(0)) + 1)
    paragraphs = [part for part in re.split(r"\s*(?:</p\s*>\s*<p(?:\s[^<>]*)?>|</p\s*>|<p(?:\s[^<>]*)?>)\s*",
                                            text, flags=re.IGNORECASE)]
    if len(paragraphs) > 1:
        doc.note(CONVERTED, "HTML paragraphs written as Markdown paragraphs", line.origin)
    out: list[Line] = []
    for number, paragraph in enumerate(part for part in paragraphs if part.strip()):
        if number:
            out.append(Line(line.origin, ""))
        pieces = BREAK.split(paragraph)
        if len(pieces) > 1:
            doc.note(CONVERTED, "<br> outside tables written as line breaks", line.origin)
        pieces = [piece.rstrip() for piece in pieces]
        while pieces and not pieces[-1].strip():
            pieces.pop()
        for position, piece in enumerate(pieces):
            lead = "" if position == 0 and number == 0 else indent
            hard = "  " if position < len(pieces) - 1 else ""
            text_piece = piece if position == 0 and number == 0 else piece.lstrip()
            out.append(Line(line.origin, lead + text_piece + hard))
    return out or [Line(line.origin, "")]


def _html_list_block(lines: list[Line], start: int, in_code: list[bool]) -> tuple[str, int] | None:
    """An HTML list that starts a line: its whole text and the index after it (None if it is none or unclosed)."""
    if not re.match(r"^\s*<(ul|ol)(?:\s[^<>]*)?>", lines[start].text, re.IGNORECASE):
        return None
    depth = 0
    for end in range(start, len(lines)):
        if in_code[end]:
            return None
        for match in re.finditer(r"<(/?)(ul|ol)(?:\s[^<>]*)?>", lines[end].text, re.IGNORECASE):
            depth += -1 if match.group(1) else 1
        if depth <= 0:
            tail = re.sub(r"^.*</(ul|ol)\s*>", "", lines[end].text, flags=re.IGNORECASE | re.DOTALL)
            if tail.strip():
                return None
            return "\n".join(line.text for line in lines[start:end + 1]), end + 1
    return None


class _ListParser(HTMLParser):
    """Reads a simple HTML list (ul, ol, li and inline markup) into (depth, ordered, item text)."""

    INLINE = {"b", "strong", "i", "em", "code", "a", "br", "span", "u"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.items: list[list] = []  # [depth, ordered, text]
        self.stack: list[bool] = []
        self.unsupported: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.stack.append(tag == "ol")
        elif tag == "li":
            self.items.append([len(self.stack), bool(self.stack and self.stack[-1]), ""])
        elif tag in self.INLINE:
            self._text(self.get_starttag_text() or "")
        elif tag != "p":
            self.unsupported.add(tag)

    def handle_endtag(self, tag):
        if tag in ("ul", "ol") and self.stack:
            self.stack.pop()
        elif tag in self.INLINE:
            self._text(f"</{tag}>")

    def handle_data(self, data):
        self._text(data)

    def handle_entityref(self, name):
        self._text(f"&{name};")

    def handle_charref(self, name):
        self._text(f"&#{name};")

    def _text(self, text: str) -> None:
        if self.items:
            self.items[-1][2] += text
        elif text.strip():
            self.unsupported.add("text outside <li>")


def _html_list(doc: SourceDoc, block: str, origin: int, chinese: bool) -> list[Line]:
    parser = _ListParser()
    parser.feed(block)
    parser.close()
    if parser.unsupported:
        doc.note(ATTENTION, "an HTML list holds " + ", ".join(sorted(parser.unsupported)) + ": left as it is; "
                 "`check` refuses it; write it as a Markdown list", origin)
        return [Line(origin, text) for text in block.split("\n")]
    doc.note(CONVERTED, "HTML lists written as Markdown lists", origin)
    ctx = _HtmlContext(doc, origin, "；" if chinese else "; ", False, frozenset())
    out = [Line(origin, "")]
    counters: dict[int, int] = {}
    for depth, ordered, text in parser.items:
        counters = {d: n for d, n in counters.items() if d <= depth}
        counters[depth] = counters.get(depth, 0) + 1
        marker = f"{counters[depth]}." if ordered else "-"
        content = " ".join(_inline_html(BREAK.sub(" ", text), ctx).split())
        out.append(Line(origin, " " * 4 * max(depth - 1, 0) + f"{marker} {content}".rstrip()))
    out.append(Line(origin, ""))
    return out


# -- nested lists -------------------------------------------------------------------------------

@dataclass
class _Item:
    marker: int  # the marker's column in the source
    content: int  # the content's column in the source
    new: int  # the marker's column in the result


def reindent_lists(doc: SourceDoc, lines: list[Line]) -> list[Line]:
    """Nested lists indented by 4 spaces a level (Python-Markdown and pandoc read less differently);
    a line inside a list item moves with its item, a fenced block in an item as a whole."""
    closing = _fence_ends(lines)
    out: list[Line] = []
    stack: list[_Item] = []
    blank_before = True
    changed = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.text
        if not text.strip():
            out.append(line)
            blank_before = True
            index += 1
            continue
        item = LIST_ITEM.match(text)
        indent = indent_of(text)
        new_text = text
        if item and index not in closing and (stack or indent <= 3):
            new_text = _place_item(stack, indent, item)
        elif stack and indent == 0 and (blank_before or re.match(r"^(#|>|\||```|~~~|\*\*\*|---)", text)):
            stack = []
        elif stack and indent > 0:
            owner = next((entry for entry in reversed(stack) if entry.content <= indent), None)
            if owner is None and blank_before:
                stack = []
            else:
                base = owner or stack[0]
                new_text = " " * (base.new + 4 + max(indent - base.content, 0)) + text.lstrip(" ")
        if index in closing:  # a fenced block: every line moves as its opening fence did
            shift = indent_of(new_text) - indent
            block = [Line(inner.origin, _shifted(inner.text, shift)) for inner in lines[index + 1:closing[index] + 1]]
            changed += sum(a.text != b.text for a, b in zip(block, lines[index + 1:]))
            out.append(Line(line.origin, new_text))
            out.extend(block)
            changed += new_text != text
            index = closing[index] + 1
            blank_before = False
            continue
        changed += new_text != text
        out.append(Line(line.origin, new_text))
        blank_before = False
        index += 1
    if changed:
        lines_changed = f"{changed} line" + ("s" if changed > 1 else "")
        doc.note(CONVERTED, f"nested lists re-indented to 4 spaces a level ({lines_changed})")
    return out


def _fence_ends(lines: list[Line]) -> dict[int, int]:
    """The index of each opening fence mapped to the index of its closing fence (or the last line)."""
    ends: dict[int, int] = {}
    opened: int | None = None
    fence = ""
    for index, line in enumerate(lines):
        match = FENCE.match(line.text)
        if opened is None and match:
            opened, fence = index, match.group(2)[0] * len(match.group(2))
        elif opened is not None and match and match.group(2).startswith(fence) and not match.group(3).strip():
            ends[opened] = index
            opened = None
    if opened is not None:
        ends[opened] = len(lines) - 1
    return ends


def _place_item(stack: list[_Item], indent: int, item: re.Match) -> str:
    marker_width = len(item.group(2))
    content = indent + marker_width + max(len(item.group(3)), 1)
    while stack and indent < stack[-1].content:
        stack.pop()
    new = stack[-1].new + 4 if stack else 0
    stack.append(_Item(indent, content, new))
    return " " * new + item.group(2) + (" " + item.string[item.end():] if item.string[item.end():] else "")


def _shifted(text: str, shift: int) -> str:
    if shift >= 0:
        return " " * shift + text if text.strip() else text
    return text[min(-shift, indent_of(text)):]


# -- links, images and numbers --------------------------------------------------------------------

_LABEL = r"(?:[^\[\]\n]|\[[^\[\]\n]*\])*"
INLINE_LINK = re.compile(r"(!?)\[(" + _LABEL + r")\]\(\s*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                         r"(?:\s+(\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
REFERENCE_LINK = re.compile(r"(!?)\[(" + _LABEL + r")\](?:\[([^\[\]\n]*)\])?(?![(:])")
DEFINITION = re.compile(r"^ {0,3}\[([^\[\]\n]+)\]:\s*(<[^<>\n]*>|\S+)(?:\s+(\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*$")


@dataclass
class LinkChoice:
    """What becomes of one link or image: keep it, point it elsewhere, or write it as text (and a number)."""

    action: str  # keep | target | text
    target: str = ""
    number: str = ""


Resolver = Callable[[str, bool, int], LinkChoice]


def inline_references(doc: SourceDoc, lines: list[Line]) -> list[Line]:
    """Reference-style links and images (`[text][id]`, `[id]` with `[id]: target`) written inline; the
    definitions they used removed."""
    in_code = code_lines(lines)
    definitions: dict[str, tuple[int, str, str]] = {}
    for index, line in enumerate(lines):
        match = None if in_code[index] else DEFINITION.match(line.text)
        if match:
            label = " ".join(match.group(1).split()).casefold()
            if not label.startswith("//"):
                definitions.setdefault(label, (index, match.group(2), match.group(3) or ""))
    if not definitions:
        return lines
    used: set[int] = set()

    def replace(match: re.Match) -> str:
        label = " ".join((match.group(3) or match.group(2)).split()).casefold()
        found = definitions.get(label)
        if found is None:
            return match.group(0)
        used.add(found[0])
        title = found[2]
        if title.startswith("("):
            title = '"' + title[1:-1].replace('"', "'") + '"'
        title = f" {title}" if title else ""
        return f"{match.group(1)}[{match.group(2)}]({found[1]}{title})"

    out = []
    for index, line in enumerate(lines):
        if in_code[index] or index in {found[0] for found in definitions.values()}:
            out.append(line)
            continue
        out.append(Line(line.origin, outside_inline_code(line.text, lambda part: REFERENCE_LINK.sub(replace, part))))
    if used:
        doc.note(CONVERTED, "reference-style links written inline")
    return [line for index, line in enumerate(out) if index not in used]


def rewrite_links(doc: SourceDoc, lines: list[Line], resolve: Resolver, chinese: bool) -> list[Line]:
    """Every inline link and image passed through resolve: kept, re-pointed, or written as text and number.
    A link's title (a tooltip on the site, dropped in Word) is written as text after it; an image's joins
    its description."""
    in_code = code_lines(lines)
    out = []
    for index, line in enumerate(lines):
        if in_code[index] or "](" not in line.text:
            out.append(line)
            continue

        def replace(match: re.Match, origin=line.origin) -> str:
            image, label, raw_target, quoted = match.groups()
            target = raw_target[1:-1] if raw_target.startswith("<") else raw_target
            choice = resolve(target, bool(image), origin)
            title = quoted[1:-1].strip() if quoted else ""
            if title:
                doc.note(CONVERTED, "link titles written as text (Word does not show them)", origin)
            if image:
                shown = choice.target if choice.action == "target" else target
                return f"![{_joined(label.strip(), title, chinese)}]({_destination(shown)})"
            words = label.strip()
            if choice.action == "keep":
                return f"[{label}]({raw_target})" + (_aside(title, chinese) if title else "")
            if choice.number and words != choice.number:
                words = _joined(words, choice.number, chinese) if words else choice.number
            elif not words:
                words = choice.number
            return words + (_aside(title, chinese) if title and title != label.strip() else "")

        out.append(Line(line.origin, outside_inline_code(line.text, lambda part: INLINE_LINK.sub(replace, part))))
    return out


def _aside(text: str, chinese: bool) -> str:
    return f"（{text}）" if chinese else f" ({text})"


def _joined(words: str, extra: str, chinese: bool) -> str:
    """words followed by extra in brackets (either may be empty)."""
    if not extra or extra == words:
        return words
    if not words:
        return extra
    return words + _aside(extra, chinese)


def replace_old_numbers(doc: SourceDoc, lines: list[Line], numbers: dict[str, str]) -> tuple[list[Line], Counter]:
    """Another system's numbers of imported documents, written in the text, replaced by their new numbers;
    and how often each old number was replaced."""
    replaced: Counter = Counter()
    if not numbers:
        return lines, replaced
    pattern = re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(map(re.escape, sorted(numbers, key=len, reverse=True)))
                         + r")(?![A-Za-z0-9-])")
    in_code = code_lines(lines)

    def replace(match: re.Match) -> str:
        replaced[match.group(1)] += 1
        return numbers[match.group(1)]

    out = [line if in_code[index] else
           Line(line.origin, outside_inline_code(line.text, lambda part: pattern.sub(replace, part)))
           for index, line in enumerate(lines)]
    if replaced:
        doc.note(CONVERTED, f"old document numbers replaced by the new ones ({sum(replaced.values())})")
    return out, replaced


def single_blank_lines(lines: list[Line]) -> list[Line]:
    """Runs of blank lines outside code (what conversions leave behind) made one blank line."""
    in_code = code_lines(lines)
    out: list[Line] = []
    for index, line in enumerate(lines):
        blank = not line.text.strip() and not in_code[index]
        if blank and out and not out[-1].text.strip():
            continue
        out.append(Line(line.origin, "") if blank else line)
    return out


# -- what is reported -----------------------------------------------------------------------------

def report_remaining(doc: SourceDoc, lines: list[Line]) -> None:
    """Things kept as they are that a person should know about."""
    for index, info in fenced_blocks(lines):
        if info.lower().startswith("mermaid"):
            doc.note(ATTENTION, "a mermaid diagram is kept as a code block: the site and Word show it as code",
                     lines[index].origin)
    in_code = code_lines(lines)
    for index, line in enumerate(lines):
        if in_code[index]:
            continue
        if "--8<--" in line.text:
            doc.note(ATTENTION, "a snippet include (--8<--) is not expanded: paste the included text in",
                     line.origin)
        if re.search(r"\{\{.*?\}\}|\{%.*?%\}", line.text):
            doc.note(ATTENTION, "a template expression ({{ … }} or {% … %}) is kept as text", line.origin)
        if line.text.strip() == "[TOC]":
            doc.note(ATTENTION, "a [TOC] marker is kept as text; the site shows the contents on its own",
                     line.origin)
        definition = DEFINITION.match(line.text)
        if definition:
            doc.note(ATTENTION, f"the link definition [{definition.group(1)}] is kept: no link uses it, so no "
                                "reader sees it (a comment?); delete it or write it as visible text", line.origin)
        if CLASS_ATTRIBUTES.search(outside_inline_code(line.text, lambda part: part)):
            doc.note(ATTENTION, "an attribute list with classes or values ({: .class }) is kept: the site may "
                                "style what Word shows plain; remove it if it matters", line.origin)


CLASS_ATTRIBUTES = re.compile(r"\{:?\s*(?:[^{}]*\s)?(?:\.[A-Za-z][\w-]*|[A-Za-z][\w-]*=)[^{}]*\}")


def fenced_blocks(lines: list[Line]) -> Iterator[tuple[int, str]]:
    """(index, info string) of every opening fence."""
    for start in _fence_ends(lines):
        match = FENCE.match(lines[start].text)
        yield start, match.group(3).strip() if match else ""
