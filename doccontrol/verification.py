"""The one judgement of the signed record, used by every command that checks or publishes.

`evaluate` judges the ledgers (the configuration chain first, then each document's ledger).
`compare_documents` holds each document file against its record: its status, content and
effective date must be what the signed statements say, and it gets the signatures that count.
Pure: the callers read the ledgers and documents (from the working tree or from a commit).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import parallel
from .ledger import CONFIGURATION, Ledger, packed, parse_ledger, parse_packed, subject_of, unpacked
from .model import Document, Finding, Severity, Signature, fingerprint
from .record import FIX_SCOPE, Cycle, DocumentRecord, Signed, judge_document, scope_mismatch
from .roster import Chain, Roster, build_chain
from .signing import Verifier, short_fingerprint
from .statements import APPROVE

WARN = Severity.WARNING
FIX_NO_ANCHOR = ("approve the configuration once with `doccontrol config approve --key KEY` (by a person with "
                 "`configure: true`); that first version is the trust anchor")


@dataclass
class Evaluation:
    """The configuration chain, every document's record, and every problem with either."""

    chain: Chain
    records: dict[str, DocumentRecord] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def signatures_verified(self) -> int:
        return self.chain.signed + sum(record.signed for record in self.records.values())

    def record(self, number: str) -> DocumentRecord:
        return self.records.get(number) or DocumentRecord(number)

    def doubtful(self, number: str) -> list[Finding]:
        """The errors in a document's record that put its text in doubt (the publishing commands hold such a
        document back); a problem in its distribution register does not."""
        return [f for f in self.records.get(number, DocumentRecord(number)).findings
                if f.severity is Severity.ERROR and not f.rule.startswith("copy-")]

    @property
    def unsigned(self) -> bool:
        latest = self.chain.latest
        return bool(latest and latest.unsigned)


def evaluate(ledgers: dict[str, bytes], verifier: Verifier, cache=None, judged=None) -> Evaluation:
    """Judge the ledger files (repository path → bytes); with a `cache.LedgerCache`, a ledger read before is
    not parsed again, and with a `cache.JudgedRecords`, a ledger judged before is not judged again, nor its
    signatures verified (the caller saves both)."""
    parsed = parse_ledgers(ledgers, cache)
    verifier.verify_all(signed_entries({path: ledger for path, ledger in parsed.items()
                                        if judged is None or not judged.known(path)}))
    return judge_ledgers(parsed, verifier, judged)


def parse_ledgers(ledgers: dict[str, bytes], cache=None) -> dict[str, Ledger]:
    """The ledger files parsed, in path order (with a `cache.LedgerCache`, a ledger read before is taken from it)."""
    return ParsingLedgers(ledgers, cache).result()


LEDGERS_PER_WORKER = 500


class ParsingLedgers:
    """`parse_ledgers` started: when thousands of ledgers are not in the cache (a cold proof, a fresh clone's first
    build), worker processes parse them while the caller goes on; `result` gives what parse_ledgers would."""

    def __init__(self, ledgers: dict[str, bytes], cache=None):
        self.items = sorted(ledgers.items())
        self.cache = cache
        self.found: dict[str, Ledger] = {}
        if cache is not None:
            self.found = {path: ledger for path, raw in self.items if (ledger := cache.get(path, raw)) is not None}
        self.todo = [(path, raw) for path, raw in self.items if path not in self.found]
        workers = parallel.worker_count(len(self.todo), LEDGERS_PER_WORKER)
        self.shared = parallel.Shared(parse_packed, self.todo, workers) if workers > 1 else None

    def abort(self) -> None:
        """Stop the workers, their work unfinished (the caller failed meanwhile)."""
        if self.shared is not None:
            self.shared.abort()
            self.shared = None

    def result(self) -> dict[str, Ledger]:
        stored = self.shared.results() if self.shared is not None else None
        self.shared = None
        for index, (path, raw) in enumerate(self.todo):
            if stored is not None:
                ledger = unpacked(path, raw, stored[index])
            else:
                ledger = parse_ledger(path, raw)
            if self.cache is not None:
                self.cache.keep(path, raw, stored[index] if stored is not None else packed(ledger))
            self.found[path] = ledger
        self.todo = []
        return {path: self.found[path] for path, _ in self.items}


def signed_entries(parsed: dict[str, Ledger]) -> list[tuple[bytes, str]]:
    """The signed bytes and the signature of every signed entry (what `Verifier.verify_all` checks at once)."""
    return [(entry.data, entry.signature) for ledger in parsed.values() for entry in ledger.entries
            if entry.signature is not None]


