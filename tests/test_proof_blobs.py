"""The proof's quick ways to the texts of commits give exactly what naming each COMMIT:PATH gives, or nothing."""

from __future__ import annotations

import os
from pathlib import Path

from doccontrol.repo import Repo

from conftest import git, invoke, write


def _commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def _history(root: Path) -> list[str]:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "commit.gpgsign", "false")
    write(root, "f/a.md", "one\n")
    write(root, "f/b.md", "two\n")
    first = _commit(root, "add")
    write(root, "f/a.md", "one changed\n")
    (root / "f/b.md").unlink()
    os.symlink("a.md", root / "f/c.md")
    second = _commit(root, "change, remove, link")
    write(root, "g/x.md", "elsewhere\n")
    third = _commit(root, "another folder")
    git(root, "checkout", "-q", "-b", "side", first)
    write(root, "f/d.md", "side\n")
    side = _commit(root, "side")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-edit", "side")
    merge = git(root, "rev-parse", "HEAD").strip()
    return [first, second, third, side, merge]


def test_changed_blobs_are_the_blobs_named_in_each_commit(tmp_path):
    root = tmp_path / "repo"
    commits = _history(root)
    with Repo(root) as repo:
        changed = repo.changed_blobs([*commits, "0" * 40, "not a commit"], ["f"])
        paths = ["f/a.md", "f/b.md", "f/c.md", "f/d.md", "g/x.md"]
        named = repo.objects([f"{sha}:{path}" for sha in commits for path in paths])
    assert changed
    for (sha, path), blob in changed.items():
        assert named[f"{sha}:{path}"] == (blob, "blob")
    first, second, third, side, merge = commits
    assert set(changed) == {(first, "f/a.md"), (first, "f/b.md"), (second, "f/a.md"), (second, "f/c.md"),
                            (side, "f/d.md"), (merge, "f/a.md"), (merge, "f/c.md"), (merge, "f/d.md")}
    assert (third, "f/a.md") not in changed  # unchanged there: left to a lookup by name
    assert (second, "f/b.md") not in changed  # removed there


def _split_release(root: Path, ledger_first: bool) -> None:
    """Put the release commit's document changes and its ledger lines in two commits, in the order given."""
    for tag in git(root, "tag", "-l").split():
        git(root, "tag", "-d", tag)
    git(root, "reset", "-q", "--soft", "HEAD~1")
    git(root, "reset", "-q")
    groups = [["signatures/"], ["procedures/", "forms/", "docs/"]]
    for paths in groups if ledger_first else groups[::-1]:
        git(root, "add", "--", *paths)
        git(root, "commit", "-q", "-m", "part of the release")


def test_a_release_recorded_after_its_document_changed_verifies(runner, released_repo):
    """The commit that recorded the release did not change the document: its text is looked up by name."""
    _split_release(released_repo, ledger_first=False)
    out = invoke(runner, released_repo, "--no-cache", "verify").output
    assert "verified: the record is intact" in out


def test_a_release_recorded_before_its_document_changed_fails(runner, released_repo):
    """A release recorded in a commit where the document was not yet effective: a commit that did not change the
    document is still held against what the statement signs."""
    _split_release(released_repo, ledger_first=True)
    out = invoke(runner, released_repo, "--no-cache", "verify", expect=1).output
    assert "does not mark the document effective" in out
