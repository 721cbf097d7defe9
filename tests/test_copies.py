"""Controlled copies: issue numbered copies to holders, recall them when a revision changes, keep the register."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"


@pytest.fixture
def holders_repo(runner, released_repo) -> Path:
    config = (released_repo / "doccontrol.yml").read_text(encoding="utf-8")
    write(released_repo, "doccontrol.yml", config + "holders: [售后服务部, 维修中心, 苏州工业园区服务网点]\n")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    return released_repo


def test_issue_revise_release_recall_return(runner, holders_repo, tmp_path):
    out = invoke(runner, holders_repo, "issue", "QP-SH-001", "QR-SH-001", "--holder", "维修中心", "--copies", "2",
                 "--out", str(tmp_path / "copies")).output.splitlines()
    assert out[:4] == ["QP-SH-001#01  QP-SH-001 A/0 客户投诉处理程序 → 维修中心",
                       "QP-SH-001#02  QP-SH-001 A/0 客户投诉处理程序 → 维修中心",
                       "QR-SH-001#01  QR-SH-001 A/0 顾客问题处理表 → 维修中心",
                       "QR-SH-001#02  QR-SH-001 A/0 顾客问题处理表 → 维修中心"]
    files = sorted(p.name for p in (tmp_path / "copies").iterdir())
    assert "QP-SH-001-A0-客户投诉处理程序-受控-分发号02.docx" in files
    assert "QP-SH-001-A0-客户投诉处理程序-受控-分发号02.pdf" in files  # LibreOffice is installed for the tests
    pdf = tmp_path / "copies" / "QP-SH-001-A0-客户投诉处理程序-受控-分发号02.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) >= 2 and all("分发号 02" in page and "维修中心" in page for page in pages)
    assert not any("非受控" in page for page in pages)
    register = json.loads(invoke(runner, holders_repo, "copies", "--format", "json").output)
    assert [(r["copy"], r["state"]) for r in register] == [("QP-SH-001#01", "在用"), ("QP-SH-001#02", "在用"),
                                                          ("QR-SH-001#01", "在用"), ("QR-SH-001#02", "在用")]
    assert "0 controlled copies to recall" in invoke(runner, holders_repo, "recall").output
    invoke(runner, holders_repo, "revise", "QP-SH-001", "--reason", "时限调整", "--author", "孙小雨")
    invoke(runner, holders_repo, "submit", "QP-SH-001")
    invoke(runner, holders_repo, "approve", "QP-SH-001", "--role", "审核", "--as", "林慧")
    invoke(runner, holders_repo, "approve", "QP-SH-001", "--role", "批准", "--as", "周立新")
    invoke(runner, holders_repo, "release", "QP-SH-001")
    out = invoke(runner, holders_repo, "recall").output
    assert out == ("维修中心\n"
                   "  QP-SH-001#01  QP-SH-001 A/0 客户投诉处理程序  recall by 2026-11-25\n"
                   "  QP-SH-001#02  QP-SH-001 A/0 客户投诉处理程序  recall by 2026-11-25\n"
                   "2 controlled copies to recall\n")
    done = invoke(runner, holders_repo, "recall", "--done", "QP-SH-001#01", "--done", "QP-SH-001#02",
                  "--outcome", "destroyed").output
    assert done == "QP-SH-001#01 returned (destroyed)\nQP-SH-001#02 returned (destroyed)\n"
    table = invoke(runner, holders_repo, "copies", "--holder", "维修中心").output
    assert "销毁" in table and "分发号" in table and "领用部门或接收单位" in table
    out = invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "维修中心", "--out",
                 str(tmp_path / "c2")).output
    assert out.startswith("QP-SH-001#03  QP-SH-001 A/1")  # a copy number is never reused
    assert invoke(runner, holders_repo, "check").output.endswith("0 errors, 0 warnings\n")
    assert invoke(runner, holders_repo, "verify").output.splitlines()[-1].startswith("verified: the record is intact")


def test_copies_out_past_the_grace_period_are_warned_and_due(runner, holders_repo, tmp_path, monkeypatch):
    invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "售后服务部", "--out", str(tmp_path / "c"))
    invoke(runner, holders_repo, "obsolete", "QP-SH-001", "--reason", "合并", "--as", "陈国华")
    monkeypatch.setenv("DOCCONTROL_NOW", "2026-12-01T09:00:00+08:00")
    out = invoke(runner, holders_repo, "check").output
    assert ("controlled copy QP-SH-001#01 (售后服务部) of QP-SH-001 A/0 should have been recalled by 2026-11-25 "
            "[copy-overdue]") in out
    assert "QP-SH-001#01  recall from 售后服务部" in invoke(runner, holders_repo, "due").output


def test_issue_refusals(runner, holders_repo, tmp_path):
    out = invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "隔壁公司", "--out", str(tmp_path),
                 expect=1).output
    assert "隔壁公司 is not a holder of controlled copies" in out and "维修中心" in out
    out = invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "维修中心", "--as", "林慧",
                 "--out", str(tmp_path), expect=1).output
    assert "林慧 may not issue controlled copies" in out
    invoke(runner, holders_repo, "revise", "QP-SH-001", "--reason", "x", "--author", "孙小雨")
    invoke(runner, holders_repo, "submit", "QP-SH-001")
    out = invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "维修中心", "--out", str(tmp_path)).output
    assert "QP-SH-001 A/0" in out  # the revision in force, never the draft


def test_copy_numbers_stay_unique_when_issued_at_once(runner, holders_repo, tmp_path):
    processes = [subprocess.Popen([sys.executable, "-m", "doccontrol", "--repo", str(holders_repo), "issue",
                                   "QR-SH-001", "--holder", "维修中心", "--out", str(tmp_path / f"o{k}")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(4)]
    results = [(p.wait(timeout=300), p.stdout.read()) for p in processes]
    assert all(code == 0 for code, _ in results), results
    serials = sorted(line.split()[0] for _, out in results for line in out.splitlines() if "#" in line.split()[0])
    assert serials == ["QR-SH-001#01", "QR-SH-001#02", "QR-SH-001#03", "QR-SH-001#04"]


def test_the_site_never_lists_holders_and_the_pack_carries_the_register(runner, holders_repo, tmp_path):
    import zipfile

    invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "苏州工业园区服务网点", "--out", str(tmp_path / "c"))
    invoke(runner, holders_repo, "build", "--out", str(tmp_path / "site"))
    assert not any("苏州工业园区服务网点" in p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    invoke(runner, holders_repo, "pack", "--out", str(tmp_path / "pack.zip"))
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        register = archive.read("文件发放回收登记表.csv").decode("utf-8-sig")
    assert "QP-SH-001" in register and "苏州工业园区服务网点" in register
    assert git(holders_repo, "status", "--porcelain") == ""


def test_the_packs_register_is_the_proven_record_not_the_working_ledger(runner, holders_repo, tmp_path):
    """A signed issue line that is in the working tree but in no commit (here: its commit undone) is not in the
    history, so the pack, which publishes only what the history proves, leaves it out of the register."""
    import zipfile

    invoke(runner, holders_repo, "issue", "QP-SH-001", "--holder", "苏州工业园区服务网点", "--out", str(tmp_path / "c"))
    ledger = holders_repo / "signatures" / "QP-SH-001.jsonl"
    issued = ledger.read_bytes()
    git(holders_repo, "reset", "-q", "--hard", "HEAD~1")
    ledger.write_bytes(issued)
    invoke(runner, holders_repo, "pack", "--out", str(tmp_path / "pack.zip"))
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        name = "文件发放回收登记表.csv"
        register = archive.read(name).decode("utf-8-sig") if name in archive.namelist() else ""
    assert "苏州工业园区服务网点" not in register
    assert "苏州工业园区服务网点" in invoke(runner, holders_repo, "copies").output  # the working record shows it
