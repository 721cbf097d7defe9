"""Loading and querying the repository configuration (doccontrol.yml) and clause catalogue."""

from __future__ import annotations

import functools
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .messages import Messages, catalogue
from .model import Finding
from .schema import CatalogueModel, ConfigModel, TypeConfig, describe_errors
from .yamlread import YamlDocument, YamlProblem, read_yaml

CONFIG_FILE = "doccontrol.yml"
CACHE_DIR = ".doccontrol-cache"


class ConfigError(Exception):
    """The configuration cannot be used; carries every finding about it."""

    def __init__(self, findings: list[Finding]):
        super().__init__("\n".join(str(f) for f in findings))
        self.findings = findings


@dataclass(frozen=True)
class Clause:
    id: str
    standard: str
    title: str
    required: bool


@dataclass
class Config:
    """The configuration: read from the working files, or taken from an approved version in the ledger."""

    root: Path
    model: ConfigModel
    clauses: dict[str, Clause]
    catalogue: CatalogueModel | None = None
    approved_version: int | None = None  # the ledger version this came from; None for the working files
    site: dict | None = None  # the approved site options (and logo hash); None: read the working mkdocs.yml

    @property
    def company(self) -> str:
        return self.model.company

    @property
    def types(self) -> dict[str, TypeConfig]:
        return self.model.types

    @property
    def messages(self) -> Messages:
        """The labels of the configured locale (`locale:`, zh by default)."""
        return catalogue(self.model.locale)

    def number_pattern(self, doc_type: str) -> re.Pattern:
        """The type's numbers, ASCII digits only; ends in \\Z, so even `.match` refuses a trailing newline."""
        spec = self.types[doc_type]
        return re.compile(rf"{re.escape(spec.scheme)}([0-9]{{{spec.width}}})\Z")

    def format_number(self, doc_type: str, serial: int) -> str:
        spec = self.types[doc_type]
        return f"{spec.scheme}{serial:0{spec.width}d}"

    @functools.cached_property
    def numbers(self) -> str:
        """One regular expression (no anchors) for every configured type's numbers: the one numbering pattern
        that file names, folder names, text scanning and links all use."""
        schemes = sorted(((spec.scheme, spec.width) for spec in self.types.values()), key=lambda s: -len(s[0]))
        return "(?:" + "|".join(rf"{re.escape(scheme)}[0-9]{{{width}}}" for scheme, width in schemes) + ")"

    @functools.cached_property
    def file_name(self) -> re.Pattern:
        """A document file's name: its number, then optionally a separator and the title."""
        return re.compile(rf"(?P<number>{self.numbers})(?:[-_ ].*)?\.md\Z")

    @functools.cached_property
    def folder_name(self) -> re.Pattern:
        """A multi-file document's folder name."""
        return re.compile(rf"(?P<number>{self.numbers})(?:[-_ ].*)?\Z")

    @functools.cached_property
    def number_in_text(self) -> re.Pattern:
        """A number written in a text: not part of a longer word or number."""
        return re.compile(rf"(?<![A-Za-z0-9-])({self.numbers})(?![0-9A-Za-z])")

    def number_in_name(self, name: str) -> str | None:
        """The document number a file or folder name starts with (full-width characters folded), if any."""
        folded = unicodedata.normalize("NFKC", name)
        match = self.file_name.fullmatch(folded) or self.folder_name.fullmatch(folded)
        return match.group("number") if match else None

    def is_multi_file(self, doc_type: str) -> bool:
        spec = self.types.get(doc_type)
        return bool(spec and (spec.multi_file or doc_type == "manual"))

    def type_of_number(self, number: str) -> str | None:
        for doc_type in self.types:
            if self.number_pattern(doc_type).fullmatch(number):
                return doc_type
        return None

    def serial_of(self, number: str) -> tuple[str, int] | None:
        for doc_type in self.types:
            match = self.number_pattern(doc_type).fullmatch(number)
            if match:
                return doc_type, int(match.group(1))
        return None

    def folder_of(self, doc_type: str) -> str:
        return self.types[doc_type].folder

    def type_label(self, doc_type: str) -> str:
        spec = self.types.get(doc_type)
        return spec.label if spec else doc_type

    def in_roster(self, name: str) -> bool:
        return name in self.model.people

    def content(self) -> dict:
        """The configuration as a configuration statement holds it (ConfigError when the site options are bad)."""
        from .roster import configuration_content
        from .site_options import read_site_options, site_content

        assert self.catalogue is not None
        site = self.site if self.site is not None else site_content(self.root, read_site_options(self.root))
        return configuration_content(self.model, self.catalogue, site)

    def roster(self):
        """The roster these files describe (not yet approved, unless it equals an approved version)."""
        from .roster import roster_of

        return roster_of(self.content())

    @functools.cached_property
    def cache_dir(self) -> Path:
        """The repository's cache folder; refused when it holds a symbolic link or committed files (checked once
        per configuration, that is once per command)."""
        from .cache import checked_cache_dir

        return checked_cache_dir(self.root, CACHE_DIR)


