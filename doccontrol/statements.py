"""Statements: what a person attests by signing, in one canonical form. Pure: no I/O.

Every control event is a statement signed by the person who makes it: 编制 (submit), 审核,
会签 and 批准 (approval), returning a revision to its author (return), 发布 (release),
作废 (withdrawal), and each version of the controlled configuration (the roster among it).
A statement names the document, revision and content fingerprint it is about, the signer,
the time, and the configuration version the signer acted under. Its canonical bytes (sorted
keys, no spaces, UTF-8) are what the SSH signature covers, so the statement, not the file
around it, is what is proven: a squash, a rebase or an export without .git keeps it intact.

Statements are kept in the ledger (`ledger.py`), one JSON line each.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .messages import role_synonyms
from .messages.zh import MESSAGES as ZH

# Role identifiers are language-neutral; labels are for people, in the locale's catalogue (messages/).
REVIEW, COUNTERSIGN, APPROVE, RELEASE = "review", "countersign", "approve", "release"
SIGNING_ROLES = (REVIEW, COUNTERSIGN, APPROVE)
# The Chinese labels and meanings, for messages and commit subjects.
ROLE_LABELS = {role: ZH.role_label(role) for role in (REVIEW, COUNTERSIGN, APPROVE, RELEASE)}
ROLE_MEANINGS = {role: ZH.role_meaning(role) for role in SIGNING_ROLES}
# Every locale's label of a role names it too: --role 审核, --role Review, --role review.
ROLE_BY_LABEL = role_synonyms()

FINGERPRINT = r"^sha256:[0-9a-f]{64}$"
REVISION = r"^[A-Z]/[0-9]$"
# Characters that would break a line of a commit message, a file or a page: C0/C1 controls,
# line and paragraph separators, and bidirectional overrides that reorder what a reader sees.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


# The checks of names, titles and paths below are pure and asked again and again for the same few values (every
# statement of a document names its title and path, most name one of a few people): their answers are kept.
_KEPT_ANSWERS = 8192


@functools.lru_cache(maxsize=_KEPT_ANSWERS)
def unsafe_character(text: str) -> str | None:
    """A description of the first character in text that must not appear in a one-line value, if any."""
    match = UNSAFE_CHARACTERS.search(text)
    if not match:
        return None
    char = match.group()
    if char in "\r\n\u2028\u2029":
        return "a line break"
    return f"the control character U+{ord(char):04X}"


def _one_line(value: str) -> str:
    problem = unsafe_character(value)
    if problem:
        raise ValueError(f"contains {problem}; write it on one line, in plain characters")
    if value != value.strip():
        raise ValueError("starts or ends with a space")
    return value


# Characters that show nothing, or show as another character, in a name that identifies someone:
# two roster entries, or a signer and a signature, could look the same. Full-width forms (（）、Ａ１)
# are ordinary in Chinese text and stay allowed; a name equal to another after folding is refused
# by the roster (identity_key).
INVISIBLE_LETTERS = frozenset("ᅟᅠㅤﾠ⠀")
WIDE_FORMS = range(0xFF01, 0xFF5F)


@functools.lru_cache(maxsize=_KEPT_ANSWERS)
def lookalike_character(text: str) -> str | None:
    """A description of the first character in a name, department or holder that hides or imitates another."""
    for char in text:
        code = ord(char)
        if unicodedata.category(char) == "Cf" or char in INVISIBLE_LETTERS or 0xFE00 <= code <= 0xFE0F \
                or 0xE0100 <= code <= 0xE01EF:
            return f"{_described(char)}, an invisible character; remove it"
        if code in WIDE_FORMS:
            continue
        folded = unicodedata.normalize("NFKC", char)
        if folded != char:
            shown = " ".join(f"U+{ord(c):04X}" for c in folded)
            return f"{_described(char)}, which stands for {folded!r} ({shown}); write {folded!r} instead"
    return None


def _described(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED CHARACTER')}"


# Dots written between the parts of a name (艾力·买买提): NFKC keeps them apart although they read the same.
_MIDDLE_DOTS = str.maketrans({"\u30fb": "\u00b7", "\u2022": "\u00b7", "\u2027": "\u00b7", "\u2219": "\u00b7",
                              "\u22c5": "\u00b7"})


def identity_key(name: str) -> str:
    """What a name is when read: NFKC, without format characters, every middle dot one dot (two names with one
    key look the same)."""
    return unicodedata.normalize("NFKC", "".join(c for c in name if unicodedata.category(c) != "Cf")) \
        .translate(_MIDDLE_DOTS)


def plain_identity(value: str) -> str:
    """A one-line name, department or holder in plain, unambiguous characters (ValueError says what is wrong)."""
    _one_line(value)
    problem = lookalike_character(value)
    if problem:
        raise ValueError(f"contains {problem}")
    return value


OneLine = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=400)]
Number = Annotated[str, Field(pattern=r"^[A-Z]{1,6}(-[A-Z]{1,6})?-[0-9]{1,6}$")]
Fingerprint = Annotated[str, Field(pattern=FINGERPRINT)]
RevisionText = Annotated[str, Field(pattern=REVISION)]
Path = Annotated[str, Field(min_length=1, max_length=300)]


class _Statement(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: OneLine
    at: Annotated[str, Field(min_length=10, max_length=40)]
    config: Annotated[int, Field(ge=1)]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return plain_identity(value)

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("is not an ISO date and time") from None
        if parsed.tzinfo is None:
            raise ValueError("has no time zone")
        if parsed.isoformat() != value:
            raise ValueError("is not in canonical form (YYYY-MM-DDTHH:MM:SS+HH:MM)")
        return value

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)


class Base(BaseModel):
    """The revision a new one was compared with when it was submitted (None for a first issue)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    revision: RevisionText
    fingerprint: Fingerprint


