"""What is in force: decided in one place, from the proven signed record only.

`build`, `pack`, `register --as-of` and `export` publish only what this module returns. A
revision is in force on a date when its release statement counts (signed by a person with the
right, after complete approvals, in order; see record.py), the history proves the statement and
the released content (proof.py), its effective date has come and no withdrawal that counts has
ended it. The text is read from the commit that recorded the release, so a draft in the working
tree, a revision in progress, an edited file or a commit message claiming a release cannot
reach a reader. A document whose record has an error is held back, and the publication says so.

Without history (a shallow clone, an export without .git) nothing is proven about order, so
publishing refuses unless asked explicitly (`--allow-no-history`); then it publishes only files
whose present content the working tree's record proves released, and says so.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import clock
from .config import Config, config_from_content
from .errors import DoccontrolError
from .loader import load_worktree
from .model import Document, Finding, Severity, fingerprint
from .proof import Proof, prove
from .record import Cycle, DocumentRecord
from .repo import CommitInfo, Repo, RepoError
from .signing import Verifier
from .verification import Evaluation, evaluate, with_record

NO_HISTORY_NOTICE = ("no git history here (a shallow clone, or an export without .git): the order of the record "
                     "is not proven; published only documents whose present content the signed record shows "
                     "released")
FIX_UNSHALLOW = ("fetch the whole history (git fetch --unshallow, or clone without --depth), or publish what the "
                 "files alone prove with --allow-no-history")
UNSIGNED_NOTICE = "the configuration's policy is `unsigned`: signatures are names only, not verified with keys"


@dataclass(frozen=True)
class Change:
    """A change to what is in force: a revision that takes effect (release) or a withdrawal (作废)."""

    number: str
    title: str
    revision: str
    kind: str  # "release" or "withdrawal"
    date: dt.date  # the effective date of a release, the date of a withdrawal
    superseded_by: str | None = None
    reason: str = ""


@dataclass
class Publication:
    """The documents in force on a date, and where each came from.

    config: the configuration publishing uses: the approved version (never the working files), or for a
    preview the working one; withdrawn: the
    withdrawals in force on as_of (for the registers); changes: every release and withdrawal dated
    on or before as_of, newest first; upcoming: releases whose effective date is still ahead;
    held_back: one finding per document whose record failed verification and which is therefore
    not published; unsigned: the policy says signatures are not key-verified.
    """

    as_of: dt.date
    documents: list[Document]
    config: Config
    commits: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    preview: bool = False
    notice: str = ""
    withdrawn: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    upcoming: list[Change] = field(default_factory=list)
    held_back: list[Finding] = field(default_factory=list)
    unsigned: bool = False
    evaluation: Evaluation | None = None
    pictures: Mapping[str, bytes] = field(default_factory=dict)  # the documents' pictures, by sha256


def full_history_repo(root) -> Repo | None:
    """The repository, open, when it holds its whole history; None in an export without .git, an empty
    repository or a shallow clone."""
    try:
        repo = Repo(root)
    except RepoError:
        return None
    try:
        if repo.has_commits and not repo.is_shallow:
            return repo
    except BaseException:
        repo.close()  # asking may have started git's cat-file processes; an interrupt must not orphan them
        raise
    repo.close()
    return None


def in_force(config: Config, as_of: dt.date, verifier: Verifier, cache=None,
             allow_no_history: bool = False) -> Publication:
    """What is in force on as_of, from the proven record (or, when allowed, from the files alone)."""
    return in_force_proven(config, as_of, verifier, cache, allow_no_history)[0]


def in_force_proven(config: Config, as_of: dt.date, verifier: Verifier, cache=None,
                    allow_no_history: bool = False) -> tuple[Publication, Proof | None]:
    """`in_force`, and the proof it was decided from (None without history), for a caller that also needs
    the proven releases (`ReleaseIndex`) without proving the record twice."""
    repo = full_history_repo(config.root)
    if repo is None:
        if not allow_no_history:
            raise DoccontrolError("there is no git history here, so the signed record cannot be proven in order",
                                  fix=FIX_UNSHALLOW)
        return approved_in_worktree(config, as_of, verifier, cache), None
    with repo:
        proof = prove(repo, verifier, cache, full=False)
    return from_proof(config, proof, as_of), proof


def from_proof(config: Config, proof: Proof, as_of: dt.date) -> Publication:
    evaluation = proof.evaluation
    publication = _start(config, evaluation, as_of)
    for number, record in sorted(evaluation.records.items()):
        cycle = _in_force(record, as_of)
        if cycle is None:
            continue
        if _held_back(publication, evaluation, number):
            continue
        doc = proof.released.get((number, cycle.revision))
        if doc is None:
            continue
        publication.documents.append(with_record(doc, cycle))
        publication.commits[number] = proof.release_commits[(number, cycle.revision)].sha
    _add_changes(publication, evaluation)
    publication.pictures = proof.pictures
    return publication


def approved_in_worktree(config: Config, as_of: dt.date, verifier: Verifier, cache=None) -> Publication:
    """Without history: the working files whose present content the working tree's record shows in force."""
    from .loader import read_ledger_files

    ledgers, ledger_findings = read_ledger_files(config.root)
    evaluation = evaluate(ledgers, verifier)
    publication = _start(config, evaluation, as_of)
    publication.notice = NO_HISTORY_NOTICE + (f"; {UNSIGNED_NOTICE}" if publication.unsigned else "")
    loaded = load_worktree(config, cache)
    publication.findings = loaded.findings + ledger_findings
    publication.pictures = loaded.pictures
    for doc in loaded.documents:
        record = evaluation.record(doc.number)
        cycle = _in_force(record, as_of)
        if cycle is None or cycle.revision != doc.revision or _held_back(publication, evaluation, doc.number):
            continue
        if doc.status == "effective" and fingerprint(doc) == cycle.fingerprint and doc.effective == cycle.effective:
            publication.documents.append(with_record(doc, cycle))
    _add_changes(publication, evaluation)
    return publication


