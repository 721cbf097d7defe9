"""Typed schemas for front matter and configuration, and their error messages.

Strict pydantic models: an unknown key is an error, and a value of the wrong type
is an error rather than a silent conversion (YAML 1.1 reads `03` as 3, `NO` as False).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .model import DOC_TYPES, ROLES, STATUSES, Revision

Text = Annotated[str, Field(min_length=1, max_length=400)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
RevisionText = Annotated[str, Field(pattern=Revision.PATTERN.pattern)]
DocType = Literal[DOC_TYPES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PreparedModel(_Strict):
    """编制: who prepared this revision, and when."""

    name: Text
    date: dt.date


class SignatureModel(_Strict):
    """One signature written by `doccontrol approve`; not to be edited by hand."""

    role: Role
    name: Text
    at: dt.datetime
    meaning: Text
    fingerprint: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class HistoryRowModel(_Strict):
    """One row of the revision record (修订记录)."""

    revision: RevisionText
    date: dt.date
    section: Text
    summary: LongText
    by: Text
    approved_by: Text | None = None


class FrontMatter(_Strict):
    """The metadata block at the top of every controlled document."""

    number: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    type: DocType
    department: Text
    revision: RevisionText
    status: Status
    source: Text | None = None
    prepared: PreparedModel
    approvals: list[SignatureModel] = []
    effective: dt.date | None = None
    review_months: Annotated[int, Field(ge=1, le=120)] | None = None
    next_review: dt.date | None = None
    retention: Text | None = None
    orientation: Literal["portrait", "landscape"] | None = None
    references: list[Annotated[str, Field(min_length=1, max_length=40)]] = []
    clauses: list[Annotated[str, Field(min_length=1, max_length=40)]] = []
    superseded_by: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    obsolete_reason: LongText | None = None
    history: Annotated[list[HistoryRowModel], Field(min_length=1)]


class TypeConfig(_Strict):
    """How documents of one type are numbered and where they live."""

    label: Text
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")]
    department: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")]
    width: Annotated[int, Field(ge=1, le=6)]
    folder: Text

    @field_validator("folder")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("folder must be a path inside the repository")
        return value.rstrip("/")


class PersonConfig(_Strict):
    """A person on the roster: position, and the document types they may sign per role."""

    position: Text
    sign: dict[Role, list[DocType]] = {}


class ConfigModel(_Strict):
    """doccontrol.yml: the one place for company, numbering, people and clauses."""

    company: Text
    system: Text = "管理体系"
    clause_catalogue: Text = "clauses.yml"
    default_review_months: Annotated[int, Field(ge=1, le=120)] = 12
    max_modification: Annotated[int, Field(ge=1, le=99)] = 9
    types: dict[DocType, TypeConfig]
    people: dict[str, PersonConfig]


class ClauseModel(_Strict):
    title: Text
    required: bool = False


class CatalogueModel(_Strict):
    standards: dict[str, Text]
    clauses: dict[str, ClauseModel]


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "date_type": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time",
    "list_type": "a list",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "bool_type": "true or false",
}


def describe_errors(error: ValidationError, lines: dict[str, int], base_line: int = 0):
    """Yield (line, message, fix) for every schema error, pointing at the offending key."""
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        path = ".".join(loc)
        line = _line_for(loc, lines) + base_line
        kind = item["type"]
        got = item.get("input")
        if kind == "extra_forbidden":
            yield line, f"{path}: unknown key", "remove it or correct its spelling (see README, Document format)"
        elif kind == "missing":
            yield line, f"{path}: required key is missing", f"add `{loc[-1]}:` to the front matter"
        elif kind in _TYPE_WORDS:
            yield line, f"{path}: expected {_TYPE_WORDS[kind]}, got {_shown(got)}", _type_fix(kind, got, loc[-1])
        elif kind == "literal_error":
            yield line, f"{path}: {_shown(got)} is not allowed; {item['msg'].lower()}", "use one of the listed values"
        elif kind == "string_pattern_mismatch":
            yield line, f"{path}: {_shown(got)} has the wrong form", _pattern_fix(loc)
        elif kind in ("string_too_long", "too_long"):
            yield line, f"{path}: too long ({item['msg'].lower()})", "shorten it"
        elif kind in ("string_too_short", "too_short"):
            yield line, f"{path}: must not be empty", "fill it in"
        else:
            yield line, f"{path}: {item['msg']}", "correct the value"


def _line_for(loc: list[str], lines: dict[str, int]) -> int:
    for end in range(len(loc), 0, -1):
        key = ".".join(loc[:end])
        if key in lines:
            return lines[key]
    return 1


def _shown(value) -> str:
    if isinstance(value, bool):
        return f"{value} (YAML reads yes/no/on/off as true/false)"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, (dict, list)):
        return "a " + ("mapping" if isinstance(value, dict) else "list")
    return repr(value)


def _type_fix(kind: str, got, key: str) -> str:
    if kind == "string_type" and isinstance(got, (int, float, bool, dt.date)):
        return f'quote the value so it stays text, e.g. {key}: "..."'
    if kind == "date_type":
        return "write the date unquoted as YYYY-MM-DD"
    if kind == "list_type":
        return f"write a list: {key}: [A, B]"
    return "correct the value's type"


def _pattern_fix(loc: list[str]) -> str:
    if loc[-1] == "revision":
        return 'write the revision as version letter and modification code, e.g. "A/0"'
    if loc[-1] == "fingerprint":
        return "signatures are written by `doccontrol approve`; do not edit them by hand"
    return "correct the value"
