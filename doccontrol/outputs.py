"""Where a command may write a file: never into the repository's own folders, never over its files,
and never over a file doccontrol did not write, unless told so with --force.

`build --out` has its own folder rules (render/site.py); these are the ones for single files
(`pack --out`, `export --out`).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

from .config import CONFIG_FILE, Config
from .errors import DoccontrolError

PROTECTED_FOLDERS = (".git", "signatures", "demo-keys")
PACK_FORMAT = "doccontrol-audit-pack/"


def protected_folders(config: Config) -> list[Path]:
    root = config.root.resolve()
    return [root / name for name in PROTECTED_FOLDERS] + [root / spec.folder for spec in config.types.values()]


def refuse_links_in_repository(root: Path, out: Path) -> None:
    """Refuse an output path inside the repository that is or passes through a symbolic link.

    A link in the repository is content anyone with a commit can put there: writing or replacing
    through it would reach wherever it points. Outside the repository, links are the user's own."""
    from .loader import link_on_path

    root = root.resolve()
    absolute = Path(os.path.abspath(out))
    if absolute != root and root not in absolute.parents:
        return
    link = link_on_path(root, absolute.relative_to(root).as_posix())
    if link is not None:
        raise DoccontrolError(f"refusing to write {absolute}: {link} in the repository is a symbolic link (to "
                              f"{os.readlink(root / link)}); doccontrol never writes or replaces through a link",
                              fix=f"remove the link ({link}) or pass --out a folder that is not a link")


def checked_file(config: Config, out: Path, kind: str, force: bool = False) -> Path:
    """The output file, resolved; an error that says why when writing there could destroy something.

    kind is "pack" (a .zip audit pack) or "docx" (an exported document)."""
    refuse_links_in_repository(config.root, out)
    out = (out if out.is_absolute() else Path.cwd() / out).resolve()
    root = config.root.resolve()
    suffix = {"pack": ".zip", "docx": ".docx"}[kind]
    if out.suffix.lower() != suffix:
        raise DoccontrolError(f"refusing to write {out}: the {'audit pack' if kind == 'pack' else 'export'} is a "
                              f"{suffix} file", fix=f"name the output …{suffix}")
    for folder in protected_folders(config):
        if folder == out or folder in out.parents:
            raise DoccontrolError(f"refusing to write {out}: it is inside {folder.relative_to(root)}/, which "
                                  "doccontrol reads as part of the record", fix="write it to dist/ or another "
                                                                                "folder outside the repository's own")
    if out.parent == root and out.name in (CONFIG_FILE, config.model.clause_catalogue, "mkdocs.yml"):
        raise DoccontrolError(f"refusing to write over the configuration file {out.name}")
    if out.is_dir():
        raise DoccontrolError(f"refusing to write {out}: it is a folder")
    if out.exists() and not force and not written_by_doccontrol(out, kind):
        raise DoccontrolError(f"refusing to replace {out}: doccontrol did not write it",
                              fix="choose another name, or pass --force to replace it")
    return out


def written_by_doccontrol(path: Path, kind: str) -> bool:
    """Whether the file is an audit pack or an exported document that doccontrol wrote."""
    try:
        with zipfile.ZipFile(path) as archive:
            if kind == "pack":
                manifest = json.loads(archive.read("manifest.json"))
                return str(manifest.get("format", "")).startswith(PACK_FORMAT)
            core = archive.read("docProps/core.xml").decode("utf-8", "replace")
            return bool(re.search(r"<dc:identifier>[A-Z]{1,6}(-[A-Z]{1,6})?-[0-9]{1,6}</dc:identifier>", core)
                        and any(marker in core for marker in _description_markers()))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False


def _description_markers() -> list[str]:
    """What every locale's description of a Word copy says besides the company, number and revision (受控文件 …)."""
    from .messages import LOCALES, catalogue

    return [catalogue(locale).word.description.format(company="", number="", revision="").strip()
            for locale in LOCALES]
