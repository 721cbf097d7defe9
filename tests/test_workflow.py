"""Change control on real git repositories: revise, submit, approve, release, withdraw, verify."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from doccontrol.publication import released_documents
from doccontrol.repo import Repo
from doccontrol.workspace import Workspace

from conftest import PROCEDURE, git, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"


def read(root: Path, rel: str = PROC) -> str:
    return (root / rel).read_text(encoding="utf-8")


def replace_in(root: Path, old: str, new: str, rel: str = PROC):
    text = read(root, rel)
    assert old in text, old
    (root / rel).write_text(text.replace(old, new, 1), encoding="utf-8")


def open_revision(runner, root, reason="增加电话回访要求", major=False):
    args = ["revise", "QP-SH-001", "--reason", reason, "--author", "孙小雨"] + (["--major"] if major else [])
    return invoke(runner, root, *args)


def complete_revision(runner, root, effective=None):
    invoke(runner, root, "submit", "QP-SH-001")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    return invoke(runner, root, "release", "QP-SH-001", *(["--effective", effective] if effective else []))


def published(root: Path, as_of: dt.date):
    ws = Workspace(root)
    with Repo(root) as repo:
        return {d.number: d for d in released_documents(ws.config, repo, as_of).documents}


def verify_lines(runner, root, expect=1):
    out = invoke(runner, root, "verify", expect=expect).output
    return [line for line in out.splitlines() if not line.startswith("    fix:")]


# -- the cycle -----------------------------------------------------------------------------------

def test_full_revision_cycle(runner, released_repo):
    out = open_revision(runner, released_repo).output
    assert out == f"QP-SH-001 A/1 is open as a draft in {PROC}\n"
    text = read(released_repo)
    assert "revision: A/1\nstatus: draft" in text and "approvals" not in text and "effective:" not in text
    assert "summary: 增加电话回访要求\n    by: 孙小雨" in text
    replace_in(released_repo, "24 小时内响应", "12 小时内响应")
    assert invoke(runner, released_repo, "submit", "QP-SH-001").output == "QP-SH-001 A/1 is in review\n"
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核").output
    assert out == "QP-SH-001 A/1: 审核 signed by 林慧 (审核中)\n"
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准").output
    assert out == "QP-SH-001 A/1: 批准 signed by 周立新 (已批准)\n"
    out = invoke(runner, released_repo, "release", "QP-SH-001", "--effective", "2026-11-21").output
    assert out.startswith("QP-SH-001 A/1 effective 2026-11-21 (commit ")
    assert out.rstrip().endswith("tag QP-SH-001/A1)")
    assert "QP-SH-001/A1" in git(released_repo, "tag").split()
    message = git(released_repo, "tag", "-n20", "QP-SH-001/A1")
    assert "批准: 周立新" in message and "sha256:" in message
    assert verify_lines(runner, released_repo, expect=0) == ["verified: the record is intact"]
    doc = published(released_repo, dt.date(2026, 11, 21))["QP-SH-001"]
    assert doc.revision == "A/1" and "12 小时内响应" in doc.body
    old = published(released_repo, dt.date(2026, 11, 20))["QP-SH-001"]
    assert old.revision == "A/0" and "24 小时内响应" in old.body


def test_draft_on_main_does_not_leak(runner, released_repo):
    open_revision(runner, released_repo)
    replace_in(released_repo, "24 小时内响应", "草稿内容不得发布")
    git(released_repo, "commit", "-qam", "work in progress")
    doc = published(released_repo, dt.date(2026, 11, 20))["QP-SH-001"]
    assert doc.revision == "A/0" and "草稿内容不得发布" not in doc.body


def test_future_effective_date_is_not_yet_current(runner, released_repo):
    open_revision(runner, released_repo)
    complete_revision(runner, released_repo, effective="2026-12-01")
    assert published(released_repo, dt.date(2026, 11, 20))["QP-SH-001"].revision == "A/0"
    assert published(released_repo, dt.date(2026, 12, 1))["QP-SH-001"].revision == "A/1"
    table = invoke(runner, released_repo, "register", "--as-of", "2026-11-25", "--format", "csv").output
    assert "QP-SH-001,客户投诉处理程序,程序文件,A/0,生效" in table


def test_major_revision_and_after_nine(runner, released_repo):
    open_revision(runner, released_repo, major=True)
    assert "revision: B/0" in read(released_repo)


def test_obsolete_removes_from_force_and_number_never_reused(runner, released_repo):
    out = invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "并入新版表单").output
    assert out == "QR-SH-001 is withdrawn (作废)\n"
    assert "QR-SH-001" not in published(released_repo, dt.date(2026, 11, 20))
    new = invoke(runner, released_repo, "new", "form", "新表单", "--author", "孙小雨").output
    assert new == "forms/QR-SH-002-新表单.md\n"


def test_history_merges_record_and_git(runner, released_repo):
    open_revision(runner, released_repo)
    complete_revision(runner, released_repo)
    out = invoke(runner, released_repo, "history", "QP-SH-001").output.splitlines()
    assert out[0] == "QP-SH-001 客户投诉处理程序"
    assert out[1].startswith("  A/0  2026-11-16  全文: 首次发布  (编制 孙小雨, 批准 陈国华; released 2026-11-20 in ")
    assert out[2].startswith("  A/1  2026-11-20  全文: 增加电话回访要求  (编制 孙小雨, 批准 周立新; released 2026-11-20 in ")
    everything = invoke(runner, released_repo, "history").output
    assert everything.count("released 2026-11-20") == 4


def test_due_lists_documents_whose_review_is_near(runner, released_repo, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", "2027-11-01T09:00:00+08:00")
    out = invoke(runner, released_repo, "due", "--within", "30d").output
    assert out.splitlines()[-1] == "3 documents due for review within 30 days"
    assert "2027-11-20  QP-SH-001  客户投诉处理程序  A/0" in out
    out = invoke(runner, released_repo, "due", "--within", "5").output
    assert out == "0 documents due for review within 5 days\n"


# -- refusals ------------------------------------------------------------------------------------

def test_approve_refusals(runner, repo):
    def refused(*args):
        return invoke(runner, repo, "approve", "QP-SH-001", *args, expect=1).output

    assert refused("--as", "路人甲", "--role", "审核") == (
        "error: 路人甲 is not in the roster, so cannot sign\n    fix: add the person to doccontrol.yml `people:`\n")
    assert refused("--as", "林慧", "--role", "批准").startswith(
        "error: 林慧 (质量部经理) may not sign 批准 for a procedure\n    fix: who may: 陈国华, 周立新")
    assert refused("--as", "孙小雨", "--role", "审核").startswith("error: 孙小雨 (文控员) may not sign 审核")
    assert refused("--as", "周立新", "--role", "批准").startswith(
        f"error: {PROC}:7: QP-SH-001 needs its 审核 signature before 批准")
    manual = invoke(runner, repo, "approve", "QM-SH-01", "--as", "周立新", "--role", "批准", expect=1).output
    assert manual.startswith("error: 周立新 (管理者代表) may not sign 批准 for a manual\n    fix: who may: 陈国华")


def test_preparer_may_not_sign(runner, repo):
    replace_in(repo, "name: 孙小雨", "name: 林慧")
    git(repo, "commit", "-qam", "prepared by 林慧")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", expect=1).output
    assert out.startswith("error: 林慧 prepared QP-SH-001 A/0 and may not sign it")


def test_signature_refused_after_content_changed(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    replace_in(repo, "24 小时内响应", "36 小时内响应")
    git(repo, "commit", "-qam", "sneaky edit")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准", expect=1).output
    assert out.startswith(f"error: {PROC}:7: QP-SH-001 changed after 林慧 signed 审核; the signature no longer matches")


def test_commands_refuse_over_uncommitted_changes(runner, repo):
    replace_in(repo, "24 小时内响应", "未提交的修改")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", expect=1).output
    assert out == (f"error: cannot approve: uncommitted changes in {PROC}\n"
                   "    fix: commit them (for a draft: `doccontrol submit`), or undo them with git restore\n")
    assert "未提交的修改" in read(repo)


def test_unrelated_uncommitted_work_is_left_alone(runner, repo):
    write(repo, "notes.txt", "我的笔记")
    replace_in(repo, "顾客问题处理表", "顾客问题处理表（改）", "forms/QR-SH-001-顾客问题处理表.md")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    status = git(repo, "-c", "core.quotepath=false", "status", "--porcelain")
    assert "?? notes.txt" in status and " M forms/QR-SH-001-顾客问题处理表.md" in status
    assert (repo / "notes.txt").read_text(encoding="utf-8") == "我的笔记"


def test_release_refuses_incomplete_approval_and_early_date(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    out = invoke(runner, repo, "release", "QP-SH-001", expect=1).output
    assert out.startswith(f"error: {PROC}:7: QP-SH-001 is 审核中 (review); only a document that is 已批准 (approved) can be released")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    out = invoke(runner, repo, "release", "QP-SH-001", "--effective", "2026-11-01", expect=1).output
    assert out.startswith("error: effective date 2026-11-01 is before the approval on 2026-11-20")


def test_revise_refuses_a_document_not_effective(runner, repo):
    out = invoke(runner, repo, "revise", "QP-SH-001", "--reason", "x", "--author", "孙小雨", expect=1).output
    assert "only an effective document can be revised" in out


# -- tampering, caught by verify or check --------------------------------------------------------

def test_edit_after_approval_caught_by_check_and_verify(runner, released_repo):
    replace_in(released_repo, "24 小时内响应", "72 小时内响应")
    git(released_repo, "commit", "-qam", "quiet change")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert "content changed after 周立新 signed 审核 (fingerprint mismatch) [edited-after-approval]" in out


def test_released_content_changed_in_history_is_caught(runner, released_repo):
    """Someone amends the release commit's content and re-points the tag: the signatures no longer match."""
    replace_in(released_repo, "24 小时内响应", "72 小时内响应")
    git(released_repo, "commit", "-q", "--amend", "-a", "--no-edit")
    git(released_repo, "tag", "-f", "-a", "-m", "forged", "QP-SH-001/A0")
    lines = verify_lines(runner, released_repo)
    assert any("does not match what 周立新 signed (审核) [edited-after-approval]" in l for l in lines)


