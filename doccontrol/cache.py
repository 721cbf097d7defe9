"""The parse cache: what reading each document's files gave, keyed by their content.

A warm `doccontrol check` reads and hashes every file (as git would for a blob id) but
parses only the documents whose bytes changed. The cache is one file under the
repository's ignored cache dir (.doccontrol-cache/), written atomically and safe to
delete. It never changes a result:

- an entry's key is the document's paths and the git blob id of each of its files, so
  editing a file misses exactly that document's entry;
- the whole file is stamped with a version of the code that parses and validates
  (a hash of those modules' source, and the Python, PyYAML and pydantic versions),
  so a code change empties it;
- a memo of the validation result is kept too, keyed by every input of `validate`
  (all entry keys, the configuration files' bytes and today's date);
- the file is signed with a key kept outside the repository (in the user's cache
  folder), so a cache file committed to a repository or planted in it is ignored,
  never unpickled.

Anything unexpected (missing, unreadable, foreign, corrupt) means a cold run, never an error.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import io
import os
import pickle
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import collector

if TYPE_CHECKING:
    from .loader import LoadResult

FORMAT = 1
FILE_NAME = "parse.pickle"
HISTORY_FILE = "history.pickle"  # documents read from commits by the proof: not the working tree's, so apart
LEDGERS_FILE = "ledgers.pickle"
PROOF_FILE = "proof.pickle"
JUDGED_FILE = "judged.pickle"
KEY_BYTES = 32
# Modules whose code decides what parsing and validation produce.
VERSIONED_MODULES = ("cache", "loader", "yamlread", "schema", "model", "config", "validate", "markdown_checks",
                     "images", "pictures")


def blob_id(data: bytes) -> str:
    """git's blob id of the bytes (sha1 over "blob SIZE\\0" and the content)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Changes whenever the parsing or validating code, Python, PyYAML or pydantic changes."""
    import pydantic
    import yaml

    digest = hashlib.sha1(f"{FORMAT}|{sys.version}|{yaml.__version__}|{pydantic.VERSION}".encode())
    here = Path(__file__).resolve().parent
    for name in VERSIONED_MODULES:
        digest.update(name.encode() + b"\0")
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()


# -- the folder itself -------------------------------------------------------------------------
# Cache files are deleted and replaced freely, so the folder must be this machine's own: a
# symbolic link in it (committed, or planted) would make a clean-up delete what it points at,
# and a committed file (the Word conversions are not sealed) would be served as a conversion.

CACHE_FIX = ("remove it ({command}); the cache is rebuilt as a real folder, and .doccontrol-cache/ belongs in "
             ".gitignore")


def checked_cache_dir(root: Path, name: str) -> Path:
    """The cache folder root/name, refused (DoccontrolError) when it, or anything in it, is a symbolic link
    or is committed to the repository."""
    from .errors import DoccontrolError

    root = Path(root)
    folder = root / name
    if not os.path.lexists(folder):
        return folder  # made as a real folder when first written
    committed = _committed(root, name)
    if committed:
        shown = ", ".join(committed[:5]) + (" …" if len(committed) > 5 else "")
        raise DoccontrolError(f"refusing to use the cache folder {name}/: the repository commits files in it "
                              f"({shown}); a cache must be this machine's own, never read or cleaned up "
                              "from what a commit put there",
                              fix=CACHE_FIX.format(command=f"git rm -r --cached {name} && rm -r {name}"))
    link = _first_link(folder)
    if link is not None:
        shown = link.relative_to(root).as_posix()
        raise DoccontrolError(f"refusing to use the cache folder {name}/: {shown} is a symbolic link (to "
                              f"{os.readlink(link)}); doccontrol never writes or deletes through a link",
                              fix=CACHE_FIX.format(command=f"rm {shown}"))
    return folder


def _committed(root: Path, name: str) -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", name], cwd=root, capture_output=True, check=False)
    except OSError:
        return []
    if listed.returncode != 0:
        return []
    return [path for path in listed.stdout.decode("utf-8", "replace").split("\0") if path]


def _first_link(folder: Path) -> Path | None:
    """The first symbolic link at or under folder (links are not followed), or None."""
    if folder.is_symlink():
        return folder
    if not folder.is_dir():
        return None
    for parent, folders, files in os.walk(folder):
        for entry in sorted(folders + files):
            if os.path.islink(os.path.join(parent, entry)):
                return Path(parent) / entry
    return None