def judge_ledgers(parsed: dict[str, Ledger], verifier: Verifier, judged=None) -> Evaluation:
    """The configuration chain, then each document's record, from parsed ledgers (every signature is checked
    here, through the verifier: what it verified before is known to it). judged: a `cache.JudgedRecords`, whose
    record of a ledger judged before (the same bytes, roster chain, code and day) is taken instead of judging it."""
    parsed = dict(parsed)
    config_ledger = parsed.pop(f"signatures/{CONFIGURATION}.jsonl", None)
    chain = build_chain(config_ledger.entries if config_ledger else [], verifier)
    evaluation = Evaluation(chain)
    if config_ledger:
        evaluation.findings += config_ledger.findings
    evaluation.findings += chain.findings
    for path, ledger in parsed.items():
        number = subject_of(path)
        if number is None:
            continue
        record = judged.get(path, ledger, chain) if judged is not None else None
        if record is None:
            record = judge_document(number, ledger.entries, chain, verifier)
            if judged is not None:
                judged.put(path, ledger, config_ledger, chain, record)
        record.findings[:0] = ledger.findings
        evaluation.records[number] = record
        evaluation.findings += record.findings
    return evaluation


def expected_status(record: DocumentRecord, revision: str) -> str:
    if record.withdrawal:
        return "obsolete"
    cycle = record.open
    if cycle and cycle.revision == revision:
        return "approved" if cycle.signatures("approve") else "review"
    latest = record.latest_release
    if latest and latest.revision == revision:
        return "effective"
    return "draft"


def signatures_of(cycle: Cycle | None) -> tuple[Signature, ...]:
    """The signatures that count for a cycle, as documents and renderers show them."""
    if cycle is None:
        return ()
    return tuple(_signature(signed) for signed in cycle.approvals)


def _signature(signed: Signed) -> Signature:
    statement = signed.statement
    meaning = statement.meaning + (f"；意见：{statement.comment}" if statement.comment else "")
    return Signature(statement.role, statement.name, statement.time, meaning, statement.fingerprint,
                     short_fingerprint(signed.key) if signed.key else "")


def with_record(doc: Document, cycle: Cycle | None) -> Document:
    return dataclasses.replace(doc, approvals=signatures_of(cycle))


def compare_documents(documents: list[Document], evaluation: Evaluation) -> tuple[list[Document], list[Finding]]:
    """Each working document held against its record: the documents with their signatures, and every mismatch."""
    findings: list[Finding] = []
    out = []
    numbers = {doc.number for doc in documents}
    for doc in documents:
        record = evaluation.record(doc.number)
        cycle = _cycle_for(record, doc)
        findings.extend(_mismatches(doc, record, cycle))
        findings.extend(revision_record_findings(doc, record))
        out.append(with_record(doc, cycle))
    for number, record in sorted(evaluation.records.items()):
        if number not in numbers and record.cycles and not record.withdrawal:
            first = record.cycles[0].submit.entry
            findings.append(Finding(first.path, 1, "record-orphan",
                                    f"the record of {number} has no document file",
                                    f"restore {record.cycles[-1].submit.statement.path}, or withdraw the document "
                                    f"with `doccontrol obsolete {number}`"))
    return out, findings


