"""The controlled website, built through the CLI and read back as HTML and as its search index."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import front, git, init_repo, invoke, release_all, write

DRAFT_MARKER = "DRAFTMARK7731"


def build(runner, root: Path, out: Path, *args: str, expect: int = 0):
    return invoke(runner, root, "build", "--out", str(out), *args, expect=expect)


def page(site: Path, rel: str):
    return lxml_html.fromstring((site / rel).read_text(encoding="utf-8"))


def cls(name: str) -> str:
    """An XPath test for an element with the CSS class name."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def find(doc, xpath: str) -> list:
    return doc.xpath(xpath)


def text_of(doc, xpath: str) -> str:
    return " ".join(" ".join(e.text_content() for e in find(doc, xpath)).split())


def header_values(doc) -> dict[str, str]:
    return {td.get("data-dc"): " ".join(td.text_content().split())
            for td in find(doc, f"//section[{cls('dc-header')}]//*[@data-dc]")}


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def search_docs(site: Path) -> list[dict]:
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]


def search_text(site: Path) -> str:
    return "\n".join(f"{d['location']} {d['title']} {d['text']}" for d in search_docs(site))


def register_numbers(site: Path) -> list[str]:
    doc = page(site, "register/index.html")
    return [row.xpath("./td")[0].text_content().strip() for row in find(doc, "//article//table/tbody/tr")]


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "-build-" in p.name)


@pytest.fixture
def site(runner, released_repo, tmp_path) -> Path:
    out = tmp_path / "out" / "site"
    build(runner, released_repo, out)
    return out


def test_procedure_page_shows_its_control_block(site):
    doc = page(site, "QP-SH-001/index.html")
    assert header_values(doc) == {
        "number": "QP-SH-001",
        "revision": "A/0",
        "status": "生效",
        "title": "客户投诉处理程序",
        "effective": "2026-11-20",
        "department": "质量部",
        "type": "程序文件",
        "next_review": "2027-11-20",
        "prepared": "孙小雨 2026-11-16",
        "reviewed": "周立新 2026-11-20",
        "approved": "陈国华 2026-11-20",
    }
    assert text_of(doc, "//h1") == "QP-SH-001 客户投诉处理程序"
    link = find(doc, f"//section[{cls('dc-header')}]//a[{cls('dc-history-link')}]")[0]
    assert link.text_content() == "修订记录"
    record = doc.get_element_by_id(link.get("href").lstrip("#"))
    rows = [[c.text_content() for c in tr.xpath("./td")] for tr in record.getparent().xpath(".//tbody/tr")]
    assert rows == [["A/0", "2026-11-16", "全文", "首次发布", "孙小雨", "陈国华"]]
    assert "受控文件" in text_of(doc, f"//*[{cls('md-banner')}]")
    assert "打印件为非受控文件" in text_of(doc, f"//*[{cls('dc-print-notice')}]")


def test_manual_chapters_carry_the_manual_header(site):
    index = page(site, "QM-SH-01/index.html")
    assert header_values(index)["number"] == "QM-SH-01"
    chapter_links = [a.get("href") for a in find(index, f"//*[{cls('dc-body')}]//a") if a.text_content() == "1 颁布令"]
    assert chapter_links == ["01/"]
    chapter = page(site, "QM-SH-01/01/index.html")
    assert header_values(chapter)["title"] == "售后服务手册"
    assert "本手册自发布之日起实施" in chapter.text_content()
    assert find(chapter, f"//a[{cls('dc-history-link')}]/@href") == ["../#dc-history"]


def test_document_numbers_link_to_published_documents_with_their_title(site):
    doc = page(site, "QP-SH-001/index.html")
    links = find(doc, f"//*[{cls('dc-body')}]//a[{cls('dc-ref')}]")
    assert links and {(a.text_content(), a.get("href"), a.get("title")) for a in links} == {
        ("QR-SH-001", "../QR-SH-001/", "顾客问题处理表")}
    form = page(site, "QR-SH-001/index.html")
    assert find(form, f"//*[{cls('dc-body--form')}]//table")
    assert find(form, f"//*[{cls('dc-body')}]//a[{cls('dc-ref')}]/@href") == ["../QP-SH-001/"]


