"""The controlled document register (受控文件清单): rows and their output formats."""

from __future__ import annotations

import csv
import datetime as dt
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
    return [_row(config, doc, STATUS_LABELS[doc.status]) for doc in sorted(documents, key=sort_key)]


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


def pending_rows(config: Config, working: list[Document], in_force: list[Document], today: dt.date) -> list[RegisterRow]:
    """The working tree's revisions that are not in force today: drafts, revisions in review or approved,
    releases whose effective date is still ahead, and anything the signed record does not prove."""
    current = {(doc.number, doc.revision) for doc in in_force}
    rows = []
    for doc in sorted(working, key=sort_key):
        if doc.status == "obsolete" or (doc.number, doc.revision) in current:
            continue
        status = STATUS_LABELS[doc.status]
        if doc.status == "effective":
            ahead = doc.effective is not None and doc.effective > today
            status = f"已发布，{doc.effective} 生效" if ahead else "未生效（签名记录未证实）"
        rows.append(_row(config, doc, status))
    return rows


PENDING_TITLE = "待生效与在办（尚未生效，不在受控清单内）"


def format_register(rows: list[RegisterRow], fmt: str, pending: list[RegisterRow] | None = None) -> str:
    """The register in a format; pending rows (see pending_rows) follow under their own heading in a table or
    Markdown, are marked `"in_force": false` in JSON, and are left out of CSV, which is the register alone."""
    pending = pending or []
    if fmt == "json":
        listed = [asdict(row) | {"in_force": True} for row in rows]
        listed += [asdict(row) | {"in_force": False} for row in pending]
        return json.dumps(listed, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(_values(rows))
        return out.getvalue()
    text = _markdown if fmt == "md" else _table
    if not pending:
        return text(HEADERS, _values(rows))
    return text(HEADERS, _values(rows)) + f"\n{PENDING_TITLE}\n\n" + text(HEADERS, _values(pending))


HEADERS = [label for _, label in COLUMNS]


def _values(rows: list[RegisterRow]) -> list[list[str]]:
    return [[getattr(row, key) for key, _ in COLUMNS] for row in rows]


def _markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]) + "\n"


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
