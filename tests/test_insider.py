"""An insider with commit access but no one else's key, on real repositories with real signatures: each attack
the review found, and what `check`, `verify`, the publishing commands and the server guard say about it."""

from __future__ import annotations

import json
from pathlib import Path

from doccontrol.ledger import to_line
from doccontrol.signing import load_signer
from doccontrol.statements import parse_statement, statement_bytes

from conftest import KEYS, git, invoke

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
MANUAL = "docs/QM-SH-01-售后服务手册/index.md"


def ledger(root: Path, number: str) -> list[dict]:
    text = (root / "signatures" / f"{number}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def append_signed(root: Path, number: str, name: str, data: dict) -> None:
    """A statement signed with NAME's own key and appended to the ledger (what a modified client would write)."""
    statement = parse_statement(data)
    line = to_line(statement, load_signer(str(KEYS[name])).sign(statement_bytes(statement)))
    with (root / "signatures" / f"{number}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def about(statement: dict, **changes) -> dict:
    fields = ("number", "title", "revision", "path", "fingerprint", "type", "department")
    return {**{key: statement[key] for key in fields}, **changes}


def approval(role: str, meaning: str, name: str, **about_fields) -> dict:
    return {**about_fields, "kind": "approval", "role": role, "meaning": meaning, "name": name,
            "at": "2026-11-20T10:00:00+08:00", "config": 1}


# -- 1. a signer's rights are judged by the document, not by what their statement says of it ------------------

def test_a_review_that_names_another_department_does_not_count(runner, repo):
    """赵明 may review procedures of 售后服务部 only; a 审核 of a 质量部 procedure that says 售后服务部 is refused."""
    submitted = ledger(repo, "QP-SH-001")[0]["statement"]
    append_signed(repo, "QP-SH-001", "赵明", approval("review", "审核：确认内容正确、适用、可执行", "赵明",
                                                     **about(submitted, department="售后服务部")))
    git(repo, "commit", "-qam", "approve: 审核 by 赵明 for QP-SH-001 A/0")
    expected = ("signatures/QP-SH-001.jsonl:2: error: the 审核 of QP-SH-001 A/0 by 赵明 gives the document's "
                "department as 售后服务部, but it is 质量部 (as submitted for A/0); rights are judged by the document "
                "itself [signature-scope]")
    assert expected in invoke(runner, repo, "check", expect=1).output
    assert expected in invoke(runner, repo, "verify", expect=1).output
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准", expect=1).output
    assert "QP-SH-001 cannot be signed: fix its errors first" in out


def test_an_approval_of_the_manual_that_calls_it_a_procedure_does_not_count(runner, repo):
    """周立新 may approve procedures but not the manual; writing `type: procedure` into the 批准 gains nothing."""
    invoke(runner, repo, "approve", "QM-SH-01", "--as", "陈国华", "--role", "审核")
    submitted = ledger(repo, "QM-SH-01")[0]["statement"]
    append_signed(repo, "QM-SH-01", "周立新", approval("approve", "批准：同意发布实施", "周立新",
                                                      **about(submitted, type="procedure")))
    index = repo / MANUAL
    index.write_text(index.read_text(encoding="utf-8").replace("status: review", "status: approved"), encoding="utf-8")
    git(repo, "commit", "-qam", "approve: 批准 by 周立新 for QM-SH-01 A/0")
    expected = ("signatures/QM-SH-01.jsonl:3: error: the 批准 of QM-SH-01 A/0 by 周立新 gives the document's type as "
                "procedure, but it is manual (as submitted for A/0); rights are judged by the document itself "
                "[signature-scope]")
    assert expected in invoke(runner, repo, "verify", expect=1).output
    out = invoke(runner, repo, "release", "QM-SH-01", expect=1).output
    assert "cannot be released: fix its errors first" in out


def test_a_submission_that_misnames_the_department_is_caught_in_the_history(runner, tmp_path):
    """The preparer submits a 质量部 procedure saying it is 售后服务部's, so that 赵明 may review it: the statements
    agree with each other, but not with the document in the commit that recorded the submission."""
    from conftest import init_repo

    root = init_repo(tmp_path / "repo", with_manual=False, submit=False)
    doc = root / PROC
    doc.write_text(doc.read_text(encoding="utf-8").replace("status: draft", "status: review"), encoding="utf-8")
    from doccontrol.model import fingerprint
    from doccontrol.workspace import Workspace

    stamp = fingerprint(Workspace(root).find("QP-SH-001"))
    lie = {"number": "QP-SH-001", "title": "客户投诉处理程序", "revision": "A/0", "path": PROC, "fingerprint": stamp,
           "type": "procedure", "department": "售后服务部"}
    append_signed(root, "QP-SH-001", "孙小雨", {**lie, "kind": "submit", "name": "孙小雨",
                                               "at": "2026-11-20T10:00:00+08:00", "config": 1})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "submit: QP-SH-001 A/0 for review by 孙小雨")
    append_signed(root, "QP-SH-001", "赵明", approval("review", "审核：确认内容正确、适用、可执行", "赵明", **lie))
    git(root, "commit", "-qam", "approve: 审核 by 赵明")
    commit = git(root, "log", "-1", "--format=%h", "--abbrev=10", "HEAD~1").strip()
    out = invoke(runner, root, "verify", expect=1).output
    assert (f"signatures/QP-SH-001.jsonl:1: error: the submission of QP-SH-001 A/0 by 孙小雨 gives the document's "
            f"department as 售后服务部, but it is 质量部 (in commit {commit}, which recorded the statement); rights "
            "are judged by the document itself [signature-scope]") in out
    assert ("signatures/QP-SH-001.jsonl:1: error: the submission of QP-SH-001 A/0 by 孙小雨 gives the document's "
            f"department as 售后服务部, but it is 质量部 (in {PROC}); rights are judged by the document itself "
            "[signature-scope]") in invoke(runner, root, "check", expect=1).output


def test_the_workflow_writes_the_documents_own_scope(runner, released_repo):
    for number in ("QM-SH-01", "QP-SH-001", "QR-SH-001"):
        entries = ledger(released_repo, number)
        first = entries[0]["statement"]
        for entry in entries[1:]:
            assert about(entry["statement"]) == about(first)
    assert ledger(released_repo, "QP-SH-001")[0]["statement"]["department"] == "质量部"
    assert ledger(released_repo, "QM-SH-01")[0]["statement"]["type"] == "manual"


# -- 2. a release whose text the rewritten history no longer holds is an error, not a silent omission ---------

def _release_then_open_the_next(runner, root: Path) -> None:
    """A/1 released on its own (in force from today), then A/2 opened as a draft."""
    invoke(runner, root, "revise", "QP-SH-001", "--reason", "增加回访", "--author", "孙小雨")
    doc = root / PROC
    doc.write_text(doc.read_text(encoding="utf-8").replace("24 小时内响应", "12 小时内响应"), encoding="utf-8")
    invoke(runner, root, "submit", "QP-SH-001")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, root, "release", "QP-SH-001")
    invoke(runner, root, "revise", "QP-SH-001", "--reason", "下一次修订", "--author", "孙小雨")


