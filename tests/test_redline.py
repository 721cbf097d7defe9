"""Redlines on real repositories with real revisions: `diff`, `export --redline` (Word tracked changes)
and `pack --redlines-since`.

The module's repository has QP-SH-001 released as A/0 and then A/1, made through the CLI (revise,
edit, submit, approve, release) with: a paragraph edit, a section moved, a table cell changed, a
list item removed and one added, a paragraph added and one removed, and metadata changes (title,
department, clauses).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from lxml import etree

from doccontrol.diff import (
    DEL,
    DEL_END,
    INS,
    INS_END,
    MOVED,
    TABLE_DELIMITER,
    WHOLE_DEL,
    WHOLE_INS,
    diff_documents,
    diff_text,
    format_diff,
    marked_markdown,
    parse_blocks,
)
from doccontrol.model import Document, HistoryRow, Prepared

from conftest import git, init_repo, invoke, release_all

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def edit(root: Path, rel: str, *replacements: tuple[str, str]) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def revise(runner, root: Path, number: str, rel: str, reason: str, *replacements, effective=None,
           signers=("林慧", "周立新")) -> None:
    """A real revision through the CLI: revise, edit, submit, 审核, 批准, release."""
    invoke(runner, root, "revise", number, "--reason", reason, "--author", "孙小雨")
    edit(root, rel, *replacements)
    invoke(runner, root, "submit", number)
    invoke(runner, root, "approve", number, "--as", signers[0], "--role", "审核")
    invoke(runner, root, "approve", number, "--as", signers[1], "--role", "批准")
    invoke(runner, root, "release", number, *(["--effective", effective] if effective else []))


MOVED_SECTION = "## 2 范围\n\n适用于本公司全部产品的售后投诉。\n\n"
A1_EDITS = (
    ("title: 客户投诉处理程序", "title: 客户投诉受理与处理程序"),
    ("department: 质量部", "department: 客服中心"),
    ("clauses: [GB27922-6.3, ISO9001-7.5]", "clauses: [GB27922-6.3]"),
    ("4.1 客服专员接到投诉后 24 小时内响应", "4.1 客服专员接到投诉后 12 小时内响应"),
    ("| 结案 | 5 个工作日 |", "| 结案 | 3 个工作日 |"),
    ("    - 当场登记\n", ""),
    ("- 书面投诉\n", "- 书面投诉\n- 网上投诉\n"),
    (MOVED_SECTION, ""),
    ("## 4 工作程序\n", MOVED_SECTION + "## 4 工作程序\n"),
    ("## 5 相关文件\n\n无\n", "## 5 相关文件\n\nQR-SH-001《顾客问题处理表》\n"),
    ("3.1 客服中心：负责投诉的受理、登记和回访。\n",
     "3.1 客服中心：负责投诉的受理、登记和回访。\n\n3.2 质量部：每月统计投诉处理率。\n"),
)


def revised_repo(root: Path) -> Path:
    """QP-SH-001 released as A/0, then A/1 with every kind of change; the other documents at A/0."""
    runner = CliRunner()
    init_repo(root)
    release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001"))
    revise(runner, root, "QP-SH-001", PROC, "投诉响应时限由24小时缩短为12小时", *A1_EDITS)
    return root


@pytest.fixture(scope="module")
def revised(tmp_path_factory) -> Path:
    return revised_repo(tmp_path_factory.mktemp("redline") / "repo")


def diff_json(runner, root, *args) -> dict:
    return json.loads(invoke(runner, root, "diff", "QP-SH-001", "--format", "json", *args).output)


# -- doccontrol diff ---------------------------------------------------------------------------

def test_diff_shows_each_kind_of_change_by_section(runner, revised):
    data = diff_json(runner, revised, "--from", "A/0", "--to", "A/1")
    assert (data["from"], data["to"], data["author"], data["changed"]) == ("A/0", "A/1", "孙小雨", True)
    sections = {(s["title"], s["status"], s["moved"]): s for s in data["sections"]}
    work = sections[("4 工作程序", "changed", False)]
    changes = {(c["kind"], c["status"]): c for c in work["changes"]}
    assert changes[("paragraph", "changed")]["pieces"] == [
        ["=", "4.1 客服专员接到投诉后 "], ["-", "24"], ["+", "12"], ["=", " 小时内响应，并填写 QR-SH-001。"]]
    assert changes[("row", "changed")]["cells"] == [[["=", "结案"]], [["-", "5"], ["+", "3"], ["=", " 个工作日"]]]
    assert changes[("item", "deleted")]["old"] == "当场登记"
    assert changes[("item", "inserted")]["new"] == "网上投诉"
    assert ("2 范围", "deleted", True) in sections and ("2 范围", "inserted", True) in sections
    assert sections[("3 职责", "changed", False)]["changes"] == [
        {"kind": "paragraph", "status": "inserted", "moved": False, "old": None,
         "new": "3.2 质量部：每月统计投诉处理率。"}]
    related = sections[("5 相关文件", "changed", False)]["changes"][0]
    assert related["pieces"] == [["-", "无"], ["+", "QR-SH-001《顾客问题处理表》"]]
    assert sections[("1 目的", "equal", False)]["changes"] == []
    assert data["counts"]["sections_moved"] == 1


def test_diff_reports_metadata_changes(runner, revised):
    fields = {f["field"]: f for f in diff_json(runner, revised, "--from", "A/0", "--to", "A/1")["metadata"]}
    assert fields["title"]["old"] == "客户投诉处理程序" and fields["title"]["new"] == "客户投诉受理与处理程序"
    assert fields["title"]["pieces"] == [["=", "客户投诉"], ["+", "受理与"], ["=", "处理程序"]]
    assert (fields["department"]["old"], fields["department"]["new"]) == ("质量部", "客服中心")
    assert fields["clauses"]["removed"] == ["ISO9001-7.5"] and fields["clauses"]["added"] == []
    assert fields["history"]["added"] == ["A/1 2026-11-20 全文：投诉响应时限由24小时缩短为12小时（孙小雨）"]
    assert "references" not in fields and "retention" not in fields


def test_diff_text_marks_phrases_not_scattered_characters(runner, revised):
    out = invoke(runner, revised, "diff", "QP-SH-001", "--from", "A/0", "--to", "A/1").output
    assert "QP-SH-001 客户投诉受理与处理程序  A/0 → A/1" in out
    assert "4.1 客服专员接到投诉后 [-24-]{+12+} 小时内响应" in out
    assert "结案 | [-5-]{+3+} 个工作日" in out
    assert "== 2 范围（移出） ==" in out and "== 2 范围（移入） ==" in out
    assert "== 1 目的" not in out  # unchanged sections are left out
    assert "对应条款: -ISO9001-7.5" in out


def test_diff_without_options_compares_the_working_revision_with_the_one_in_force(runner, revised, tmp_path):
    root = tmp_path / "work"
    git(revised.parent, "clone", "-q", str(revised), str(root))
    for key in ("user.name", "user.email"):
        git(root, "config", key, git(revised, "config", key).strip())
    out = invoke(runner, root, "diff", "QP-SH-001").output
    assert "no differences" in out
    invoke(runner, root, "revise", "QP-SH-001", "--reason", "调整结案时限", "--author", "孙小雨")
    edit(root, PROC, ("| 结案 | 3 个工作日 |", "| 结案 | 4 个工作日 |"))
    data = json.loads(invoke(runner, root, "diff", "QP-SH-001", "--format", "json").output)
    assert (data["from"], data["to"]) == ("A/1", "A/2")
    changes = [c for s in data["sections"] for c in s["changes"]]
    assert [c["cells"] for c in changes] == [[[["=", "结案"]], [["-", "3"], ["+", "4"], ["=", " 个工作日"]]]]


def test_diff_html_is_a_page_with_ins_and_del(runner, revised):
    page = invoke(runner, revised, "diff", "QP-SH-001", "--from", "A/0", "--to", "A/1", "--format", "html").output
    assert page.startswith("<!DOCTYPE html>")
    assert '<del class="dc-del">24</del><ins class="dc-ins">12</ins>' in page
    assert '<span class="dc-rl-tag dc-rl-tag--del">删除</span>' in page
    assert "\ue000" not in page and "\ue002" not in page


def test_diff_refuses_unknown_revisions_with_the_ones_it_knows(runner, revised):
    result = invoke(runner, revised, "diff", "QP-SH-001", "--from", "A/7", expect=1)
    assert "QP-SH-001 has no revision A/7" in result.output and "A/0, A/1" in result.output
    result = invoke(runner, revised, "diff", "QP-SH-001", "--from", "a0", expect=1)
    assert "not of the form A/0" in result.output
    assert "Traceback" not in result.output


# -- the diff engine ----------------------------------------------------------------------------

def doc(body: str, revision: str = "A/0", **fields) -> Document:
    day = dt.date(2026, 11, 20)
    return Document(path="p.md", number="QP-SH-009", title=fields.pop("title", "测试程序"), type="procedure",
                    department="质量部", revision=revision, status="draft", prepared=Prepared("孙小雨", day),
                    body=body, history=(HistoryRow(revision, day, "全文", "x", "孙小雨"),), **fields)


def accept(marked: str) -> str:
    return resolve_marks(marked, keep=(INS, INS_END, WHOLE_INS), drop=(DEL, DEL_END, WHOLE_DEL))


def reject(marked: str) -> str:
    return resolve_marks(marked, keep=(DEL, DEL_END, WHOLE_DEL), drop=(INS, INS_END, WHOLE_INS))


def resolve_marks(marked: str, keep: tuple[str, str, str], drop: tuple[str, str, str]) -> str:
    """The marked Markdown as one side reads it: the other side's runs, and its whole units
    (code blocks, lines), removed; this side's marks dropped."""
    opened, closed, whole = drop
    marked = re.sub(f"{whole}{MOVED}?\n\n(```|~~~)[\\s\\S]*?\n\\1", "", marked)
    marked = re.sub(f"{opened}.*?{closed}", "", marked, flags=re.S)
    lines, kept = marked.split("\n"), []
    for index, line in enumerate(lines):
        header_gone = index and whole in lines[index - 1] and TABLE_DELIMITER.fullmatch(line)
        if whole not in line and not header_gone:
            kept.append(line)
    marked = "\n".join(kept)
    return marked.translate({ord(c): None for c in keep + (MOVED,)})