def test_register_lists_exactly_the_effective_documents(runner, released_repo, tmp_path):
    invoke(runner, released_repo, "new", "procedure", "维修服务程序", "--author", "孙小雨")
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "表单合并", "--as", "陈国华")
    out = tmp_path / "site"
    result = build(runner, released_repo, out)
    assert "built 2 documents" in result.output
    assert register_numbers(out) == ["QM-SH-01", "QP-SH-001"]
    assert not (out / "QR-SH-001").exists() and not (out / "QP-SH-002").exists()
    assert "QR-SH-001" not in " ".join(d["location"] for d in search_docs(out))
    for rel in ("index.html", "QP-SH-001/index.html"):
        nav = text_of(page(out, rel), f"//nav[{cls('md-nav--primary')} or {cls('md-tabs')}]")
        assert "程序文件" in nav and "QR-SH-001" not in nav and "维修服务程序" not in nav
    procedure = page(out, "QP-SH-001/index.html")
    assert not find(procedure, f"//a[{cls('dc-ref')}]"), "a withdrawn form must not be linked"


def test_clause_matrix_maps_clauses_to_documents(site):
    doc = page(site, "clauses/index.html")
    rows = {tr.xpath("./td")[0].text_content(): [(a.text_content(), a.get("href")) for a in tr.xpath("./td[3]//a")]
            for tr in find(doc, "//article//table/tbody/tr")}
    assert rows["GB27922-6.3"] == [("QM-SH-01", "../QM-SH-01/"), ("QP-SH-001", "../QP-SH-001/")]
    assert rows["ISO9001-7.5"] == [("QP-SH-001", "../QP-SH-001/")]
    assert "客户投诉处理程序" in text_of(doc, "//article//table/tbody/tr[td[1]='ISO9001-7.5']/td[3]")


def test_home_page_counts_documents_by_tier(site):
    doc = page(site, "index.html")
    tiers = {text_of(a, f".//*[{cls('dc-tier__label')}]"): text_of(a, f".//*[{cls('dc-tier__count')}]")
             for a in find(doc, f"//a[{cls('dc-tier')}]")}
    assert tiers == {"手册": "1", "程序文件": "1", "记录表单": "1"}
    assert "测试电器有限公司" in text_of(doc, "//h1")
    tabs = [a.text_content().strip() for a in find(doc, f"//a[{cls('md-tabs__link')}]")]
    assert tabs == ["首页", "手册", "程序文件", "记录表单"]


def test_a_draft_revision_stays_out_of_the_controlled_site(runner, released_repo, tmp_path):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "测试修订", "--author", "孙小雨")
    path = next((released_repo / "procedures").glob("QP-SH-001-*.md"))
    path.write_text(path.read_text(encoding="utf-8") + f"\n## 7 草稿条款\n\n{DRAFT_MARKER} 尚未批准的内容。\n",
                    encoding="utf-8")
    git(released_repo, "commit", "-qam", "draft: work on QP-SH-001 A/1")

    controlled = tmp_path / "site"
    build(runner, released_repo, controlled)
    for html_file in html_pages(controlled):
        assert DRAFT_MARKER not in html_file.read_text(encoding="utf-8"), html_file
    assert DRAFT_MARKER not in search_text(controlled)
    assert header_values(page(controlled, "QP-SH-001/index.html"))["revision"] == "A/0"

    preview = tmp_path / "preview"
    build(runner, released_repo, preview, "--preview")
    draft = page(preview, "QP-SH-001/index.html")
    assert DRAFT_MARKER in text_of(draft, f"//*[{cls('dc-body')}]")
    assert DRAFT_MARKER in search_text(preview)
    values = header_values(draft)
    assert (values["revision"], values["status"], values["effective"]) == ("A/1", "草稿", "—")
    for html_file in html_pages(preview):
        if html_file.name == "index.html":
            banner = text_of(page(preview, html_file.relative_to(preview)), f"//*[{cls('dc-draft-banner')}]")
            assert "草稿/未批准" in banner, html_file
    assert "草稿" in text_of(page(preview, "index.html"), "//title")