@pytest.mark.parametrize("signer, expected", [
    ("王五", "批准 signed by 王五, who is not in the roster [signer-roster]"),
    ("林慧", "林慧 may not sign 批准 for a procedure [signer-role]"),  # in the roster, but only for 审核
], ids=["outsider", "without-the-role"])
def test_approval_added_by_hand(runner, repo, signer, expected):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    text = read(repo)
    sig = text[text.index("  - role: 审核"):text.index("---", 10)]
    forged = sig.replace("role: 审核", "role: 批准").replace("林慧", signer)
    replace_in(repo, sig, sig + forged)
    replace_in(repo, "status: review", "status: approved")
    out = invoke(runner, repo, "check", expect=1).output
    assert expected in out


def test_self_approval_caught_in_released_history(runner, released_repo):
    replace_in(released_repo, "  - role: 审核\n    name: 周立新", "  - role: 审核\n    name: 孙小雨")
    git(released_repo, "commit", "-qam", "rewrite signer")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert "孙小雨 prepared this revision and also signed it as 审核 [self-approval]" in out


def test_tag_deleted_or_moved(runner, released_repo):
    git(released_repo, "tag", "-d", "QP-SH-001/A0")
    git(released_repo, "tag", "-f", "-a", "-m", "moved", "QR-SH-001/A0", "HEAD~1")
    lines = verify_lines(runner, released_repo)
    assert "QP-SH-001/A0:1: error: release tag QP-SH-001/A0 is missing [tag-missing]" in lines
    assert any(l.startswith("QR-SH-001/A0:1: error: tag QR-SH-001/A0 points at ") and l.endswith("[tag-moved]")
               for l in lines)


