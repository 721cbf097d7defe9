"""The only module that talks to git.

The history of the signed record comes from ONE `git log` pass over the ledger folder;
file contents at older commits come through GitPython's persistent `cat-file --batch`
process, never one process per file. Commit messages are never believed: the record is
the ledger's content, and history only proves when each of its lines appeared.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import git

from .fileio import interrupts_held

TAG_PREFIX = "refs/tags/"
LEDGER_FOLDER = "signatures"


class RepoError(Exception):
    """A git problem explained for the user."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: dt.datetime
    subject: str


@dataclass
class LedgerHistory:
    """When each ledger line appeared, from one log pass over the ledger folder.

    commits are the commits that changed a ledger, parents the same graph with every other
    commit left out (git's parent rewriting), order their topological position (parents first).
    """

    commits: dict[str, CommitInfo] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    added: dict[tuple[str, str], str] = field(default_factory=dict)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    files: dict[tuple[str, str], str] | None = None  # (commit, path) → blob of each file changed, if read

    def first_commit(self, path: str, line: str) -> CommitInfo | None:
        sha = self.added.get((path, line))
        return self.commits[sha] if sha else None


@dataclass(frozen=True)
class TagInfo:
    name: str
    commit: str
    message: str
    signed: bool


class Repo:
    """A git working tree holding controlled documents."""

    def __init__(self, root: Path, bare: bool = False):
        self.root = Path(root)
        try:
            self._repo = git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise RepoError(f"{self.root} is not a git repository; run `git init` there first") from None
        if bare:
            return
        if self._repo.working_tree_dir is None or Path(self._repo.working_tree_dir).resolve() != self.root.resolve():
            raise RepoError(f"{self.root} is not the top of a git working tree")

    def close(self):
        self._repo.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def has_commits(self) -> bool:
        try:
            _ = self._repo.head.commit
        except ValueError:
            return False
        return True

    @property
    def is_shallow(self) -> bool:
        return self._git("rev-parse", "--is-shallow-repository").strip() == "true"

    @property
    def head(self) -> str:
        return self._repo.head.commit.hexsha if self.has_commits else ""

    def start_ledger_log(self, rev: str = "HEAD", every_file: bool = False) -> PendingLog:
        """Start the one log pass of `ledger_history` and return at once: git walks the history in its process
        while the caller's Python goes on (give the result to ledger_history as log; close it when done).

        every_file: a second log, beside it, names every file each of those commits changed, not only the
        ledgers (`LedgerHistory.files`, what `changed_blobs` would give for them): a cold proof asks that of
        nearly every commit, and this way git works it out while the ledgers are parsed. Merges are left out of
        it (`--no-merges`): a merge's full diff against each parent can name every file of the repository, and
        anyone who can push can make many merges; a statement recorded by a merge is looked up by name."""
        if not self.has_commits:
            return PendingLog(self.root, None)
        files = PendingLog(self.root, _files_log_arguments(rev)) if every_file else None
        try:
            return PendingLog(self.root, _ledger_log_arguments(rev), files)
        except BaseException:
            if files is not None:
                files.close()
            raise

    def ledger_history(self, rev: str = "HEAD", cache=None, log: PendingLog | None = None,
                       current: dict[str, bytes] | None = None) -> LedgerHistory:
        """Which commit first added each line of each ledger file, and which commits removed or changed a line.

        One `git log --raw` pass names, for every commit that changed a ledger, the file's blob before and after;
        one `cat-file --batch` reads those blobs. A version must start with every line of the one before it
        (a ledger only grows): patch text, which a ledger line can imitate, is never parsed. With a
        `cache.VersionCache`, versions compared before (by blob id) are neither read nor compared again.
        current: the ledger files at rev (`ledger_files`); a version that is one of them cut short is known by
        its blob id and size and not read (see `_prefix_versions`).
        """
        result = LedgerHistory()
        if not self.has_commits:
            return result
        raw = log.result() if log is not None else self._git(*_ledger_log_arguments(rev))
        if log is not None and log.files is not None:
            result.files = {(info.sha, path): after for info, _, changed in _read_raw_log(log.files.result())
                            for path, _, after, mode in changed if _names_a_file(mode, after)}
        # commit → path → (blob after, the blobs before: one per parent the file differs from)
        changes: dict[str, dict[str, tuple[str, list[str]]]] = {}
        for info, parents, changed in _read_raw_log(raw):  # a merge comes once per parent (--diff-merges=separate)
            result.commits[info.sha] = info
            result.parents[info.sha] = parents
            result.order.setdefault(info.sha, len(result.order))
            for path, before, after, _mode in changed:
                changes.setdefault(info.sha, {}).setdefault(path, (after, []))[1].append(before)
        keys = {(sha, path): (_VERSION_KEY, tuple(befores), after, len(result.parents[sha]) > 1,
                              len(befores) < len(result.parents[sha]))
                for sha, paths in changes.items() for path, (after, befores) in paths.items()}
        known = {key: cache.get(key) for key in set(keys.values())} if cache is not None else {}
        missing = {key for key, value in known.items() if value is None} if cache is not None else set(keys.values())
        wanted: dict[str, set[str]] = {}
        for (_, path), key in keys.items():
            if key in missing:
                wanted.setdefault(path, set()).update(blob for blob in (key[2], *key[1]) if blob != _NO_BLOB)
        sizes = self.sizes([blob for blobs in wanted.values() for blob in blobs]) if current else {}
        prefixes = _prefix_versions(current or {}, wanted, sizes)
        contents = _LedgerVersions(self.blobs([blob for blobs in wanted.values() for blob in blobs
                                               if blob not in prefixes]), prefixes)
        split: dict[str, list[str]] = {}  # a version is one commit's after and the next one's before: split once
        for key in missing:
            known[key] = _version_change(key, contents, split)
            if cache is not None and all(blob == _NO_BLOB or blob in contents for blob in (*key[1], key[2])):
                cache.put(key, known[key])  # only what was read whole: a blob git did not give is asked again
        for (sha, path), key in keys.items():
            lost, added = known[key]  # type: ignore[misc]
            if lost is not None:
                result.removed.append((sha, path, lost))
            for line in added:
                result.added.setdefault((path, line), sha)
        return result

    def ledger_files(self, rev: str = "HEAD") -> dict[str, bytes]:
        """The ledger files at a commit (one process lists them with their blob ids, one reads the blobs)."""
        if not self.has_commits:
            return {}
        listed = self._git("ls-tree", "-z", rev, LEDGER_FOLDER + "/").split("\x00")
        ids = {}
        for record in listed:
            meta, _, path = record.partition("\t")
            if not path.endswith(".jsonl") or path.count("/") != 1:
                continue
            _mode, kind, oid = meta.split(" ")
            if kind != "blob":
                raise KeyError(path)
            ids[path] = oid
        contents = self.blobs(list(ids.values()))
        return {path: contents[oid] for path, oid in ids.items()}

    def all_paths_ever(self) -> set[str]:
        """Every path that any branch or tag ever held (for never reusing a number)."""
        if not self.has_commits:
            return set()
        raw = self._git("log", "--all", "-z", "--format=", "--name-only", "--no-renames")
        return {p.strip("\n") for p in raw.split("\x00") if p.strip("\n")}

    def read_files(self, commit: str, paths: list[str]) -> dict[str, bytes]:
        """Contents of paths at a commit, through one persistent `cat-file --batch` process.

        Asks git for `COMMIT:PATH` directly instead of walking the trees in Python (which parses
        a whole folder's tree for every file). KeyError names a path the commit does not hold.
        """
        found = {}
        for path in paths:
            pieces = path.split("/")
            if not path or "\n" in path or any(p in ("", ".", "..") for p in pieces):
                raise KeyError(path)  # not a plain repository path (and `..` would make cat-file exit)
            try:
                _, kind, _, data = self._repo.git.get_object_data(f"{commit}:{path}")
            except ValueError:
                raise KeyError(path) from None
            if kind not in (b"blob", "blob"):
                raise KeyError(path)
            found[path] = data
        return found

    def objects(self, names: list[str]) -> dict[str, tuple[str, str]]:
        """For each `REV:PATH` name: (object id, kind), from ONE `git cat-file --batch-check` process; a name that
        does not exist is left out."""
        safe = [name for name in names if "\n" not in name]
        found = {}
        for name, fields in zip(safe, self._batch_check(safe)):
            if len(fields) == 3 and fields[1] in ("blob", "tree") and fields[2].isdigit():
                found[name] = (fields[0], fields[1])
        return found

    def _batch_check(self, names: list[str]) -> list[list[str]]:
        """The fields of `git cat-file --batch-check`'s line for each name, in the names' order (ONE process)."""
        if not names:
            return []
        done = subprocess.run(["git", "-c", "core.quotepath=false", "cat-file", "--batch-check"], cwd=self.root,
                              input="\n".join(names).encode("utf-8") + b"\n", capture_output=True, check=False)
        return [line.split() for line in done.stdout.decode("utf-8", "replace").split("\n")]

    def changed_blobs(self, commits: list[str], folders: list[str]) -> dict[tuple[str, str], str]:
        """For each commit, the files under folders that it changed (from any parent), with their blob ids in
        the commit: from ONE `git diff-tree --stdin` process. The side after a change is the commit's own tree,
        so this is what `objects` would give for COMMIT:PATH, without walking a large folder's tree for each
        file. A file the commit removed, or that is not a plain blob, is left out (ask `objects` for it)."""
        unique = [sha for sha in dict.fromkeys(commits) if _HEX40.fullmatch(sha)]
        if not unique or not folders:
            return {}
        done = subprocess.run(["git", "--literal-pathspecs", "-c", "core.quotepath=false", "diff-tree", "--stdin",
                               "-r", "-m", "--root", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff",
                               "--", *[folder.rstrip("/") + "/" for folder in folders]],
                              cwd=self.root, input="\n".join(unique).encode() + b"\n", capture_output=True,
                              check=False)
        if done.returncode != 0:
            return {}
        return _changed_blobs(done.stdout.decode("utf-8", "surrogateescape"), set(unique))

    def sizes(self, ids: list[str]) -> dict[str, int]:
        """The size of each of these blobs, read from its header, not its content: ONE `cat-file --batch-check`."""
        unique = sorted({oid for oid in ids if _HEX40.fullmatch(oid)})
        return {oid: int(fields[2]) for oid, fields in zip(unique, self._batch_check(unique))
                if fields[:2] == [oid, "blob"] and len(fields) == 3 and fields[2].isdigit()}

    def blobs(self, ids: list[str]) -> dict[str, bytes]:
        """The contents of these blobs, from ONE `git cat-file --batch` process. An id that names no blob (missing,
        or another kind of object: a gitlink's commit, a tree) is left out, its content skipped by its size: the
        content of one object is never read as the header of the next."""
        unique = sorted({oid for oid in ids if _HEX40.fullmatch(oid)})
        if not unique:
            return {}
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=self.root, input="\n".join(unique).encode() + b"\n",
                              capture_output=True, check=False)
        out, found, position = done.stdout, {}, 0
        for asked in unique:
            end = out.find(b"\n", position)
            if end < 0:
                break
            header = out[position:end].split()
            position = end + 1
            if len(header) == 2 and header[1] == b"missing":
                continue
            if len(header) != 3 or not header[2].isdigit():
                break  # not what cat-file writes: nothing after this can be placed
            size = int(header[2])
            if header[1] == b"blob" and header[0] == asked.encode():
                found[asked] = out[position:position + size]
            position += size + 1
        return found

    def blob_ids(self, commit: str, paths: list[str]) -> dict[str, str]:
        """The blob id of each path at a commit (no content read); KeyError names a missing path."""
        found = {}
        for path in paths:
            if not path or "\n" in path or any(p in ("", ".", "..") for p in path.split("/")):
                raise KeyError(path)
            try:
                sha, kind, _ = self._repo.git.get_object_header(f"{commit}:{path}")
            except ValueError:
                raise KeyError(path) from None
            if kind not in (b"blob", "blob"):
                raise KeyError(path)
            found[path] = sha.decode() if isinstance(sha, bytes) else sha
        return found

    def tree_files(self, rev: str, folders: list[str]) -> dict[str, str]:
        """Every path under the folders at rev with its mode (100644 a file, 120000 a link, …)."""
        if not folders:
            return {}
        raw = self._git("ls-tree", "-r", "-z", "--full-tree", rev, "--", *[f + "/" for f in folders])
        found = {}
        for record in raw.split("\x00"):
            if "\t" in record:
                meta, path = record.split("\t", 1)
                found[path] = meta.split(" ", 1)[0]
        return found

    def exists(self, rev: str) -> bool:
        try:
            self._git("cat-file", "-e", rev + "^{commit}")
        except RepoError:
            return False
        return True

    def new_commits(self, old: str | None, new: str) -> list[str]:
        """The commits reachable from new and not from old (or from no other ref when old is None), oldest first."""
        limit = [f"^{old}"] if old else ["--not", "--all"]
        raw = self._git("rev-list", "--topo-order", "--reverse", new, *limit)
        return raw.split()

    def changed_paths(self, commit: str) -> list[str]:
        raw = self._git("diff-tree", "--root", "-r", "-z", "--no-commit-id", "--name-only", "--no-renames", commit)
        return [p for p in raw.split("\x00") if p]

    def list_folder(self, commit: str, folder: str) -> list[str]:
        """File paths directly inside folder at commit."""
        try:
            tree = self._repo.commit(commit).tree / folder
        except KeyError:
            return []
        return sorted(f"{folder}/{blob.name}" for blob in tree.blobs)

    def dirty_paths(self) -> set[str]:
        """Paths with uncommitted changes (staged, unstaged or untracked); a rename counts as both its paths."""
        raw = self._git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        paths: set[str] = set()
        entries = raw.split("\x00")
        index = 0
        while index < len(entries):
            entry = entries[index]
            if len(entry) > 3:
                paths.add(entry[3:])
                if entry[0] in "RC":
                    index += 1
                    if index < len(entries) and entries[index]:
                        paths.add(entries[index])
            index += 1
        return paths

    def commit(self, paths: list[str], message: str) -> str:
        """Commit exactly these paths, a path no longer in the working tree as its removal (other staged or
        unstaged work is left alone)."""
        present = [p for p in paths if (self.root / p).exists()]
        gone = [p for p in paths if p not in present]
        if present:
            self._git("add", "--", *present)
        if gone:
            self._git("rm", "-q", "--cached", "--ignore-unmatch", "--", *gone)
        self._git("commit", "--quiet", "--only", "-m", message, "--", *paths)
        return self.head

    def config_value(self, key: str) -> str:
        """A git configuration value (repository, user and system files merged); "" when unset."""
        try:
            return self._git("config", "--get", key).strip()
        except RepoError:
            return ""

    @contextlib.contextmanager
    def lock(self, wait: float = 30.0) -> Iterator[None]:
        """The repository's write lock: one doccontrol command that commits at a time.

        An advisory lock on a file inside .git: never committed, and released by the system when
        the process ends, however it ends."""
        path = Path(self._repo.git_dir) / "doccontrol.lock"
        with open(path, "a+b") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RepoError("another doccontrol command is changing this repository; try again "
                                        "when it has finished") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def listed_files(self) -> list[str]:
        """Every tracked file and every untracked file git does not ignore."""
        raw = self._git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return sorted({p for p in raw.split("\x00") if p})

    def unstage(self, paths: list[str]) -> None:
        """Put the index entries of paths back to HEAD (after a commit that failed)."""
        with contextlib.suppress(RepoError):
            self._git("reset", "-q", "--", *paths)

    def user_name(self) -> str:
        try:
            return self._git("config", "user.name").strip()
        except RepoError:
            return ""

    def tags(self) -> dict[str, TagInfo]:
        raw = self._git("for-each-ref", "--format=%(refname)%00%(*objectname)%00%(objectname)%00%(contents)%1e",
                        "refs/tags/")
        result = {}
        for record in raw.split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            ref, peeled, obj, message = (record.split("\x00") + ["", "", ""])[:4]
            name = ref[len(TAG_PREFIX):]
            result[name] = TagInfo(name, peeled or obj, message, "-----BEGIN PGP SIGNATURE-----" in message
                                   or "-----BEGIN SSH SIGNATURE-----" in message)
        return result

    def tag_commits(self) -> list[tuple[str, str]]:
        """Each tag's name and the commit it points at, sorted: what `tags` gives, without the messages."""
        raw = self._git("for-each-ref", "--format=%(refname)%00%(*objectname)%00%(objectname)", "refs/tags/")
        pairs = []
        for record in raw.split("\n"):
            ref, peeled, obj = (record.split("\x00") + ["", ""])[:3]
            if ref:
                pairs.append((ref[len(TAG_PREFIX):], peeled or obj))
        return sorted(pairs)

    def create_tag(self, name: str, commit: str, message: str):
        sign = self._git_config_bool("tag.gpgSign")
        args = ["tag", "-a", "-m", message]
        if sign:
            args.insert(1, "-s")
        self._git(*args, name, commit)

    def verify_tag(self, name: str) -> bool:
        try:
            self._git("verify-tag", name)
        except RepoError:
            return False
        return True

    def _git_config_bool(self, key: str) -> bool:
        try:
            return self._git("config", "--bool", key).strip() == "true"
        except RepoError:
            return False

    def _git(self, *args: str) -> str:
        try:
            return self._repo.git.execute(["git", "-c", "core.quotepath=false", *args],
                                          strip_newline_in_stdout=False)
        except git.GitCommandError as error:
            detail = (error.stderr or "").strip().removeprefix("stderr: ").strip("'\n ")
            raise RepoError(f"git {args[0]} failed: {detail or error}") from None


