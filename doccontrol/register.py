"""The controlled document register (受控文件清单): rows and their output formats."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from .config import Config
from .messages import Messages
from .model import Document
from .tables import format_table

TYPE_ORDER = {"manual": 0, "procedure": 1, "instruction": 2, "form": 3, "external": 4}

# The register's columns: each row's attribute, and its label in the catalogue (messages.Fields).
COLUMNS = [
    ("number", "number"),
    ("title", "title"),
    ("type", "type_short"),
    ("revision", "revision"),
    ("status", "status"),
    ("department", "department"),
    ("effective", "effective"),
    ("next_review", "next_review"),
]


def column_labels(labels: Messages) -> list[str]:
    return [str(getattr(labels.fields, field)) for _, field in COLUMNS]


@dataclass(frozen=True)
class RegisterRow:
    number: str
    title: str
    type: str
    revision: str
    status: str
    department: str
    effective: str
    next_review: str
    path: str


def sort_key(doc: Document):
    return (TYPE_ORDER.get(doc.type, 9), doc.number)


def register_rows(config: Config, documents: list[Document]) -> list[RegisterRow]:
    """One row per document in number order, its type and status labelled in the configuration's locale."""
    labels = config.messages
    return [_row(config, doc, labels.status_label(doc.status)) for doc in sorted(documents, key=sort_key)]


def _row(config: Config, doc: Document, status: str) -> RegisterRow:
    return RegisterRow(
        number=doc.number,
        title=doc.title,
        type=config.type_label(doc.type),
        revision=doc.revision,
        status=status,
        department=doc.department,
        effective=doc.effective.isoformat() if doc.effective else "",
        next_review=doc.next_review.isoformat() if doc.next_review else "",
        path=doc.path,
    )


def pending_rows(config: Config, working: list[Document], in_force: list[Document],
                 today: dt.date) -> list[RegisterRow]:
    """The working tree's revisions that are not in force today: drafts, revisions in review or approved,
    releases whose effective date is still ahead, and anything the signed record does not prove."""
    labels = config.messages
    current = {(doc.number, doc.revision) for doc in in_force}
    rows = []
    for doc in sorted(working, key=sort_key):
        if doc.status == "obsolete" or (doc.number, doc.revision) in current:
            continue
        status = labels.status_label(doc.status)
        if doc.status == "effective":
            ahead = doc.effective is not None and doc.effective > today
            status = labels.cli.released_ahead.format(date=doc.effective) if ahead else labels.cli.unproven
        rows.append(_row(config, doc, status))
    return rows


def format_register(rows: list[RegisterRow], fmt: str, labels: Messages,
                    pending: list[RegisterRow] | None = None) -> str:
    """The register as a table for the terminal, csv, json (stable English keys, values as shown) or Markdown.

    Pending rows (see pending_rows) follow under their own heading in a table or Markdown, are marked
    `"in_force": false` in JSON, and are left out of CSV, which is the register alone."""
    pending = pending or []
    if fmt == "json":
        listed = [asdict(row) | {"in_force": True} for row in rows]
        listed += [asdict(row) | {"in_force": False} for row in pending]
        return json.dumps(listed, ensure_ascii=False, indent=2) + "\n"
    headers = column_labels(labels)
    text = format_table(headers, _values(rows), [], fmt)
    if fmt == "csv" or not pending:
        return text
    return text + f"\n{labels.cli.pending_title}\n\n" + format_table(headers, _values(pending), [], fmt)


def _values(rows: list[RegisterRow]) -> list[list[str]]:
    return [[getattr(row, key) for key, _ in COLUMNS] for row in rows]