# -- entries without the text ------------------------------------------------------------------
# The body and the chapter texts are the bulk of a document and are already in the bytes just
# read, so an entry stores them only when they cannot be rebuilt exactly from those bytes; and
# metadata strings are interned so that the keys every document shares are stored once.

def _body_after(text: str, body_line: int) -> str:
    """The text from line body_line on (how the loader cuts the body after the front matter)."""
    pieces = text.split("\n", body_line - 1)
    return pieces[-1] if len(pieces) == body_line else ""


def _decoded(texts: dict[str, bytes], path: str) -> str | None:
    try:
        return texts[path].decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


_intern = sys.intern


def _interned(value):
    if isinstance(value, str) and len(value) <= 200:
        return _intern(value)
    return value


def _intern_fields(row):
    """Intern the strings of a record (history row, signature, prepared) in place: equal values, shared storage."""
    fields = vars(row)
    for name, item in fields.items():
        if isinstance(item, str) and len(item) <= 200:
            fields[name] = _intern(item)
    return row


def slim_document(doc, texts: dict[str, bytes]):
    """The document without the texts its files' bytes give back (`fill_document`): what the cache file keeps,
    and what a worker process sends back; repeated short values are interned."""
    main = _decoded(texts, doc.path)
    keep_body = main is None or _body_after(main, doc.body_line) != doc.body
    parts = doc.parts
    if all(_decoded(texts, part.path) == part.text for part in parts):
        parts = tuple(type(part)(_intern(part.path), None) for part in parts)
    slim = copy.copy(doc)
    slim.body = doc.body if keep_body else None
    slim.parts = parts
    for name in ("number", "type", "department", "revision", "status", "retention", "orientation", "source"):
        setattr(slim, name, _interned(getattr(doc, name)))
    _intern_fields(doc.prepared)
    for row in doc.history:
        _intern_fields(row)
    for sig in doc.approvals:
        _intern_fields(sig)
    slim.references = tuple(_interned(ref) for ref in doc.references)
    slim.clauses = tuple(_interned(clause) for clause in doc.clauses)
    slim.key_lines = {_intern(name): line for name, line in doc.key_lines.items()}
    return slim


def fill_document(doc, texts: dict[str, bytes]) -> tuple[bool, bool]:
    """Put the texts back into a slim document read from the cache file (in place); say what was put."""
    body = doc.body is None
    if body:
        doc.body = _body_after(texts[doc.path].decode("utf-8"), doc.body_line)
    parts = bool(doc.parts) and doc.parts[0].text is None
    if parts:
        doc.parts = tuple(type(part)(part.path, texts[part.path].decode("utf-8")) for part in doc.parts)
    return body, parts


def _unfill(doc, filled: tuple[bool, bool]):
    """The slim form of a filled document again, for writing it back."""
    slim = copy.copy(doc)
    if filled[0]:
        slim.body = None
    if filled[1]:
        slim.parts = tuple(type(part)(part.path, None) for part in doc.parts)
    return slim


def user_cache_folder() -> Path:
    """doccontrol's folder in this user's cache folder (XDG_CACHE_HOME or ~/.cache), never a repository's."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "doccontrol"


def _key_file() -> Path:
    return user_cache_folder() / "cache-key"


def signing_key() -> bytes | None:
    """This user's secret for signing cache files, created on first use; None when it cannot be kept."""
    path = _key_file()
    try:
        key = path.read_bytes()
        if len(key) == KEY_BYTES:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return path.read_bytes() if path.stat().st_size == KEY_BYTES else None
    except OSError:
        return None


