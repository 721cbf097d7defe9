"""Change control on real git repositories with real SSH keys: the cycle, refusals, and the record."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from doccontrol.signing import load_signer
from doccontrol.workspace import Workspace

from conftest import KEYS, PROCEDURE, git, invoke, public_key, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
LEDGER = "signatures/QP-SH-001.jsonl"


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
    return {d.number: d for d in Workspace(root).in_force(as_of).documents}


def verify_lines(runner, root, expect=1):
    out = invoke(runner, root, "verify", expect=expect).output
    return [line for line in out.splitlines() if not line.startswith("    fix:")]


def ledger_lines(root: Path, rel: str = LEDGER) -> list[dict]:
    return [json.loads(line) for line in read(root, rel).splitlines()]


def key_fingerprint(name: str) -> str:
    return load_signer(str(KEYS[name])).public.fingerprint


# -- the cycle -----------------------------------------------------------------------------------

def test_full_revision_cycle(runner, released_repo):
    out = open_revision(runner, released_repo).output
    assert out == f"QP-SH-001 A/1 is open as a draft in {PROC}\n"
    text = read(released_repo)
    assert "revision: A/1\nstatus: draft" in text and "effective:" not in text
    assert "summary: 增加电话回访要求\n    by: 孙小雨" in text
    replace_in(released_repo, "24 小时内响应", "12 小时内响应")
    git(released_repo, "commit", "-qam", "draft A/1")
    assert invoke(runner, released_repo, "submit", "QP-SH-001").output == "QP-SH-001 A/1 is in review\n"
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核").output
    assert out == f"QP-SH-001 A/1: 审核 signed by 林慧 (key {key_fingerprint('林慧')[:19]}…) (审核中)\n"
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--role", "批准", "--key", str(KEYS["周立新"])).output
    assert out.startswith("QP-SH-001 A/1: 批准 signed by 周立新 (key SHA256:") and out.endswith("(已批准)\n")
    out = invoke(runner, released_repo, "release", "QP-SH-001", "--effective", "2026-11-21").output
    assert out == "QP-SH-001 A/1 effective 2026-11-21 (tag QP-SH-001/A1)\n"
    assert "QP-SH-001/A1" in git(released_repo, "tag").split()
    kinds = [(line["statement"]["kind"], line["statement"].get("role"), line["statement"]["name"])
             for line in ledger_lines(released_repo)]
    assert kinds[-4:] == [("submit", None, "孙小雨"), ("approval", "review", "林慧"), ("approval", "approve", "周立新"),
                          ("release", None, "孙小雨")]
    submit = ledger_lines(released_repo)[-4]["statement"]
    assert submit["base"]["revision"] == "A/0" and submit["base"]["fingerprint"].startswith("sha256:")
    assert all(line["signature"].startswith("-----BEGIN SSH SIGNATURE-----") for line in ledger_lines(released_repo))
    lines = verify_lines(runner, released_repo, expect=0)
    assert lines[-1].startswith("verified: the record is intact; 17 signatures verified cryptographically "
                                "against configuration version 1 (anchor sha256:")
    doc = published(released_repo, dt.date(2026, 11, 21))["QP-SH-001"]
    assert doc.revision == "A/1" and "12 小时内响应" in doc.body
    assert [(s.role, s.name) for s in doc.approvals] == [("review", "林慧"), ("approve", "周立新")]
    assert doc.approvals[0].key == key_fingerprint("林慧")[:19]
    old = published(released_repo, dt.date(2026, 11, 20))["QP-SH-001"]
    assert old.revision == "A/0" and "24 小时内响应" in old.body


def test_signatures_verify_with_ssh_keygen_too(runner, released_repo, tmp_path):
    """An auditor without doccontrol checks a statement with OpenSSH alone."""
    line = ledger_lines(released_repo)[-1]
    statement = json.dumps(line["statement"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    (tmp_path / "statement").write_bytes(statement.encode("utf-8"))
    (tmp_path / "statement.sig").write_text(line["signature"], encoding="utf-8")
    pub = Path(str(KEYS["孙小雨"]) + ".pub").read_text(encoding="utf-8").split()
    (tmp_path / "allowed").write_text(f"孙小雨 {pub[0]} {pub[1]}\n", encoding="utf-8")
    done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "孙小雨",
                           "-n", "doccontrol", "-s", str(tmp_path / "statement.sig")],
                          input=(tmp_path / "statement").read_bytes(), capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith('Good "doccontrol" signature for 孙小雨 with ED25519 key')


@pytest.fixture
def six_in_workers(monkeypatch):
    """Six good signatures of 林慧 and one forged (her good signature over other bytes), with workers started
    from four signatures on, two signatures each."""
    from doccontrol import signing

    monkeypatch.setattr(signing, "SIGNATURES_PER_WORKER", 2)
    monkeypatch.setattr(signing, "_worker_count", lambda count: 2 if count >= 4 else 1)
    signer = load_signer(str(KEYS["林慧"]))
    statements = [f'{{"kind":"approve","n":{index}}}'.encode() for index in range(6)]
    signed = [(data, signer.sign(data)) for data in statements]
    return signer, statements, signed, (b'{"kind":"approve","n":99}', signed[0][1])


def test_signatures_verified_in_worker_processes_keep_only_the_good_ones(six_in_workers):
    """A cold verify of thousands checks signatures in one process per core; a forged one among them still
    fails, with the reason, and is never remembered."""
    from doccontrol import signing

    signer, _, signed, forged = six_in_workers
    verifier = signing.Verifier()
    verifier.verify_all([*signed, forged])
    assert verifier.added == 6 and len(verifier.known) == 6
    assert {verifier.key_of(data, armored) for data, armored in signed} == {signer.public.fingerprint}
    with pytest.raises(signing.InvalidSignature):
        verifier.key_of(*forged)


def test_signatures_verified_in_the_background_count_only_after_waiting(six_in_workers):
    """The proof starts the workers and reads the history meanwhile: nothing is known before `wait`, and after it
    a forged signature (good signature, other bytes) or a signature moved to another statement still fails."""
    from doccontrol import signing

    _, statements, signed, forged = six_in_workers
    swapped = (statements[1], signed[2][1])
    verifier = signing.Verifier()
    batch = verifier.start([*signed, forged, swapped])
    assert not verifier.known
    batch.wait()
    batch.wait()
    assert verifier.added == 6 and len(verifier.known) == 6
    for bad in (forged, swapped):
        with pytest.raises(signing.InvalidSignature):
            verifier.key_of(*bad)


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


def test_register_shows_what_is_in_force_today_and_apart_what_is_pending(runner, released_repo):
    open_revision(runner, released_repo)
    table = invoke(runner, released_repo, "register").output
    in_force, pending = table.split("\n待生效与在办（尚未生效，不在受控清单内）\n\n")
    assert "QP-SH-001  客户投诉处理程序  程序文件  A/0          生效" in in_force
    assert "QP-SH-001  客户投诉处理程序  程序文件  A/1          草稿" in pending
    assert "A/1" not in in_force and "QR-SH-001" not in pending
    complete_revision(runner, released_repo, effective="2026-12-01")
    table = invoke(runner, released_repo, "register").output
    assert "A/0          生效" in table.split("待生效与在办")[0]
    assert "A/1          已发布，2026-12-01 生效" in table.split("待生效与在办")[1]
    assert invoke(runner, released_repo, "register", "--format", "csv").output.count("QP-SH-001") == 1
    rows = json.loads(invoke(runner, released_repo, "register", "--format", "json").output)
    assert [(r["number"], r["revision"], r["in_force"]) for r in rows if r["number"] == "QP-SH-001"] == [
        ("QP-SH-001", "A/0", True), ("QP-SH-001", "A/1", False)]


def test_major_revision(runner, released_repo):
    open_revision(runner, released_repo, major=True)
    assert "revision: B/0" in read(released_repo)


def test_obsolete_removes_from_force_and_number_never_reused(runner, released_repo):
    out = invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "并入新版表单", "--as", "陈国华").output
    assert out == "QR-SH-001 is withdrawn (作废)\n"
    statement = ledger_lines(released_repo, "signatures/QR-SH-001.jsonl")[-1]["statement"]
    assert (statement["kind"], statement["name"], statement["reason"]) == ("withdrawal", "陈国华", "并入新版表单")
    publication = Workspace(released_repo).in_force(dt.date(2026, 11, 20))
    assert "QR-SH-001" not in {d.number for d in publication.documents}
    withdrawn = [(c.number, c.kind, c.reason) for c in publication.withdrawn]
    assert withdrawn == [("QR-SH-001", "withdrawal", "并入新版表单")]
    new = invoke(runner, released_repo, "new", "form", "新表单", "--author", "孙小雨").output
    assert new == "forms/QR-SH-002-新表单.md\n"


def test_withdrawal_needs_approval_authority(runner, released_repo):
    out = invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "不再使用", expect=1).output
    assert "孙小雨 may not withdraw a form (withdrawal needs 批准 authority)" in out
    assert "status: effective" in read(released_repo, "forms/QR-SH-001-顾客问题处理表.md")


def test_history_shows_what_the_record_says(runner, released_repo):
    open_revision(runner, released_repo)
    complete_revision(runner, released_repo)
    out = invoke(runner, released_repo, "history", "QP-SH-001").output.splitlines()
    assert out[0] == "QP-SH-001 客户投诉处理程序"
    assert out[1] == ("  A/0  2026-11-16  全文: 首次发布  (编制 孙小雨; released 2026-11-20 by 孙小雨, effective "
                      "2026-11-20; 审核 周立新 2026-11-20T10:00:00+08:00, 批准 陈国华 2026-11-20T10:00:00+08:00)")
    assert out[2].startswith("  A/1  2026-11-20  全文: 增加电话回访要求  (编制 孙小雨; released 2026-11-20 by 孙小雨")


def test_return_to_draft_lets_the_author_change_a_document_in_review(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    out = invoke(runner, repo, "return", "QP-SH-001", "--reason", "时限写错", "--as", "林慧").output
    assert out == "QP-SH-001 A/0 is a draft again\n"
    assert "status: draft" in read(repo)
    replace_in(repo, "24 小时内响应", "12 小时内响应")
    git(repo, "commit", "-qam", "fix the time limit")
    invoke(runner, repo, "submit", "QP-SH-001")
    assert Workspace(repo).find("QP-SH-001").approvals == ()  # the earlier 审核 lapsed with the return
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    invoke(runner, repo, "release", "QP-SH-001")
    assert invoke(runner, repo, "check").output.endswith("0 errors, 0 warnings\n")


def test_due_lists_documents_whose_review_is_near(runner, released_repo, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", "2027-11-01T09:00:00+08:00")
    out = invoke(runner, released_repo, "due", "--within", "30d").output
    assert out.splitlines()[-1] == "3 documents due for review within 30 days"
    assert "2027-11-20  QP-SH-001  客户投诉处理程序  A/0" in out


# -- refusals ------------------------------------------------------------------------------------

def test_approve_refusals(runner, repo):
    def refused(*args):
        return invoke(runner, repo, "approve", "QP-SH-001", *args, expect=1).output

    assert refused("--as", "林慧", "--role", "批准").startswith(
        f"error: {PROC}:7: QP-SH-001 A/0: 林慧 may not sign 批准 for a procedure of 质量部 (in configuration "
        "version 1: 周立新, 陈国华)")
    assert refused("--as", "孙小雨", "--role", "审核").startswith(
        f"error: {PROC}:7: QP-SH-001 A/0: 孙小雨 may not sign 审核 for a procedure of 质量部")
    assert "the 批准 of QP-SH-001 A/0 by 周立新 comes before any 审核" in refused("--as", "周立新", "--role", "批准")
    assert refused("--as", "林慧", "--role", "签字") == (
        "error: '签字' is not a signing role\n"
        "    fix: use --role 审核, 会签 or 批准 (or review, countersign, approve)\n")
    manual = invoke(runner, repo, "approve", "QM-SH-01", "--as", "周立新", "--role", "批准", expect=1).output
    assert "周立新 may not sign 批准 for a manual" in manual
    assert read(repo, LEDGER).count("\n") == 1  # only the submission: nothing was written


def test_as_someone_else_is_refused(runner, repo):
    """The insider's forgery of issue 13: --as names a signer whose key the insider does not hold."""
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核",
                 "--key", str(KEYS["林慧"]), expect=1).output
    assert out.startswith("error: the key SHA256:")
    assert "belongs to 林慧, not 周立新; you can sign only as yourself" in out
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核", "--key",
                 str(KEYS["孙小雨"]), expect=1).output
    assert "belongs to 孙小雨, not 周立新" in out
    git(repo, "config", "--unset", "user.signingkey")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--role", "审核", "--key", "", expect=1).output
    assert "no signing key given" in out or "cannot read the signing key" in out
    assert read(repo, LEDGER).count("\n") == 1


