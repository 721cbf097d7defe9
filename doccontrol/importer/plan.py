"""The import plan: every source document with its number, type, title, converted text and pictures,
what was converted and what needs attention. Nothing is written here (see `write`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock
from ..errors import DoccontrolError
from ..loader import Source, parse_source
from ..pictures import IMAGE_FOLDER, MAX_IMAGE_BYTES, SIGNATURES, content_matches
from ..workspace import UNSAFE_FILE_CHARS, Workspace
from .common import ATTENTION, CONVERTED, Line, Note, SourceDoc, is_chinese, lost_words, read_or_skip, words
from .convert import (
    LinkChoice,
    demote_headings,
    inline_references,
    plain_title,
    raw_html,
    reindent_lists,
    replace_old_numbers,
    report_remaining,
    rewrite_links,
    single_blank_lines,
    site_only_syntax,
    take_title,
)
from .legacy import Legacy, normalise_keys, one_line, pick, read_legacy
from .markdown import markdown_files, read_markdown, shown_path, walk_files
from .mkdocs import read_site, site_config
from .word import read_docx

DEFAULT_DEPARTMENT = "质量部"
NOT_READ = {".doc", ".pdf", ".xls", ".xlsx", ".odt", ".rtf", ".txt", ".html", ".htm", ".pptx", ".ppt", ".wps"}
TITLE_LIMIT = 200
FILE_TITLE_LIMIT = 60


@dataclass
class ImportOptions:
    author: str  # the preparer (编制) of every imported document: the person who brings them in
    doc_type: str | None = None  # every document of this type; None: guessed per document
    department: str | None = None  # every document's department; None: the source's, else the author's
    as_drafts: bool = True  # False: what the source says is in force is imported as effective


@dataclass
class PlannedImage:
    target: str  # images/NUMBER/NAME
    shown: str  # the picture as the source names it
    source: Path | None = None
    data: bytes | None = None

    def content(self) -> bytes:
        return self.data if self.data is not None else _read_picture(self.source)


@dataclass
class Planned:
    """One source document as it will be written."""

    source: SourceDoc
    legacy: Legacy
    doc_type: str
    type_reason: str
    title: str
    department: str
    chinese: bool
    lines: list[Line]
    prepared_by: str
    number: str = ""
    path: str = ""
    text: str = ""
    references: list[str] = field(default_factory=list)
    images: list[PlannedImage] = field(default_factory=list)

    @property
    def converted(self) -> Counter:
        return Counter(note.what for note in self.source.notes + self.legacy.notes if note.kind == CONVERTED)

    @property
    def attention(self) -> list[Note]:
        seen, out = set(), []
        for note in self.source.notes + self.legacy.notes:
            if note.kind == ATTENTION and (note.what, note.line) not in seen:
                seen.add((note.what, note.line))
                out.append(note)
        return out


@dataclass
class Plan:
    documents: list[Planned]
    skipped: list[str]
    options: ImportOptions
    first_serials: dict[str, str]  # type → the first number the plan gives it (still free when writing?)


# -- sources ------------------------------------------------------------------------------------

def collect_sources(paths: list[Path], repo_root: Path, controlled: set[str]) -> tuple[list[SourceDoc], list[str]]:
    """Every source document under the given paths, in order, each once; and what was left out, and why.
    controlled: the repository's controlled folders, which are never a source."""
    docs: list[SourceDoc] = []
    skipped: list[str] = []
    for given in paths:
        shown = str(given)
        path = Path(os.path.abspath(given))
        _refuse_repository_paths(path, shown, repo_root, controlled)
        if path.is_symlink():
            raise DoccontrolError(f"{shown} is a symbolic link", fix="name the file or folder it points to")
        if path.is_dir():
            docs.extend(_folder(path, shown, skipped))
        elif path.name.lower() in ("mkdocs.yml", "mkdocs.yaml"):
            docs.extend(read_site(path.parent, str(given.parent), skipped))
        elif path.suffix.lower() == ".md":
            docs.append(read_markdown(path, shown, path.parent))
        elif path.suffix.lower() == ".docx":
            docs.append(read_docx(path, shown))
        else:
            raise DoccontrolError(f"{shown} is not a folder, a Markdown file, a .docx or an mkdocs.yml",
                                  fix="import Markdown (.md) and Word (.docx) files, folders of them, or MkDocs "
                                      "sites; save other formats as .docx first")
    unique, seen = [], set()
    for doc in docs:
        key = os.path.normpath(doc.path)
        if key not in seen:
            seen.add(key)
            unique.append(doc)
    return unique, skipped