def test_chinese_is_diffed_by_phrase():
    pieces = diff_text("客户投诉处理程序", "客户投诉受理与处理规程")
    assert [(p.op, p.text) for p in pieces] == [("=", "客户投诉"), ("-", "处理程序"), ("+", "受理与处理规程")]
    pieces = diff_text("在5个工作日内结案", "在3个工作日内完成结案并回访")
    assert [(p.op, p.text) for p in pieces] == [("=", "在"), ("-", "5"), ("+", "3"), ("=", "个工作日内"), ("-", "结案"),
                                                ("+", "完成结案并回访")]
    pieces = diff_text("客服专员在接到投诉后立即登记并转交", "维修人员在收到报修后当日登记")
    kept = [p.text for k, p in enumerate(pieces) if p.op == "=" and 0 < k < len(pieces) - 1]
    assert all(len(text) > 1 for text in kept), pieces  # no stray single characters between edits
    assert "".join(p.text for p in pieces if p.op != "+") == "客服专员在接到投诉后立即登记并转交"
    assert "".join(p.text for p in pieces if p.op != "-") == "维修人员在收到报修后当日登记"


def test_an_edit_that_would_break_markup_replaces_the_whole_paragraph():
    old = doc("见[记录表](forms/a.md)，**24 小时**内。\n")
    new = doc("见[记录表](forms/b.md)，**12 小时**内。\n", "A/1")
    unit = diff_documents(old, new).sections[0].blocks[0].units[0]
    assert [(p.op, p.text) for p in unit.pieces] == [("-", old.body.strip()), ("+", new.body.strip())]
    same_link = diff_documents(doc("见[记录表](a.md)，24 小时内。\n"), doc("见[记录表](a.md)，12 小时内。\n", "A/1"))
    assert [p.op for p in same_link.sections[0].blocks[0].units[0].pieces] == ["=", "-", "+", "="]