def test_a_key_outside_the_roster_cannot_sign(runner, repo, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    out = invoke(runner, repo, "approve", "QP-SH-001", "--role", "审核", "--key", str(stranger), expect=1).output
    assert "is not in the roster (configuration version 1)" in out


def test_one_person_may_not_sign_both_review_and_approval(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准", expect=1).output
    assert "周立新 signed both 审核 and 批准 of A/0" in out


def test_department_limited_review_right(runner, repo):
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "赵明", "--role", "审核", expect=1).output
    assert "赵明 may not sign 审核 for a procedure of 质量部" in out


def test_signature_refused_after_content_changed(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    replace_in(repo, "24 小时内响应", "36 小时内响应")
    git(repo, "commit", "-qam", "sneaky edit")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准", expect=1).output
    assert "content changed after its approval (fingerprint mismatch) [edited-after-approval]" in out


def test_commands_refuse_over_uncommitted_changes(runner, repo):
    replace_in(repo, "24 小时内响应", "未提交的修改")
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", expect=1).output
    assert "[edited-after-approval]" in out
    assert "未提交的修改" in read(repo)
    git(repo, "checkout", "--", PROC)
    write(repo, "forms/QR-SH-001-顾客问题处理表.md", read(repo, "forms/QR-SH-001-顾客问题处理表.md") + "\n备注\n")
    out = invoke(runner, repo, "approve", "QR-SH-001", "--as", "林慧", "--role", "审核", expect=1).output
    assert out.startswith("error: QR-SH-001 cannot be signed: fix its errors first")


def test_unrelated_uncommitted_work_is_left_alone(runner, repo):
    write(repo, "notes.txt", "我的笔记")
    replace_in(repo, "顾客问题处理表", "顾客问题处理表（改）", "forms/QR-SH-001-顾客问题处理表.md")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    status = git(repo, "-c", "core.quotepath=false", "status", "--porcelain")
    assert "?? notes.txt" in status and " M forms/QR-SH-001-顾客问题处理表.md" in status


def test_release_refuses_incomplete_approval_and_early_date(runner, repo):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    out = invoke(runner, repo, "release", "QP-SH-001", expect=1).output
    assert out.startswith(f"error: {PROC}:7: QP-SH-001 is 审核中 (review); only a document that is 已批准 (approved) "
                          "can be released")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    out = invoke(runner, repo, "release", "QP-SH-001", "--effective", "2026-11-01", expect=1).output
    assert "makes it effective on 2026-11-01, before the release itself (2026-11-20)" in out
    out = invoke(runner, repo, "release", "QP-SH-001", "--as", "林慧", expect=1).output
    assert "林慧 may not release a procedure (孙小雨 may)" in out


def test_only_the_preparer_submits(runner, released_repo):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "调整", "--author", "林慧")
    out = invoke(runner, released_repo, "submit", "QP-SH-001", expect=1).output
    assert "was prepared by 林慧; only the preparer submits it, and you are 孙小雨" in out
    invoke(runner, released_repo, "submit", "QP-SH-001", "--as", "林慧")


@pytest.mark.parametrize("value, problem", [
    ("第一行\nDoccontrol-Release: QP-SH-001 A/9 2026-01-01 x", "a line break"),
    ("原因\u2028第二段", "a line break"),
    ("原因\u202e反向", "the control character U+202E"),
    ("很" * 401, "401 characters long; at most 400"),
], ids=["newline-trailer", "u2028", "bidi", "too-long"])
def test_values_bound_for_statements_and_commits_are_checked_first(runner, repo, value, problem):
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", "--comment", value,
                 expect=1).output
    assert problem in out
    out = invoke(runner, repo, "return", "QP-SH-001", "--as", "林慧", "--reason", value, expect=1).output
    assert problem in out
    assert read(repo, LEDGER).count("\n") == 1 and "status: review" in read(repo)
    assert "Doccontrol" not in git(repo, "log", "--format=%B")


