"""The signed record of each document: its ledger judged statement by statement. Pure: no I/O.

A document's ledger is read in order as the life of its revisions:

    submit (编制) → 审核 / 会签 / 批准 → release (发布)      one cycle per revision
    … return (退回) ends a cycle in review; its signatures lapse
    … withdrawal (作废) ends the document

A statement counts only when its signature verifies against a key that the roster in force when
it was made lists for the person it names, that person holds the right for the document's type
and owning department, the policy's separation of duties holds, and it fits the sequence (the
right revision, the same content fingerprint, after what must come before it). Every statement
that does not count is a finding (an error): the document's record is then in doubt, and the
publishing commands hold the document back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .ledger import Entry
from .model import Finding, Revision
from .roster import Chain, Roster, signature_problem
from .signing import Verifier
from .statements import (
    APPROVE,
    COUNTERSIGN,
    RELEASE,
    REVIEW,
    ROLE_LABELS,
    Approval,
    Issue,
    Recall,
    Release,
    Return,
    Submit,
    Withdrawal,
)

# What a statement says of the document it is about; a right is scoped by the type and the owning department.
SCOPE_FIELDS = ("number", "title", "type", "department", "path")
FIX_SCOPE = ("this signature does not count: a signer's rights are judged by the document they sign, not by what "
             "their statement says of it; sign again with doccontrol (approve, release, obsolete), which writes the "
             "document's own values")

FIX_RECORD = "statements are made by doccontrol (submit, approve, release, obsolete) with the signer's own key; " \
             "remove the line only by restoring the ledger from the history"


@dataclass(frozen=True)
class Signed:
    """A statement that counts, with the key that proved it ("" under the unsigned policy)."""

    entry: Entry
    key: str
    roster: Roster

    @property
    def statement(self):
        return self.entry.statement

    @property
    def name(self) -> str:
        return self.entry.statement.name

    @property
    def time(self) -> dt.datetime:
        return self.entry.statement.time


@dataclass
class Cycle:
    """One revision from its submission to its release (or its return)."""

    submit: Signed
    approvals: list[Signed] = field(default_factory=list)
    release: Signed | None = None
    returned: Signed | None = None

    @property
    def revision(self) -> str:
        return self.submit.statement.revision

    @property
    def signed_release(self) -> Signed:
        """The release of a released cycle (every cycle in DocumentRecord.releases has one)."""
        if self.release is None:
            raise ValueError(f"revision {self.revision} was not released")
        return self.release

    @property
    def effective_day(self) -> dt.date:
        """The effective date of a released cycle."""
        return self.signed_release.statement.effective_date

    @property
    def fingerprint(self) -> str:
        return self.submit.statement.fingerprint

    def signatures(self, role: str) -> list[Signed]:
        return [signed for signed in self.approvals if signed.statement.role == role]

    @property
    def effective(self) -> dt.date | None:
        return self.release.statement.effective_date if self.release else None

    @property
    def complete(self) -> bool:
        return bool(self.signatures(REVIEW) and self.signatures(APPROVE))


@dataclass
class Copy:
    """A numbered controlled copy (分发号): to whom it was issued, of which revision, and its return."""

    issued: Signed
    recalled: Signed | None = None

    @property
    def serial(self) -> int:
        return self.issued.statement.serial

    @property
    def revision(self) -> str:
        return self.issued.statement.revision

    @property
    def holder(self) -> str:
        return self.issued.statement.holder


@dataclass
class DocumentRecord:
    number: str
    cycles: list[Cycle] = field(default_factory=list)
    withdrawal: Signed | None = None
    copies: list[Copy] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    signed: int = 0

    def copy(self, serial: int) -> Copy | None:
        return next((c for c in self.copies if c.serial == serial), None)

    @property
    def releases(self) -> list[Cycle]:
        return [cycle for cycle in self.cycles if cycle.release]

    @property
    def open(self) -> Cycle | None:
        """The cycle in review or approved and not yet released, if any."""
        last = self.cycles[-1] if self.cycles else None
        if last and not last.release and not last.returned:
            return last
        return None

    @property
    def latest_release(self) -> Cycle | None:
        releases = self.releases
        return releases[-1] if releases else None

    def released(self, revision: str) -> Cycle | None:
        for cycle in reversed(self.releases):
            if cycle.revision == revision:
                return cycle
        return None

    def in_force(self, as_of: dt.date) -> Cycle | None:
        """The release in force on as_of: the latest whose effective date has come, unless withdrawn by then."""
        if self.withdrawal and self.withdrawal.statement.day <= as_of:
            return None
        current = None
        for cycle in self.releases:
            if cycle.effective_day <= as_of:
                current = cycle
        return current


def judge_document(number: str, entries: list[Entry], chain: Chain, verifier: Verifier) -> DocumentRecord:
    record = DocumentRecord(number)
    judge = _Judge(record, chain, verifier)
    for entry in entries:
        problem = judge.take(entry)
        if problem:
            rule = problem[0]
            if isinstance(entry.statement, (Issue, Recall)) and not rule.startswith("copy-"):
                rule = "copy-" + rule  # the distribution register: never a reason to hold the document back
            fix = FIX_SCOPE if problem[0] == "signature-scope" else FIX_RECORD
            record.findings.append(Finding(entry.path, entry.line, rule, problem[1], fix))
    return record


class _Judge:
    def __init__(self, record: DocumentRecord, chain: Chain, verifier: Verifier):
        self.record = record
        self.chain = chain
        self.verifier = verifier
        self.last_time: dt.datetime | None = None

    def take(self, entry: Entry) -> tuple[str, str] | None:
        statement = entry.statement
        if getattr(statement, "number", None) != self.record.number:
            return "record-subject", f"a statement about {getattr(statement, 'number', statement.kind)} is in the " \
                                     f"ledger of {self.record.number}"
        roster, problem = self._roster(entry)
        if problem:
            return problem
        assert roster is not None
        problem_text = signature_problem(entry, roster, self.verifier)
        if problem_text:
            return "signature-invalid", problem_text
        if not roster.has(statement.name):
            return "signer-roster", f"{statement.name} is not in configuration version {roster.version}"
        if self.last_time and statement.time < self.last_time:
            return "record-time", f"{_what(statement)} is dated {statement.at}, before the statement above it"
        signed = Signed(entry, self._key(entry), roster)
        handler = {Submit: self._submit, Approval: self._approval, Return: self._return,
                   Release: self._release, Withdrawal: self._withdrawal, Issue: self._issue,
                   Recall: self._recall}[type(statement)]
        outcome = handler(signed)
        if outcome is None:
            self.last_time = statement.time
            if entry.signature is not None:
                self.record.signed += 1
        return outcome

    def _key(self, entry: Entry) -> str:
        return self.verifier.key_of(entry.data, entry.signature) if entry.signature else ""

    def _roster(self, entry: Entry) -> tuple[Roster | None, tuple[str, str] | None]:
        statement = entry.statement
        roster = self.chain.version(statement.config)
        if roster is None:
            return None, ("signer-roster", f"{_what(statement)} names configuration version {statement.config}, "
                                           "which is not an approved version")
        successor = self.chain.successor(roster)
        if roster.since and statement.time < roster.since:
            return None, ("record-time", f"{_what(statement)} is dated {statement.at}, before configuration version "
                                         f"{roster.version} (which it names) was approved")
        if successor and successor.since and statement.time > successor.since:
            return None, ("record-time", f"{_what(statement)} is dated {statement.at}, when configuration version "
                                         f"{successor.version} had replaced version {roster.version} (which it names)")
        return roster, None

    # -- the sequence ------------------------------------------------------------------------------

    def _submit(self, signed: Signed) -> tuple[str, str] | None:
        statement: Submit = signed.statement
        record = self.record
        if record.withdrawal:
            return "record-order", f"{_what(statement)} comes after the document was withdrawn"
        if record.open:
            return "record-order", f"{_what(statement)} comes while {record.open.revision} is still in review; " \
                                   "it must be returned first"
        latest = record.latest_release
        if latest:
            if not _follows(statement.revision, latest.revision, signed.roster.model.max_modification):
                return "record-order", f"{_what(statement)}: {statement.revision} does not follow the released " \
                                       f"{latest.revision}"
            expected = (latest.revision, latest.fingerprint)
            if statement.base is None or (statement.base.revision, statement.base.fingerprint) != expected:
                return "record-order", f"{_what(statement)} was not compared with the released {latest.revision}"
        elif statement.base is not None:
            return "record-order", f"{_what(statement)} names a base revision, but none was released"
        record.cycles.append(Cycle(signed))
        return None

    def _open_cycle_for(self, statement) -> tuple[Cycle | None, tuple[str, str] | None]:
        """The revision in review the statement acts on, or why it cannot: out of order, or about another
        document than the one submitted."""
        cycle = self.record.open
        problem = _fits(cycle, statement)
        if problem:
            return None, ("record-order", problem)
        assert cycle is not None
        return cycle, _scope_of_cycle(cycle, statement)

    def _approval(self, signed: Signed) -> tuple[str, str] | None:
        statement: Approval = signed.statement
        cycle, problem = self._open_cycle_for(statement)
        if problem:
            return problem
        assert cycle is not None
        if (statement.base.model_dump() if statement.base else None) != \
                (cycle.submit.statement.base.model_dump() if cycle.submit.statement.base else None):
            return "record-order", f"{_what(statement)} was compared with another base than the submission"
        role, roster, name = statement.role, signed.roster, statement.name
        label = ROLE_LABELS[role]
        if not roster.may(name, role, statement.type, statement.department):
            holders = ", ".join(roster.holders(role, statement.type, statement.department)) or "nobody"
            return "signer-role", f"{name} may not sign {label} for a {statement.type} of {statement.department} " \
                                  f"(in configuration version {roster.version}: {holders})"
        policy = roster.model.policy
        if not policy.preparer_may_sign and name == cycle.submit.name:
            return "self-approval", f"{name} prepared {statement.revision} and signed it as {label}"
        if any(s.name == name and s.statement.role == role for s in cycle.approvals):
            return "record-order", f"{name} already signed {label} for {statement.revision}"
        if role == APPROVE and not cycle.signatures(REVIEW):
            return "record-order", f"{_what(statement)} comes before any 审核"
        if not policy.one_person_may_review_and_approve and role in (REVIEW, APPROVE):
            other = APPROVE if role == REVIEW else REVIEW
            if any(s.name == name for s in cycle.signatures(other)):
                return "separation", f"{name} signed both 审核 and 批准 of {statement.revision}"
        if role == REVIEW and cycle.signatures(APPROVE):
            return "record-order", f"{_what(statement)} comes after 批准"
        cycle.approvals.append(signed)
        return None

    def _return(self, signed: Signed) -> tuple[str, str] | None:
        statement: Return = signed.statement
        cycle, problem = self._open_cycle_for(statement)
        if problem:
            return problem
        assert cycle is not None
        roster = signed.roster
        allowed = statement.name == cycle.submit.name or any(
            roster.may(statement.name, role, statement.type, statement.department) for role in (REVIEW, APPROVE))
        if not allowed:
            return "signer-role", f"{statement.name} may not return {statement.number}: neither its preparer nor " \
                                  "a reviewer or approver of it"
        cycle.returned = signed
        return None

    def _release(self, signed: Signed) -> tuple[str, str] | None:
        statement: Release = signed.statement
        cycle, problem = self._open_cycle_for(statement)
        if problem:
            return problem
        assert cycle is not None
        roster = signed.roster
        if not roster.may(statement.name, RELEASE, statement.type, statement.department):
            holders = ", ".join(roster.holders(RELEASE, statement.type, statement.department)) or "nobody"
            return "signer-role", f"{statement.name} may not release a {statement.type} ({holders} may)"
        missing = [ROLE_LABELS[role] for role in (REVIEW, APPROVE) if not cycle.signatures(role)]
        signed_departments = {s.roster.department_of(s.name) for s in cycle.signatures(COUNTERSIGN)}
        missing += [f"会签 of {department}" for department in roster.countersigning_departments(statement.type)
                    if department not in signed_departments]
        if missing:
            return "approval-missing", f"{_what(statement)} lacks " + ", ".join(missing)
        approved = max(s.time for s in cycle.approvals)
        effective = statement.effective_date
        if effective < statement.time.date():
            return "date-order", f"{_what(statement)} makes it effective on {effective}, before the release itself " \
                                 f"({statement.time.date()})"
        if effective < approved.date():
            return "date-order", f"{_what(statement)}: effective date {effective} is before the approval on " \
                                 f"{approved.date()}"
        cycle.release = signed
        return None

    def _withdrawal(self, signed: Signed) -> tuple[str, str] | None:
        statement: Withdrawal = signed.statement
        record = self.record
        latest = record.latest_release
        if record.withdrawal:
            return "record-order", f"{statement.number} is already withdrawn"
        legacy = not record.cycles  # released before the signed record began: its withdrawal is recorded now
        if not legacy and (latest is None or (latest.revision, latest.fingerprint) !=
                           (statement.revision, statement.fingerprint)):
            return "record-order", f"{_what(statement)} does not name the released revision and content"
        if not legacy and latest is not None:
            scope = _scope_of_cycle(latest, statement)
            if scope:
                return scope
        if not signed.roster.may(statement.name, APPROVE, statement.type, statement.department):
            return "signer-role", f"{statement.name} may not withdraw a {statement.type} (withdrawal needs 批准 " \
                                  "authority)"
        if statement.day < statement.time.date():
            return "date-order", f"{_what(statement)} is dated back to {statement.day}"
        record.withdrawal = signed
        return None


    def _issue(self, signed: Signed) -> tuple[str, str] | None:
        statement: Issue = signed.statement
        record = self.record
        roster = signed.roster
        if not roster.may(statement.name, RELEASE, statement.type, statement.department):
            return "signer-role", f"{statement.name} may not issue controlled copies of a {statement.type} (the " \
                                  "document controller, who releases, issues them)"
        cycle = record.released(statement.revision)
        if cycle is None or cycle.fingerprint != statement.fingerprint:
            return "record-order", f"copy {statement.serial} of {statement.number} is of {statement.revision}, " \
                                   "which is not a released revision with that content"
        scope = _scope_of_cycle(cycle, statement)
        if scope:
            return scope
        if record.withdrawal and record.withdrawal.time <= statement.time:
            return "record-order", f"copy {statement.serial} of {statement.number} was issued after its withdrawal"
        expected = max((c.serial for c in record.copies), default=0) + 1
        if statement.serial != expected:
            return "copy-serial", f"copy number {statement.serial} of {statement.number} is used again or out of " \
                                  f"order (the next is {expected}); a copy number is never reused"
        if roster.model.holders and statement.holder not in roster.model.holders:
            return "copy-holder", f"{statement.holder} is not a holder in configuration version {roster.version}"
        record.copies.append(Copy(signed))
        return None

    def _recall(self, signed: Signed) -> tuple[str, str] | None:
        statement: Recall = signed.statement
        if not signed.roster.may(statement.name, RELEASE, statement.type, statement.department):
            return "signer-role", f"{statement.name} may not record the return of controlled copies"
        copy = self.record.copy(statement.serial)
        if copy is None or copy.revision != statement.revision:
            return "record-order", (f"copy {statement.serial} of {statement.number} {statement.revision} "
                                    "was never issued")
        problem = scope_mismatch(statement, copy.issued.statement, "as the copy was issued")
        if problem:
            return "signature-scope", problem
        if copy.recalled is not None:
            return "record-order", f"copy {statement.serial} of {statement.number} was already returned"
        copy.recalled = signed
        return None


def scope_mismatch(statement, actual, source: str, fields: tuple[str, ...] = SCOPE_FIELDS) -> str | None:
    """How a statement misdescribes the document it is about (actual: an object with the SCOPE_FIELDS, such as the
    submission of the revision or the document itself; source says which), if it does."""
    for name in fields:
        said, true = getattr(statement, name), getattr(actual, name)
        if said != true:
            return (f"{_what(statement)} gives the document's {name} as {said}, but it is {true} ({source}); "
                    "rights are judged by the document itself")
    return None


def _fits(cycle: Cycle | None, statement) -> str | None:
    if cycle is None:
        return f"{_what(statement)} has no revision in review to belong to"
    if (cycle.revision, cycle.fingerprint) != (statement.revision, statement.fingerprint):
        if cycle.revision == statement.revision:
            return f"{_what(statement)} is for other content than was submitted (the text changed in between)"
        return f"{_what(statement)} is for {statement.revision}, but {cycle.revision} is in review"
    return None


def _scope_of_cycle(cycle: Cycle, statement) -> tuple[str, str] | None:
    problem = scope_mismatch(statement, cycle.submit.statement, f"as submitted for {cycle.revision}")
    return ("signature-scope", problem) if problem else None


def _follows(later: str, earlier: str, max_modification: int) -> bool:
    return Revision.parse(later).follows(Revision.parse(earlier), max_modification=max_modification)


def _what(statement) -> str:
    kind = statement.kind
    label = ROLE_LABELS[statement.role] if kind == "approval" else {
        "submit": "submission", "return": "return", "release": "release", "withdrawal": "withdrawal",
        "issue": "issue of a controlled copy", "recall": "return of a controlled copy"}.get(kind, kind)
    return f"the {label} of {getattr(statement, 'number', '')} {getattr(statement, 'revision', '')} by {statement.name}"
