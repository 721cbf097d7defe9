"""The command line as a user sees it: help, exit codes, exact output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from doccontrol.cli import cli

from conftest import git, init_repo, invoke, write


def all_commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("command", all_commands())
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: cli {command}") or result.output.startswith("Usage: ")
    doc = cli.commands[command].help
    assert doc and len(doc.strip()) > 20, f"{command} has no real help text"


def test_python_dash_m_works(repo):
    result = subprocess.run([sys.executable, "-m", "doccontrol", "--repo", str(repo), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("checked 3 documents: 0 errors, 0 warnings")


def test_check_clean_repository(runner, repo):
    result = invoke(runner, repo, "check")
    assert result.output == "checked 3 documents: 0 errors, 0 warnings\n"


def test_check_json_is_stable(runner, repo):
    path = repo / "procedures/QP-SH-001-客户投诉处理程序.md"
    path.write_text(path.read_text(encoding="utf-8").replace("references: [QR-SH-001]", "references: [QR-SH-404]"),
                    encoding="utf-8")
    result = invoke(runner, repo, "check", "--format", "json", expect=1)
    data = json.loads(result.output)
    assert data["version"] == 1
    assert data["documents"] == 3
    finding = next(f for f in data["findings"] if f["rule"] == "reference-missing")
    assert finding == {
        "path": "procedures/QP-SH-001-客户投诉处理程序.md",
        "line": 12,
        "rule": "reference-missing",
        "severity": "error",
        "message": "QR-SH-404 (in references) is not a document in this repository",
        "fix": "correct the number, or create the document with `doccontrol new`",
    }


def test_usage_error_exits_2(runner, repo):
    result = runner.invoke(cli, ["--repo", str(repo), "check", "--format", "xml"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["--repo", str(repo), "frobnicate"])
    assert result.exit_code == 2


def test_not_a_repository_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(cli, ["--repo", str(tmp_path), "check"])
    assert result.exit_code == 1
    assert result.output.startswith("error: the configuration is not valid\n"
                                    "doccontrol.yml:1: error: no doccontrol.yml in")
    assert "Traceback" not in result.output


def test_new_allocates_next_number_and_writes_template(runner, repo):
    result = invoke(runner, repo, "new", "procedure", "备件管理程序",
                    "--department", "仓储物流部", "--author", "孙小雨")
    assert result.output == "procedures/QP-SH-002-备件管理程序.md\n"
    text = (repo / "procedures/QP-SH-002-备件管理程序.md").read_text(encoding="utf-8")
    assert 'title: "备件管理程序"' in text and "## 4 工作程序" in text and "status: draft" in text
    assert invoke(runner, repo, "check").output.endswith("0 errors, 0 warnings\n")


def test_new_never_reuses_a_number_seen_in_history(runner, repo):
    write(repo, "forms/QR-SH-007-旧表单.md", "x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a form that was later deleted")
    git(repo, "rm", "-q", "forms/QR-SH-007-旧表单.md")
    git(repo, "commit", "-qm", "delete it")
    result = invoke(runner, repo, "new", "form", "新表单", "--author", "孙小雨")
    assert result.output == "forms/QR-SH-008-新表单.md\n"


def test_new_manual_is_a_folder(runner, tmp_path):
    root = init_repo(tmp_path / "r", with_manual=False)
    result = invoke(runner, root, "new", "manual", "质量手册", "--author", "林慧")
    assert result.output == "docs/QM-SH-01-质量手册/index.md\n"


def test_new_refuses_unknown_author(runner, repo):
    result = invoke(runner, repo, "new", "form", "表", "--author", "路人甲", expect=1)
    assert result.output == ("error: 路人甲 is not in the roster\n"
                             "    fix: pass --author with a name from doccontrol.yml `people:`\n")


def test_register_formats(runner, released_repo):
    table = invoke(runner, released_repo, "register").output
    assert table.splitlines()[0].split() == ["文件编号", "文件名称", "类别", "版本/修改码", "状态", "编制部门",
                                             "生效日期", "下次评审日期"]
    assert "QP-SH-001  客户投诉处理程序  程序文件  A/0" in table
    csv_out = invoke(runner, released_repo, "register", "--format", "csv").output.splitlines()
    assert csv_out[2] == "QP-SH-001,客户投诉处理程序,程序文件,A/0,生效,质量部,2026-11-20,2027-11-20"
    rows = json.loads(invoke(runner, released_repo, "register", "--format", "json").output)
    assert [r["number"] for r in rows] == ["QM-SH-01", "QP-SH-001", "QR-SH-001"]
    md = invoke(runner, released_repo, "register", "--format", "md").output
    assert md.splitlines()[1].startswith("| --- |")


def test_show(runner, released_repo):
    out = invoke(runner, released_repo, "show", "QP-SH-001").output
    assert "编号: QP-SH-001\n名称: 客户投诉处理程序\n类别: 程序文件 (procedure)\n" in out
    assert "审核: 林慧 2026-11-20" not in out
    assert "批准: 陈国华 2026-11-20" in out
    assert "状态: 生效 (effective)" in out
    missing = invoke(runner, released_repo, "show", "QP-SH-999", expect=1).output
    assert missing == ("error: no document numbered QP-SH-999\n"
                       "    fix: run `doccontrol register` to list the documents\n")


def test_new_defaults_the_author_to_git_user(runner, repo):
    assert invoke(runner, repo, "new", "form", "登记表").output == "forms/QR-SH-002-登记表.md\n"
    assert "name: \"孙小雨\"" in (repo / "forms/QR-SH-002-登记表.md").read_text(encoding="utf-8")
    git(repo, "config", "user.name", "Someone Else")
    out = invoke(runner, repo, "new", "form", "另一表", expect=1).output
    assert out.startswith("error: Someone Else is not in the roster")


def test_the_script_leaves_with_the_commands_status_and_all_it_printed(runner, repo):
    """`main` ends the process without tearing the heap down (cli.leave): the exit status is still the command's
    and nothing printed is lost, on stdout or stderr, when both are pipes."""
    path = repo / "procedures/QP-SH-001-客户投诉处理程序.md"
    path.write_text(path.read_text(encoding="utf-8").replace("references: [QR-SH-001]", "references: [QR-SH-404]"),
                    encoding="utf-8")

    def script(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "doccontrol", *args], capture_output=True, text=True)

    failed = script("--repo", str(repo), "check", "--format", "json")
    assert failed.returncode == 1
    assert failed.stdout == invoke(runner, repo, "check", "--format", "json", expect=1).output
    assert any(item["rule"] == "reference-missing" for item in json.loads(failed.stdout)["findings"])
    usage = script("--no-such-option")
    assert usage.returncode == 2 and usage.stderr.endswith("Error: No such option '--no-such-option'.\n")
    helped = script("build", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: doccontrol build [OPTIONS]")
    assert helped.stdout.endswith("  -h, --help          Show this message and exit.\n")
    assert "Traceback" not in failed.stderr + usage.stderr + helped.stderr
