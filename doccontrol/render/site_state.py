"""What the last build of a site folder was made from, so that the next build redoes only what changed.

One record per output folder, under the repository's cache folder (`.doccontrol-cache/site/`),
sealed with this user's cache key like the parse cache (a file committed to a repository or
planted in it is ignored, never unpickled) and stamped with doccontrol's version. It holds:

- `inputs`: a digest of everything a controlled build is made from (the commit whose record
  is proven, the day, the configuration files, the logo, doccontrol and its libraries). When it
  is unchanged and every file of the site is still the one that build wrote, the site already
  is what a build would make, and nothing is done;
- each page's record (see site_reuse.PageRecord), and a key for each other file that a build
  links instead of writing when it is unchanged (the 修订对比 pages);
- the digests of the texts the build found within the Markdown limits (markdown_checks.py), so
  that the next build reads only new texts for them;
- `files`: every file of the site as the build left it (inode, size, modification and change
  time). A file whose entry differs (edited, replaced, touched, linked elsewhere) is never reused;
- what the build published (numbers, revisions, titles) and reported, to say what the next
  build rebuilt and why.

Anything unexpected (no record, another version, a damaged file) means a full build, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import SealedFile, package_version
from ..model import Finding

FORMAT = 1
FOLDER = "site"
LIBRARIES = ("mkdocs", "mkdocs-material", "Markdown", "pymdown-extensions", "Jinja2", "MarkupSafe", "jieba", "nh3",
             "pypandoc", "pypandoc-binary", "python-docx")
RENDER_DIR = Path(__file__).resolve().parent

Stat = tuple[int, int, int, int]


@dataclass
class SiteState:
    """The record of one build of one site folder (see the module's docstring)."""

    inputs: str = ""
    stamp: dict[str, str] = field(default_factory=dict)
    files: dict[str, Stat] = field(default_factory=dict)
    documents: dict[str, tuple[str, str]] = field(default_factory=dict)
    watched: dict[str, str] = field(default_factory=dict)
    pages_total: int = 0
    documents_total: int = 0
    notice: str = ""
    held_back: list[Finding] = field(default_factory=list)
    token: str = ""
    pages: dict = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    within_limits: frozenset[bytes] = frozenset()


# -- where it is kept --------------------------------------------------------------------------

def _name(out: Path) -> str:
    return hashlib.sha256(str(Path(out).resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _sealed(cache_dir: Path, out: Path, part: str) -> SealedFile:
    return SealedFile(Path(cache_dir) / FOLDER, f"{_name(out)}{part}.pickle", f"{FORMAT}|{package_version()}")


def load_state(cache_dir: Path, out: Path, with_pages: bool = True) -> SiteState | None:
    """The record of the last build of out, or None. with_pages=False reads only the small part (enough to
    know whether anything changed)."""
    state = _sealed(cache_dir, out, "").load(None)
    if not isinstance(state, SiteState):
        return None
    if with_pages:
        pages = _sealed(cache_dir, out, "-pages").load(None)
        if isinstance(pages, tuple) and len(pages) == 4 and pages[0] == state.token:
            state.pages, state.outputs, state.within_limits = pages[1], pages[2], pages[3]
    return state


def save_state(cache_dir: Path, out: Path, state: SiteState) -> None:
    """Keep the record (the pages first, so that a record is never paired with another build's pages)."""
    state.token = secrets.token_hex(8)
    pages, outputs, within_limits = state.pages, state.outputs, state.within_limits
    _sealed(cache_dir, out, "-pages").save((state.token, pages, outputs, within_limits))
    state.pages, state.outputs, state.within_limits = {}, {}, frozenset()
    try:
        _sealed(cache_dir, out, "").save(state)
    finally:
        state.pages, state.outputs, state.within_limits = pages, outputs, within_limits


# -- the site's files --------------------------------------------------------------------------

def file_stat(path: Path | str) -> Stat | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


FOREIGN: Stat = (-1, -1, -1, -1)


def site_files(out: Path) -> dict[str, Stat]:
    """Everything under out (relative POSIX path → its stat entry): every regular file, every folder (its path
    ends in `/`), and anything else (a link, a pipe …) as FOREIGN, which no build writes, so a site holding
    one is never taken for unchanged."""
    found: dict[str, Stat] = {}
    root = str(out)

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    found[name + "/"] = (info.st_ino, 0, info.st_mtime_ns, info.st_ctime_ns)
                    walk(entry.path, name + "/")
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    found[name] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
                else:
                    found[name] = FOREIGN

    if os.path.isdir(root):
        walk(root, "")
    return found


def unchanged_site(out: Path, files: dict[str, Stat]) -> bool:
    """Whether out holds exactly the files recorded, each untouched since (and nothing else)."""
    try:
        return bool(files) and site_files(out) == files
    except OSError:
        return False


class Intact:
    """Whether a file of the previous site is still exactly what its build wrote."""

    def __init__(self, out: Path, files: dict[str, Stat]):
        self.out = out
        self.files = files

    def __call__(self, relative: str) -> bool:
        recorded = self.files.get(relative)
        return recorded is not None and file_stat(self.out / relative) == recorded


# -- what a build is made from -----------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """doccontrol's code and every file the site is made with (theme, style sheets, dictionaries), Python and
    the versions of the libraries that render."""
    from importlib.metadata import PackageNotFoundError, version

    hasher = hashlib.sha256(f"{FORMAT}|{sys.version}|{package_version()}".encode())
    for name in LIBRARIES:
        try:
            hasher.update(f"{name}={version(name)};".encode())
        except PackageNotFoundError:
            hasher.update(f"{name}=;".encode())
    for path in sorted(p for p in RENDER_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        hasher.update(path.relative_to(RENDER_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def watched_unchanged(root: Path, watched: dict[str, str]) -> bool:
    return all(file_digest(Path(root) / name) == value for name, value in watched.items())


# -- what the next build says ------------------------------------------------------------------

def published(documents) -> dict[str, tuple[str, str]]:
    return {doc.number: (doc.revision, doc.title) for doc in documents}


def document_changes(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> list[str]:
    """What changed in what is published, in words (QP-SH-011 A/2 released, QR-SH-005 withdrawn, …)."""
    said = []
    for number in sorted(set(before) | set(after)):
        old, new = before.get(number), after.get(number)
        if old == new:
            continue
        if old is None:
            said.append(f"{number} {new[0]} published")  # type: ignore[index]
        elif new is None:
            said.append(f"{number} withdrawn")
        elif old[0] != new[0]:
            said.append(f"{number} {new[0]} released")
        else:
            said.append(f"{number} retitled")
    return said


def stamp_changes(before: dict[str, str], after: dict[str, str], redated: int = 0) -> list[str]:
    words = {"code": "doccontrol or its libraries changed", "settings": "the site's configuration changed",
             "as_of": f"a new day: {redated:,} pages kept with the new date written in",
             "kind": "a preview and the controlled site differ"}
    return [text for key, text in words.items() if before.get(key) != after.get(key)]