def test_a_name_with_a_line_break_cannot_enter_the_roster(runner, repo):
    config = read(repo, "doccontrol.yml").replace("  林慧:\n", '  "林慧\\nDoccontrol-Release: x":\n', 1)
    write(repo, "doccontrol.yml", config)
    out = invoke(runner, repo, "check", expect=1).output
    assert "contains a line break" in out and "doccontrol.yml" in out


LOOKALIKES = {
    "zero-width-space": ("林慧\u200b", "contains U+200B ZERO WIDTH SPACE, an invisible character; remove it"),
    "word-joiner": ("林\u2060慧", "contains U+2060 WORD JOINER, an invisible character; remove it"),
    "soft-hyphen": ("林\u00ad慧", "contains U+00AD SOFT HYPHEN, an invisible character; remove it"),
    "kangxi-radical": ("周\u2f74新", "contains U+2F74 KANGXI RADICAL STAND, which stands for '立' (U+7ACB); "
                                     "write '立' instead"),
}


@pytest.mark.parametrize("case", sorted(LOOKALIKES))
def test_a_name_that_hides_or_imitates_a_character_cannot_enter_the_roster(runner, repo, case):
    """Two people who look the same on every signature and cover: the second one is refused."""
    twin, problem = LOOKALIKES[case]
    config = read(repo, "doccontrol.yml")
    impostor = config[config.index("  林慧:\n"):config.index("  孙小雨:\n")].replace("林慧", twin, 1)
    impostor = impostor.replace(f"keys: ['{public_key('林慧')}']", f"keys: ['{public_key('赵明')}']")
    write(repo, "doccontrol.yml", config.replace("  赵明:\n", impostor + "  赵明:\n", 1)
          .replace(f"keys: ['{public_key('赵明')}']\n    rights: {{review: [procedure@",
                   "keys: []\n    rights: {review: [procedure@"))
    out = invoke(runner, repo, "check", expect=1).output
    assert f"doccontrol.yml:32: error: people: name '{twin}' {problem} [config-schema]" in out


