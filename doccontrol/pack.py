"""The audit pack for certification bodies: what is in force, as Word files, verifiable.

One .docx per document in force (read from its release commit, never the working
tree), the register (受控文件清单, with the withdrawn documents) as .docx and .csv, the
clause matrix as .docx, and `manifest.json` with every file's sha256, document number,
revision and release commit. Every copy is marked 非受控 (QP-SH-001: texts given to outside
parties are uncontrolled, for reference only). The same commit and date give the same
bytes: every timestamp is fixed and entries are sorted, so an auditor can rebuild the pack
and compare.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import clock
from .config import Config
from .errors import DoccontrolError
from .fileio import atomic_write_bytes
from .messages import Messages
from .model import Document, Finding, Picture, Severity, fingerprint
from .outputs import checked_file
from .publication import Change, Publication
from .register import COLUMNS, column_labels, format_register, register_rows, sort_key
from .render import docx

if TYPE_CHECKING:
    from .workspace import Workspace

# The pack's own file and folder names (受控文件清单, 作废文件, 条款对照表, 签名记录 …) are the catalogue's `pack`.
MANIFEST = "manifest.json"
PICTURES = "pictures"  # under the signed record's sources/
MANIFEST_FORMAT = "doccontrol-audit-pack/2"
KEY_VERIFIED = "key-verified: SSH signatures checked against the roster in force when each was made"


def withdrawn_columns(labels: Messages) -> list[str]:
    fields = labels.fields
    return [fields.number, fields.title, fields.withdrawn_on, fields.successor, fields.withdrawal_reason]


@dataclass
class PackResult:
    path: Path
    documents: int
    converted: int = 0
    notice: str = ""


def build_pack(ws: Workspace, out: Path, *, as_of: dt.date | None = None, use_cache: bool = True,
               progress: Callable[[int, int], None] | bool = False, force: bool = False,
               redlines_since: dt.date | None = None) -> PackResult:
    """Build the audit pack of what is in force on as_of (default today) and write it atomically to out.

    With redlines_since, the pack also holds a Word redline (修订对比) of every revision that came
    into force from that date to as_of, against the revision it replaced."""
    out = checked_file(ws.config, Path(out), "pack", force)
    as_of = as_of or clock.today()
    if redlines_since and redlines_since > as_of:
        raise DoccontrolError(f"--redlines-since {redlines_since} is after the pack's date {as_of}",
                              fix="give a start date on or before the pack's date")
    publication = ws.in_force(as_of, use_cache=use_cache)
    errors = [f for f in publication.findings if f.severity is Severity.ERROR]
    if errors:
        raise DoccontrolError("some documents in force cannot be read; nothing was packed", findings=errors,
                              fix="run `doccontrol verify` (or `doccontrol check`) and correct them")
    config = publication.config  # the approved configuration, never the working files
    labels = config.messages
    documents = sorted(publication.documents, key=sort_key)
    items = [docx.rendition(config, doc, unsigned=publication.unsigned) for doc in documents]
    rendered = docx.render(config, items, use_cache=use_cache, progress=_progress(progress),
                           pictures=publication.pictures)
    stamp = dt.datetime(as_of.year, as_of.month, as_of.day)
    files: dict[str, tuple[bytes, dict]] = {}
    for item, data in zip(items, rendered.files):
        doc = item.doc
        files[f"{item.type_label}/{item.file_name}"] = (data, {
            "number": doc.number, "revision": doc.revision,
            "effective": doc.effective.isoformat() if doc.effective else None,
            "commit": publication.commits.get(doc.number), "fingerprint": fingerprint(doc),
            "signatures": [{"role": labels.role_label(sig.role), "name": sig.name, "at": sig.at.isoformat(),
                            "key": sig.key} for sig in doc.approvals],
            **({"pictures": {p.path: f"{labels.pack.record}/{picture_member(p)}" for p in doc.pictures}}
               if doc.pictures else {})})
    for name, data in _lists(config, publication, documents, stamp).items():
        files[name] = (data, {"number": None, "revision": None, "effective": None, "commit": None})
    files.update(_distribution(config, ws.copy_rows(proven=True), as_of, stamp))
    for name, data in record_files(ws.released_sources(publication), publication, labels).items():
        files[f"{labels.pack.record}/{name}"] = (data, {"number": None, "revision": None, "effective": None,
                                                        "commit": None})
    if redlines_since:
        from .compare import redlines_since as find_redlines
        from .render.redline import pack_files

        files.update(pack_files(config, find_redlines(ws, documents, redlines_since, as_of), use_cache))
    files[MANIFEST] = (_manifest(config, publication, files, redlines_since), {})
    out = Path(out)
    atomic_write_bytes(out, _zip(files, stamp))
    return PackResult(out, len(documents), rendered.converted, publication.notice)


def _lists(config: Config, publication: Publication, documents: list[Document],
           stamp: dt.datetime) -> dict[str, bytes]:
    """The register (with the withdrawn documents) as .docx and .csv, and the clause matrix as .docx."""
    as_of = publication.as_of
    labels = config.messages
    names, fields, marks = labels.pack, labels.fields, labels.marks
    rows = register_rows(config, documents)
    values = [[getattr(row, key) for key, _ in COLUMNS] for row in rows]
    withdrawn = withdrawn_rows(publication.withdrawn)
    lines = [config.company,
             names.in_force_line.format(as_of=as_of.isoformat(), count=len(documents), withdrawn=len(withdrawn)),
             f"{marks.uncontrolled}{fields.colon}{marks.uncontrolled_note}"]
    note = "\n".join([*([names.unsigned] if publication.unsigned else []),
                      *held_back_lines(publication.held_back, labels)])
    tables = [docx.ListTable(names.in_force_table, column_labels(labels), values,
                             [0.11, 0.27, 0.08, 0.1, 0.06, 0.14, 0.12, 0.12])]
    if withdrawn:
        tables.append(docx.ListTable(names.withdrawn, withdrawn_columns(labels), withdrawn,
                                     [0.12, 0.3, 0.12, 0.16, 0.3]))
    register_docx = docx.table_document(names.register, lines, tables, stamp, config.company, labels, note)
    matrix = docx.ListTable("", [names.clause, names.standard, names.clause_title, names.required, names.answering],
                            clause_rows(config, documents), [0.12, 0.2, 0.18, 0.06, 0.44])
    matrix_docx = docx.table_document(names.matrix, [config.company, names.matrix_line.format(as_of=as_of.isoformat())],
                                      [matrix], stamp, config.company, labels)
    files = {f"{names.register}.docx": register_docx,
             f"{names.register}.csv": ("\ufeff" + format_register(rows, "csv", labels)).encode("utf-8"),
             f"{names.matrix}.docx": matrix_docx}
    if withdrawn:
        files[f"{names.withdrawn}.csv"] = csv_bytes(withdrawn_columns(labels), withdrawn)
    return files


def withdrawn_rows(withdrawn: list[Change]) -> list[list[str]]:
    return [[c.number, c.title, c.date.isoformat(), c.superseded_by or "", c.reason]
            for c in sorted(withdrawn, key=lambda c: c.number)]


def held_back_lines(held_back: list[Finding], labels: Messages) -> list[str]:
    if not held_back:
        return []
    return [labels.pack.held_back.format(count=len(held_back))] + \
        [labels.pack.held_back_line.format(path=f.path, message=f.message) for f in held_back]


def csv_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def clause_rows(config: Config, documents: list[Document]) -> list[list[str]]:
    """One row per clause of the catalogue (then any clause cited but not catalogued), with the documents
    answering it."""
    cited = [clause for doc in documents for clause in doc.clauses]
    text = config.messages.pack
    rows = []
    for clause_id in [*config.clauses, *sorted(set(cited) - set(config.clauses))]:
        clause = config.clauses.get(clause_id)
        answering = [text.answering_document.format(number=d.number, title=d.title, revision=d.revision)
                     for d in documents if clause_id in d.clauses]
        if not answering:
            answering = [config.messages.site.not_covered if clause and clause.required else "—"]
        rows.append([clause_id, clause.standard if clause else text.not_catalogued, clause.title if clause else "",
                     text.yes if clause and clause.required else "", "\n".join(answering)])
    return rows


def _distribution(config: Config, rows: list, as_of: dt.date, stamp: dt.datetime) -> dict[str, tuple[bytes, dict]]:
    """The distribution register of controlled copies (QR-SH-002's layout), as .docx and .csv."""
    from .copies import columns, register_values

    issued = [row for row in rows if row.issued <= as_of]
    if not issued:
        return {}
    labels = config.messages
    values = register_values(issued, labels)
    headers = columns(labels)
    table = docx.ListTable("", headers, values, [0.04, 0.05, 0.09, 0.18, 0.06, 0.14, 0.09, 0.09, 0.08, 0.08, 0.1])
    meta = {"number": None, "revision": None, "effective": None, "commit": None}
    title = labels.copies.register
    document = docx.table_document(title, [config.company, labels.copies.register_line.format(as_of=as_of.isoformat())],
                                   [table], stamp, config.company, labels)
    return {f"{title}.docx": (document, meta), f"{title}.csv": (csv_bytes(headers, values), meta)}


def record_files(sources: dict[str, bytes], publication, labels: Messages) -> dict[str, bytes]:
    """What a certification body needs to verify the pack on its own: the released sources, every ledger
    of the documents in it and of the configuration (whose versions list the signers' public keys), an
    allowed-signers file for OpenSSH, and how to check."""
    from .ledger import CONFIGURATION, ledger_path

    evaluation = publication.evaluation
    files: dict[str, bytes] = {f"sources/{path}": data for path, data in sources.items()}
    for picture in (p for doc in publication.documents for p in doc.pictures):
        if picture.sha256 in publication.pictures:
            files[picture_member(picture)] = publication.pictures[picture.sha256]
    chain = evaluation.chain
    files[ledger_path(CONFIGURATION)] = "".join(e.raw + "\n" for e in chain.entries).encode("utf-8")
    for doc in publication.documents:
        record = evaluation.records.get(doc.number)
        entries = [e for cycle in record.cycles for e in _entries(cycle)] if record else []
        files[ledger_path(doc.number)] = "".join(e.raw + "\n" for e in sorted(entries, key=lambda e: e.line)).encode()
    signers = sorted({(name, key.openssh) for roster in chain.versions for name in roster.model.people
                      for key in roster.keys(name).values()})
    files["allowed_signers"] = "".join(f'"{name}" namespaces="doccontrol" {key}\n' for name, key in signers).encode()
    files["README.txt"] = labels.pack.record_readme.encode("utf-8")
    return files


def picture_member(picture: Picture) -> str:
    """Where the pack keeps a picture's approved bytes: by content, since two documents released at different
    times may show different pictures under one path."""
    return f"sources/{PICTURES}/{picture.sha256.split(':')[-1]}{Path(picture.path).suffix.lower()}"


def _entries(cycle) -> list:
    return [signed.entry for signed in [cycle.submit, *cycle.approvals, cycle.returned, cycle.release] if signed]


def _manifest(config: Config, publication: Publication, files: dict[str, tuple[bytes, dict]],
              redlines_since: dt.date | None = None) -> bytes:
    entries = [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **meta}
               for name, (data, meta) in sorted(files.items())]
    labels = config.messages
    marks = labels.marks
    manifest = {"format": MANIFEST_FORMAT, "company": config.company, "as_of": publication.as_of.isoformat(),
                "copy": labels.word.control_line.format(control=marks.uncontrolled, note=marks.uncontrolled_note),
                "signatures": labels.pack.manifest_unsigned if publication.unsigned else KEY_VERIFIED,
                "documents": sum(1 for e in entries if e["number"] and "compared_with" not in e),
                "withdrawn": [{"number": number, "title": title, "date": date, "superseded_by": successor or None,
                               "reason": reason} for number, title, date, successor, reason
                              in withdrawn_rows(publication.withdrawn)],
                "held_back": [{"path": f.path, "line": f.line, "message": f.message, "fix": f.fix}
                              for f in publication.held_back],
                "files": entries}
    if redlines_since:
        manifest["redlines_since"] = redlines_since.isoformat()
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _zip(files: dict[str, tuple[bytes, dict]], stamp: dt.datetime) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system, info.external_attr = 3, 0o644 << 16
            archive.writestr(info, files[name][0])
    return out.getvalue()


def _progress(progress: Callable[[int, int], None] | bool) -> Callable[[int, int], None] | None:
    if callable(progress):
        return progress
    if progress and sys.stderr.isatty():
        return _stderr_bar
    return None


def _stderr_bar(done: int, total: int):
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\rconverting [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
