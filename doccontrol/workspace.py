"""A document repository: configuration plus the documents in its working tree.

The commands call into this service; it knows nothing of click.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import clock
from .cache import (
    JudgedRecords,
    LedgerCache,
    MemoCache,
    ParseCache,
    SealedFile,
    blob_id,
    code_version,
    package_version,
    signature_cache,
)
from .config import CONFIG_FILE, ConfigError, load_config
from .errors import DoccontrolError
from .images import images_state
from .loader import (
    MANUAL_INDEX,
    LoadResult,
    controlled_folders,
    link_on_path,
    load_worktree,
    number_in_name,
    private_key_finding,
    read_ledger_files,
)
from .model import Document, Finding, Severity
from .pictures import picture_bytes, worktree_reader
from .signing import Verifier
from .validate import validate
from .verification import FIX_NO_ANCHOR, Evaluation, compare_documents, configuration_findings, evaluate

if TYPE_CHECKING:
    from .proof import Proof
    from .publication import Publication
    from .repo import Repo

# GitPython and ruamel.yaml are imported where they are used, so that `check` (which needs
# neither) starts faster.

TEMPLATES = Path(__file__).parent / "templates"
DEMO_KEYS = "demo-keys"  # published demonstration keys: the one place a private key may be
UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')

RECORD_MEMO = "record.pickle"  # the working documents held against their record (see Workspace._load)
MARKDOWN_MEMO = "markdown.pickle"  # what each working text's Markdown checks found (see Workspace.validate)


@dataclass
class CheckReport:
    documents: list[Document]
    findings: list[Finding]
    strict: bool

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR or self.strict]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING and not self.strict]

    @property
    def ok(self) -> bool:
        return not self.errors


class Workspace:
    def __init__(self, root: Path | str = ".", use_cache: bool = True):
        self.root = Path(root).resolve()
        self.use_cache = use_cache
        self._evaluation: Evaluation | None = None
        self.allow_no_history = False
        # the last publication in_force decided (the CLI reports what it held back)
        self.publication: Publication | None = None
        self._releases: tuple | None = None
        self._proof: Proof | None = None  # the proof in_force last decided from, for releases()
        self._proven_at: str | None = None  # the commit the record was proven at (see _forget_if_moved)
        self.ledger_findings: list[Finding] = []
        self._ledgers: dict[str, bytes] | None = None  # the working tree's ledger files, read once (see ledgers)
        try:
            self.config = load_config(self.root)
        except ConfigError as error:
            raise DoccontrolError("the configuration is not valid", findings=error.findings) from None

    def parse_cache(self, use_cache: bool | None = None, autosave: bool = True) -> ParseCache | None:
        """The repository's parse cache, or None for a cold run (use_cache=False, or --no-cache)."""
        use_cache = self.use_cache if use_cache is None else use_cache
        return ParseCache(self.config.cache_dir, autosave=autosave) if use_cache else None

    def load(self, use_cache: bool | None = None) -> LoadResult:
        """Every document in the working tree with the signatures that count, and every problem found
        reading the documents and their records; use_cache=False parses every file (a cold run)."""
        return self._load(self.parse_cache(use_cache), use_cache)

    def _load(self, cache: ParseCache | None, use_cache: bool | None = None) -> LoadResult:
        loaded = load_worktree(self.config, cache)
        memo = self._record_memo(cache, loaded.documents) if self._evaluation is None else None
        known = memo[0].load(None) if memo is not None else None
        if memo is not None and known is not None and known[0] == memo[1]:
            approvals, judged = known[1], known[2]
            documents = [dataclasses.replace(doc, approvals=signed) for doc, signed in zip(loaded.documents, approvals)]
        else:
            evaluation = self.evaluate(use_cache)
            documents, mismatches = compare_documents(loaded.documents, evaluation)
            judged = evaluation.findings + mismatches
            judged += configuration_findings(evaluation.chain, self._working_roster(), CONFIG_FILE)
            judged += self._copies_overdue(evaluation)
            if memo is not None:
                memo[0].save((memo[1], [doc.approvals for doc in documents], judged))
        findings = loaded.findings + self.ledger_findings + judged
        findings += self._private_keys_elsewhere(loaded.documents)
        return LoadResult(documents, findings, loaded.pictures)

    def _record_memo(self, cache: ParseCache | None, documents: list[Document]) -> tuple[SealedFile, str] | None:
        """Where the working documents held against their record are remembered, and the digest of everything
        that decides them: every ledger file (by blob id), the configuration files, the documents' files (by
        blob id) and the pictures they show, today (copies overdue), and doccontrol's code. None without a cache."""
        if cache is None:
            return None
        ledgers = self.ledgers()
        digest = hashlib.sha256(f"{package_version()}|{clock.today().isoformat()}".encode())
        digest.update(repr(sorted((path, blob_id(raw)) for path, raw in ledgers.items())).encode())
        for name in (CONFIG_FILE, self.config.model.clause_catalogue):
            path = self.root / name
            digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
        digest.update(repr(list(cache.used)).encode())
        digest.update(repr([doc.pictures for doc in documents]).encode())
        return SealedFile(self.config.cache_dir, RECORD_MEMO, package_version()), digest.hexdigest()

    def copy_rows(self, proven: bool = False):
        """The distribution register (see `copies.register`); proven: from the record `in_force` last proved (what
        the pack publishes), rather than from the working tree's ledgers."""
        from .copies import register

        evaluation = self._proof.evaluation if proven and self._proof is not None else self.evaluate()
        latest = evaluation.chain.latest
        return register(evaluation.records, clock.today(), latest.model.policy.recall_days if latest else 3)

    def _copies_overdue(self, evaluation: Evaluation) -> list[Finding]:
        from .copies import overdue_findings

        return overdue_findings(self.copy_rows(), clock.today()) if any(r.copies for r in evaluation.records.values()) \
            else []

    def _private_keys_elsewhere(self, documents: list[Document]) -> list[Finding]:
        """Private key material in any file of the repository outside demo-keys/ and the files read above."""
        from .repo import Repo, RepoError
        from .signing import has_private_key

        read = {p for doc in documents for p in [doc.path, *(part.path for part in doc.parts)]}
        try:
            with Repo(self.root) as repo:
                paths = repo.listed_files()
        except RepoError:
            return []
        findings = []
        for path in paths:
            if path in read or path.startswith((DEMO_KEYS + "/", "signatures/")):
                continue
            full = self.root / path
            try:
                if full.is_symlink() or not full.is_file() or full.stat().st_size > 4 * 1024 * 1024:
                    continue
                if has_private_key(full.read_bytes()):
                    findings.append(private_key_finding(path))
            except OSError:
                continue
        return findings

    def evaluate(self, use_cache: bool | None = None) -> Evaluation:
        """The signed record in the working tree's ledgers, judged (once per Workspace)."""
        if self._evaluation is None:
            ledgers = self.ledgers()
            verifier = self.verifier(use_cache)
            use_cache = self.use_cache if use_cache is None else use_cache
            parsed = LedgerCache(self.config.cache_dir) if use_cache else None
            judged = JudgedRecords(self.config.cache_dir, ledgers, clock.today().isoformat()) if use_cache else None
            self._evaluation = evaluate(ledgers, verifier, parsed, judged)
            if parsed is not None:
                parsed.save()
            if judged is not None:
                judged.save(keep_unused=True)  # the last proof's records (of the last commit) stay for the next
            self.keep_verified(verifier)
        return self._evaluation

    def ledgers(self) -> dict[str, bytes]:
        """The working tree's ledger files (path → bytes), read once until `forget`; what could not be read is
        in ledger_findings."""
        if self._ledgers is None:
            self._ledgers, self.ledger_findings = read_ledger_files(self.root)
        return self._ledgers

    def forget(self) -> None:
        """Read the record again on next use (after a command has written to it)."""
        self._evaluation = None
        self._ledgers = None
        self._proof = None

    def _head(self) -> str:
        from .repo import Repo, RepoError

        try:
            with Repo(self.root) as repo:
                return repo.head
        except RepoError:
            return ""

    def _forget_if_moved(self) -> None:
        """Prove the record again when a commit was made since it was proven (a Workspace kept across commands)."""
        if self._proven_at is not None and self._proven_at != self._head():
            self._proof = None
            self._releases = None
            self._proven_at = None

    def verifier(self, use_cache: bool | None = None) -> Verifier:
        use_cache = self.use_cache if use_cache is None else use_cache
        return Verifier(signature_cache(self.config.cache_dir).load({}) if use_cache else {})

    def keep_verified(self, verifier: Verifier) -> None:
        if verifier.added and self.use_cache:
            signature_cache(self.config.cache_dir).save(verifier.known)

    def _working_roster(self):
        try:
            return self.config.roster()
        except (ValueError, ConfigError):
            return None

    def approved_roster(self):
        """The roster of the latest approved configuration version; an error when there is none."""
        roster = self.evaluate().chain.latest
        if roster is None:
            raise DoccontrolError("no approved configuration: nobody's signature can be checked yet",
                                  fix=FIX_NO_ANCHOR)
        return roster

    def in_force(self, as_of: dt.date, use_cache: bool | None = None, allow_no_history: bool | None = None):
        """What is in force on as_of (see `publication.in_force`), reusing what `check` has parsed.

        Released files parsed here are added to the cache without dropping the working tree's
        entries (the next `check` keeps only what it uses). The record is proven once per Workspace
        (until `forget`): `publish` builds the site and the pack from one proof.
        """
        from .publication import from_proof, in_force_proven

        self._forget_if_moved()
        if self._proof is not None:
            self.publication = from_proof(self.config, self._proof, as_of)
            return self.publication
        cache = self.parse_cache(use_cache, autosave=False)
        verifier = self.verifier(use_cache)
        allowed = self.allow_no_history if allow_no_history is None else allow_no_history
        publication, self._proof = in_force_proven(self.config, as_of, verifier, cache, allowed)
        self._proven_at = self._head()
        self.keep_verified(verifier)
        if cache is not None:
            cache.flush(keep_unused=True)
        self.publication = publication
        return publication

    def released_sources(self, publication) -> dict[str, bytes]:
        """The bytes of every published document's files as released (from its release commit, or, without
        history, the working tree), read in one pass."""
        from .repo import Repo

        wanted = {doc.number: [doc.path, *(part.path for part in doc.parts)] for doc in publication.documents}
        if not publication.commits:
            return {path: (self.root / path).read_bytes() for paths in wanted.values() for path in paths}
        names = {f"{publication.commits[number]}:{path}": path for number, paths in wanted.items() for path in paths}
        with Repo(self.root) as repo:
            found = repo.objects(list(names))
            blobs = repo.blobs([oid for oid, kind in found.values() if kind == "blob"])
        return {names[name]: blobs[oid] for name, (oid, _) in found.items() if oid in blobs}

    def releases(self):
        """Every proven release (see `publication.release_index`), proven once per Workspace; None without history."""
        self._forget_if_moved()
        if self._releases is None and self._proof is not None:
            from .publication import ReleaseIndex

            self._releases = (ReleaseIndex(self._proof),)  # the record in_force proved, not proved again
        if self._releases is None:
            from .publication import release_index

            cache = self.parse_cache(autosave=False)
            verifier = self.verifier()
            self._releases = (release_index(self.config, verifier, cache),)
            self._proven_at = self._head()
            self.keep_verified(verifier)
            if cache is not None:
                cache.flush(keep_unused=True)
        return self._releases[0]

    def select_revision(self, number: str, revision: str | None, allow_no_history: bool = False):
        """The revision of one document to export (see `publication.select_revision`)."""
        from .publication import select_revision

        working = next((doc for doc in self.documents() if doc.number == number), None)
        if working is None:
            self.find(number)  # says why: no such number, or its file cannot be read
        cache = self.parse_cache(autosave=False)
        verifier = self.verifier()
        selected = select_revision(self.config, verifier, cache, number, revision, clock.today(), working,
                                   allow_no_history)
        self.keep_verified(verifier)
        if selected.doc is working:  # the draft: its pictures as they are in the working tree
            selected.pictures = {**selected.pictures, **picture_bytes(working, worktree_reader(self.root))}
        return selected

    def site_options(self, working: bool = False):
        """The options of the website: those of the approved configuration (and the logo's approved sha256), or
        with working=True (a preview, `check`) the working mkdocs.yml's; ConfigError when they are not valid."""
        from .site_options import SiteOptions, read_site_options, site_options_of

        if working:
            return read_site_options(self.root), None
        latest = self.evaluate().chain
        if latest.latest is None:
            return SiteOptions(), None
        return site_options_of(latest.latest_content().get("site", {}))

    def preview(self):
        """The working tree as published by `build --preview` (see `publication.preview_documents`)."""
        from .publication import preview_documents

        cache = self.parse_cache()
        loaded = load_worktree(self.config, cache)
        evaluated = self._load(cache)
        return preview_documents(self.config, evaluated.documents, loaded.findings, evaluated.pictures)

    def check(self, strict: bool = False, today: dt.date | None = None, use_cache: bool | None = None) -> CheckReport:
        today = today or clock.today()
        cache = self.parse_cache(use_cache, autosave=False)
        loaded = self._load(cache, use_cache)
        # validate() is a function of the configuration, the documents, today and the files under
        # images/, so its result is memoised on exactly those inputs (documents by their files' blob ids).
        if cache is None:
            found = validate(self.config, loaded.documents, today)
        else:
            inputs = self._validate_inputs(cache, today, loaded.documents)
            found = cache.recall(inputs)
            if found is None:
                found = self.validate(loaded.documents, today)
                cache.remember(inputs, found)
        if cache is not None:
            cache.flush()
        findings = loaded.findings + list(found)
        findings.sort(key=lambda f: (f.path, f.line, f.rule))
        return CheckReport(loaded.documents, findings, strict)

    def validate(self, documents: list[Document], today: dt.date) -> list[Finding]:
        """`validate.validate` of these documents; with a cache, each text's Markdown checks are kept in a sealed
        memo by the text's path, first line and digest (MARKDOWN_MEMO), so only a text that changed is checked again."""
        memo = MemoCache(self.config.cache_dir, MARKDOWN_MEMO) if self.use_cache else None
        found = validate(self.config, documents, today, memo)
        if memo is not None:
            memo.save()  # the texts of this working tree only: another's drop out
        return found

    def _validate_inputs(self, cache: ParseCache, today: dt.date, documents: list[Document]) -> str:
        digest = hashlib.sha1(f"{code_version()}|{today.isoformat()}".encode())
        for name in (CONFIG_FILE, self.config.model.clause_catalogue):
            digest.update(name.encode() + b"\0" + (self.root / name).read_bytes() + b"\0")
        for doc in documents:  # the signatures that count come from the ledgers
            digest.update(repr(doc.approvals).encode())
        digest.update(repr(list(cache.used)).encode())
        digest.update(images_state(self.root))
        return digest.hexdigest()

    def documents(self) -> list[Document]:
        return self.load().documents

    def find(self, number: str) -> Document:
        return self.find_many([number])[0]

    def find_many(self, numbers: list[str], loaded: LoadResult | None = None) -> list[Document]:
        """The documents with these numbers, from one read of the working tree (that given, or a new one)."""
        loaded = self.load() if loaded is None else loaded
        by_number: dict[str, list[Document]] = {}
        for doc in loaded.documents:
            by_number.setdefault(doc.number, []).append(doc)
        return [self._only(number, by_number.get(number, []), loaded) for number in numbers]

    @staticmethod
    def _only(number: str, matches: list[Document], loaded: LoadResult) -> Document:
        if not matches:
            broken = [f for f in loaded.findings if number in f.path]
            if broken:
                raise DoccontrolError(f"document {number} cannot be read", findings=broken)
            raise DoccontrolError(f"no document numbered {number}",
                                  fix="run `doccontrol register` to list the documents")
        if len(matches) > 1:
            raise DoccontrolError(f"number {number} is used by more than one file: "
                                  + ", ".join(doc.path for doc in matches),
                                  fix="run `doccontrol check` and give one of them a new number")
        return matches[0]

    def repo(self) -> Repo:
        from .repo import Repo, RepoError

        try:
            return Repo(self.root)
        except RepoError as error:
            raise DoccontrolError(str(error)) from None

    def git_user(self) -> str:
        """git's user.name, the default author; an error when it is not set."""
        from .repo import Repo, RepoError

        try:
            with Repo(self.root) as repo:
                name = repo.user_name()
        except RepoError:
            name = ""
        if not name:
            raise DoccontrolError("no author given and git has no user.name",
                                  fix="pass --author NAME (a name from the roster)")
        return name

    def next_number(self, doc_type: str) -> str:
        """The next serial for the type, past every number ever used (worktree, obsolete and git history)."""
        if doc_type not in self.config.types:
            raise DoccontrolError(f"type {doc_type} is not configured",
                                  fix="the types are " + ", ".join(self.config.types) + " (`types:` in doccontrol.yml)")
        used = {doc.number for doc in self.documents()}
        used |= self._numbers_in_file_names()
        used |= self._numbers_in_history()
        serials = [s for t, s in filter(None, (self.config.serial_of(n) for n in used)) if t == doc_type]
        serial = max(serials, default=0) + 1
        width = self.config.types[doc_type].width
        if len(str(serial)) > width:
            raise DoccontrolError(f"no {doc_type} numbers left with {width} digits",
                                  fix="widen `width` for the type in doccontrol.yml")
        return self.config.format_number(doc_type, serial)

    def _numbers_in_history(self) -> set[str]:
        from .repo import Repo, RepoError

        try:
            repo = Repo(self.root)
        except RepoError:
            return set()
        with repo:
            paths = repo.all_paths_ever()
        return {number for path in paths for number in map(number_in_name, path.split("/")) if number}

    def _numbers_in_file_names(self) -> set[str]:
        """Numbers that names in the controlled folders start with, whether or not the file can be read.

        A file that does not parse (or is a link, or a pipe) is no document, but its name
        still claims its number: handing that number out again would give two files one number.
        """
        numbers: set[str] = set()
        for folder in controlled_folders(self.config):
            if link_on_path(self.root, folder):
                continue  # refused by `check`; nothing in it is read
            for names in _names_under(self.root / folder, folder):
                numbers.update(filter(None, map(number_in_name, names)))
        return numbers

    def _template(self, doc_type: str) -> str:
        """The type's template: its own file in the repository if configured, else the locale's for the type."""
        spec = self.config.types[doc_type]
        if spec.template:
            path = self.root / spec.template
            if link_on_path(self.root, spec.template) or not path.is_file():
                raise DoccontrolError(f"the template {spec.template} of type {doc_type} is not a file",
                                      fix="correct `template` in doccontrol.yml")
            return path.read_text(encoding="utf-8")
        folder = TEMPLATES / self.config.model.locale
        own = folder / f"{doc_type}.md"
        return (own if own.is_file() else folder / "generic.md").read_text(encoding="utf-8")

    def new_document(self, doc_type: str, title: str, department: str | None, author: str) -> Path:
        if not title.strip():
            raise DoccontrolError("the title must not be empty")
        if not self.config.in_roster(author):
            raise DoccontrolError(f"{author} is not in the roster",
                                  fix="pass --author with a name from doccontrol.yml `people:`")
        number = self.next_number(doc_type)
        folder = self.root / self.config.folder_of(doc_type)
        stem = f"{number}-{UNSAFE_FILE_CHARS.sub('', title)}"
        person = self.config.model.people[author]
        department = department or person.department or DEFAULT_DEPARTMENT[self.config.model.locale]
        text = self._template(doc_type).format(
            number=number, title=_yaml_text(title), department=_yaml_text(department), type=doc_type,
            author=_yaml_text(author), today=clock.today().isoformat(),
            review_months=self.config.model.default_review_months)
        path = folder / stem / MANUAL_INDEX if self.config.is_multi_file(doc_type) else folder / f"{stem}.md"
        if path.exists():
            raise DoccontrolError(f"{path.relative_to(self.root)} already exists")
        from .fileio import atomic_write_text

        atomic_write_text(path, text)
        return path


DEFAULT_DEPARTMENT = {"zh": "质量部", "en": "Quality"}


def _names_under(top: Path, shown: str):
    """The names in each folder under top, without following links or entering hidden folders."""

    def refuse(error: OSError) -> None:
        if not isinstance(error, FileNotFoundError):
            where = shown + str(error.filename)[len(str(top)):]
            raise DoccontrolError(f"{where} cannot be read ({error.strerror}), so the numbers in use there are "
                                  "unknown", path=where, fix="give the user running doccontrol read access to it")

    for _folder, folders, files in os.walk(top, onerror=refuse):
        folders[:] = [name for name in folders if not name.startswith(".")]
        yield folders + files


def _yaml_text(value: str) -> str:
    """A YAML scalar that stays text whatever the user typed."""
    import json

    return json.dumps(value, ensure_ascii=False)