def test_history_rewritten_so_a_release_is_gone(runner, released_repo):
    git(released_repo, "reset", "-q", "--soft", "HEAD~1")
    git(released_repo, "commit", "-qm", "squash the release away")
    lines = verify_lines(runner, released_repo)
    assert any("QP-SH-001 A/0 is recorded as released, but its release is not in the git history [release-lost]" in l
               for l in lines)
    assert any("tag QP-SH-001/A0 names a release that is not in the history of HEAD [tag-orphan]" in l for l in lines)


def test_effective_date_moved_before_approval(runner, released_repo):
    replace_in(released_repo, "effective: 2026-11-20", "effective: 2026-11-01")
    git(released_repo, "commit", "-qam", "backdate")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert "生效 date 2026-11-01 is before 批准 date 2026-11-20 [date-order]" in out


def test_two_branches_allocate_the_same_number(runner, repo):
    """Two clones allocate QR-SH-002 independently; the merge holds two documents with one number."""
    form = (repo / "forms/QR-SH-001-顾客问题处理表.md").read_text(encoding="utf-8").replace("QR-SH-001", "QR-SH-002")
    git(repo, "checkout", "-q", "-b", "other")
    write(repo, "forms/QR-SH-002-分支甲的表单.md", form)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "branch form")
    git(repo, "checkout", "-q", "main")
    write(repo, "forms/QR-SH-002-主干的表单.md", form)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main form")
    git(repo, "merge", "-q", "--no-edit", "other")
    out = invoke(runner, repo, "check", expect=1).output
    assert ("forms/QR-SH-002-主干的表单.md:2: error: number QR-SH-002 is also used by "
            "forms/QR-SH-002-分支甲的表单.md [number-duplicate]") in out


