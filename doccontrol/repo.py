"""The only module that talks to git.

History for every document comes from ONE `git log` pass; file contents at older
commits come through GitPython's persistent `cat-file --batch` process, never one
process per file. Release and withdrawal events are commit trailers, so they live
in the history itself and survive a clone without tags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import git

RELEASE_TRAILER = "Doccontrol-Release"
OBSOLETE_TRAILER = "Doccontrol-Obsolete"
APPROVAL_TRAILER = "Doccontrol-Approval"
SUBMIT_TRAILER = "Doccontrol-Submit"
TAG_PREFIX = "refs/tags/"


class RepoError(Exception):
    """A git problem explained for the user."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: dt.datetime
    subject: str


@dataclass(frozen=True)
class ReleaseEvent:
    """A revision released in a commit: `Doccontrol-Release: NUMBER REV EFFECTIVE PATH`."""

    number: str
    revision: str
    effective: dt.date
    path: str
    commit: CommitInfo


@dataclass(frozen=True)
class ObsoleteEvent:
    """A withdrawal: `Doccontrol-Obsolete: NUMBER DATE`."""

    number: str
    date: dt.date
    commit: CommitInfo


@dataclass
class History:
    """Everything one log pass tells: commits per path, releases and withdrawals (oldest first)."""

    commits_by_path: dict[str, list[CommitInfo]] = field(default_factory=dict)
    releases: list[ReleaseEvent] = field(default_factory=list)
    obsoletes: list[ObsoleteEvent] = field(default_factory=list)
    paths_ever: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class TagInfo:
    name: str
    commit: str
    message: str
    signed: bool


class Repo:
    """A git working tree holding controlled documents."""

    def __init__(self, root: Path):
        self.root = Path(root)
        try:
            self._repo = git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise RepoError(f"{self.root} is not a git repository; run `git init` there first") from None
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
            self._repo.head.commit
        except ValueError:
            return False
        return True

    @property
    def is_shallow(self) -> bool:
        return self._git("rev-parse", "--is-shallow-repository").strip() == "true"

    @property
    def head(self) -> str:
        return self._repo.head.commit.hexsha if self.has_commits else ""

    def history(self, rev: str = "HEAD", paths: bool = True) -> History:
        """One `git log` pass over all history reachable from rev.

        paths=False leaves out which files each commit changed (commits_by_path, paths_ever stay
        empty): releases and withdrawals only, without git diffing every commit's trees, which
        is most of the cost of the pass.
        """
        result = History()
        if not self.has_commits:
            return result
        fmt = "%x1e%H%x00%an%x00%ae%x00%aI%x00%s%x00%(trailers:only,unfold)%x00"
        changes = ("--name-status", "--no-renames") if paths else ()
        raw = self._git("log", rev, "-z", "--reverse", f"--format={fmt}", *changes)
        for record in raw.split("\x1e")[1:]:
            fields = record.split("\x00")
            sha, author, email, date, subject, trailers = fields[:6]
            info = CommitInfo(sha, author, email, dt.datetime.fromisoformat(date), subject)
            _parse_trailers(trailers, info, result)
            entries = [f for f in fields[6:] if f.strip("\n")]
            for status, path in zip(entries[0::2], entries[1::2]):
                path = path.lstrip("\n")
                result.paths_ever.add(path)
                result.commits_by_path.setdefault(path, []).append(info)
        return result

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

    def list_folder(self, commit: str, folder: str) -> list[str]:
        """File paths directly inside folder at commit."""
        try:
            tree = self._repo.commit(commit).tree / folder
        except KeyError:
            return []
        return sorted(f"{folder}/{blob.name}" for blob in tree.blobs)

    def dirty_paths(self) -> set[str]:
        """Paths with uncommitted changes (staged, unstaged or untracked)."""
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
            index += 1
        return paths

    def commit(self, paths: list[str], message: str) -> str:
        """Commit exactly these paths (other staged or unstaged work is left alone)."""
        self._git("add", "--", *paths)
        self._git("commit", "--quiet", "--only", "-m", message, "--", *paths)
        return self.head

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

    def is_ancestor(self, commit: str, of: str = "HEAD") -> bool:
        try:
            self._repo.git.merge_base("--is-ancestor", commit, of)
        except git.GitCommandError:
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


def _parse_trailers(text: str, info: CommitInfo, into: History):
    for line in text.splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        try:
            if key == RELEASE_TRAILER:
                number, revision, effective, path = value.split(" ", 3)
                into.releases.append(ReleaseEvent(number, revision, dt.date.fromisoformat(effective), path, info))
            elif key == OBSOLETE_TRAILER:
                number, date = value.split(" ", 1)
                into.obsoletes.append(ObsoleteEvent(number, dt.date.fromisoformat(date.strip()), info))
        except ValueError:
            continue