@pytest.mark.parametrize("old, new", [
    ("## 1 目的\n\n甲乙丙。\n\n## 2 范围\n\n丁戊。\n", "## 2 范围\n\n丁戊己。\n\n## 1 目的\n\n甲乙丙。\n"),
    ("- 一\n    - 二\n- 三\n", "- 一\n- 三\n    - 四\n"),
    ("| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |\n", "| a | b |\n| --- | --- |\n| 3 | 5 |\n| 6 | 7 |\n"),
    ("| a | b |\n| --- | --- |\n| 1 | 2 |\n", "| a | b | c |\n| --- | --- | --- |\n| 1 | 2 | 3 |\n"),
    ("```\ncode 1\n```\n\n段落。\n", "段落。\n\n```\ncode 2\n```\n"),
    ("第一段。\n\n第二段。\n", "第二段。\n\n第一段，改。\n\n第三段。\n"),
    ("", "## 新\n\n全新内容。\n"),
], ids=["sections-swapped", "nested-list", "table-rows", "table-columns", "code", "paragraphs", "from-empty"])
def test_taking_every_insertion_gives_the_new_text_and_every_deletion_the_old(old, new):
    marked = marked_markdown(diff_documents(doc(old), doc(new, "A/1")))
    assert _blocks(accept(marked)) == _blocks(new)
    assert _blocks(reject(marked)) == _blocks(old)


