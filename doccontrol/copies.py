"""Controlled copies: the distribution register (文件发放回收登记) kept in the signed record. Pure.

A numbered copy (分发号) is issued to a holder by the document controller, as a signed statement in the
document's ledger; its return (or loss) is another. A copy of a revision that is no longer in force (a
newer one took effect, or the document was withdrawn) is to be recalled within the policy's `recall_days`
working days (QP-SH-001 4.7.4, 4.9.2); past that, `check` warns and `due` lists it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ledger import ledger_path
from .messages import Messages
from .model import Finding, Severity
from .record import Copy, DocumentRecord

if TYPE_CHECKING:
    from .workspace import Workspace

WARN = Severity.WARNING


@dataclass(frozen=True)
class CopyRow:
    """One line of the distribution register."""

    number: str
    title: str
    revision: str
    serial: int
    holder: str
    issued: dt.date
    issued_by: str
    returned: dt.date | None
    outcome: str
    recall_from: dt.date | None  # when the copy stopped being current (None while it is)
    recall_by: dt.date | None

    @property
    def copy_id(self) -> str:
        return copy_id(self.number, self.serial)

    @property
    def state(self) -> str:
        """in_use, to_recall, or how the copy came back (destroyed, retained, lost)."""
        if self.returned:
            return self.outcome
        return "to_recall" if self.recall_from else "in_use"


def copy_id(number: str, serial: int) -> str:
    """How a copy is named on the command line and in messages: QP-SH-011#03 (分发号 03)."""
    return f"{number}#{serial:02d}"


def parse_copy_id(text: str) -> tuple[str, int]:
    """QP-SH-011#03 → ("QP-SH-011", 3); ValueError says what is wrong."""
    number, sep, serial = text.strip().partition("#")
    if not sep or not serial.isdigit() or not number:
        raise ValueError(f"{text!r} is not a copy number; write it as NUMBER#分发号, e.g. QP-SH-011#03")
    return number, int(serial)


def add_working_days(day: dt.date, days: int) -> dt.date:
    current, left = day, days
    while left > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def register(records: dict[str, DocumentRecord], today: dt.date, recall_days: int) -> list[CopyRow]:
    """Every copy ever issued, with whether it is current, to be recalled (by when), or back."""
    rows = []
    for number, record in sorted(records.items()):
        for copy in record.copies:
            rows.append(_row(number, record, copy, today, recall_days))
    return rows


def _row(number: str, record: DocumentRecord, copy: Copy, today: dt.date, recall_days: int) -> CopyRow:
    issued = copy.issued.statement
    stopped = _no_longer_current(record, copy.revision, today)
    returned = copy.recalled.statement if copy.recalled else None
    return CopyRow(number, issued.title, copy.revision, copy.serial, copy.holder, issued.time.date(), issued.name,
                   returned.time.date() if returned else None, returned.outcome if returned else "",
                   stopped, add_working_days(stopped, recall_days) if stopped else None)


def _no_longer_current(record: DocumentRecord, revision: str, today: dt.date) -> dt.date | None:
    """The day the revision stopped being the one in force (a later release took effect, or a withdrawal)."""
    dates = []
    if record.withdrawal and record.withdrawal.statement.day <= today:
        dates.append(record.withdrawal.statement.day)
    released = [cycle for cycle in record.releases if cycle.effective_day <= today]
    later = False
    for cycle in released:
        if later:
            dates.append(cycle.effective_day)
            break
        later = cycle.revision == revision
    return min(dates) if dates else None


def to_recall(rows: list[CopyRow]) -> list[CopyRow]:
    return [row for row in rows if row.recall_from and not row.returned]


def overdue_findings(rows: list[CopyRow], today: dt.date) -> list[Finding]:
    return [Finding(ledger_path(row.number), 1, "copy-overdue",
                    f"controlled copy {row.copy_id} ({row.holder}) of {row.number} {row.revision} should have been "
                    f"recalled by {row.recall_by}", f"recall it and record its return: doccontrol recall --done "
                                                    f"{row.copy_id}", WARN)
            for row in to_recall(rows) if row.recall_by and row.recall_by < today]


def columns(labels: Messages) -> list[str]:
    """The distribution register's columns, in the layout of QR-SH-002 (文件发放回收登记表)."""
    text, fields = labels.copies, labels.fields
    return [text.serial, text.copy_number, fields.number, fields.title, fields.revision, text.holder, text.issued,
            text.returned, text.disposal, text.issued_by, fields.status]


def label(state: str, labels: Messages) -> str:
    """A copy's state or outcome (in_use, to_recall, destroyed, retained, lost) as a reader sees it."""
    return str(getattr(labels.copies, state, state))


def register_values(rows: list[CopyRow], labels: Messages) -> list[list[str]]:
    return [[str(index), f"{row.serial:02d}", row.number, row.title, row.revision, row.holder,
             row.issued.isoformat(), row.returned.isoformat() if row.returned else "",
             label(row.outcome, labels) if row.outcome else "", row.issued_by, label(row.state, labels)]
            for index, row in enumerate(rows, start=1)]


def register_table(rows: list[CopyRow], fmt: str, labels: Messages) -> str:
    """The distribution register in the layout of QR-SH-002 (文件发放回收登记表)."""
    from .tables import format_table

    values = register_values(rows, labels)
    records = [{"copy": row.copy_id, "number": row.number, "title": row.title, "revision": row.revision,
                "serial": row.serial, "holder": row.holder, "issued": row.issued.isoformat(),
                "issued_by": row.issued_by, "returned": row.returned.isoformat() if row.returned else None,
                "outcome": row.outcome or None, "recall_by": row.recall_by.isoformat() if row.recall_by else None,
                "state": label(row.state, labels)} for row in rows]
    return format_table(columns(labels), values, records, fmt)


def write_copies(ws: Workspace, statements: list, out_dir, *, force: bool = False) -> list:
    """The numbered controlled copies just issued, as .docx (and PDF where LibreOffice is installed), marked
    受控 with 分发号, holder and issue date on every page. Returns the files written."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    from . import clock
    from .fileio import atomic_write_bytes
    from .outputs import checked_file
    from .render import docx

    publication = ws.in_force(clock.today())
    config = publication.config
    by_number = {doc.number: doc for doc in publication.documents}
    items = [docx.Rendition(by_number[s.number], config.company, config.type_label(by_number[s.number].type),
                            config.messages, copy=docx.CopyMark(s.serial, s.holder, s.time.date()),
                            unsigned=publication.unsigned)
             for s in statements]
    rendered = docx.render(config, items, use_cache=ws.use_cache, pictures=publication.pictures)
    written = []
    for item, data in zip(items, rendered.files):
        path = checked_file(config, Path(out_dir) / item.file_name, "docx", force)
        atomic_write_bytes(path, data)
        written.append(path)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office and written:
        with tempfile.TemporaryDirectory(prefix="doccontrol-pdf-") as work:
            subprocess.run([office, "--headless", f"-env:UserInstallation=file://{work}/profile", "--convert-to", "pdf",
                            "--outdir", work, *map(str, written)], capture_output=True, timeout=600, check=False)
            for path in list(written):
                pdf = Path(work) / (path.stem + ".pdf")
                if pdf.is_file():
                    target = path.with_suffix(".pdf")
                    atomic_write_bytes(target, pdf.read_bytes())
                    written.append(target)
    return written
