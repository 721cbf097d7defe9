"""A document repository: configuration plus the documents in its working tree.

The commands call into this service; it knows nothing of click.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import clock
from .cache import ParseCache, code_version
from .config import CONFIG_FILE, ConfigError, load_config
from .errors import DoccontrolError
from .loader import MANUAL_INDEX, LoadResult, controlled_folders, link_on_path, load_worktree, number_in_name
from .model import Document, Finding, Severity
from .validate import validate

if TYPE_CHECKING:
    from .repo import Repo

# GitPython and ruamel.yaml are imported where they are used, so that `check` (which needs
# neither) starts faster.

TEMPLATES = Path(__file__).parent / "templates"
UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')


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
        try:
            self.config = load_config(self.root)
        except ConfigError as error:
            raise DoccontrolError("the configuration is not valid", findings=error.findings) from None

    def parse_cache(self, use_cache: bool | None = None, autosave: bool = True) -> ParseCache | None:
        """The repository's parse cache, or None for a cold run (use_cache=False, or --no-cache)."""
        use_cache = self.use_cache if use_cache is None else use_cache
        return ParseCache(self.config.cache_dir, autosave=autosave) if use_cache else None

    def load(self, use_cache: bool | None = None) -> LoadResult:
        """Every document in the working tree; use_cache=False parses every file (a cold run)."""
        return load_worktree(self.config, self.parse_cache(use_cache))

    def in_force(self, as_of: dt.date, use_cache: bool | None = None):
        """What is in force on as_of (see `publication.in_force`), reusing what `check` has parsed.

        Released files parsed here are added to the cache without dropping the working tree's
        entries (the next `check` keeps only what it uses).
        """
        from .publication import in_force

        cache = self.parse_cache(use_cache, autosave=False)
        publication = in_force(self.config, as_of, cache)
        if cache is not None:
            cache.flush(keep_unused=True)
        return publication

    def site_options(self):
        """The options of the controlled website (mkdocs.yml); raises ConfigError when they are not valid."""
        from .render.site_options import read_site_options

        return read_site_options(self.root)

    def preview(self):
        """The working tree as published by `build --preview` (see `publication.preview_documents`)."""
        from .publication import preview_documents

        return preview_documents(self.config, self.parse_cache())

    def check(self, strict: bool = False, today: dt.date | None = None, use_cache: bool | None = None) -> CheckReport:
        today = today or clock.today()
        cache = self.parse_cache(use_cache, autosave=False)
        loaded = load_worktree(self.config, cache)
        # validate() is a pure function of the configuration, the documents and today, so its
        # result is memoised on exactly those inputs (documents by their files' blob ids).
        inputs = self._validate_inputs(cache, today) if cache is not None else None
        found = cache.recall(inputs) if cache is not None else None
        if found is None:
            found = validate(self.config, loaded.documents, today)
            if cache is not None:
                cache.remember(inputs, found)
        if cache is not None:
            cache.flush()
        findings = loaded.findings + list(found)
        findings.sort(key=lambda f: (f.path, f.line, f.rule))
        return CheckReport(loaded.documents, findings, strict)

    def _validate_inputs(self, cache: ParseCache, today: dt.date) -> str:
        digest = hashlib.sha1(f"{code_version()}|{today.isoformat()}".encode())
        for name in (CONFIG_FILE, self.config.model.clause_catalogue):
            digest.update(name.encode() + b"\0" + (self.root / name).read_bytes() + b"\0")
        digest.update(repr(list(cache.used)).encode())
        return digest.hexdigest()

    def documents(self) -> list[Document]:
        return self.load().documents

    def find(self, number: str) -> Document:
        return self.find_many([number])[0]

    def find_many(self, numbers: list[str]) -> list[Document]:
        """The documents with these numbers, from one read of the working tree."""
        loaded = self.load()
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
            raise DoccontrolError("no author given and git has no user.name", fix="pass --author NAME (a name from the roster)")
        return name

    def next_number(self, doc_type: str) -> str:
        """The next serial for the type, past every number ever used (worktree, obsolete and git history)."""
        if doc_type not in self.config.types:
            raise DoccontrolError(f"type {doc_type} is not configured", fix="see `types:` in doccontrol.yml")
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
        numbers = set()
        for folder in controlled_folders(self.config):
            if link_on_path(self.root, folder):
                continue  # refused by `check`; nothing in it is read
            for names in _names_under(self.root / folder, folder):
                numbers.update(filter(None, map(number_in_name, names)))
        return numbers

    def new_document(self, doc_type: str, title: str, department: str, author: str) -> Path:
        if not title.strip():
            raise DoccontrolError("the title must not be empty")
        if not self.config.in_roster(author):
            raise DoccontrolError(f"{author} is not in the roster",
                                  fix="pass --author with a name from doccontrol.yml `people:`")
        number = self.next_number(doc_type)
        folder = self.root / self.config.folder_of(doc_type)
        stem = f"{number}-{UNSAFE_FILE_CHARS.sub('', title)}"
        text = (TEMPLATES / f"{doc_type}.md").read_text(encoding="utf-8").format(
            number=number, title=_yaml_text(title), department=_yaml_text(department),
            author=_yaml_text(author), today=clock.today().isoformat())
        path = folder / stem / MANUAL_INDEX if doc_type == "manual" else folder / f"{stem}.md"
        if path.exists():
            raise DoccontrolError(f"{path.relative_to(self.root)} already exists")
        from .fileio import atomic_write_text

        atomic_write_text(path, text)
        return path


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
