"""The server-side guard as a real pre-receive hook on a bare repository, driven by real `git push`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from doccontrol.signing import load_signer

from conftest import KEYS, git, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
LEDGER = "signatures/QP-SH-001.jsonl"


@pytest.fixture
def server(released_repo, tmp_path) -> Path:
    """A bare repository holding the released record, guarded by `doccontrol guard`."""
    bare = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(released_repo), str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m doccontrol guard\n", encoding="utf-8")
    hook.chmod(0o755)
    git(released_repo, "remote", "add", "origin", str(bare))
    git(released_repo, "fetch", "-q", "origin")
    git(released_repo, "branch", "-q", "--set-upstream-to", "origin/main")
    return bare


def push(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "push", "origin", *(args or ("main",))], cwd=root, capture_output=True, text=True,
                          env=env)


def server_head(bare: Path) -> str:
    return git(bare, "rev-parse", "main").strip()


def refused(result: subprocess.CompletedProcess, fragment: str) -> str:
    assert result.returncode != 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "doccontrol guard: refused" in line]
    assert lines, result.stderr
    assert any(fragment in line for line in lines), result.stderr
    return "\n".join(lines)


def read(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def test_an_ordinary_draft_and_a_proper_release_are_accepted(runner, released_repo, server):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "增加电话回访要求", "--author", "孙小雨")
    write(released_repo, PROC, read(released_repo, PROC).replace("24 小时内响应", "12 小时内响应"))
    git(released_repo, "commit", "-qam", "draft A/1")
    result = push(released_repo)
    assert result.returncode == 0, result.stderr
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, released_repo, "release", "QP-SH-001")
    result = push(released_repo, "main", "--tags")
    assert result.returncode == 0, result.stderr
    assert server_head(server) == git(released_repo, "rev-parse", "HEAD").strip()


def test_an_edit_of_an_effective_document_without_a_revision_is_refused(released_repo, server):
    before = server_head(server)
    write(released_repo, PROC, read(released_repo, PROC).replace("24 小时内响应", "72 小时内响应"))
    git(released_repo, "commit", "-qam", "quiet change")
    sha = git(released_repo, "rev-parse", "HEAD").strip()
    lines = refused(push(released_repo), "was changed after its release")
    assert f"refused refs/heads/main (commit {sha[:10]})" in lines
    assert server_head(server) == before


def _append(root: Path, statement: dict, signature: str | None) -> None:
    line = {"statement": statement} | ({"signature": signature} if signature else {})
    with open(root / LEDGER, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")


def _signed(name: str, statement: dict) -> str:
    data = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return load_signer(str(KEYS[name])).sign(data)


def test_an_unverifiable_signature_is_refused(runner, released_repo, server):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "调整", "--author", "孙小雨")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    submit = json.loads(read(released_repo, LEDGER).splitlines()[-1])["statement"]
    approval = dict(submit, kind="approval", role="review", meaning="审核：确认内容正确、适用、可执行", name="林慧")
    _append(released_repo, approval, _signed("林慧", dict(approval, name="周立新")))
    git(released_repo, "commit", "-qam", "a signature copied from another statement")
    before = server_head(server)
    refused(push(released_repo), "the signature of 林慧 does not verify")
    assert server_head(server) == before


def test_a_release_by_someone_without_the_right_is_refused(runner, released_repo, server):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "调整", "--author", "孙小雨")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    approved = json.loads(read(released_repo, LEDGER).splitlines()[-1])["statement"]
    release = {key: approved[key] for key in ("number", "title", "revision", "path", "fingerprint", "type",
                                              "department", "config", "at")}
    release |= {"kind": "release", "effective": "2026-11-20", "name": "林慧"}
    _append(released_repo, release, _signed("林慧", release))
    write(released_repo, PROC, read(released_repo, PROC).replace("status: approved", "status: effective\n"
                                                                                        "effective: 2026-11-20"))
    git(released_repo, "commit", "-qam", "release by hand")
    refused(push(released_repo), "林慧 may not release a procedure")


def test_a_roster_change_without_the_required_signature_is_refused(released_repo, server):
    config = read(released_repo, "doccontrol.yml").replace("rights: {review: [procedure, form, external]}",
                                                           "rights: {review: [procedure, form, external], "
                                                           "approve: [procedure, form, external]}")
    write(released_repo, "doccontrol.yml", config)
    git(released_repo, "commit", "-qam", "give 林慧 the right to approve")
    refused(push(released_repo), "differs from every approved version [configuration-unapproved]")


def test_a_roster_change_approved_by_the_general_manager_is_accepted(runner, released_repo, server):
    config = read(released_repo, "doccontrol.yml").replace("position: 文控员", "position: 文控主管")
    write(released_repo, "doccontrol.yml", config)
    invoke(runner, released_repo, "config", "approve", "--key", str(KEYS["陈国华"]))
    result = push(released_repo)
    assert result.returncode == 0, result.stderr


def test_a_backdated_statement_is_refused_by_the_servers_clock(runner, released_repo, server, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", "2026-11-25T09:00:00+08:00")
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "调整", "--author", "孙小雨")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    env = dict(os.environ, DOCCONTROL_NOW="2026-12-05T09:00:00+08:00")  # the server's clock, ten days later
    lines = refused(push(released_repo, env=env), "more than 1 day, 0:00:00 before the server's time")
    assert "backdated statements are not accepted" in lines


def test_removing_statements_by_rewriting_history_is_refused(runner, released_repo, server):
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "停用", "--as", "陈国华")
    assert push(released_repo).returncode == 0
    git(released_repo, "reset", "-q", "--hard", "HEAD~1")
    refused(push(released_repo, "--force", "main"), "removes or changes statements in signatures/QR-SH-001.jsonl")


def test_a_release_tag_cannot_be_moved(released_repo, server):
    git(released_repo, "tag", "-f", "-a", "-m", "moved", "QP-SH-001/A0", "HEAD~1")
    refused(push(released_repo, "--force", "refs/tags/QP-SH-001/A0"), "release tags are not moved or deleted")