def _refuse_repository_paths(path: Path, shown: str, repo_root: Path, controlled: set[str]) -> None:
    root = Path(os.path.abspath(repo_root))
    if path == root or root.is_relative_to(path):
        raise DoccontrolError(f"{shown} holds the document repository itself",
                              fix="import from a folder outside the repository (or a folder of it that doccontrol "
                                  "does not control)")
    if path.is_relative_to(root):
        rel = path.relative_to(root).as_posix()
        if any(rel == folder or rel.startswith(folder + "/") for folder in {".git", IMAGE_FOLDER, "signatures",
                                                                             *controlled}):
            raise DoccontrolError(f"{shown} is inside the repository's controlled files",
                                  fix="import documents from outside the controlled folders")


def _folder(folder: Path, shown: str, skipped: list[str]) -> list[SourceDoc]:
    if site_config(folder):
        return read_site(folder, shown, skipped)
    docs = []
    wanted = {path for path, _ in markdown_files(folder, skipped, shown)}
    for path, groups in walk_files(folder, [], shown):
        suffix = path.suffix.lower()
        name = shown_path(shown, folder, path)
        if path in wanted:
            docs += read_or_skip(functools.partial(read_markdown, path, name, folder, groups), name, skipped)
        elif suffix == ".docx" and not path.name.startswith("~$"):
            docs += read_or_skip(functools.partial(read_docx, path, name, groups), name, skipped)
        elif suffix in NOT_READ:
            skipped.append(f"{shown_path(shown, folder, path)}: not imported (only .md and .docx are read; save it "
                           "as .docx)")
    return docs


# -- types --------------------------------------------------------------------------------------

TYPE_WORDS: dict[str, list[str]] = {
    "instruction": [r"作业指导", r"指导书", r"\bwork instructions?\b", r"\binstructions?\b", r"\bsops?\b"],
    "form": [r"表单", r"表格", r"(?<![代发列图])表(?![达示明现彰])", r"申请单$", r"单$", r"卡$", r"\bforms?\b",
             r"\brecords?\b", r"\btemplates?\b", r"\bchecklists?\b"],
    "manual": [r"手册", r"\bmanuals?\b", r"\bhandbook\b"],
    "procedure": [r"程序", r"\bprocedures?\b"],
    # types a configuration may add (guessed only when it does)
    "policy": [r"方针", r"政策", r"\bpolic(?:y|ies)\b"],
    "plan": [r"计划", r"\bplans?\b"],
    "report": [r"报告", r"\breports?\b"],
}


def guess_type(title: str, groups: tuple[str, ...], kind: str, configured: list[str]) -> tuple[str, str]:
    """The type a document's title or folders suggest (the word that comes last wins: 记录控制程序 is a
    procedure, 维修记录表 a form), and why."""
    where = "nav section" if kind == "mkdocs" else "folder"
    for text, what in [(title, "title"), *((group, where) for group in reversed(groups))]:
        found = _last_type_word(text, configured)
        if found:
            return found[0], f"from the {what} word “{found[1]}”"
    fallback = "procedure" if "procedure" in configured else configured[0]
    return fallback, "by default (no type word in its title or folders; correct it with --type if it is wrong)"


def _last_type_word(text: str, configured: list[str]) -> tuple[str, str] | None:
    best: tuple[int, str, str] | None = None
    for doc_type, patterns in TYPE_WORDS.items():
        if doc_type not in configured:
            continue
        for pattern in patterns:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                if best is None or match.end() > best[0]:
                    best = (match.end(), doc_type, match.group(0))
    return (best[1], best[2]) if best else None


