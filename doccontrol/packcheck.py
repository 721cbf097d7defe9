"""`verify-pack`: a certification body checks an audit pack on its own, without the repository.

The pack carries, beside the Word files, the released sources, the signed ledgers of its
documents and of the configuration (whose versions list the signers' public keys). This
proves, from the zip alone: every signature against the roster of its time (from the trust
anchor on), that each document in the pack is the revision a counted release put in force on
the pack's date, that its source has exactly the fingerprint the signers signed, and that every
file is the one the manifest lists (sha256).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .ledger import FOLDER as LEDGERS
from .loader import MANUAL_INDEX, Source, load_sources
from .messages import LOCALES, catalogue
from .model import Finding, fingerprint
from .pack import MANIFEST
from .pictures import mapping_reader, with_pictures
from .signing import Verifier
from .verification import Evaluation, evaluate, revision_record_findings

MAX_MEMBER = 64 * 1024 * 1024
FIX = "ask the sender for the pack as doccontrol made it; a changed pack proves nothing"


@dataclass
class PackReport:
    documents: int = 0
    signatures: int = 0
    anchor: str = ""
    record: str = ""  # the folder of the signed record and sources (签名记录, Signed record)
    findings: list[Finding] = field(default_factory=list)
    evaluation: Evaluation | None = None


def verify_pack(path: Path) -> PackReport:
    report = PackReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        report.findings.append(Finding(str(path), 1, "pack", f"not a readable zip file ({error})", FIX))
        return report
    with archive:
        members = _members(archive, report)
        if MANIFEST not in members:
            report.findings.append(Finding(str(path), 1, "pack", f"the pack has no {MANIFEST}", FIX))
            return report
        manifest = json.loads(members[MANIFEST])
        _check_hashes(manifest, members, report)
        record = record_folder(members)
        report.record = record
        ledgers = {name[len(record) + 1:]: data for name, data in members.items()
                   if name.startswith(f"{record}/{LEDGERS}/")}
        evaluation = evaluate(ledgers, Verifier())
        report.evaluation = evaluation
        report.findings += evaluation.findings
        report.signatures = evaluation.signatures_verified
        if evaluation.chain.anchor:
            report.anchor = evaluation.chain.anchor.fingerprint
        as_of = dt.date.fromisoformat(manifest["as_of"])
        for entry in manifest["files"]:
            if entry.get("number") and "compared_with" not in entry:  # a redline is checked by its sha256 only
                report.documents += 1
                report.findings += _check_document(entry, members, evaluation, as_of, record)
    return report


def record_folder(members: dict[str, bytes]) -> str:
    """The folder of the signed record: named in the pack's language (签名记录, Signed record)."""
    names = [catalogue(locale).pack.record for locale in LOCALES]
    return next((name for name in names if any(member.startswith(f"{name}/") for member in members)), names[0])


def _members(archive: zipfile.ZipFile, report: PackReport) -> dict[str, bytes]:
    members = {}
    for info in archive.infolist():
        if info.file_size > MAX_MEMBER or info.is_dir():
            continue
        members[info.filename] = archive.read(info)
    return members


def _check_hashes(manifest: dict, members: dict[str, bytes], report: PackReport) -> None:
    listed = {entry["name"] for entry in manifest["files"]}
    for entry in manifest["files"]:
        data = members.get(entry["name"])
        if data is None:
            report.findings.append(Finding(entry["name"], 1, "pack", "listed in the manifest but not in the pack", FIX))
        elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
            report.findings.append(Finding(entry["name"], 1, "pack", "its sha256 differs from the manifest", FIX))
    for name in sorted(set(members) - listed - {MANIFEST}):
        report.findings.append(Finding(name, 1, "pack", "in the pack but not in the manifest", FIX))


def _check_document(entry: dict, members: dict[str, bytes], evaluation: Evaluation, as_of: dt.date,
                    record_name: str) -> list[Finding]:
    number, where = entry["number"], entry["name"]
    record = evaluation.records.get(number)
    cycle = record.in_force(as_of) if record else None
    if cycle is None or cycle.release is None:
        return [Finding(where, 1, "pack", f"{number} is not in force on {as_of} by its signed record", FIX)]
    if cycle.revision != entry["revision"]:
        return [Finding(where, 1, "pack", f"the pack holds {number} {entry['revision']}, the record puts "
                                          f"{cycle.revision} in force", FIX)]
    main = cycle.release.statement.path
    prefix = f"{record_name}/sources/"
    parts = []
    if main.endswith("/" + MANUAL_INDEX):
        folder = main.rsplit("/", 1)[0] + "/"
        parts = sorted(name[len(prefix):] for name in members
                       if name.startswith(prefix + folder) and name != prefix + main and name.endswith(".md"))
    texts = {path: members.get(prefix + path, b"") for path in [main, *parts]}
    loaded = load_sources([Source(main, parts)], texts)
    if not loaded.documents:
        return [Finding(where, 1, "pack", f"the source of {number} is missing or unreadable", FIX)]
    listed = entry.get("pictures")
    if not isinstance(listed, dict):
        listed = {}
    pictures = {path: members[str(name)] for path, name in listed.items() if str(name) in members}
    shown = with_pictures(loaded.documents, mapping_reader(pictures), {})
    stamp = fingerprint(shown[0])
    if stamp != cycle.fingerprint or stamp != entry.get("fingerprint"):
        return [Finding(where, 1, "pack", f"the source of {number} is not the content its signers signed", FIX)]
    assert record is not None
    return [Finding(where, 1, "pack", f"the source of {number}: {finding.message}", FIX)
            for finding in revision_record_findings(shown[0], record)]
