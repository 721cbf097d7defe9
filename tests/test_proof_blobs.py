"""The proof's quick ways to the texts of commits give exactly what naming each COMMIT:PATH gives, or nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from doccontrol.repo import Repo, RepoError
from doccontrol.workspace import Workspace

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


@pytest.mark.parametrize("tamper", ["amend", "none"])
def test_the_proof_reusing_the_working_documents_finds_what_it_finds_parsing_each_text(runner, released_repo, tamper):
    """A cold verify takes a commit's text from the working tree's parse when the files are the same (the same
    paths and blob ids); the proof and its findings are the same as when every text is parsed from the history,
    also when the working tree holds the text that a rewritten release commit holds."""
    from doccontrol.loader import load_each, read_worktree
    from doccontrol.proof import prove
    from doccontrol.signing import Verifier

    if tamper == "amend":
        path = released_repo / "procedures/QP-SH-001-客户投诉处理程序.md"
        path.write_text(path.read_text(encoding="utf-8").replace("24 小时内响应", "72 小时内响应"), encoding="utf-8")
        git(released_repo, "commit", "-q", "--amend", "-a", "--no-edit")
    ws = Workspace(released_repo, use_cache=False)
    sources, texts, _ = read_worktree(ws.config)
    each = load_each(sources, texts)
    with Repo(released_repo) as repo:
        reused = prove(repo, Verifier(), None, full=True, parsed=each)
        parsed = prove(repo, Verifier(), None, full=True)
    assert [str(f) for f in reused.findings] == [str(f) for f in parsed.findings]
    assert reused.released == parsed.released and reused.release_commits == parsed.release_commits
    assert bool(reused.findings) == (tamper == "amend")
    if tamper == "amend":
        assert any("holds other content than it signs" in f.message for f in reused.findings)
        out = invoke(runner, released_repo, "--no-cache", "verify", expect=1).output
        assert "holds other content than it signs [record-history]" in out


def test_a_ledger_line_with_a_duplicate_key_is_refused():
    from doccontrol.ledger import parse_line

    for line in ('{"statement":{"kind":"submit"},"statement":{"kind":"submit"}}',
                 '{"statement":{"kind":"submit","kind":"release"}}'):
        finding = parse_line("signatures/QP-SH-001.jsonl", 1, line)
        assert getattr(finding, "rule", "") == "ledger-format" and "duplicate key" in finding.message


@pytest.mark.parametrize("before, after", [
    (b"", b"a\nb\n"), (b"a\n", b"a\nb\n"), (b"a\n", b"a\n"), (b"a\n", b"a\nb"), (b"a", b"ab\n"), (b"a\nb\n", b"a\n"),
    (b"a\nb\n", b"a\nc\nb\n"), (b"\xe4\n", b"\xe4\n\xe4\xb8\n"), (b"\xe4\xb8\xad\n", b"\xe4\xb8\xad\nx\n"),
    (b"a\n", b""), (b"a\r\n", b"a\r\nb\r\n"),
])
def test_a_ledger_version_that_keeps_the_one_before_adds_what_the_lines_say(before, after):
    """The quick comparison of a ledger's versions (by bytes) gives what comparing their lines gives."""
    from doccontrol.repo import _compare_versions, _lines, _version_change

    contents = {"1" * 40: before, "2" * 40: after}
    key = ("ledger-version", ("1" * 40,), "2" * 40, False, False)
    assert _version_change(key, contents) == _compare_versions(_lines(before), _lines(after))


def test_no_thread_is_alive_when_the_signature_workers_are_forked(runner, released_repo, monkeypatch):
    """The history's git log runs while the ledgers are parsed, in a process of its own that writes to a file: a
    thread waiting on it while the signature workers are forked could hold a lock a worker then waits for forever
    (it did: a cold verify hung). And a failing log is an error that names git, not a hang or a traceback."""
    import threading

    from doccontrol.signing import Verifier

    seen: list[list[str]] = []
    start = Verifier.start

    def recording(self, signed):
        seen.append([thread.name for thread in threading.enumerate() if thread is not threading.main_thread()])
        return start(self, signed)

    monkeypatch.setattr(Verifier, "start", recording)
    result = invoke(runner, released_repo, "--no-cache", "verify")
    assert "the record is intact" in result.output
    assert seen and all(names == [] for names in seen), seen

    with Repo(released_repo) as repo, repo.start_ledger_log("no-such-revision") as log, \
            pytest.raises(RepoError, match="git log failed: .*no-such-revision"):
        log.result()