# -- the plan -----------------------------------------------------------------------------------

def build_plan(ws: Workspace, paths: list[Path], options: ImportOptions) -> Plan:
    """What import would write, decided in full; nothing is written."""
    config = ws.config
    if options.doc_type is not None and options.doc_type not in config.types:
        raise DoccontrolError(f"type {options.doc_type} is not configured", fix="see `types:` in doccontrol.yml")
    if not config.in_roster(options.author):
        raise DoccontrolError(f"{options.author} is not in the roster",
                              fix="pass --author with a name from doccontrol.yml `people:` (the preparer, who will "
                                  "submit the imported documents)")
    sources, skipped = collect_sources(paths, ws.root, {spec.folder for spec in config.types.values()})
    if not sources:
        raise DoccontrolError("no documents found in " + ", ".join(map(str, paths)),
                              fix="name folders that hold .md or .docx files, an MkDocs site, or the files themselves")
    today = clock.today()
    planned = [_prepare(doc, options, config, today) for doc in sources]
    first_serials = _allocate(ws, planned)
    by_source = {os.path.normpath(item.source.path): item for item in planned}
    old_numbers = _old_numbers(planned)
    known = {doc.number for doc in ws.documents()} | {item.number for item in planned}
    for item in planned:
        _finish(item, by_source, old_numbers, known, ws)
    return Plan(planned, skipped, options, first_serials)


def _prepare(doc: SourceDoc, options: ImportOptions, config, today: dt.date) -> Planned:
    """Conversions that need no number: site-only syntax, title, headings, HTML, reference links, lists."""
    meta = normalise_keys(doc.meta)
    chinese = is_chinese(doc.text + " " + str(pick(meta, "title")[0] or "") + " " + doc.title_hint)
    lines = [Line(line.origin, _expand_leading_tabs(line.text)) for line in doc.lines]
    lines = site_only_syntax(doc, lines, chinese)
    if doc.title_hint:  # a Word file's title: its first-level headings are sections, moved down below
        heading, heading_line = "", 0
    else:
        heading, lines, heading_line = take_title(lines)
    lines = demote_headings(doc, lines)
    lines = raw_html(doc, lines, chinese)
    lines = inline_references(doc, lines)
    lines = reindent_lists(doc, lines)
    legacy = read_legacy(doc.meta, as_drafts=options.as_drafts, author=options.author, today=today, chinese=chinese,
                         max_modification=config.model.max_modification)
    title = _title(doc, plain_title(heading), legacy, heading_line)
    if options.doc_type:
        doc_type, reason = options.doc_type, "given by --type"
    else:
        doc_type, reason = guess_type(title, doc.groups, doc.kind, list(config.types))
    person = config.model.people.get(options.author)
    department = options.department or legacy.department or (person and person.department) or DEFAULT_DEPARTMENT
    return Planned(doc, legacy, doc_type, reason, title, department, chinese, lines, options.author)


def _expand_leading_tabs(text: str) -> str:
    stripped = text.lstrip(" \t")
    lead = text[: len(text) - len(stripped)]
    return lead.replace("\t", "    ") + stripped if "\t" in lead else text


