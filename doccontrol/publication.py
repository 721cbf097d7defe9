"""What is in force: the current released revision of every document, read from git.

The site and the audit pack publish only this set. It comes from release events in
the history (commit trailers), and each document's text is read from its release
commit, so a draft in the working tree, or a revision in progress on main, cannot
leak; a release whose effective date is still ahead is not yet current.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from . import clock
from .config import Config
from .loader import MANUAL_INDEX, Source, load_sources, load_worktree
from .model import Document, Finding, fingerprint
from .repo import History, ReleaseEvent, Repo, RepoError

NO_HISTORY_NOTICE = ("no git history here (not a git repository, or a shallow clone): publishing only documents "
                     "whose present content is approved and effective; clone with full history to publish from the release record")


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

    withdrawn: the withdrawals in force on as_of (for the registers); changes: every release and
    withdrawal dated on or before as_of, newest first; upcoming: releases whose effective date is
    still ahead; held_back: one finding per document whose record failed verification and which
    is therefore not published; unsigned: the policy says signatures are not key-verified.
    """

    as_of: dt.date
    documents: list[Document]
    commits: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    preview: bool = False
    notice: str = ""
    withdrawn: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    upcoming: list[Change] = field(default_factory=list)
    held_back: list[Finding] = field(default_factory=list)
    unsigned: bool = False


def full_history_repo(config: Config) -> Repo | None:
    """The repository, open, when it holds its whole release record; None in an export without
    .git, an empty repository or a shallow clone."""
    try:
        repo = Repo(config.root)
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


def in_force(config: Config, as_of: dt.date, cache=None) -> Publication:
    """What is in force on as_of: from the release record in git, or, without history, from approved files.

    With a `cache.ParseCache`, a released file whose bytes were parsed before (by `check`,
    which stores each file by its path and blob id) is not parsed again.
    """
    repo = full_history_repo(config)
    if repo is None:
        return approved_in_worktree(config, as_of, cache)
    with repo:
        return released_documents(config, repo, as_of, cache=cache)


def approved_in_worktree(config: Config, as_of: dt.date, cache=None) -> Publication:
    """The fallback without history: effective files whose every signature still matches their content."""
    result = load_worktree(config, cache)
    documents = [doc for doc in result.documents if self_evidently_in_force(config, doc, as_of)]
    return Publication(as_of, documents, {}, result.findings, notice=NO_HISTORY_NOTICE)


def self_evidently_in_force(config: Config, doc: Document, as_of: dt.date) -> bool:
    if doc.status != "effective" or not doc.effective or doc.effective > as_of:
        return False
    if not (doc.reviewer and doc.approver):
        return False
    stamp = fingerprint(doc)
    return all(sig.fingerprint == stamp and config.may_sign(sig.name, sig.role, doc.type)
               and sig.name != doc.prepared.name for sig in doc.approvals)


def current_releases(history: History, as_of: dt.date) -> dict[str, ReleaseEvent]:
    """The release in force on as_of for each document number (withdrawn ones left out)."""
    withdrawn = {event.number for event in history.obsoletes if event.date <= as_of}
    current: dict[str, ReleaseEvent] = {}
    for event in history.releases:
        if event.effective <= as_of and event.commit.date.date() <= as_of:
            current[event.number] = event
    return {number: event for number, event in current.items() if number not in withdrawn}


def released_documents(config: Config, repo: Repo, as_of: dt.date, history: History | None = None,
                       cache=None) -> Publication:
    """Read the current released revision of every document from its release commit."""
    history = history or repo.history(paths=False)  # releases and withdrawals are all it needs
    events = current_releases(history, as_of)
    documents, findings, commits = [], [], {}
    for event in sorted(events.values(), key=lambda e: e.number):
        docs, problems = read_release(repo, event, cache)
        findings.extend(problems)
        for doc in docs:
            documents.append(doc)
            commits[doc.number] = event.commit.sha
    publication = Publication(as_of, documents, commits, findings)
    _add_changes(publication, history, {doc.number: doc.title for doc in documents})
    return publication


def _add_changes(publication: Publication, history: History, titles: dict[str, str]) -> None:
    as_of = publication.as_of
    for event in history.releases:
        titles.setdefault(event.number, "")
        change = Change(event.number, titles[event.number], event.revision, "release", event.effective)
        (publication.changes if event.effective <= as_of else publication.upcoming).append(change)
    for obsolete in history.obsoletes:
        if obsolete.date <= as_of:
            change = Change(obsolete.number, titles.get(obsolete.number, ""), "", "withdrawal", obsolete.date)
            publication.changes.append(change)
            publication.withdrawn.append(change)
    publication.changes.sort(key=lambda c: (c.date, c.number), reverse=True)
    publication.upcoming.sort(key=lambda c: (c.date, c.number))


def read_release(repo: Repo, event: ReleaseEvent, cache=None) -> tuple[list[Document], list[Finding]]:
    parts = []
    if event.path.endswith("/" + MANUAL_INDEX):
        folder = event.path.rsplit("/", 1)[0]
        parts = [p for p in repo.list_folder(event.commit.sha, folder) if p.endswith(".md") and p != event.path]
    source = Source(event.path, parts)
    try:
        texts = repo.read_files(event.commit.sha, [event.path, *parts])
    except KeyError:
        return [], [Finding(event.path, 1, "release-missing",
                            f"release {event.number} {event.revision} names a file that is not in commit {event.commit.sha[:10]}",
                            "the history was altered; restore it or release the document again")]
    result = load_sources([source], texts, cache)
    return result.documents, result.findings


def released_revisions(history: History, number: str) -> list[ReleaseEvent]:
    """The released revisions of one document, oldest first; a revision released twice counts by its last release."""
    latest: dict[str, ReleaseEvent] = {}
    for event in history.releases:
        if event.number == number:
            latest.pop(event.revision, None)
            latest[event.revision] = event
    return list(latest.values())


def revision_document(repo: Repo, event: ReleaseEvent, cache=None) -> Document:
    """The document as released in event; an error naming the commit when it cannot be read."""
    from .errors import DoccontrolError

    docs, problems = read_release(repo, event, cache)
    if not docs:
        raise DoccontrolError(f"{event.number} {event.revision} cannot be read from commit {event.commit.sha[:10]}",
                              findings=problems)
    return docs[0]


def preview_documents(config: Config, cache=None) -> Publication:
    """The working tree as it stands, drafts included (for `build --preview` only)."""
    result = load_worktree(config, cache)
    documents = [doc for doc in result.documents if doc.status != "obsolete"]
    return Publication(clock.today(), documents, {}, result.findings, preview=True)