def revision_record_findings(doc: Document, record: DocumentRecord) -> list[Finding]:
    """What the revision record shows and the content fingerprint does not cover, held against the signed record:
    each signed revision's approved_by names its 批准 signer and its `by` the submitter (the preparer who signed),
    prepared.name is the current revision's submitter, and prepared.date is the date of the revision's row
    (as `revise` writes them; a row carried over by `import` keeps the other system's dates)."""
    out = []
    row = next((row for row in doc.history if row.revision == doc.revision), None)
    if row is not None and not row.imported and doc.prepared.date != row.date:
        out.append(Finding(doc.path, doc.line_of("prepared.date"), "revision-record",
                           f"prepared.date is {doc.prepared.date}, but the revision record dates {doc.revision} "
                           f"{row.date} (the date its signatures cover)",
                           f"set prepared.date back to {row.date}; dates are written by `doccontrol revise`"))
    current = next((cycle for cycle in reversed(record.cycles) if cycle.revision == doc.revision
                    and cycle.returned is None), None)
    if current is not None and doc.prepared.name != current.submit.name:
        out.append(Finding(doc.path, doc.line_of("prepared.name"), "revision-record",
                           f"prepared.name is {doc.prepared.name}, but {doc.revision} was submitted (signed as its "
                           f"preparer) by {current.submit.name}",
                           f"write `name: {current.submit.name}` under prepared, as the signed record says "
                           f"(`doccontrol history {doc.number}` shows it)"))
    for index, row in enumerate(doc.history):
        signed_cycle = current if row.revision == doc.revision else record.released(row.revision)
        if signed_cycle is not None and not row.imported and row.by != signed_cycle.submit.name:
            line = doc.key_lines.get(f"history.{index}.by") or doc.line_of(f"history.{index}")
            out.append(Finding(doc.path, line, "revision-record",
                               f"the revision record says {doc.number} {row.revision} was prepared by {row.by}, but "
                               f"the signed record's submission of {row.revision} is by {signed_cycle.submit.name}",
                               f"write `by: {signed_cycle.submit.name}` in that row, as the signed record says"))
        cycle = record.released(row.revision)
        names = [signed.name for signed in cycle.signatures(APPROVE)] if cycle else []
        if not names or (row.approved_by or "") in (names[-1], "、".join(names)):
            continue
        line = doc.key_lines.get(f"history.{index}.approved_by") or doc.line_of(f"history.{index}")
        out.append(Finding(doc.path, line, "revision-record",
                           f"the revision record says {doc.number} {row.revision} was approved by "
                           f"{row.approved_by or 'nobody'}, but the signed record's 批准 of {row.revision} is by "
                           f"{'、'.join(names)}",
                           f"write `approved_by: {names[-1]}` in that row, as the signed record says (`doccontrol "
                           f"history {doc.number}` shows it); `doccontrol release` writes it"))
    return out


def _cycle_for(record: DocumentRecord, doc: Document) -> Cycle | None:
    open_cycle = record.open
    if open_cycle and open_cycle.revision == doc.revision:
        return open_cycle
    return record.released(doc.revision)


def _mismatches(doc: Document, record: DocumentRecord, cycle: Cycle | None) -> list[Finding]:
    expected = expected_status(record, doc.revision)
    where = doc.line_of("status")
    out = []
    if doc.status != expected:
        out.append(Finding(doc.path, where, "status-record",
                           f"status is {doc.status}, but the signed record says {doc.number} {doc.revision} is "
                           f"{expected}", _status_fix(doc, expected)))
        return out
    if cycle is None or doc.status == "obsolete":
        return out
    stamp = fingerprint(doc)
    if stamp != cycle.fingerprint:
        if doc.status == "effective":
            out.append(Finding(doc.path, where, "edited-after-release",
                               f"{doc.number} {doc.revision} was changed after its release: the text (or a picture it "
                               "shows) is not what was approved",
                               "undo the edit (git restore), or open a new revision with `doccontrol "
                               "revise` and put the change there"))
        else:
            what = "approval" if cycle.approvals else "submission"
            out.append(Finding(doc.path, where, "edited-after-approval",
                               f"content changed after its {what} (fingerprint mismatch)",
                               f"undo the edit, or return it to draft with `doccontrol return {doc.number} --reason "
                               "…`, edit, and submit again"))
    else:
        scope = scope_mismatch(cycle.submit.statement, doc, f"in {doc.path}", ("number", "title", "type", "department"))
        if scope:
            out.append(Finding(cycle.submit.entry.path, cycle.submit.entry.line, "signature-scope", scope, FIX_SCOPE))
    if doc.status == "effective" and doc.effective != cycle.effective:
        out.append(Finding(doc.path, doc.line_of("effective"), "release-mismatch",
                           f"effective date in the file ({doc.effective}) differs from the signed release "
                           f"({cycle.effective})", "do not edit the effective date by hand"))
    return out


def _status_fix(doc: Document, expected: str) -> str:
    if doc.status == "effective" and expected == "draft":
        return (f"a revision takes effect only through a signed release: submit, approve and release "
                f"{doc.number} {doc.revision} with doccontrol")
    return f"do not edit `status:` by hand; set it back to {expected}, or use the doccontrol command for the step"


def configuration_findings(chain: Chain, working: Roster | None, config_file: str) -> list[Finding]:
    """The anchor and the working configuration against the approved chain."""
    if chain.latest is None:
        return [Finding(config_file, 1, "configuration-unapproved",
                        "no approved configuration: signatures cannot be checked against any roster", FIX_NO_ANCHOR)]
    if working is not None and working.fingerprint != chain.latest.fingerprint:
        return [Finding(config_file, 1, "configuration-unapproved",
                        f"the configuration files differ from approved version {chain.latest.version}; until a new "
                        "version is approved, signing and publishing use version "
                        f"{chain.latest.version}", "review the change, then `doccontrol config approve --key KEY`",
                        WARN)]
    return []