class PendingLog:
    """A `git log` running in its own process, its output going to an anonymous temporary file.

    No thread waits on it: a thread alive when the signature workers are forked (signing.Verifier.start) could
    hold a lock that a worker then waits for forever. `close` stops the process if it still runs."""

    def __init__(self, root: Path, arguments: list[str] | None, files: PendingLog | None = None):
        self.files = files  # the log of every file the ledger commits changed, when one was started beside it
        self._text: str | None = "" if arguments is None else None
        self._process: subprocess.Popen | None = None
        self._handles: list = []
        if arguments is None:
            return
        with interrupts_held():  # an interrupt cannot land between starting git and noting it (close stops it)
            try:
                self._handles = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]  # noqa: SIM115 - closed here
                self._process = subprocess.Popen(["git", "-c", "core.quotepath=false", *arguments], cwd=root,
                                                 stdin=subprocess.DEVNULL, stdout=self._handles[0],
                                                 stderr=self._handles[1])
            except OSError as error:
                self._close_files()
                raise RepoError(f"git could not be run: {error}") from None

    def result(self) -> str:
        """The log's text (decoded as GitPython decodes it), once git has written all of it."""
        if self._text is None:
            assert self._process is not None
            status = self._process.wait()
            out, error_file = self._handles
            out.seek(0)
            error_file.seek(0)
            text, errors = out.read(), error_file.read()
            self._close_files()
            if status != 0:
                detail = errors.decode("utf-8", "replace").strip()
                raise RepoError(f"git log failed: {detail or f'exit status {status}'}")
            self._text = text.decode("utf-8", "surrogateescape")
        return self._text

    def close(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.wait()
        self._close_files()
        if self.files is not None:
            self.files.close()

    def _close_files(self) -> None:
        for handle in self._handles:
            if not handle.closed:
                handle.close()

    def __enter__(self) -> PendingLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_COMMIT_MARK = "doccontrol-commit"
_LOG_FORMAT = f"--format=%x00{_COMMIT_MARK}%x00%H%x00%P%x00%aI%x00%an%x00%ae%x00%s"


def _ledger_log_arguments(rev: str) -> list[str]:
    """The one pass over the commits that changed a ledger."""
    return ["log", rev, "--topo-order", "--reverse", "--full-history", "--parents", "--raw", "-z",
            "--diff-merges=separate", "--no-abbrev", "--no-renames", "--no-color", "--no-ext-diff", _LOG_FORMAT,
            "--", LEDGER_FOLDER + "/"]


def _files_log_arguments(rev: str) -> list[str]:
    """Every file each commit (but a merge) that changed a ledger changed (see Repo.start_ledger_log)."""
    return ["log", rev, "--full-history", "--no-merges", "--full-diff", "--raw", "-z", "--no-abbrev", "--no-renames",
            "--no-color", "--no-ext-diff", _LOG_FORMAT, "--", LEDGER_FOLDER + "/"]


_NO_BLOB = "0" * 40
_VERSION_KEY = "ledger-version"  # marks these results in a cache shared with other questions
_HEX40 = re.compile(r"[0-9a-f]{40}")
_RAW_CHANGE = re.compile(r":[0-7]{6} [0-7]{6} ([0-9a-f]{40}) ([0-9a-f]{40}) [ACDMTUX][0-9]*")


def _read_raw_log(raw: str) -> Iterator[tuple[CommitInfo, list[str], list[tuple[str, str, str, str]]]]:
    """The commits of a `git log -z --raw` pass: each with its parents and its (path, blob before, blob after, mode
    after).

    Read field by field (git separates every field with NUL, which no path or commit message holds): a commit's
    fields come in a fixed order after the mark, then each change is a raw line followed by its path."""
    fields = raw.split("\x00")
    position = 0
    current: tuple[CommitInfo, list[str], list[tuple[str, str, str, str]]] | None = None
    while position < len(fields):
        field_text = fields[position].lstrip("\n")
        if field_text == _COMMIT_MARK and position + 6 < len(fields):
            if current:
                yield current
            sha, parents, date, author, email, subject = fields[position + 1:position + 7]
            if not _HEX40.fullmatch(sha) or not all(_HEX40.fullmatch(p) for p in parents.split()):
                raise RepoError(f"git log gave a commit it could not read ({sha[:40]!r})")
            current = (CommitInfo(sha, author, email, dt.datetime.fromisoformat(date), subject), parents.split(), [])
            position += 7
        elif field_text.startswith(":") and current is not None and position + 1 < len(fields):
            match = _RAW_CHANGE.fullmatch(field_text)
            if match is None:
                raise RepoError(f"git log gave a change it could not read ({field_text[:80]!r})")
            current[2].append((fields[position + 1], match.group(1), match.group(2), field_text[8:14]))
            position += 2
        elif field_text:
            raise RepoError(f"git log gave output it could not read ({field_text[:80]!r})")
        else:
            position += 1
    if current:
        yield current


_BLOB_MODES = ("100644", "100755", "120000")


def _changed_blobs(raw: str, asked: set[str]) -> dict[tuple[str, str], str]:
    """Read `git diff-tree --stdin -r -z --raw` output: a commit's header (its id, for a merge followed by the
    parent it is compared with) starts its changes; each change is a raw line followed by its path."""
    fields = raw.split("\x00")
    found: dict[tuple[str, str], str] = {}
    commit = None
    position = 0
    while position < len(fields):
        text = fields[position].lstrip("\n")
        position += 1
        if not text:
            continue
        if not text.startswith(":"):
            sha = text[:40]
            commit = sha if _HEX40.fullmatch(sha) and sha in asked else None
            continue
        match = _RAW_CHANGE.fullmatch(text)
        if match is None or position >= len(fields):
            raise RepoError(f"git diff-tree gave a change it could not read ({text[:80]!r})")
        path = fields[position]
        position += 1
        if commit is not None and _names_a_file(text[8:14], match.group(2)):
            found[(commit, path)] = match.group(2)
    return found


def _names_a_file(mode: str, after: str) -> bool:
    """Whether a raw change's after side is a file the commit holds (a plain blob or a link, not a removal or a
    submodule): its blob id is then what `objects` gives for COMMIT:PATH."""
    return mode in _BLOB_MODES and after != _NO_BLOB


def _prefix_versions(current: dict[str, bytes], wanted: dict[str, set[str]],
                     sizes: dict[str, int]) -> dict[str, tuple[bytes, int]]:
    """The wanted versions of each ledger file that are its content at the commit proven cut short (or whole): a
    prefix as long as a wanted version (sizes: each blob's size, as git gives it without its
    content) is hashed as git names a blob (SHA-1 over `blob SIZE`, a NUL and the bytes), and a prefix whose id
    is that version's is that version, byte for byte, as surely as git's own object store knows it. A ledger
    only grows, so nearly every version of it is found so, and git need not read them; any other (a rewritten
    line, a side branch's version, a removed file) is read as before. Only the versions' own lengths are
    hashed, never every line's prefix: that would take time growing with the square of a file's lines, and
    anyone who can push can make a file of many short lines.
    Gives blob id → (the content, the prefix's length)."""
    found: dict[str, tuple[bytes, int]] = {}
    for path, ids in wanted.items():
        content = current.get(path)
        if content is None:
            continue
        lengths: dict[int, set[str]] = {}
        for blob in ids:
            size = sizes.get(blob)
            if size is not None and size <= len(content):
                lengths.setdefault(size, set()).add(blob)
        view = memoryview(content)
        for end, blobs in lengths.items():
            digest = hashlib.sha1(b"blob %d\0" % end)
            digest.update(view[:end])
            if (blob := digest.hexdigest()) in blobs:
                found[blob] = (content, end)
    return found


class _LedgerVersions(Mapping[str, bytes]):
    """Versions of ledger files by blob id: those read from git, and prefixes of the files at the commit proven,
    cut when asked (held whole, the prefixes of a large record would take hundreds of megabytes)."""

    def __init__(self, read: dict[str, bytes], prefixes: dict[str, tuple[bytes, int]]):
        self.read = read
        self.prefixes = prefixes

    def __getitem__(self, blob: str) -> bytes:
        found = self.read.get(blob)
        if found is not None:
            return found
        content, end = self.prefixes[blob]
        return content[:end]

    def __contains__(self, blob: object) -> bool:
        return blob in self.read or blob in self.prefixes

    def __iter__(self) -> Iterator[str]:
        yield from self.read
        yield from (blob for blob in self.prefixes if blob not in self.read)

    def __len__(self) -> int:
        return len(self.read) + sum(1 for blob in self.prefixes if blob not in self.read)


def _lines(content: bytes) -> list[str]:
    """A ledger version's lines as the ledger reader takes them (the text of each, without its line end)."""
    text = content.decode("utf-8", "replace")
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") or not text else lines


def _appended(before: bytes, after: bytes) -> tuple[str, ...] | None:
    """The lines a version adds when it keeps the one before byte for byte, whole lines and all (what a ledger
    that only grows shows); None when it does not, and the lines are compared instead. A line end is one byte that
    no other character's UTF-8 holds, so the lines of the kept part read the same in both versions."""
    if before and not before.endswith(b"\n") or not after.startswith(before):
        return None
    return tuple(_lines(after[len(before):]))


def _lines_of(blob: str, contents: Mapping[str, bytes], split: dict[str, list[str]]) -> list[str]:
    """The lines of a version (none for a blob git did not give), split once (the lists are only read)."""
    found = split.get(blob)
    if found is None:
        found = split[blob] = _lines(contents.get(blob, b""))
    return found


def _version_change(key: tuple, contents: Mapping[str, bytes],
                    split: dict[str, list[str]] | None = None) -> tuple[str | None, tuple[str, ...]]:
    """What one commit did to one ledger file: the first line it removed or changed (None when it only added),
    and the lines it added. key: (_VERSION_KEY; the blobs before, one per parent the file differs from; the blob after;
    whether the commit is a merge; whether the file is one parent's version unchanged)."""
    _, befores, after, merge, same_as_a_parent = key
    if not merge:
        appended = _appended(contents.get(befores[0], b""), contents.get(after, b""))
        if appended is not None:
            return None, appended
    split = {} if split is None else split
    versions = [_lines_of(before, contents, split) for before in befores]
    new = _lines_of(after, contents, split)
    if merge:
        return _compare_merge(versions, new, same_as_a_parent)
    return _compare_versions(versions[0], new)


def _compare_merge(parents: list[list[str]], after: list[str],
                   same_as_a_parent: bool) -> tuple[str | None, tuple[str, ...]]:
    """A merge keeps every line of every parent's version (in any order: each branch appended its own); a line
    in no parent's version is added by the merge."""
    kept = set(after)
    for before in parents:
        lost = next((line for line in before if line not in kept), None)
        if lost is not None:
            return lost, ()
    if same_as_a_parent:
        return None, ()
    earlier = {line for before in parents for line in before}
    return None, tuple(line for line in after if line not in earlier)


def _compare_versions(before: list[str], after: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """The first line a commit removed or changed (None when it only appended), and the lines it adds."""
    if after[:len(before)] == before:
        return None, tuple(after[len(before):])
    kept = set(after)
    earlier = set(before)
    return next((line for line in before if line not in kept), before[-1]), \
        tuple(line for line in after if line not in earlier)
