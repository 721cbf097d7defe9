"""Change control: revise, submit, approve, release and withdraw documents, and prove the record.

Each step edits the document's front matter atomically and commits exactly the
document's own files, with a trailer that records the event; release also tags.
Nothing runs over uncommitted changes to the files it would touch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from . import clock
from .errors import DoccontrolError
from .fileio import edit_front_matter
from .model import ROLE_MEANINGS, STATUS_LABELS, Document, Finding, Revision, Severity, fingerprint
from .publication import current_releases, read_release
from .repo import APPROVAL_TRAILER, OBSOLETE_TRAILER, RELEASE_TRAILER, SUBMIT_TRAILER, History, ReleaseEvent, RepoError
from .validate import validate
from .workspace import Workspace


def doc_paths(doc: Document) -> list[str]:
    return [doc.path, *(part.path for part in doc.parts)]


def _listing(docs: list[Document]) -> str:
    """Documents named in a commit subject; a long batch is counted, its trailers name each one."""
    if len(docs) > 3:
        return f"{len(docs)} documents"
    return ", ".join(f"{d.number} {d.revision}" for d in docs)


class ChangeControl:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.config = workspace.config

    # -- guards ------------------------------------------------------------------------------

    def _require_clean(self, repo, docs: list[Document], action: str):
        dirty = repo.dirty_paths()
        touched = [p for doc in docs for p in doc_paths(doc) if p in dirty]
        folders = {doc.path.rsplit("/", 1)[0] for doc in docs if doc.parts}
        touched += [p for p in dirty if any(p.startswith(f + "/") for f in folders) and p not in touched]
        if touched:
            raise DoccontrolError(f"cannot {action}: uncommitted changes in " + ", ".join(sorted(touched)),
                                  fix="commit them (for a draft: `doccontrol submit`), or undo them with git restore")

    def _commit(self, repo, docs: list[Document], subject: str, trailers: list[str]) -> str:
        message = subject + "\n\n" + "\n".join(trailers) + "\n"
        paths = [p for doc in docs for p in doc_paths(doc)]
        try:
            return repo.commit(paths, message)
        except RepoError as error:
            raise DoccontrolError(str(error), fix="check `git status`; nothing was lost") from None

    def _errors_by_path(self, ignore: set[str] = frozenset()) -> dict[str, list[Finding]]:
        """Errors from one validation of the whole repository, grouped by file."""
        grouped: dict[str, list[Finding]] = {}
        for finding in validate(self.config, self.ws.documents(), clock.today()):
            if finding.severity is Severity.ERROR and finding.rule not in ignore:
                grouped.setdefault(finding.path, []).append(finding)
        return grouped

    def _ready(self, numbers: list[str], status: str, action: str, ignore: set[str] = frozenset()) -> list[Document]:
        """The documents, once each is in the required status and free of errors."""
        docs = self.ws.find_many(numbers)
        grouped = self._errors_by_path(ignore)
        for doc in docs:
            if doc.status != status:
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a document that is "
                                      f"{STATUS_LABELS[status]} ({status}) can be {action}",
                                      path=doc.path, line=doc.line_of("status"))
            errors = [f for path in doc_paths(doc) for f in grouped.get(path, [])]
            if errors:
                raise DoccontrolError(f"{doc.number} cannot be {action}: fix its errors first", findings=errors)
        return docs

    # -- steps -------------------------------------------------------------------------------

    def revise(self, number: str, reason: str, author: str, major: bool = False, section: str = "全文") -> Document:
        doc = self.ws.find(number)
        if doc.status != "effective":
            raise DoccontrolError(f"{number} is {doc.status_label} ({doc.status}); only an effective document can be revised",
                                  path=doc.path, line=doc.line_of("status"),
                                  fix="finish the revision in progress (submit, approve, release) first")
        if not self.config.in_roster(author):
            raise DoccontrolError(f"{author} is not in the roster", fix="pass --author with a name from doccontrol.yml")
        if not reason.strip():
            raise DoccontrolError("a revision needs a reason", fix='pass --reason "修改原因"')
        new_rev = doc.rev.next(major=major, max_modification=self.config.model.max_modification)
        today = clock.today()
        with self.ws.repo() as repo:
            self._require_clean(repo, [doc], "revise")

            def change(meta):
                meta["revision"] = str(new_rev)
                meta["status"] = "draft"
                meta["prepared"] = {"name": author, "date": today}
                for key in ("approvals", "effective"):
                    meta.pop(key, None)
                meta["history"].append({"revision": str(new_rev), "date": today, "section": section,
                                        "summary": reason.strip(), "by": author})

            edit_front_matter(self.ws.root / doc.path, change)
            self._commit(repo, [doc], f"revise: open {number} {new_rev} as a draft", [])
        return self.ws.find(number)

    def submit(self, numbers: list[str]) -> list[Document]:
        docs = self._ready(numbers, "draft", "submitted for review", ignore={"edited-after-approval"})
        with self.ws.repo() as repo:
            for doc in docs:
                edit_front_matter(self.ws.root / doc.path, lambda meta: meta.__setitem__("status", "review"))
            self._commit(repo, docs, f"submit: {_listing(docs)} for review",
                         [f"{SUBMIT_TRAILER}: {d.number} {d.revision}" for d in docs])
        return self.ws.find_many(numbers)

    def approve(self, numbers: list[str], name: str, role: str, comment: str = "") -> list[Document]:
        if role not in ROLE_MEANINGS:
            raise DoccontrolError(f"role {role!r} is not a signing role", fix="use --role 审核 or --role 批准")
        docs = self.ws.find_many(numbers)
        for doc in docs:
            self._refuse_signature(doc, name, role)
        stamp_time = clock.now()
        with self.ws.repo() as repo:
            self._require_clean(repo, docs, "approve")
            trailers = []
            for doc in docs:
                stamp = fingerprint(doc)
                meaning = ROLE_MEANINGS[role] + (f"；意见：{comment.strip()}" if comment.strip() else "")
                complete = role == "批准"

                def change(meta, stamp=stamp, meaning=meaning, complete=complete):
                    approvals = meta.setdefault("approvals", [])
                    approvals.append({"role": role, "name": name, "at": stamp_time, "meaning": meaning,
                                      "fingerprint": stamp})
                    if complete:
                        meta["status"] = "approved"

                edit_front_matter(self.ws.root / doc.path, change)
                trailers.append(f"{APPROVAL_TRAILER}: {doc.number} {doc.revision} {role} {name} {stamp}")
            self._commit(repo, docs, f"approve: {role} by {name} for {_listing(docs)}", trailers)
        return self.ws.find_many(numbers)

    def _refuse_signature(self, doc: Document, name: str, role: str):
        where = {"path": doc.path, "line": doc.line_of("status")}
        if doc.status != "review":
            raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a document in review can be signed",
                                  fix=f"submit it first: doccontrol submit {doc.number}", **where)
        if not self.config.in_roster(name):
            raise DoccontrolError(f"{name} is not in the roster, so cannot sign", fix="add the person to doccontrol.yml `people:`")
        if not self.config.may_sign(name, role, doc.type):
            allowed = ", ".join(self.config.signers_for(role, doc.type)) or "nobody"
            raise DoccontrolError(f"{name} ({self.config.position_of(name)}) may not sign {role} for a {doc.type}",
                                  fix=f"who may: {allowed}")
        if name == doc.prepared.name:
            raise DoccontrolError(f"{name} prepared {doc.number} {doc.revision} and may not sign it",
                                  fix="another person must review and approve")
        current = fingerprint(doc)
        for sig in doc.approvals:
            if sig.fingerprint != current:
                raise DoccontrolError(f"{doc.number} changed after {sig.name} signed {sig.role}; the signature no longer matches",
                                      fix="undo the change, or revise the document and have it approved again", **where)
            if sig.role == role:
                raise DoccontrolError(f"{doc.number} {doc.revision} already has a {role} signature by {sig.name}", **where)
        if role == "批准" and doc.signature("审核") is None:
            raise DoccontrolError(f"{doc.number} needs its 审核 signature before 批准",
                                  fix=f"doccontrol approve {doc.number} --as NAME --role 审核", **where)

    def release(self, numbers: list[str], effective: dt.date | None = None) -> list[ReleaseEvent]:
        effective = effective or clock.today()
        docs = self._ready(numbers, "approved", "released")
        for doc in docs:
            last_signed = max(sig.at.date() for sig in doc.approvals)
            if effective < last_signed:
                raise DoccontrolError(f"effective date {effective} is before the approval on {last_signed}",
                                      fix="choose an effective date on or after the approval")
        with self.ws.repo() as repo:
            self._require_clean(repo, docs, "release")
            trailers = []
            for doc in docs:
                approver = doc.approver.name

                def change(meta, doc=doc, approver=approver):
                    meta["status"] = "effective"
                    meta["effective"] = effective
                    for row in meta["history"]:
                        if row["revision"] == doc.revision:
                            row["approved_by"] = approver
                    _move_after(meta, "effective", "approvals")

                edit_front_matter(self.ws.root / doc.path, change)
                trailers.append(f"{RELEASE_TRAILER}: {doc.number} {doc.revision} {effective.isoformat()} {doc.path}")
            sha = self._commit(repo, docs, f"release: {_listing(docs)} effective {effective.isoformat()}", trailers)
            events = []
            history = repo.history()
            for doc, released in zip(docs, self.ws.find_many(numbers)):
                tag = tag_name(released)
                repo.create_tag(tag, sha, tag_message(released))
                events.append(next(e for e in reversed(history.releases) if e.number == doc.number))
        return events

    def obsolete(self, number: str, reason: str, superseded_by: str | None = None,
                 date: dt.date | None = None) -> Document:
        doc = self.ws.find(number)
        if doc.status == "obsolete":
            raise DoccontrolError(f"{number} is already obsolete", path=doc.path, line=doc.line_of("status"))
        if not reason.strip():
            raise DoccontrolError("withdrawing a document needs a reason", fix='pass --reason "作废原因"')
        if superseded_by:
            self.ws.find(superseded_by)
        date = date or clock.today()
        with self.ws.repo() as repo:
            self._require_clean(repo, [doc], "withdraw")

            def change(meta):
                meta["status"] = "obsolete"
                meta["obsolete_reason"] = reason.strip()
                if superseded_by:
                    meta["superseded_by"] = superseded_by

            edit_front_matter(self.ws.root / doc.path, change)
            self._commit(repo, [doc], f"obsolete: withdraw {number}",
                         [f"{OBSOLETE_TRAILER}: {number} {date.isoformat()}"])
        return self.ws.find(number)


def tag_name(doc: Document) -> str:
    return f"{doc.number}/{doc.rev.tag_suffix}"


def tag_message(doc: Document) -> str:
    lines = [f"{doc.number} {doc.title} {doc.revision} 生效日期 {doc.effective}",
             "", f"编制: {doc.prepared.name} {doc.prepared.date}"]
    for sig in doc.approvals:
        lines.append(f"{sig.role}: {sig.name} {sig.at.isoformat()} {sig.fingerprint}")
    return "\n".join(lines) + "\n"


def _move_after(meta, key: str, after: str):
    """Keep `effective` next to the approvals in the file, for a reader's eye."""
    if after not in meta or key not in meta:
        return
    value = meta.pop(key)
    position = list(meta.keys()).index(after) + 1
    meta.insert(position, key, value)


