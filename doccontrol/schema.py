"""Typed schemas for front matter and configuration, and their error messages.

Strict pydantic models: an unknown key is an error, and a value of the wrong type
is an error rather than a silent conversion (YAML 1.1 reads `03` as 3, `NO` as False).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .model import STATUSES
from .statements import identity_key, lookalike_character, unsafe_character

Text = Annotated[str, Field(min_length=1, max_length=400)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
# ASCII only: pydantic's regex engine reads \d as any Unicode digit (A/０, A/٣).
RevisionText = Annotated[str, Field(pattern=r"^[A-Z]/[0-9]$")]
# Dates a document can really carry; beyond them date arithmetic (next review) would overflow.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY)]
# A document type: the five built in, or any a company configures (policy, plan, report …).
DocType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,30}$")]
Status = Literal[STATUSES]  # type: ignore[valid-type]
RoleId = Literal["review", "countersign", "approve", "release"]
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")


def _plain_line(value: str) -> str:
    problem = unsafe_character(value)
    if problem:
        raise PydanticCustomError("value_error", "contains {problem}; write it on one line in plain characters",
                                  {"problem": problem})
    if value != value.strip():
        raise PydanticCustomError("value_error", "starts or ends with a space", {})
    return value


def _plain_identity(value: str) -> str:
    """A name, department or holder: one plain line, no character that hides or imitates another."""
    _plain_line(value)
    problem = lookalike_character(value)
    if problem:
        raise PydanticCustomError("value_error", "contains {problem}", {"problem": problem})
    return value


Name = Annotated[str, Field(min_length=1, max_length=60)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PreparedModel(_Strict):
    """编制: who prepared this revision, and when."""

    name: Text
    date: Day


class HistoryRowModel(_Strict):
    """One row of the revision record (修订记录)."""

    revision: RevisionText
    date: Day
    section: Text
    summary: LongText
    by: Text
    approved_by: Text | None = None
    # A row written by `doccontrol import` from what another system said: a legacy record, never a signature.
    imported: bool = False


class FrontMatter(_Strict):
    """The metadata block at the top of every controlled document.

    Signatures are not here: they are statements in the ledger (signatures/NUMBER.jsonl).
    """

    number: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    type: DocType
    department: Text
    revision: RevisionText
    status: Status
    source: Text | None = None
    prepared: PreparedModel
    effective: Day | None = None
    review_months: Annotated[int, Field(ge=1, le=120)] | None = None
    next_review: Day | None = None
    retention: Text | None = None
    orientation: Literal["portrait", "landscape"] | None = None
    references: list[Annotated[str, Field(min_length=1, max_length=40)]] = []
    clauses: list[Annotated[str, Field(min_length=1, max_length=40)]] = []
    superseded_by: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    obsolete_reason: LongText | None = None
    history: Annotated[list[HistoryRowModel], Field(min_length=1)]

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        return _plain_identity(value)


class TypeConfig(_Strict):
    """How documents of one type are numbered and where they live."""

    label: Text
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,6}$")]
    department: Annotated[str, Field(pattern=r"^[A-Z]{1,6}$")] | None = None  # QP-SH-001; without: SOP-001
    width: Annotated[int, Field(ge=1, le=6)]
    folder: Text
    template: Text | None = None  # a Markdown file in the repository for `new` (a custom type's own template)
    multi_file: bool = False  # a folder with index.md and chapter files, like the manual

    @property
    def scheme(self) -> str:
        """The fixed part of the type's numbers: QP-SH-, or SOP- without a department segment."""
        return f"{self.prefix}-{self.department}-" if self.department else f"{self.prefix}-"

    @field_validator("template")
    @classmethod
    def _template_inside(cls, value: str | None) -> str | None:
        return value if value is None else _inside_repository(value)

    @field_validator("folder")
    @classmethod
    def _relative(cls, value: str) -> str:
        return _inside_repository(value).rstrip("/")