@pytest.mark.parametrize("field, text, problem", [
    ("department", "    department: 质量部\u200b\n",
     "people.林慧.department: contains U+200B ZERO WIDTH SPACE, an invisible character; remove it"),
    ("holders", "holders: [售后服务部\u2060一组]\n", "holders: holder 1: contains U+2060 WORD JOINER, an invisible "
                                                   "character; remove it"),
    ("rights", "    rights: {review: [procedure@质量\u00ad部]}\n", "review: the department in 'procedure@质量\u00ad部' "
                                                                  "contains U+00AD SOFT HYPHEN"),
], ids=["department", "holder", "rights-department"])
def test_departments_and_holders_refuse_hidden_characters(runner, repo, field, text, problem):
    config = read(repo, "doccontrol.yml")
    lines = config.split("\n")
    if field == "holders":
        config += text
    else:
        start = lines.index("  林慧:")
        key = text.split(":")[0] + ":"
        at = next(i for i in range(start, len(lines)) if lines[i].startswith(key))
        lines[at] = text.rstrip("\n")
        config = "\n".join(lines)
    write(repo, "doccontrol.yml", config)
    assert problem in invoke(runner, repo, "check", expect=1).output


@pytest.mark.parametrize("first, second", [("Ｌin", "Lin"), ("艾力·买买提", "艾力・买买提")],
                         ids=["full-width letter", "middle dot"])
def test_two_names_that_read_the_same_are_refused(runner, repo, first, second):
    config = read(repo, "doccontrol.yml").replace("  孙小雨:\n", f"  {first}:\n    position: 文员\n  {second}:\n"
                                                  "    position: 文员\n  孙小雨:\n", 1)
    write(repo, "doccontrol.yml", config)
    out = invoke(runner, repo, "check", expect=1).output
    assert (f"people: '{first}' and '{second}' read as the same name; each person on the roster needs a name of "
            "their own") in out


