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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import clock
from .config import Config
from .errors import DoccontrolError
from .fileio import atomic_write_bytes
from .model import Document, Finding, Picture, Severity, fingerprint
from .outputs import checked_file
from .publication import Change, Publication
from .register import COLUMNS, format_register, register_rows, sort_key
from .render import docx

REGISTER = "受控文件清单"
WITHDRAWN = "作废文件"
MATRIX = "条款对照表"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "doccontrol-audit-pack/2"
WITHDRAWN_COLUMNS = ["文件编号", "文件名称", "作废日期", "替代文件", "作废原因"]
UNSIGNED = "签名未经密钥验证：审核、批准签名只记录签署人，未用签署人的密钥核验。"


@dataclass
class PackResult:
    path: Path
    documents: int
    converted: int = 0
    notice: str = ""


def build_pack(ws, out: Path, *, as_of: dt.date | None = None, use_cache: bool = True,
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
    config = publication.config or ws.config  # the approved configuration, never the working files
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
            "signatures": [{"role": sig.role, "name": sig.name, "at": sig.at.isoformat(), "key": sig.key}
                           for sig in doc.approvals],
            **({"pictures": {p.path: f"{RECORD}/{picture_member(p)}" for p in doc.pictures}} if doc.pictures else {})})
    for name, data in _lists(config, publication, documents, stamp).items():
        files[name] = (data, {"number": None, "revision": None, "effective": None, "commit": None})
    files.update(_distribution(config, ws.copy_rows(), as_of, stamp))
    for name, data in record_files(ws.released_sources(publication), publication).items():
        files[f"{RECORD}/{name}"] = (data, {"number": None, "revision": None, "effective": None, "commit": None})
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
    rows = register_rows(config, documents)
    values = [[getattr(row, key) for key, _ in COLUMNS] for row in rows]
    withdrawn = withdrawn_rows(publication.withdrawn)
    lines = [config.company, f"{as_of.isoformat()} 现行有效文件，共 {len(documents)} 份；作废 {len(withdrawn)} 份",
             f"{docx.UNCONTROLLED}：{docx.UNCONTROLLED_NOTE}"]
    note = "\n".join([*([UNSIGNED] if publication.unsigned else []), *held_back_lines(publication.held_back)])
    tables = [docx.ListTable("现行有效文件", [label for _, label in COLUMNS], values,
                             [0.11, 0.27, 0.08, 0.1, 0.06, 0.14, 0.12, 0.12])]
    if withdrawn:
        tables.append(docx.ListTable(WITHDRAWN, WITHDRAWN_COLUMNS, withdrawn, [0.12, 0.3, 0.12, 0.16, 0.3]))
    register_docx = docx.table_document(REGISTER, lines, tables, stamp, config.company, note)
    matrix = docx.ListTable("", ["条款", "标准", "条款名称", "必须", "响应文件"], clause_rows(config, documents),
                            [0.12, 0.2, 0.18, 0.06, 0.44])
    matrix_docx = docx.table_document(MATRIX, [config.company, f"{as_of.isoformat()} 现行有效文件"], [matrix], stamp,
                                      config.company)
    files = {f"{REGISTER}.docx": register_docx,
             f"{REGISTER}.csv": ("\ufeff" + format_register(rows, "csv")).encode("utf-8"),
             f"{MATRIX}.docx": matrix_docx}
    if withdrawn:
        files[f"{WITHDRAWN}.csv"] = csv_bytes(WITHDRAWN_COLUMNS, withdrawn)
    return files


def withdrawn_rows(withdrawn: list[Change]) -> list[list[str]]:
    return [[c.number, c.title, c.date.isoformat(), c.superseded_by or "", c.reason]
            for c in sorted(withdrawn, key=lambda c: c.number)]


def held_back_lines(held_back: list[Finding]) -> list[str]:
    if not held_back:
        return []
    return [f"以下 {len(held_back)} 份文件的发布记录未通过核验，未收入本文件包："] + \
        [f"{f.path}：{f.message}" for f in held_back]


