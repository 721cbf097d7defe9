"""Atomic writes and private temporaries.

Temporaries are named `{prefix}{pid}-{token}{suffix}` after the process that owns them. A
process that ends normally or by an interrupt removes its own; one that is killed outright
(SIGKILL, power loss) cannot, so a later process's next write to the same folder removes
the leftovers of processes that no longer run (remove_stale; each process lists a folder once).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOKEN_BYTES = 6
# remove_tree: how many threads remove sub-folders, and how many sub-folders make it worth starting them.
REMOVERS = 8
PARALLEL_FROM = 16


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write data to path so that readers see the old file or the new one, never a half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    remove_stale(path.parent, prefix, ".tmp")
    tmp = private_temp_path(path.parent, prefix, ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what a plain open() would give a new file (the temporary is made 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def private_temp_path(parent: Path, prefix: str, suffix: str = "", owner: int | None = None) -> Path:
    """A fresh name in parent for a temporary of this process (or of the process owner); nothing is created.

    The name is known before anything exists, so a cleanup written around the creation
    cannot miss what an interrupt left half-made."""
    return Path(parent) / f"{prefix}{owner or os.getpid()}-{secrets.token_hex(TOKEN_BYTES)}{suffix}"


@contextlib.contextmanager
def private_temp_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A new folder in parent for this process's temporaries, removed with its content however the block ends.

    Leftovers with the same prefix from processes that no longer run are removed first."""
    parent = Path(parent)
    remove_stale(parent, prefix)
    path = private_temp_path(parent, prefix)
    try:
        path.mkdir(mode=0o700)
        yield path
    finally:
        with interrupts_held():
            remove_tree(path)


def remove_tree(path: Path | str) -> None:
    """Remove a folder with everything in it (errors ignored, links not followed), its sub-folders from several threads.

    Removing a folder can cost a hundred times what removing a file does (ext4 mounted with `discard`: a
    millisecond or more, mostly waiting on the file system), and those waits overlap: the old site's
    thousands of page folders go several times faster from a few threads than one after another."""
    parts = _subtrees(str(path))
    if len(parts) >= PARALLEL_FROM:
        with ThreadPoolExecutor(REMOVERS) as pool:
            for _ in pool.map(_remove_quietly, parts):
                pass
    _remove_quietly(str(path))


def remove_in_background(path: Path, prefix: str) -> None:
    """Remove a temporary folder (named by private_temp_path with prefix) from a process of its own, which the
    caller does not wait for: a command that has swapped in a new site need not wait while the old one's
    thousands of folders are removed.

    Its files are removed here first: they are cheap to remove, and many are hard links to files the caller
    keeps (a page kept from the old site), whose status change (ctime) must happen now, not after the caller
    has recorded that status. The folder is then renamed after the remover, so that no other process takes it
    for a leftover of one that no longer runs (remove_stale) and removes it too. The remover runs in a session
    of its own (an interrupt at the terminal is for the command, not for it). Where no process can be
    started, or the folder cannot be renamed, it is removed here and now."""
    path = Path(path)
    if os.name != "posix":
        remove_tree(path)
        return
    _remove_files(str(path))
    with interrupts_held():
        try:
            remover = subprocess.Popen([sys.executable, "-P", "-c", _REMOVER, str(path.parent), _PACKAGE_PARENT],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       cwd="/", start_new_session=True, close_fds=True)
        except OSError:
            remove_tree(path)
            return
        owned = private_temp_path(path.parent, prefix, owner=remover.pid)
        try:
            os.rename(path, owned)
            handed = owned.name
        except OSError:
            handed = ""  # the remover is told nothing to remove, and ends
        assert remover.stdin is not None
        try:
            remover.stdin.write(os.fsencode(handed))
            remover.stdin.close()
        except OSError:
            pass
    if not handed:
        remove_tree(path)


def _remove_files(folder: str) -> None:
    """Remove every file (and link) under folder, leaving the folders."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _remove_files(entry.path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


# The remover: the folder's name comes on stdin once it is renamed, inside the folder named by its first argument.
# It runs with -P from the root folder, so nothing in the folder it works in (an output folder, perhaps a
# repository's root) is ever imported; the folder this doccontrol is in comes last on its path, after the standard
# library and the installed packages, for a doccontrol that is not installed.
_REMOVER = """
import os, sys
sys.path.append(sys.argv[2])
from doccontrol.fileio import remove_tree
name = os.fsdecode(sys.stdin.buffer.read())
if name and os.sep not in name and name not in (os.curdir, os.pardir):
    remove_tree(os.path.join(sys.argv[1], name))
"""
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _remove_quietly(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _subtrees(root: str, depth: int = 3) -> list[str]:
    """Disjoint sub-folders of root to remove side by side: the first level (at most `depth` down) that has
    PARALLEL_FROM folders or more, else the deepest one seen. What lies outside them goes with root."""
    level = [root]
    for _ in range(depth):
        below = [entry.path for folder in level for entry in _folders_in(folder)]
        if not below:
            break
        level = below
        if len(level) >= PARALLEL_FROM:
            break
    return [] if level == [root] else level


def _folders_in(folder: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM during the block and act on them when it ends.

    For steps an interrupt must not cut in two: starting a child process and recording it
    so that it is stopped later, or removing a temporary folder. Only signals handled in
    Python are held (an unhandled one's default action cannot be replayed), and only in the
    main thread, the one Python runs signal handlers in."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    handlers = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):
                handlers[signum] = handler
                signal.signal(signum, lambda number, frame: held.append(number))
        yield
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        for number in held:
            handlers[signal.Signals(number)](number, None)


_OWNER = re.compile(rf"([1-9][0-9]*)-[0-9a-f]{{{2 * TOKEN_BYTES}}}")
# Each folder's entries as this process first saw them: a leftover is left by a process that ended, so it is
# there from the start; listing the folder again for every file written to it (a thousand conversions into
# one cache folder) would cost a listing per file.
_LISTINGS: dict[str, list[os.DirEntry]] = {}
_LISTINGS_LOCK = threading.Lock()


def remove_stale(parent: Path, prefix: str, suffix: str = "") -> None:
    """Remove the temporaries named by private_temp_path in parent whose owning process no longer runs."""
    for entry in _entries(parent):
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
            continue
        match = _OWNER.fullmatch(name[len(prefix):len(name) - len(suffix)])
        if match and not process_exists(int(match.group(1))):
            _remove(entry)


def _entries(parent: Path) -> list[os.DirEntry]:
    key = os.path.abspath(parent)
    with _LISTINGS_LOCK:
        if key not in _LISTINGS:
            try:
                _LISTINGS[key] = [entry for entry in os.scandir(parent) if _OWNER.search(entry.name)]
            except (FileNotFoundError, NotADirectoryError):
                return []
        return list(_LISTINGS[key])


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs (or is a zombie not yet reaped), whoever owns it.

    Outside POSIX the answer is always yes: there os.kill would end the process, and a
    leftover kept is better than a live temporary removed."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(entry: os.DirEntry) -> None:
    if entry.is_dir(follow_symlinks=False):
        remove_tree(entry.path)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