def _inside_repository(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
        raise ValueError(f"{value!r} is not a path inside the repository")
    return value


class PersonConfig(_Strict):
    """A person on the roster: position, department, public keys, and what they may sign.

    rights maps a role (review 审核, countersign 会签, approve 批准, release 发布) to the document
    types the person may sign in it; `procedure@售后服务部` limits a right to one department's
    documents. configure: may approve a new version of the configuration (this roster included).
    """

    position: Text
    department: Text | None = None
    keys: list[Annotated[str, Field(min_length=20, max_length=2000)]] = []
    rights: dict[RoleId, list[Annotated[str, Field(min_length=1, max_length=80)]]] = {}
    configure: bool = False

    @field_validator("position")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return value if value is None else _plain_line(value)

    @field_validator("department")
    @classmethod
    def _department(cls, value: str | None) -> str | None:
        return value if value is None else _plain_identity(value)

    @field_validator("keys")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        from .signing import PublicKey

        for index, key in enumerate(keys):
            try:
                PublicKey.parse(key)
            except ValueError as error:
                raise PydanticCustomError("value_error", "key {index}: {error}",
                                          {"index": index + 1, "error": str(error), "at": index}) from None
        return keys

    @field_validator("rights")
    @classmethod
    def _scopes(cls, rights: dict) -> dict:
        for role, scopes in rights.items():
            for index, scope in enumerate(scopes):
                doc_type, at, department = scope.partition("@")
                if not _TYPE_NAME.fullmatch(doc_type) or (at and not department.strip()):
                    raise PydanticCustomError(
                        "value_error", "{role}: '{scope}' is not a document type (optionally @department)",
                        {"role": role, "scope": scope, "at": f"{role}.{index}"})
                problem = lookalike_character(department)
                if problem:
                    raise PydanticCustomError("value_error", "{role}: the department in '{scope}' contains {problem}",
                                              {"role": role, "scope": scope, "problem": problem,
                                               "at": f"{role}.{index}"})
        return rights


class PolicyConfig(_Strict):
    """Rules for signatures that the roster alone does not express."""

    signatures: Literal["required", "unsigned"] = "required"
    preparer_may_sign: bool = False
    one_person_may_review_and_approve: bool = False
    countersign: dict[DocType, list[Text]] = {}
    backdating_hours: Annotated[int, Field(ge=1, le=720)] = 24
    recall_days: Annotated[int, Field(ge=1, le=90)] = 3


class ConfigModel(_Strict):
    """doccontrol.yml: the one place for company, numbering, people and clauses."""

    company: Text
    system: Text = "管理体系"
    locale: Literal["zh", "en"] = "zh"
    clause_catalogue: Text = "clauses.yml"
    default_review_months: Annotated[int, Field(ge=1, le=120)] = 12
    max_modification: Annotated[int, Field(ge=1, le=99)] = 9
    types: dict[DocType, TypeConfig]
    people: dict[Name, PersonConfig]
    policy: PolicyConfig = PolicyConfig()
    holders: list[Annotated[str, Field(min_length=1, max_length=100)]] = []

    @field_validator("holders")
    @classmethod
    def _holders(cls, holders: list[str]) -> list[str]:
        for index, holder in enumerate(holders):
            try:
                _plain_identity(holder)
            except PydanticCustomError as error:
                raise PydanticCustomError("value_error", "holder {index}: {problem}",
                                          {"index": index + 1, "problem": error.message(), "at": index}) from None
        if len(set(holders)) != len(holders):
            raise PydanticCustomError("value_error", "a holder is listed twice", {})
        return holders

    @field_validator("company", "system")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _plain_line(value)

    @field_validator("people")
    @classmethod
    def _people(cls, people: dict) -> dict:
        from .signing import PublicKey

        owners: dict[str, str] = {}
        read_as: dict[str, str] = {}
        for name, person in people.items():
            try:
                _plain_identity(name)
            except PydanticCustomError as error:
                raise PydanticCustomError("value_error", "name '{name}' {problem}",
                                          {"name": name, "problem": error.message(), "at": name}) from None
            key = identity_key(name)
            if key in read_as:
                raise PydanticCustomError("value_error", "'{first}' and '{second}' read as the same name; each "
                                          "person on the roster needs a name of their own",
                                          {"first": read_as[key], "second": name, "at": name})
            read_as[key] = name
            for key in person.keys:
                fingerprint = PublicKey.parse(key).fingerprint
                if fingerprint in owners:
                    raise PydanticCustomError("value_error", "{first} and {second} list the same key {key}; a key "
                                              "belongs to one person", {"first": owners[fingerprint],
                                                                        "second": name, "key": fingerprint, "at": name})
                owners[fingerprint] = name
        return people

    @model_validator(mode="after")
    def _known_types(self) -> ConfigModel:
        for name, person in self.people.items():
            for role, scopes in person.rights.items():
                for index, scope in enumerate(scopes):
                    if scope.partition("@")[0] not in self.types:
                        raise PydanticCustomError(
                            "value_error", "'{scope}' is not a configured type ({types})",
                            {"name": name, "role": role, "scope": scope, "types": ", ".join(self.types),
                             "at": f"people.{name}.rights.{role}.{index}"})
        for doc_type in self.policy.countersign:
            if doc_type not in self.types:
                raise PydanticCustomError("value_error", "policy.countersign: '{type}' is not a configured type",
                                          {"type": doc_type, "at": "policy.countersign"})
        return self

    @field_validator("clause_catalogue")
    @classmethod
    def _catalogue_inside(cls, value: str) -> str:
        return _inside_repository(value)

    @field_validator("types")
    @classmethod
    def _distinct_numbering(cls, types: dict) -> dict:
        seen: dict[str, str] = {}
        for name, spec in types.items():
            scheme = spec.scheme
            if scheme in seen:
                raise PydanticCustomError("value_error", "{first} and {second} are both numbered {scheme}, so their "
                                          "numbers would collide", {"first": seen[scheme], "second": name,
                                                                    "scheme": scheme, "at": name})
            seen[scheme] = name
        return types


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
        loc = [str(part) for part in item["loc"] if part != "[key]"]
        path = ".".join(loc) or ".".join(_pointed_at(item))
        line = _line_for(loc + _pointed_at(item), lines) + base_line
        kind = item["type"]
        got = item.get("input")
        key = loc[-1] if loc else "value"
        readme = "Document format" if base_line else "Configuration"
        if kind == "extra_forbidden" and key in _MOVED_KEYS:
            yield line, f"{path}: {_MOVED_KEYS[key][0]}", _MOVED_KEYS[key][1]
        elif kind == "extra_forbidden":
            close = difflib.get_close_matches(key, _known_keys(), n=1, cutoff=0.7)
            fix = f"correct its spelling to `{close[0]}`, or remove it" if close else \
                f"remove it or correct its spelling (see README, {readme})"
            yield line, f"{path}: unknown key", fix
        elif kind == "missing":
            yield line, f"{path}: required key is missing", f"add `{key}:` {_parent(loc, base_line)}"
        elif kind in _TYPE_WORDS and got is None:
            yield line, f"{path}: the value is empty (expected {_TYPE_WORDS[kind]})", f"write a value after `{key}:`"
        elif kind in _TYPE_WORDS:
            yield line, f"{path}: expected {_TYPE_WORDS[kind]}, got {_shown(got)}", _type_fix(kind, got, key)
        elif kind == "literal_error":
            yield line, f"{path}: {_shown(got)} is not allowed; {item['msg'].lower()}", "use one of the listed values"
        elif kind == "string_pattern_mismatch":
            yield line, f"{path}: {_shown(got)} has the wrong form", _pattern_fix(loc)
        elif kind in ("string_too_long", "too_long"):
            yield line, f"{path}: too long ({item['msg'].lower()})", "shorten it"
        elif kind in ("string_too_short", "too_short"):
            yield line, f"{path}: must not be empty", "fill it in"
        elif kind in ("greater_than_equal", "less_than_equal") and isinstance(got, dt.date):
            yield line, f"{path}: {_shown(got)} is out of range", \
                f"write a real date between {FIRST_DAY} and {LAST_DAY}"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            low, high = _RANGES.get(key, (None, None))
            if low is not None:
                fix = f"use a number from {low} to {high}"
            else:
                fix = f"use a number that is {item['msg'][16:]}"
            yield line, f"{path}: {_shown(got)} is out of range", fix
        elif kind == "value_error":
            yield line, f"{path}: {str(item['msg']).removeprefix('Value error, ')}", _value_fix(key)
        else:
            yield line, f"{path}: {item['msg']}", f"correct the value (see README, {readme})"


_MOVED_KEYS = {
    "approvals": ("signatures are no longer kept in the front matter",
                  "remove `approvals:`; signatures are signed statements in signatures/NUMBER.jsonl, made by "
                  "`doccontrol approve` with the signer's own key"),
    "sign": ("`sign:` was replaced by `rights:` and `keys:`",
             "write `rights: {review: [procedure, form], approve: [...]}` and list the person's SSH public keys "
             "under `keys:` (see README, Configuration)"),
}


def _parent(loc: list[str], base_line: int) -> str:
    """Where a missing key goes: `under prepared:`, `to row 1 of history:`, `to the front matter`."""
    if len(loc) >= 3 and loc[-2].isdigit():
        return f"to row {int(loc[-2]) + 1} of `{loc[-3]}:`"
    if len(loc) >= 2:
        return f"under `{loc[-2]}:`"
    return "to the front matter" if base_line else "to the file"


_RANGES = {"review_months": (1, 120), "default_review_months": (1, 120), "max_modification": (1, 99), "width": (1, 6)}


def _known_keys() -> list[str]:
    models = (FrontMatter, PreparedModel, HistoryRowModel, ConfigModel, TypeConfig,
              PersonConfig, PolicyConfig, ClauseModel, CatalogueModel)
    return sorted({name for model in models for name in model.model_fields})


def _value_fix(key: str) -> str:
    if key in ("folder", "clause_catalogue"):
        return "write a path relative to the repository root, without .. or a leading / (e.g. procedures)"
    if key == "types":
        return "give each type its own prefix (or department) in doccontrol.yml"
    return "correct the value (see README, Configuration)"


def _pointed_at(item: Mapping[str, Any]) -> list[str]:
    """The key below the error's location that a validator named as the culprit (ctx "at"), if any."""
    at = (item.get("ctx") or {}).get("at")
    return [str(at)] if at is not None else []


def _line_for(loc: list[str], lines: dict[str, int]) -> int:
    for end in range(len(loc), 0, -1):
        key = ".".join(loc[:end])
        if key in lines:
            return lines[key]
    return 1


def _shown(value) -> str:
    if isinstance(value, bool):
        return f"{value} (YAML reads yes/no/on/off as true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat(sep=' ')}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, (dict, list)):
        return "a " + ("mapping" if isinstance(value, dict) else "list")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…'"


def _type_fix(kind: str, got, key: str) -> str:
    if kind == "string_type" and isinstance(got, (int, float, bool, dt.date)):
        return f'quote the value so it stays text, e.g. {key}: "..."'
    if kind == "date_type":
        return "write the date unquoted as YYYY-MM-DD"
    if kind == "datetime_type":
        return "signatures are written by `doccontrol approve`; do not edit them by hand"
    if kind == "list_type":
        return f"write a list: {key}: [A, B]"
    if kind == "int_type":
        low, high = _RANGES.get(key, (None, None))
        return "write a whole number without quotes" + (f", from {low} to {high}" if low is not None else "")
    if kind == "bool_type":
        return f"write true or false without quotes, e.g. {key}: true"
    if kind in ("dict_type", "model_type"):
        return f"write `{key}:` followed by indented `key: value` lines"
    if kind == "string_type":
        return f'write the text after `{key}:`, in quotes if YAML would read it otherwise'
    return "correct the value's type"


def _pattern_fix(loc: list[str]) -> str:
    if loc[-1] == "revision":
        return 'write the revision as version letter and modification code, e.g. "A/0"'
    if loc[-1] == "fingerprint":
        return "signatures are written by `doccontrol approve`; do not edit them by hand"
    if loc[-1] in ("prefix", "department"):
        return "use 1 to 4 capital letters A-Z, e.g. QP or SH"
    return "correct the value (see README)"
