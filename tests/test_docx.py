"""Word exports read back as a reader gets them: python-docx for the structure, LibreOffice + poppler for the page."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from doccontrol.render import docx as render_docx
from doccontrol.workspace import Workspace

from conftest import invoke, write

COMPANY = "测试电器有限公司"
PROCEDURE_TEXT = [
    "1 目的", "规范客户投诉的受理与处理，确保投诉在规定时限内关闭。", "2 范围", "适用于本公司全部产品的售后投诉。",
    "3.1 客服中心：负责投诉的受理、登记和回访。", "4.1 客服专员接到投诉后 24 小时内响应，并填写 QR-SH-001。",
    "电话投诉", "当场登记", "书面投诉", "QR-SH-001《顾客问题处理表》",
]
PROCEDURE_CELLS = ["步骤", "时限", "受理", "24 小时", "结案", "5 个工作日"]
FIELD_CHARS = ("begin", "separate", "end")


def export(runner, root: Path, out: Path, number: str, *args: str) -> Path:
    result = invoke(runner, root, "export", number, "--out", str(out), *args)
    return Path(result.output.strip())


def part_xml(path, prefix: str) -> str:
    with zipfile.ZipFile(path) as package:
        return "".join(package.read(n).decode("utf-8") for n in sorted(package.namelist()) if n.startswith(prefix))


def all_text(document) -> str:
    """Every paragraph, in the body and in every table cell (nested lists and tables included)."""
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts += [cell.text for cell in row.cells]
    return "\n".join(texts)


def body_section_header(document):
    return document.sections[-1].header


def header_text(header) -> str:
    return "\n".join(cell.text for table in header.tables for row in table.rows for cell in row.cells)


def test_procedure_export_reads_back_as_a_controlled_document(runner, released_repo, tmp_path):
    path = export(runner, released_repo, tmp_path, "QP-SH-001")
    assert path.name == "QP-SH-001-A0-客户投诉处理程序.docx"
    document = docx.Document(path)

    header = body_section_header(document)
    text = header_text(header)
    for value in (COMPANY, "客户投诉处理程序", "QP-SH-001", "A/0", "第", "页 共"):
        assert value in text
    assert "生效日期：2026-11-20" in text
    instructions = [el.text.strip() for el in header._element.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    kinds = [el.get(qn("w:fldCharType")) for el in header._element.iter(qn("w:fldChar"))]
    assert kinds == list(FIELD_CHARS) * 2
    footer = document.sections[-1].footer.paragraphs[0].text
    assert footer.startswith("受控状态：非受控") and "只供参考" in footer
    assert "@@" not in part_xml(path, "word/")

    text = all_text(document)
    for sentence in PROCEDURE_TEXT + PROCEDURE_CELLS:
        assert sentence in text, sentence
    assert "周立新" in text and "陈国华" in text and "孙小雨" in text

    approval = next(t for t in document.tables if t.rows[0].cells[1].text == "签名")
    from doccontrol.signing import load_signer

    from conftest import KEYS

    def key(name):
        return load_signer(str(KEYS[name])).public.fingerprint[:19]

    assert [[c.text for c in row.cells] for row in approval.rows[1:]] == [
        ["编制", "孙小雨", "2026-11-16", ""], ["审核", "周立新", "2026-11-20 10:00", key("周立新")],
        ["批准", "陈国华", "2026-11-20 10:00", key("陈国华")]]
    assert "非受控 只供参考，使用前请与受控文件网站核对版本" in [p.text for p in document.paragraphs]
    record = next(t for t in document.tables if t.rows[0].cells[0].text == "版本/修改码")
    assert [c.text for c in record.rows[0].cells] == ["版本/修改码", "日期", "修订章节", "修订内容摘要", "编制", "批准"]
    assert [c.text for c in record.rows[1].cells] == ["A/0", "2026-11-16", "全文", "首次发布", "孙小雨", "陈国华"]
    assert "修订记录" in [p.text for p in document.paragraphs]

    props = document.core_properties
    assert (props.title, props.identifier, props.version, props.content_status) == \
        ("客户投诉处理程序", "QP-SH-001", "A/0", "生效")
    assert "程序文件" in props.subject and "GB27922-6.3" in props.keywords
    assert props.created.date().isoformat() == props.modified.date().isoformat() == "2026-11-20"


def test_a4_and_east_asian_fonts_on_defaults_and_every_style(runner, released_repo, tmp_path):
    document = docx.Document(export(runner, released_repo, tmp_path, "QP-SH-001"))
    for section in document.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    checked = 0
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) == "numbering":
            continue
        fonts = style.find(qn("w:rPr")).find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) in ("宋体", "黑体"), style.get(qn("w:styleId"))
        assert fonts.get(qn("w:eastAsiaTheme")) is None
        checked += 1
    assert checked > 40
    assert document.styles["Heading 2"].element.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"


def test_form_prints_as_a_bordered_form_with_blank_cells_and_check_boxes(runner, released_repo, tmp_path):
    path = export(runner, released_repo, tmp_path, "QR-SH-001")
    document = docx.Document(path)
    form = next(t for t in document.tables if t.rows[0].cells[0].text == "项目")
    assert [[c.text for c in row.cells] for row in form.rows] == [
        ["项目", "内容", "项目", "内容"], ["客户姓名", "", "联系电话", ""], ["处理结果", "□已解决 □未解决", "", ""]]
    style = document.styles[form.style.name].element
    borders = style.find(qn("w:tblPr")).find(qn("w:tblBorders"))
    assert {b.tag.split("}")[1]: b.get(qn("w:val")) for b in borders} == {
        side: "single" for side in ("top", "left", "bottom", "right", "insideH", "insideV")}
    text = all_text(document)
    assert "填写说明：客服专员受理投诉时填写，依据 QP-SH-001。" in text
    assert "填表人：__________ 日期：____年__月__日" in text
    assert "顾客问题处理表" in [p.text for p in document.paragraphs]


def test_landscape_form_is_landscape_from_its_first_page(runner, repo, tmp_path):
    form = repo / "forms/QR-SH-001-顾客问题处理表.md"
    form.write_text(form.read_text(encoding="utf-8").replace("orientation: portrait", "orientation: landscape"),
                    encoding="utf-8")
    document = docx.Document(export(runner, repo, tmp_path, "QR-SH-001", "--revision", "A/0"))
    assert len(document.sections) == 1
    body = document.sections[0]
    assert body.page_width > body.page_height
    assert round(body.page_width.cm, 1) == 29.7


def test_a_procedure_with_a_landscape_page_setup_keeps_a_portrait_cover(runner, released_repo, tmp_path):
    document = docx.Document(export(runner, released_repo, tmp_path, "QP-SH-001"))
    cover, body = document.sections[0], document.sections[-1]
    assert cover.page_width < cover.page_height and body.page_width < body.page_height
    assert len(document.sections) == 2


def test_manual_export_holds_every_chapter(runner, released_repo, tmp_path):
    document = docx.Document(export(runner, released_repo, tmp_path, "QM-SH-01"))
    text = all_text(document)
    assert "本手册说明公司的售后服务管理体系。" in text
    assert "本手册自发布之日起实施，客户投诉按 QP-SH-001 处理。" in text
    assert "1 颁布令" in text
    assert document.core_properties.identifier == "QM-SH-01"


def revise_and_release(runner, root: Path):
    invoke(runner, root, "revise", "QP-SH-001", "--reason", "增加电话回访要求", "--author", "孙小雨")
    invoke(runner, root, "submit", "QP-SH-001")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, root, "release", "QP-SH-001")


def test_old_revision_is_marked_obsolete_on_every_page(runner, released_repo, tmp_path):
    revise_and_release(runner, released_repo)
    old = export(runner, released_repo, tmp_path, "QP-SH-001", "--revision", "A/0")
    current = export(runner, released_repo, tmp_path, "QP-SH-001")
    assert (old.name, current.name) == ("QP-SH-001-A0-客户投诉处理程序.docx", "QP-SH-001-A1-客户投诉处理程序.docx")

    headers = part_xml(old, "word/header")
    assert headers.count('string="作废"') == 2
    assert 'rotation:315' in headers
    document = docx.Document(old)
    assert document.core_properties.content_status == "作废"
    assert "受控状态：作废" in document.sections[-1].footer.paragraphs[0].text
    assert "string=" not in part_xml(current, "word/header")
    record = docx.Document(current).tables
    assert any(row.cells[0].text == "A/1" and row.cells[3].text == "增加电话回访要求" for t in record for row in t.rows)


def test_working_draft_is_marked_draft(runner, released_repo, tmp_path):
    invoke(runner, released_repo, "revise", "QR-SH-001", "--reason", "增加字段", "--author", "孙小雨")
    path = export(runner, released_repo, tmp_path, "QR-SH-001", "--revision", "A/1")
    assert part_xml(path, "word/header").count('string="草稿"') == 2
    assert docx.Document(path).core_properties.content_status == "草稿"


def test_export_refuses_what_it_cannot_export_with_a_hint(runner, repo, released_repo, tmp_path):
    result = invoke(runner, released_repo, "export", "QP-SH-999", "--out", str(tmp_path), expect=1)
    assert "no document numbered QP-SH-999" in result.output and "fix:" in result.output
    result = invoke(runner, released_repo, "export", "QP-SH-001", "--revision", "B/3", "--out", str(tmp_path), expect=1)
    assert "has no revision B/3" in result.output and "A/0" in result.output
    result = invoke(runner, released_repo, "export", "QP-SH-001", "--revision", "a0", "--out", str(tmp_path), expect=1)
    assert "A/0" in result.output
    result = invoke(runner, repo, "export", "QP-SH-001", "--out", str(tmp_path), expect=1)
    assert "never been released" in result.output and "--revision A/0" in result.output
    assert list(tmp_path.glob("*.docx")) == []


def test_a_document_converts_to_the_same_bytes_alone_or_in_a_batch(released_repo):
    ws = Workspace(released_repo)
    items = [render_docx.rendition(ws.config, doc) for doc in ws.documents()]
    together = render_docx.render(ws.config, items, use_cache=False).files
    alone = [render_docx.render(ws.config, [item], use_cache=False).files[0] for item in items]
    assert together == alone


# -- what a reader sees on paper ---------------------------------------------------------------

def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.office
@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                    reason="needs LibreOffice and poppler")
def test_pdf_shows_header_page_numbers_and_chinese_text(runner, released_repo, tmp_path, artifacts):
    out = tmp_path / "docx"
    files = [export(runner, released_repo, out, number) for number in ("QM-SH-01", "QP-SH-001", "QR-SH-001")]
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *map(str, files)],
                   check=True, capture_output=True, timeout=180)
    expected = {
        "QM-SH-01": ["售后服务手册", "本手册自发布之日起实施，客户投诉按QP-SH-001处理。"],
        "QP-SH-001": ["客户投诉处理程序", *PROCEDURE_TEXT, *PROCEDURE_CELLS],
        "QR-SH-001": ["顾客问题处理表", "□已解决□未解决", "填表人：__________日期：____年__月__日"],
    }
    for path in files:
        pdf = tmp_path / "pdf" / path.with_suffix(".pdf").name
        pages, text = pdf_pages(pdf), pdf_text(pdf)
        number = path.name.split("-A0-")[0]
        flat = squeeze(text).replace("\u2011", "-")
        assert pages >= (1 if number.startswith("QR") else 3)
        assert re.search(rf"第\s*1\s*页\s*共\s*{pages}\s*页", text), text[:2000]
        assert re.search(rf"第\s*{pages}\s*页\s*共\s*{pages}\s*页", text)
        for value in (COMPANY, f"文件编号：{number}", "版本/修改码：A/0", "生效日期：2026-11-20", "受控状态：非受控",
                      "修订记录", "周立新", "陈国华"):
            assert squeeze(value) in flat, (number, value)
        assert "受控状态：受控" not in flat
        for value in expected[number]:
            assert squeeze(value) in flat, (number, value)
        shutil.copy(pdf, artifacts / pdf.name)


RICH_BODY = """
## 1 目的