def _fold_the_draft_into_the_release(root: Path) -> str:
    message = git(root, "log", "-1", "--format=%B", "HEAD~1")
    git(root, "reset", "-q", "--soft", "HEAD~2")
    git(root, "commit", "-q", "-m", message)
    return git(root, "log", "-1", "--format=%h", "--abbrev=10").strip()


def test_a_release_folded_into_the_next_draft_is_an_error_and_the_document_is_held_back(runner, released_repo,
                                                                                       tmp_path):
    import subprocess
    import sys
    import zipfile

    server = tmp_path / "server.git"
    _release_then_open_the_next(runner, released_repo)
    subprocess.run(["git", "clone", "-q", "--bare", str(released_repo), str(server)], check=True)
    hook = server / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m doccontrol guard\n", encoding="utf-8")
    hook.chmod(0o755)
    git(released_repo, "remote", "add", "origin", str(server))
    commit = _fold_the_draft_into_the_release(released_repo)
    message = (f"QP-SH-001 A/1 was released (effective 2026-11-20), but its release commit {commit} already holds "
               "A/2: the released text is not in the history, so QP-SH-001 cannot be published")

    out = invoke(runner, released_repo, "verify", expect=1).output
    assert f"signatures/QP-SH-001.jsonl:8: error: {message} [release-unprovable]" in out
    assert ("fix: the history was rewritten (the release and the next revision were put in one commit); restore it "
            "from a backup or the remote, where the release of A/1 is a commit of its own") in out
    assert "superseded revisions" not in out
    out = invoke(runner, released_repo, "build", "--out", str(tmp_path / "site")).output
    assert (f"held back: QP-SH-001 is not published: {message} (signatures/QP-SH-001.jsonl:8; run `doccontrol "
            "verify`)") in out
    assert not (tmp_path / "site" / "QP-SH-001").exists()
    out = invoke(runner, released_repo, "pack", "--out", str(tmp_path / "pack.zip")).output
    assert f"held back: QP-SH-001 is not published: {message}" in out
    assert not any("QP-SH-001" in name for name in zipfile.ZipFile(tmp_path / "pack.zip").namelist()
                   if name.endswith(".docx"))

    pushed = subprocess.run(["git", "push", "-f", "origin", "main"], cwd=released_repo, capture_output=True,
                            text=True)
    assert pushed.returncode != 0
    assert (f"doccontrol guard: refused refs/heads/main (commit {commit}): signatures/QP-SH-001.jsonl:8: "
            f"{message} [release-unprovable]") in pushed.stderr