def _blocks(text: str):
    return [block.units for block in parse_blocks(text)]


def test_a_renamed_section_is_changed_and_a_rewritten_paragraph_is_replaced_whole():
    old = doc("## 5 相关文件\n\n客服专员每日核对投诉登记。\n\n## 6 记录\n\n无。\n")
    new = doc("## 5 引用文件\n\n客服专员每日核对投诉登记。\n\n## 6 记录\n\n服务网点按月上报维修统计表并存档备查。\n",
              "A/1")
    first, second = diff_documents(old, new).sections
    assert (first.status, first.moved) == ("changed", False)
    assert [(p.op, p.text) for p in first.heading.pieces] == [("=", "5 "), ("-", "相关"), ("+", "引用"), ("=", "文件")]
    unit = second.blocks[0].units[0]
    assert [(p.op, p.text) for p in unit.pieces] == [("-", "无。"), ("+", "服务网点按月上报维修统计表并存档备查。")]


def test_a_first_revision_is_all_inserted():
    diff = diff_documents(None, doc("## 1 目的\n\n规定。\n"))
    assert diff.old_revision is None and diff.counts()["inserted"] == len("1 目的规定。")
    assert {f.name for f in diff.fields} >= {"title", "department"}
    assert "no differences" not in format_diff(diff, "text")


# -- export --redline: Word tracked changes ------------------------------------------------------

def body_paragraphs(path: Path, mode: str) -> list[str]:
    """The text of every body paragraph (table cells included, in order) as Word shows it after
    'accept all' (mode accept), 'reject all' (reject), or as the file is (none): the cover and revision
    record, which end at the first page break, are left out."""
    with zipfile.ZipFile(path) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    body = root.find("w:body", NS)
    if mode != "none":
        resolve(body, mode)
    texts, started = [], False
    for paragraph in body.iter(f"{{{W}}}p"):
        if not started:
            started = paragraph.find(".//w:br[@w:type='page']", NS) is not None
            continue
        texts.append("".join(t.text or "" for t in paragraph.iter(f"{{{W}}}t", f"{{{W}}}delText")))
    return texts


