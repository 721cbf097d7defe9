"""Where the site goes: guards on the output folder, no resource from another host, an atomic swap."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import CONFIG_FILE
from ..errors import DoccontrolError
from ..fileio import interrupts_held

if TYPE_CHECKING:
    from ..workspace import Workspace


def checked_output(ws: Workspace, out: Path, preview: bool, marker: str) -> Path:
    """The output folder, resolved; refuse folders whose replacement would destroy something."""
    from ..outputs import refuse_links_in_repository

    refuse_links_in_repository(ws.root, out)
    out = (out if out.is_absolute() else Path.cwd() / out).resolve()
    root = ws.root
    if out == root or out in root.parents:
        raise DoccontrolError(f"refusing to build into {out}: it holds the document repository",
                              fix="pass --out site/ or another folder of its own")
    if (out / CONFIG_FILE).exists():
        raise DoccontrolError(f"refusing to build into {out}: it contains {CONFIG_FILE}",
                              fix="pass --out a folder that holds only the built site")
    protected = [root / ".git", *(root / spec.folder for spec in ws.config.types.values())]
    for folder in protected:
        if out == folder or folder in out.parents:
            raise DoccontrolError(f"refusing to build into {out}: it is inside the controlled folder {folder.name}",
                                  fix="pass --out site/ or another folder outside the document folders")
    if preview and out == (root / "site").resolve():
        raise DoccontrolError("refusing to write a preview into the controlled site folder site/",
                              fix="preview into preview/ (the default) or another folder")
    if out.exists():
        ensure_replaceable(out, preview, marker)
    return out


def ensure_replaceable(out: Path, preview: bool, marker: str) -> None:
    if not out.is_dir():
        raise DoccontrolError(f"refusing to build into {out}: it is not a folder")
    stamp = out / marker
    if stamp.is_file():
        kind = stamp.read_text(encoding="utf-8").split(" ", 1)[0]
        if preview and kind == "controlled":
            raise DoccontrolError(f"refusing to write a preview over the controlled site in {out}",
                                  fix="preview into preview/ (the default) or another folder")
        return
    if any(out.iterdir()):
        raise DoccontrolError(f"refusing to replace {out}: it is not empty and was not built by doccontrol",
                              fix="pass --out a new or empty folder")


# -- nothing leaves the site ------------------------------------------------------------------

LOADING_TAGS = {"script", "img", "iframe", "frame", "embed", "object", "audio", "video", "source", "track",
                "input", "link"}
BEFORE_REMOTE = re.compile(r"""(?:\s(?P<attr>src|srcset|data|poster|href)\s*=|url\(|@import(?:\s+url\()?)"""
                           r"""\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?$""", re.IGNORECASE)
TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
NOT_LOADED = re.compile(r"""\brel\s*=\s*["']?(?:canonical|alternate)\b""", re.IGNORECASE)
# Browsers read a backslash in a web address as a slash (http:/\host is http://host).
SLASHES = re.compile(r"[/\\]{2}")


def remote_resources(site_dir: Path, skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Pages and style sheets that would make a browser load something from another host (skip: files, relative
    to site_dir, already checked when they were made)."""
    found = []
    for relative in sorted(checked_files(site_dir, skip), key=lambda name: name.split("/")):
        text = (site_dir / relative).read_text(encoding="utf-8", errors="replace")
        found += [f"{relative}: {what}" for what in remote_in(text)]
    return found


def checked_files(site_dir: Path, skip: frozenset[str] | set[str]) -> list[str]:
    """The pages and style sheets under site_dir (relative POSIX paths), but those in skip."""
    names = []
    for folder, _, files in os.walk(site_dir):
        prefix = Path(folder).relative_to(site_dir).as_posix() + "/"
        prefix = "" if prefix == "./" else prefix
        names += [prefix + name for name in files if name.endswith((".html", ".css")) and prefix + name not in skip]
    return names


def remote_in(text: str) -> list[str]:
    """Resource URLs in HTML or CSS that start with `//` or `scheme://` (either slash may be a backslash);
    plain links (<a href>) are fine."""
    found = []
    for slash in SLASHES.finditer(text):
        before = BEFORE_REMOTE.search(text, max(0, slash.start() - 64), slash.start())
        if not before:
            continue
        if before.group("attr"):
            start = text.rfind("<", 0, slash.start())
            tag = text[start: text.find(">", slash.start()) + 1]
            name = TAG_NAME.match(tag)
            if not name or name.group(1).lower() not in LOADING_TAGS or NOT_LOADED.search(tag):
                continue
            found.append(tag[:160])
        else:
            found.append(text[before.start(): slash.end() + 80].split(")")[0])
    return found


def ensure_local(site_dir: Path, skip: frozenset[str] | set[str] = frozenset()) -> None:
    remote = remote_resources(site_dir, skip)
    if remote:
        shown = "\n".join(f"    {line}" for line in remote[:20])
        raise DoccontrolError(f"the site would load resources from other hosts; readers on the intranet "
                              f"cannot reach them and no request may leave the site:\n{shown}",
                              fix="put the file into the repository and link it locally, or remove it")


# -- replacing the output ----------------------------------------------------------------------

def swap_in(new: Path, out: Path, previous: Path) -> None:
    """Replace out with new by renames on one file system; the old site survives any failure.

    SIGINT and SIGTERM are held from the first rename to the end, so an interrupt cannot land
    between the renames or before a failed second rename is undone; it takes effect after."""
    if not out.exists():
        os.rename(new, out)
        return
    with interrupts_held():
        os.rename(out, previous)
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(previous, out)
            raise
