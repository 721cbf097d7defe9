"""Change control: revise, submit, approve, return, release and withdraw documents.

Every step but `revise` is a statement signed with the acting person's own key and appended to
the document's ledger. Before anything is written, the statement is judged by the same rules
`check` and `verify` apply to the record (record.judge_document), so a step the record would
not count is refused, with the reason. Then the ledger line and the front-matter change are
written and committed together under the repository lock; if the commit fails, the files are
put back, so the step can simply be run again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from . import clock, frontmatter
from .config import CONFIG_FILE, ConfigError
from .errors import DoccontrolError
from .ledger import CONFIGURATION, Entry, ledger_path, parse_ledger, to_line
from .loader import LoadResult
from .messages import Messages
from .model import STATUS_LABELS, Document, Finding, Severity, fingerprint
from .record import SCOPE_FIELDS, judge_document
from .repo import Repo, RepoError
from .roster import Roster, build_chain
from .signing import PENDING, Signer, SigningError, Verifier, load_signer, signature_digest
from .site_options import OPTIONS_FILE
from .statements import (
    APPROVE,
    ROLE_BY_LABEL,
    ROLE_LABELS,
    SIGNING_ROLES,
    Base,
    Configuration,
    Statement,
    StatementError,
    parse_statement,
    statement_bytes,
    time_text,
    unsafe_character,
)
from .workspace import DEMO_KEYS, Workspace


def doc_paths(doc: Document) -> list[str]:
    return [doc.path, *(part.path for part in doc.parts)]


def role_id(role: str) -> str:
    """review / countersign / approve, also accepted as 审核 / 会签 / 批准."""
    found = ROLE_BY_LABEL.get(role, role)
    if found not in SIGNING_ROLES:
        raise DoccontrolError(f"{role!r} is not a signing role", fix="use --role 审核, 会签 or 批准 "
                                                                      "(or review, countersign, approve)")
    return found


def one_line(label: str, value: str, limit: int = 400) -> str:
    """A value bound for a statement and a commit message: one line of plain text, within limits."""
    value = value.strip()
    if not value:
        raise DoccontrolError(f"{label} must not be empty", fix=f"pass {label} with some text")
    problem = unsafe_character(value)
    if problem:
        raise DoccontrolError(f"{label} contains {problem}", fix="write it on one line, in plain characters")
    if len(value) > limit:
        raise DoccontrolError(f"{label} is {len(value)} characters long; at most {limit} are allowed",
                              fix="shorten it; details belong in the document or the change request")
    return value


@dataclass
class Actor:
    """Who acts: their name in the roster, and the key they sign with (None under the unsigned policy)."""

    name: str
    signer: Signer | None
    roster: Roster


def _step(method):
    """A change-control step runs whole under the repository's write lock: read, judge, sign, write, commit."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._locked_repo():
            return method(self, *args, **kwargs)
    return locked