def load_config(root: Path) -> Config:
    """Read doccontrol.yml and the clause catalogue under root; raise ConfigError with every problem."""
    root = Path(root)
    if not os.path.lexists(root / CONFIG_FILE):
        raise ConfigError([Finding(CONFIG_FILE, 1, "config-missing",
                                   f"no {CONFIG_FILE} in {root}",
                                   "run doccontrol inside a document repository, or pass --repo DIR")])
    model, lines = _read_model(root / CONFIG_FILE, CONFIG_FILE, ConfigModel)
    catalogue_name = model.clause_catalogue
    catalogue_path = root / catalogue_name
    absent = _absent(catalogue_path)
    if absent:
        raise ConfigError([Finding(CONFIG_FILE, lines.get("clause_catalogue", 1), "config-catalogue",
                                   f"clause catalogue {catalogue_name} {absent}",
                                   "create it or correct clause_catalogue")])
    catalogue, clause_lines = _read_model(catalogue_path, catalogue_name, CatalogueModel)
    problems = [Finding(catalogue_name, clause_lines.get(f"clauses.{clause_id}", 1), "config-catalogue",
                        f"clause {clause_id} names unknown standard {clause_id.split('-', 1)[0]}",
                        "add the standard under `standards:`")
                for clause_id in catalogue.clauses if clause_id.split("-", 1)[0] not in catalogue.standards]
    if problems:
        raise ConfigError(problems)
    return Config(root=root, model=model, clauses=_clauses(catalogue), catalogue=catalogue)


def config_from_content(root: Path, content: dict, version: int) -> Config:
    """The configuration of an approved version (already validated when its statement was judged)."""
    model = ConfigModel.model_validate(content["doccontrol"])
    catalogue = CatalogueModel.model_validate(content["clauses"])
    return Config(root=Path(root), model=model, clauses=_clauses(catalogue), catalogue=catalogue,
                  approved_version=version, site=content.get("site", {}))


def _clauses(catalogue: CatalogueModel) -> dict[str, Clause]:
    return {clause_id: Clause(clause_id, catalogue.standards.get(clause_id.split("-", 1)[0], clause_id),
                              clause.title, clause.required)
            for clause_id, clause in catalogue.clauses.items()}


def _absent(path: Path) -> str | None:
    """Why there is no file at path to read ("does not exist", "is a folder"), or None."""
    if not os.path.lexists(path):
        return "does not exist"
    if stat.S_ISDIR(os.lstat(path).st_mode):
        return "is a folder, not a file"
    return None


def _read_model(path: Path, shown: str, model_type):
    """The validated model of a configuration file, and the line of every key in it."""
    parsed = _read_yaml_file(path, shown)
    if not isinstance(parsed.data, dict):
        raise ConfigError([Finding(shown, 1, "config-yaml", "expected a mapping of keys",
                                   "see README, Configuration")])
    try:
        return model_type.model_validate(parsed.data), parsed.lines
    except ValidationError as error:
        raise ConfigError([
            Finding(shown, line, "config-schema", message, fix)
            for line, message, fix in describe_errors(error, parsed.lines)
        ]) from None


def _read_yaml_file(path: Path, shown: str) -> YamlDocument:
    raw = _read_regular_file(path, shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([Finding(shown, raw[: error.start].count(b"\n") + 1, "config-encoding",
                                   "file is not valid UTF-8", "save it as UTF-8")]) from None
    try:
        return read_yaml(text.replace("\r\n", "\n").replace("\r", "\n"))
    except YamlProblem as problem:
        raise ConfigError([Finding(shown, problem.line, "config-yaml", problem.message, problem.fix)]) from None


def _read_regular_file(path: Path, shown: str) -> bytes:
    """The bytes of a configuration file that is a plain file: never a link, never a pipe that would block."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise ConfigError([Finding(shown, 1, "config-file", f"{shown} is a symbolic link",
                                   "replace the link with the file itself")])
    if not stat.S_ISREG(mode):
        raise ConfigError([Finding(shown, 1, "config-file", f"{shown} is not a regular file",
                                   f"replace it with a plain text file {shown}")])
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError([Finding(shown, 1, "config-file", f"{shown} cannot be read ({error.strerror})",
                                   "give the user running doccontrol read access to it")]) from None
