"""Controlled Word (.docx) files: one per document, laid out as a Chinese controlled document.

pandoc turns the Markdown into Word with a reference document built by python-docx
(docx_reference.py: styles, fonts, page setup, header and footer with page fields).
The cover, approval block and revision record are written as pandoc Markdown in front
of the body. pandoc's start-up and its docx writer cost more than converting a typical
procedure, so one `pandoc lua` process per core (docx.lua) converts batches of
documents, one docx writer call per batch, and docx_split.py cuts each batch into one
package per document. Each package is then finished here: header values filled in, a
作废/草稿 watermark where the revision is not the current one, core properties set, and
the zip written with fixed timestamps, so the same input always gives the same bytes.
Finished files are cached by content, so only documents that changed are converted again."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import pypandoc

from ..config import Config
from ..errors import DoccontrolError
from ..fileio import atomic_write_bytes, interrupts_held, private_temp_dir
from ..markdown_checks import refuse_beyond_limits
from ..messages import Messages
from ..model import ROLES, Document, Revision, RevisionError, fingerprint
from ..outputs import checked_file
from ..pictures import image_targets, is_showable, picture_path, texts_of
from . import docx_reference as reference
from . import docx_split, pandoc_pool
from .docx_split import found
from .markdown_ext import literal_blanks

if TYPE_CHECKING:
    from ..workspace import Workspace

LUA_SCRIPT = Path(__file__).with_name("docx.lua")
# What pandoc reads in a document's text: the Markdown both renderers agree on. No raw HTML or TeX
# (check refuses them; pandoc would scan the rest of the text from every `<`), no smart quotes.
BODY_FORMAT = ("markdown+east_asian_line_breaks-yaml_metadata_block-citations-tex_math_dollars"
               "-raw_tex-raw_attribute-implicit_figures-smart-raw_html-native_divs-native_spans"
               "-markdown_in_html_blocks")
UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')
MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
PAGE_BREAK = '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'
BATCH_SIZE = 20

Progress = Callable[[int, int], None]


# What a Word copy made by doccontrol says about control (the catalogue's `marks`). QP-SH-001 4.5.2 and
# 4.5.5: files exported or downloaded, and texts given to outside parties (the audit pack), are
# uncontrolled copies (非受控), for reference only; a controlled paper copy is stamped 受控 and numbered.


@dataclass(frozen=True)
class CopyMark:
    """A numbered controlled copy (QP-SH-001 4.5.3): marked 受控 with its 分发号, holder and issue date on
    every page."""

    serial: int
    holder: str
    issued: dt.date

    def text(self, labels: Messages) -> str:
        return labels.marks.copy.format(serial=f"{self.serial:02d}", holder=self.holder,
                                        issued=self.issued.isoformat())


@dataclass(frozen=True)
class Rendition:
    """A document as its Word file shows it: the content, its layout, its labels and the mark across every page.

    layout: "document" (cover with approvals, revision record, then the text; a form: its approval
    data compactly above the form, the revision record after it), or "blank" (a form to fill in:
    the form from page 1, number and revision in the header, no approvals, no 非受控 stamp).
    mark: draft, pending (not yet effective), obsolete or redline (see `Messages.mark_label`).
    """

    doc: Document
    company: str
    type_label: str
    labels: Messages
    mark: str | None = None
    comparison: tuple[tuple[str, str, str], ...] = ()  # a redline's cover rows: item, old, new
    layout: str = "document"
    unsigned: bool = False
    copy: CopyMark | None = None

    @property
    def blank(self) -> bool:
        return self.layout == "blank"

    @property
    def mark_label(self) -> str:
        return self.labels.mark_label(self.mark) if self.mark else ""

    @property
    def control(self) -> str:
        """What the footer and cover say about control: 非受控, 受控 for an issued copy, or the mark (草稿 …)."""
        marks = self.labels.marks
        return self.mark_label or (marks.controlled if self.copy else marks.uncontrolled)

    @property
    def note(self) -> str:
        """What follows the control status: the copy's number, holder and date, or how to use an uncontrolled copy."""
        return self.copy.text(self.labels) if self.copy else self.labels.marks.uncontrolled_note

    @property
    def status(self) -> str:
        return self.mark_label or self.labels.status_label(self.doc.status)

    @property
    def stamp(self) -> dt.datetime:
        day = self.doc.effective or self.doc.prepared.date
        return dt.datetime(day.year, day.month, day.day)

    @property
    def file_name(self) -> str:
        title = UNSAFE_FILE_CHARS.sub("", self.doc.title)
        word = self.labels.word
        suffix = word.blank_suffix if self.blank else (
            word.copy_suffix.format(serial=f"{self.copy.serial:02d}") if self.copy else "")
        return f"{self.doc.number}-{self.doc.revision.replace('/', '')}-{title}{suffix}.docx"

    @property
    def landscape(self) -> bool:
        return self.doc.orientation == "landscape"

    def key(self, renderer: str) -> str:
        """Content key for the cache: everything the file shows, and the renderer version."""
        doc = self.doc
        signatures = [[s.role, s.name, s.at.isoformat(), s.key] for s in doc.approvals]
        payload = [renderer, fingerprint(doc), doc.revision, str(doc.effective), doc.status,
                   self.company, self.type_label, self.mark, self.layout, self.unsigned, signatures,
                   [row.approved_by for row in doc.history], [list(row) for row in self.comparison],
                   self.copy.text(self.labels) if self.copy else None, self.labels.locale]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def rendition(config: Config, doc: Document, mark: str | None = None, *, unsigned: bool = False) -> Rendition:
    return Rendition(doc, config.company, config.type_label(doc.type), config.messages, mark, unsigned=unsigned)