def test_a_statement_signed_in_a_lookalike_name_does_not_count(runner, repo):
    """A modified client signs with a real key in a name that shows as 林慧: the line is refused, naming the
    character."""
    from doccontrol.statements import canonical, parse_statement

    data = json.loads(read(repo, LEDGER).splitlines()[0])["statement"]
    data.update(kind="approval", role="review", meaning="审核：内容适宜", name="林\u2060慧",
                at="2026-11-24T11:00:00+08:00")
    with pytest.raises(Exception) as refused:
        parse_statement(data)
    assert "name: Value error, contains U+2060 WORD JOINER, an invisible character; remove it" in str(refused.value)
    line = {"statement": data, "signature": load_signer(str(KEYS["林慧"])).sign(canonical(data))}
    write(repo, LEDGER, read(repo, LEDGER) + json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    out = invoke(runner, repo, "check", expect=1).output
    assert ("signatures/QP-SH-001.jsonl:2: error: statement is not valid: name: Value error, contains U+2060 WORD "
            "JOINER, an invisible character; remove it [ledger-format]") in out


def test_a_failed_commit_puts_the_files_back_so_a_retry_works(runner, repo):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    before = (read(repo), read(repo, LEDGER))
    out = invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", expect=1).output
    assert "the commit failed, so nothing was changed" in out
    assert (read(repo), read(repo, LEDGER)) == before
    hook.unlink()
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")


# -- forgeries, caught by check, verify and the publishing commands ----------------------------------

def _append_statement(root: Path, statement: dict, signature: str | None, rel: str = LEDGER) -> None:
    line = {"statement": statement} | ({"signature": signature} if signature is not None else {})
    with open(root / rel, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")


def _sign_with(name: str, statement: dict) -> str:
    data = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return load_signer(str(KEYS[name])).sign(data)


def _forged_approval(root: Path, role: str, name: str) -> dict:
    review = ledger_lines(root)[-1]["statement"]
    return dict(review, role=role, name=name, meaning="批准：同意发布实施" if role == "approve" else review["meaning"])


def test_a_hand_written_approval_does_not_count(runner, repo, tmp_path):
    """Issue 13: recompute the fingerprint, write the approval by hand: without the signer's key it proves nothing."""
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    forged = _forged_approval(repo, "approve", "陈国华")
    _append_statement(repo, forged, ledger_lines(repo)[-1]["signature"])  # 林慧's signature copied over
    by_lin = dict(forged, at="2026-11-20T10:00:01+08:00")
    _append_statement(repo, by_lin, _sign_with("林慧", by_lin))
    _append_statement(repo, dict(forged, at="2026-11-20T10:00:02+08:00"), None)
    replace_in(repo, "status: review", "status: approved")
    git(repo, "commit", "-qam", "approve by hand")
    out = invoke(runner, repo, "check", expect=1).output
    assert "the signature of 陈国华 does not verify: the statement was changed after signing, or forged" in out
    assert "the statement names 陈国华 but was signed with 林慧's key" in out
    assert "the statement by 陈国华 is not signed (the policy requires signatures)" in out
    assert "status is approved, but the signed record says QP-SH-001 A/0 is review [status-record]" in out
    out = invoke(runner, repo, "release", "QP-SH-001", expect=1).output
    assert "cannot be released: fix its errors first" in out


def test_the_old_approvals_block_is_refused_with_a_fix(runner, repo):
    replace_in(repo, "history:", "approvals:\n  - role: 批准\n    name: 陈国华\nhistory:")
    out = invoke(runner, repo, "check", expect=1).output
    assert "approvals: signatures are no longer kept in the front matter" in out
    assert "signed statements in signatures/NUMBER.jsonl" in out


def test_a_forged_release_is_held_back_not_published(runner, released_repo, tmp_path):
    """A release written by someone without the right (and a draft marked effective by hand) never publishes."""
    open_revision(runner, released_repo)
    replace_in(released_repo, "24 小时内响应", "伪造的发布内容")
    git(released_repo, "commit", "-qam", "draft")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    submit = ledger_lines(released_repo)[-1]["statement"]
    release = {key: submit[key] for key in ("number", "title", "revision", "path", "fingerprint", "type", "department",
                                            "config")}
    release |= {"kind": "release", "effective": "2026-11-20", "name": "林慧", "at": "2026-11-20T10:00:00+08:00"}
    _append_statement(released_repo, release, _sign_with("林慧", release))
    replace_in(released_repo, "status: review", "status: effective\neffective: 2026-11-20")
    git(released_repo, "commit", "-qam", "release: QP-SH-001 A/1\n\nDoccontrol-Release: QP-SH-001 A/1 2026-11-20 x")
    publication = Workspace(released_repo).in_force(dt.date(2026, 11, 20))
    assert "QP-SH-001" not in {d.number for d in publication.documents}
    assert [f.message for f in publication.held_back] == [
        "QP-SH-001 is not published: 林慧 may not release a procedure (孙小雨 may)"]
    site = tmp_path / "site"
    built = invoke(runner, released_repo, "build", "--out", str(site))
    assert "伪造的发布内容" not in "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert built.stdout.startswith("built 2 documents")
    assert built.stderr.startswith("held back: QP-SH-001 is not published: ")
    out = invoke(runner, released_repo, "publish", "--site", str(tmp_path / "s2"), "--pack", str(tmp_path / "p.zip"),
                 expect=1).output
    assert "nothing was built" in out and not (tmp_path / "s2").exists()
    assert "verify found" in invoke(runner, released_repo, "verify", expect=1).output


def test_an_empty_commit_with_trailers_changes_nothing(runner, released_repo):
    """Issue 14: commit messages are never believed."""
    git(released_repo, "commit", "-q", "--allow-empty", "-m",
        "obsolete\n\nDoccontrol-Obsolete: QP-SH-001 2026-11-20\nDoccontrol-Release: QR-SH-001 A/5 2026-11-20 x.md")
    assert "QP-SH-001" in published(released_repo, dt.date(2026, 11, 20))
    assert verify_lines(runner, released_repo, expect=0)[-1].startswith("verified: the record is intact")


def test_edit_of_an_effective_document_is_caught_even_with_a_recomputed_fingerprint(runner, released_repo, tmp_path):
    replace_in(released_repo, "24 小时内响应", "72 小时内响应")
    git(released_repo, "commit", "-qam", "quiet change")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert ("QP-SH-001 A/0 was changed after its release: the text (or a picture it shows) is not what was approved"
            " [edited-after-release]") in out
    assert "QP-SH-001" in published(released_repo, dt.date(2026, 11, 20))  # from the release commit, unchanged
    assert "24 小时内响应" in published(released_repo, dt.date(2026, 11, 20))["QP-SH-001"].body
    export = tmp_path / "export"
    shutil.copytree(released_repo, export, ignore=shutil.ignore_patterns(".git"))
    publication = Workspace(export).in_force(dt.date(2026, 11, 20), allow_no_history=True)
    assert "QP-SH-001" not in {d.number for d in publication.documents}  # the forged text cannot publish here


def test_released_content_changed_in_history_is_caught(runner, released_repo):
    """Someone amends the release commit's content: the signed fingerprint no longer matches it."""
    replace_in(released_repo, "24 小时内响应", "72 小时内响应")
    git(released_repo, "commit", "-q", "--amend", "-a", "--no-edit")
    lines = verify_lines(runner, released_repo)
    assert any("holds other content than it signs [record-history]" in line for line in lines)
    assert "QP-SH-001" not in published(released_repo, dt.date(2026, 11, 20))


def test_a_rewritten_ledger_line_is_caught(runner, released_repo):
    text = read(released_repo, LEDGER)
    (released_repo / LEDGER).write_text(text.replace("周立新", "林慧", 1), encoding="utf-8")
    git(released_repo, "commit", "-qam", "rewrite the signer")
    lines = verify_lines(runner, released_repo)
    assert any("removed or changed a line of the QP-SH-001 ledger; the record only grows [ledger-rewritten]" in line
               for line in lines)
    assert any("[signature-invalid]" in line for line in lines)


def test_history_rewritten_so_a_release_is_gone(runner, released_repo):
    head = git(released_repo, "rev-parse", "HEAD").strip()
    git(released_repo, "reset", "-q", "--hard", "HEAD~1")  # the release commit is gone
    git(released_repo, "tag", "-f", "-a", "-m", "moved", "QR-SH-001/A0", head)
    out = invoke(runner, released_repo, "verify", expect=0).output
    assert "QP-SH-001" not in published(released_repo, dt.date(2026, 11, 20))
    assert "verified: the record is intact" in out  # nothing released remains to check, and nothing is claimed


def test_tag_missing_is_a_note_and_a_moved_tag_an_error(runner, released_repo):
    git(released_repo, "tag", "-d", "QP-SH-001/A0")
    out = invoke(runner, released_repo, "verify").output
    assert "note: 1 release tags are not in this clone" in out
    git(released_repo, "tag", "-f", "-a", "-m", "moved", "QR-SH-001/A0", "HEAD~1")
    lines = verify_lines(runner, released_repo)
    assert any(line.startswith("QR-SH-001/A0:1: error: tag QR-SH-001/A0 points at ") and line.endswith("[tag-moved]")
               for line in lines)


def test_effective_date_edited_by_hand(runner, released_repo):
    replace_in(released_repo, "effective: 2026-11-20", "effective: 2026-11-01")
    git(released_repo, "commit", "-qam", "backdate")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert "effective date in the file (2026-11-01) differs from the signed release (2026-11-20)" in out


def test_plain_clone_without_tags_verifies_and_tags_can_be_restored(runner, released_repo, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(released_repo), str(clone)], check=True)
    assert git(clone, "tag") == ""
    assert published(clone, dt.date(2026, 11, 20))["QP-SH-001"].revision == "A/0"
    lines = verify_lines(runner, clone, expect=0)
    assert "note: 3 release tags are not in this clone (tags are a convenience; the record does not need them): " \
           "doccontrol verify --restore-tags" in lines
    out = invoke(runner, clone, "verify", "--restore-tags").output
    assert out.startswith("restored 3 release tags\n") and "note:" not in out


def test_squashed_history_and_an_export_without_git_still_verify_every_signature(runner, released_repo, tmp_path):
    open_revision(runner, released_repo)
    complete_revision(runner, released_repo)
    squashed = tmp_path / "squashed"
    shutil.copytree(released_repo, squashed)
    root_commit = git(squashed, "commit-tree", "HEAD^{tree}", "-m", "squash everything").strip()
    git(squashed, "reset", "-q", "--hard", root_commit)
    git(squashed, "tag", "-d", *git(squashed, "tag").split())  # a squash merge carries no tags
    out = invoke(runner, squashed, "verify").output
    assert "the history was squashed: the text of 1 superseded revisions (QP-SH-001 A/0)" in out
    assert "verified: the record is intact; 17 signatures verified cryptographically" in out
    export = tmp_path / "export"
    shutil.copytree(released_repo, export, ignore=shutil.ignore_patterns(".git"))
    out = invoke(runner, export, "verify").output
    assert "no git history here: signatures were verified" in out
    assert "17 signatures verified cryptographically" in out and "without history (order not proven)" in out


def test_without_history_publishing_refuses_unless_allowed(runner, released_repo, tmp_path):
    from doccontrol.publication import NO_HISTORY_NOTICE

    open_revision(runner, released_repo)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released_repo}", str(shallow)], check=True)
    out = invoke(runner, shallow, "build", "--out", str(tmp_path / "site"), expect=1).output
    assert "there is no git history here" in out and "git fetch --unshallow" in out
    assert not (tmp_path / "site").exists()
    built = invoke(runner, shallow, "build", "--allow-no-history", "--out", str(tmp_path / "site"))
    assert built.stderr == f"notice: {NO_HISTORY_NOTICE}\n"
    assert built.stdout.startswith(f"built 2 documents into {tmp_path / 'site'}; ") and built.stdout.count("\n") == 1
    assert not (tmp_path / "site" / "QP-SH-001").exists()  # a draft in the working tree: not published


