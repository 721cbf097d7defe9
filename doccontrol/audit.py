"""The record as an auditor reads it: `verify`, `history`, and the roster with its keys.

`verify` proves the whole record (every statement against its history, see proof.py), holds
the working tree against it, checks the release tags (a convenience, not the record), and
says how much it proved: how many signatures were verified with keys, against which
configuration versions, from which trust anchor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .cache import ParseCache, SealedFile, package_version
from .loader import LoadResult, Source, load_each, load_sources, read_ledger_files, read_worktree
from .model import Document, Finding, Severity
from .pictures import sha256, with_pictures, worktree_reader
from .proof import Proof, prove
from .publication import full_history_repo
from .record import DocumentRecord
from .roster import Roster
from .signing import SigningError, has_private_key, load_signer
from .verification import Evaluation, compare_documents
from .workflow import tag_name
from .workspace import DEMO_KEYS, Workspace

WARN = Severity.WARNING


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signatures: int = 0
    history: bool = True
    missing_tags: list[str] = field(default_factory=list)
    versions: int = 0  # approved configuration versions
    anchor: str = ""
    unsigned: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


def verify(ws: Workspace) -> VerifyReport:
    """Prove the whole record; the report is remembered on everything it depends on (a warm run reads it back
    without parsing a document: the files' blob ids and the pictures they showed are compared instead)."""
    cache = ws.parse_cache(autosave=False)
    sources, texts, _ = read_worktree(ws.config)
    repo = full_history_repo(ws.root)
    try:
        memo = SealedFile(ws.config.cache_dir, "verify.pickle", package_version()) if cache is not None else None
        files = _files_digest(cache, sources, texts) if cache is not None else ""
        known = memo.load(None) if memo is not None else None
        if known is not None and known[0] == files and known[2] == _inputs(ws, repo, files, known[1]):
            return known[3]
        loaded, each = _load_working(sources, texts, cache)
        documents = with_pictures(loaded, worktree_reader(ws.root), {})
        shown = sorted((doc.number, p.path, p.sha256) for doc in documents for p in doc.pictures)
        inputs = _inputs(ws, repo, files, shown) if memo is not None else ""
        report = _verify(ws, repo, documents, cache, each)
    finally:
        if repo is not None:
            repo.close()
    if memo is not None:
        memo.save((files, shown, inputs, report))
    return report


def _files_digest(cache: ParseCache, sources: list[Source], texts: dict[str, bytes]) -> str:
    """The working documents' files: each one's path and blob id."""
    keys = sorted(cache.key([source.main, *source.parts], texts) for source in sources)
    return hashlib.sha256(repr(keys).encode()).hexdigest()


def _inputs(ws: Workspace, repo, files: str, shown: list[tuple[str, str, str]]) -> str:
    """Everything a verify report depends on: the commit and its history (HEAD), the tags, the working files
    (their digest) and the pictures the working documents show (read again now: each path with its bytes'
    digest, as shown when the report was made)."""
    digest = hashlib.sha256()
    if repo is not None:
        digest.update(f"{repo.head}|{repo.is_shallow}|".encode())
        digest.update(repr(repo.tag_commits()).encode())
    digest.update(files.encode())
    read = worktree_reader(ws.root)([path for _, path, _ in shown])
    digest.update(repr([(number, path, sha256(read.get(path))) for number, path, _ in shown]).encode())
    for path in sorted((ws.root / DEMO_KEYS).glob("*")) if (ws.root / DEMO_KEYS).is_dir() else []:
        digest.update(path.name.encode() + (path.read_bytes() if path.is_file() else b""))
    if repo is None:
        ledgers, _ = read_ledger_files(ws.root)
        digest.update(repr(sorted((path, hashlib.sha256(data).hexdigest()) for path, data in ledgers.items())).encode())
    return digest.hexdigest()


def _load_working(sources: list[Source], texts: dict[str, bytes],
                  cache) -> tuple[list[Document], dict[tuple, LoadResult]]:
    """The working documents, and in a cold run each one's load result by its files' paths and blob ids, which
    the proof takes for the same files in a commit instead of parsing them again."""
    if cache is not None:
        return load_sources(sources, texts, cache).documents, {}
    each = load_each(sources, texts)
    return [doc for one in each.values() for doc in one.documents], each


def _verify(ws: Workspace, repo, documents: list[Document], cache, parsed: dict | None = None) -> VerifyReport:
    """parsed: the working documents' load results by their files' paths and blob ids, which the proof takes for
    the same files in a commit instead of parsing them again (a cold run)."""
    report = VerifyReport()
    verifier = ws.verifier()
    if repo is None:
        evaluation = ws.evaluate()
        report.history = False
        report.findings += evaluation.findings
        report.notes.append("no git history here: signatures were verified, but the order of the record (what "
                            "came before what) is not proven; clone with full history for that")
    else:
        proof = prove(repo, verifier, cache, full=True, parsed=parsed)
        tags = repo.tags()
        if cache is not None:
            cache.flush(keep_unused=True)
        evaluation = proof.evaluation
        report.findings += proof.findings
        report.findings += _tag_findings(proof, tags, report)
        report.notes += _legacy_notes(documents, evaluation)
        if proof.unprovable:
            revisions = sorted(set(proof.unprovable))
            report.notes.append(f"the history was squashed: the text of {len(revisions)} superseded revisions "
                                f"({', '.join(revisions[:6])}) is no longer in it; their signatures still verify")
    ws.keep_verified(verifier)
    report.findings += compare_documents(documents, evaluation)[1]
    report.signatures = evaluation.signatures_verified
    chain = evaluation.chain
    if chain.latest is not None and chain.anchor is not None:
        report.versions, report.anchor, report.unsigned = chain.latest.version, chain.anchor.fingerprint, \
            chain.latest.unsigned
    report.notes[:0] = roster_report(evaluation) + demo_key_notes(ws.root, evaluation)
    return report


def _tag_findings(proof: Proof, tags: dict, report: VerifyReport) -> list[Finding]:
    findings = []
    for (number, revision), commit in sorted(proof.release_commits.items()):
        name = tag_name(number, revision)
        tag = tags.get(name)
        if tag is None:
            report.missing_tags.append(name)
        elif tag.commit != commit.sha:
            findings.append(Finding(name, 1, "tag-moved",
                                    f"tag {name} points at {tag.commit[:10]}, not at the release commit "
                                    f"{commit.sha[:10]}", f"move it back: git tag -f -a {name} {commit.sha[:10]}"))
    return findings


def _legacy_notes(documents: list[Document], evaluation: Evaluation) -> list[str]:
    """Revisions in documents' revision records that were released before the signed record began."""
    legacy = []
    for doc in documents:
        record = evaluation.records.get(doc.number, DocumentRecord(doc.number))
        signed = {cycle.revision for cycle in record.cycles}
        legacy += [f"{doc.number} {row.revision}" for row in doc.history if row.revision not in signed
                   and row.revision != doc.revision]
    if not legacy:
        return []
    return [f"{len(legacy)} earlier revisions were released before the signed record began (their approvals are "
            "on paper, not in the ledger): " + ", ".join(legacy[:8]) + (" …" if len(legacy) > 8 else "")]


def restore_tags(ws: Workspace) -> list[str]:
    """Create the release tags missing from this clone, at the commits that recorded the releases."""
    repo = full_history_repo(ws.root)
    if repo is None:
        return []
    created = []
    with repo:
        proof = prove(repo, ws.verifier(), ws.parse_cache(autosave=False), full=False)
        tags = repo.tags()
        labels = ws.config.messages
        for (number, revision), commit in sorted(proof.release_commits.items()):
            name = tag_name(number, revision)
            if name not in tags and not proof.evaluation.doubtful(number):
                doc = proof.released[(number, revision)]
                repo.create_tag(name, commit.sha, f"{number} {doc.title} {revision} {labels.fields.effective} "
                                                 f"{doc.effective}\n")
                created.append(name)
    return created


def roster_report(evaluation: Evaluation) -> list[str]:
    """The trust anchor, every approved configuration version, and the keys of the roster in force."""
    chain = evaluation.chain
    if chain.anchor is None:
        return ["no approved configuration: there is no trust anchor yet"]
    lines = [f"trust anchor: configuration version 1, {chain.anchor.fingerprint} — compare it with the signed paper "
             "record of the first roster"]
    for roster, entry in zip(chain.versions, chain.entries):
        lines.append(f"configuration version {roster.version}: approved by {entry.statement.name} on "
                     f"{entry.statement.at} ({roster.fingerprint[:19]}…)")
    lines += _key_lines(chain.versions[-1])
    return lines


def _key_lines(roster: Roster) -> list[str]:
    lines = [f"keys in configuration version {roster.version}:"]
    for name in roster.model.people:
        for fingerprint in list(roster.keys(name)) or ["(no key)"]:
            lines.append(f"  {name} ({roster.position_of(name)}): {fingerprint}")
    return lines


def demo_key_notes(root: Path, evaluation: Evaluation) -> list[str]:
    """Whose keys in the roster are published demonstration keys (their signatures prove nothing)."""
    latest = evaluation.chain.latest
    folder = Path(root) / DEMO_KEYS
    if latest is None or not folder.is_dir():
        return []
    published = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not has_private_key(path.read_bytes()[:16384]):
            continue
        try:
            owner = latest.owner_of(load_signer(str(path), demo_folder=folder).public.fingerprint)
        except SigningError:
            continue
        if owner:
            published.append(owner)
    if not published:
        return []
    return [f"DEMONSTRATION KEYS: the private keys of {', '.join(published)} are published in {DEMO_KEYS}/; anyone "
            "can sign as them, so their signatures prove nothing outside this demonstration"]


@dataclass
class RevisionHistory:
    number: str
    title: str
    rows: list[dict] = field(default_factory=list)


def history(ws: Workspace, number: str | None = None) -> list[RevisionHistory]:
    """Each document's revision record, with what the signed record says of every revision."""
    documents = [ws.find(number)] if number else ws.documents()
    evaluation = ws.evaluate()
    labels = ws.config.messages
    result = []
    for doc in sorted(documents, key=lambda d: d.number):
        record = evaluation.record(doc.number)
        entry = RevisionHistory(doc.number, doc.title)
        for row in doc.history:
            cycle = record.released(row.revision)
            signatures = [f"{labels.role_label(s.statement.role)} {s.name} {s.statement.at}" for s in cycle.approvals] \
                if cycle else []
            entry.rows.append({
                "revision": row.revision, "date": row.date.isoformat(), "section": row.section,
                "summary": row.summary, "by": row.by, "approved_by": row.approved_by or "",
                "effective": cycle.effective_day.isoformat() if cycle else "",
                "released_by": cycle.signed_release.name if cycle else "",
                "released_at": cycle.signed_release.statement.at if cycle else "",
                "signatures": signatures,
                "record": "signed" if cycle else ("in progress" if record.open and record.open.revision ==
                                                  row.revision else "not in the signed record"),
            })
        result.append(entry)
    return result