def resolve(body, mode: str) -> None:
    """Apply Word's accept-all or reject-all to the XML: tracked runs, paragraph marks and rows."""
    gone, kept = ("del", "ins") if mode == "accept" else ("ins", "del")
    for row in list(body.iter(f"{{{W}}}tr")):
        if row.find(f"w:trPr/w:{gone}", NS) is not None:
            row.getparent().remove(row)
    for change in list(body.iter(f"{{{W}}}{gone}")):
        parent = change.getparent()
        if parent.tag == f"{{{W}}}rPr" and parent.getparent().tag == f"{{{W}}}pPr":
            continue
        parent.remove(change)
    for change in list(body.iter(f"{{{W}}}{kept}")):
        parent = change.getparent()
        if parent.tag in (f"{{{W}}}rPr", f"{{{W}}}trPr"):
            parent.remove(change)
            continue
        index = parent.index(change)
        for offset, child in enumerate(list(change)):
            parent.insert(index + offset, child)
        parent.remove(change)
    for paragraph in list(body.iter(f"{{{W}}}p")):
        if paragraph.find(f"w:pPr/w:rPr/w:{gone}", NS) is not None:
            following = paragraph.getnext()
            content = [c for c in paragraph if c.tag != f"{{{W}}}pPr"]
            if following is not None and following.tag == f"{{{W}}}p":
                where = 1 if following.find("w:pPr", NS) is not None else 0
                for offset, child in enumerate(content):
                    following.insert(where + offset, child)
            paragraph.getparent().remove(paragraph)


def export(runner, root: Path, out: Path, *args: str) -> Path:
    return Path(invoke(runner, root, "export", "QP-SH-001", "--out", str(out), *args).output.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exports(revised, tmp_path_factory) -> dict[str, Path]:
    runner = CliRunner()
    out = tmp_path_factory.mktemp("exports")
    return {"redline": export(runner, revised, out / "redline", "--redline"),
            "A/0": export(runner, revised, out / "a0", "--revision", "A/0"),
            "A/1": export(runner, revised, out / "a1", "--revision", "A/1")}


def test_redline_accept_all_gives_the_new_revision_and_reject_all_the_old(exports):
    redline = exports["redline"]
    assert redline.name == "QP-SH-001-A0-A1-客户投诉受理与处理程序-修订对比.docx"
    new, old = body_paragraphs(exports["A/1"], "none"), body_paragraphs(exports["A/0"], "none")
    assert new != old
    assert body_paragraphs(redline, "accept") == new
    assert body_paragraphs(redline, "reject") == old


def test_redline_changes_are_native_tracked_changes_by_the_preparer_on_the_revision_date(exports):
    with zipfile.ZipFile(exports["redline"]) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    root = etree.fromstring(xml.encode())
    changes = root.findall(".//w:ins", NS) + root.findall(".//w:del", NS)
    assert len(changes) > 10
    assert {(c.get(f"{{{W}}}author"), c.get(f"{{{W}}}date")) for c in changes} == {("孙小雨", "2026-11-20T00:00:00Z")}
    ids = [c.get(f"{{{W}}}id") for c in changes]
    assert len(ids) == len(set(ids))
    deleted = "".join(t.text for t in root.iter(f"{{{W}}}delText"))
    inserted = "".join(t.text for c in root.iter(f"{{{W}}}ins") for t in c.iter(f"{{{W}}}t"))
    assert "24" in deleted and "当场登记" in deleted and "无" in deleted
    assert "12" in inserted and "网上投诉" in inserted and "3.2 质量部：每月统计投诉处理率。" in inserted
    rows = [tr for tr in root.iter(f"{{{W}}}tr") if tr.find("w:trPr/w:ins", NS) is not None]
    assert rows == []  # no table row was added; the changed cell is tracked inside its row
    cell = next(tc for tc in root.iter(f"{{{W}}}tc") if tc.find(".//w:delText", NS) is not None)
    assert "".join(t.text for t in cell.iter(f"{{{W}}}t", f"{{{W}}}delText")) == "53 个工作日"
    assert "\ue000" not in xml and "dcrl-" not in xml


def test_redline_keeps_the_controlled_layout_and_says_what_it_compares(exports):
    document = docx.Document(exports["redline"])
    texts = [p.text for p in document.paragraphs]
    assert "修订对比" in texts and "修订记录" in texts
    table = next(t for t in document.tables if t.rows[0].cells[1].text == "原")
    rows = {row.cells[0].text: (row.cells[1].text, row.cells[2].text) for row in table.rows[1:]}
    assert rows["版本/修改码"] == ("A/0", "A/1")
    assert rows["文件名称"] == ("客户投诉处理程序", "客户投诉受理与处理程序")
    assert rows["对应条款"][0] == "删除 ISO9001-7.5"
    assert "受控状态：修订对比" in document.sections[-1].footer.paragraphs[0].text


@pytest.mark.office
def test_a_printed_redline_has_a_one_page_cover_and_the_comparison_under_the_revision_record(exports, tmp_path):
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(exports["redline"])], check=True, capture_output=True,
                    timeout=180)
    pdf = tmp_path / exports["redline"].with_suffix(".pdf").name
    pages = [subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-"], check=True, capture_output=True,
                            text=True).stdout for k in (1, 2, 3)]
    cover, record, body = (re.sub(r"\s+", "", page) for page in pages)
    assert "审批" in cover and "删除ISO9001-7.5" not in cover and "第1页共3页" in cover
    assert record.index("修订记录") < record.index("修订对比版本/修改码") and "删除ISO9001-7.5" in record
    assert "1目的" in body and "网上投诉" in body and "当场登记" in body  # a printed redline shows both


