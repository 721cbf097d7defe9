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

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import clock, collector
from .cache import PROOF_FILE, HistoryTexts, JudgedRecords, LedgerCache, MemoCache, ParseCache
from .ledger import CONFIGURATION, Ledger, ledger_path, subject_of
from .loader import MANUAL_INDEX, Loading, LoadResult, Source, load_sources
from .model import Document, Finding, Revision, fingerprint
from .pictures import PictureReader, picture_paths, texts_of, with_pictures
from .record import DocumentRecord, Signed, scope_mismatch
from .repo import CommitInfo, LedgerHistory, PendingLog, Repo
from .signing import Verifier
from .verification import Evaluation, ParsingLedgers, judge_ledgers, revision_record_findings, signed_entries

FIX_CONTENT = "revise the document (doccontrol revise), correct the text, and approve and release the new revision"
FIX_HISTORY = "the history was altered after the fact; restore it from a backup or the remote"
_PLACE_KEY = "document-files"  # (commit, path) → the document's files and their blob ids at that commit
_STAMP_KEY = "fingerprint"  # (files and blob ids, pictures) → the content fingerprint


@dataclass
class Proof:
    """The record at a commit, judged, with what its history proves."""

    evaluation: Evaluation
    history: LedgerHistory
    released: dict[tuple[str, str], Document] = field(default_factory=dict)
    release_commits: dict[tuple[str, str], CommitInfo] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unprovable: list[str] = field(default_factory=list)  # revisions whose text the history no longer holds
    pictures: dict[str, bytes] = field(default_factory=dict)  # the released documents' pictures, by sha256


def prove(repo: Repo, verifier: Verifier, cache=None, rev: str = "HEAD", full: bool = True,
          parsed: dict[tuple, LoadResult] | None = None) -> Proof:
    """Judge the record at rev and check it against its history.

    full=False checks only releases and withdrawals against the content (what publishing needs);
    `verify` checks every statement. cache: the repository's parse cache, or None for a cold run that
    writes no cache; the proof keeps its own caches beside it (see `_ProofCaches`). parsed: load results
    already made, by their files' paths and blob ids (`loader.load_each`): a text in a commit with the same files
    is not parsed again.
    """
    # git walks the history while the ledgers are read and parsed (cold: finding every changed file's blob too)
    with repo.start_ledger_log(rev, every_file=cache is None) as log:
        return _prove(repo, verifier, cache, rev, full, parsed or {}, log)


def _prove(repo: Repo, verifier: Verifier, cache, rev: str, full: bool, parsed: dict[tuple, LoadResult],
           log: PendingLog) -> Proof:
    files = repo.ledger_files(rev)
    caches = _ProofCaches(cache, files) if cache is not None else None
    parsing = ParsingLedgers(files, caches.ledgers if caches else None)
    with _stopped_on_failure(parsing):  # while the ledgers are parsed (cold: in worker processes), the history is read
        history = repo.ledger_history(rev, caches.memo if caches else None, log, files)
    ledgers = parsing.result()
    content_kinds = ("submit", "release", "withdrawal") if full else ("release", "withdrawal")
    reader = _Reader(repo, caches.texts if caches else None, caches.memo if caches else None)
    reader.take(parsed)
    reader.changed = history.files
    judged = caches.judged if caches else None
    batch = verifier.start(signed_entries({path: ledger for path, ledger in ledgers.items()
                                           if judged is None or not judged.known(path)}))
    with _stopped_on_failure(batch):  # while worker processes verify the signatures, git is asked for the texts
        gathered = reader.gather(_content_places(ledgers, history, content_kinds))
    batch.wait()
    texts = reader.start_parsing(gathered)  # (the signature workers gone, in worker processes of its own)
    with _stopped_on_failure(texts):  # while they parse, the records are judged
        evaluation = judge_ledgers(ledgers, verifier, judged)
    texts.finish()
    proof = Proof(evaluation, history)
    _check_append_only(proof)
    versions = _versions_by_commit(evaluation, history)
    pending: list[tuple[DocumentRecord, Signed, CommitInfo]] = []
    for record in evaluation.records.values():
        commits: dict[int, CommitInfo] = {}
        for signed in _counted(record):
            problem, commit = _check_order(proof, versions, signed)
            if problem:
                _add(proof, record, signed, problem)
            elif commit is not None:
                commits[signed.entry.line] = commit
                if signed.statement.kind in content_kinds:
                    pending.append((record, signed, commit))
        for signed, problem in _sequence_problems(record, commits, history):
            _add(proof, record, signed, problem)
    reader.prefetch([(commit.sha, signed.statement.path) for _, signed, commit in pending])
    for record, signed, commit in pending:
        problem = _check_content(proof, reader, record, signed, commit)
        if problem:
            _add(proof, record, signed, problem)
        elif signed.statement.kind == "release" and (signed.statement.number, signed.statement.revision) \
                not in proof.released and not _superseded(record, signed):
            _add_lost_release(proof, record, signed, commit, reader.document(commit.sha, signed.statement.path))
    proof.pictures = reader.pictures
    proof.findings[:0] = evaluation.findings
    if caches:
        caches.save(full)
    return proof