# -- reading the record ------------------------------------------------------------------------

@dataclass
class RevisionHistory:
    number: str
    title: str
    rows: list[dict] = field(default_factory=list)


def history(ws: Workspace, number: str | None = None) -> list[RevisionHistory]:
    """The revision record of each document merged with git (commit, author, date), from one log pass."""
    documents = ws.documents()
    if number:
        documents = [ws.find(number)]
    with ws.repo() as repo:
        hist = repo.history(paths=False)  # only the release events are used here
    releases: dict[tuple[str, str], ReleaseEvent] = {(e.number, e.revision): e for e in hist.releases}
    result = []
    for doc in sorted(documents, key=lambda d: d.number):
        record = RevisionHistory(doc.number, doc.title)
        for row in doc.history:
            event = releases.get((doc.number, row.revision))
            record.rows.append({
                "revision": row.revision, "date": row.date.isoformat(), "section": row.section,
                "summary": row.summary, "by": row.by, "approved_by": row.approved_by or "",
                "effective": event.effective.isoformat() if event else "",
                "commit": event.commit.sha[:10] if event else "",
                "committed_by": event.commit.author if event else "",
                "committed_at": event.commit.date.isoformat() if event else "",
            })
        result.append(record)
    return result


def verify(ws: Workspace) -> list[Finding]:
    """Prove the record: released content matches its signatures, tags agree, nothing was lost."""
    config = ws.config
    findings: list[Finding] = []
    with ws.repo() as repo:
        hist = repo.history()
        tags = repo.tags()
        released_keys = set()
        for event in hist.releases:
            released_keys.add((event.number, event.revision))
            docs, problems = read_release(repo, event)
            findings.extend(problems)
            for doc in docs:
                findings.extend(_verify_release(config, event, doc))
            findings.extend(_verify_tag(repo, tags, event))
        known = {f"{e.number}/{e.revision.replace('/', '')}" for e in hist.releases}
        for name, tag in tags.items():
            if name.count("/") == 1 and config.type_of_number(name.split("/")[0]) and name not in known:
                findings.append(Finding(name, 1, "tag-orphan",
                                        f"tag {name} names a release that is not in the history of HEAD",
                                        "the history was rewritten or the tag was made by hand; restore the history or delete the tag"))
    for doc in ws.documents():
        for row in doc.history:
            if row.approved_by and (doc.number, row.revision) not in released_keys:
                findings.append(Finding(doc.path, doc.line_of("history"), "release-lost",
                                        f"{doc.number} {row.revision} is recorded as released, but its release is not in the git history",
                                        "the history was rewritten; restore it from a backup or the remote"))
        if doc.status == "effective" and (doc.number, doc.revision) not in released_keys:
            findings.append(Finding(doc.path, doc.line_of("status"), "release-lost",
                                    f"{doc.number} {doc.revision} is marked effective but was never released with `doccontrol release`",
                                    "release it properly, or restore the history"))
    return findings


