"""What another system's metadata says about a document, kept as an imported legacy record.

Revisions, dates, authors and approvers from another tool's front matter become revision-record
rows marked `imported: true`, their summary starting with （导入） / (imported). They are what the
old system said, not signatures: a document comes into the signed record only through
`doccontrol submit`, `approve` and `release`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..model import Revision, RevisionError
from .common import ATTENTION, CONVERTED, Note, parse_date

KEYS = {
    "title": ("title", "name", "doc_title", "document_title"),
    "id": ("id", "doc_id", "document_id", "doc_no", "document_no", "number", "doc_number", "document_number", "code"),
    "version": ("version", "revision", "rev", "ver", "doc_version"),
    "date": ("date", "updated", "last_updated", "last_modified", "modified", "revision_date", "revised",
             "date_modified", "updated_at", "update_date"),
    "effective": ("effective_date", "effective", "effective_from", "date_effective", "issue_date", "issued",
                  "release_date", "released", "published", "publish_date", "publication_date"),
    "author": ("author", "authors", "owner", "prepared_by", "preparer", "created_by", "written_by", "editor"),
    "reviewer": ("reviewed_by", "reviewer", "reviewers", "checked_by"),
    "approver": ("approved_by", "approver", "approvers", "authorised_by", "authorized_by", "signed_off_by"),
    "status": ("status", "state", "stage"),
    "department": ("department", "dept", "owning_department", "owner_department"),
    "change": ("change", "change_summary", "change_description", "changes", "reason", "revision_note"),
    "source": ("source", "publisher", "issuer", "issuing_body", "standard"),
    "history": ("history", "revision_history", "revisions", "changelog", "change_log", "version_history"),
}
IN_FORCE = {"approved", "effective", "released", "published", "active", "current", "in_force", "final", "issued",
            "valid", "生效", "已生效", "已批准", "批准", "已发布", "发布", "现行", "受控", "有效"}
DRAFT = {"draft", "review", "in_review", "under_review", "wip", "proposed", "pending", "new", "草稿", "审核中",
         "待审", "待审核", "编制中", "修订中"}
WITHDRAWN = {"obsolete", "withdrawn", "retired", "superseded", "deprecated", "archived", "cancelled", "canceled",
             "作废", "已作废", "废止", "停用"}


@dataclass
class Legacy:
    """The metadata a document is written with: what the source said, and what import decided from it."""

    revision: str
    status: str  # draft | effective | obsolete
    prepared_date: dt.date
    history: list[dict]
    effective: dt.date | None = None
    obsolete_reason: str = ""
    title: str = ""
    old_number: str = ""
    department: str = ""
    source: str = ""  # who issued an external document
    notes: list[Note] = field(default_factory=list)


def normalise_keys(meta: dict) -> dict:
    return {re.sub(r"[\s-]+", "_", str(key).strip().lower()): value for key, value in meta.items()}


def pick(meta: dict, what: str):
    """The first value under one of the names another tool uses for `what`, and that name."""
    for key in KEYS[what]:
        if key in meta and meta[key] not in (None, "", []):
            return meta[key], key
    return None, ""


def one_line(value, limit: int = 400) -> str:
    """A metadata value as one line of plain text (lists and mappings joined), within limit."""
    pieces: list[str] = []
    size = 0
    for piece in _texts(value, [MAX_NODES]):
        pieces.append(piece[: limit + 1])
        size += len(piece)
        if size > limit:
            break
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in "".join(pieces))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_NODES = 10_000


def _texts(value, budget: list[int], depth: int = 0) -> Iterator[str]:
    """The scalars of a value in order (mappings as `key: value`), walked lazily and within a budget of
    nodes: YAML aliases can make a small text describe an enormous value."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        return
    if isinstance(value, (list, tuple)):
        first = True
        for item in value:
            if budget[0] < 0:
                return
            texts = _texts(item, budget, depth + 1)
            head = next(texts, "")
            if not head:
                continue
            yield head if first else "、" + head
            first = False
            yield from texts
    elif isinstance(value, dict):
        for index, (key, item) in enumerate(value.items()):
            if budget[0] < 0:
                return
            yield ("，" if index else "") + f"{key}: "
            yield from _texts(item, budget, depth + 1)
    elif value is not None:
        yield str(value)


