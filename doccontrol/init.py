"""`doccontrol init`: a working document repository in one step.

It writes a commented configuration with the chosen clause catalogue and locale, puts the person
running it in the roster with their own signing key and every right, commits, and signs the
configuration as version 1, the trust anchor. `check` passes at once; the next steps are printed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DoccontrolError
from .repo import Repo, RepoError
from .signing import SigningError, load_signer

CATALOGUES = Path(__file__).parent / "catalogues"
CHOICES = ("gb27922", "iso9001", "iso13485", "none")

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "system": "管理体系", "position": "质量经理", "department": "质量部",
        "labels": {"manual": "手册", "procedure": "程序文件", "instruction": "作业指导书", "form": "记录表单",
                   "external": "外来文件"},
        "prefixes": {"manual": "QM", "procedure": "QP", "instruction": "QI", "form": "QR", "external": "QE"},
    },
    "en": {
        "system": "Quality management system", "position": "Quality manager", "department": "Quality",
        "labels": {"manual": "Manual", "procedure": "Procedure", "instruction": "Work instruction", "form": "Form",
                   "external": "External document"},
        "prefixes": {"manual": "QM", "procedure": "SOP", "instruction": "WI", "form": "F", "external": "EXT"},
    },
}
FOLDERS = {"manual": "docs", "procedure": "procedures", "instruction": "procedures", "form": "forms",
           "external": "docs/external"}
WIDTHS = {"manual": 2}
GITIGNORE = "# doccontrol's outputs and caches\n.doccontrol-cache/\n/site/\n/preview/\n/dist/\n"


@dataclass
class Started:
    root: Path
    name: str
    anchor: str


def init(root: Path, *, locale: str, company: str | None, catalogue: str, name: str | None, key: str | None,
         position: str | None = None, department: str | None = None) -> Started:
    root = Path(root).resolve()
    if (root / "doccontrol.yml").exists():
        raise DoccontrolError(f"{root} already holds a document repository (doccontrol.yml)",
                              fix="run doccontrol there, or init another folder")
    if root.exists() and any(p.name != ".git" for p in root.iterdir()):
        raise DoccontrolError(f"{root} is not empty", fix="init a new or empty folder; bring documents in afterwards "
                                                          "with `doccontrol import`")
    root.mkdir(parents=True, exist_ok=True)
    repo = _git_repository(root)
    with repo:
        name = (name or repo.config_value("user.name")).strip()
        spec = key or repo.config_value("user.signingkey")
    if not name:
        raise DoccontrolError("who are you? git has no user.name", fix="pass --name 'Your Name'")
    if not spec:
        raise DoccontrolError("no signing key: you sign the configuration's first version (the trust anchor)",
                              fix="make one with `ssh-keygen -t ed25519` and pass --key ~/.ssh/id_ed25519 (or set "
                                  "git config --global user.signingkey)")
    try:
        public = load_signer(spec).public
    except SigningError as error:
        raise DoccontrolError(error.message, fix=error.fix) from None
    text = TEXT[locale]
    _write(root / "doccontrol.yml", config_text(locale, company or root.name, name, public.openssh,
                                                position or text["position"], department or text["department"]))
    _write(root / "clauses.yml", catalogue_text(catalogue, locale))
    _write(root / ".gitignore", GITIGNORE)
    with Repo(root) as repo:
        repo.commit(["doccontrol.yml", "clauses.yml", ".gitignore"], "doccontrol init: configuration\n")
    from .workflow import ChangeControl
    from .workspace import Workspace

    roster = ChangeControl(Workspace(root), key=spec, as_name=name).approve_configuration()
    return Started(root, name, roster.fingerprint)


def _git_repository(root: Path) -> Repo:
    if not (root / ".git").exists():
        import subprocess

        subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    try:
        return Repo(root)
    except RepoError as error:
        raise DoccontrolError(str(error)) from None


def _write(path: Path, text: str) -> None:
    from .fileio import atomic_write_text

    atomic_write_text(path, text)


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def config_text(locale: str, company: str, name: str, key: str, position: str, department: str) -> str:
    text = TEXT[locale]
    types = list(FOLDERS)
    all_types = "[" + ", ".join(types) + "]"
    lines = [
        "# doccontrol configuration: the one place for company, numbering, people, their keys and rights.",
        "# Every key is documented in the doccontrol README (Configuration). This file is controlled: a change",
        "# takes effect when a person with `configure: true` approves it with `doccontrol config approve`.",
        f"company: {_q(company)}",
        f"system: {_q(text['system'])}",
        f"locale: {locale}                  # zh or en: the language of the site, the Word files and the templates",
        "clause_catalogue: clauses.yml",
        "default_review_months: 12   # periodic review of every document (review_months in a document overrides)",
        "max_modification: 9         # A/0 … A/9, then a re-issue B/0",
        "",
        "# Document types: numbers are PREFIX-SERIAL (or PREFIX-DEPARTMENT-SERIAL with `department: XX`).",
        "# Add your own types (policy, plan, report …) with a prefix, a folder and optionally a `template`.",
        "types:",
    ]
    for doc_type in types:
        extra = ", multi_file: true" if doc_type == "manual" else ""
        lines.append(f"  {doc_type}: {{label: {_q(text['labels'][doc_type])}, prefix: {text['prefixes'][doc_type]}, "
                     f"width: {WIDTHS.get(doc_type, 3)}, folder: {FOLDERS[doc_type]}{extra}}}")
    lines += [
        "",
        "# The people who prepare, review (审核), countersign (会签), approve (批准) and release (发布) documents,",
        "# each with the public half of their own SSH key. Add your colleagues here, then approve the change.",
        "people:",
        f"  {_q(name)}:",
        f"    position: {_q(position)}",
        f"    department: {_q(department)}",
        f"    keys: [{_q(key)}]",
        f"    rights: {{review: {all_types}, approve: {all_types}, release: {all_types}}}",
        "    configure: true",
        "",
        "# Separation of duties: the preparer never signs; review and approval by two different people.",
        "policy:",
        "  signatures: required",
        "  preparer_may_sign: false",
        "  one_person_may_review_and_approve: false",
        "",
        "# Holders of numbered controlled copies (doccontrol issue): departments, sites, people.",
        "holders: []",
    ]
    return "\n".join(lines) + "\n"


def catalogue_text(choice: str, locale: str) -> str:
    if choice == "gb27922":
        return (CATALOGUES / "gb27922.zh.yml").read_text(encoding="utf-8")
    path = CATALOGUES / f"{choice}.{locale}.yml"
    return path.read_text(encoding="utf-8")


def next_steps(started: Started, locale: str) -> list[str]:
    here = os.path.relpath(started.root)
    return [
        f"started a document repository in {here}: the configuration is approved as version 1 by {started.name}",
        f"trust anchor: {started.anchor} — print it, sign it, keep it: auditors compare it with `doccontrol verify`",
        "next:",
        "  1. add your colleagues and their SSH public keys under `people:` in doccontrol.yml, then",
        "     doccontrol config approve        (you sign the new version)",
        "  2. doccontrol new procedure \"" + ("文件控制程序" if locale == "zh" else "Document control") + "\"",
        "     or bring existing documents in: doccontrol import PATH",
        "  3. doccontrol submit / approve / release, then doccontrol publish",
    ]