见 [国家标准全文公开系统](https://openstd.samr.gov.cn/) 和 *强调* 与 **加粗**。[^1]

3. 第三步
4. 第四步
    1. 子步骤

```
代码 1
```

![流程图](flow.png)

[^1]: 注释内容。
"""


def test_links_lists_and_notes_stay_with_their_own_document_in_a_batch(repo):
    proc = repo / "procedures/QP-SH-001-客户投诉处理程序.md"
    text = proc.read_text(encoding="utf-8")
    proc.write_text(text[: text.index("## 1 目的")] + RICH_BODY, encoding="utf-8")
    ws = Workspace(repo)
    items = [render_docx.rendition(ws.config, doc, "draft") for doc in ws.documents()]
    files = dict(zip((item.doc.number for item in items), render_docx.render(ws.config, items, use_cache=False).files))
    rich = docx.Document(io.BytesIO(files["QP-SH-001"]))
    links = [rel.target_ref for rel in rich.part.rels.values() if rel.reltype.endswith("/hyperlink")]
    assert links == ["https://openstd.samr.gov.cn/"]
    text = all_text(rich)
    for value in ("国家标准全文公开系统", "强调", "加粗", "第三步", "第四步", "子步骤", "代码 1", "流程图", "注",
                  "注释内容。"):
        assert value in text, value
    numbering = part_xml(io.BytesIO(files["QP-SH-001"]), "word/numbering.xml")
    used = set(re.findall(r'<w:numId w:val="(\d+)"', part_xml(io.BytesIO(files["QP-SH-001"]), "word/document.xml")))
    assert used and used <= set(re.findall(r'<w:num w:numId="(\d+)"', numbering))
    for number, data in files.items():
        if number != "QP-SH-001":
            rels = docx.Document(io.BytesIO(data)).part.rels.values()
            assert not [r for r in rels if r.reltype.endswith("/hyperlink")]


def test_a_release_not_yet_effective_is_exported_only_by_name_and_marked(runner, repo, tmp_path):
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "审核")
    invoke(runner, repo, "approve", "QP-SH-001", "--as", "陈国华", "--role", "批准")
    invoke(runner, repo, "release", "QP-SH-001", "--effective", "2026-12-01")
    result = invoke(runner, repo, "export", "QP-SH-001", "--out", str(tmp_path), expect=1)
    assert "takes effect on 2026-12-01" in result.output and "--revision A/0" in result.output
    path = export(runner, repo, tmp_path, "QP-SH-001", "--revision", "A/0")
    assert part_xml(path, "word/header").count('string="未生效"') == 2


def test_a_shallow_clone_exports_the_approved_revision_and_says_so(runner, released_repo, tmp_path):
    from doccontrol.publication import NO_HISTORY_NOTICE

    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "增加电话回访要求", "--author", "孙小雨")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released_repo}", str(shallow)], check=True)
    out = tmp_path / "out"

    refused = invoke(runner, shallow, "export", "QR-SH-001", "--out", str(out), expect=1)
    assert "there is no git history here" in refused.output and "--allow-no-history" in refused.output
    current = invoke(runner, shallow, "export", "QR-SH-001", "--out", str(out), "--allow-no-history")
    assert current.stderr == f"notice: {NO_HISTORY_NOTICE}\n"
    path = Path(current.stdout.strip())
    assert path.name == "QR-SH-001-A0-顾客问题处理表.docx"
    assert "string=" not in part_xml(path, "word/header")
    assert "QR-SH-001" in header_text(body_section_header(docx.Document(path)))

    refused = invoke(runner, shallow, "export", "QP-SH-001", "--out", str(out), "--allow-no-history", expect=1)
    assert "QP-SH-001 A/0 is in force, but this copy holds only the working file (A/1, 草稿)" in refused.output
    assert "--revision A/1" in refused.output and "git fetch --unshallow" in refused.output
    draft = Path(invoke(runner, shallow, "export", "QP-SH-001", "--revision", "A/1", "--out", str(out),
                        "--allow-no-history").stdout.strip())
    assert part_xml(draft, "word/header").count('string="草稿"') == 2
    old = invoke(runner, shallow, "export", "QP-SH-001", "--revision", "A/0", "--out", str(out), "--allow-no-history",
                 expect=1)
    assert "A/0 cannot be read here" in old.output and "git fetch --unshallow" in old.output
    assert sorted(p.name for p in out.iterdir()) == [draft.name, path.name]


# -- forms to fill in, the manual's contents, tables that read well ---------------------------------

def blank_of(released_repo, number: str) -> bytes:
    ws = Workspace(released_repo)
    doc = next(d for d in ws.documents() if d.number == number)
    return render_docx.render(ws.config, [render_docx.blank_form(ws.config, doc)], use_cache=False).files[0]


def test_a_blank_form_starts_with_the_form_and_carries_no_approvals(released_repo, tmp_path):
    path = tmp_path / "blank.docx"
    path.write_bytes(blank_of(released_repo, "QR-SH-001"))
    document = docx.Document(path)
    assert len(document.sections) == 1
    assert document.paragraphs[0].text == "顾客问题处理表"
    header = header_text(document.sections[0].header)
    for value in ("QR-SH-001", "A/0", "生效日期：2026-11-20", "第"):
        assert value in header
    text = all_text(document)
    for absent in ("签名", "审批", "修订记录", "非受控", "受控状态", "孙小雨"):
        assert absent not in text, absent
    assert document.sections[0].footer.paragraphs[0].text.strip() == ""
    form = document.tables[0]
    assert [c.text for c in form.rows[0].cells] == ["项目", "内容", "项目", "内容"]


@pytest.mark.office
def test_a_blank_form_prints_the_form_on_page_one(released_repo, tmp_path):
    path = tmp_path / "QR-SH-001-blank.docx"
    path.write_bytes(blank_of(released_repo, "QR-SH-001"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=180)
    pdf = path.with_suffix(".pdf")
    first = squeeze(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout).replace("\u2011", "-")
    for value in ("顾客问题处理表", "客户姓名", "联系电话", "填表人", "QR-SH-001", "版本/修改码：A/0", "第1页共1页"):
        assert value in first, value
    assert "非受控" not in first and "修订记录" not in first


def test_the_manual_has_a_table_of_contents_and_chapters_on_new_pages(runner, repo, tmp_path):
    write(repo, "docs/QM-SH-01-售后服务手册/02-组织机构.md", "## 2 组织机构\n\n### 2.1 职责\n\n总经理负责。\n")
    path = export(runner, repo, tmp_path, "QM-SH-01", "--revision", "A/0")
    xml = part_xml(path, "word/document.xml")
    body = xml[xml.index("目录"):]
    entries = re.findall(r'<w:hyperlink w:anchor="(dc-h-\d+)"[^>]*><w:r><w:t[^>]*>([^<]*)</w:t>', body)
    assert [text for _, text in entries] == ["1 颁布令", "2 组织机构", "2.1 职责"]
    for anchor, _ in entries:
        assert f"PAGEREF {anchor} " in body and f'w:name="{anchor}"' in body
    for anchor, title in entries[:2]:
        heading = body.index(f'w:name="{anchor}"')
        page_break = body.rindex('w:type="page"', 0, heading)
        assert "<w:t" not in body[page_break:heading], f"{title} does not start a new page"


@pytest.mark.office
def test_the_manuals_contents_print_with_page_numbers(runner, repo, tmp_path):
    write(repo, "docs/QM-SH-01-售后服务手册/02-组织机构.md", "## 2 组织机构\n\n总经理负责。\n")
    path = export(runner, repo, tmp_path, "QM-SH-01", "--revision", "A/0")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=180)
    pdf = path.with_suffix(".pdf")
    pages = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], check=True, capture_output=True,
                            text=True).stdout for n in range(1, pdf_pages(pdf) + 1)]
    contents = next(n for n, text in enumerate(pages, 1) if "目录" in text)
    listed = dict(re.findall(r"^(\d 颁布令|\d 组织机构)\.+\s*(\d+)$", pages[contents - 1], re.M))
    for title, number in listed.items():
        assert title in pages[int(number) - 1], (title, number)
    assert set(listed) == {"1 颁布令", "2 组织机构"}


WIDE_TABLE = """
| 手册章节 / 过程 | 总经理办公室 | 质量部 | 售后服务部 | 客服中心 | 技术部 | 行政人事部 | 仓储物流部 | 销售部 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| 14.1 服务改进（纠正和预防措施） | ○ | ● | ○ | ○ | ○ | ○ | ○ | ○ |
| 9.2 服务网点（自建与委外） | ○ | ○ | ● | ○ | ○ | ○ | ○ | ○ |

| 日期 | 文件编号 | 说明 |
| --- | --- | --- |
| 2026-11-16 | QP-SH-001 | 首次发布，覆盖全部售后服务网点和委外维修商的投诉受理、调查、答复和结案要求 |
"""


def test_table_columns_follow_their_content_and_rows_and_dates_stay_whole(runner, repo, tmp_path):
    proc = repo / "procedures/QP-SH-001-客户投诉处理程序.md"
    proc.write_text(proc.read_text(encoding="utf-8") + WIDE_TABLE, encoding="utf-8")
    document = docx.Document(export(runner, repo, tmp_path, "QP-SH-001", "--revision", "A/0"))
    wide = next(t for t in document.tables if t.rows[0].cells[0].text == "手册章节 / 过程")
    widths = [int(col.get(qn("w:w"))) for col in wide._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert widths[0] > 2 * max(widths[2], widths[5]), widths
    assert widths[1] > widths[2]
    dated = next(t for t in document.tables if t.rows[0].cells[0].text == "日期")
    dated_widths = [int(col.get(qn("w:w"))) for col in dated._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert dated_widths[2] > dated_widths[0] and dated_widths[0] >= 0.12 * sum(dated_widths)
    assert dated.rows[1].cells[0].text == "2026-11-16"
    assert '<w:noBreakHyphen/>' in dated.rows[1].cells[0]._tc.xml
    rows = document.element.body.iter(qn("w:tr"))
    assert all(tr.find(qn("w:trPr")) is not None and tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None
               for tr in rows)