def map_revision(value) -> str | None:
    """A revision of the form A/0 from another system's version: A/1, Rev B, B2, 2.1 (→ B/1), 3 (→ C/0)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    match = re.fullmatch(r"(?:rev(?:ision)?\.?\s*)?([A-Za-z])\s*[/.\-]?\s*([0-9])", text, re.IGNORECASE) \
        if not re.fullmatch(r"[0-9.]+", text) else None
    if match and (match.group(1).isupper() or text.lower().startswith("rev")):
        return f"{match.group(1).upper()}/{match.group(2)}"
    match = re.fullmatch(r"(?:rev(?:ision)?\.?\s*)?([A-Z])", text, re.IGNORECASE)
    if match and (match.group(1).isupper() or text.lower().startswith("rev")):
        return f"{match.group(1).upper()}/0"
    match = re.fullmatch(r"(?:v(?:er(?:sion)?)?\.?\s*)?([0-9]{1,2})(?:\.([0-9]))?(?:\.0+)?", text, re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= 26:
        return f"{chr(ord('A') + int(match.group(1)) - 1)}/{match.group(2) or 0}"
    return None


@dataclass
class _Row:
    version: str
    revision: str | None
    date: dt.date | None
    by: str
    approved_by: str
    summary: str


def read_legacy(meta: dict, *, as_drafts: bool, author: str, today: dt.date, chinese: bool,
                max_modification: int = 9) -> Legacy:
    """The revision, status, dates and revision record a document is imported with."""
    meta = normalise_keys(meta)
    notes: list[Note] = []
    version, _ = pick(meta, "version")
    revision = map_revision(version) if version is not None else None
    if version is not None and revision is None:
        notes.append(Note(ATTENTION, f"version {one_line(version)!r} has no A/0 form: imported as A/0 (the old "
                                     "version is in the revision record)"))
    elif version is not None and revision != str(version).strip():
        notes.append(Note(CONVERTED, f"version {one_line(version)} taken as revision {revision}"))
    rows = _history_rows(meta, notes)
    if revision is None and version is None:
        sequence = _as_sequence(rows, None, max_modification)
        revision = sequence[-1].revision if sequence else None
    rev_date = parse_date(pick(meta, "date")[0])
    effective = parse_date(pick(meta, "effective")[0])
    for what in ("date", "effective"):
        value, key = pick(meta, what)
        if value is not None and parse_date(value) is None:
            notes.append(Note(ATTENTION, f"{key}: {one_line(value)!r} is not a date that import can read; it is "
                                         "left out"))
    status_value, _ = pick(meta, "status")
    said = re.sub(r"[\s-]+", "_", str(status_value).strip().lower()) if status_value is not None else ""
    legacy = Legacy(revision=revision or "A/0", status="draft", prepared_date=rev_date or effective or today,
                    history=[], notes=notes)
    legacy.title = one_line(pick(meta, "title")[0] or "", 200)
    legacy.old_number = one_line(pick(meta, "id")[0] or "", 40)
    legacy.department = one_line(pick(meta, "department")[0] or "").replace("<", "〈").replace(">", "〉")
    legacy.source = one_line(pick(meta, "source")[0] or "")
    left = [key for key in meta if not any(key in names for names in KEYS.values())]
    if left:
        notes.append(Note(ATTENTION, "front matter not carried over: " + ", ".join(
            f"{key}: {one_line(meta[key], 60)}" for key in left[:10]) + (" …" if len(left) > 10 else "")))
    if not as_drafts:
        _decide_status(legacy, said, one_line(status_value or ""), rev_date, effective, chinese)
    elif said in IN_FORCE:
        notes.append(Note(CONVERTED, f"the source says {one_line(status_value)}; imported as a draft (--as-drafts)"))
    if said and said not in IN_FORCE | DRAFT | WITHDRAWN:
        notes.append(Note(ATTENTION, f"status {one_line(status_value)!r} is not one import knows: imported as a "
                                     "draft"))
    current = _Row(one_line(version) if version is not None else "", legacy.revision,
                   rev_date or effective, one_line(pick(meta, "author")[0] or "") or author,
                   one_line(pick(meta, "approver")[0] or ""), one_line(pick(meta, "change")[0] or ""))
    extra = _current_details(legacy, meta, one_line(status_value or ""), chinese)
    legacy.history = _record(rows, current, extra, legacy, today, chinese, max_modification)
    return legacy


def _decide_status(legacy: Legacy, said: str, shown: str, rev_date: dt.date | None, effective: dt.date | None,
                   chinese: bool) -> None:
    if said in IN_FORCE:
        day = effective or rev_date
        if day is None:
            legacy.notes.append(Note(ATTENTION, f"the source says {shown} but gives no effective date: imported as a "
                                                "draft"))
            return
        legacy.status, legacy.effective = "effective", day
        legacy.prepared_date = min(rev_date or day, day)
    elif said in WITHDRAWN:
        legacy.status = "obsolete"
        legacy.obsolete_reason = (f"（导入）原系统标记为{shown}" if chinese else f"(imported) marked {shown} in the "
                                  "previous system")


def _current_details(legacy: Legacy, meta: dict, status: str, chinese: bool) -> list[str]:
    """What the source says about the current revision that has no key of its own in the record."""
    details = []
    if legacy.old_number:
        details.append(f"原编号 {legacy.old_number}" if chinese else f"old number {legacy.old_number}")
    reviewer = one_line(pick(meta, "reviewer")[0] or "")
    if reviewer:
        details.append(f"审核 {reviewer}" if chinese else f"reviewed by {reviewer}")
    approver = one_line(pick(meta, "approver")[0] or "")
    if approver:  # `approved_by` of the row gives way to the signed approver once the revision is adopted
        details.append(f"原批准 {approver}" if chinese else f"approved by {approver}")
    if status:
        details.append(f"原状态 {status}" if chinese else f"status {status}")
    return details


def _history_rows(meta: dict, notes: list[Note]) -> list[_Row]:
    value, key = pick(meta, "history")
    if value is None:
        return []
    if not isinstance(value, list):
        notes.append(Note(ATTENTION, f"{key}: is not a list: it is left out of the revision record"))
        return []
    rows = []
    for entry in value[:200]:
        if isinstance(entry, dict):
            entry = normalise_keys(entry)
            version = pick(entry, "version")[0]
            summary = pick(entry, "change")[0] or entry.get("summary") or entry.get("description") or \
                entry.get("comment") or entry.get("notes") or ""
            rows.append(_Row(one_line(version) if version is not None else "", map_revision(version),
                             parse_date(pick(entry, "date")[0]), one_line(pick(entry, "author")[0] or ""),
                             one_line(pick(entry, "approver")[0] or ""), one_line(summary, 1500)))
        elif entry not in (None, ""):
            rows.append(_Row("", None, None, "", "", one_line(entry, 1500)))
    return rows


def _record(rows: list[_Row], current: _Row, extra: list[str], legacy: Legacy, today: dt.date, chinese: bool,
            max_modification: int) -> list[dict]:
    """The revision-record rows: the source's own rows when they form a valid sequence ending at the current
    revision, else one row that tells the whole legacy history."""
    prefix = "（导入）" if chinese else "(imported) "
    section = "全文" if chinese else "All"
    sequence = _as_sequence(rows, legacy.revision, max_modification)
    if sequence:
        out = []
        for index, row in enumerate(sequence):
            last = index == len(sequence) - 1
            parts = [row.summary] if row.summary else []
            if row.version and row.version != row.revision:
                parts.append(f"原版本 {row.version}" if chinese else f"version {row.version}")
            if row.date is None:
                parts.append("原记录无日期" if chinese else "no date in the source")
            if last:
                parts += extra
            unrecorded = "（未记录）" if chinese else "(not recorded)"
            out.append(_row(row.revision or legacy.revision, row.date or current.date or legacy.prepared_date,
                            section, prefix, parts, row.by or (current.by if last else unrecorded),
                            row.approved_by or (current.approved_by if last else ""), chinese))
        legacy.notes.append(Note(CONVERTED, f"revision record of {len(out)} rows carried over (marked imported)"))
        return out
    parts = [current.summary] if current.summary else []
    if current.version and current.version != legacy.revision:
        parts.append(f"原版本 {current.version}" if chinese else f"version {current.version}")
    parts += extra
    if rows:
        told = [" ".join(filter(None, [row.version, row.date.isoformat() if row.date else "", row.by,
                                       row.summary])) for row in rows]
        joined = ("；" if chinese else "; ").join(told)
        parts.append(("原修订记录：" if chinese else "previous revision record: ") + joined)
        legacy.notes.append(Note(ATTENTION, "the source's revision record does not run in sequence to the current "
                                            "revision: it is kept as text in one imported row"))
    return [_row(legacy.revision, current.date or legacy.prepared_date, section, prefix, parts, current.by,
                 current.approved_by, chinese)]


def _as_sequence(rows: list[_Row], current: str | None, max_modification: int) -> list[_Row]:
    """rows oldest first when every one has a revision and they run in sequence (to current, if given); else []."""
    if not rows or any(row.revision is None for row in rows):
        return []
    for ordered in (rows, rows[::-1]):
        revisions = [Revision.parse(row.revision) for row in ordered if row.revision]
        try:
            runs = all(later.follows(earlier, max_modification=max_modification)
                       for earlier, later in zip(revisions, revisions[1:]))
        except RevisionError:
            runs = False
        if runs and (current is None or str(revisions[-1]) == current):
            return ordered
    return []


def _row(revision: str, day: dt.date, section: str, prefix: str, parts: list[str], by: str, approved_by: str,
         chinese: bool) -> dict:
    text = ("；" if chinese else "; ").join(part for part in parts if part)
    if not text:
        text = "自原有文件导入" if chinese else "brought in from the previous system"
    summary = one_line(prefix + text, 2000)
    row = {"revision": revision, "date": day, "section": section, "summary": summary, "by": by}
    if approved_by:
        row["approved_by"] = approved_by
    row["imported"] = True
    return row
