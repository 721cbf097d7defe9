"""Atomic writes and round-trip editing of front matter (comments and key order kept)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

from .loader import split_front_matter


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write data to path so that readers see the old file or the new one, never a half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what a plain open() would give a new file (mkstemp gives 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *args: True
    return yaml


def edit_front_matter(path: Path, change) -> None:
    """Load a document's front matter round-trip, let `change(meta)` edit it, write it back atomically."""
    text = Path(path).read_text(encoding="utf-8")
    split = split_front_matter(str(path), text)
    if not isinstance(split, tuple):
        raise ValueError(split.message)
    yaml_text, body, _ = split
    yaml = _yaml()
    meta = yaml.load(yaml_text) or {}
    change(meta)
    out = io.StringIO()
    yaml.dump(meta, out)
    atomic_write_text(path, "---\n" + out.getvalue() + "---\n" + body)