def restore_tags(ws: Workspace) -> list[str]:
    """Recreate release tags missing from this clone, from the release record in the history.

    Tags only mirror the record; a plain clone of a branch may not carry them. A tag
    that exists but points elsewhere is left alone for `verify` to report.
    """
    created = []
    with ws.repo() as repo:
        tags = repo.tags()
        for event in repo.history().releases:
            name = f"{event.number}/{event.revision.replace('/', '')}"
            if name in tags or name in created:
                continue
            docs, _ = read_release(repo, event)
            if docs:
                repo.create_tag(name, event.commit.sha, tag_message(docs[0]))
                created.append(name)
    return created


def _verify_release(config, event: ReleaseEvent, doc: Document) -> list[Finding]:
    where = f"{event.path}@{event.commit.sha[:10]}"
    out = []
    stamp = fingerprint(doc)
    if doc.number != event.number or doc.revision != event.revision:
        out.append(Finding(where, 1, "release-mismatch",
                           f"release names {event.number} {event.revision}, the file holds {doc.number} {doc.revision}",
                           "the release commit was made by hand; release again with doccontrol"))
    for role in ("审核", "批准"):
        if doc.signature(role) is None:
            out.append(Finding(where, doc.line_of("status"), "approval-missing",
                               f"released {doc.number} {doc.revision} has no {role} signature", "revise and approve it properly"))
    for sig in doc.approvals:
        line = doc.line_of(f"approvals.{doc.approvals.index(sig)}")
        if sig.fingerprint != stamp:
            out.append(Finding(where, line, "edited-after-approval",
                               f"released content of {doc.number} {doc.revision} does not match what {sig.name} signed ({sig.role})",
                               "the document was changed after approval; revise it and approve it again"))
        if not config.in_roster(sig.name):
            out.append(Finding(where, line, "signer-roster", f"{sig.name} signed {sig.role} but is not in the roster",
                               "only people in doccontrol.yml may sign"))
        elif not config.may_sign(sig.name, sig.role, doc.type):
            out.append(Finding(where, line, "signer-role", f"{sig.name} may not sign {sig.role} for a {doc.type}",
                               "have an authorised person sign a new revision"))
        if sig.name == doc.prepared.name:
            out.append(Finding(where, line, "self-approval", f"{sig.name} signed {sig.role} for a revision they prepared",
                               "another person must sign"))
        if sig.at.date() > event.effective:
            out.append(Finding(where, doc.line_of("effective"), "date-order",
                               f"effective date {event.effective} is before {sig.role} on {sig.at.date()}",
                               "an effective date cannot precede its approval"))
    if doc.effective != event.effective:
        out.append(Finding(where, doc.line_of("effective"), "release-mismatch",
                           f"effective date in the file ({doc.effective}) differs from the release record ({event.effective})",
                           "do not edit the effective date by hand"))
    return out