def test_a_cold_history_pass_names_each_changed_files_blob_as_diff_tree_does(tmp_path):
    """A cold proof reads every file the ledger commits changed from a log run beside the history's (--full-diff)
    instead of a `diff-tree` afterwards: each blob it names is the file's blob in that commit, and it names at least
    what `changed_blobs` names for those commits (a commit between two ledger commits included), merges aside: a
    merge's full diff can name every file of the repository, so a statement a merge recorded is looked up by name."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "t"), ("user.email", "t@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    write(root, "f/a.md", "一\n")
    write(root, "signatures/a.jsonl", "{}\n")
    _commit(root, "ledger and document")
    write(root, "f/b.md", "二\n")
    _commit(root, "a document alone")
    write(root, "f/a.md", "一改\n")
    write(root, "signatures/a.jsonl", "{}\n{}\n")
    fork = _commit(root, "ledger and document again")
    git(root, "checkout", "-q", "-b", "side")
    write(root, "f/c 文件.md", "三\n")
    write(root, "signatures/c.jsonl", "{}\n")
    _commit(root, "side")
    git(root, "checkout", "-q", "main")
    write(root, "g/x.md", "四\n")
    write(root, "signatures/a.jsonl", "{}\n{}\n{}\n")
    _commit(root, "main")
    git(root, "merge", "-q", "--no-edit", "side")
    with Repo(root) as repo:
        with repo.start_ledger_log("HEAD", every_file=True) as log:
            history = repo.ledger_history("HEAD", None, log)
        with repo.start_ledger_log("HEAD") as log:
            plain = repo.ledger_history("HEAD", None, log)
        commits = list(history.order)
        named = repo.objects([f"{sha}:{path}" for sha, path in history.files or {}])
        expected = repo.changed_blobs(commits, ["f", "g", "signatures"])
    assert plain.files is None and history.files
    assert (history.order, history.added, history.parents) == (plain.order, plain.added, plain.parents)
    merges = {sha for sha in commits if len(history.parents[sha]) > 1}
    assert len(commits) == 5 and fork in commits and len(merges) == 1
    for (sha, path), blob in history.files.items():
        assert named[f"{sha}:{path}"] == (blob, "blob")
    assert {key for key in expected if key[0] not in merges} <= set(history.files)
    assert not [key for key in history.files if key[0] in merges]
    assert any(path == "f/c 文件.md" for _, path in history.files)


def test_a_non_blob_among_the_blobs_asked_for_is_skipped_whole(tmp_path):
    """A gitlink in the ledger folder names a commit, and `cat-file --batch` gives a commit's text where a blob was
    asked for: it is skipped by its size, so a line of it written like a header (`<blob id> blob N`, in the commit
    message) never passes for the next blob's content (it did: a forged ledger version made verify say intact)."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    real = _git_input(root, "real ledger line\n", "hash-object", "-w", "--stdin").strip()
    others = [_git_input(root, f"junk {n}\n", "hash-object", "-w", "--stdin").strip() for n in range(6)]
    tree = _git_input(root, "", "mktree").strip()
    for attempt in range(500):
        commit = _git_input(root, "", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit-tree", tree,
                            "-m", f"{real} blob 7\nforged!\n{attempt}").strip()
        if commit < min([real, *others]):
            break
    else:
        raise AssertionError("no commit id sorted first")
    with Repo(root) as repo:
        found = repo.blobs([commit, real, *others])
    assert found[real] == b"real ledger line\n"
    assert commit not in found and all(found[oid] == f"junk {n}\n".encode() for n, oid in enumerate(others))


def _git_input(root: Path, text: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, input=text, check=True, capture_output=True, text=True).stdout
