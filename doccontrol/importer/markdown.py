"""Markdown files, alone or in folders, with or without another tool's YAML front matter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .common import (
    ATTENTION,
    Note,
    SourceDoc,
    numbered_lines,
    read_foreign_yaml,
    read_text_file,
    split_foreign_front_matter,
)

# Files that describe a folder rather than being a document of it; imported only when named on their own.
FURNITURE = {"readme.md", "index.md", "summary.md", "changelog.md", "license.md", "contributing.md"}


def read_markdown(path: Path, shown: str, root: Path, groups: tuple[str, ...] = (), kind: str = "markdown",
                  nav_title: str = "") -> SourceDoc:
    """One Markdown file as a source document (its front matter read as another tool's metadata)."""
    notes: list[Note] = []
    text = read_text_file(path, shown, notes)
    yaml_text, body, body_line = split_foreign_front_matter(text)
    doc = SourceDoc(shown=shown, path=path, root=root, kind=kind, lines=numbered_lines(body, body_line),
                    groups=groups, nav_title=nav_title, notes=notes, original_text=body)
    if yaml_text is not None:
        try:
            meta = read_foreign_yaml(yaml_text)
        except ValueError as error:
            meta = None
            doc.meta_problem = str(error)
        if isinstance(meta, dict):
            doc.meta = meta
        else:
            doc.note(ATTENTION, "the front matter could not be read as metadata (" + (doc.meta_problem or
                     "it is not a mapping of keys") + "); nothing of it was carried over", 1)
    return doc


def markdown_files(folder: Path, skipped: list[str], shown: str) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """The .md files under folder in name order (with the folder names above each); links are never
    followed, hidden entries are left out, and a folder's furniture (README.md, index.md) is reported."""
    for path, groups in walk_files(folder, skipped, shown):
        if path.suffix.lower() != ".md":
            continue
        if path.name.lower() in FURNITURE:
            skipped.append(f"{shown_path(shown, folder, path)}: not imported ({path.name} describes its folder; "
                           "name the file on its own to import it)")
            continue
        yield path, groups


def walk_files(folder: Path, skipped: list[str], shown: str) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """Every regular file under folder, in name order, with the names of the folders above it."""
    pending = [folder]
    while pending:
        current = pending.pop(0)
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as error:
            skipped.append(f"{shown_path(shown, folder, current)}: cannot be read ({error.strerror})")
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                skipped.append(f"{shown_path(shown, folder, path)}: a symbolic link, not followed")
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                yield path, path.relative_to(folder).parts[:-1]
        pending[:0] = subfolders


def shown_path(shown: str, folder: Path, path: Path) -> str:
    """How the plan names a file found under a folder the user named as shown."""
    rel = path.relative_to(folder).as_posix()
    return shown if rel == "." else f"{shown.rstrip('/')}/{rel}"
