"""Loading and querying the repository configuration (doccontrol.yml) and clause catalogue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .model import Finding
from .schema import CatalogueModel, ConfigModel, TypeConfig, describe_errors
from .yamlread import YamlProblem, read_yaml

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
    root: Path
    model: ConfigModel
    clauses: dict[str, Clause]

    @property
    def company(self) -> str:
        return self.model.company

    @property
    def types(self) -> dict[str, TypeConfig]:
        return self.model.types

    def number_pattern(self, doc_type: str) -> re.Pattern:
        spec = self.types[doc_type]
        return re.compile(rf"^{spec.prefix}-{spec.department}-(\d{{{spec.width}}})$")

    def format_number(self, doc_type: str, serial: int) -> str:
        spec = self.types[doc_type]
        return f"{spec.prefix}-{spec.department}-{serial:0{spec.width}d}"

    def type_of_number(self, number: str) -> str | None:
        for doc_type in self.types:
            if self.number_pattern(doc_type).match(number):
                return doc_type
        return None

    def serial_of(self, number: str) -> tuple[str, int] | None:
        for doc_type in self.types:
            match = self.number_pattern(doc_type).match(number)
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

    def position_of(self, name: str) -> str:
        person = self.model.people.get(name)
        return person.position if person else ""

    def may_sign(self, name: str, role: str, doc_type: str) -> bool:
        person = self.model.people.get(name)
        return bool(person) and doc_type in person.sign.get(role, [])

    def signers_for(self, role: str, doc_type: str) -> list[str]:
        return [name for name in self.model.people if self.may_sign(name, role, doc_type)]

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR


def load_config(root: Path) -> Config:
    """Read doccontrol.yml and the clause catalogue under root; raise ConfigError with every problem."""
    root = Path(root)
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError([Finding(CONFIG_FILE, 1, "config-missing",
                                   f"no {CONFIG_FILE} in {root}",
                                   "run doccontrol inside a document repository, or pass --repo DIR")])
    model = _read_model(path, CONFIG_FILE, ConfigModel)
    catalogue_name = model.clause_catalogue
    catalogue_path = root / catalogue_name
    if not catalogue_path.is_file():
        raise ConfigError([Finding(CONFIG_FILE, 1, "config-catalogue",
                                   f"clause catalogue {catalogue_name} does not exist",
                                   "create it or correct clause_catalogue")])
    catalogue = _read_model(catalogue_path, catalogue_name, CatalogueModel)
    clauses = {}
    problems = []
    for clause_id, clause in catalogue.clauses.items():
        standard = clause_id.split("-", 1)[0]
        if standard not in catalogue.standards:
            problems.append(Finding(catalogue_name, 1, "config-catalogue",
                                    f"clause {clause_id} names unknown standard {standard}",
                                    "add the standard under `standards:`"))
        clauses[clause_id] = Clause(clause_id, catalogue.standards.get(standard, standard),
                                    clause.title, clause.required)
    if problems:
        raise ConfigError(problems)
    return Config(root=root, model=model, clauses=clauses)


def _read_model(path: Path, shown: str, model_type):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Finding(shown, 1, "config-encoding", "file is not valid UTF-8",
                                   "save it as UTF-8")]) from None
    try:
        parsed = read_yaml(text)
    except YamlProblem as problem:
        raise ConfigError([Finding(shown, problem.line, "config-yaml", problem.message, problem.fix)]) from None
    if not isinstance(parsed.data, dict):
        raise ConfigError([Finding(shown, 1, "config-yaml", "expected a mapping of keys",
                                   "see README, Configuration")])
    try:
        return model_type.model_validate(parsed.data)
    except ValidationError as error:
        raise ConfigError([
            Finding(shown, line, "config-schema", message, fix)
            for line, message, fix in describe_errors(error, parsed.lines)
        ]) from None