def test_redline_table_row_added_and_removed_is_a_tracked_row(runner, tmp_path):
    root = init_repo(tmp_path / "rows", with_manual=False)
    release_all(runner, root, ("QP-SH-001", "QR-SH-001"), manual=False)
    revise(runner, root, "QP-SH-001", PROC, "增加回访步骤",
           ("| 受理 | 24 小时 |\n", ""), ("| 结案 | 5 个工作日 |\n", "| 结案 | 5 个工作日 |\n| 回访 | 7 天 |\n"),
           ("## 5 相关文件\n\n无\n", "## 5 相关文件\n\n```\n回访脚本 v2\n```\n"),
           ("## 6 记录\n", "## 6 记录\n\n记录格式见[国家标准公开系统](https://openstd.samr.gov.cn/)的说明。\n"))
    out = tmp_path / "out"
    redline = export(runner, root, out, "--redline")
    with zipfile.ZipFile(redline) as package:
        root_xml = etree.fromstring(package.read("word/document.xml"))
    assert len(root_xml.findall(".//w:trPr/w:ins", NS)) == 1 and len(root_xml.findall(".//w:trPr/w:del", NS)) == 1
    assert root_xml.findall(".//w:ins/w:hyperlink", NS) == []  # the schema puts the change inside the link
    assert root_xml.findall(".//w:hyperlink/w:ins", NS)
    assert body_paragraphs(redline, "accept") == body_paragraphs(
        export(runner, root, out / "a1", "--revision", "A/1"), "none")
    assert body_paragraphs(redline, "reject") == body_paragraphs(
        export(runner, root, out / "a0", "--revision", "A/0"), "none")


