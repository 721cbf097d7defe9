"""The controlled document register (受控文件清单): rows and their output formats."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass

from .config import Config
from .model import Document, STATUS_LABELS

TYPE_ORDER = {"manual": 0, "procedure": 1, "instruction": 2, "form": 3, "external": 4}

COLUMNS = [
    ("number", "文件编号"),
    ("title", "文件名称"),
    ("type", "类别"),
    ("revision", "版本/修改码"),
    ("status", "状态"),
    ("department", "编制部门"),
    ("effective", "生效日期"),
    ("next_review", "下次评审日期"),
]


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
    return [
        RegisterRow(
            number=doc.number,
            title=doc.title,
            type=config.type_label(doc.type),
            revision=doc.revision,
            status=STATUS_LABELS[doc.status],
            department=doc.department,
            effective=doc.effective.isoformat() if doc.effective else "",
            next_review=doc.next_review.isoformat() if doc.next_review else "",
            path=doc.path,
        )
        for doc in sorted(documents, key=sort_key)
    ]


def format_register(rows: list[RegisterRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2) + "\n"
    values = [[getattr(row, key) for key, _ in COLUMNS] for row in rows]
    headers = [label for _, label in COLUMNS]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(values)
        return out.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in values]
        return "\n".join(lines) + "\n"
    return _table(headers, values)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]) + "\n"


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