def blank_form(config: Config, doc: Document, mark: str | None = None) -> Rendition:
    """The form to fill in: just the form, with its number and revision in the running header."""
    return Rendition(doc, config.company, config.type_label(doc.type), config.messages, mark, layout="blank")


# -- export ------------------------------------------------------------------------------------

@dataclass
class Exported:
    path: Path
    notice: str = ""


def export_document(ws: Workspace, number: str, revision: str | None, out_dir: Path, allow_no_history: bool = False,
                    force: bool = False) -> Exported:
    """Write one document's .docx: the revision in force, or a named one (marked unless current)."""
    if revision is not None:
        try:
            Revision.parse(revision)
        except RevisionError as error:
            raise DoccontrolError(str(error),
                                  fix="write the revision as in the register, e.g. --revision A/1") from None
    selected = ws.select_revision(number, revision, allow_no_history=allow_no_history)
    item = rendition(selected.config, selected.doc, selected.mark)
    path = checked_file(ws.config, Path(out_dir) / item.file_name, "docx", force)
    atomic_write_bytes(path,
                       render(selected.config, [item], use_cache=ws.use_cache, pictures=selected.pictures).files[0])
    return Exported(path, selected.notice)


# -- rendering ---------------------------------------------------------------------------------

@dataclass
class Rendered:
    files: list[bytes]
    converted: int


def render(config: Config, items: list[Rendition], *, use_cache: bool = True, write_cache: bool = True,
           progress: Progress | None = None, pictures: Mapping[str, bytes] | None = None,
           within_limits: Collection[bytes] = ()) -> Rendered:
    """The finished .docx bytes of each item; converts only what the cache does not hold.

    pictures: the bytes of the documents' pictures by sha256 (see pictures.py); a picture shown in a
    text is embedded when its approved bytes are there and are a picture, else its description stands.

    With write_cache=False nothing is written under the repository's cache folder (the reference
    documents are built in a temporary folder and the conversions are not kept). A document beyond
    the Markdown limits is refused before anything is converted (within_limits: digests of texts known to be
    within them, see markdown_checks.refuse_beyond_limits)."""
    refuse_beyond_limits((item.doc for item in items), "convert to Word", within_limits)
    if not write_cache:
        with private_temp_dir(Path(tempfile.gettempdir()), "doccontrol-refs-") as scratch:
            return _render(scratch / "docx", items, use_cache=False, store=False, progress=progress,
                           pictures=pictures or {})
    cache = config.cache_dir / "docx" / renderer_version()
    drop_other_versions(cache)
    return _render(cache, items, use_cache=use_cache, store=True, progress=progress, pictures=pictures or {})