class ChangeControl:
    def __init__(self, workspace: Workspace, key: str | None = None, as_name: str | None = None,
                 show: Callable[[str], None] | None = None):
        """show, when given, receives what each signer signs: the diff against the revision in force."""
        self.ws = workspace
        self.config = workspace.config
        self.key = key
        self.as_name = as_name
        self.show = show
        self._held: Repo | None = None
        self._pending: dict[str, list[Entry]] = {}

    # -- who acts ----------------------------------------------------------------------------

    def actor(self, roster: Roster | None = None) -> Actor:
        roster = roster or self.ws.approved_roster()
        if roster.unsigned:
            if not self.as_name:
                raise DoccontrolError("say who you are: the policy is `unsigned`, so no key proves it",
                                      fix="pass --as NAME (a name from the roster)")
            if not roster.has(self.as_name):
                raise DoccontrolError(f"{self.as_name} is not in the roster (configuration version {roster.version})")
            return Actor(self.as_name, None, roster)
        signer = self._signer()
        owner = roster.owner_of(signer.public.fingerprint)
        if owner is None:
            raise DoccontrolError(f"the key {signer.public.fingerprint} ({signer.source}) is not in the roster "
                                  f"(configuration version {roster.version})",
                                  fix="sign with your own key as listed under your name in doccontrol.yml; a new "
                                      "key takes effect when a new configuration version is approved")
        if self.as_name and self.as_name != owner:
            raise DoccontrolError(f"the key {signer.public.short}… belongs to {owner}, not {self.as_name}; you can "
                                  "sign only as yourself", fix=f"drop --as, or sign with {self.as_name}'s own key "
                                                              "on their machine")
        return Actor(owner, signer, roster)

    def _signer(self) -> Signer:
        spec = self.key or self._git_signing_key()
        if not spec:
            raise DoccontrolError("no signing key given", fix="pass --key ~/.ssh/id_ed25519 (your SSH key), or "
                                                              "set it once: git config user.signingkey PATH")
        try:
            return load_signer(spec, demo_folder=self.ws.root / DEMO_KEYS)
        except SigningError as error:
            raise DoccontrolError(error.message, fix=error.fix) from None

    def _git_signing_key(self) -> str:
        try:
            with Repo(self.ws.root) as repo:
                return repo.config_value("user.signingkey")
        except RepoError:
            return ""

    # -- the steps ---------------------------------------------------------------------------

    @_step
    def revise(self, numbers: list[str], reason: str, author: str, major: bool = False, section: str = "全文",
               changes: dict | None = None) -> list[Document]:
        """Open the next revision of effective documents as drafts, in one commit; changes (metadata key →
        value) are applied to them at once (a change of metadata only: clauses, references, review interval)."""
        reason, section = one_line("--reason", reason), one_line("--section", section, 200)
        docs = self.ws.find_many(numbers)
        for doc in docs:
            if doc.status != "effective":
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only an effective document "
                                      "can be revised", path=doc.path, line=doc.line_of("status"),
                                      fix="finish the revision in progress (submit, approve, release) first")
        if not self.config.in_roster(author):
            raise DoccontrolError(f"{author} is not in the roster", fix="pass --author with a name from doccontrol.yml")
        edits, opened = {}, []
        for doc in docs:
            new_rev = doc.rev.next(major=major, max_modification=self.config.model.max_modification)
            opened.append(f"{doc.number} {new_rev}")
            edits[doc.path] = [frontmatter.open_revision(str(new_rev), author, clock.today(), section, reason)]
            if changes:
                edits[doc.path].append(frontmatter.set_keys(changes))
        listing = f"{len(docs)} documents" if len(docs) > 3 else ", ".join(opened)
        self._commit_change(docs, edits, {}, f"revise: open {listing} as a draft")
        return self.ws.find_many(numbers)

    def selected(self, action: str, role: str | None = None) -> list[str]:
        """The documents waiting for the acting person: their own drafts to submit, what they may sign in a role
        and have not signed yet, what they may release."""
        actor = self.actor()
        evaluation = self.ws.evaluate()
        found = []
        for doc in self.ws.documents():
            cycle = evaluation.record(doc.number).open
            if action == "submit":
                waiting = doc.status == "draft" and doc.prepared.name == actor.name
            elif action == "approve":
                waiting = doc.status in ("review", "approved") and cycle is not None \
                    and doc.prepared.name != actor.name \
                    and actor.roster.may(actor.name, role_id(role or ""), doc.type, doc.department) \
                    and not any(s.name == actor.name and s.statement.role == role_id(role or "")
                                for s in cycle.approvals)
            else:
                waiting = action == "release" and doc.status == "approved" \
                    and actor.roster.may(actor.name, "release", doc.type, doc.department)
            if waiting:
                found.append(doc.number)
        if not found:
            raise DoccontrolError(f"nothing is waiting for {actor.name} to {action}"
                                  + (f" as {ROLE_LABELS[role_id(role)]}" if role else ""))
        return sorted(found)

    @_step
    def submit(self, numbers: list[str]) -> list[Document]:
        """Submit drafts for review. A document released before the signed record began (effective, with no
        statement in its ledger) is submitted as it stands: its current revision is adopted into the record."""
        docs = self._ready(numbers, None, "submitted for review", ignore={"edited-after-approval", "status-record"})
        evaluation = self.ws.evaluate()
        for doc in docs:
            legacy = doc.status == "effective" and not evaluation.record(doc.number).cycles
            if doc.status != "draft" and not legacy:
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a draft can be "
                                      "submitted for review", path=doc.path, line=doc.line_of("status"),
                                      fix=_status_fix(doc, "draft"))
        actor = self.actor()
        for doc in docs:
            if actor.name != doc.prepared.name:
                raise DoccontrolError(f"{doc.number} {doc.revision} was prepared by {doc.prepared.name}; only the "
                                      f"preparer submits it, and you are {actor.name}", path=doc.path,
                                      line=doc.line_of("prepared.name"),
                                      fix=f"{doc.prepared.name} submits with their own key, or revise the preparer")
        statements = {doc.number: self._statement(doc, actor, kind="submit", base=self._base(doc)) for doc in docs}
        self._show_changes(docs)
        self._sign_and_commit(docs, actor, statements, frontmatter.submitted(),
                              f"submit: {_listing(docs)} for review by {actor.name}", with_drafts=True)
        return self.ws.find_many(numbers)

    @_step
    def approve(self, numbers: list[str], role: str, comment: str = "") -> list[Document]:
        role = role_id(role)
        comment = one_line("--comment", comment) if comment.strip() else ""
        docs = self._ready(numbers, None, "signed", ignore=set())
        actor = self.actor()
        statements = {}
        for doc in docs:
            if doc.status not in ("review", "approved"):
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a document in review "
                                      "can be signed", path=doc.path, line=doc.line_of("status"),
                                      fix=f"its preparer submits it first: doccontrol submit {doc.number}")
            cycle = self.ws.evaluate().record(doc.number).open
            statements[doc.number] = self._statement(
                doc, actor, kind="approval", role=role, meaning=self.config.messages.role_meaning(role),
                comment=comment or None,
                base=cycle.submit.statement.base.model_dump() if cycle and cycle.submit.statement.base else None)
        self._show_changes(docs)
        edit = frontmatter.set_status("approved") if role == APPROVE else None
        self._sign_and_commit(docs, actor, statements, edit,
                              f"approve: {ROLE_LABELS[role]} by {actor.name} for {_listing(docs)}")
        return self.ws.find_many(numbers)

    @_step
    def return_to_draft(self, numbers: list[str], reason: str) -> list[Document]:
        reason = one_line("--reason", reason)
        docs = self.ws.find_many(numbers)
        for doc in docs:
            if doc.status not in ("review", "approved"):
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a document in review "
                                      "can be returned", path=doc.path, line=doc.line_of("status"))
        actor = self.actor()
        statements = {}
        for doc in docs:
            cycle = self.ws.evaluate().record(doc.number).open
            if cycle is None:
                raise DoccontrolError(f"{doc.number} has no submission in its record to return", path=doc.path)
            # The return names what was submitted, even when the file has been edited since.
            submitted = {name: getattr(cycle.submit.statement, name) for name in SCOPE_FIELDS}
            statements[doc.number] = self._statement(doc, actor, kind="return", reason=reason,
                                                     fingerprint=cycle.fingerprint, **submitted)
        self._sign_and_commit(docs, actor, statements, frontmatter.set_status("draft"),
                              f"return: {_listing(docs)} to draft by {actor.name}")
        return self.ws.find_many(numbers)

    @_step
    def release(self, numbers: list[str], effective: dt.date | None = None) -> list[Document]:
        effective = effective or clock.today()
        docs = self._ready(numbers, "approved", "released")
        actor = self.actor()
        statements = {doc.number: self._statement(doc, actor, kind="release", effective=effective.isoformat())
                      for doc in docs}
        edits = {doc.path: [frontmatter.mark_released(doc.revision, effective, doc.approver.name if doc.approver
                                                      else "")] for doc in docs}
        sha = self._sign_and_commit(docs, actor, statements, None,
                                    f"release: {_listing(docs)} effective {effective.isoformat()} by {actor.name}",
                                    edits=edits)
        released = self.ws.find_many(numbers)
        with self.ws.repo() as repo:
            for doc in released:
                repo.create_tag(tag_name(doc.number, doc.revision), sha, tag_message(doc, self.config.messages))
        return released

    @_step
    def obsolete(self, number: str, reason: str, superseded_by: str | None = None,
                 date: dt.date | None = None) -> Document:
        reason = one_line("--reason", reason)
        doc = self.ws.find(number)
        record = self.ws.evaluate().record(number)
        legacy = doc.status == "obsolete" and not record.cycles and record.withdrawal is None
        if doc.status != "effective" and not legacy:
            raise DoccontrolError(f"{number} is {doc.status_label} ({doc.status}); only an effective document can be "
                                  "withdrawn", path=doc.path, line=doc.line_of("status"),
                                  fix="a draft that was never released can simply be deleted")
        if superseded_by:
            self.ws.find(superseded_by)
        date = date or clock.today()
        actor = self.actor()
        statement = self._statement(doc, actor, kind="withdrawal", date=date.isoformat(), reason=reason,
                                    superseded_by=superseded_by)
        self._sign_and_commit([doc], actor, {number: statement}, frontmatter.mark_withdrawn(reason, superseded_by),
                              f"obsolete: withdraw {number} by {actor.name}")
        return self.ws.find(number)

    @_step
    def issue(self, numbers: list[str], holder: str, copies: int = 1, medium: str = "paper") -> list[Statement]:
        """发放: numbered controlled copies of the revisions in force, recorded as signed statements."""
        holder = one_line("--holder", holder, 100)
        actor = self.actor()
        holders = actor.roster.model.holders
        if holders and holder not in holders:
            raise DoccontrolError(f"{holder} is not a holder of controlled copies",
                                  fix="holders (doccontrol.yml `holders:`): " + "、".join(holders))
        evaluation = self.ws.evaluate()
        today = clock.today()
        statements: list[Statement] = []
        for number in numbers:
            record = evaluation.record(number)
            cycle = record.in_force(today)
            if cycle is None or cycle.release is None:
                raise DoccontrolError(f"{number} has no revision in force today, so no controlled copy can be issued",
                                      fix="release it first; a copy is always of the revision in force")
            serial = max((c.serial for c in record.copies), default=0)
            base = cycle.release.statement
            for offset in range(1, copies + 1):
                statements.append(parse_statement({
                    "kind": "issue", "number": number, "title": base.title, "revision": base.revision,
                    "path": base.path, "fingerprint": base.fingerprint, "type": base.type,
                    "department": base.department, "serial": serial + offset, "holder": holder, "medium": medium,
                    "name": actor.name, "at": time_text(clock.now()), "config": actor.roster.version}))
        self._record(actor, statements, f"issue: {len(statements)} controlled copies to {holder} by {actor.name}")
        return statements

    @_step
    def recall(self, copy_ids: list[tuple[str, int]], outcome: str, note: str = "") -> list[Statement]:
        """回收: controlled copies back (destroyed, or kept marked 作废留存), or lost; recorded as signed statements."""
        note = one_line("--note", note) if note.strip() else ""
        actor = self.actor()
        evaluation = self.ws.evaluate()
        statements: list[Statement] = []
        for number, serial in copy_ids:
            copy = evaluation.record(number).copy(serial)
            if copy is None:
                raise DoccontrolError(f"{number} has no controlled copy {serial:02d}", fix="see `doccontrol copies`")
            base = copy.issued.statement
            statements.append(parse_statement({
                "kind": "recall", "number": number, "title": base.title, "revision": base.revision, "path": base.path,
                "fingerprint": base.fingerprint, "type": base.type, "department": base.department, "serial": serial,
                "outcome": outcome, "note": note or None, "name": actor.name, "at": time_text(clock.now()),
                "config": actor.roster.version}))
        self._record(actor, statements, f"recall: {len(statements)} controlled copies by {actor.name}")
        return statements

    def _record(self, actor: Actor, statements: list[Statement], subject: str) -> None:
        """Judge, sign and commit statements about the distribution of copies (no document file changes)."""
        lines: dict[str, str] = {}
        verifier = self.ws.verifier()
        for statement in statements:
            number = statement.number  # type: ignore[union-attr]
            path = ledger_path(number)
            existing = self._ledger_entries(path) + [e for e in self._pending.get(path, [])]
            data = statement_bytes(statement)
            pending = Entry(path, len(existing) + 1, statement, None if actor.signer is None else PENDING, data)
            if actor.signer is not None:
                verifier.known[signature_digest(data, PENDING)] = actor.signer.public.fingerprint
            record = judge_document(number, [*existing, pending], self.ws.evaluate().chain, verifier)
            problems = [f for f in record.findings if f.line == pending.line]
            if problems:
                self._pending.clear()
                raise DoccontrolError(f"{number}: {problems[0].message}", fix=_refusal_fix(problems[0]))
            self._pending.setdefault(path, []).append(pending)
            line = to_line(statement, self._sign(actor, statement))
            lines[path] = lines.get(path, "") + line + "\n"
        self._pending.clear()
        with self._locked_repo() as repo:
            _require_clean(repo, list(lines), [])
            texts = {}
            for path, added in lines.items():
                full = self.ws.root / path
                texts[path] = (full.read_text(encoding="utf-8") if full.is_file() else "") + added
            _write_and_commit(repo, self.ws.root, texts, subject)
        self.ws.forget()

    @_step
    def approve_configuration(self) -> Roster:
        """Sign the configuration files as the next approved version (the first one is the trust anchor)."""
        chain = self.ws.evaluate().chain
        try:
            working = self.config.roster()
        except ConfigError as error:
            raise DoccontrolError("the configuration is not valid", findings=error.findings) from None
        except ValueError as error:
            raise DoccontrolError(f"the configuration is not valid: {error}") from None
        latest = chain.latest
        if latest and latest.fingerprint == working.fingerprint:
            raise DoccontrolError(f"the configuration is already approved as version {latest.version}",
                                  fix="change doccontrol.yml or the clause catalogue first")
        actor = self.actor(latest or working)
        statement = parse_statement({
            "kind": "configuration", "version": latest.version + 1 if latest else 1,
            "previous": latest.fingerprint if latest else None, "fingerprint": working.fingerprint,
            "content": self.config.content(), "name": actor.name, "at": time_text(clock.now()),
            "config": latest.version if latest else 1})
        assert isinstance(statement, Configuration)
        path = ledger_path(CONFIGURATION)
        existing = self._ledger_entries(path)
        data = statement_bytes(statement)
        verifier = self.ws.verifier()
        if actor.signer is not None:
            verifier.known[signature_digest(data, PENDING)] = actor.signer.public.fingerprint
        pending = Entry(path, len(existing) + 1, statement, None if actor.signer is None else PENDING, data)
        judged = build_chain([*existing, pending], verifier)
        problems = [f for f in judged.findings if f.line == pending.line]
        if problems:
            raise DoccontrolError(problems[0].message, path=CONFIG_FILE, fix=problems[0].fix)
        line = to_line(statement, self._sign(actor, statement))
        files = [CONFIG_FILE, self.config.model.clause_catalogue]
        site = statement.content.get("site", {})
        files += [name for name in (OPTIONS_FILE, site.get("logo")) if name and (self.ws.root / name).is_file()]
        with self._locked_repo() as repo:
            texts = {name: (self.ws.root / name).read_text(encoding="utf-8") for name in files
                     if name != site.get("logo")}
            full = self.ws.root / path
            texts[path] = (full.read_text(encoding="utf-8") if full.is_file() else "") + line + "\n"
            logo = [site["logo"]] if site.get("logo") in files else []
            _write_and_commit(repo, self.ws.root, texts,
                              f"config: approve configuration version {statement.version} by {actor.name}\n",
                              also=logo)
        self.ws.forget()
        return self.ws.approved_roster()

    # -- statements --------------------------------------------------------------------------

    def _statement(self, doc: Document, actor: Actor, **fields) -> Statement:
        data = {"number": doc.number, "title": doc.title, "revision": doc.revision, "path": doc.path,
                "fingerprint": fingerprint(doc),
                "type": doc.type, "department": doc.department, "name": actor.name, "at": time_text(clock.now()),
                "config": actor.roster.version}
        data.update(fields)
        try:
            return parse_statement({key: value for key, value in data.items() if value is not None})
        except StatementError as error:
            raise DoccontrolError(f"{doc.number}: the statement cannot be made: {error}", path=doc.path) from None

    def _show_changes(self, docs: list[Document]) -> None:
        """Show the signer what they sign: each document's changes against the revision in force."""
        if self.show is None:
            return
        from .diff import diff_documents, format_diff

        index = self.ws.releases()
        for doc in docs:
            current = index.in_force(doc.number, clock.today()) if index else None
            labels = self.config.messages
            self.show(format_diff(diff_documents(current.document if current else None, doc, labels), "text", labels))

    def _base(self, doc: Document) -> dict | None:
        latest = self.ws.evaluate().record(doc.number).latest_release
        return Base(revision=latest.revision, fingerprint=latest.fingerprint).model_dump() if latest else None

    def _judge(self, doc: Document, actor: Actor, statement: Statement) -> None:
        """Refuse, before anything is signed or written, a statement the record would not count."""
        evaluation = self.ws.evaluate()
        path = ledger_path(doc.number)
        existing = self._ledger_entries(path)
        data = statement_bytes(statement)
        pending = Entry(path, len(existing) + 1, statement, None if actor.signer is None else PENDING, data)
        verifier = self.ws.verifier()
        if actor.signer is not None:
            verifier.known[signature_digest(data, PENDING)] = actor.signer.public.fingerprint
        record = judge_document(doc.number, [*existing, pending], evaluation.chain, verifier)
        problems = [f for f in record.findings if f.line == pending.line]
        if problems:
            raise DoccontrolError(f"{doc.number} {doc.revision}: {problems[0].message}", path=doc.path,
                                  line=doc.line_of("status"), fix=_refusal_fix(problems[0]))

    def _ledger_entries(self, path: str) -> list[Entry]:
        full = self.ws.root / path
        return parse_ledger(path, full.read_bytes()).entries if full.is_file() else []

    # -- writing -----------------------------------------------------------------------------

    def _sign_and_commit(self, docs: list[Document], actor: Actor, statements: dict[str, Statement],
                         edit: frontmatter.Edit | None, subject: str,
                         edits: dict[str, list[frontmatter.Edit]] | None = None, with_drafts: bool = False) -> str:
        for doc in docs:
            self._judge(doc, actor, statements[doc.number])
        lines = {}
        for doc in docs:
            statement = statements[doc.number]
            signature = self._sign(actor, statement)
            lines[ledger_path(doc.number)] = to_line(statement, signature)
        edits = edits or {doc.path: [edit] for doc in docs if edit is not None}
        return self._commit_change(docs, edits, lines, subject, with_drafts)

    def _sign(self, actor: Actor, statement: Statement) -> str | None:
        if actor.signer is None:
            return None
        data = statement_bytes(statement)
        try:
            signature = actor.signer.sign(data)
        except SigningError as error:
            raise DoccontrolError(error.message, fix=error.fix) from None
        if Verifier().key_of(data, signature) != actor.signer.public.fingerprint:
            raise DoccontrolError("the key made a signature that does not verify", fix="check the key file")
        return signature

    def _commit_change(self, docs: list[Document], edits: dict[str, list[frontmatter.Edit]],
                       ledger_lines: dict[str, str], subject: str, with_drafts: bool = False) -> str:
        """Write the edited documents and the new ledger lines, commit them together; undo on failure.

        with_drafts (submit): the documents' own uncommitted edits (their pictures under images/ too) are
        what is submitted, so they go into the same commit; otherwise uncommitted changes to any file
        touched, or to a picture a document shows, are refused."""
        with self._locked_repo() as repo:
            pictures = sorted({p.path for doc in docs for p in doc.pictures})
            touched = [p for doc in docs for p in doc_paths(doc)] + list(ledger_lines) + pictures
            drafts, renamed = _changed_document_files(repo, docs) if with_drafts else ([], [])
            new_pictures = sorted(repo.dirty_paths() & set(pictures)) if with_drafts else []
            _require_clean(repo, [p for p in touched if p not in drafts], docs,
                           allowed={*drafts, *renamed, *new_pictures})
            texts = {path: frontmatter.edited(self.ws.root / path, *changes) for path, changes in edits.items()}
            texts.update({path: (self.ws.root / path).read_text(encoding="utf-8") for path in drafts
                          if path not in texts})
            for path, line in ledger_lines.items():
                full = self.ws.root / path
                texts[path] = (full.read_text(encoding="utf-8") if full.is_file() else "") + line + "\n"
            sha = _write_and_commit(repo, self.ws.root, texts, subject, removed=renamed, also=new_pictures)
        self.ws.forget()
        return sha

    @contextlib.contextmanager
    def _locked_repo(self) -> Iterator[Repo]:
        """The repository under its write lock; re-entrant, so a step holds it from reading to committing."""
        if self._held is not None:
            yield self._held
            return
        with self.ws.repo() as repo:
            try:
                with repo.lock():
                    self._held = repo
                    self.ws.forget()  # what another command wrote before the lock was taken
                    try:
                        yield repo
                    finally:
                        self._held = None
            except RepoError as error:
                raise DoccontrolError(str(error)) from None

    def _ready(self, numbers: list[str], status: str | None, action: str,
               ignore: AbstractSet[str] = frozenset()) -> list[Document]:
        """The documents, once each is in the required status and free of errors."""
        loaded = self.ws.load()
        docs = self.ws.find_many(numbers, loaded)
        grouped = self._errors_by_path(ignore, loaded)
        for doc in docs:
            if status is not None and doc.status != status:
                raise DoccontrolError(f"{doc.number} is {doc.status_label} ({doc.status}); only a document that is "
                                      f"{STATUS_LABELS[status]} ({status}) can be {action}",
                                      path=doc.path, line=doc.line_of("status"), fix=_status_fix(doc, status))
            errors = [f for path in [*doc_paths(doc), ledger_path(doc.number)] for f in grouped.get(path, [])]
            if errors:
                raise DoccontrolError(f"{doc.number} cannot be {action}: fix its errors first", findings=errors)
        return docs

    def _errors_by_path(self, ignore: AbstractSet[str], loaded: LoadResult) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for finding in [*loaded.findings, *self.ws.validate(loaded.documents, clock.today())]:
            if finding.severity is Severity.ERROR and finding.rule not in ignore:
                grouped.setdefault(finding.path, []).append(finding)
        return grouped