def test_manual_chapters_are_compared_and_exported(runner, tmp_path):
    root = init_repo(tmp_path / "manual")
    release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001"))
    revise(runner, root, "QM-SH-01", "docs/QM-SH-01-售后服务手册/01-颁布令.md", "颁布令改为自批准之日起实施",
           ("本手册自发布之日起实施", "本手册自批准之日起三十日后实施"), signers=("周立新", "陈国华"))
    out = invoke(runner, root, "diff", "QM-SH-01", "--from", "A/0", "--to", "A/1").output
    assert "本手册自[-发布-]{+批准+}之日起{+三十日后+}实施" in out and "== 1 颁布令 ==" in out
    redline = export_number(runner, root, tmp_path / "out", "QM-SH-01", "--redline")
    a1 = export_number(runner, root, tmp_path / "a1", "QM-SH-01", "--revision", "A/1")
    # The manual's chapters start on new pages in the normal copy: those empty break paragraphs are layout.
    assert [p for p in body_paragraphs(redline, "accept") if p] == [p for p in body_paragraphs(a1, "none") if p]
    site = tmp_path / "site"
    invoke(runner, root, "build", "--out", str(site))
    page = (site / "QM-SH-01" / "redline" / "index.html").read_text(encoding="utf-8")
    assert ('<del class="dc-del">发布</del><ins class="dc-ins">批准</ins>'
            '之日起<ins class="dc-ins">三十日后</ins>') in page


def export_number(runner, root: Path, out: Path, number: str, *args: str) -> Path:
    return Path(invoke(runner, root, "export", number, "--out", str(out), *args).output.strip().splitlines()[-1])


def test_without_history_redlines_are_refused_with_how_to_get_it(runner, revised, tmp_path):
    copy = tmp_path / "export"
    shutil.copytree(revised, copy, ignore=shutil.ignore_patterns(".git"))
    for args in (("diff", "QP-SH-001"), ("export", "QP-SH-001", "--redline", "--out", str(tmp_path / "o"))):
        result = invoke(runner, copy, *args, expect=1)
        assert "this copy has none" in result.output and "full history" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
    invoke(runner, copy, "build", "--allow-no-history", "--out", str(tmp_path / "site"))
    assert not (tmp_path / "site" / "QP-SH-001" / "redline").exists()


def test_redline_refuses_without_a_revision_to_compare(runner, revised):
    result = invoke(runner, revised, "export", "QP-SH-001", "--redline", "--from", "B/3", expect=1)
    assert "no revision B/3" in result.output
    result = invoke(runner, revised, "export", "QP-SH-001", "--from", "A/0", expect=2)
    assert "--from is for --redline" in result.output


# -- pack --redlines-since -----------------------------------------------------------------------

def test_pack_adds_redlines_of_revisions_in_force_since_a_date(runner, revised, exports, tmp_path):
    out = tmp_path / "pack.zip"
    invoke(runner, revised, "pack", "--out", str(out), "--redlines-since", "2026-11-01")
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        name = "修订对比/QP-SH-001-A0-A1-客户投诉受理与处理程序-修订对比.docx"
        data = archive.read(name)
        assert [n for n in archive.namelist() if n.startswith("修订对比/")] == [name]
    entry = next(e for e in manifest["files"] if e["name"] == name)
    assert (entry["number"], entry["revision"], entry["compared_with"], entry["effective"]) == \
        ("QP-SH-001", "A/1", "A/0", "2026-11-20")
    assert entry["commit"] == git(revised, "rev-list", "-n1", "QP-SH-001/A1").strip()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["documents"] == 3 and manifest["redlines_since"] == "2026-11-01"
    packed = tmp_path / "packed.docx"
    packed.write_bytes(data)
    assert body_paragraphs(packed, "accept") == body_paragraphs(exports["A/1"], "none")


def test_pack_without_revisions_in_the_period_has_no_redlines(runner, revised, tmp_path):
    out = tmp_path / "pack.zip"
    invoke(runner, revised, "pack", "--out", str(out), "--as-of", "2026-12-01", "--redlines-since", "2026-11-21")
    with zipfile.ZipFile(out) as archive:
        assert not [n for n in archive.namelist() if n.startswith("修订对比/")]
        assert json.loads(archive.read("manifest.json"))["documents"] == 3
    result = invoke(runner, revised, "pack", "--out", str(out), "--as-of", "2026-11-20", "--redlines-since",
                    "2026-11-21", expect=1)
    assert "is after the pack's date" in result.output