def _title(doc: SourceDoc, heading: str, legacy: Legacy, heading_line: int) -> str:
    """The title: the opening first-level heading (taken out of the text), else the source's title metadata,
    the Word title, the nav title, or the file name."""
    title = heading or legacy.title or doc.title_hint or doc.nav_title or doc.path.stem
    if heading and legacy.title and _plain(legacy.title) != _plain(heading):
        doc.note(ATTENTION, f"the front matter's title “{legacy.title}” differs from the heading “{heading}”; the "
                            "heading was taken", heading_line)
    if legacy.old_number and title.startswith(legacy.old_number) and title[len(legacy.old_number):].strip(" -_:："):
        title = title[len(legacy.old_number):].strip(" -_:：")
    title = one_line(title.replace("<", "〈").replace(">", "〉"), TITLE_LIMIT)
    return title or doc.path.stem


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def _allocate(ws: Workspace, planned: list[Planned]) -> dict[str, str]:
    """Numbers in source order, each type continuing from its next free number (never one used before)."""
    config = ws.config
    first: dict[str, str] = {}
    serials: dict[str, int] = {}
    for item in planned:
        if item.doc_type not in serials:
            number = ws.next_number(item.doc_type)
            first[item.doc_type] = number
            found = config.serial_of(number)
            assert found is not None
            serials[item.doc_type] = found[1]
        serial = serials[item.doc_type]
        width = config.types[item.doc_type].width
        if len(str(serial)) > width:
            raise DoccontrolError(f"not enough {item.doc_type} numbers left with {width} digits for this import",
                                  fix="widen `width` for the type in doccontrol.yml, or import fewer documents")
        item.number = config.format_number(item.doc_type, serial)
        serials[item.doc_type] = serial + 1
        stem = f"{item.number}-{UNSAFE_FILE_CHARS.sub('', item.title)[:FILE_TITLE_LIMIT]}".rstrip("-")
        folder = config.folder_of(item.doc_type)
        item.path = f"{folder}/{stem}/index.md" if config.is_multi_file(item.doc_type) else f"{folder}/{stem}.md"
    return first


