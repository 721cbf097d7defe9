"""`doccontrol import`: a generated mixed set of another company's documents brought under control.

The sources are real files in tmp dirs: Markdown with another tool's front matter, an MkDocs site with
a nav (and a `!!python` tag in its mkdocs.yml), and a .docx written by python-docx. They are imported
through the CLI into a real repository, then read back as a user would: `check`, the files, git, and the
site once a document is adopted into the signed record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import struct
import textwrap
import zlib
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.shared import Inches
from lxml import html as lxml_html

from doccontrol.workspace import Workspace

from conftest import git, init_repo, invoke, write

TODAY = dt.date(2026, 11, 20)  # conftest pins the clock


def png(width: int = 3, height: int = 2) -> bytes:
    """A real (tiny) PNG picture."""
    raw = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


COMPLAINTS = """\
---
title: 客户投诉处理程序
doc_id: SOP-CS-001
version: "2.1"
date: 2025-03-01
effective_date: 2025-03-10
author: 王建国
approved_by: 李明
status: approved
tags: [客服, 投诉]
---

# 客户投诉处理程序

## 目的

规范客户投诉的<b>受理</b>与处理，投诉单号写作 <投诉编号>，客户写作 <客户名称>。

## 职责

客服中心负责受理投诉，记录填入[产品维修记录表](../forms/repair-record.md)。

!!! note "提示"
    投诉须在二十四小时内响应。
    夜间投诉次日上午处理。

=== "电话投诉"
    接线员当场登记并告知处理时限。

=== "邮件投诉"
    当天回复确认邮件。

| 步骤 | 时限 | 说明 |
| --- | --- | --- |
| 受理 | 当天 | 登记<br>分派 |
| 结案 | 五天 | 回访<br/>归档 |

- 投诉分类
  - 产品质量
    - 外观缺陷
  - 服务态度
- 投诉升级

<ul>
<li>升级到经理</li>
<li>升级到总监</li>
</ul>

```mermaid
graph TD; 受理-->结案;
```

![处理流程](../img/flow.png)