def _verify_tag(repo, tags, event: ReleaseEvent) -> list[Finding]:
    name = f"{event.number}/{event.revision.replace('/', '')}"
    tag = tags.get(name)
    if tag is None:
        return [Finding(name, 1, "tag-missing", f"release tag {name} is missing",
                        "fetch tags from the remote (git fetch --tags), or recreate it from the record: "
                        "doccontrol verify --restore-tags")]
    if tag.commit != event.commit.sha:
        return [Finding(name, 1, "tag-moved", f"tag {name} points at {tag.commit[:10]}, not the release commit {event.commit.sha[:10]}",
                        f"move it back: git tag -f -a {name} {event.commit.sha[:10]}")]
    if tag.signed and not repo.verify_tag(name):
        return [Finding(name, 1, "tag-signature", f"the signature on tag {name} does not verify",
                        "check the signer's key; the tag may have been forged")]
    return []


def due(ws: Workspace, within_days: int, today: dt.date | None = None) -> list[Document]:
    today = today or clock.today()
    limit = today + dt.timedelta(days=within_days)
    return sorted((doc for doc in ws.documents()
                   if doc.status == "effective" and doc.next_review and doc.next_review <= limit),
                  key=lambda d: (d.next_review, d.number))


__all__ = ["ChangeControl", "history", "verify", "due", "tag_name", "current_releases",
           "History", "Revision"]