def test_a_squashed_history_whose_old_text_is_superseded_is_only_a_note(runner, released_repo):
    """Squashing away a revision that a later release has replaced loses nothing that must be published."""
    _release_then_open_the_next(runner, released_repo)
    _fold_the_draft_into_the_release(released_repo)
    doc = released_repo / PROC
    doc.write_text(doc.read_text(encoding="utf-8").replace("12 小时内响应", "8 小时内响应"), encoding="utf-8")
    git(released_repo, "commit", "-qam", "draft A/2")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, released_repo, "release", "QP-SH-001")
    out = invoke(runner, released_repo, "verify").output
    assert ("the history was squashed: the text of 1 superseded revisions (QP-SH-001 A/1) is no longer in it; their "
            "signatures still verify") in out


# -- 3. a removed ledger line is found from the file's versions, whatever its text looks like -------------------

def test_a_withdrawal_removed_behind_a_line_that_imitates_patch_text_is_caught(runner, released_repo, tmp_path):
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "表单合并", "--as", "陈国华")
    form = released_repo / "forms/QR-SH-001-顾客问题处理表.md"
    ledger_file = released_repo / "signatures/QR-SH-001.jsonl"
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    withdrawal = lines[-1]
    ledger_file.write_text("".join(lines[:-1]) + "-- x\n" + withdrawal, encoding="utf-8")
    git(released_repo, "commit", "-qam", "signatures: note")
    inserted = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    ledger_file.write_text("".join(lines[:-1]), encoding="utf-8")
    text = form.read_text(encoding="utf-8").replace("status: obsolete", "status: effective")
    form.write_text("\n".join(line for line in text.split("\n")
                              if not line.startswith(("obsolete_reason:", "superseded_by:"))), encoding="utf-8")
    git(released_repo, "commit", "-qam", "signatures: tidy")
    removed = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    out = invoke(runner, released_repo, "verify", expect=1).output
    for commit in (inserted, removed):
        assert (f"signatures/QR-SH-001.jsonl:1: error: commit {commit} removed or changed a line of the QR-SH-001 "
                "ledger; the record only grows [ledger-rewritten]") in out
    out = invoke(runner, released_repo, "build", "--out", str(tmp_path / "site")).output
    assert (f"held back: QR-SH-001 is not published: commit {inserted} removed or changed a line of the QR-SH-001 "
            "ledger; the record only grows") in out
    assert not (tmp_path / "site" / "QR-SH-001").exists()