def _refusal_fix(finding: Finding) -> str:
    fixes = {
        "signer-role": "the roster says who may sign what; ask a person who holds that right",
        "self-approval": "another person reviews and approves what you prepared",
        "separation": "审核 and 批准 of one revision are signed by two different people",
        "record-order": "see `doccontrol show NUMBER` for where the document stands",
        "approval-missing": "collect the missing signatures first",
        "date-order": "choose an effective date on or after today and after the approval",
        "record-time": "check your computer's clock",
    }
    return fixes.get(finding.rule, finding.fix)


def _status_fix(doc: Document, wanted: str) -> str:
    if wanted == "approved":
        return f"it needs its 批准 signature first: doccontrol approve {doc.number} --role 批准"
    if wanted == "draft" and doc.status == "review":
        return f"it is already in review; to change it, return it first: doccontrol return {doc.number} --reason …"
    return f"see `doccontrol show {doc.number}`"


def _changed_document_files(repo: Repo, docs: list[Document]) -> tuple[list[str], list[str]]:
    """The documents' own files (a manual's chapters too) with uncommitted changes, and the files they were
    renamed from (a new title): removed in the same commit, so no clone ever holds the number twice."""
    from .loader import number_in_name

    dirty = repo.dirty_paths()
    own = {p for doc in docs for p in doc_paths(doc)}
    homes = {doc.number: doc.path.split("/")[0] for doc in docs}
    renamed = [p for p in dirty if p not in own and not (repo.root / p).exists()
               and homes.get(_number_of_path(p, number_in_name) or "") == p.split("/")[0]]
    return sorted(p for p in dirty if p in own), sorted(renamed)


