"""The controlled document register (受控文件清单): rows and their output formats."""

from __future__ import annotations

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
    return [
        RegisterRow(
            number=doc.number,
            title=doc.title,
            type=config.type_label(doc.type),
            revision=doc.revision,
            status=labels.status_label(doc.status),
            department=doc.department,
            effective=doc.effective.isoformat() if doc.effective else "",
            next_review=doc.next_review.isoformat() if doc.next_review else "",
            path=doc.path,
        )
        for doc in sorted(documents, key=sort_key)
    ]


def format_register(rows: list[RegisterRow], fmt: str, labels: Messages) -> str:
    """The register as a table for the terminal, csv, json (stable English keys, values as shown) or Markdown."""
    values = [[getattr(row, key) for key, _ in COLUMNS] for row in rows]
    return format_table(column_labels(labels), values, [asdict(row) for row in rows], fmt)