def test_a_ledger_line_changed_in_place_and_a_ledger_deleted_are_caught(runner, released_repo):
    ledger_file = released_repo / "signatures/QP-SH-001.jsonl"
    text = ledger_file.read_text(encoding="utf-8")
    ledger_file.write_text(text.replace('"at":"2026-11-20T10:00:00+08:00"', '"at":"2026-11-20T10:00:01+08:00"', 1),
                           encoding="utf-8")
    git(released_repo, "commit", "-qam", "tidy")
    changed = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    ledger_file.write_text(text, encoding="utf-8")
    git(released_repo, "commit", "-qam", "restore")
    git(released_repo, "rm", "-q", "signatures/QR-SH-001.jsonl")
    git(released_repo, "commit", "-qm", "drop")
    dropped = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    out = invoke(runner, released_repo, "verify", expect=1).output
    assert (f"commit {changed} removed or changed a line of the QP-SH-001 ledger; the record only grows "
            "[ledger-rewritten]") in out
    assert (f"commit {dropped} removed or changed a line of the QR-SH-001 ledger; the record only grows "
            "[ledger-rewritten]") in out


def test_a_withdrawal_dropped_in_a_merge_commit_is_caught(runner, released_repo):
    git(released_repo, "branch", "side")  # made before the withdrawal
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "表单合并", "--as", "陈国华")
    git(released_repo, "checkout", "-q", "side")
    (released_repo / "备注.txt").write_text("x\n", encoding="utf-8")
    git(released_repo, "add", "备注.txt")
    git(released_repo, "commit", "-qm", "side work")
    git(released_repo, "checkout", "-q", "main")
    git(released_repo, "merge", "-q", "--no-ff", "--no-commit", "-s", "ours", "side")
    ledger_file = released_repo / "signatures/QR-SH-001.jsonl"
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger_file.write_text("".join(line for line in lines if '"withdrawal"' not in line), encoding="utf-8")
    git(released_repo, "checkout", "side", "--", "forms/QR-SH-001-顾客问题处理表.md")
    git(released_repo, "add", "-A")
    git(released_repo, "commit", "-qm", "Merge branch 'side'")
    merge = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    out = invoke(runner, released_repo, "verify", expect=1).output
    assert (f"commit {merge} removed or changed a line of the QR-SH-001 ledger; the record only grows "
            "[ledger-rewritten]") in out


def test_two_branches_that_each_signed_merge_cleanly(runner, released_repo):
    git(released_repo, "branch", "side")
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "表单合并", "--as", "陈国华")
    git(released_repo, "checkout", "-q", "side")
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "补充回访", "--author", "孙小雨")
    git(released_repo, "checkout", "-q", "main")
    git(released_repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")
    out = invoke(runner, released_repo, "verify").output
    assert "the record is intact" in out


def test_a_merge_keeps_both_branches_lines_in_any_order_and_loses_none():
    from doccontrol.repo import _compare_merge

    ours, theirs = ["a", "b", "main-1"], ["a", "b", "side-1", "side-2"]
    # every line came from a parent: nothing lost, nothing added
    assert _compare_merge([ours, theirs], ["a", "b", "main-1", "side-1", "side-2"], False) == (None, ())
    assert _compare_merge([ours, theirs], ["a", "b", "side-1", "side-2", "merge-only"], False) == ("main-1", ())
    assert _compare_merge([ours, theirs], [*ours, "side-1", "side-2", "new"], False) == (None, ("new",))


# -- 4. what the revision record shows beyond the fingerprint is held against the signed record ------------------

def test_the_approver_and_the_preparation_date_written_after_approval_are_errors(runner, released_repo, tmp_path):
    import re

    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "增加回访要求", "--author", "孙小雨")
    doc = released_repo / PROC
    doc.write_text(doc.read_text(encoding="utf-8").replace("24 小时内响应", "12 小时内响应"), encoding="utf-8")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    text = doc.read_text(encoding="utf-8")
    text = re.sub(r"(approved_by: )陈国华", r"\1国家市场监督管理总局", text, count=1)
    prepared = "prepared:\n  name: 孙小雨\n  date: "
    forged = text.replace(prepared + "2026-11-20", prepared + "2026-11-01")
    assert forged != text
    doc.write_text(forged, encoding="utf-8")
    git(released_repo, "commit", "-qam", "tidy front matter")
    lines = forged.split("\n")
    date_line = lines.index("  date: 2026-11-01") + 1
    approver_line = next(i for i, line in enumerate(lines, 1) if "国家市场监督管理总局" in line)
    expected = [
        f"{PROC}:{date_line}: error: prepared.date is 2026-11-01, but the revision record dates A/1 2026-11-20 (the "
        "date its signatures cover) [revision-record]",
        "fix: set prepared.date back to 2026-11-20; dates are written by `doccontrol revise`",
        f"{PROC}:{approver_line}: error: the revision record says QP-SH-001 A/0 was approved by 国家市场监督管理总局, "
        "but the signed record's 批准 of A/0 is by 陈国华 [revision-record]",
        "fix: write `approved_by: 陈国华` in that row, as the signed record says (`doccontrol history QP-SH-001` shows "
        "it); `doccontrol release` writes it",
    ]
    for command in ("check", "verify"):
        out = invoke(runner, released_repo, command, expect=1).output
        assert all(line in out for line in expected), out
    out = invoke(runner, released_repo, "release", "QP-SH-001", expect=1).output
    assert "cannot be released: fix its errors first" in out