def _number_of_path(path: str, number_in_name) -> str | None:
    """The number a file (or its folder, for a manual's index.md) is named after."""
    pieces = path.split("/")
    return number_in_name(pieces[-1]) or (number_in_name(pieces[-2]) if len(pieces) > 1 else None)


def _require_clean(repo: Repo, touched: list[str], docs: list[Document],
                   allowed: AbstractSet[str] = frozenset()) -> None:
    dirty = repo.dirty_paths() - set(allowed)
    folders = {doc.path.rsplit("/", 1)[0] for doc in docs if doc.parts}
    found = sorted({p for p in dirty if p in touched or any(p.startswith(f + "/") for f in folders)})
    if found:
        raise DoccontrolError("uncommitted changes in " + ", ".join(found),
                              fix="commit them first (a draft's edits: git commit), or undo them with git restore")


def _write_and_commit(repo: Repo, root: Path, texts: dict[str, str], subject: str,
                      removed: Sequence[str] = (), also: Sequence[str] = ()) -> str:
    """Write the texts and commit them (with the removal of removed files); on failure, put everything back."""
    from .fileio import atomic_write_text

    originals: dict[str, bytes | None] = {}
    for path in texts:
        full = root / path
        originals[path] = full.read_bytes() if full.is_file() else None
    try:
        for path, text in texts.items():
            atomic_write_text(root / path, text)
        return repo.commit([*texts, *removed, *also], subject + "\n")
    except BaseException as error:
        repo.unstage([*texts, *removed, *also])
        _put_back(root, originals)
        if isinstance(error, RepoError):
            raise DoccontrolError(f"the commit failed, so nothing was changed: {error}",
                                  fix="run the command again; check `git status` if it fails again") from None
        raise


