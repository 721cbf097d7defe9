"""Which revisions a redline compares, and their texts.

Released revisions come from the proven signed record only (`Workspace.releases`, built on
`publication.release_index`): a revision counts when its release statement does and the history
proves its content. The working revision is the working tree's file. Nothing here renders: the diff,
the site pages and the Word redline receive the documents decided here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import clock
from .errors import DoccontrolError
from .model import Document, Revision, RevisionError
from .publication import Released, ReleaseIndex

if TYPE_CHECKING:
    from .workspace import Workspace

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
    event: Released


def _index(ws: Workspace, what: str) -> ReleaseIndex:
    index = ws.releases()
    if index is None:
        raise DoccontrolError(f"cannot {what}: {NO_HISTORY}", fix=UNSHALLOW)
    return index


def _check_revisions(*pairs: tuple[str | None, str]) -> None:
    for value, option in pairs:
        if value is not None:
            try:
                Revision.parse(value)
            except RevisionError as error:
                raise DoccontrolError(str(error), fix=f"write the revision as in the register, e.g. {option} A/0") \
                    from None


def compare(ws: Workspace, number: str, from_rev: str | None = None, to_rev: str | None = None) -> Comparison:
    """The revisions to compare: --to (default: the working revision) against --from (default: the
    revision in force today; none when the document was never released)."""
    _check_revisions((from_rev, "--from"), (to_rev, "--to"))
    working = ws.find(number)
    index = _index(ws, f"compare revisions of {number}")
    events = index.revisions(number)
    new = _revision(events, working, to_rev) if to_rev else working
    if from_rev:
        return Comparison(_revision(events, working, from_rev), new)
    current = index.in_force(number, clock.today())
    if current is None:
        if events:
            raise DoccontrolError(f"{number} has no revision in force today; compare with --from REV",
                                  fix="revisions you can compare: " + _known(events, working))
        return Comparison(None, new, f"{number} has no revision in force; everything in {new.revision} is shown "
                                     "as new")
    old = current.document
    notice = ""
    if old.revision == new.revision:
        previous = [e.revision for e in events if e.revision != old.revision]
        hint = f"; to see what it changed: doccontrol diff {number} --from {previous[-1]}" if previous else ""
        notice = f"the working revision {new.revision} is the revision in force{hint}"
    return Comparison(old, new, notice)


def redline_pair(ws: Workspace, number: str, revision: str | None = None, from_rev: str | None = None) -> Comparison:
    """For `export --redline`: the revision exported (default: the one in force) and the one it is compared
    with (default: the released revision before it, or for the working draft the one in force)."""
    _check_revisions((from_rev, "--from"), (revision, "--revision"))
    working = ws.find(number)
    index = _index(ws, f"make a redline of {number}")
    events = index.revisions(number)
    current = index.in_force(number, clock.today())
    if revision is None:
        if current is None:
            raise DoccontrolError(f"{number} has no revision in force",
                                  fix=f"name one: doccontrol export {number} --redline --revision REV "
                                      f"(revisions: {_known(events, working)})")
        revision = current.revision
    new = _revision(events, working, revision)
    if from_rev:
        return Comparison(_revision(events, working, from_rev), new)
    released = [e.revision for e in events]
    if new.revision in released:
        position = released.index(new.revision)
        previous = events[position - 1] if position else None
    else:
        previous = current or (events[-1] if events else None)
    if previous is None:
        return Comparison(None, new, f"{number} {new.revision} is its first revision; everything is shown as inserted")
    return Comparison(previous.document, new)


def _revision(events: list[Released], working: Document, revision: str) -> Document:
    named = [e for e in events if e.revision == revision]
    if named:
        return named[-1].document
    if working.revision == revision:
        return working
    raise DoccontrolError(f"{working.number} has no revision {revision}",
                          fix="revisions you can compare: " + _known(events, working))


def _known(events: list[Released], working: Document) -> str:
    released = [e.revision for e in events]
    return ", ".join(released + ([] if working.revision in released else [f"{working.revision} (working)"]))


def predecessors(ws: Workspace, documents: list[Document]) -> dict[str, tuple[Released, Released]]:
    """For each document given (a released revision), its release and the release of the revision it
    replaced, when there is one."""
    index = ws.releases()
    if index is None:
        return {}
    found: dict[str, tuple[Released, Released]] = {}
    for doc in documents:
        events = index.revisions(doc.number)
        position = next((k for k, e in enumerate(events) if e.revision == doc.revision), None)
        if position:
            found[doc.number] = (events[position - 1], events[position])
    return found


def read_revisions(events: list[Released]) -> list[Document | None]:
    """The documents as released in events, in order."""
    return [event.document for event in events]


def redlines_since(ws: Workspace, documents: list[Document], since: dt.date, as_of: dt.date) -> list[Redline]:
    """Every release of the given documents that came into force from since to as_of and replaced an earlier one."""
    index = _index(ws, "add redlines")
    found: list[Redline] = []
    for doc in documents:
        events = [e for e in index.revisions(doc.number) if e.released_on <= as_of]
        for previous, event in zip(events, events[1:]):
            if since <= event.effective <= as_of:
                new = doc if event.revision == doc.revision else event.document
                found.append(Redline(previous.document, new, event))
    return found