class ParseCache:
    """Entries of one load: `get`/`put` by key, then `save` keeps exactly the entries used."""

    def __init__(self, directory: Path, autosave: bool = True, name: str = FILE_NAME):
        self.path = Path(directory) / name
        self.autosave = autosave
        self.entries: dict[tuple, LoadResult] = {}
        self.memo: tuple[str, object] | None = None
        self.used: dict[tuple, LoadResult] = {}
        self._filled: dict[tuple, list[tuple[bool, bool]]] = {}
        self.hits: list[str] = []
        self.misses: list[str] = []
        self.dirty = False
        self._key = signing_key()
        self._loaded = False

    # -- keys --------------------------------------------------------------------------------

    @staticmethod
    def key(paths: list[str], texts: dict[str, bytes]) -> tuple:
        """The entry key of a document: each of its files' path and blob id, main file first."""
        return tuple((path, blob_id(texts[path])) for path in paths)

    # -- entries -----------------------------------------------------------------------------

    def get(self, key: tuple, texts: dict[str, bytes]):
        """The stored load result of the files with this key, texts filled in from their bytes."""
        self._load()
        value = self.entries.get(key)
        if value is None:
            self.misses.append(key[0][0])
            return None
        self.hits.append(key[0][0])
        self.used[key] = value
        if key not in self._filled:
            self._filled[key] = [fill_document(doc, texts) for doc in value.documents]
        return value

    def put(self, key: tuple, value, texts: dict[str, bytes]) -> None:
        """Store a load result (a `loader.LoadResult` of one document's files)."""
        self.used[key] = type(value)([slim_document(doc, texts) for doc in value.documents], list(value.findings))
        self.dirty = True

    def recall(self, inputs: str):
        """The memo stored for exactly these inputs (a digest), or None."""
        self._load()
        if self.memo is not None and self.memo[0] == inputs:
            return self.memo[1]
        return None

    def remember(self, inputs: str, value) -> None:
        self.memo = (inputs, value)
        self.dirty = True

    def save(self) -> None:
        """Write the entries used in this run (stale ones drop out) if anything changed.

        Without autosave, only `flush` writes (a caller with more to remember writes once).
        """
        if self.autosave:
            self.flush()

    def flush(self, keep_unused: bool = False) -> None:
        """Write the cache: the entries used in this run, and with keep_unused the stored ones too."""
        if self._key is None:
            return
        if not self.dirty and (keep_unused or len(self.used) == len(self.entries)):
            return
        entries = dict(self.entries) if keep_unused else {}
        entries.update((key, self._slim_again(key, value)) for key, value in self.used.items())
        payload = pickle.dumps((code_version(), entries, self.memo), protocol=pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()
        from .fileio import atomic_write_bytes

        try:
            atomic_write_bytes(self.path, signature + payload)
        except OSError:
            return  # a read-only checkout still works, cold
        self.entries = entries
        self.used = dict(entries)
        self._filled = {}
        self.dirty = False

    def _slim_again(self, key: tuple, value):
        filled = self._filled.get(key)
        if filled is None:
            return value
        return type(value)([_unfill(doc, done) for doc, done in zip(value.documents, filled)], value.findings)

    # -- file --------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._key is None:
            return
        try:
            raw = self.path.read_bytes()
        except OSError:
            return
        signature, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(signature, hmac.new(self._key, payload, hashlib.sha256).digest()):
            return  # not written by this user on this machine: ignore it, never unpickle it
        try:
            with collector.paused():  # unpickling makes many objects and no garbage
                version, entries, memo = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a damaged cache is a cold run
            return
        if version != code_version() or not isinstance(entries, dict):
            return
        self.entries = entries
        self.memo = memo


class SealedFile:
    """One picklable value kept in the cache folder, sealed with this user's key like the parse cache.

    A file this user did not write here (committed, planted, from another machine) is ignored,
    never unpickled; so is one written by another version of the code (stamp).
    """

    def __init__(self, directory: Path, name: str, stamp: str):
        self.path = Path(directory) / name
        self.stamp = stamp
        self._key = signing_key()

    def load(self, default):
        if self._key is None:
            return default
        try:
            raw = self.path.read_bytes()
        except OSError:
            return default
        seal, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(seal, hmac.new(self._key, payload, hashlib.sha256).digest()):
            return default
        try:
            stamp, value = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a damaged cache is a cold run
            return default
        return value if stamp == self.stamp else default

    def save(self, value) -> None:
        if self._key is None:
            return
        payload = pickle.dumps((self.stamp, value), protocol=pickle.HIGHEST_PROTOCOL)
        from .fileio import atomic_write_bytes

        try:
            atomic_write_bytes(self.path, hmac.new(self._key, payload, hashlib.sha256).digest() + payload)
        except OSError:
            return


def _sshsig_version() -> str:
    from importlib.metadata import version

    return version("sshsig")


def signature_cache(directory: Path) -> SealedFile:
    """Signatures verified on this machine: hash of (signed bytes, signature) → key fingerprint (successes only,
    so the worst a lost or damaged file can do is make the next run verify again)."""
    return SealedFile(directory, "signatures.pickle", f"{FORMAT}|sshsig {_sshsig_version()}")


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """Changes whenever any module of doccontrol changes (for results that depend on all of them)."""
    digest = hashlib.sha1(f"{FORMAT}|{sys.version}|{_sshsig_version()}".encode())
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# -- the signed record -------------------------------------------------------------------------
# Ledgers only grow, and what the history proves about them changes only where a commit touched
# them: after one release, one or two ledgers differ from the last run. These caches keep what
# reading and comparing ledger contents gave, keyed by those contents (path and blob id, or the
# blob ids compared), sealed and stamped with the whole package's code like the verify memo.


class HistoryTexts:
    """Documents the proof reads from commits (released, withdrawn and submitted texts), keyed like the parse
    cache. A text is looked up in the parse cache first (a released file is usually the working tree's,
    unchanged); what is not there is kept in a file of its own beside it, which `check` neither loads nor
    drops."""

    key = staticmethod(ParseCache.key)

    def __init__(self, parse_cache: ParseCache):
        self.working = parse_cache
        self.history = ParseCache(parse_cache.path.parent, autosave=False, name=HISTORY_FILE)

    def get(self, key: tuple, texts: dict[str, bytes]):
        found = self.working.get(key, texts)
        return found if found is not None else self.history.get(key, texts)

    def put(self, key: tuple, value, texts: dict[str, bytes]) -> None:
        self.history.put(key, value, texts)

    def flush(self, keep_unused: bool) -> None:
        """Write the history file (the parse cache is its owner's to write)."""
        self.history.flush(keep_unused)


class LedgerCache:
    """Parsed ledger files, keyed by path and blob id.

    An entry is kept as the pickled result of parsing, made the moment it was parsed, and every hit
    unpickles a fresh copy: no object a run changes (a record's findings, a list of entries) is ever
    shared with the cached value. `save` keeps exactly the ledgers read in this run.
    """

    def __init__(self, directory: Path):
        self._file = SealedFile(directory, LEDGERS_FILE, f"{FORMAT}|{package_version()}")
        self._stored: dict[tuple[str, str], bytes] | None = None
        self._used: dict[tuple[str, str], bytes] = {}
        self._dirty = False

    def parse(self, path: str, raw: bytes):
        """What `ledger.parse_ledger(path, raw)` gives."""
        from .ledger import packed, parse_ledger

        found = self.get(path, raw)
        if found is not None:
            return found
        ledger = parse_ledger(path, raw)
        self.keep(path, raw, packed(ledger))
        return ledger

    def get(self, path: str, raw: bytes):
        """The ledger parsed from these bytes before, as a fresh copy; None when it was not."""
        from .ledger import unpacked

        key = (path, blob_id(raw))
        stored = self._entries().get(key)
        if stored is None:
            return None
        self._used[key] = stored
        return unpacked(path, raw, stored)

    def keep(self, path: str, raw: bytes, stored: bytes) -> None:
        """Keep what parsing these bytes gave (`ledger.packed`)."""
        self._used[(path, blob_id(raw))] = stored
        self._dirty = True

    def save(self) -> None:
        if self._dirty or len(self._used) != len(self._entries()):
            self._file.save(self._used)

    def _entries(self) -> dict[tuple[str, str], bytes]:
        if self._stored is None:
            stored = self._file.load({})
            self._stored = stored if isinstance(stored, dict) else {}
        return self._stored


class MemoCache:
    """Results of pure functions of content, keyed by what identifies that content (blob ids, commit ids):
    `get`/`put` by key, then `save` keeps the entries used in this run (with keep_unused, the others too).
    Keys and values are tuples of immutable values (text, numbers, frozen Findings), so sharing them is safe."""

    def __init__(self, directory: Path, name: str):
        self._file = SealedFile(directory, name, f"{FORMAT}|{package_version()}")
        self._stored: dict[tuple, tuple] | None = None
        self._used: dict[tuple, tuple] = {}
        self._dirty = False

    def get(self, key: tuple) -> tuple | None:
        value = self._entries().get(key)
        if value is not None:
            self._used[key] = value
        return value

    def put(self, key: tuple, value: tuple) -> None:
        self._used[key] = value
        self._dirty = True

    def save(self, keep_unused: bool = False, still_useful: Callable[[tuple], bool] | None = None) -> None:
        """Write what was put; keep_unused keeps what was stored and not asked for (those still_useful says so of,
        when given), else only what this run asked for or put is kept."""
        stored = self._entries()
        if keep_unused:
            if self._dirty:
                kept = stored if still_useful is None else {key: value for key, value in stored.items()
                                                            if still_useful(key)}
                self._file.save({**kept, **self._used})
        elif self._dirty or len(self._used) != len(stored):
            self._file.save(self._used)

    def _entries(self) -> dict[tuple, tuple]:
        if self._stored is None:
            with collector.paused():
                stored = self._file.load({})
            self._stored = stored if isinstance(stored, dict) else {}
        return self._stored


class JudgedRecords:
    """Each document's record as `record.judge_document` judged it, keyed by everything the judgement reads: the
    ledger's path and blob id, the configuration ledger's blob id (the roster chain), today, and (the file's stamp)
    the whole package's code. A ledger changed in any byte, a new roster version or another day is judged again.

    A record is kept pickled, with its ledger's entries and the chain's rosters by reference (line, version), so a
    hit gives a fresh record (the proof adds findings to it) made of this run's own entries and rosters. A record
    judged with a statement still being signed (`signing.PENDING`, which the workflow vouches for in its verifier)
    is never kept: a ledger file holding such a line must be judged, and fail, on its own.
    """

    def __init__(self, directory: Path, ledgers: dict[str, bytes], today: str):
        from .ledger import CONFIGURATION

        self._memo = MemoCache(directory, JUDGED_FILE)
        self._ledgers = ledgers
        self._today = today
        config = ledgers.get(f"signatures/{CONFIGURATION}.jsonl")
        self._config = blob_id(config) if config is not None else ""
        self._chain = None
        self._keys: dict[str, tuple] = {}
        self._by_version: dict[str, object] = {}

    def _key(self, path: str) -> tuple | None:
        key = self._keys.get(path)
        if key is None:
            raw = self._ledgers.get(path)
            if raw is None:
                return None
            key = self._keys[path] = ("judged", path, blob_id(raw), self._config, self._today)
        return key

    def known(self, path: str) -> bool:
        """Whether a record of this ledger is kept (its signatures then need no verifying ahead)."""
        key = self._key(path)
        return key is not None and key in self._memo._entries()

    def get(self, path: str, ledger, chain):
        key = self._key(path)
        found = self._memo.get(key) if key is not None else None
        if found is None:
            return None
        places: dict[object, object] = dict(enumerate(ledger.entries))
        places.update(self._rosters(chain))
        unpickler = pickle.Unpickler(io.BytesIO(found[0]))
        unpickler.persistent_load = places.__getitem__  # type: ignore[assignment]  # a missing one: judged again
        try:
            return unpickler.load()
        except Exception:  # noqa: BLE001 - judged again
            return None

    def put(self, path: str, ledger, config_ledger, chain, record) -> None:
        from .signing import PENDING

        key = self._key(path)
        if key is None or any(entry.signature == PENDING for entry in
                              [*ledger.entries, *(config_ledger.entries if config_ledger else [])]):
            return
        from .roster import Roster

        places = {id(entry): index for index, entry in enumerate(ledger.entries)}
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)

        def reference(obj):
            index = places.get(id(obj))
            if index is not None and ledger.entries[index] is obj:
                return index
            if isinstance(obj, Roster) and chain.version(obj.version) is obj:
                return f"roster {obj.version}"
            return None

        pickler.persistent_id = reference  # type: ignore[assignment]
        try:
            pickler.dump(record)
        except Exception:  # noqa: BLE001 - not kept
            return
        self._memo.put(key, (buffer.getvalue(),))

    def _rosters(self, chain) -> dict[str, object]:
        if self._chain is not chain:
            self._chain = chain
            self._by_version = {f"roster {index + 1}": roster for index, roster in enumerate(chain.versions)}
        return self._by_version

    def save(self, keep_unused: bool) -> None:
        """keep_unused: records not asked for this time stay, but only those of today and of this roster chain (the
        working tree's evaluation keeps the last proof's; another day's or roster's can never be asked for again)."""
        self._memo.save(keep_unused, lambda key: key[3:] == (self._config, self._today))