def _render(cache: Path, items: list[Rendition], *, use_cache: bool, store: bool,
            progress: Progress | None, pictures: Mapping[str, bytes]) -> Rendered:
    version = cache.name
    results: list[bytes | None] = [None] * len(items)
    todo = []
    for index, item in enumerate(items):
        cached = cache / f"{item.key(version)}.docx"
        if use_cache and cached.is_file():
            results[index] = cached.read_bytes()
        else:
            todo.append(index)
    done = len(items) - len(todo)
    if progress:
        progress(done, len(items))

    def finished(index: int, parts: dict[str, bytes]):
        nonlocal done
        data = finish(parts, items[index])
        if store:
            atomic_write_bytes(cache / f"{items[index].key(version)}.docx", data)
        results[index] = data
        done += 1
        if progress:
            progress(done, len(items))

    if todo:
        convert([(i, items[i]) for i in todo], references(cache, version, [items[i].labels for i in todo]), finished,
                pictures=pictures)
    files = [data for data in results if data is not None]
    assert len(files) == len(items)  # convert() reports every item or raises
    return Rendered(files, len(todo))


def drop_other_versions(cache: Path) -> None:
    """Remove conversions made by other renderer versions: no run can use them again."""
    if not cache.parent.is_dir():
        return
    for entry in cache.parent.iterdir():
        if entry == cache:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def renderer_version() -> str:
    """Changes whenever the layout code or pandoc changes, so the cache never serves an old layout."""
    digest = hashlib.sha256(pypandoc.get_pandoc_version().encode())
    for source in (Path(__file__), Path(reference.__file__), Path(docx_split.__file__), LUA_SCRIPT,
                   Path(__file__).with_name("markdown_ext.py"), Path(pandoc_pool.__file__)):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Reference:
    path: Path
    cover_break: str


def references(cache: Path, version: str, labels: list[Messages]) -> dict[tuple[str, bool], Reference]:
    """The portrait and landscape reference documents of each locale, built once into the cache
    (key: locale, landscape)."""
    found = {}
    for locale_labels in {item.locale: item for item in labels}.values():
        for landscape in (False, True):
            path = cache / f"reference-{version}-{locale_labels.locale}-{'landscape' if landscape else 'portrait'}.docx"
            if not path.is_file():
                atomic_write_bytes(path, reference.build_reference(landscape, locale_labels))
            found[(locale_labels.locale, landscape)] = Reference(path, _cover_break(path))
    return found


def _cover_break(path: Path) -> str:
    """The paragraph ending the cover: its own A4 portrait section using the first-page header and footer."""
    with zipfile.ZipFile(path) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    refs = "".join(found(rf'<w:{kind}Reference [^>]*w:type="first"[^>]*/>', xml).group(0)
                   .replace('w:type="first"', 'w:type="default"') for kind in ("header", "footer"))
    margins = found(r"<w:pgMar [^>]*/>", xml).group(0)
    return (f'<w:p><w:pPr><w:sectPr>{refs}<w:pgSz w:w="11906" w:h="16838"/>{margins}</w:sectPr></w:pPr></w:p>')


def convert(items: list[tuple[int, Rendition]], refs: dict[tuple[str, bool], Reference],
            on_done: Callable[[int, dict[str, bytes]], None], workers: int | None = None,
            pictures: Mapping[str, bytes] | None = None):
    """Convert in batches through `pandoc lua` processes, one per core; on_done(index, package parts) for each.

    The job list goes to pandoc in a file (pandoc 3.9 crashes on ~90 paths as arguments).
    If on_done raises or the run is interrupted, the pandoc processes are stopped and reaped
    and the temporary files removed.
    """
    batches = _batches(items)
    workers = workers or min(os.cpu_count() or 1, len(batches))
    with private_temp_dir(Path(tempfile.gettempdir()), "doccontrol-docx-") as tmp:
        files = picture_files(tmp, [item.doc for _, item in items], pictures or {})
        shares = [batches[w::workers] for w in range(workers)]
        job_lists = [{"body_format": BODY_FORMAT, "batches": [
            {"reference": str(refs[kind].path), "out": f"{tmp}/{w}-{b}.docx",
             "docs": [job(item, refs[kind].cover_break, files) for _, item in batch]}
            for b, (kind, batch) in enumerate(share)]} for w, share in enumerate(shares)]

        def finished(worker: int, position: int) -> None:
            package = Path(tmp, f"{worker}-{position - 1}.docx").read_bytes()
            for (index, _), parts in zip(shares[worker][position - 1][1], docx_split.split_batch(package)):
                on_done(index, parts)

        pandoc_pool.run(tmp, LUA_SCRIPT, job_lists, finished)