def _start(config: Config, evaluation: Evaluation, as_of: dt.date) -> Publication:
    latest = evaluation.chain.latest
    if latest is None:
        raise DoccontrolError("there is no approved configuration, so nothing can be proven or published",
                              fix="approve it once with `doccontrol config approve --key KEY`")
    approved = config_from_content(config.root, evaluation.chain.latest_content(), latest.version)
    publication = Publication(as_of, [], approved, evaluation=evaluation, unsigned=latest.unsigned)
    if publication.unsigned:
        publication.notice = UNSIGNED_NOTICE
    return publication


def _in_force(record: DocumentRecord, as_of: dt.date):
    """The release in force on as_of that had been made by then (a release made later cannot count earlier)."""
    if record.withdrawal and record.withdrawal.statement.day <= as_of:
        return None
    current = None
    for cycle in record.releases:
        if cycle.effective_day <= as_of and cycle.signed_release.time.date() <= as_of:
            current = cycle
    return current


def _held_back(publication: Publication, evaluation: Evaluation, number: str) -> bool:
    errors = evaluation.doubtful(number)
    if errors:
        first = errors[0]
        publication.held_back.append(Finding(first.path, first.line, "held-back",
                                             f"{number} is not published: {first.message}", first.fix))
    return bool(errors)


def _add_changes(publication: Publication, evaluation: Evaluation) -> None:
    as_of = publication.as_of
    for number, record in evaluation.records.items():
        for cycle in record.releases:
            title = cycle.signed_release.statement.title
            change = Change(number, title, cycle.revision, "release", cycle.effective_day)
            (publication.changes if cycle.effective_day <= as_of else publication.upcoming).append(change)
        withdrawal = record.withdrawal
        if withdrawal and withdrawal.statement.day <= as_of:
            statement = withdrawal.statement
            change = Change(number, statement.title, statement.revision, "withdrawal", statement.day,
                            statement.superseded_by, statement.reason)
            publication.changes.append(change)
            publication.withdrawn.append(change)
    publication.changes.sort(key=lambda c: (c.date, c.number), reverse=True)
    publication.upcoming.sort(key=lambda c: (c.date, c.number))


def preview_documents(config: Config, documents: list[Document], findings: list[Finding],
                      pictures: Mapping[str, bytes] | None = None) -> Publication:
    """The working tree as it stands, drafts included, with the working configuration (`build --preview` only)."""
    shown = [doc for doc in documents if doc.status != "obsolete"]
    return Publication(clock.today(), shown, config, {}, [f for f in findings if f.severity is Severity.ERROR],
                       preview=True, pictures=pictures or {})


@dataclass(frozen=True)
class Released:
    """A released revision whose release counts and whose content the history proves."""

    number: str
    revision: str
    path: str
    effective: dt.date
    released_on: dt.date
    text: Document = field(repr=False)  # as the release commit holds it, without the signatures
    cycle: Cycle = field(repr=False)
    commit: CommitInfo

    @functools.cached_property
    def document(self) -> Document:
        """The released document with the signatures of its cycle (made when first asked: most are never read)."""
        return with_record(self.text, self.cycle)


class ReleaseIndex:
    """Every proven release of every document (documents held back are left out), oldest first."""

    def __init__(self, proof: Proof):
        self._records = proof.evaluation.records
        self.pictures = proof.pictures
        self._by_number: dict[str, list[Released]] = {}
        for number, record in proof.evaluation.records.items():
            if proof.evaluation.doubtful(number):
                continue
            for cycle in record.releases:
                doc = proof.released.get((number, cycle.revision))
                if doc is not None and cycle.release is not None and cycle.effective is not None:
                    self._by_number.setdefault(number, []).append(Released(
                        number, cycle.revision, doc.path, cycle.effective, cycle.release.time.date(), doc, cycle,
                        proof.release_commits[(number, cycle.revision)]))

    def revisions(self, number: str) -> list[Released]:
        return list(self._by_number.get(number, []))

    def in_force(self, number: str, as_of: dt.date) -> Released | None:
        record = self._records.get(number)
        cycle = _in_force(record, as_of) if record else None
        return next((r for r in self.revisions(number) if cycle and r.revision == cycle.revision), None)