def _put_back(root: Path, originals: dict[str, bytes | None]) -> None:
    from .fileio import atomic_write_bytes

    for path, data in originals.items():
        if data is None:
            (root / path).unlink(missing_ok=True)
        else:
            atomic_write_bytes(root / path, data)


def _listing(docs: list[Document]) -> str:
    """Documents named in a commit subject; a long batch is counted."""
    if len(docs) > 3:
        return f"{len(docs)} documents"
    return ", ".join(f"{d.number} {d.revision}" for d in docs)


def tag_name(number: str, revision: str) -> str:
    return f"{number}/{revision.replace('/', '')}"


def tag_message(doc: Document, labels: Messages) -> str:
    lines = [f"{doc.number} {doc.title} {doc.revision} {labels.fields.effective} {doc.effective}", "",
             f"{labels.roles.prepare}: {doc.prepared.name} {doc.prepared.date}"]
    for sig in doc.approvals:
        lines.append(f"{labels.role_label(sig.role)}: {sig.name} {sig.at.isoformat()} {sig.key}")
    return "\n".join(lines) + "\n"


def due(ws: Workspace, within_days: int, today: dt.date | None = None) -> list[Document]:
    today = today or clock.today()
    limit = today + dt.timedelta(days=within_days)
    return sorted((doc for doc in ws.documents()
                   if doc.status == "effective" and doc.next_review and doc.next_review <= limit),
                  key=lambda d: (d.next_review, d.number))