def _batches(items: list[tuple[int, Rendition]]) -> list[tuple[tuple[str, bool], list[tuple[int, Rendition]]]]:
    """Items grouped by locale and page orientation (one reference document per batch), BATCH_SIZE at most."""
    batches = []
    for kind in dict.fromkeys((item.labels.locale, landscape) for _, item in items for landscape in (False, True)):
        group = [entry for entry in items if (entry[1].labels.locale, entry[1].landscape) == kind]
        size = max(1, min(BATCH_SIZE, -(-len(group) // (os.cpu_count() or 1))))
        batches += [(kind, group[start:start + size]) for start in range(0, len(group), size)]
    return batches


# -- the controlled-document furniture, as pandoc Markdown -------------------------------------

def job(item: Rendition, cover_break: str, files: Mapping[str, str] | None = None) -> dict:
    """What docx.lua converts for one item: the furniture before and after the text, the text's files, and
    the picture file for each image reference the text makes (as written there).

    The manual gets a table of contents (目录) and starts each chapter file on a new page."""
    doc = item.doc
    manual = doc.type == "manual" and not item.blank
    return {"front": front_markdown(item, cover_break), "parts": body_parts(doc), "tail": tail_markdown(item),
            "toc": manual, "breaks": manual, "pictures": shown_pictures(doc, files or {}),
            "notes": item.labels.word.notes}


def picture_files(tmp: Path, documents: list[Document], pictures: Mapping[str, bytes]) -> dict[str, str]:
    """Write each picture the documents show whose approved bytes are at hand (and are a picture of the type
    its name says) into tmp, once per content; returns the file of each, by sha256."""
    files: dict[str, str] = {}
    for picture in (p for doc in documents for p in doc.pictures):
        data = pictures.get(picture.sha256)
        if picture.sha256 in files or data is None or not is_showable(picture.path, data):
            continue
        path = tmp / f"picture-{picture.sha256.split(':')[-1]}{Path(picture.path).suffix.lower()}"
        path.write_bytes(data)
        files[picture.sha256] = str(path)
    return files


def shown_pictures(doc: Document, files: Mapping[str, str]) -> dict[str, str]:
    """The picture file for each image reference of the text, keyed by the reference as written."""
    by_path = {p.path: files[p.sha256] for p in doc.pictures if p.sha256 in files}
    shown = {}
    for text in texts_of(doc):
        for _, target in image_targets(text):
            path = picture_path(target)
            if path in by_path:
                shown[target] = by_path[path]
    return shown


def body_parts(doc: Document) -> list[str]:
    """The document's text files in reading order: the main body, then each part by file name."""
    texts = [doc.body, *(part.text for part in sorted(doc.parts, key=lambda p: p.path))]
    return [literal_blanks(text) for text in texts]


def front_markdown(item: Rendition, cover_break: str) -> str:
    """What comes before the text: a form's title (and, for its master, its approval data); any other
    document's cover with its approval block, then its revision record (and the manual's 目录)."""
    doc, labels = item.doc, item.labels
    fields = labels.fields
    if item.blank:
        return _styled("Form Title", doc.title) + "\n"
    if doc.type == "form":
        parts = [_table(None, compact_control(item), [12, 21, 12, 21, 12, 22]), _styled("Form Title", doc.title)]
        return "\n\n".join(parts) + "\n"
    identity = [
        [fields.number, doc.number], [fields.revision, doc.revision],
        [fields.effective, doc.effective.isoformat() if doc.effective else "—"],
        [fields.department, doc.department], [fields.control_status, control_line(item)],
    ]
    if doc.source:
        identity.insert(1, [fields.source, doc.source])
    rows, widths = approval_rows(item)
    word = labels.word
    redline = labels.redline
    parts = [
        _styled("Cover Company", item.company),
        _styled("Cover Type", item.type_label),
        _styled("Cover Title", doc.title),
        _table(None, identity, [30, 70]),
        _styled("Cover Caption", word.approvals),
        _table(["", word.signature, word.time, *([word.key_fingerprint] if len(widths) == 4 else [])], rows, widths),
        *([_styled("Cover Note", word.unsigned)] if item.unsigned else []),
        *([] if item.mark else [_styled("Cover Stamp", word.stamp.format(control=item.control, note=item.note))]),
        _raw(cover_break),
        _styled("Record Heading", fields.history),
        record_table(doc, labels),
        *([_styled("Record Heading", labels.marks.redline),
           _table(["", redline.before, redline.after], [list(r) for r in item.comparison], [20, 40, 40])]
          if item.comparison else []),
        _raw(PAGE_BREAK),
    ]
    if doc.type == "manual":
        parts += [_styled("TOC Heading", word.contents), "::: {custom-style=\"dc-toc\"}\n&nbsp;\n:::", _raw(PAGE_BREAK)]
    return "\n\n".join(parts) + "\n"


def control_line(item: Rendition) -> str:
    if item.mark:
        return item.control
    return item.labels.word.control_line.format(control=item.control, note=item.note)


def approval_rows(item: Rendition) -> tuple[list[list[str]], list[int]]:
    """编制, then every signature (审核 and 批准 always, marked 未签 when missing; any other role as signed),
    with the time and, when signatures carry one, the key fingerprint."""
    doc, labels = item.doc, item.labels
    signatures = [(role, doc.signature(role)) for role in ROLES]
    signatures += [(sig.role, sig) for sig in doc.approvals if sig.role not in ROLES]
    keyed = any(sig and sig.key for _, sig in signatures)
    rows = [[labels.roles.prepare, doc.prepared.name, doc.prepared.date.isoformat(), *([""] if keyed else [])]]
    for role, sig in signatures:
        when = sig.at.strftime("%Y-%m-%d %H:%M") if sig else ""
        rows.append([labels.role_label(role), sig.name if sig else labels.fields.not_signed, when,
                     *([sig.key if sig else ""] if keyed else [])])
    return rows, ([14, 22, 26, 38] if keyed else [20, 40, 40])


def compact_control(item: Rendition) -> list[list[str]]:
    """A form master's control data in three rows, above the form."""
    doc, labels = item.doc, item.labels
    fields, roles = labels.fields, labels.roles
    reviewer, approver = doc.reviewer, doc.approver

    def who(sig) -> str:
        return f"{sig.name} {sig.at.strftime('%Y-%m-%d')}" if sig else fields.not_signed

    return [
        [fields.number, doc.number, fields.revision, doc.revision, fields.effective,
         doc.effective.isoformat() if doc.effective else "—"],
        [roles.prepare, f"{doc.prepared.name} {doc.prepared.date.isoformat()}", roles.review, who(reviewer),
         roles.approve, who(approver)],
        [fields.retention, doc.retention or "—", fields.department, doc.department, fields.control_status,
         control_line(item)],
    ]


def record_table(doc: Document, labels: Messages) -> str:
    fields = labels.fields
    record = [[row.revision, row.date.isoformat(), row.section, row.summary, row.by, row.approved_by or ""]
              for row in doc.history]
    return _table([fields.revision, fields.date, fields.section, fields.change_summary, labels.roles.prepare,
                   fields.approved_by], record, [14, 16, 14, 32, 12, 12])


def tail_markdown(item: Rendition) -> str:
    """What follows the text: a form master's revision record; nothing for others."""
    if item.blank or item.doc.type != "form":
        return ""
    return "\n\n".join([_styled("Record Heading", item.labels.fields.history),
                         record_table(item.doc, item.labels)]) + "\n"


def md_text(text: str) -> str:
    """Literal text for pandoc Markdown: one line, every ASCII punctuation mark escaped."""
    return MD_PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def _styled(style: str, text: str) -> str:
    return f'::: {{custom-style="{style}"}}\n{md_text(text) or "&nbsp;"}\n:::'


def _table(header: list[str] | None, rows: list[list[str]], widths: list[int]) -> str:
    """A pipe table (no header row when header is None); the separator is longer than 72 characters
    so pandoc keeps the relative widths."""
    def line(cells):
        return "| " + " | ".join(md_text(cell) for cell in cells) + " |"

    separator = "|" + "|".join("-" * max(3, width) for width in widths) + "|"
    return "\n".join([line(header or [""] * len(widths)), separator, *(line(row) for row in rows)])


def _raw(xml: str) -> str:
    return f"```{{=openxml}}\n{xml}\n```"


# -- finishing the converted file --------------------------------------------------------------

MARK_XML = f"<w:r><w:t>{reference.MARK_RUN}</w:t></w:r>".encode()


def finish(parts: dict[str, bytes], item: Rendition) -> bytes:
    """Fill in header and footer values, draw the mark, keep rows and numbers whole, set core properties,
    fix the timestamps."""
    doc, fields = item.doc, item.labels.fields
    values = {"COMPANY": item.company, "TITLE": doc.title, "NUMBER": doc.number, "REVISION": doc.revision,
              "EFFECTIVE": doc.effective.isoformat() if doc.effective else "—",
              "CONTROL_LABEL": "" if item.blank and not item.mark else fields.control_status + fields.colon,
              "CONTROL": item.mark_label if item.blank else item.control,
              "CONTROL_NOTE": "" if item.blank or item.mark else fields.gap + item.note}
    shapes = iter(range(1, 100))

    def fill(name: str, data: bytes) -> bytes:
        if name == "docProps/core.xml":
            return core_properties(item)
        if name == "word/document.xml":
            return keep_whole(data)
        if name.startswith(("word/header", "word/footer")):
            for key, value in values.items():
                data = data.replace(f"@@{key}@@".encode(), escape(value).encode())
            if MARK_XML in data:
                data = data.replace(MARK_XML, watermark(item.mark_label, next(shapes)) if item.mark else b"")
            return keep_whole(data)
        return data

    return package({name: fill(name, data) for name, data in sorted(parts.items())}, item.stamp)


TABLE_ROW = re.compile(rb"<w:tr>(<w:trPr>)?")
TEXT = re.compile(rb"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)")
UNBROKEN = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}|[A-Z]{2,4}-[A-Z]{1,4}-[0-9]{2,4}")


def keep_whole(xml: bytes) -> bytes:
    """No table row splits across pages, and no date or document number breaks at its hyphens."""
    xml = TABLE_ROW.sub(lambda m: b"<w:tr><w:trPr><w:cantSplit/>" + (b"" if m.group(1) else b"</w:trPr>"), xml)
    return TEXT.sub(_no_break_hyphens, xml)


def _no_break_hyphens(match: re.Match) -> bytes:
    opening, text, closing = match.groups()
    if not UNBROKEN.search(text):
        return match.group(0)
    hyphen = closing + b"<w:noBreakHyphen/>" + opening
    return opening + UNBROKEN.sub(lambda m: m.group(0).replace(b"-", hyphen), text) + closing


def package(parts: dict[str, bytes], stamp: dt.datetime) -> bytes:
    """A zip package with every timestamp set to stamp and a fixed entry order ([Content_Types].xml first).

    An interrupt waits until the package is built: zipfile cannot close an archive whose entry
    an interrupt cut short, and would replace the interrupt with a ValueError."""
    out = io.BytesIO()
    with interrupts_held(), zipfile.ZipFile(out, "w") as target:
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 0
            target.writestr(info, parts[name])
    return out.getvalue()


def core_properties(item: Rendition) -> bytes:
    doc = item.doc
    when = item.stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = [
        ("dc:title", doc.title), ("dc:subject", f"{item.type_label} · {doc.department}"),
        ("dc:creator", doc.prepared.name), ("cp:keywords", ", ".join([doc.number, item.type_label, *doc.clauses])),
        ("dc:description", item.labels.word.description.format(company=item.company, number=doc.number,
                                                                 revision=doc.revision)),
        ("dc:identifier", doc.number), ("cp:version", doc.revision), ("cp:contentStatus", item.status),
        ("cp:category", item.type_label), ("dc:language", item.labels.language),
        ("cp:lastModifiedBy", doc.approver.name if doc.approver else doc.prepared.name), ("cp:revision", "1"),
    ]
    body = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in fields)
    dates = "".join(f'<dcterms:{tag} xsi:type="dcterms:W3CDTF">{when}</dcterms:{tag}>'
                    for tag in ("created", "modified"))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"{body}{dates}</cp:coreProperties>").encode()


