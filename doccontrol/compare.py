"""Which revisions a redline compares, and their texts.

Released revisions are read only through `publication.released_revisions` and
`publication.revision_document`; the working revision is the working tree's file. Nothing
here renders: the diff, the site pages and the Word redline receive the documents decided here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import clock
from .errors import DoccontrolError
from .model import Document, Revision, RevisionError
from .publication import full_history_repo, released_revisions, revision_document
from .repo import ReleaseEvent, Repo

NO_HISTORY = ("released revisions are read from git history, and this copy has none (not a git repository, "
              "or a shallow clone)")
UNSHALLOW = "clone the repository with its full history (or run `git fetch --unshallow`)"


@dataclass
class Comparison:
    """Two revisions of one document: old is None when new is the first."""

    old: Document | None
    new: Document
    notice: str = ""


@dataclass(frozen=True)
class Redline:
    """A released revision and the released revision it replaced (for the pack and the site)."""

    old: Document
    new: Document
    event: ReleaseEvent


def compare(ws, number: str, from_rev: str | None = None, to_rev: str | None = None) -> Comparison:
    """The revisions to compare: --to (default: the working revision) against --from (default: the
    revision in force today; none when the document was never released)."""
    for value, option in ((from_rev, "--from"), (to_rev, "--to")):
        if value is not None:
            try:
                Revision.parse(value)
            except RevisionError as error:
                raise DoccontrolError(str(error), fix=f"write the revision as in the register, e.g. {option} A/0") from None
    working = ws.find(number)
    repo = full_history_repo(ws.config)
    if repo is None:
        raise DoccontrolError(f"cannot compare revisions of {number}: {NO_HISTORY}", fix=UNSHALLOW)
    with repo:
        events = released_revisions(repo.history(paths=False), number)
        new = _revision(repo, events, working, to_rev) if to_rev else working
        if from_rev:
            return Comparison(_revision(repo, events, working, from_rev), new)
        current = in_force(events, working, clock.today())
        if current is None:
            notice = (f"{number} has no revision in force; everything in {new.revision} is shown as new"
                      if not events else f"{number} has no revision in force today; compare with --from REV")
            if events:
                raise DoccontrolError(notice, fix="revisions you can compare: " + _known(events, working))
            return Comparison(None, new, notice)
        old = revision_document(repo, current)
        notice = ""
        if old.revision == new.revision:
            previous = [e.revision for e in events if e.revision != old.revision]
            hint = f"; to see what it changed: doccontrol diff {number} --from {previous[-1]}" if previous else ""
            notice = f"the working revision {new.revision} is the revision in force{hint}"
        return Comparison(old, new, notice)


def redline_pair(ws, number: str, revision: str | None = None, from_rev: str | None = None) -> Comparison:
    """For `export --redline`: the revision exported (default: the one in force) and the one it is compared
    with (default: the released revision before it, or for the working draft the one in force)."""
    for value, option in ((from_rev, "--from"), (revision, "--revision")):
        if value is not None:
            try:
                Revision.parse(value)
            except RevisionError as error:
                raise DoccontrolError(str(error), fix=f"write the revision as in the register, e.g. {option} A/0") from None
    working = ws.find(number)
    repo = full_history_repo(ws.config)
    if repo is None:
        raise DoccontrolError(f"cannot make a redline of {number}: {NO_HISTORY}", fix=UNSHALLOW)
    with repo:
        events = released_revisions(repo.history(paths=False), number)
        if revision is None:
            current = in_force(events, working, clock.today())
            if current is None:
                raise DoccontrolError(f"{number} has no revision in force",
                                      fix=f"name one: doccontrol export {number} --redline --revision REV "
                                          f"(revisions: {_known(events, working)})")
            revision = current.revision
        new = _revision(repo, events, working, revision)
        if from_rev:
            return Comparison(_revision(repo, events, working, from_rev), new)
        released = [e.revision for e in events]
        if new.revision in released:
            position = released.index(new.revision)
            previous = events[position - 1] if position else None
        else:
            previous = in_force(events, working, clock.today()) or (events[-1] if events else None)
        if previous is None:
            return Comparison(None, new, f"{number} {new.revision} is its first revision; everything is shown as inserted")
        return Comparison(revision_document(repo, previous), new)


def in_force(events: list[ReleaseEvent], working: Document, today: dt.date) -> ReleaseEvent | None:
    """The released revision in force today: the last one whose effective date has come, unless withdrawn."""
    if working.status == "obsolete":
        return None
    due = [e for e in events if e.effective <= today and e.commit.date.date() <= today]
    return due[-1] if due else None


def _revision(repo: Repo, events: list[ReleaseEvent], working: Document, revision: str) -> Document:
    named = [e for e in events if e.revision == revision]
    if named:
        return revision_document(repo, named[-1])
    if working.revision == revision:
        return working
    raise DoccontrolError(f"{working.number} has no revision {revision}",
                          fix="revisions you can compare: " + _known(events, working))


def _known(events: list[ReleaseEvent], working: Document) -> str:
    released = [e.revision for e in events]
    return ", ".join(released + ([] if working.revision in released else [f"{working.revision} (working)"]))


def predecessors(config, documents: list[Document]) -> dict[str, tuple[ReleaseEvent, ReleaseEvent]]:
    """For each document given (a released revision), its release and the release of the revision it
    replaced, when there is one; nothing is read but the history."""
    repo = full_history_repo(config)
    if repo is None:
        return {}
    found: dict[str, tuple[ReleaseEvent, ReleaseEvent]] = {}
    with repo:
        history = repo.history(paths=False)
    for doc in documents:
        events = released_revisions(history, doc.number)
        position = next((k for k, e in enumerate(events) if e.revision == doc.revision), None)
        if position:
            found[doc.number] = (events[position - 1], events[position])
    return found


def read_revisions(config, events: list[ReleaseEvent], cache=None) -> list[Document | None]:
    """The documents as released in events, in order; None for one that cannot be read (`verify` says why)."""
    repo = full_history_repo(config)
    if repo is None:
        raise DoccontrolError(f"cannot read released revisions: {NO_HISTORY}", fix=UNSHALLOW)
    found: list[Document | None] = []
    with repo:
        for event in events:
            try:
                found.append(revision_document(repo, event, cache))
            except DoccontrolError:
                found.append(None)
    return found


def redlines_since(config, documents: list[Document], since: dt.date, as_of: dt.date, cache=None) -> list[Redline]:
    """Every release of the given documents that came into force from since to as_of and replaced an earlier one."""
    repo = full_history_repo(config)
    if repo is None:
        raise DoccontrolError(f"cannot add redlines: {NO_HISTORY}", fix=UNSHALLOW)
    found: list[Redline] = []
    with repo:
        history = repo.history(paths=False)
        for doc in documents:
            events = [e for e in released_revisions(history, doc.number) if e.commit.date.date() <= as_of]
            for previous, event in zip(events, events[1:]):
                if since <= event.effective <= as_of:
                    new = doc if event.revision == doc.revision else revision_document(repo, event, cache)
                    found.append(Redline(revision_document(repo, previous, cache), new, event))
    return found
