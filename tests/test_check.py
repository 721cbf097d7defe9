"""Each rule of `doccontrol check`, on a real repository, as the user reads it."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FORM, PROCEDURE, front, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"


def edit(root: Path, rel: str, old: str, new: str):
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def findings(runner, root, *args, expect=1) -> list[str]:
    out = invoke(runner, root, "check", *args, expect=expect).output
    return [line for line in out.splitlines() if not line.startswith("    fix:")]


def test_duplicate_numbers(runner, repo):
    write(repo, "procedures/QP-SH-001-另一个程序.md", PROCEDURE.replace("客户投诉处理程序", "另一个程序"))
    out = findings(runner, repo)
    assert ("procedures/QP-SH-001-另一个程序.md:2: error: number QP-SH-001 is also used by "
            "procedures/QP-SH-001-客户投诉处理程序.md [number-duplicate]") in out


def test_number_must_match_type_folder_and_file_name(runner, repo):
    write(repo, "procedures/QP-SH-1-短号.md", PROCEDURE.replace("QP-SH-001", "QP-SH-1"))
    write(repo, "forms/QP-SH-002-放错目录.md", PROCEDURE.replace("QP-SH-001", "QP-SH-002"))
    write(repo, "procedures/QP-SH-003-名字不对.md", PROCEDURE.replace("number: QP-SH-001", "number: QP-SH-004"))
    out = findings(runner, repo)
    assert ("procedures/QP-SH-1-短号.md:2: error: number QP-SH-1 does not match the procedure numbering scheme "
            "(e.g. QP-SH-001) [number-pattern]") in out
    assert "forms/QP-SH-002-放错目录.md:2: error: a procedure belongs in procedures/, not forms/ [number-folder]" in out
    assert ("procedures/QP-SH-003-名字不对.md:2: error: file name does not start with the document's number "
            "QP-SH-004 [number-file-name]") in out


def test_reference_to_missing_number_in_metadata_and_text(runner, repo):
    edit(repo, PROC, "并填写 QR-SH-001。", "并填写 QR-SH-009。")
    out = findings(runner, repo)
    assert ("procedures/QP-SH-001-客户投诉处理程序.md:36: error: QR-SH-009 (in the text) is not a document "
            "in this repository [reference-missing]") in out


def test_reference_to_obsolete_document_warns(runner, released_repo):
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "合并到新表单", "--as", "陈国华")
    out = findings(runner, released_repo, expect=0)
    assert ("procedures/QP-SH-001-客户投诉处理程序.md:13: warning: QR-SH-001 (in references) is obsolete (作废) "
            "[reference-obsolete]") in out
    assert findings(runner, released_repo, "--strict", expect=1)[-1] == "checked 3 documents: 2 errors, 0 warnings"


def test_effective_without_a_signed_release(runner, repo):
    edit(repo, PROC, "status: review", "status: effective\neffective: 2026-11-20")
    out = findings(runner, repo)
    assert ("procedures/QP-SH-001-客户投诉处理程序.md:7: error: status is effective, but the signed record says "
            "QP-SH-001 A/0 is review [status-record]") in out


def _signed(runner, root):
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")


def test_edit_after_approval_is_detected(runner, repo):
    _signed(runner, repo)
    edit(repo, PROC, "24 小时内响应", "48 小时内响应")
    out = findings(runner, repo)
    assert ("procedures/QP-SH-001-客户投诉处理程序.md:7: error: content changed after its approval "
            "(fingerprint mismatch) [edited-after-approval]") in out


def test_edit_of_metadata_after_approval_is_detected_too(runner, repo):
    _signed(runner, repo)
    edit(repo, PROC, "name: 孙小雨", "name: 林慧")
    out = findings(runner, repo)
    assert any("[edited-after-approval]" in line for line in out)


def test_dates_out_of_order(runner, repo):
    _signed(runner, repo)
    edit(repo, PROC, "date: 2026-11-16\nreview_months", "date: 2026-11-25\nreview_months")
    out = findings(runner, repo)
    assert any("审核 date 2026-11-20 is before 编制 date 2026-11-25 [date-order]" in line for line in out)


def test_history_row_missing_for_current_revision(runner, repo):
    edit(repo, PROC, "revision: A/0\nstatus", "revision: A/1\nstatus")
    out = findings(runner, repo)
    assert any("the revision record has no row for the current revision A/1 [history-missing]" in line for line in out)


def test_revision_out_of_sequence(runner, repo):
    edit(repo, PROC, "revision: A/0\nstatus", "revision: A/3\nstatus")
    edit(repo, PROC, "    by: 孙小雨\n---", "    by: 孙小雨\n  - revision: A/3\n    date: 2026-11-17\n"
                                            "    section: 全文\n    summary: 跳号\n    by: 孙小雨\n---")
    out = findings(runner, repo)
    assert any("revision A/3 does not follow A/0 [revision-sequence]" in line for line in out)


def test_review_overdue_warns(runner, released_repo, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", "2028-01-01T09:00:00+08:00")
    out = findings(runner, released_repo, expect=0)
    assert any("warning: periodic review was due on 2027-11-20 [review-overdue]" in line for line in out)


def test_list_nesting_that_renderers_disagree_on_warns(runner, repo):
    draft = PROCEDURE.replace("QP-SH-001", "QP-SH-002").replace("status: review", "status: draft")
    write(repo, "procedures/QP-SH-002-草稿程序.md",
          draft.replace("- 电话投诉\n    - 当场登记", "- 电话投诉\n  - 当场登记"))
    out = findings(runner, repo, expect=0)
    assert ("procedures/QP-SH-002-草稿程序.md:39: warning: nested list item indented by 2 spaces; "
            "the site and Word read it differently [list-indent]") in out


def test_form_needs_retention(runner, repo):
    edit(repo, "forms/QR-SH-001-顾客问题处理表.md", "retention: 3年\n", "")
    out = findings(runner, repo)
    assert "forms/QR-SH-001-顾客问题处理表.md:4: error: a form needs a retention period [retention-missing]" in out


def test_unknown_clause_and_uncovered_required_clause(runner, repo):
    edit(repo, PROC, "clauses: [GB27922-6.3, ISO9001-7.5]", "clauses: [GB27922-99]")
    edit(repo, "docs/QM-SH-01-售后服务手册/index.md", "clauses: [GB27922-6.3]", "clauses: []")
    out = findings(runner, repo)
    assert ("procedures/QP-SH-001-客户投诉处理程序.md:13: error: clause GB27922-99 is not in the clause catalogue "
            "[clause-unknown]") in out
    assert ("clauses.yml:1: warning: required clause GB27922-6.3 (投诉处理) is answered by no document "
            "[clause-uncovered]") in out


def test_all_findings_reported_together(runner, repo):
    write(repo, "forms/QR-SH-002-坏表.md",
          FORM.replace("QR-SH-001", "QR-SH-002").replace("revision: A/0", "revision: 03"))
    write(repo, "forms/QR-SH-003-又一个.md",
          front("QR-SH-003", "又一个", "form", extra="retention: 3年\nrevison: A/0\n"))
    out = findings(runner, repo)
    assert "forms/QR-SH-002-坏表.md:6: error: revision: expected text, got the number 3 [schema]" in out
    assert "forms/QR-SH-003-又一个.md:15: error: revison: unknown key [schema]" in out
    assert out[-1] == "checked 3 documents: 3 errors, 0 warnings"


def test_a_private_key_anywhere_but_demo_keys_is_an_error(runner, repo):
    import shutil

    from conftest import KEYS

    shutil.copy(KEYS["林慧"], repo / "backup.txt")
    out = findings(runner, repo)
    assert ("backup.txt:1: error: this file holds private key material; a private key never belongs in the "
            "repository (anyone who can read it can sign as its owner) [private-key]") in out
    (repo / "backup.txt").unlink()
    text = (repo / PROC).read_text(encoding="utf-8") + "\n" + KEYS["林慧"].read_text() + "\n"
    (repo / PROC).write_text(text, encoding="utf-8")
    assert any(line.startswith(f"{PROC}:1: error: this file holds private key material")
               for line in findings(runner, repo))
    (repo / PROC).write_text(text.split("-----BEGIN")[0], encoding="utf-8")
    (repo / "demo-keys").mkdir()
    shutil.copy(KEYS["林慧"], repo / "demo-keys" / "林慧")
    assert not any("[private-key]" in line for line in findings(runner, repo, expect=0))
    out = invoke(runner, repo, "verify").output
    assert ("DEMONSTRATION KEYS: the private keys of 林慧 are published in demo-keys/; anyone can sign as them, so "
            "their signatures prove nothing outside this demonstration") in out


# -- characters only the fingerprint reads as line breaks -------------------------------------------

LINE_BREAK_CHARACTERS = {"\u2028": "U+2028 LINE SEPARATOR", "\u2029": "U+2029 PARAGRAPH SEPARATOR",
                         "\x85": "U+0085 NEXT LINE", "\x0b": "U+000B LINE TABULATION", "\x0c": "U+000C FORM FEED",
                         "\x1c": "U+001C FILE SEPARATOR", "\x1e": "U+001E RECORD SEPARATOR"}
LINE_BREAK_MESSAGE = ("{name}: the fingerprint reads it as a line break, but the site and the Word copy do not, so "
                      "what was approved and what is shown could differ [line-break-character]")


def test_characters_the_fingerprint_reads_as_line_breaks_are_refused(runner, repo):
    """normalise_text splits with str.splitlines(); the renderers split at \\n only."""
    text = (repo / PROC).read_text(encoding="utf-8")
    lines = text.split("\n")
    body_lines = [i for i, line in enumerate(lines) if line.startswith("## ")]
    for (char, _), index in zip(LINE_BREAK_CHARACTERS.items(), body_lines):
        lines[index] += char + "隐藏的文字"
    lines[2] = lines[2] + "\u2028"  # in the front matter (the title)
    (repo / PROC).write_text("\n".join(lines), encoding="utf-8")
    out = invoke(runner, repo, "check", expect=1).output
    for name, index in zip(LINE_BREAK_CHARACTERS.values(), body_lines):
        assert f"{PROC}:{index + 1}: error: " + LINE_BREAK_MESSAGE.format(name=name) in out
    assert f"{PROC}:3: error: " + LINE_BREAK_MESSAGE.format(name="U+2028 LINE SEPARATOR") in out
    assert "fix: replace it with a line break, or remove it" in out


def test_a_released_text_with_such_a_character_is_never_published(runner, released_repo, tmp_path, monkeypatch):
    """A heading id approved, then the line break after it turned into U+2028 (the same fingerprint) and released
    by an earlier version (or a modified client) that let it through: verify names it, the document is held back."""
    from doccontrol import loader

    from conftest import git

    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "补充", "--author", "孙小雨")
    edit(released_repo, PROC, "## 5 相关文件\n\n无", "## 5 相关文件 {#complaints-after-24h-are-rejected}\n无")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    edit(released_repo, PROC, "rejected}\n无", "rejected}\u2028无")
    git(released_repo, "commit", "-qam", "line end")
    with monkeypatch.context() as earlier:
        earlier.setattr(loader, "line_break_lookalikes", lambda path, text: iter(()))
        invoke(runner, released_repo, "release", "QP-SH-001")
    shutil.rmtree(released_repo / ".doccontrol-cache")  # what the earlier version parsed (its code differs)
    verified = invoke(runner, released_repo, "verify", expect=1).output
    assert ("signatures/QP-SH-001.jsonl:8: error: the release of QP-SH-001 A/1 by 孙小雨: in commit ") in verified
    assert (f", {PROC}:55: U+2028 LINE SEPARATOR: the fingerprint reads it as a line break, but the site and the Word "
            "copy do not, so what was approved and what is shown could differ; the released text is never published "
            "(replace it with a line break, or remove it) [record-content]\n    fix: revise the document (doccontrol "
            "revise), correct the text, and approve and release the new revision") in verified
    out = tmp_path / "site"
    built = invoke(runner, released_repo, "build", "--out", str(out)).output
    assert "held back: QP-SH-001 is not published: the release of QP-SH-001 A/1" in built
    assert not (out / "QP-SH-001").exists()
    assert "are-rejected" not in "".join(page.read_text(encoding="utf-8") for page in out.rglob("*.html"))