def test_a_release_commit_that_carries_a_false_approver_is_held_back(runner, released_repo, tmp_path):
    """The document controller writes another approver into the release commit by hand: the published copy would
    show it, so the document is held back."""
    doc = released_repo / PROC
    doc.write_text(doc.read_text(encoding="utf-8").replace("approved_by: 陈国华", "approved_by: 周立新"),
                   encoding="utf-8")
    git(released_repo, "commit", "-q", "--amend", "-a", "--no-edit")
    commit = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    message = (f"the release of QP-SH-001 A/0 by 孙小雨: in the release commit {commit}, the revision record says "
               "QP-SH-001 A/0 was approved by 周立新, but the signed record's 批准 of A/0 is by 陈国华")
    out = invoke(runner, released_repo, "verify", expect=1).output
    assert f"error: {message} [revision-record]" in out
    out = invoke(runner, released_repo, "build", "--out", str(tmp_path / "site")).output
    assert f"held back: QP-SH-001 is not published: {message}" in out


def test_a_preparer_named_in_the_document_who_did_not_submit_it_is_an_error(runner, tmp_path):
    """孙小雨 submits (a modified client skips the preparer test) a draft that names 林慧 as its preparer."""
    import re

    from doccontrol.model import fingerprint
    from doccontrol.workspace import Workspace

    from conftest import init_repo

    root = init_repo(tmp_path / "repo", with_manual=False, submit=False)
    path = root / PROC
    text = re.sub(r"(prepared:\s*\n\s*name:\s*)\S+", r"\g<1>林慧", path.read_text(encoding="utf-8"), count=1)
    path.write_text(text, encoding="utf-8")
    git(root, "commit", "-qam", "draft")
    doc = Workspace(root).find("QP-SH-001")
    (root / "signatures").mkdir(exist_ok=True)
    append_signed(root, "QP-SH-001", "孙小雨", {
        "kind": "submit", "number": doc.number, "title": doc.title, "revision": doc.revision, "path": doc.path,
        "fingerprint": fingerprint(doc), "type": doc.type, "department": doc.department, "name": "孙小雨",
        "at": "2026-11-20T10:00:00+08:00", "config": 1})
    path.write_text(path.read_text(encoding="utf-8").replace("status: draft", "status: review"), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "submit: QP-SH-001 for review by 孙小雨")
    out = invoke(runner, root, "check", expect=1).output
    assert "prepared.name is 林慧, but A/0 was submitted (signed as its preparer) by 孙小雨 [revision-record]" in out
    invoke(runner, root, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核", expect=1)  # refused: fix it first
