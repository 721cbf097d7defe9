"""An MkDocs site: its `mkdocs.yml` nav gives the order, the titles and the grouping of its pages.

mkdocs.yml is read with a safe YAML loader that ignores tags (`!!python/name:…`, `!ENV`), never with
MkDocs' own loader, which would run what such tags name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..errors import DoccontrolError
from .common import SourceDoc, read_foreign_yaml, read_or_skip, read_regular_file
from .markdown import read_markdown, shown_path, walk_files

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")
MAX_NAV_ENTRIES = 10_000
MAX_NAV_DEPTH = 20


@dataclass(frozen=True)
class NavPage:
    path: str  # relative to docs_dir, posix
    title: str
    sections: tuple[str, ...]


def site_config(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def read_site(folder: Path, shown: str, skipped: list[str]) -> list[SourceDoc]:
    """The pages of the site as source documents: those in the nav in nav order (the home page and section
    index pages left out and reported), or every page by name when there is no nav."""
    config_path = site_config(folder)
    assert config_path is not None
    config_shown = shown_path(shown, folder, config_path)
    raw = read_regular_file(config_path, config_shown, 1024 * 1024)
    try:
        config = read_foreign_yaml(raw.decode("utf-8", errors="replace"))
    except ValueError as error:
        raise DoccontrolError(f"{config_shown} cannot be read: {error}", fix="correct the YAML, or import the "
                              "site's docs folder as a plain folder of Markdown") from None
    if not isinstance(config, dict):
        raise DoccontrolError(f"{config_shown} is not a mapping of settings",
                              fix="import the site's docs folder as a plain folder of Markdown")
    docs_dir = _docs_dir(folder, config.get("docs_dir", "docs"), config_shown)
    docs_shown = shown_path(shown, folder, docs_dir)
    pages = {path.relative_to(docs_dir).as_posix(): (path, groups)
             for path, groups in _all_pages(docs_dir, skipped, docs_shown)}
    nav = config.get("nav")
    if nav is None:
        order = [NavPage(rel, "", groups) for rel, (_, groups) in pages.items() if not _is_index(rel)]
        skipped.extend(f"{docs_shown}/{rel}: not imported (an index page; name the file on its own to import it)"
                       for rel in pages if _is_index(rel))
    else:
        order = _nav_pages(nav, config_shown, skipped)
    docs = []
    seen = set()
    for page in order:
        found = pages.get(page.path)
        if found is None:
            skipped.append(f"{config_shown}: the nav names {page.path}, which is not a page in {docs_shown}")
            continue
        if page.path in seen:
            continue
        seen.add(page.path)
        if _is_index(page.path):
            skipped.append(f"{docs_shown}/{page.path}: not imported (an index page; name the file on its own to "
                           "import it)")
            continue
        name = f"{docs_shown}/{page.path}"
        docs += read_or_skip(functools.partial(read_markdown, found[0], name, docs_dir, page.sections, "mkdocs",
                                               page.title), name, skipped)
    if nav is not None:
        skipped.extend(f"{docs_shown}/{rel}: not imported (not in the nav)" for rel in pages
                       if rel not in seen and not _is_index(rel))
    return docs


def _is_index(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].lower() in ("index.md", "readme.md")


def _docs_dir(folder: Path, value, shown: str) -> Path:
    text = str(value)
    parts = text.replace("\\", "/").split("/")
    if text.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise DoccontrolError(f"{shown}: docs_dir {text!r} is outside the site's folder",
                              fix="import the docs folder itself as a folder of Markdown")
    docs_dir = folder / text
    if docs_dir.is_symlink() or not docs_dir.is_dir():
        raise DoccontrolError(f"{shown}: docs_dir {text!r} is not a folder", fix="correct docs_dir")
    return docs_dir


def _all_pages(docs_dir: Path, skipped: list[str], shown: str):
    """Every .md file under docs_dir (index pages included: the nav decides), with the folders above it."""
    for path, groups in walk_files(docs_dir, skipped, shown):
        if path.suffix.lower() == ".md":
            yield path, groups


def _nav_pages(nav, shown: str, skipped: list[str]) -> list[NavPage]:
    """The pages the nav names, in order, with their nav titles and the sections above them."""
    pages: list[NavPage] = []
    pending: list[tuple[object, str, tuple[str, ...], int]] = [(nav, "", (), 0)]
    budget = MAX_NAV_ENTRIES
    while pending:
        item, title, sections, depth = pending.pop(0)
        budget -= 1
        if budget < 0 or depth > MAX_NAV_DEPTH:
            raise DoccontrolError(f"{shown}: the nav is larger or deeper than import reads "
                                  f"({MAX_NAV_ENTRIES} entries, {MAX_NAV_DEPTH} levels)")
        if isinstance(item, list):
            pending[:0] = [(entry, "", sections, depth + 1) for entry in item]
        elif isinstance(item, dict):
            expanded = []
            for key, value in item.items():
                if isinstance(value, (list, dict)):
                    expanded.append((value, "", (*sections, str(key)), depth + 1))
                else:
                    expanded.append((value, str(key), sections, depth + 1))
            pending[:0] = expanded
        elif isinstance(item, str):
            target = item.strip()
            if "://" in target or not target.lower().endswith(".md"):
                skipped.append(f"{shown}: nav entry {title or target!r} → {target} is not a page of the site")
            else:
                pages.append(NavPage(target[2:] if target.startswith("./") else target, title, sections))
    return pages