def _old_numbers(planned: list[Planned]) -> dict[str, str]:
    """Another system's numbers (from front matter `id`) of imported documents → their new numbers."""
    counts = Counter(item.legacy.old_number for item in planned if item.legacy.old_number)
    return {item.legacy.old_number: item.number for item in planned
            if item.legacy.old_number and counts[item.legacy.old_number] == 1
            and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*[A-Za-z0-9]", item.legacy.old_number)}


def _finish(item: Planned, by_source: dict[str, Planned], old_numbers: dict[str, str], known: set[str],
            ws: Workspace) -> None:
    """Links and pictures, old numbers, references, the check that no word was lost, and the file text."""
    doc = item.source
    resolver = _Resolver(item, by_source)
    lines = rewrite_links(doc, item.lines, resolver, item.chinese)
    lines, replaced = replace_old_numbers(doc, lines, old_numbers)
    report_remaining(doc, lines)
    body = "\n".join(line.text for line in single_blank_lines(lines)).strip("\n")
    item.references = _references(item, lines, known, ws.config.number_in_text)
    allowed: Counter = Counter()
    for old, count in replaced.items():
        allowed += Counter({word: times * count for word, times in words(old).items()})
    lost = lost_words(doc.original_text, item.title + "\n" + body, allowed)
    if lost:
        shown = " ".join(lost[:20]) + (" …" if len(lost) > 20 else "")
        doc.note(ATTENTION, f"{len(lost)} words of the source are not in the result ({shown}): compare the two")
    item.text = _front_matter(item, ws) + ("\n" + body + "\n" if body else "")
    _validate(item)


def _references(item: Planned, lines: list[Line], known: set[str], numbers: re.Pattern) -> list[str]:
    """The document numbers the text cites (new numbers of links included); a number that is no document is
    reported, because `check` will refuse it."""
    found: list[str] = []
    for line in lines:
        for match in numbers.finditer(line.text):
            number = match.group(1)
            if number == item.number or number in found:
                continue
            if number in known:
                found.append(number)
            else:
                item.source.note(ATTENTION, f"the text cites {number}, which is no document here: `check` will "
                                            "report it; correct the number or import that document too",
                                 line.origin)
    return sorted(found)


class _Resolver:
    """What becomes of each link and picture of one document."""

    def __init__(self, item: Planned, by_source: dict[str, Planned]):
        self.item = item
        self.by_source = by_source
        self.names: dict[str, str] = {}  # source picture → its name under images/NUMBER/

    def __call__(self, target: str, image: bool, origin: int) -> LinkChoice:
        return self._picture(target, origin) if image else self._link(target, origin)

    def _link(self, target: str, origin: int) -> LinkChoice:
        doc = self.item.source
        if not target or target.startswith("#"):
            return LinkChoice("keep")
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", target)
        if scheme:
            if scheme.group(1).lower() not in ("http", "https", "mailto", "tel"):
                doc.note(ATTENTION, f"a link to {target} ({scheme.group(1)}:) is kept: `check` refuses it; link to "
                                    "a web address or cite a document by number", origin)
            return LinkChoice("keep")
        path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not path:
            return LinkChoice("keep")
        for candidate in self._candidates(path):
            found = self.by_source.get(candidate)
            if found is not None:
                doc.note(CONVERTED, "links to imported documents written as their numbers", origin)
                return LinkChoice("text", number=found.number)
        inside = [c for c in self._candidates(path) if _inside(c, doc.root) and os.path.lexists(c)]
        if inside:
            doc.note(ATTENTION, f"a link to {path}, which is not an imported document, is written as its text",
                     origin)
        else:
            doc.note(ATTENTION, f"a link to {path} leads nowhere in the source: written as its text", origin)
        return LinkChoice("text")

    def _candidates(self, path: str) -> list[str]:
        doc = self.item.source
        base = doc.root / path.lstrip("/") if path.startswith("/") else doc.path.parent / path
        text = os.path.normpath(base)
        return [text, text + ".md", os.path.join(text, "index.md"), os.path.normpath(text.rstrip("/")) + ".md"]

    def _picture(self, target: str, origin: int) -> LinkChoice:
        doc = self.item.source
        if target in doc.media:
            return self._planned(target, target, None, doc.media[target], origin)
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
            doc.note(ATTENTION, f"the picture {target} is not in the source: `check` asks for a copy under "
                                f"{IMAGE_FOLDER}/ (download it and refer to it there)", origin)
            return LinkChoice("keep")
        path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
        full = os.path.normpath(doc.root / path.lstrip("/") if path.startswith("/") else doc.path.parent / path)
        if not _inside(full, doc.root):
            doc.note(ATTENTION, f"the picture {target} is outside the imported folder: not copied; copy it to "
                                f"{IMAGE_FOLDER}/{self.item.number}/ and refer to it there", origin)
            return LinkChoice("keep")
        problem = _linked_folder(full, doc.root) or _picture_problem(Path(full))
        if problem:
            doc.note(ATTENTION, f"the picture {target} {problem}: not copied", origin)
            return LinkChoice("keep")
        return self._planned(full, target, Path(full), None, origin)

    def _planned(self, key: str, shown: str, source: Path | None, data: bytes | None, origin: int) -> LinkChoice:
        doc = self.item.source
        if key not in self.names:
            suffix = Path(key).suffix.lower()
            if suffix not in SIGNATURES or (data is not None and not content_matches(data[:12], suffix)):
                doc.note(ATTENTION, f"the picture {shown} is not a PNG, JPEG, GIF or WebP file: not copied; convert "
                                    "it to PNG", origin)
                return LinkChoice("keep")
            if data is not None and len(data) > MAX_IMAGE_BYTES:
                doc.note(ATTENTION, f"the picture {shown} is larger than 5 MiB: not copied; scale it down", origin)
                return LinkChoice("keep")
            name = _unique_name(Path(key).name, set(self.names.values()))
            self.names[key] = name
            self.item.images.append(PlannedImage(f"{IMAGE_FOLDER}/{self.item.number}/{name}", shown, source, data))
            doc.note(CONVERTED, f"pictures copied to {IMAGE_FOLDER}/{self.item.number}/", origin)
        return LinkChoice("target", target=f"{IMAGE_FOLDER}/{self.item.number}/{self.names[key]}")


def _inside(path: str, root: Path) -> bool:
    root_text = os.path.normpath(root)
    return path == root_text or path.startswith(root_text.rstrip(os.sep) + os.sep)


def _linked_folder(path: str, root: Path) -> str:
    """Why a picture is reached through a symbolic link to a folder ("" when it is not)."""
    rel = os.path.relpath(path, root).split(os.sep)[:-1]
    for end in range(1, len(rel) + 1):
        if os.path.islink(os.path.join(root, *rel[:end])):
            return f"is in {'/'.join(rel[:end])}, a symbolic link"
    return ""


def _picture_problem(path: Path) -> str:
    """Why a picture file in the source cannot be copied ("" when it can)."""
    try:
        info = os.lstat(path)
    except OSError:
        return "does not exist"
    if os.path.islink(path):
        return "is a symbolic link"
    if not os.path.isfile(path):
        return "is not a file"
    suffix = path.suffix.lower()
    if suffix not in SIGNATURES:
        return f"is of type {suffix or '(none)'}, which the site and Word cannot both show (convert it to PNG)"
    if info.st_size > MAX_IMAGE_BYTES:
        return f"is {info.st_size / 1024 / 1024:.1f} MiB, more than 5 MiB (scale it down)"
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not content_matches(head, suffix):
        return f"is not really a {suffix[1:].upper()} file"
    return ""


def _unique_name(name: str, used: set[str]) -> str:
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-") or "image"
    suffix = suffix.lower()
    candidate, counter = f"{stem}{suffix}", 2
    while candidate in used:
        candidate, counter = f"{stem}-{counter}{suffix}", counter + 1
    return candidate


def _read_picture(path: Path | None) -> bytes:
    assert path is not None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise DoccontrolError(f"{path} has grown past 5 MiB since the plan was made", fix="run the import again")
    return data


# -- the file -------------------------------------------------------------------------------------

def _quoted(value: str) -> str:
    """A YAML scalar that stays text whatever it holds."""
    return json.dumps(value, ensure_ascii=False)


def _front_matter(item: Planned, ws: Workspace) -> str:
    legacy = item.legacy
    lines = ["---", f"number: {item.number}", f"title: {_quoted(item.title)}", f"type: {item.doc_type}",
             f"department: {_quoted(item.department)}", f"revision: {legacy.revision}", f"status: {legacy.status}",
             "prepared:", f"  name: {_quoted(item.prepared_by)}", f"  date: {legacy.prepared_date.isoformat()}"]
    if legacy.effective:
        lines.append(f"effective: {legacy.effective.isoformat()}")
    lines.append(f"review_months: {ws.config.model.default_review_months}")
    if item.doc_type == "form":
        lines += [f"retention: {_quoted('3年' if item.chinese else '3 years')}", "orientation: portrait"]
        item.source.note(ATTENTION, "retention is set to " + ("3年" if item.chinese else "3 years") + " (the "
                         "template's period): correct it if the form's records are kept longer")
    if item.doc_type == "external":
        if legacy.source:
            lines.append(f"source: {_quoted(legacy.source)}")
        else:
            item.source.note(ATTENTION, "an external document needs `source:` (the standard's number or the "
                                        "issuing body): add it")
    if legacy.obsolete_reason:
        lines.append(f"obsolete_reason: {_quoted(legacy.obsolete_reason)}")
    lines.append("references: [" + ", ".join(item.references) + "]")
    lines.append("clauses: []")
    lines.append("history:")
    for row in legacy.history:
        lines.append(f"  - revision: {row['revision']}")
        lines.append(f"    date: {row['date'].isoformat()}")
        for key in ("section", "summary", "by", "approved_by"):
            if row.get(key):
                lines.append(f"    {key}: {_quoted(row[key])}")
        lines.append("    imported: true")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _validate(item: Planned) -> None:
    """The file as the loader will read it: an import never writes a document `check` cannot read."""
    _, findings = parse_source(Source(item.path), {item.path: item.text.encode("utf-8")})
    if findings:
        raise DoccontrolError(f"{item.source.shown} cannot be imported: the document made from it would not be "
                              "valid", findings=findings,
                              fix="shorten or correct the metadata named below in the source, and import again")