def csv_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def clause_rows(config: Config, documents: list[Document]) -> list[list[str]]:
    """One row per clause of the catalogue (then any clause cited but not catalogued), with the documents answering it."""
    cited = [clause for doc in documents for clause in doc.clauses]
    rows = []
    for clause_id in [*config.clauses, *sorted(set(cited) - set(config.clauses))]:
        clause = config.clauses.get(clause_id)
        answering = [f"{d.number} {d.title}（{d.revision}）" for d in documents if clause_id in d.clauses]
        if not answering:
            answering = ["未覆盖" if clause and clause.required else "—"]
        rows.append([clause_id, clause.standard if clause else "（不在条款目录中）", clause.title if clause else "",
                     "是" if clause and clause.required else "", "\n".join(answering)])
    return rows


def _distribution(config: Config, rows: list, as_of: dt.date, stamp: dt.datetime) -> dict[str, tuple[bytes, dict]]:
    """The distribution register of controlled copies (QR-SH-002's layout), as .docx and .csv."""
    from .copies import COLUMNS as COPY_COLUMNS
    from .copies import REGISTER_TITLE, register_values

    issued = [row for row in rows if row.issued <= as_of]
    if not issued:
        return {}
    values = register_values(issued)
    table = docx.ListTable("", COPY_COLUMNS, values, [0.04, 0.05, 0.09, 0.18, 0.06, 0.14, 0.09, 0.09, 0.08, 0.08, 0.1])
    meta = {"number": None, "revision": None, "effective": None, "commit": None}
    document = docx.table_document(REGISTER_TITLE, [config.company, f"{as_of.isoformat()} 受控副本发放与回收"],
                                   [table], stamp, config.company)
    return {f"{REGISTER_TITLE}.docx": (document, meta),
            f"{REGISTER_TITLE}.csv": (csv_bytes(COPY_COLUMNS, values), meta)}


def record_files(sources: dict[str, bytes], publication) -> dict[str, bytes]:
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
    files["README.txt"] = RECORD_README.encode("utf-8")
    return files


def picture_member(picture: Picture) -> str:
    """Where the pack keeps a picture's approved bytes: by content, since two documents released at different
    times may show different pictures under one path."""
    return f"sources/{PICTURES}/{picture.sha256.split(':')[-1]}{Path(picture.path).suffix.lower()}"


def _entries(cycle) -> list:
    return [signed.entry for signed in [cycle.submit, *cycle.approvals, cycle.returned, cycle.release] if signed]


RECORD = "签名记录"
PICTURES = "pictures"
RECORD_README = """\
签名记录 / The signed record of this pack

本文件夹保存本审核包中每份文件的签名记录，供认证机构独立核验：
- sources/：各文件发布时的原文（Markdown）及其图片（pictures/，按内容命名），其内容指纹即签名所针对的内容；
- signatures/：各文件的签名声明（编制、审核、批准、发布），以及 configuration.jsonl（人员名册及其公钥的各个批准版本，第 1 版为信任锚）；
- allowed_signers：名册中全部公钥，OpenSSH 格式。

核验方法 / How to verify:
    doccontrol verify-pack audit-pack.zip
它逐一核验每个签名（SSH 签名，命名空间 doccontrol）、签名人当时的权限、内容指纹与原文一致，以及 manifest.json 中每个文件的 sha256。
Without doccontrol, each statement can be checked with OpenSSH alone: write the statement object of a
ledger line as canonical JSON (sorted keys, no spaces, UTF-8) to a file, its signature to FILE.sig, and run
    ssh-keygen -Y verify -f allowed_signers -I NAME -n doccontrol -s FILE.sig < FILE
Compare the trust anchor (configuration version 1) printed by verify-pack with the company's signed paper record.
"""


def _manifest(config: Config, publication: Publication, files: dict[str, tuple[bytes, dict]],
              redlines_since: dt.date | None = None) -> bytes:
    entries = [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **meta}
               for name, (data, meta) in sorted(files.items())]
    manifest = {"format": MANIFEST_FORMAT, "company": config.company, "as_of": publication.as_of.isoformat(),
                "copy": f"{docx.UNCONTROLLED}（{docx.UNCONTROLLED_NOTE}）",
                "signatures": "not key-verified (签名未经密钥验证): the policy is unsigned, signatures are names only"
                if publication.unsigned else "key-verified: SSH signatures checked against the roster in force "
                                             "when each was made",
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
