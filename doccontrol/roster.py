"""Who may sign what, and when: the roster of each approved configuration version.

The configuration (doccontrol.yml and the clause catalogue) is controlled like a document.
Each version is a signed statement in signatures/configuration.jsonl holding the whole
configuration. Version 1 is the trust anchor: signed by a person it lists with the right to
change the configuration; its fingerprint is what an auditor compares with a paper record.
Every later version counts only when signed by a person whom the version before it allows to
change the configuration, so adding yourself to doccontrol.yml gains you nothing, and each
signature is judged against the roster as it was when it was made: a person who leaves keeps
their past signatures valid.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .ledger import Entry
from .model import Finding
from .schema import CatalogueModel, ConfigModel, describe_errors
from .signing import InvalidSignature, PublicKey, Verifier
from .statements import Configuration, content_fingerprint

FIX_CONFIG = "approve configuration changes with `doccontrol config approve`, signed by a person allowed to"


@dataclass(frozen=True)
class Roster:
    """The people, keys, rights and policy of one configuration version."""

    version: int
    fingerprint: str
    model: ConfigModel
    since: dt.datetime | None = None  # when this version was approved

    @property
    def unsigned(self) -> bool:
        return self.model.policy.signatures == "unsigned"

    @functools.cached_property
    def _keys(self) -> dict[str, dict[str, PublicKey]]:
        found = {}
        for name, person in self.model.people.items():
            keys = [PublicKey.parse(line) for line in person.keys]
            found[name] = {key.fingerprint: key for key in keys}
        return found

    def keys(self, name: str) -> dict[str, PublicKey]:
        return self._keys.get(name, {})

    def owner_of(self, fingerprint: str) -> str | None:
        for name, keys in self._keys.items():
            if fingerprint in keys:
                return name
        return None

    def has(self, name: str) -> bool:
        return name in self.model.people

    def department_of(self, name: str) -> str:
        person = self.model.people.get(name)
        return (person.department or "") if person else ""

    def position_of(self, name: str) -> str:
        person = self.model.people.get(name)
        return person.position if person else ""

    def may(self, name: str, role: str, doc_type: str, department: str) -> bool:
        """Whether name holds role (review, countersign, approve, release) for this type and owning department."""
        person = self.model.people.get(name)
        if person is None:
            return False
        for scope in person.rights.get(role, []):  # type: ignore[call-overload]
            scope_type, _, scope_department = scope.partition("@")
            if scope_type == doc_type and (not scope_department or scope_department == department):
                return True
        return False

    def may_configure(self, name: str) -> bool:
        person = self.model.people.get(name)
        return bool(person and person.configure)

    def holders(self, role: str, doc_type: str, department: str) -> list[str]:
        return [name for name in self.model.people if self.may(name, role, doc_type, department)]

    def countersigning_departments(self, doc_type: str) -> list[str]:
        return list(self.model.policy.countersign.get(doc_type, []))  # type: ignore[call-overload]


def configuration_content(model: ConfigModel, catalogue: CatalogueModel, site: dict | None = None) -> dict:
    """The configuration as a statement holds it: the files' validated values, in JSON form (the site options
    with the sha256 of the logo they name)."""
    content = {"doccontrol": model.model_dump(mode="json"), "clauses": catalogue.model_dump(mode="json")}
    if site is not None:
        content["site"] = site
    return content


def roster_of(content: dict, version: int = 0, since: dt.datetime | None = None) -> Roster:
    """The roster in a configuration content; ValueError when the content is not a valid configuration."""
    from .site_options import site_options_of

    model = ConfigModel.model_validate(content.get("doccontrol"))
    CatalogueModel.model_validate(content.get("clauses"))
    if "site" in content:
        site_options_of(content["site"])
    return Roster(version, content_fingerprint(content), model, since)


@dataclass
class Chain:
    """The valid configuration versions, oldest first, and what was wrong with the others."""

    versions: list[Roster] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    signed: int = 0  # signatures verified cryptographically

    @property
    def anchor(self) -> Roster | None:
        return self.versions[0] if self.versions else None

    @property
    def latest(self) -> Roster | None:
        return self.versions[-1] if self.versions else None

    def latest_content(self) -> dict[str, Any]:
        """The content of the version approved last (the chain holds configuration statements only)."""
        statement = self.entries[-1].statement
        assert isinstance(statement, Configuration)
        return statement.content

    def version(self, number: int) -> Roster | None:
        if 1 <= number <= len(self.versions):
            return self.versions[number - 1]
        return None

    def in_force_at(self, moment: dt.datetime) -> Roster | None:
        """The version approved last on or before moment."""
        found = None
        for roster in self.versions:
            if roster.since is not None and roster.since <= moment:
                found = roster
        return found

    def successor(self, roster: Roster) -> Roster | None:
        return self.version(roster.version + 1)


def build_chain(entries: list[Entry], verifier: Verifier) -> Chain:
    """Judge every configuration statement in ledger order; the valid ones form the chain."""
    chain = Chain()
    for entry in entries:
        problem = _judge(entry, chain, verifier)
        if problem:
            chain.findings.append(Finding(entry.path, entry.line, "configuration-record", problem, FIX_CONFIG))
    return chain


def _judge(entry: Entry, chain: Chain, verifier: Verifier) -> str | None:
    statement = entry.statement
    if not isinstance(statement, Configuration):
        return f"a {statement.kind} statement does not belong in the configuration ledger"
    if content_fingerprint(statement.content) != statement.fingerprint:
        return f"configuration version {statement.version}: its fingerprint does not match its content"
    try:
        new = roster_of(statement.content, statement.version, statement.time)
    except ValidationError as error:
        line, message, _ = next(describe_errors(error, {}))
        return f"configuration version {statement.version} is not a valid configuration ({message})"
    latest = chain.latest
    expected = latest.version + 1 if latest else 1
    if statement.version != expected:
        return (f"configuration version {statement.version} does not follow version {expected - 1}"
                if statement.version > expected else f"configuration version {statement.version} is signed again "
                                                       "or was replaced; only the first valid one counts")
    if statement.previous != (latest.fingerprint if latest else None):
        return f"configuration version {statement.version} names a previous version that is not version {expected - 1}"
    judge = latest or new  # the anchor is judged by itself
    if statement.config != judge.version and latest is not None:
        return f"configuration version {statement.version} claims to be approved under version {statement.config}"
    if latest is not None and latest.since and statement.time < latest.since:
        return f"configuration version {statement.version} is dated before version {latest.version}"
    if not judge.may_configure(statement.name):
        where = "in itself" if latest is None else f"in version {latest.version}"
        return f"{statement.name} may not approve the configuration ({where} they have no `configure: true`)"
    problem = signature_problem(entry, judge, verifier)
    if problem:
        return problem
    if entry.signature is not None:
        chain.signed += 1
    chain.versions.append(new)
    chain.entries.append(entry)
    return None


def signature_problem(entry: Entry, roster: Roster, verifier: Verifier) -> str | None:
    """Why the entry's signature does not prove that its signer made it under roster; None when it does."""
    name = entry.statement.name
    if entry.signature is None:
        if roster.unsigned:
            return None
        return f"the statement by {name} is not signed (the policy requires signatures)"
    try:
        fingerprint = verifier.key_of(entry.data, entry.signature)
    except InvalidSignature:
        return f"the signature of {name} does not verify: the statement was changed after signing, or forged"
    if fingerprint not in roster.keys(name):
        owner = roster.owner_of(fingerprint)
        made_by = f"{owner}'s key" if owner else "a key the roster does not list"
        return f"the statement names {name} but was signed with {made_by} ({fingerprint[:19]}…)"
    return None
