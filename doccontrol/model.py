"""The document model: pure data and pure functions, no I/O.

Everything the renderers, validators and the change-control workflow share lives
here: revisions and their arithmetic, signatures, the revision record, findings,
and the fingerprint that binds an approval to the content it approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

from .messages.zh import MESSAGES as ZH

DOC_TYPES = ("manual", "procedure", "instruction", "form", "external")
STATUSES = ("draft", "review", "approved", "effective", "obsolete")
# The roles every copy shows a cell for (signed or not), as language-neutral identifiers.
ROLES = ("review", "approve")

# The Chinese labels of the statuses, for messages; outputs take theirs from the locale's catalogue.
STATUS_LABELS = {status: ZH.status_label(status) for status in STATUSES}

# The numbers of the default configuration (QM-SH-01, QP-SH-001 …). Code that has a configuration uses
# Config.number_in_text, built from its numbering, instead.
NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9-])([A-Z]{2,4}-[A-Z]{1,4}-[0-9]{2,4})(?![0-9A-Za-z])")


class RevisionError(ValueError):
    """A revision string that is not of the form LETTER/DIGIT."""


@dataclass(frozen=True, order=True)
class Revision:
    """A revision state: version letter (版本) and modification code (修改码), e.g. A/1."""

    letter: str
    modification: int

    # ASCII only: \d would accept A/٣ or A/３, and $ a trailing newline; parse() uses fullmatch.
    PATTERN = re.compile(r"([A-Z])/([0-9])")

    @classmethod
    def parse(cls, text: str) -> Revision:
        match = cls.PATTERN.fullmatch(text)
        if not match:
            raise RevisionError(f"revision {text!r} is not of the form A/0 (capital letter, slash, digit)")
        return cls(match.group(1), int(match.group(2)))

    def next(self, *, major: bool = False, max_modification: int = 9) -> Revision:
        """The revision that follows: A/0 → A/1; after max_modification, or when major, B/0 (换版)."""
        if major or self.modification >= max_modification:
            if self.letter == "Z":
                raise RevisionError("revision Z is the last version letter; re-number the document")
            return Revision(chr(ord(self.letter) + 1), 0)
        return Revision(self.letter, self.modification + 1)

    def follows(self, earlier: Revision, *, max_modification: int = 9) -> bool:
        """True when self is a legal successor of earlier (next modification or a re-issue)."""
        if self.letter == earlier.letter:
            return self.modification == earlier.modification + 1 and self.modification <= max_modification
        return ord(self.letter) == ord(earlier.letter) + 1 and self.modification == 0

    @property
    def tag_suffix(self) -> str:
        return f"{self.letter}{self.modification}"

    def __str__(self) -> str:
        return f"{self.letter}/{self.modification}"


@dataclass(frozen=True)
class Prepared:
    name: str
    date: dt.date


@dataclass(frozen=True)
class Signature:
    """One approval signature, bound by its fingerprint to the content it approved."""

    role: str  # review, countersign or approve (an identifier; the catalogue has its label)
    name: str
    at: dt.datetime
    meaning: str
    fingerprint: str
    key: str = ""  # short fingerprint of the public key that made the signature ("SHA256:…"), once verified


@dataclass(frozen=True)
class HistoryRow:
    """One row of the revision record (修订记录)."""

    revision: str
    date: dt.date
    section: str
    summary: str
    by: str
    approved_by: str | None = None
    imported: bool = False  # carried over by `doccontrol import` from another system's record


@dataclass(frozen=True)
class Picture:
    """A picture a document shows (`![…](images/…)`): its path in the repository and the sha256 of its bytes
    ("" when there is no such file), which the document's fingerprint covers."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Part:
    """A file of a multi-file document (the manual's chapters)."""

    path: str
    text: str


@dataclass
class Document:
    """A controlled document as read from one revision of its file(s)."""

    path: str
    number: str
    title: str
    type: str
    department: str
    revision: str
    status: str
    prepared: Prepared
    body: str
    history: tuple[HistoryRow, ...]
    approvals: tuple[Signature, ...] = ()
    effective: dt.date | None = None
    review_months: int | None = None
    next_review_date: dt.date | None = None
    references: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    retention: str | None = None
    orientation: str | None = None
    source: str | None = None
    superseded_by: str | None = None
    obsolete_reason: str | None = None
    parts: tuple[Part, ...] = ()
    pictures: tuple[Picture, ...] = ()
    body_line: int = 1
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def rev(self) -> Revision:
        return Revision.parse(self.revision)

    @property
    def full_text(self) -> str:
        """The whole readable text: the main body followed by every part."""
        return "\n\n".join([self.body, *(part.text for part in self.parts)]).strip() + "\n"

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)

    def signature(self, role: str) -> Signature | None:
        for sig in reversed(self.approvals):
            if sig.role == role:
                return sig
        return None

    @property
    def reviewer(self) -> Signature | None:
        return self.signature("review")

    @property
    def approver(self) -> Signature | None:
        return self.signature("approve")

    @property
    def next_review(self) -> dt.date | None:
        if self.next_review_date:
            return self.next_review_date
        if self.effective and self.review_months:
            return add_months(self.effective, self.review_months)
        return None

    def numbers_in_text(self, pattern: re.Pattern = NUMBER_IN_TEXT) -> list[tuple[str, int]]:
        """Document numbers written in the text (as pattern finds them), with their line in the file."""
        found = []
        for offset, line in enumerate(self.body.splitlines()):
            for match in pattern.finditer(line):
                found.append((match.group(1), self.body_line + offset))
        for part in self.parts:
            for offset, line in enumerate(part.text.splitlines()):
                for match in pattern.finditer(line):
                    found.append((match.group(1), offset + 1))
        return found


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem found in the repository: where, which rule, what, and how to fix it."""

    path: str
    line: int
    rule: str
    message: str
    fix: str = ""
    severity: Severity = Severity.ERROR

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
        }

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.severity.value}: {self.message} [{self.rule}]"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


FINGERPRINT_FIELDS = (
    "number", "title", "type", "department", "revision", "review_months",
    "next_review_date", "references", "clauses", "retention", "orientation", "source",
)


def fingerprint(doc: Document) -> str:
    """sha256 over the body and the controlled metadata, never over the signatures.

    Status, effective date and approvals are left out: they are what approval and
    release add, and must not change what was approved. The pictures the text shows are
    in, by their bytes' sha256, so that replacing one after approval is an edit too.
    """
    meta = {name: getattr(doc, name) for name in FINGERPRINT_FIELDS}
    meta["prepared"] = doc.prepared.name
    meta["history"] = [
        [row.revision, row.date.isoformat(), row.section, row.summary, row.by] + (["imported"] if row.imported else [])
        for row in doc.history
    ]
    payload = {
        "meta": meta,
        "body": normalise_text(doc.body),
        "parts": [[part.path.rsplit("/", 1)[-1], normalise_text(part.text)] for part in doc.parts],
    }
    if doc.pictures:
        payload["pictures"] = [[picture.path, picture.sha256] for picture in doc.pictures]
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def normalise_text(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())
