"""What the history proves about the signed record, beyond the signatures themselves.

With the git history, three more things are checked for every statement that counts:

- the ledger only grew: no commit removed or changed a line;
- the statement names the configuration version that was the latest approved one in the
  history at the commit that added it (a statement cannot claim an older roster, one that
  still listed a key since removed, nor a roster that came later);
- what it signs was there: at the commit that added it, the document at the statement's path
  has the statement's content fingerprint (and, for a release, is marked effective with that
  date; for a withdrawal, is marked obsolete). Released content is read from that commit, so
  the site and the pack publish exactly the bytes that were approved.

Problems become findings in the document's record, so the document is held back like any
other document whose record fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ledger import CONFIGURATION, ledger_path, subject_of
from .loader import MANUAL_INDEX, Source, load_sources
from .model import Document, Finding, Revision, fingerprint
from .record import DocumentRecord, Signed
from .repo import CommitInfo, LedgerHistory, Repo
from .signing import Verifier
from .verification import Evaluation, evaluate

FIX_HISTORY = "the history was altered after the fact; restore it from a backup or the remote"


@dataclass
class Proof:
    """The record at a commit, judged, with what its history proves."""

    evaluation: Evaluation
    history: LedgerHistory
    released: dict[tuple[str, str], Document] = field(default_factory=dict)
    release_commits: dict[tuple[str, str], CommitInfo] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unprovable: list[str] = field(default_factory=list)  # revisions whose text the history no longer holds


def prove(repo: Repo, verifier: Verifier, cache=None, rev: str = "HEAD", full: bool = True) -> Proof:
    """Judge the record at rev and check it against its history.

    full=False checks only releases and withdrawals against the content (what publishing needs);
    `verify` checks every statement.
    """
    evaluation = evaluate(repo.ledger_files(rev), verifier)
    history = repo.ledger_history(rev)
    proof = Proof(evaluation, history)
    reader = _Reader(repo, cache)
    _check_append_only(proof)
    versions = _versions_by_commit(evaluation, history)
    for number, record in evaluation.records.items():
        for signed in _counted(record):
            problem = _check_statement(proof, reader, versions, signed, full)
            if problem:
                finding = Finding(signed.entry.path, signed.entry.line, problem[0], problem[1], FIX_HISTORY)
                record.findings.append(finding)
                proof.findings.append(finding)
    proof.findings[:0] = evaluation.findings
    return proof


def _counted(record: DocumentRecord) -> list[Signed]:
    statements = []
    for cycle in record.cycles:
        statements.append(cycle.submit)
        statements.extend(cycle.approvals)
        statements.extend(s for s in (cycle.returned, cycle.release) if s)
    if record.withdrawal:
        statements.append(record.withdrawal)
    return statements


def _check_append_only(proof: Proof) -> None:
    for sha, path, line in proof.history.removed:
        subject = subject_of(path) or path
        finding = Finding(path, 1, "ledger-rewritten",
                          f"commit {sha[:10]} removed or changed a line of the {subject} ledger; the record only grows",
                          FIX_HISTORY)
        record = proof.evaluation.records.get(subject)
        if record is not None:
            record.findings.append(finding)
        proof.findings.append(finding)


def _versions_by_commit(evaluation: Evaluation, history: LedgerHistory) -> dict[str, tuple[int, int]]:
    """For each commit that changed a ledger: the latest approved configuration version before it (in its
    parents' history) and with it."""
    introduced: dict[str, int] = {}
    path = ledger_path(CONFIGURATION)
    for roster, entry in zip(evaluation.chain.versions, evaluation.chain.entries):
        sha = history.added.get((path, entry.raw))
        if sha:
            introduced[sha] = max(introduced.get(sha, 0), roster.version)
    latest: dict[str, tuple[int, int]] = {}
    for sha in sorted(history.order, key=history.order.__getitem__):
        before = max((latest[parent][1] for parent in history.parents.get(sha, []) if parent in latest), default=0)
        latest[sha] = (before, max(before, introduced.get(sha, 0)))
    return latest


def _check_statement(proof: Proof, reader: _Reader, versions: dict[str, tuple[int, int]], signed: Signed,
                     full: bool) -> tuple[str, str] | None:
    statement = signed.statement
    what = f"the {statement.kind} of {statement.number} {statement.revision} by {statement.name}"
    commit = proof.history.first_commit(signed.entry.path, signed.entry.raw)
    if commit is None:
        return "record-history", f"{what} is not in the history (a shallow clone, or grafted history)"
    before, with_it = versions.get(commit.sha, (0, 0))
    if statement.config > with_it:
        return "record-time", (f"{what} names configuration version {statement.config}, which was not yet in the "
                               f"record when commit {commit.sha[:10]} added the statement")
    if statement.config < before:
        return "record-time", (f"{what} names configuration version {statement.config}, but version {before} had "
                               f"already replaced it when commit {commit.sha[:10]} added the statement")
    kind = statement.kind
    if not full and kind not in ("release", "withdrawal"):
        return None
    doc = reader.document(commit.sha, statement.path)
    if doc is None or doc.number != statement.number:
        return "record-history", f"{what}: commit {commit.sha[:10]} has no such document at {statement.path}"
    if doc.rev > Revision.parse(statement.revision):
        proof.unprovable.append(f"{statement.number} {statement.revision}")
        return None  # a later revision came in the same commit (a squashed history): the old text is not there
    if fingerprint(doc) != statement.fingerprint:
        return "record-history", (f"{what}: commit {commit.sha[:10]}, which recorded it, holds other content "
                                  f"than it signs")
    if kind == "release":
        if doc.status != "effective" or doc.effective != statement.effective_date:
            return "record-history", (f"{what}: the release commit {commit.sha[:10]} does not mark the document "
                                      f"effective from {statement.effective}")
        proof.released[(statement.number, statement.revision)] = doc
        proof.release_commits[(statement.number, statement.revision)] = commit
    if kind == "withdrawal" and doc.status != "obsolete":
        return "record-history", f"{what}: the commit {commit.sha[:10]} does not mark the document obsolete"
    return None


class _Reader:
    """Documents at commits, each set of file contents parsed once (and cached by blob id)."""

    def __init__(self, repo: Repo, cache):
        self.repo = repo
        self.cache = cache
        self._parsed: dict[tuple, Document | None] = {}

    def document(self, commit: str, path: str) -> Document | None:
        parts = []
        if path.endswith("/" + MANUAL_INDEX):
            folder = path.rsplit("/", 1)[0]
            parts = [p for p in self.repo.list_folder(commit, folder) if p.endswith(".md") and p != path]
        try:
            ids = self.repo.blob_ids(commit, [path, *parts])
        except KeyError:
            return None
        key = tuple(ids.items())
        if key not in self._parsed:
            texts = self.repo.read_files(commit, [path, *parts])
            result = load_sources([Source(path, parts)], texts, self.cache)
            self._parsed[key] = result.documents[0] if result.documents and not result.findings else None
        return self._parsed[key]


def documents_at(repo: Repo, rev: str, config, cache=None):
    """The controlled documents in a commit's tree, read as the working tree would be (a link is refused)."""
    from .loader import DIR_NAME, FILE_NAME, LoadResult, controlled_folders

    folders = controlled_folders(config)
    files = repo.tree_files(rev, folders)
    sources: dict[str, Source] = {}
    findings: list[Finding] = []
    for path, mode in sorted(files.items()):
        folder = next((f for f in sorted(folders, key=len, reverse=True) if path.startswith(f + "/")), None)
        if folder is None or not path.endswith(".md"):
            continue
        rest = path[len(folder) + 1:].split("/")
        if mode == "120000":
            findings.append(Finding(path, 1, "symlink", "symbolic links are not allowed in controlled folders",
                                    "replace the link with the file itself"))
        elif len(rest) == 1 and FILE_NAME.fullmatch(rest[0]):
            sources[path] = Source(path)
        elif len(rest) == 2 and DIR_NAME.fullmatch(rest[0]):
            index = f"{folder}/{rest[0]}/{MANUAL_INDEX}"
            source = sources.setdefault(index, Source(index))
            if rest[1] != MANUAL_INDEX:
                source.parts.append(path)
    readable = [s for s in sources.values() if s.main in files and files[s.main] != "120000"
                and all(files.get(p) != "120000" for p in s.parts)]
    texts = repo.read_files(rev, [p for s in readable for p in [s.main, *s.parts]])
    result = load_sources(readable, texts, cache)
    return LoadResult(result.documents, findings + result.findings)