class _About(_Statement):
    """A statement about one revision of one document: which file, which content, of what type and owner."""

    number: Number
    title: Annotated[str, Field(min_length=1, max_length=200)]
    revision: RevisionText
    path: Path
    fingerprint: Fingerprint
    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,30}$")]
    department: OneLine

    @field_validator("title")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return _one_line(value)

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        return plain_identity(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        pieces = value.split("/")
        if value.startswith("/") or any(p in ("", ".", "..") for p in pieces) or unsafe_character(value):
            raise ValueError("is not a plain path inside the repository")
        return value


class Submit(_About):
    """编制: the preparer submits this content for review, compared with `base`."""

    kind: Literal["submit"]
    base: Base | None = None


class Approval(_About):
    """审核 / 会签 / 批准 of this content (compared with `base`)."""

    kind: Literal["approval"]
    role: Literal["review", "countersign", "approve"]
    meaning: OneLine
    comment: Reason | None = None
    base: Base | None = None

    @field_validator("comment", "meaning")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return value if value is None else _one_line(value)


class Return(_About):
    """A revision in review goes back to its author as a draft; earlier signatures on it lapse."""

    kind: Literal["return"]
    reason: Reason

    @field_validator("reason")
    @classmethod
    def _plain(cls, value: str) -> str:
        return _one_line(value)


class Release(_About):
    """发布: this approved content takes effect on `effective`."""

    kind: Literal["release"]
    effective: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]

    @property
    def effective_date(self) -> dt.date:
        return dt.date.fromisoformat(self.effective)

    @field_validator("effective")
    @classmethod
    def _date(cls, value: str) -> str:
        dt.date.fromisoformat(value)
        return value


class Withdrawal(_About):
    """作废: the document (at this revision and content) is withdrawn from `date`."""

    kind: Literal["withdrawal"]
    date: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    reason: Reason
    superseded_by: Number | None = None

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)

    @field_validator("reason")
    @classmethod
    def _plain(cls, value: str) -> str:
        return _one_line(value)


class Issue(_About):
    """发放: a numbered controlled copy (分发号) of this released revision handed to a holder."""

    kind: Literal["issue"]
    serial: Annotated[int, Field(ge=1, le=9999)]
    holder: OneLine
    medium: Literal["paper", "electronic"] = "paper"

    @field_validator("holder")
    @classmethod
    def _plain_holder(cls, value: str) -> str:
        return plain_identity(value)


class Recall(_About):
    """回收: a controlled copy came back (or was lost); how it was disposed of."""

    kind: Literal["recall"]
    serial: Annotated[int, Field(ge=1, le=9999)]
    outcome: Literal["destroyed", "retained", "lost"]
    note: Reason | None = None

    @field_validator("note")
    @classmethod
    def _plain_note(cls, value: str | None) -> str | None:
        return value if value is None else _one_line(value)


class Configuration(_Statement):
    """A version of the controlled configuration (roster, policy, numbering, clauses, site options).

    `content` is the whole configuration; `previous` the fingerprint of the version it replaces
    (None for the first version, the trust anchor). It takes effect when signed by a person the
    previous version allows to change the configuration (for the anchor: by such a person listed
    in itself).
    """

    kind: Literal["configuration"]
    version: Annotated[int, Field(ge=1)]
    previous: Fingerprint | None = None
    fingerprint: Fingerprint
    content: dict[str, Any]


Statement = Submit | Approval | Return | Release | Withdrawal | Issue | Recall | Configuration
_BY_KIND = {model.model_fields["kind"].annotation.__args__[0]: model  # type: ignore[union-attr]
            for model in (Submit, Approval, Return, Release, Withdrawal, Issue, Recall, Configuration)}


class StatementError(ValueError):
    """A statement that does not have the required form; the message says what is wrong."""


def parse_statement(data: object) -> Statement:
    if not isinstance(data, dict):
        raise StatementError("a statement must be a JSON object")
    model = _BY_KIND.get(data.get("kind"))  # type: ignore[arg-type]
    if model is None:
        raise StatementError(f"unknown statement kind {data.get('kind')!r}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False, include_context=False)[0]  # context holds the error: a cycle
        where = ".".join(str(part) for part in first["loc"]) or "statement"
        raise StatementError(f"{where}: {first['msg']}") from None


def canonical(data: dict) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8, None values left out."""
    return json.dumps(_without_none(data), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def statement_bytes(statement: Statement) -> bytes:
    return canonical(statement.model_dump())


def statement_id(statement: Statement) -> str:
    """A short, stable identity for messages: the first 12 hex digits of the canonical bytes' hash."""
    return hashlib.sha256(statement_bytes(statement)).hexdigest()[:12]


def content_fingerprint(content: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical(content)).hexdigest()


def _without_none(value):
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def time_text(moment: dt.datetime) -> str:
    """A statement time: seconds, with the signer's UTC offset."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.replace(microsecond=0).isoformat()