def test_preview_never_goes_into_the_controlled_folder(runner, released_repo, tmp_path):
    result = invoke(runner, released_repo, "build", "--preview", "--out", str(released_repo / "site"), expect=1)
    assert "controlled site folder" in result.output
    controlled = tmp_path / "site"
    build(runner, released_repo, controlled)
    result = build(runner, released_repo, controlled, "--preview", expect=1)
    assert "over the controlled site" in result.output
    assert "草稿/未批准" not in (controlled / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["root", "parent", "config", "stranger", "controlled-folder"])
def test_refuses_an_output_folder_it_would_destroy(runner, released_repo, tmp_path, where):
    stranger = tmp_path / "notes"
    write(stranger, "keep.txt", "not a site")
    config_dir = tmp_path / "other"
    write(config_dir, "doccontrol.yml", "company: x\n")
    out = {"root": released_repo, "parent": released_repo.parent, "config": config_dir,
           "stranger": stranger, "controlled-folder": released_repo / "procedures"}[where]
    result = invoke(runner, released_repo, "build", "--out", str(out), expect=1)
    assert "refusing" in result.output
    assert (released_repo / "doccontrol.yml").is_file()
    assert (stranger / "keep.txt").is_file() and (config_dir / "doccontrol.yml").is_file()
    assert next((released_repo / "procedures").glob("QP-SH-001-*.md")).is_file()