# -- the site's 修订对比 pages ------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(revised, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    invoke(CliRunner(), revised, "build", "--out", str(out))
    return out


def test_site_has_a_redline_page_for_each_document_with_a_predecessor(site):
    page = (site / "QP-SH-001" / "redline" / "index.html").read_text(encoding="utf-8")
    assert "<title>QP-SH-001 客户投诉受理与处理程序 · 修订对比（A/0 → A/1） - " in page
    assert '<del class="dc-del">24</del><ins class="dc-ins">12</ins>' in page
    assert "assets/doccontrol/redline.css" in page and (site / "assets/doccontrol/redline.css").is_file()
    assert not (site / "QR-SH-001" / "redline").exists() and not (site / "QM-SH-01" / "redline").exists()
    assert not (site / "_doccontrol").exists()
    assert "_doccontrol" not in (site / "sitemap.xml").read_text(encoding="utf-8")
    document = (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    assert '<a class="dc-redline-link" href="redline/">修订对比</a>' in document
    assert "dc-redline-link" not in (site / "QR-SH-001" / "index.html").read_text(encoding="utf-8")


def test_withdrawn_text_is_not_searchable_and_not_on_the_current_page(site):
    entries = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    assert not [e["location"] for e in entries if "redline" in e["location"] or "_doccontrol" in e["location"]]
    text = "".join(e["title"] + e["text"] for e in entries).replace("\u200b", "").replace(" ", "")
    assert "当场登记" not in text and "DCRL" not in text
    assert "网上投诉" in text
    current = (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    assert "当场登记" not in current and "12 小时内响应" in current


def test_build_without_redlines_and_previews_have_none(runner, revised, tmp_path):
    invoke(runner, revised, "build", "--out", str(tmp_path / "plain"), "--no-redlines")
    assert not (tmp_path / "plain" / "QP-SH-001" / "redline").exists()
    assert "dc-redline-link" not in (tmp_path / "plain" / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    invoke(runner, revised, "build", "--preview", "--out", str(tmp_path / "preview"))
    assert not (tmp_path / "preview" / "QP-SH-001" / "redline").exists()


def test_redline_html_is_sanitised_before_its_marks_go_in():
    old = doc("说明。\n")
    new = doc('说明<script>alert(1)</script>。<img src=x onerror="alert(2)">\n', "A/1")
    from doccontrol.diff import redline_html

    rendered = redline_html(diff_documents(old, new))
    assert "<script" not in rendered and "onerror" not in rendered and "<ins" in rendered


def test_a_planted_page_cache_is_ignored(runner, revised, site, tmp_path):
    cache = revised / ".doccontrol-cache" / "redline-pages.json"
    signature, _, payload = cache.read_bytes().partition(b"\n")
    data = json.loads(payload)
    assert len(data["pages"]) == 1
    forged = json.dumps({**data, "pages": {k: [t, "<p>伪造的修订内容</p>"] for k, (t, _) in data["pages"].items()}},
                        ensure_ascii=False).encode()
    cache.write_bytes(signature + b"\n" + forged)
    out = tmp_path / "site"
    invoke(runner, revised, "build", "--out", str(out))
    page = (out / "QP-SH-001" / "redline" / "index.html").read_text(encoding="utf-8")
    assert "伪造的修订内容" not in page and '<del class="dc-del">24</del>' in page


def test_a_redline_page_that_would_load_from_another_host_is_refused(tmp_path):
    from doccontrol.errors import DoccontrolError
    from doccontrol.render.site_redline import checked_content

    old = doc("见下图：![网点分布](https://maps.example.com/net.png)\n")
    new = doc("网点分布见服务网点清单。\n", "A/1")
    with pytest.raises(DoccontrolError, match="would load resources from other hosts"):
        checked_content(diff_documents(old, new))
    assert "dc-ins" in checked_content(diff_documents(doc("甲。\n"), doc("甲乙。\n", "A/1")))