def test_new_after_two_branches_skips_numbers_on_any_branch(runner, repo):
    git(repo, "checkout", "-q", "-b", "other")
    invoke(runner, repo, "new", "form", "分支表单", "--author", "孙小雨")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "branch form")
    git(repo, "checkout", "-q", "main")
    assert invoke(runner, repo, "new", "form", "主干表单", "--author", "孙小雨").output == "forms/QR-SH-003-主干表单.md\n"


def test_release_a_second_document_leaves_first_tag_alone(runner, repo):
    write(repo, "procedures/QP-SH-002-另一程序.md", PROCEDURE.replace("QP-SH-001", "QP-SH-002").replace("客户投诉处理程序", "另一程序"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add")
    for number in ("QP-SH-001", "QP-SH-002"):
        invoke(runner, repo, "approve", number, "--as", "林慧", "--role", "审核")
        invoke(runner, repo, "approve", number, "--as", "周立新", "--role", "批准")
        invoke(runner, repo, "release", number)
    assert sorted(git(repo, "tag").split()) == ["QP-SH-001/A0", "QP-SH-002/A0"]
    assert verify_lines(runner, repo, expect=0) == ["verified: the record is intact"]


def test_plain_clone_keeps_the_record_and_tags_can_be_restored(runner, released_repo, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(released_repo), str(clone)], check=True)
    assert git(clone, "tag") == ""
    assert published(clone, dt.date(2026, 11, 20))["QP-SH-001"].revision == "A/0"
    lines = verify_lines(runner, clone)
    assert "QP-SH-001/A0:1: error: release tag QP-SH-001/A0 is missing [tag-missing]" in lines
    out = invoke(runner, clone, "verify", "--restore-tags").output
    assert out == "restored 3 release tags\nverified: the record is intact\n"


def test_without_history_only_self_evidently_approved_documents_publish(runner, released_repo, tmp_path):
    from doccontrol.publication import NO_HISTORY_NOTICE, in_force

    open_revision(runner, released_repo)
    export = tmp_path / "export"
    shutil.copytree(released_repo, export, ignore=shutil.ignore_patterns(".git"))
    publication = in_force(Workspace(export).config, dt.date(2026, 11, 20))
    assert publication.notice == NO_HISTORY_NOTICE
    assert sorted(d.number for d in publication.documents) == ["QM-SH-01", "QR-SH-001"]
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released_repo}", str(shallow)], check=True)
    assert in_force(Workspace(shallow).config, dt.date(2026, 11, 20)).notice == NO_HISTORY_NOTICE


def test_a_shallow_clone_publishes_approved_files_and_says_so(runner, released_repo, tmp_path):
    import zipfile

    from doccontrol.publication import NO_HISTORY_NOTICE

    open_revision(runner, released_repo)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released_repo}", str(shallow)], check=True)
    built = invoke(runner, shallow, "build", "--out", str(tmp_path / "site"))
    assert built.stderr == f"notice: {NO_HISTORY_NOTICE}\n"
    assert built.stdout == f"built 2 documents into {tmp_path / 'site'}\n"
    assert (tmp_path / "site" / "QR-SH-001" / "index.html").is_file()
    assert not (tmp_path / "site" / "QP-SH-001").exists()
    packed = invoke(runner, shallow, "pack", "--out", str(tmp_path / "pack.zip"))
    assert packed.stderr == f"notice: {NO_HISTORY_NOTICE}\n"
    manifest = json.loads(zipfile.ZipFile(tmp_path / "pack.zip").read("manifest.json"))
    assert {(f["number"], f["commit"]) for f in manifest["files"] if f["number"]} == {("QM-SH-01", None),
                                                                                      ("QR-SH-001", None)}