# -- the roster under control ---------------------------------------------------------------------

def _approve_config(runner, root, name, expect=0):
    git(root, "add", "doccontrol.yml")
    return invoke(runner, root, "config", "approve", "--key", str(KEYS[name]), expect=expect)


def test_a_self_added_person_gains_nothing(runner, repo, tmp_path):
    intruder = tmp_path / "intruder"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(intruder)], check=True)
    public = " ".join((tmp_path / "intruder.pub").read_text().split()[:2])
    config = read(repo, "doccontrol.yml") + (f"  王五:\n    position: 经理\n    keys: ['{public}']\n"
                                              "    rights: {review: [procedure], approve: [procedure]}\n"
                                              "    configure: true\n")
    write(repo, "doccontrol.yml", config)
    assert "[configuration-unapproved]" in invoke(runner, repo, "check").output
    out = invoke(runner, repo, "approve", "QP-SH-001", "--role", "审核", "--key", str(intruder), expect=1).output
    assert "is not in the roster (configuration version 1)" in out
    out = invoke(runner, repo, "config", "approve", "--key", str(intruder), expect=1).output
    assert "is not in the roster" in out
    # Writing the new configuration version by hand, signed with the intruder's own key:
    from doccontrol.statements import content_fingerprint
    ws = Workspace(repo)
    content = ws.config.content()
    anchor = json.loads(read(repo, "signatures/configuration.jsonl").splitlines()[0])["statement"]
    version = {"kind": "configuration", "version": 2, "previous": anchor["fingerprint"],
               "fingerprint": content_fingerprint(content), "content": content, "name": "王五",
               "at": "2026-11-20T10:00:00+08:00", "config": 1}
    data = json.dumps(version, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    _append_statement(repo, version, load_signer(str(intruder)).sign(data), "signatures/configuration.jsonl")
    git(repo, "commit", "-qam", "roster")
    out = invoke(runner, repo, "check", expect=1).output
    assert "王五 may not approve the configuration (in version 1 they have no `configure: true`)" in out
    out = invoke(runner, repo, "approve", "QP-SH-001", "--role", "审核", "--key", str(intruder), expect=1).output
    assert "is not in the roster (configuration version 1)" in out


def test_a_roster_change_counts_from_its_approval_and_past_signatures_stay_valid(runner, released_repo, tmp_path):
    """林慧 leaves (her key is removed); her earlier signatures stay valid, a later one does not count."""
    config = read(released_repo, "doccontrol.yml")
    start = config.index("  林慧:")
    end = config.index("  孙小雨:")
    write(released_repo, "doccontrol.yml", config[:start] + config[end:])
    out = _approve_config(runner, released_repo, "陈国华").output
    assert out.startswith("configuration version 2 approved (sha256:")
    assert verify_lines(runner, released_repo, expect=0)[-1].startswith("verified: the record is intact")
    open_revision(runner, released_repo)
    invoke(runner, released_repo, "submit", "QP-SH-001")
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--role", "审核", "--key", str(KEYS["林慧"]),
                 expect=1).output
    assert "is not in the roster (configuration version 2)" in out
    # Her old key, used by hand with a statement that claims the old roster, is caught:
    submit = ledger_lines(released_repo)[-1]["statement"]
    stale = dict(submit, kind="approval", role="review", meaning="审核：确认内容正确、适用、可执行", name="林慧",
                 config=1, at="2026-11-20T10:00:00+08:00")
    _append_statement(released_repo, stale, _sign_with("林慧", stale))
    git(released_repo, "commit", "-qam", "sign with the old roster")
    lines = verify_lines(runner, released_repo)
    assert any("names configuration version 1, but version 2 had already replaced it when commit" in line
               or "when configuration version 2 had replaced version 1" in line for line in lines)