WATERMARK = """<w:r><w:rPr><w:noProof/></w:rPr><w:pict \
xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">\
<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" path="m@7,l@8,m@5,21600l@6,21600e">\
<v:formulas><v:f eqn="sum #0 0 10800"/><v:f eqn="prod #0 2 1"/><v:f eqn="sum 21600 0 @1"/><v:f eqn="sum 0 0 @2"/>\
<v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/><v:f eqn="if @0 21600 @1"/><v:f eqn="if @0 0 @2"/>\
<v:f eqn="if @0 @4 21600"/><v:f eqn="mid @5 @6"/><v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/><v:f eqn="mid @6 @7"/>\
<v:f eqn="sum @6 0 @5"/></v:formulas><v:path textpathok="t" o:connecttype="custom" \
o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800" o:connectangles="270,180,90,0"/>\
<v:textpath on="t" fitshape="t"/><o:lock v:ext="edit" text="t" shapetype="t"/></v:shapetype>\
<v:shape id="PowerPlusWaterMarkObject{n}" o:spid="_x0000_s{spid}" type="#_x0000_t136" \
style="position:absolute;margin-left:0;margin-top:0;width:420pt;height:140pt;rotation:315;z-index:-251657216;\
mso-position-horizontal:center;mso-position-horizontal-relative:margin;mso-position-vertical:center;\
mso-position-vertical-relative:margin" o:allowincell="f" fillcolor="#c00000" stroked="f">\
<v:fill opacity=".3"/><v:textpath style="font-family:&quot;{font}&quot;;font-size:1pt" string="{text}"/>\
</v:shape></w:pict></w:r>"""