本程序原编号 SOP-CS-001，另见 [国家标准](https://example.com/gb27922)。
"""

REPAIR_RECORD = """\
# 产品维修记录表

| 项目 | 内容 |
| --- | --- |
| 客户 | <客户姓名> |
| 故障 | 现象<br>原因 |

依据[投诉程序](../procedures/complaints.md#目的)填写。
"""

MKDOCS_YML = """\
site_name: Old QMS
theme:
  name: material
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
  - pymdownx.emoji:
      emoji_index: !!python/object/apply:os.system ["touch {marker}"]
nav:
  - Home: index.md
  - Procedures:
      - Training: sop/training.md
  - Forms:
      - Attendance sheet: forms/attendance.md
  - Vendor site: https://example.com
"""

TRAINING = """\
---
id: QMS-PR-07
revision: A/1
status: Effective
effective: 2024-05-01
author: Jane Roe
reviewed_by: Sam Poe
history:
  - version: A/0
    date: 2023-01-10
    author: Jane Roe
    changes: First issue
  - version: A/1
    date: 2024-04-20
    changes: Annual review
---
Training Procedure
==================

Every new hire attends the induction and signs the [attendance sheet](../forms/attendance.md).

!!! warning
    Nobody operates the test bench before the induction.

1. Plan the session
   1. book the room
2. Hold the session
"""

ATTENDANCE = """\
# Attendance Sheet

| Name | Signature |
|---|---|
| <name> | <signature> |
"""


def make_docx(path: Path, picture: Path) -> list[str]:
    """A Word document written by python-docx; returns the texts it holds (for the no-loss check)."""
    document = docx.Document()
    document.core_properties.title = "上门维修作业指导书"
    document.add_heading("上门维修作业指导书", 0)
    document.add_heading("1 适用范围", 1)
    document.add_paragraph("适用于空调和洗衣机的上门维修。")
    document.add_heading("2 作业步骤", 1)
    table = document.add_table(rows=3, cols=2)
    rows = [("步骤", "时限"), ("预约", "两小时内"), ("上门", "二十四小时内\n偏远地区四十八小时")]
    for row, (step, time) in enumerate(rows):
        table.cell(row, 0).text = step
        table.cell(row, 1).text = time
    document.add_picture(str(picture), width=Inches(1))
    document.add_paragraph("完成后请客户签字确认。")
    merged = document.add_table(rows=2, cols=3)
    for row, texts in enumerate([("工具", "数量", "备注"), ("万用表", "一台", "校准")]):
        for col, text in enumerate(texts):
            merged.cell(row, col).text = text
    merged.cell(0, 1).merge(merged.cell(0, 2))
    document.save(path)
    return ["上门维修作业指导书", "1 适用范围", "适用于空调和洗衣机的上门维修。", "2 作业步骤", "步骤", "时限", "预约",
            "两小时内", "上门", "二十四小时内", "偏远地区四十八小时", "完成后请客户签字确认。", "工具", "数量", "备注",
            "万用表", "一台", "校准"]


@pytest.fixture
def sources(tmp_path) -> dict:
    """The mixed source set: a Markdown folder, an MkDocs site and a Word file."""
    base = tmp_path / "sources"
    legacy = base / "legacy"
    write(legacy, "procedures/complaints.md", COMPLAINTS)
    write(legacy, "forms/repair-record.md", REPAIR_RECORD)
    write(legacy, "README.md", "# 旧体系文件\n\n说明。\n")
    (legacy / "img").mkdir()
    (legacy / "img" / "flow.png").write_bytes(png())
    site = base / "site"
    marker = tmp_path / "python-tag-ran"
    write(site, "mkdocs.yml", MKDOCS_YML.format(marker=marker))
    write(site, "docs/index.md", "# Welcome\n\nThe old quality site.\n")
    write(site, "docs/sop/training.md", TRAINING)
    write(site, "docs/forms/attendance.md", ATTENDANCE)
    write(site, "docs/orphan.md", "# Orphan\n\nNot in the nav.\n")
    word = base / "word"
    word.mkdir()
    (word / "photo.png").write_bytes(png(8, 8))
    texts = make_docx(word / "上门维修.docx", word / "photo.png")
    return {"legacy": legacy, "site": site, "docx": word / "上门维修.docx", "docx_texts": texts, "marker": marker}


@pytest.fixture
def repo(tmp_path) -> Path:
    return init_repo(tmp_path / "repo", submit=False)


def run_import(runner, root: Path, *args, expect: int = 0):
    return invoke(runner, root, "import", *map(str, args), expect=expect)


def front_and_body(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return front, body


def imported_file(root: Path, number: str) -> Path:
    return Path(root, Workspace(root).find(number).path)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (.git included) with a hash of its bytes."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# -- the plan and --dry-run -----------------------------------------------------------------------

def test_dry_run_prints_the_plan_and_writes_nothing(runner, repo, sources):
    before = snapshot(repo)
    out = run_import(runner, repo, sources["legacy"], sources["site"], sources["docx"].parent, "--dry-run").output
    assert snapshot(repo) == before
    assert out.rstrip().endswith("dry run: nothing was written")
    legacy, site = sources["legacy"], sources["site"]
    assert f"{legacy}/procedures/complaints.md → QP-SH-002 procedure “客户投诉处理程序”" in out
    assert f"{legacy}/forms/repair-record.md → QR-SH-002 form “产品维修记录表”" in out
    assert f"{site}/docs/sop/training.md → QP-SH-003 procedure “Training Procedure”" in out
    assert f"{site}/docs/forms/attendance.md → QR-SH-003 form “Attendance Sheet”" in out
    assert f"{sources['docx']} → QI-SH-001 instruction “上门维修作业指导书”" in out
    assert "type from the title word “程序”" in out and "type from the title word “指导书”" in out
    assert "<br> in table cells" in out and "admonitions made into labelled paragraphs" in out
    assert "content tabs made into headings (2×)" in out
    assert f"attention: {legacy}/procedures/complaints.md:49: a mermaid diagram is kept as a code block" in out
    assert f"attention: {legacy}/procedures/complaints.md: front matter not carried over: tags" in out
    assert f"{legacy}/README.md: not imported (README.md describes its folder" in out
    assert f"{site}/docs/orphan.md: not imported (not in the nav)" in out
    assert f"{site}/docs/index.md: not imported (an index page" in out
    assert "Vendor site" in out and "is not a page of the site" in out


def test_mkdocs_yml_is_read_without_running_its_python_tags(runner, repo, sources):
    run_import(runner, repo, sources["site"], "--dry-run")
    assert not sources["marker"].exists()


# -- the import ---------------------------------------------------------------------------------

def test_a_mixed_set_is_imported_as_drafts_in_one_commit_and_passes_check(runner, repo, sources):
    head = git(repo, "rev-parse", "HEAD").strip()
    out = run_import(runner, repo, sources["legacy"], sources["site"], sources["docx"]).output
    assert re.search(r"imported 5 documents in commit [0-9a-f]{12}", out)
    assert "next: 5 drafts" in out
    assert git(repo, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert git(repo, "status", "--porcelain") == ""
    shown = git(repo, "-c", "core.quotepath=false", "show", "--name-only", "--format=", "HEAD")
    committed = set(shown.split("\n")) - {""}
    assert committed == {
        "procedures/QP-SH-002-客户投诉处理程序.md", "forms/QR-SH-002-产品维修记录表.md",
        "procedures/QP-SH-003-TrainingProcedure.md", "forms/QR-SH-003-AttendanceSheet.md",
        "procedures/QI-SH-001-上门维修作业指导书.md", "images/QP-SH-002/flow.png", "images/QI-SH-001/image1.png"}
    check = invoke(runner, repo, "check").output
    assert check.rstrip().endswith("0 errors, 0 warnings"), check
    ws = Workspace(repo)
    docs = {doc.number: doc for doc in ws.documents()}
    assert {n: (docs[n].status, docs[n].revision, docs[n].prepared.name) for n in
            ("QP-SH-002", "QR-SH-002", "QP-SH-003", "QR-SH-003", "QI-SH-001")} == {
        "QP-SH-002": ("draft", "B/1", "孙小雨"), "QR-SH-002": ("draft", "A/0", "孙小雨"),
        "QP-SH-003": ("draft", "A/1", "孙小雨"), "QR-SH-003": ("draft", "A/0", "孙小雨"),
        "QI-SH-001": ("draft", "A/0", "孙小雨")}


def test_titles_come_from_the_h1_and_the_body_has_none(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["site"], sources["docx"])
    for number, title in [("QP-SH-002", "客户投诉处理程序"), ("QP-SH-003", "Training Procedure"),
                          ("QI-SH-001", "上门维修作业指导书")]:
        doc = Workspace(repo).find(number)
        assert doc.title == title
        assert not re.search(r"^# ", doc.body, re.MULTILINE)
        assert not re.search(r"^=+\s*$", doc.body, re.MULTILINE)
    word = Workspace(repo).find("QI-SH-001").body
    assert "## 1 适用范围" in word and "## 2 作业步骤" in word  # Word's first-level headings, one level down


def test_what_markdown_can_express_is_converted_and_site_syntax_made_portable(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["site"])
    _, body = front_and_body(imported_file(repo, "QP-SH-002"))
    assert "规范客户投诉的**受理**与处理，投诉单号写作 〈投诉编号〉，客户写作 〈客户名称〉。" in body
    assert "| 受理 | 当天 | 登记；分派 |" in body and "| 结案 | 五天 | 回访；归档 |" in body
    assert "**提示：**投诉须在二十四小时内响应。\n夜间投诉次日上午处理。" in body
    assert "### 电话投诉\n\n接线员当场登记并告知处理时限。" in body
    assert "### 邮件投诉\n\n当天回复确认邮件。" in body
    assert "- 投诉分类\n    - 产品质量\n        - 外观缺陷\n    - 服务态度\n- 投诉升级" in body
    assert "- 升级到经理\n- 升级到总监" in body
    assert "```mermaid\ngraph TD; 受理-->结案;\n```" in body
    assert "另见 [国家标准](https://example.com/gb27922)" in body
    assert "<" not in body.replace("-->", "")
    _, english = front_and_body(imported_file(repo, "QP-SH-003"))
    assert "**Warning:** Nobody operates the test bench before the induction." in english
    assert "1. Plan the session\n    1. book the room\n2. Hold the session" in english
    _, sheet = front_and_body(imported_file(repo, "QR-SH-003"))
    assert "| 〈name〉 | 〈signature〉 |" in sheet


def test_links_between_documents_become_their_numbers_and_references(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["site"])
    ws = Workspace(repo)
    complaints, record = ws.find("QP-SH-002"), ws.find("QR-SH-002")
    assert "记录填入产品维修记录表（QR-SH-002）。" in complaints.body
    assert "依据投诉程序（QP-SH-002）填写。" in record.body
    assert "本程序原编号 QP-SH-002" in complaints.body  # the old number, written in the text, is the new one
    assert complaints.references == ("QR-SH-002",) and record.references == ("QP-SH-002",)
    training = ws.find("QP-SH-003")
    assert "signs the attendance sheet (QR-SH-003)." in training.body and training.references == ("QR-SH-003",)
    check = invoke(runner, repo, "check").output
    assert "reference-" not in check


def test_pictures_are_copied_under_images_and_referenced_there(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["docx"])
    complaints = Workspace(repo).find("QP-SH-002").body
    assert "![处理流程](images/QP-SH-002/flow.png)" in complaints
    assert (repo / "images/QP-SH-002/flow.png").read_bytes() == (sources["legacy"] / "img/flow.png").read_bytes()
    word = Workspace(repo).find("QI-SH-001").body
    assert "![](images/QI-SH-001/image1.png)" in word
    assert (repo / "images/QI-SH-001/image1.png").read_bytes() == png(8, 8)


def test_the_word_table_is_a_pipe_table_with_its_line_breaks_joined(runner, repo, sources):
    run_import(runner, repo, sources["docx"])
    body = Workspace(repo).find("QI-SH-001").body
    rows = [" ".join(line.split()) for line in body.splitlines() if line.startswith("|")]
    assert re.fullmatch(r"\|-+\|-+\|", rows.pop(1)) and re.fullmatch(r"\|-+\|-+\|-+\|", rows.pop(4))
    assert rows == ["| 步骤 | 时限 |", "| 预约 | 两小时内 |", "| 上门 | 二十四小时内；偏远地区四十八小时 |",
                    "| 工具 | 数量；备注 | |", "| 万用表 | 一台 | 校准 |"]


def test_the_legacy_record_is_kept_and_marked_imported_never_as_a_signature(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["site"])
    ws = Workspace(repo)
    complaints = ws.find("QP-SH-002")
    (row,) = complaints.history
    assert (row.revision, row.date, row.by, row.approved_by, row.imported) == (
        "B/1", dt.date(2025, 3, 1), "王建国", "李明", True)
    assert row.summary == "（导入）原版本 2.1；原编号 SOP-CS-001；原批准 李明；原状态 approved"
    assert complaints.approvals == ()
    training = ws.find("QP-SH-003")
    assert [(r.revision, r.date, r.by, r.summary, r.imported) for r in training.history] == [
        ("A/0", dt.date(2023, 1, 10), "Jane Roe", "(imported) First issue", True),
        ("A/1", dt.date(2024, 4, 20), "Jane Roe",
         "(imported) Annual review; old number QMS-PR-07; reviewed by Sam Poe; status Effective", True)]
    assert [row.approved_by for row in training.history] == [None, None]  # the source names no approver
    assert not (repo / "signatures" / "QP-SH-002.jsonl").exists()
    history = invoke(runner, repo, "history", "QP-SH-002").output
    assert "李明" in history


# -- nothing is lost ------------------------------------------------------------------------------

def visible_words(markdown: str) -> Counter:
    """The words a reader sees: markup (tags, link targets, admonition and tab markers) left out."""
    text = re.sub(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)", "]", markdown)
    text = re.sub(r"</?(?:br|b|ul|li)\s*/?>", " ", text)
    text = re.sub(r"^\s*!!!\s*\w+", " ", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*===", " ", text, flags=re.MULTILINE)
    return Counter(word.lower() for word in re.findall(r"[A-Za-z0-9]+|[\u4e00-\u9fff]", text))


def test_no_word_of_any_source_is_lost(runner, repo, sources):
    run_import(runner, repo, sources["legacy"], sources["site"], sources["docx"])
    ws = Workspace(repo)
    pairs = [("QP-SH-002", COMPLAINTS.split("---\n", 2)[2].replace("SOP-CS-001", "QP-SH-002")),
             ("QR-SH-002", REPAIR_RECORD), ("QP-SH-003", TRAINING.split("---\n", 2)[2]), ("QR-SH-003", ATTENDANCE),
             ("QI-SH-001", "\n".join(sources["docx_texts"]))]
    for number, source in pairs:
        doc = ws.find(number)
        missing = visible_words(source) - visible_words(doc.title + "\n" + doc.body)
        assert not missing, (number, missing)


# -- numbers --------------------------------------------------------------------------------------

def test_a_second_import_never_reuses_a_number(runner, repo, sources):
    run_import(runner, repo, sources["legacy"])
    git(repo, "rm", "-q", "-r", "forms/QR-SH-002-产品维修记录表.md", "procedures/QP-SH-002-客户投诉处理程序.md",
        "images")
    git(repo, "commit", "-qm", "drop the imported documents")
    out = run_import(runner, repo, sources["legacy"]).output
    assert "→ QP-SH-003 procedure" in out and "→ QR-SH-003 form" in out
    assert "QP-SH-002" not in out and "QR-SH-002" not in out
    assert invoke(runner, repo, "check").output.rstrip().endswith("0 errors, 0 warnings")


def test_type_department_and_author_can_be_given(runner, repo, sources):
    out = run_import(runner, repo, sources["site"], "--type", "instruction", "--department", "培训部",
                     "--author", "林慧").output
    assert "→ QI-SH-001 instruction “Training Procedure”" in out and "type given by --type" in out
    doc = Workspace(repo).find("QI-SH-002")
    assert (doc.type, doc.department, doc.prepared.name) == ("instruction", "培训部", "林慧")
    run_import(runner, repo, sources["legacy"], "--author", "赵明")
    ws = Workspace(repo)
    assert [ws.find(n).department for n in ("QP-SH-002", "QR-SH-002")] == ["售后服务部", "售后服务部"]


# -- adoption into the signed record ------------------------------------------------------------

def test_a_document_in_force_is_imported_as_effective_then_adopted_and_published(runner, repo, sources, tmp_path):
    out = run_import(runner, repo, sources["legacy"], "--keep-status").output
    assert "B/1 effective (effective 2025-03-10)" in out
    assert "doccontrol submit QP-SH-002" in out and "doccontrol release QP-SH-002" in out
    doc = Workspace(repo).find("QP-SH-002")
    assert (doc.status, doc.effective, doc.prepared.date) == ("effective", dt.date(2025, 3, 10), dt.date(2025, 3, 1))
    check = invoke(runner, repo, "check", expect=1).output
    assert "status is effective, but the signed record says QP-SH-002 B/1 is draft [status-record]" in check
    assert "QP-SH-002" not in {d.number for d in Workspace(repo).in_force(TODAY).documents}
    invoke(runner, repo, "submit", "QP-SH-002", "--as", "孙小雨")
    invoke(runner, repo, "approve", "QP-SH-002", "--as", "林慧", "--role", "审核")
    invoke(runner, repo, "approve", "QP-SH-002", "--as", "陈国华", "--role", "批准")
    invoke(runner, repo, "release", "QP-SH-002", "--as", "孙小雨")
    published = {d.number: d for d in Workspace(repo).in_force(TODAY).documents}
    assert (published["QP-SH-002"].revision, published["QP-SH-002"].effective) == ("B/1", TODAY)
    (row,) = Workspace(repo).find("QP-SH-002").history
    assert row.imported and row.approved_by == "陈国华" and "原批准 李明" in row.summary
    assert invoke(runner, repo, "check").output.rstrip().endswith("0 errors, 0 warnings")
    site = tmp_path / "site"
    invoke(runner, repo, "build", "--out", str(site))
    page = lxml_html.fromstring((site / "QP-SH-002" / "index.html").read_text(encoding="utf-8"))
    text = " ".join(page.text_content().split())
    assert "投诉须在二十四小时内响应" in text and "登记；分派" in text


def test_a_document_in_force_without_any_date_stays_a_draft(runner, repo, tmp_path):
    write(tmp_path / "old", "a.md", "---\nstatus: released\n---\n# 甲程序\n\n正文。\n")
    write(tmp_path / "old", "b.md", "---\nstatus: released\ndate: 2024-02-03\n---\n# 乙程序\n\n正文。\n")
    out = run_import(runner, repo, tmp_path / "old", "--keep-status").output
    assert "the source says released but gives no effective date: imported as a draft" in out
    ws = Workspace(repo)
    assert (ws.find("QP-SH-002").status, ws.find("QP-SH-003").status) == ("draft", "effective")
    assert ws.find("QP-SH-003").effective == dt.date(2024, 2, 3)


def test_a_document_withdrawn_in_its_source_is_imported_as_obsolete(runner, repo, tmp_path):
    write(tmp_path / "old", "sop.md", "---\nstatus: withdrawn\n---\n# 旧版退货程序\n\n已由新程序替代。\n")
    out = run_import(runner, repo, tmp_path / "old", "--keep-status").output
    assert "doccontrol obsolete NUMBER --reason" in out
    doc = Workspace(repo).find("QP-SH-002")
    assert (doc.status, doc.obsolete_reason) == ("obsolete", "（导入）原系统标记为withdrawn")
    invoke(runner, repo, "obsolete", "QP-SH-002", "--reason", "已由新程序替代", "--as", "陈国华")


# -- refusals and reports ---------------------------------------------------------------------------

def test_import_refuses_over_uncommitted_changes_in_the_folders_it_writes_to(runner, repo, sources):
    write(repo, "procedures/notes.txt", "work in progress\n")
    head = git(repo, "rev-parse", "HEAD")
    out = run_import(runner, repo, sources["legacy"], expect=1).output
    assert "uncommitted changes in the folders import writes to: procedures/notes.txt" in out
    assert "fix: commit them first" in out
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain").strip() == "?? procedures/notes.txt"
    assert not (repo / "images").exists()


def test_bad_sources_are_refused_with_a_fix(runner, repo, tmp_path):
    pdf = write(tmp_path, "manual.pdf", "%PDF-1.4\n")
    out = run_import(runner, repo, pdf, expect=1).output
    assert "is not a folder, a Markdown file, a .docx or an mkdocs.yml" in out and "fix: " in out
    out = run_import(runner, repo, repo / "procedures", expect=1).output
    assert "is inside the repository's controlled files" in out
    out = run_import(runner, repo, repo, expect=1).output
    assert "holds the document repository itself" in out
    write(tmp_path / "src", "a.md", "# 甲程序\n")
    out = run_import(runner, repo, tmp_path / "src", "--author", "外人", expect=1).output
    assert "外人 is not in the roster" in out
    out = run_import(runner, repo, tmp_path / "src", "--type", "policy", expect=1).output
    assert "type policy is not configured" in out and "fix: see `types:` in doccontrol.yml" in out
    fake = write(tmp_path, "fake.docx", "not a zip")
    out = run_import(runner, repo, fake, expect=1).output
    assert "is not a Word .docx file" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no documents found in" in run_import(runner, repo, empty, expect=1).output
    assert git(repo, "status", "--porcelain") == ""
    assert "Traceback" not in out


def test_gb18030_markdown_is_read_and_saved_as_utf8(runner, repo, tmp_path):
    folder = tmp_path / "gbk"
    folder.mkdir()
    (folder / "return.md").write_bytes("# 退换货程序\n\n七天内无理由退货。\n".encode("gb18030"))
    out = run_import(runner, repo, folder).output
    assert "text decoded from GB18030" in out
    assert "七天内无理由退货。" in Workspace(repo).find("QP-SH-002").body


def test_html_that_markdown_cannot_express_is_reported_not_dropped(runner, repo, tmp_path):
    write(tmp_path / "src", "a.md", "# 甲程序\n\n<div class=\"box\">框内文字</div>\n\n<!-- 内部备注 -->\n\n正文。\n")
    out = run_import(runner, repo, tmp_path / "src").output
    source = tmp_path / "src" / "a.md"
    assert f"attention: {source}:3: raw HTML <div> left as it is: `check` refuses it" in out
    assert f"attention: {source}:5: an HTML comment (<!-- … -->) is hidden from readers" in out
    body = Workspace(repo).find("QP-SH-002").body
    assert '<div class="box">框内文字</div>' in body and "<!-- 内部备注 -->" in body
    check = invoke(runner, repo, "check", expect=1).output
    assert "raw HTML <div> is not allowed" in check


def test_links_that_lead_to_no_imported_document_are_reported(runner, repo, tmp_path):
    src = tmp_path / "src"
    write(src, "a.md", "# 甲程序\n\n见[附件](attachment.xlsx)和[不存在](nothing.md)，[官网](https://example.com)。\n"
                       "![网络图片](https://example.com/a.png) ![矢量图](chart.svg)\n")
    write(src, "attachment.xlsx", "x")
    write(src, "chart.svg", "<svg/>")
    out = run_import(runner, repo, src).output
    assert "a link to attachment.xlsx, which is not an imported document, is written as its text" in out
    assert "a link to nothing.md leads nowhere in the source: written as its text" in out
    assert "the picture https://example.com/a.png is not in the source" in out
    assert "the picture chart.svg is of type .svg" in out
    body = Workspace(repo).find("QP-SH-002").body
    assert "见附件和不存在，[官网](https://example.com)。" in body
    check = invoke(runner, repo, "check", expect=1).output
    assert "image 'https://example.com/a.png' is not in the repository" in check
    assert "image 'chart.svg' is not under images/" in check


# -- the image check --------------------------------------------------------------------------------

IMAGE_DOC = """\
---
number: QP-SH-009
title: 图片程序
type: procedure
department: 质量部
revision: A/0
status: draft
prepared:
  name: 孙小雨
  date: 2026-11-16
history:
  - revision: A/0
    date: 2026-11-16
    section: 全文
    summary: 首次发布
    by: 孙小雨
---

![好](images/QP-SH-009/good.png)
![缺](images/QP-SH-009/missing.png)
![矢量](images/QP-SH-009/chart.svg)
![大](images/QP-SH-009/big.png)
![假](images/QP-SH-009/fake.png)
![外](https://example.com/a.png)
![上级](../a.png)
![链接](images/QP-SH-009/link.png)
![位图](images/QP-SH-009/old.bmp)

```
![代码里的不算](nowhere.png)
```
"""


def test_check_accepts_only_pictures_under_images_of_an_allowed_type_and_size(runner, repo):
    write(repo, "procedures/QP-SH-009-图片程序.md", IMAGE_DOC)
    folder = repo / "images" / "QP-SH-009"
    folder.mkdir(parents=True)
    (folder / "good.png").write_bytes(png())
    (folder / "chart.svg").write_text("<svg onload='x'/>", encoding="utf-8")
    (folder / "big.png").write_bytes(png() + b"\0" * (5 * 1024 * 1024))
    (folder / "fake.png").write_text("not a picture", encoding="utf-8")
    (folder / "old.bmp").write_bytes(b"BM" + b"\0" * 60)
    os.symlink(folder / "good.png", folder / "link.png")
    out = invoke(runner, repo, "check", expect=1).output
    found = {int(m.group(1)): m.group(2) for m in
             re.finditer(r"procedures/QP-SH-009-图片程序.md:(\d+): error: (.*) \[image\]", out)}
    assert found == {
        20: "image images/QP-SH-009/missing.png does not exist",
        21: "image images/QP-SH-009/chart.svg is an SVG, which can carry scripts and which Word does not show",
        22: "image images/QP-SH-009/big.png is 5.0 MiB; at most 5 MiB are allowed",
        23: "image images/QP-SH-009/fake.png is not a PNG file (its content says otherwise)",
        24: "image 'https://example.com/a.png' is not in the repository (https:); a reader offline would not see it "
            "and it can change after approval",
        25: "image '../a.png' is not under images/ at the repository root",
        26: "image images/QP-SH-009/link.png: images/QP-SH-009/link.png is a symbolic link",
        27: "image images/QP-SH-009/old.bmp has type .bmp, which is not allowed",
    }
    assert "fix: convert it to PNG and refer to the PNG (allowed: .gif, .jpeg, .jpg, .png, .webp)" in out
    assert "fix: copy the picture to images/NUMBER/NAME" in out


def test_a_remembered_check_sees_a_picture_that_disappears(runner, repo, sources):
    run_import(runner, repo, sources["legacy"])
    assert invoke(runner, repo, "check").output.rstrip().endswith("0 errors, 0 warnings")
    (repo / "images/QP-SH-002/flow.png").unlink()
    out = invoke(runner, repo, "check", expect=1).output
    assert "image images/QP-SH-002/flow.png does not exist [image]" in out


# -- conversions in detail ------------------------------------------------------------------------

def test_nested_lists_keep_their_structure_when_re_indented(runner, repo, tmp_path):
    text = textwrap.dedent("""\
        # 列表程序

        1. 第一步
           说明文字接在后面。

           另起一段说明。
           - 子项甲
             - 孙项
           - 子项乙

             ```
             代码  保留缩进
             ```
        2. 第二步

        正文继续。

            缩进代码块不动
        """)
    write(tmp_path / "src", "list.md", text)
    run_import(runner, repo, tmp_path / "src")
    body = Workspace(repo).find("QP-SH-002").body
    assert body.strip("\n") == textwrap.dedent("""\
        1. 第一步
            说明文字接在后面。

            另起一段说明。
            - 子项甲
                - 孙项
            - 子项乙

                ```
                代码  保留缩进
                ```
        2. 第二步

        正文继续。

            缩进代码块不动""")
    assert "list-indent" not in invoke(runner, repo, "check").output


def test_revisions_from_other_systems(runner):
    from doccontrol.importer.legacy import map_revision

    assert [map_revision(v) for v in ["A/3", "B", "Rev C", "rev. d2", "2.1", "v3", 1.0, 2, "0.3", "1.2.3", "draft"]] \
        == ["A/3", "B/0", "C/0", "D/2", "B/1", "C/0", "A/0", "B/0", None, None, None]


def test_an_mkdocs_nav_gives_the_order_and_the_titles(runner, repo, tmp_path):
    site = tmp_path / "site"
    write(site, "mkdocs.yml", "site_name: x\nnav:\n  - Zeta Procedure: z.md\n  - Alpha Procedure: a.md\n")
    write(site, "docs/z.md", "Body of zeta, which has no heading.\n")
    write(site, "docs/a.md", "Body of alpha.\n")
    out = run_import(runner, repo, site, "--dry-run").output
    assert out.index(f"{site}/docs/z.md → QP-SH-002 procedure “Zeta Procedure”") < \
        out.index(f"{site}/docs/a.md → QP-SH-003 procedure “Alpha Procedure”")


def test_the_type_is_the_type_word_that_comes_last(runner):
    from doccontrol.importer.plan import guess_type

    configured = ["manual", "procedure", "instruction", "form", "external"]
    guesses = {title: guess_type(title, (), "markdown", configured)[0] for title in [
        "记录控制程序", "产品维修记录表", "Record Control Procedure", "SOP-12 Cleaning the Bench", "Quality Manual",
        "文件更改申请单", "管理者代表任命", "Complaint form"]}
    assert guesses == {
        "记录控制程序": "procedure", "产品维修记录表": "form", "Record Control Procedure": "procedure",
        "SOP-12 Cleaning the Bench": "instruction", "Quality Manual": "manual", "文件更改申请单": "form",
        "管理者代表任命": "procedure", "Complaint form": "form"}
    assert guess_type("Onboarding", ("records", "2024"), "markdown", configured) == (
        "form", "from the folder word “records”")
    assert guess_type("Quality Policy", (), "markdown", configured)[0] == "procedure"  # policy is not configured
    assert guess_type("Quality Policy", (), "markdown", [*configured, "policy"])[0] == "policy"


def test_inline_html_and_line_breaks_become_markdown(runner, repo, tmp_path):
    write(tmp_path / "src", "a.md", textwrap.dedent("""\
        # Handling Procedure

        Press <code>Reset</code>, read the <i>manual</i>, <em>then</em> visit {link}.
        First line<br>second line<br/>
        ![](pic.png) <img src="pic.png" alt="Panel">
        <p>One paragraph.</p><p>Another paragraph.</p>
        <hr>
        A <strong>strong</strong> word.

        <ol>
        <li>Unplug</li>
        <li>Wait</li>
        </ol>

        | Step | Notes |
        | --- | --- |
        | Check | cable<br>fuse |

        ??? tip
            Label the cable.
        """).replace("{link}", '<a href="https://example.com/help">the help page</a>'))
    (tmp_path / "src" / "pic.png").write_bytes(png())
    run_import(runner, repo, tmp_path / "src")
    body = Workspace(repo).find("QP-SH-002").body
    assert "Press `Reset`, read the *manual*, *then* visit [the help page](https://example.com/help)." in body
    assert "First line  \nsecond line\n" in body
    assert "![](images/QP-SH-002/pic.png) ![Panel](images/QP-SH-002/pic.png)" in body
    assert "One paragraph.\n\nAnother paragraph.\n\n***\n\nA **strong** word." in body
    assert "1. Unplug\n2. Wait" in body
    assert "| Check | cable; fuse |" in body
    assert "**Tip:** Label the cable." in body
    assert invoke(runner, repo, "check").output.rstrip().endswith("0 errors, 0 warnings")


def test_a_failed_commit_leaves_nothing_behind(runner, repo, sources):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    head = git(repo, "rev-parse", "HEAD")
    out = run_import(runner, repo, sources["legacy"], sources["docx"], expect=1).output
    assert "the commit failed, so nothing was imported" in out
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / "images").exists()


def test_the_word_check_reports_a_conversion_that_lost_words(runner, repo, tmp_path, monkeypatch):
    import doccontrol.importer.plan as plan

    real = plan.reindent_lists
    monkeypatch.setattr(plan, "reindent_lists", lambda doc, lines: [line for line in real(doc, lines)
                                                                    if "绝密" not in line.text])
    write(tmp_path / "src", "a.md", "# 甲程序\n\n- 第一项\n- 绝密条款\n")
    out = run_import(runner, repo, tmp_path / "src", "--dry-run").output
    assert "attention: " in out and "4 words of the source are not in the result (密 条 款 绝)" in out


def test_windows_line_ends_and_unknown_status(runner, repo, tmp_path):
    folder = tmp_path / "crlf"
    folder.mkdir()
    (folder / "a.md").write_bytes(b"---\r\nstatus: frozen\r\n---\r\n# Alpha Procedure\r\n\r\nText.\r\n")
    out = run_import(runner, repo, folder, "--keep-status").output
    assert "status 'frozen' is not one import knows: imported as a draft" in out
    doc = Workspace(repo).find("QP-SH-002")
    assert doc.status == "draft" and "\r" not in (repo / doc.path).read_text(encoding="utf-8")


def test_pictures_outside_the_source_or_behind_a_link_are_not_copied(runner, repo, tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png())
    src = tmp_path / "src"
    write(src, "a.md", "# Alpha Procedure\n\n![one](../private/secret.png) ![two](linked/secret.png)\n\n"
                       "The 售后 team reads this.\n\n!!! note\n    Keep it short.\n")
    os.symlink(outside, src / "linked")
    os.symlink(src / "a.md", src / "b.md")
    out = run_import(runner, repo, src).output
    assert f"{src}/b.md: a symbolic link, not followed" in out and "→ QP-SH-003" not in out
    assert "the picture ../private/secret.png is outside the imported folder: not copied" in out
    assert "the picture linked/secret.png is in linked, a symbolic link: not copied" in out
    assert not (repo / "images").exists()
    assert "**Note:** Keep it short." in Workspace(repo).find("QP-SH-002").body  # English, a Chinese word or not


def test_without_a_heading_the_title_comes_from_the_front_matter_or_the_file_name(runner, repo, tmp_path):
    write(tmp_path / "src", "a.md", "---\ntitle: 备件管理程序\n---\n备件按月盘点。\n")
    write(tmp_path / "src", "设备维护表.md", "每周检查一次。\n")
    out = run_import(runner, repo, tmp_path / "src", "--dry-run").output
    assert f"{tmp_path / 'src'}/a.md → QP-SH-002 procedure “备件管理程序”" in out
    assert f"{tmp_path / 'src'}/设备维护表.md → QR-SH-002 form “设备维护表”" in out


def test_a_history_that_does_not_run_in_sequence_is_kept_as_text_in_one_row(runner, repo, tmp_path):
    write(tmp_path / "src", "a.md", textwrap.dedent("""\
        ---
        version: "3.0"
        history:
          - {version: "1.0", date: 2020-01-02, author: 张三, changes: 初版}
          - {version: "3.0", date: 2022-05-06, author: 李四, changes: 改版}
        ---
        # 培训程序

        正文。
        """))
    out = run_import(runner, repo, tmp_path / "src").output
    assert "the source's revision record does not run in sequence to the current revision" in out
    (row,) = Workspace(repo).find("QP-SH-002").history
    assert (row.revision, row.imported) == ("C/0", True)
    assert row.summary == "（导入）原版本 3.0；原修订记录：1.0 2020-01-02 张三 初版；3.0 2022-05-06 李四 改版"


def test_import_waits_for_the_repository_lock(runner, repo, sources):
    import fcntl
    import threading
    import time

    head = git(repo, "rev-parse", "HEAD")
    with open(repo / ".git" / "doccontrol.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        done = threading.Thread(target=run_import, args=(runner, repo, sources["legacy"]))
        done.start()
        time.sleep(1.0)
        assert git(repo, "rev-parse", "HEAD") == head and not (repo / "images").exists()
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    done.join(timeout=60)
    assert git(repo, "rev-parse", "HEAD") != head
    assert Workspace(repo).find("QP-SH-002").title == "客户投诉处理程序"


def test_hostile_or_broken_sources_in_a_folder_are_listed_and_the_rest_comes_in(runner, repo, tmp_path):
    src = tmp_path / "src"
    bomb = "tags: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"t{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
        for i in range(1, 10))
    write(src, "a-bomb.md", f"---\n{bomb}date: 2024-13-45\n---\n# 甲程序\n\n正文甲。\n")
    write(src, "b-broken.md", "---\ntitle: [unclosed\n---\n# 乙程序\n\n正文乙。\n")
    write(src, "c-large.md", "# 丙程序\n\n" + "很长的内容。\n" * 120_000)
    write(src, "d-bad.docx", "not a zip")
    (src / "e-binary.md").write_bytes(b"\xff\xfe\x00\x00binary")
    out = run_import(runner, repo, src).output
    assert f"{src}/a-bomb.md: front matter not carried over: tags: x、x、x、x、x、x、x、x、x, t1: x、x、x" in out
    assert f"{src}/a-bomb.md: date: '2024-13-45' is not a date that import can read; it is left out" in out
    assert f"{src}/b-broken.md:1: the front matter could not be read as metadata (line 1: expected ',' or ']'" in out
    assert f"{src}/c-large.md is larger than 1024 KiB: not imported (split it, or leave it out of the import)" in out
    assert f"{src}/d-bad.docx is not a Word .docx file (an old .doc, or damaged?): not imported" in out
    assert f"{src}/e-binary.md" in out.split("not imported:", 1)[1]
    ws = Workspace(repo)
    assert [ws.find(n).title for n in ("QP-SH-002", "QP-SH-003")] == ["甲程序", "乙程序"]
    assert invoke(runner, repo, "check").output.rstrip().endswith("0 errors, 0 warnings")


def test_the_imported_mark_is_part_of_what_is_signed(runner, repo, sources):
    run_import(runner, repo, sources["legacy"])
    invoke(runner, repo, "submit", "QP-SH-002", "--as", "孙小雨")
    path = imported_file(repo, "QP-SH-002")
    path.write_text(path.read_text(encoding="utf-8").replace("    imported: true\n", ""), encoding="utf-8")
    out = invoke(runner, repo, "check", expect=1).output
    assert "content changed after its submission (fingerprint mismatch) [edited-after-approval]" in out


def test_titles_comments_and_styling_that_word_would_not_show_are_text_or_reported(runner, repo, tmp_path):
    src = tmp_path / "src"
    (src / "pic.png").parent.mkdir(parents=True)
    (src / "pic.png").write_bytes(png())
    write(src, "a.md", textwrap.dedent("""\
        # Alpha Procedure

        See [the standard](https://example.com/iso "ISO 9001 clause 7.5") and ![Panel](pic.png "front view").

        [//]: # (internal: ask Jane before the audit)

        A highlighted paragraph.
        {: .warning }
        """))
    out = run_import(runner, repo, src).output
    body = Workspace(repo).find("QP-SH-002").body
    assert "See [the standard](https://example.com/iso) (ISO 9001 clause 7.5) and " \
           "![Panel (front view)](images/QP-SH-002/pic.png)." in body
    assert f"{src}/a.md:5: the link definition [//] is kept: no link uses it" in out
    assert f"{src}/a.md:8: an attribute list with classes or values ({{: .class }}) is kept" in out