def add_procedure(runner, root: Path, title: str, *, release: bool) -> None:
    """QP-SH-002 with the given title (YAML single-quoted), mentioning itself and QP-SH-001."""
    quoted = "'" + title.replace("'", "''") + "'"
    text = front("QP-SH-002", quoted, "procedure", status="draft") + "\n## 1 目的\n\n见 QP-SH-002 与 QP-SH-001。\n"
    write(root, "procedures/QP-SH-002-hostile.md", text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hostile title")
    if release:
        invoke(runner, root, "submit", "QP-SH-002")
        release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001", "QP-SH-002"))


def assert_title_is_text(out: Path, title: str) -> None:
    for html_file in html_pages(out):
        raw = html_file.read_text(encoding="utf-8")
        assert "<script>alert" not in raw and "<img src=x" not in raw, html_file
        doc = lxml_html.fromstring(raw)
        assert not any("alert" in (s.text or "") for s in find(doc, "//script")), html_file
        assert not find(doc, "//img[@onerror] | //*[@onmouseover]"), html_file
    doc = page(out, "QP-SH-002/index.html")
    assert header_values(doc)["title"] == " ".join(title.split())
    assert find(doc, "//title")[0].text_content().startswith("QP-SH-002 " + title)
    assert {a.get("title") for a in find(doc, f"//a[{cls('dc-ref')}]") if a.text_content() == "QP-SH-002"} == {title}
    register = page(out, "register/index.html")
    assert title in [td.text_content() for td in find(register, "//td")]
    assert title in find(page(out, "index.html"), f"//*[{cls('md-content')}]")[0].text_content()
    nav_titles = [a.text_content().strip() for a in find(doc, f"//nav[{cls('md-nav--primary')}]//a")]
    assert f"QP-SH-002 {title}" in nav_titles


def test_hostile_title_renders_as_text(runner, repo, tmp_path):
    """`check` refuses < and > in titles before release; the site escapes them anyway (here: a preview)."""
    title = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    add_procedure(runner, repo, title, release=False)
    out = tmp_path / "preview"
    build(runner, repo, out, "--preview")
    assert_title_is_text(out, title)


def test_released_title_cannot_break_out_of_an_attribute(runner, tmp_path):
    root = init_repo(tmp_path / "quotes")
    title = "\" onmouseover=\"alert(1)\" x=' &amp; 客户投诉"
    add_procedure(runner, root, title, release=True)
    out = tmp_path / "site"
    build(runner, root, out)
    assert_title_is_text(out, title)


def test_no_resource_is_loaded_from_another_host(site):
    remote = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
    checked = 0
    for html_file in html_pages(site):
        doc = lxml_html.fromstring(html_file.read_text(encoding="utf-8"))
        for element in find(doc, "//script[@src] | //img[@src] | //iframe[@src] | //source[@src] | //link[@href]"):
            if element.tag == "link" and element.get("rel") in ("canonical", "alternate"):
                continue
            url = element.get("src") or element.get("href")
            assert not remote.match(url), f"{html_file}: {url}"
            checked += 1
        for style in find(doc, "//style"):
            assert not re.search(r"@import|url\(\s*['\"]?\s*(?:https?:)?//", style.text or ""), html_file
    assert checked > 50
    for css in site.rglob("*.css"):
        assert not re.search(r"@import\s*(?:url\()?\s*['\"]?\s*(?:https?:)?//", css.read_text(encoding="utf-8")), css
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")


def test_a_document_that_loads_a_remote_image_is_not_published(runner, released_repo, tmp_path):
    path = next((released_repo / "procedures").glob("QP-SH-001-*.md"))
    path.write_text(path.read_text(encoding="utf-8") + "\n![logo](https://cdn.example.com/logo.png)\n",
                    encoding="utf-8")
    out = tmp_path / "preview"
    result = build(runner, released_repo, out, "--preview", expect=1)
    assert "other hosts" in result.output and "cdn.example.com" in result.output
    assert not out.exists() and leftovers(tmp_path) == []


def test_chinese_search_index_splits_compounds(runner, repo, tmp_path):
    body = textwrap.dedent("""\

        ## 1 目的

        规定维修服务与技术支持控制程序，以及客户满意度调查表和顾客有效投诉处理率统计表的使用。
        """)
    write(repo, "procedures/QP-SH-002-维修服务控制程序.md", front("QP-SH-002", "维修服务控制程序", "procedure") + body)
    out = tmp_path / "preview"
    build(runner, repo, out, "--preview")
    tokens = set()
    for entry in search_docs(out):
        if entry["location"].startswith("QP-SH-002/"):
            tokens |= set(re.split(r"[\s\u200b，。、；：（）《》]+", entry["title"] + " " + entry["text"]))
    assert {"程序", "投诉", "维修", "满意度"} <= tokens
    title_tokens = {t for e in search_docs(out) if e["location"] == "QP-SH-001/" for t in e["title"].split("\u200b")}
    assert {"投诉", "程序"} <= title_tokens


def test_a_failed_build_keeps_the_previous_site(runner, site, released_repo, monkeypatch):
    import mkdocs.commands.build

    before = (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")

    def broken(config, **kwargs):
        Path(config["site_dir"]).mkdir(parents=True, exist_ok=True)
        (Path(config["site_dir"]) / "index.html").write_text("half a site", encoding="utf-8")
        raise RuntimeError("disk full")

    monkeypatch.setattr(mkdocs.commands.build, "build", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build(runner, released_repo, site)
    assert (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []

    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mkdocs.commands.build, "build", interrupted)
    result = build(runner, released_repo, site, expect=130)
    assert "interrupted" in result.output
    assert (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []


def test_a_failed_swap_puts_the_previous_site_back(runner, site, released_repo, monkeypatch):
    from doccontrol.render import site as site_module

    before = (site / "index.html").read_text(encoding="utf-8")
    real_rename = site_module.os.rename

    def rename(src, dst):
        if Path(dst) == site and Path(src).name == "site":
            raise OSError("device busy")
        real_rename(src, dst)

    monkeypatch.setattr(site_module.os, "rename", rename)
    with pytest.raises(OSError, match="device busy"):
        build(runner, released_repo, site)
    assert (site / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []


def test_a_rebuild_replaces_the_site(runner, site, released_repo):
    (site / "stale.html").write_text("old page", encoding="utf-8")
    build(runner, released_repo, site)
    assert not (site / "stale.html").exists()
    assert (site / "QP-SH-001" / "index.html").is_file()
    assert leftovers(site.parent) == []


def test_a_body_opening_with_a_rule_is_text_not_page_metadata(runner, repo, tmp_path):
    body = "---\n说明: 本段不是元数据\n---\n\n## 1 目的\n\n规定投诉处理。\n"
    write(repo, "procedures/QP-SH-002-规则开头.md", front("QP-SH-002", "规则开头", "procedure") + body)
    out = tmp_path / "preview"
    build(runner, repo, out, "--preview")
    doc = page(out, "QP-SH-002/index.html")
    assert "说明: 本段不是元数据" in text_of(doc, f"//*[{cls('dc-body')}]")
    assert header_values(doc)["number"] == "QP-SH-002"