def test_only_a_person_with_the_configure_right_approves_the_configuration(runner, repo):
    write(repo, "doccontrol.yml",
          read(repo, "doccontrol.yml").replace("company: 测试电器有限公司", "company: 改名公司"))
    out = _approve_config(runner, repo, "周立新", expect=1).output
    assert "周立新 may not approve the configuration (in version 1 they have no `configure: true`)" in out
    assert _approve_config(runner, repo, "陈国华").output.startswith("configuration version 2 approved")
    assert "改名公司" in Workspace(repo).in_force(dt.date(2026, 11, 20)).config.company


def test_publishing_uses_the_approved_configuration_not_the_working_file(runner, released_repo):
    write(released_repo, "doccontrol.yml",
          read(released_repo, "doccontrol.yml").replace("company: 测试电器有限公司", "company: <script>x</script>"))
    publication = Workspace(released_repo).in_force(dt.date(2026, 11, 20))
    assert publication.config.company == "测试电器有限公司"


def test_verify_prints_the_trust_anchor_and_every_key(runner, released_repo):
    out = invoke(runner, released_repo, "verify").output
    anchor = json.loads(read(released_repo, "signatures/configuration.jsonl").splitlines()[0])["statement"]
    assert f"trust anchor: configuration version 1, {anchor['fingerprint']}" in out
    for name in ("陈国华", "周立新", "林慧", "孙小雨"):
        assert f"{name} (" in out and key_fingerprint(name) in out


