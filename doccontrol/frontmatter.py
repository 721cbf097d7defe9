"""Named edits of a document's front matter, made round-trip (comments and key order kept).

The workflow changes front matter only through these; each returns the new file text and
writes nothing, so that a command can prepare every file before it writes any.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from .loader import split_front_matter

Edit = Callable[[dict], None]


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *args: True
    return yaml


def edited(path: Path, *edits: Edit) -> str:
    """The text of the file at path with its front matter changed by the edits."""
    text = Path(path).read_text(encoding="utf-8")
    split = split_front_matter(str(path), text)
    if not isinstance(split, tuple):
        raise ValueError(split.message)
    yaml_text, body, _ = split
    yaml = _yaml()
    meta = yaml.load(yaml_text) or {}
    for edit in edits:
        edit(meta)
    out = io.StringIO()
    yaml.dump(meta, out)
    return "---\n" + out.getvalue() + "---\n" + body


def set_status(status: str) -> Edit:
    def edit(meta: dict) -> None:
        meta["status"] = status
    return edit


def set_keys(values: dict) -> Edit:
    """Controlled metadata set to new values (None removes the key)."""
    def edit(meta: dict) -> None:
        for key, value in values.items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
    return edit


def submitted() -> Edit:
    """In review: and no longer effective (a document adopted into the signed record is released again)."""
    def edit(meta: dict) -> None:
        meta["status"] = "review"
        meta.pop("effective", None)
    return edit


def open_revision(revision: str, author: str, day: dt.date, section: str, reason: str) -> Edit:
    """A new draft revision: preparer and date, a revision-record row; the last release's date goes."""
    def edit(meta: dict) -> None:
        meta["revision"] = revision
        meta["status"] = "draft"
        meta["prepared"] = {"name": author, "date": day}
        meta.pop("effective", None)
        meta["history"].append({"revision": revision, "date": day, "section": section, "summary": reason,
                                "by": author})
    return edit


def mark_released(revision: str, effective: dt.date, approver: str) -> Edit:
    """Effective from a date, and the approver's name in the revision-record row."""
    def edit(meta: dict) -> None:
        meta["status"] = "effective"
        meta["effective"] = effective
        for row in meta["history"]:
            if row["revision"] == revision:
                row["approved_by"] = approver
        _place_after(meta, "effective", "prepared")
    return edit


def mark_withdrawn(reason: str, superseded_by: str | None) -> Edit:
    def edit(meta: dict) -> None:
        meta["status"] = "obsolete"
        meta["obsolete_reason"] = reason
        if superseded_by:
            meta["superseded_by"] = superseded_by
    return edit


def _place_after(meta: dict, key: str, after: str) -> None:
    """Keep `effective` next to `prepared` in the file, for a reader's eye."""
    if after not in meta or key not in meta:
        return
    value = meta.pop(key)
    position = list(meta.keys()).index(after) + 1
    meta.insert(position, key, value)  # type: ignore[attr-defined]