def release_index(config: Config, verifier: Verifier, cache=None) -> ReleaseIndex | None:
    """The proven releases, from the history; None without history."""
    repo = full_history_repo(config.root)
    if repo is None:
        return None
    with repo:
        return ReleaseIndex(prove(repo, verifier, cache, full=False))


@dataclass
class Selected:
    """One revision of one document chosen for export, and how to mark it (None when in force)."""

    doc: Document
    mark: str | None
    config: Config
    notice: str = ""
    pictures: Mapping[str, bytes] = field(default_factory=dict)


def select_revision(config: Config, verifier: Verifier, cache, number: str, revision: str | None, as_of: dt.date,
                    working: Document | None, allow_no_history: bool = False) -> Selected:
    """The revision in force, a named released revision (未生效 / 作废 unless in force) or the working draft (草稿)."""
    repo = full_history_repo(config.root)
    if repo is None:
        if not allow_no_history:
            raise DoccontrolError("there is no git history here, so released revisions cannot be proven",
                                  fix=FIX_UNSHALLOW)
        publication = approved_in_worktree(config, as_of, verifier, cache)
        released: dict[tuple[str, str], Document] = {}
    else:
        with repo:
            proof = prove(repo, verifier, cache, full=False)
        publication = from_proof(config, proof, as_of)
        released = proof.released
    assert publication.evaluation is not None
    held = [f for f in publication.held_back if f.message.startswith(f"{number} ")]
    if held:
        raise DoccontrolError(f"{number} is held back: its signed record has errors",
                              findings=publication.evaluation.doubtful(number), fix="run `doccontrol verify`")
    current = next((doc for doc in publication.documents if doc.number == number), None)
    selected = _choose(publication, released, number, revision, current, working)
    selected.notice = publication.notice
    selected.pictures = publication.pictures
    return selected


def _choose(publication: Publication, released: dict, number: str, revision: str | None,
            current: Document | None, working: Document | None) -> Selected:
    config = publication.config
    assert config is not None and publication.evaluation is not None  # a proven publication
    record = publication.evaluation.record(number)
    if revision is None or (current is not None and current.revision == revision):
        if current is not None:
            return Selected(current, None, config)
        raise _not_in_force(number, record, working, publication.as_of, without_history=not released)
    cycle = record.released(revision)
    doc = released.get((number, revision))
    if cycle is not None and doc is not None:
        mark = "pending" if cycle.effective_day > publication.as_of else "obsolete"  # 未生效 / 作废
        return Selected(with_record(doc, cycle), mark, config)
    if working is not None and working.revision == revision:
        return Selected(working, "draft", config)  # 草稿
    known = [cycle.revision for cycle in record.releases if (number, cycle.revision) in released]
    if working is not None and working.revision not in known:
        known.append(f"{working.revision} (working draft)")
    if not released and publication.notice:
        raise DoccontrolError(f"{number} {revision} cannot be read here: released revisions are read from the git "
                              "history, and this copy has none", fix=FIX_UNSHALLOW)
    raise DoccontrolError(f"{number} has no revision {revision}",
                          fix="revisions you can export: " + (", ".join(known) or "none"))


def _not_in_force(number: str, record: DocumentRecord, working: Document | None, as_of: dt.date,
                  without_history: bool = False) -> DoccontrolError:
    latest = record.latest_release
    in_force = _in_force(record, as_of)
    if without_history and in_force is not None and working is not None:
        return DoccontrolError(f"{number} {in_force.revision} is in force, but this copy holds only the working file "
                               f"({working.revision}, {working.status_label}), and without the git history the "
                               f"released text cannot be read", fix=f"{FIX_UNSHALLOW}; or export the working "
                                                                     f"revision: --revision {working.revision}")
    if latest is None:
        state = f"; it is {working.status_label} {working.revision}" if working else ""
        return DoccontrolError(f"{number} has never been released{state}",
                               fix=f"release it first, or export the draft: doccontrol export {number} --revision "
                                   f"{working.revision if working else 'A/0'}")
    if record.withdrawal and record.withdrawal.statement.day <= as_of:
        reason = "it has been withdrawn (作废)"
    else:
        reason = f"its release {latest.revision} takes effect on {latest.effective}"
    return DoccontrolError(f"{number} is not in force: {reason}",
                           fix=f"export a named revision: doccontrol export {number} --revision {latest.revision}")