def _content_places(parsed: dict[str, Ledger], history: LedgerHistory,
                    kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """Where the statements whose content is checked were recorded: (commit, the statement's path) of each such
    statement in the ledgers, whether or not its signature and order then hold (read ahead, judged later)."""
    places = []
    for ledger in parsed.values():
        for entry in ledger.entries:
            if entry.statement.kind in kinds:
                path = getattr(entry.statement, "path", None)
                sha = history.added.get((entry.path, entry.raw))
                if sha is not None and path is not None:
                    places.append((sha, path))
    return places


class _ProofCaches:
    """What the proof keeps between runs, in sealed files beside the parse cache: parsed ledgers, the texts read
    from commits, and a memo of what only content decides (see `_Reader`, `Repo.ledger_history`)."""

    def __init__(self, parse_cache: ParseCache, ledgers: dict[str, bytes]):
        directory = parse_cache.path.parent
        self.ledgers = LedgerCache(directory)
        self.texts = HistoryTexts(parse_cache)
        self.memo = MemoCache(directory, PROOF_FILE)
        self.judged = JudgedRecords(directory, ledgers, clock.today().isoformat())

    def save(self, full: bool) -> None:
        """Write what changed. A full proof reads every text (and asks every question) any proof of this
        history does, so it drops the rest (of a rewritten history, of another branch); a partial proof reads
        fewer (no submissions) and keeps the rest."""
        self.ledgers.save()
        self.texts.flush(keep_unused=not full)
        self.memo.save(keep_unused=not full)
        self.judged.save(keep_unused=False)  # every proof judges every ledger at its commit (and today's only)


def _add(proof: Proof, record: DocumentRecord, signed: Signed, problem: tuple[str, str]) -> None:
    rule = problem[0]
    if signed.statement.kind in ("issue", "recall"):
        rule = "copy-" + rule  # the distribution register: never a reason to hold the document back
    fix = FIX_CONTENT if problem[0] == "record-content" else FIX_HISTORY
    finding = Finding(signed.entry.path, signed.entry.line, rule, problem[1], fix)
    record.findings.append(finding)
    proof.findings.append(finding)


def _superseded(record: DocumentRecord, release: Signed) -> bool:
    """Whether a later release of the document has taken effect (today), so that this one is no longer needed."""
    today = clock.today()
    releases = record.releases
    position = next((index for index, cycle in enumerate(releases) if cycle.release is release), len(releases))
    return any(cycle.effective is not None and cycle.effective <= today for cycle in releases[position + 1:])


def _add_lost_release(proof: Proof, record: DocumentRecord, signed: Signed, commit: CommitInfo,
                      doc: Document | None) -> None:
    """A release still needed whose text the history does not hold: the commit that recorded it already holds a
    later revision (the history was rewritten), so the document cannot be published."""
    statement = signed.statement
    later = doc.revision if doc is not None else "a later revision"
    finding = Finding(signed.entry.path, signed.entry.line, "release-unprovable",
                      f"{statement.number} {statement.revision} was released (effective {statement.effective}), but "
                      f"its release commit {commit.sha[:10]} already holds {later}: the released text is not in the "
                      f"history, so {statement.number} cannot be published",
                      f"the history was rewritten (the release and the next revision were put in one commit); restore "
                      f"it from a backup or the remote, where the release of {statement.revision} is a commit of its "
                      "own")
    record.findings.append(finding)
    proof.findings.append(finding)
    proof.unprovable.remove(f"{statement.number} {statement.revision}")


def _counted(record: DocumentRecord) -> list[Signed]:
    statements = []
    for cycle in record.cycles:
        statements.append(cycle.submit)
        statements.extend(cycle.approvals)
        statements.extend(s for s in (cycle.returned, cycle.release) if s)
    if record.withdrawal:
        statements.append(record.withdrawal)
    for copy in record.copies:
        statements.extend(s for s in (copy.issued, copy.recalled) if s)
    return statements


def _check_append_only(proof: Proof) -> None:
    for sha, path, _line in proof.history.removed:
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


def _sequence_problems(record: DocumentRecord, commits: dict[int, CommitInfo],
                       history: LedgerHistory) -> list[tuple[Signed, tuple[str, str]]]:
    """Within each cycle the history shows submit, then the signatures, then the release: a signature recorded
    before the submission it signs would have signed content that was not there yet. (What the submission and
    the release sign is checked against the content itself.)"""
    problems = []
    for cycle in record.cycles:
        later = [cycle.submit, *cycle.approvals, *(s for s in (cycle.returned, cycle.release) if s)]
        positions = [(signed, history.order.get(commits[signed.entry.line].sha)) for signed in later
                     if signed.entry.line in commits]
        for (earlier, first), (signed, position) in zip(positions, positions[1:]):
            if first is not None and position is not None and position < first:
                problems.append((signed, ("record-order", f"{_what(signed.statement)} was recorded in the history "
                                                          f"before {_what(earlier.statement)}")))
    return problems


def _what(statement) -> str:
    return f"the {statement.kind} of {statement.number} {statement.revision} by {statement.name}"


def _check_order(proof: Proof, versions: dict[str, tuple[int, int]],
                 signed: Signed) -> tuple[tuple[str, str] | None, CommitInfo | None]:
    """The commit that added the statement, once it is there and names the configuration of that point."""
    statement = signed.statement
    commit = proof.history.first_commit(signed.entry.path, signed.entry.raw)
    if commit is None:
        return ("record-history", f"{_what(statement)} is not in the history (a shallow clone, or grafted "
                                  "history)"), None
    before, with_it = versions.get(commit.sha, (0, 0))
    if statement.config > with_it:
        return ("record-time", f"{_what(statement)} names configuration version {statement.config}, which was not "
                               f"yet in the record when commit {commit.sha[:10]} added the statement"), None
    if statement.config < before:
        return ("record-time", f"{_what(statement)} names configuration version {statement.config}, but version "
                               f"{before} had already replaced it when commit {commit.sha[:10]} added the "
                               "statement"), None
    return None, commit


def _check_content(proof: Proof, reader: _Reader, record: DocumentRecord, signed: Signed,
                   commit: CommitInfo) -> tuple[str, str] | None:
    """What the statement signs was in the commit that added it (and was released or withdrawn there)."""
    statement = signed.statement
    what = _what(statement)
    doc = reader.document(commit.sha, statement.path)
    unreadable = reader.problems(commit.sha, statement.path) if doc is None else []
    if unreadable:  # the checks `check` makes while reading a file hold for released text too
        first = unreadable[0]
        return "record-content", (f"{what}: in commit {commit.sha[:10]}, {first.path}:{first.line}: {first.message}; "
                                  f"the released text is never published ({first.fix})")
    if doc is None or doc.number != statement.number:
        return "record-history", f"{what}: commit {commit.sha[:10]} has no such document at {statement.path}"
    if doc.rev > Revision.parse(statement.revision):
        proof.unprovable.append(f"{statement.number} {statement.revision}")
        return None  # a later revision came in the same commit (a squashed history): the old text is not there
    if reader.fingerprint(commit.sha, statement.path) != statement.fingerprint:
        return "record-history", (f"{what}: commit {commit.sha[:10]}, which recorded it, "
                                  "holds other content than it signs")
    problem = scope_mismatch(statement, doc, f"in commit {commit.sha[:10]}, which recorded the statement")
    if problem:
        return "signature-scope", problem
    kind = statement.kind
    if kind == "release":
        if doc.status != "effective" or doc.effective != statement.effective_date:
            return "record-history", (f"{what}: the release commit {commit.sha[:10]} does not mark the document "
                                      f"effective from {statement.effective}")
        shown = revision_record_findings(doc, record)
        if shown:
            return "revision-record", f"{what}: in the release commit {commit.sha[:10]}, {shown[0].message}"
        proof.released[(statement.number, statement.revision)] = doc
        proof.release_commits[(statement.number, statement.revision)] = commit
    if kind == "withdrawal" and doc.status != "obsolete":
        return "record-history", f"{what}: the commit {commit.sha[:10]} does not mark the document obsolete"
    return None


@contextlib.contextmanager
def _stopped_on_failure(work) -> Iterator[None]:
    """Work started in worker processes is stopped, not waited for, when what runs meanwhile fails."""
    try:
        yield
    except BaseException:
        work.abort()
        raise


@dataclass
class _Parsing:
    """Texts being parsed for a `_Reader` (see `_Reader.start_parsing`)."""

    reader: _Reader
    gathered: _Gathered
    todo: list[tuple[tuple, Source, dict[str, bytes]]]
    loading: Loading

    def finish(self) -> None:
        self.reader.finish_parsing(self)

    def abort(self) -> None:
        self.loading.abort()


@dataclass
class _Gathered:
    """The places a `_Reader` was asked for, the keys of the files it has yet to parse, and their bytes."""

    wanted: list[tuple[str, str]]
    keys: set[tuple]
    contents: dict[str, bytes]


class _Reader:
    """Documents at commits: blob ids asked in one batch, each set of file contents read and parsed once.

    With a memo (`cache.MemoCache`), what only content decides is kept between runs: the blob ids of a
    document's files at a commit (a commit's tree never changes), and the fingerprint of each set of file
    contents with the pictures it shows. Only what was read completely is kept: a blob git did not give
    is asked for again next time.
    """

    def __init__(self, repo: Repo, cache, memo: MemoCache | None = None):
        self.repo = repo
        self.cache = cache
        self.memo = memo
        self._sources: dict[tuple[str, str], tuple[Source, dict[str, str]] | None] = {}
        self._place_keys: dict[tuple[str, str], tuple] = {}
        self._parsed: dict[tuple, Document | None] = {}
        self._problems: dict[tuple, list[Finding]] = {}
        self._whole: set[tuple] = set()  # keys whose every file was read
        self._stamps: dict[tuple, str] = {}
        self._shown: dict[tuple[str, str], Document] = {}  # documents that show pictures, with those at the commit
        self.changed: dict[tuple[str, str], str] | None = None  # the history commits' changed files, when known
        self.pictures: dict[str, bytes] = {}  # the bytes of those pictures, by sha256

    def take(self, parsed: dict[tuple, LoadResult]) -> None:
        """Load results made elsewhere, by their files' paths and blob ids (each document a copy of its own)."""
        for key, result in parsed.items():
            doc = result.documents[0] if result.documents and not result.findings else None
            self._parsed[key] = dataclasses.replace(doc) if doc is not None else None
            self._problems[key] = result.findings
            self._whole.add(key)

    def prefetch(self, wanted: list[tuple[str, str]]) -> None:
        """Find the files of every (commit, path) at once: one process for the blob ids, one for the contents."""
        self.parse(self.gather(wanted))

    def gather(self, wanted: list[tuple[str, str]]) -> _Gathered:
        """What `prefetch` asks git, without parsing: the places, and the bytes of the files not yet parsed."""
        wanted = [item for item in dict.fromkeys(wanted) if item not in self._sources]
        self._locate(self._remembered(wanted))
        keys = {key for place in wanted if (key := self._files(place))} - set(self._parsed)
        return _Gathered(wanted, keys, self.repo.blobs([blob for key in keys for _, blob in key]))

    def parse(self, gathered: _Gathered) -> None:
        """Parse what `gather` read (see `start_parsing`)."""
        self.start_parsing(gathered).finish()

    def start_parsing(self, gathered: _Gathered) -> _Parsing:
        """Start parsing what `gather` read, taking what the cache holds (thousands at once are parsed in worker
        processes, see `loader.Loading`, while the caller goes on); `finish` the result to take them."""
        contents = gathered.contents
        todo: list[tuple[tuple, Source, dict[str, bytes]]] = []
        for key in gathered.keys:
            source = Source(key[0][0], [path for path, _ in key[1:]])
            texts = {path: contents.get(blob, b"") for path, blob in key}
            if all(blob in contents for _, blob in key):
                self._whole.add(key)
            found = self._cached(source, texts)
            if found is None:
                todo.append((key, source, texts))
            else:
                self._take(key, found)
        return _Parsing(self, gathered, todo, Loading([(source, texts) for _, source, texts in todo]))

    def finish_parsing(self, parsing: _Parsing) -> None:
        for (key, source, texts), result in zip(parsing.todo, parsing.loading.result()):
            if self.cache is not None:
                self.cache.put(self.cache.key([source.main, *source.parts], texts), result, texts)
            self._take(key, result)
        self._add_pictures(parsing.gathered.wanted)

    def _cached(self, source: Source, texts: dict[str, bytes]) -> LoadResult | None:
        if self.cache is None:
            return None
        with collector.paused():  # a cached document comes back as many objects at once, and none is garbage
            return self.cache.get(self.cache.key([source.main, *source.parts], texts), texts)

    def _take(self, key: tuple, result: LoadResult) -> None:
        self._parsed[key] = result.documents[0] if result.documents and not result.findings else None
        self._problems[key] = result.findings

    def _remembered(self, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Take the places the memo knows; the others are left to find."""
        if self.memo is None:
            return wanted
        unknown = []
        for sha, path in wanted:
            key = self.memo.get((_PLACE_KEY, sha, path))
            if key is None:
                unknown.append((sha, path))
            else:
                self._sources[(sha, path)] = (Source(path, [part for part, _ in key[1:]]), dict(key))
        return unknown

    def _locate(self, wanted: list[tuple[str, str]]) -> None:
        mains = self._main_objects(wanted)
        for sha, path in wanted:
            found = mains.get(f"{sha}:{path}")
            if found is None or found[1] != "blob":
                self._sources[(sha, path)] = None
                continue
            parts = []
            if path.endswith("/" + MANUAL_INDEX):
                folder = path.rsplit("/", 1)[0]
                parts = [p for p in self.repo.list_folder(sha, folder) if p.endswith(".md") and p != path]
            self._sources[(sha, path)] = (Source(path, parts), {path: found[0]})
        part_names = [f"{sha}:{p}" for sha, path in wanted if (item := self._sources[(sha, path)])
                      for p in item[0].parts]
        part_objects = self.repo.objects(part_names)
        for sha, path in wanted:
            item = self._sources[(sha, path)]
            if item:
                item[1].update({p: part_objects[f"{sha}:{p}"][0] for p in item[0].parts
                                if f"{sha}:{p}" in part_objects})
                if self.memo is not None and len(item[1]) == 1 + len(item[0].parts):
                    self.memo.put((_PLACE_KEY, sha, path), self._key(item))

    def _main_objects(self, wanted: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
        """The object of each wanted COMMIT:PATH. Most commits that recorded a statement also changed the
        document, so their diffs name its blob (one process for all); the rest are looked up by name."""
        changed = self.changed
        if changed is None:
            folders = sorted({path.rsplit("/", 1)[0] for _, path in wanted if "/" in path})
            changed = self.repo.changed_blobs([sha for sha, _ in wanted], folders)
        found = {f"{sha}:{path}": (changed[(sha, path)], "blob") for sha, path in wanted if (sha, path) in changed}
        found.update(self.repo.objects([f"{sha}:{path}" for sha, path in wanted if (sha, path) not in changed]))
        return found

    def _add_pictures(self, wanted: list[tuple[str, str]]) -> None:
        """Each wanted document that shows pictures, with the digests of those pictures in its commit's tree
        (one process for all their blob ids, one for their bytes)."""
        shown: dict[tuple[str, str], tuple[Document, list[str]]] = {}
        for sha, path in wanted:
            doc = self._parsed.get(self._files((sha, path)))
            paths = picture_paths(texts_of(doc)) if doc is not None else []
            if doc is not None and paths:
                shown[(sha, path)] = (doc, paths)
        if not shown:
            return
        found = self.repo.objects([f"{sha}:{p}" for (sha, _), (_, paths) in shown.items() for p in paths])
        blobs = self.repo.blobs([oid for oid, kind in found.values() if kind == "blob"])
        for (sha, path), (doc, _) in shown.items():
            def read(paths: list[str], sha: str = sha) -> dict[str, bytes | None]:
                return {p: blobs.get(found.get(f"{sha}:{p}", ("", ""))[0]) for p in paths}
            self._shown[(sha, path)] = with_pictures([doc], read, self.pictures)[0]

    @staticmethod
    def _key(item: tuple[Source, dict[str, str]]) -> tuple:
        source, blobs = item
        return tuple((path, blobs.get(path, "")) for path in [source.main, *source.parts])

    def _files(self, place: tuple[str, str]) -> tuple:
        """The key of the document's files at (commit, path), once found: each file's path and blob id; () when
        the commit has no such document."""
        key = self._place_keys.get(place)
        if key is None:
            item = self._sources[place]
            key = self._place_keys[place] = self._key(item) if item else ()
        return key

    def document(self, commit: str, path: str) -> Document | None:
        if (commit, path) not in self._sources:
            self.prefetch([(commit, path)])
        if (commit, path) in self._shown:
            return self._shown[(commit, path)]
        return self._parsed.get(self._files((commit, path)))

    def problems(self, commit: str, path: str) -> list[Finding]:
        """What reading the document at commit found (why `document` gave None), if it was read."""
        if (commit, path) not in self._sources:
            return []
        return self._problems.get(self._files((commit, path)), [])

    def fingerprint(self, commit: str, path: str) -> str:
        doc = self.document(commit, path)
        files = self._files((commit, path))
        key = files + (doc.pictures if doc else ())
        if key not in self._stamps:
            self._stamps[key] = self._stamp(doc, key, files in self._whole) if doc else ""
        return self._stamps[key]

    def _stamp(self, doc: Document, key: tuple, whole: bool) -> str:
        if self.memo is None or not whole:
            return fingerprint(doc)
        known = self.memo.get((_STAMP_KEY, key))
        if known is not None:
            return known[0]
        stamp = fingerprint(doc)
        self.memo.put((_STAMP_KEY, key), (stamp,))
        return stamp


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
    pictures: dict[str, bytes] = {}
    documents = with_pictures(result.documents, tree_reader(repo, rev), pictures)
    return LoadResult(documents, findings + result.findings, pictures)


def tree_reader(repo: Repo, rev: str) -> PictureReader:
    """Read pictures from a commit's tree (one process for the blob ids, one for the bytes)."""
    def read(paths: list[str]) -> dict[str, bytes | None]:
        found = repo.objects([f"{rev}:{path}" for path in paths])
        blobs = repo.blobs([oid for oid, kind in found.values() if kind == "blob"])
        return {path: blobs.get(found.get(f"{rev}:{path}", ("", ""))[0]) for path in paths}

    return read