def test_unsigned_policy_says_so_everywhere(runner, tmp_path):
    from conftest import config_text, init_repo

    root = tmp_path / "small"
    root.mkdir()
    config = config_text(policy="policy:\n  signatures: unsigned\n")
    (root / "doccontrol.yml").write_text(config, encoding="utf-8")
    # The small team's first version is signed by name only.
    root = init_repo_unsigned(tmp_path / "small-team", config)
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核", "--key", "")
    assert json.loads(read(root, LEDGER).splitlines()[-1]).get("signature") is None
    out = invoke(runner, root, "verify").output
    assert "policy unsigned: names only, no keys" in out
    invoke(runner, root, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准", "--key", "")
    invoke(runner, root, "release", "QP-SH-001", "--as", "孙小雨", "--key", "")
    publication = Workspace(root).in_force(dt.date(2026, 11, 20))
    assert publication.unsigned and "signatures are names only" in publication.notice
    assert init_repo is not None


def init_repo_unsigned(root: Path, config: str) -> Path:
    from click.testing import CliRunner

    from conftest import CLAUSES, FORM
    from conftest import PROCEDURE as PROC_TEXT
    root.mkdir(parents=True)
    write(root, "doccontrol.yml", config)
    write(root, "clauses.yml", CLAUSES)
    write(root, PROC, PROC_TEXT.replace("status: review", "status: draft"))
    write(root, "forms/QR-SH-001-顾客问题处理表.md", FORM.replace("status: review", "status: draft"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "孙小雨")
    git(root, "config", "user.email", "sun@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    runner = CliRunner()
    invoke(runner, root, "config", "approve", "--as", "陈国华", "--key", "")
    invoke(runner, root, "submit", "QP-SH-001", "QR-SH-001", "--as", "孙小雨", "--key", "")
    return root


# -- numbering ------------------------------------------------------------------------------------

def test_two_branches_allocate_the_same_number(runner, repo):
    form = read(repo, "forms/QR-SH-001-顾客问题处理表.md").replace("QR-SH-001", "QR-SH-002")
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
    new = invoke(runner, repo, "new", "form", "主干表单", "--author", "孙小雨").output
    assert new == "forms/QR-SH-003-主干表单.md\n"


def test_release_a_second_document_leaves_first_tag_alone(runner, repo):
    write(repo, "procedures/QP-SH-002-另一程序.md",
          PROCEDURE.replace("QP-SH-001", "QP-SH-002").replace("客户投诉处理程序", "另一程序")
          .replace("status: review", "status: draft"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add")
    invoke(runner, repo, "submit", "QP-SH-002")
    for number in ("QP-SH-001", "QP-SH-002"):
        invoke(runner, repo, "approve", number, "--as", "林慧", "--role", "审核")
        invoke(runner, repo, "approve", number, "--as", "周立新", "--role", "批准")
        invoke(runner, repo, "release", number)
    assert sorted(git(repo, "tag").split()) == ["QP-SH-001/A0", "QP-SH-002/A0"]
    assert verify_lines(runner, repo, expect=0)[-1].startswith("verified: the record is intact")


def test_concurrent_signing_commands_are_serialised_and_all_count(runner, repo):
    """Issue 14: twelve approvals and releases at once used to fail on git's index.lock after editing files."""
    import sys

    for k in range(2, 8):
        text = PROCEDURE.replace("QP-SH-001", f"QP-SH-00{k}").replace("客户投诉处理程序", f"程序{k}")
        write(repo, f"procedures/QP-SH-00{k}-程序{k}.md", text.replace("status: review", "status: draft"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "six more procedures")
    invoke(runner, repo, "submit", *[f"QP-SH-00{k}" for k in range(2, 8)])

    def run_all(role_args):
        processes = [subprocess.Popen([sys.executable, "-m", "doccontrol", "--repo", str(repo), *args],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for args in role_args]
        return [(p.wait(timeout=120), p.stderr.read()) for p in processes]

    numbers = [f"QP-SH-00{k}" for k in range(1, 8)]
    reviews = run_all([["approve", n, "--role", "审核", "--key", str(KEYS["林慧"])] for n in numbers]
                      + [["approve", "QP-SH-001", "--role", "审核", "--key", str(KEYS["林慧"])]] * 5)
    assert sorted(code for code, _ in reviews) == [0] * 7 + [1] * 5, reviews
    assert all("already signed 审核" in err for code, err in reviews if code)
    approvals = run_all([["approve", n, "--role", "批准", "--key", str(KEYS["周立新"])] for n in numbers])
    assert [code for code, _ in approvals] == [0] * 7, approvals
    releases = run_all([["release", n] for n in numbers] + [["release", "QP-SH-001"]])
    assert sorted(code for code, _ in releases) == [0] * 7 + [1], releases
    assert git(repo, "status", "--porcelain") == ""
    assert invoke(runner, repo, "check").output.endswith("0 errors, 0 warnings\n")
    assert verify_lines(runner, repo, expect=0)[-1].startswith("verified: the record is intact")


def test_a_document_released_before_the_signed_record_is_adopted_by_signing_it_as_it_stands(runner, tmp_path):
    """A company that moves in (or the shipped set) brings documents in force whose approvals are on paper."""
    from conftest import init_repo

    root = init_repo(tmp_path / "legacy", with_manual=False, submit=False)
    legacy = read(root, PROC).replace("status: draft", "status: effective\neffective: 2026-11-16")
    write(root, PROC, legacy)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "documents approved on paper")
    out = invoke(runner, root, "check", expect=1).output
    assert "status is effective, but the signed record says QP-SH-001 A/0 is draft [status-record]" in out
    assert "QP-SH-001" not in published(root, dt.date(2026, 11, 20))
    assert invoke(runner, root, "submit", "QP-SH-001").output == "QP-SH-001 A/0 is in review\n"
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    invoke(runner, root, "release", "QP-SH-001")
    assert published(root, dt.date(2026, 11, 20))["QP-SH-001"].effective == dt.date(2026, 11, 20)
    out = invoke(runner, root, "check").output
    assert "QP-SH-001" not in out


def test_a_withdrawal_made_before_the_signed_record_is_recorded_in_it(runner, tmp_path):
    from conftest import init_repo

    root = init_repo(tmp_path / "legacy", with_manual=False, submit=False)
    form = "forms/QR-SH-001-顾客问题处理表.md"
    write(root, form, read(root, form).replace("status: draft", "status: obsolete\nobsolete_reason: 并入新表单"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "withdrawn on paper")
    invoke(runner, root, "obsolete", "QR-SH-001", "--reason", "并入新表单", "--as", "陈国华")
    publication = Workspace(root).in_force(dt.date(2026, 11, 20))
    withdrawn = [(c.number, c.title, c.kind) for c in publication.withdrawn]
    assert withdrawn == [("QR-SH-001", "顾客问题处理表", "withdrawal")]
    assert invoke(runner, root, "check").output.endswith("0 errors, 2 warnings\n")


def test_a_new_title_renames_the_file_in_the_same_commit(runner, released_repo, tmp_path):
    """Issue 18: after `git mv`, submit used to commit the new file and leave the old one in HEAD."""
    open_revision(runner, released_repo, reason="更名")
    new = "procedures/QP-SH-001-顾客投诉处理程序.md"
    git(released_repo, "mv", PROC, new)
    write(released_repo, new, read(released_repo, new).replace("title: 客户投诉处理程序", "title: 顾客投诉处理程序"))
    invoke(runner, released_repo, "submit", "QP-SH-001")
    assert git(released_repo, "status", "--porcelain") == ""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(released_repo), str(clone)], check=True)
    assert not (clone / PROC).exists() and (clone / new).is_file()
    assert "number-duplicate" not in invoke(runner, clone, "check").output


def test_several_numbers_and_everything_waiting_for_me(runner, released_repo):
    invoke(runner, released_repo, "revise", "QP-SH-001", "QR-SH-001", "--reason", "统一术语", "--author", "孙小雨")
    out = invoke(runner, released_repo, "submit", "--all").output
    assert out == "QP-SH-001 A/1 is in review\nQR-SH-001 A/1 is in review\n"
    out = invoke(runner, released_repo, "approve", "--all", "--role", "审核", "--as", "林慧").output
    assert out.count("审核 signed by 林慧") == 2
    out = invoke(runner, released_repo, "approve", "--all", "--role", "审核", "--as", "林慧", expect=1).output
    assert "nothing is waiting for 林慧 to approve as 审核" in out
    invoke(runner, released_repo, "approve", "--all", "--role", "批准", "--as", "周立新")
    assert invoke(runner, released_repo, "release", "--all").output.count("effective 2026-11-20") == 2
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--all", "--role", "审核", expect=2).output
    assert "give document numbers or --all, not both" in out


def test_a_change_of_metadata_only_is_one_light_step(runner, released_repo):
    out = invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "补充条款对应", "--author", "孙小雨",
                 "--clauses", "GB27922-6.3,ISO9001-7.5", "--review-months", "24", "--submit").output
    assert out == "QP-SH-001 A/1 is in review\n"
    text = read(released_repo)
    assert "review_months: 24" in text and "summary: 补充条款对应" in text and "status: review" in text
    assert git(released_repo, "status", "--porcelain") == ""


def test_the_signer_sees_what_changed_before_signing(runner, released_repo):
    open_revision(runner, released_repo)
    replace_in(released_repo, "24 小时内响应", "12 小时内响应")
    out = invoke(runner, released_repo, "submit", "QP-SH-001", "--diff").output
    assert "A/0 → A/1" in out and "[-24-]{+12+}" in out and out.endswith("QP-SH-001 A/1 is in review\n")
    out = invoke(runner, released_repo, "approve", "QP-SH-001", "--role", "审核", "--as", "林慧", "--diff").output
    assert "[-24-]{+12+}" in out
    base = ledger_lines(released_repo)[-1]["statement"]["base"]
    released = ledger_lines(released_repo)[3]["statement"]
    assert (base["revision"], base["fingerprint"]) == ("A/0", released["fingerprint"])


def test_an_ssh_agent_key_signs_and_leaves_no_key_file_behind(tmp_path, monkeypatch):
    """`user.signingkey = key::…` (the key in ssh-agent): ssh-keygen signs with the agent's key, the signature
    verifies as that key's, and the public key file ssh-keygen needs is gone once it has signed."""
    from doccontrol.signing import Verifier

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    socket = tmp_path / "agent.sock"
    started = subprocess.run(["ssh-agent", "-s", "-a", str(socket)], capture_output=True, text=True, check=True)
    agent = int(re.search(r"SSH_AGENT_PID=([0-9]+)", started.stdout).group(1))
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        subprocess.run(["ssh-add", "-q", str(KEYS["林慧"])], check=True, capture_output=True)
        signer = load_signer("key::" + public_key("林慧"))
        armored = signer.sign(b"the statement")
        assert Verifier().key_of(b"the statement", armored) == signer.public.fingerprint
        assert list(scratch.iterdir()) == []
    finally:
        os.kill(agent, signal.SIGTERM)