def watermark(text: str, n: int) -> bytes:
    """A diagonal text watermark as Word draws one (a VML WordArt shape anchored in the header)."""
    return WATERMARK.format(n=n, spid=2048 + n, font=reference.HEADING_FONT, text=escape(text)).encode("utf-8")


# -- lists and matrices (python-docx) ----------------------------------------------------------

@dataclass(frozen=True)
class ListTable:
    """One table of a list document: an optional heading, the column labels, the rows, each column's share."""

    heading: str
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]


def table_document(title: str, lines: list[str], tables: list[ListTable], stamp: dt.datetime, company: str,
                   labels: Messages, note: str = "") -> bytes:
    """A landscape A4 document of bordered tables (the register, the clause matrix), with a running
    header (company, title, 第X页 共Y页) on every page; rows never split and header rows repeat."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Pt

    document = docx.Document()
    section = document.sections[0]
    reference.set_page(section, landscape=True)
    reference.set_east_asian_fonts(document)
    document.styles["Normal"].font.size = Pt(10.5)
    total = reference.text_width(section)
    header = section.header.paragraphs[0]
    header.paragraph_format.tab_stops.add_tab_stop(total, WD_TAB_ALIGNMENT.RIGHT)
    for text in (f"{company}{labels.fields.gap}{title}", "\t"):
        reference.east_asian(header.add_run(text), reference.BODY_FONT)
    reference.page_of(header, labels)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.font.size, run.font.bold = Pt(16), True
    reference.east_asian(run, reference.HEADING_FONT)
    for line in lines:
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if note:
        reference.east_asian(document.add_paragraph().add_run(note), reference.BODY_FONT)
    for table in tables:
        if table.heading:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.keep_with_next = True
            run = paragraph.add_run(table.heading)
            run.font.bold, run.font.size = True, Pt(12)
            reference.east_asian(run, reference.HEADING_FONT)
        _list_table(document, table, [int(total * share) for share in table.widths])
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.subject = title, company, company, company
    props.created = props.modified = stamp
    props.revision, props.language = 1, labels.language
    out = io.BytesIO()
    with interrupts_held():
        document.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as saved:
        parts = {name: saved.read(name) for name in saved.namelist()}
    parts = {name: keep_whole(data) if name == "word/document.xml" or name.startswith("word/header") else data
             for name, data in parts.items()}
    return package(parts, stamp)


def _list_table(document, spec: ListTable, widths: list[int]) -> None:
    from docx.table import _Cell

    table = document.add_table(rows=len(spec.rows) + 1, cols=len(spec.headers))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    for tr, values in zip(table._tbl.tr_lst, [spec.headers, *spec.rows]):
        for tc, text, width in zip(tr.tc_lst, values, widths):
            tc.width = width
            _Cell(tc, table).text = text
    for cell in table.rows[0].cells:
        cell.paragraphs[0].runs[0].font.bold = True
    _repeat_header(table.rows[0])


def _repeat_header(row):
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
