"""The controlled website, built through the CLI and read back as HTML and as its search index."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import front, git, init_repo, invoke, release_all, write

DRAFT_MARKER = "DRAFTMARK7731"


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
                       "RU5ErkJggg==")  # a 1x1 picture


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
    return [row.xpath("./td")[0].text_content().strip()
            for row in find(doc, f"//article//table[{cls('dc-register')}]/tbody/tr")]


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "-build-" in p.name)


@pytest.fixture
def site(runner, released_repo, tmp_path) -> Path:
    out = tmp_path / "out" / "site"
    build(runner, released_repo, out)
    return out


def test_procedure_page_shows_its_control_block(site):
    doc = page(site, "QP-SH-001/index.html")
    from doccontrol.signing import load_signer

    from conftest import KEYS

    values = header_values(doc)
    assert values == {
        "number": "QP-SH-001",
        "revision": "A/0",
        "status": "生效",
        "effective": "2026-11-20",
        "department": "质量部",
        "type": "程序文件",
        "next_review": "2027-11-20",
        "prepared": "孙小雨 2026-11-16",
        "reviewed": f"周立新 2026-11-20 10:00 {load_signer(str(KEYS['周立新'])).public.fingerprint[:19]}",
        "approved": f"陈国华 2026-11-20 10:00 {load_signer(str(KEYS['陈国华'])).public.fingerprint[:19]}",
    }
    labels = [dt.text_content() for dt in find(doc, f"//section[{cls('dc-header')}]//dt")]
    assert labels[:6] == ["文件编号", "版本/修改码", "状态", "生效日期", "审核", "批准"]
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
    assert header_values(chapter)["number"] == "QM-SH-01"
    assert text_of(chapter, "//h1") == "QM-SH-01 售后服务手册 1 颁布令"
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
    withdrawn = [[td.text_content() for td in tr.xpath("./td")]
                 for tr in find(page(out, "register/index.html"), f"//table[{cls('dc-withdrawn')}]/tbody/tr")]
    assert [row[:4] for row in withdrawn] == [["QR-SH-001", "顾客问题处理表", "作废", "2026-11-20"]]
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
            for tr in find(doc, f"//article//table[{cls('dc-clauses')}]/tbody/tr")}
    assert rows["GB27922-6.3"] == [("QM-SH-01", "../QM-SH-01/"), ("QP-SH-001", "../QP-SH-001/")]
    assert rows["ISO9001-7.5"] == [("QP-SH-001", "../QP-SH-001/")]
    assert "客户投诉处理程序" in text_of(doc, "//article//table/tbody/tr[td[1]='ISO9001-7.5']/td[3]")


def test_home_page_shows_changes_first_then_the_shelves(site):
    doc = page(site, "index.html")
    headings = [h.text_content().strip("¶ ") for h in find(doc, "//article//h2")]
    assert headings == ["最近变更", "文件目录"]
    changes = [[td.text_content() for td in tr.xpath("./td")]
               for tr in find(doc, f"//table[{cls('dc-changes')}]/tbody/tr")]
    assert changes == [["2026-11-20", "QR-SH-001", "顾客问题处理表", "首次发布 A/0"],
                       ["2026-11-20", "QP-SH-001", "客户投诉处理程序", "首次发布 A/0"],
                       ["2026-11-20", "QM-SH-01", "售后服务手册", "首次发布 A/0"]]
    shelves = {text_of(a, f".//*[{cls('dc-shelf__label')}]"):
               (a.get("href"), text_of(a, f".//*[{cls('dc-shelf__count')}]"))
               for a in find(doc, f"//ul[{cls('dc-shelf')}]//a")}
    assert shelves == {"手册": ("manual/", "1 份"), "程序文件": ("procedure/", "1 份"), "记录表单": ("form/", "1 份"),
                       "受控文件清单": ("register/", "共 3 份"), "条款对照": ("clauses/", "标准与文件")}
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
        if html_file.name == "index.html" and html_file.parent.name != "search":
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
    assert text_of(doc, f"//span[{cls('dc-title__text')}]") == " ".join(title.split())
    assert find(doc, "//title")[0].text_content().startswith("QP-SH-002 " + title)
    assert {a.get("title") for a in find(doc, f"//a[{cls('dc-ref')}]") if a.text_content() == "QP-SH-002"} == {title}
    register = page(out, "register/index.html")
    assert title in [td.text_content() for td in find(register, "//td")]
    assert title in [td.text_content() for td in find(page(out, "procedure/index.html"), "//td")]
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


def test_a_remote_image_is_never_loaded_by_the_site(runner, released_repo, tmp_path):
    """check refuses it; a preview shows its description instead of asking another host for it."""
    path = next((released_repo / "procedures").glob("QP-SH-001-*.md"))
    path.write_text(path.read_text(encoding="utf-8") + "\n![公司标志](https://cdn.example.com/logo.png)\n",
                    encoding="utf-8")
    assert "is not in the repository (https:)" in invoke(runner, released_repo, "check", expect=1).output
    out = tmp_path / "preview"
    build(runner, released_repo, out, "--preview")
    assert not any("cdn.example.com" in page.read_text(encoding="utf-8") for page in out.rglob("*.html"))
    assert "<span>公司标志</span>" in (out / "QP-SH-001" / "index.html").read_text(encoding="utf-8")


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
        build(runner, released_repo, site, "--no-cache")  # nothing changed: without --no-cache nothing is built
    assert (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []

    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mkdocs.commands.build, "build", interrupted)
    result = build(runner, released_repo, site, "--no-cache", expect=130)  # a build that renders every page
    assert "interrupted" in result.output
    assert (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []


def test_a_failed_swap_puts_the_previous_site_back(runner, site, released_repo, monkeypatch):
    from doccontrol.render import site_output as site_module

    before = (site / "index.html").read_text(encoding="utf-8")
    real_rename = site_module.os.rename

    def rename(src, dst):
        if Path(dst) == site and Path(src).name == "site":
            raise OSError("device busy")
        real_rename(src, dst)

    monkeypatch.setattr(site_module.os, "rename", rename)
    with pytest.raises(OSError, match="device busy"):
        build(runner, released_repo, site, "--no-cache")  # a build that renders every page
    assert (site / "index.html").read_text(encoding="utf-8") == before
    assert leftovers(site.parent) == []


def settled(parent: Path, seconds: float = 60) -> list[str]:
    """The build folders left in parent once the old site's remover (fileio.remove_in_background) is done."""
    deadline = time.monotonic() + seconds
    while leftovers(parent) and time.monotonic() < deadline:
        time.sleep(0.05)
    return leftovers(parent)


def test_a_rebuild_replaces_the_site(runner, site, released_repo):
    (site / "stale.html").write_text("old page", encoding="utf-8")
    build(runner, released_repo, site)
    assert not (site / "stale.html").exists()
    assert (site / "QP-SH-001" / "index.html").is_file()
    assert settled(site.parent) == []


def test_the_old_site_goes_after_the_command_and_leaves_the_new_one_as_recorded(runner, site, released_repo):
    """The previous site's folders are removed by a process of their own after `build` returns, under a name
    that carries that process's id (no other build takes them for a stale leftover); its files, many of them
    hard links to pages kept in the new site, go before build returns, so the new site's record still holds
    once the remover is done: the next build keeps every page."""
    from doccontrol.fileio import _OWNER

    edit = released_repo / "procedures/QP-SH-001-客户投诉处理程序.md"
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "补充回访时限", "--author", "孙小雨")
    write(released_repo, edit.relative_to(released_repo).as_posix(),
          edit.read_text(encoding="utf-8") + "\n## 9 补充\n\n回访在 3 个工作日内完成。\n")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, released_repo, "release", "QP-SH-001")
    result = build(runner, released_repo, site)
    assert "QP-SH-001 A/1 released" in result.output
    for name in leftovers(site.parent):  # still being removed: owned by the live remover, never by the build
        owner = _OWNER.fullmatch(name[len(".site-build-"):])
        assert owner and int(owner.group(1)) != os.getpid()
        assert not [p for p in (site.parent / name).rglob("*") if not p.is_dir()]
    assert "回访在 3 个工作日内完成" in (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    assert settled(site.parent) == []
    again = build(runner, released_repo, site).output.strip().splitlines()[-1]
    assert re.search(r"; 0 of [0-9]+ pages rebuilt \(nothing changed\)$", again), again


def test_no_code_beside_the_output_runs_when_the_old_site_is_removed(runner, site, released_repo):
    """The old site's remover is a Python process: it must import doccontrol, never a `doccontrol` package planted
    in the folder that holds the output (a repository's own root, when the site goes into it)."""
    marker = site.parent / "planted-code-ran"
    planted = site.parent / "doccontrol"
    planted.mkdir()
    for name in ("__init__.py", "fileio.py"):
        (planted / name).write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                    "def remove_tree(path):\n    pass\n", encoding="utf-8")
    (site / "stale.html").write_text("old page", encoding="utf-8")
    build(runner, released_repo, site)
    assert settled(site.parent) == []
    assert not marker.exists()


def test_a_body_opening_with_a_rule_is_text_not_page_metadata(runner, repo, tmp_path):
    body = "---\n说明: 本段不是元数据\n---\n\n## 1 目的\n\n规定投诉处理。\n"
    write(repo, "procedures/QP-SH-002-规则开头.md", front("QP-SH-002", "规则开头", "procedure") + body)
    out = tmp_path / "preview"
    build(runner, repo, out, "--preview")
    doc = page(out, "QP-SH-002/index.html")
    assert "说明: 本段不是元数据" in text_of(doc, f"//*[{cls('dc-body')}]")
    assert header_values(doc)["number"] == "QP-SH-002"


# -- navigation by number, list pages, withdrawals, changes --------------------------------------

def test_each_type_has_a_list_page_and_the_navigation_follows_number_order(runner, released_repo, tmp_path):
    for title, department in (("维修服务程序", "售后服务部"), ("备件管理程序", "仓储物流部")):
        invoke(runner, released_repo, "new", "procedure", title, "--author", "孙小雨", "--department", department)
    git(released_repo, "add", "-A")
    git(released_repo, "commit", "-qm", "two procedures")
    invoke(runner, released_repo, "submit", "QP-SH-002", "QP-SH-003")
    release_all(runner, released_repo, ("QP-SH-003", "QP-SH-002"))
    out = tmp_path / "site"
    build(runner, released_repo, out)
    listing = page(out, "procedure/index.html")
    rows = [[td.text_content() for td in tr.xpath("./td")] for tr in find(listing, "//article//table/tbody/tr")]
    assert [row[0] for row in rows] == ["QP-SH-001", "QP-SH-002", "QP-SH-003"]
    assert rows[1] == ["QP-SH-002", "维修服务程序", "A/0", "2026-11-20", "售后服务部"]
    assert [th.text_content() for th in find(listing, "//article//table/thead//th")] == \
        ["文件编号", "文件名称", "版本/修改码", "生效日期", "编制部门"]
    procedure = page(out, "QP-SH-002/index.html")
    tab = find(procedure, f"//a[{cls('md-tabs__link')} and normalize-space()='程序文件']/@href")
    assert tab == ["../procedure/"]
    sidebar = [a.text_content().strip() for a in
               find(procedure, f"//nav[{cls('md-nav--primary')}]//li[{cls('md-nav__item--active')}]//nav//a")]
    assert [entry for entry in sidebar if entry.startswith("QP-SH")] == \
        ["QP-SH-001 客户投诉处理程序", "QP-SH-002 维修服务程序", "QP-SH-003 备件管理程序"]
    footer = {a.get("rel") or a.xpath("./@class")[0]: a.get("href")
              for a in find(procedure, f"//nav[{cls('md-footer__inner')}]/a")}
    assert sorted(footer.values()) == ["../QP-SH-001/", "../QP-SH-003/"]


def forged_publication(monkeypatch, **changes):
    """Make every build see the real publication with these fields replaced (what the verified record will give)."""
    from doccontrol.workspace import Workspace

    real = Workspace.in_force

    def in_force(self, as_of, use_cache=None):
        pub = real(self, as_of, use_cache)
        for name, value in changes.items():
            setattr(pub, name, value(pub) if callable(value) else value)
        return pub

    monkeypatch.setattr(Workspace, "in_force", in_force)


def test_withdrawals_and_coming_revisions_show_with_dates_and_successors(runner, released_repo, tmp_path, monkeypatch):
    import datetime as dt

    from doccontrol.publication import Change

    withdrawal = Change("QR-SH-009", "旧派工单", "", "withdrawal", dt.date(2026, 11, 18), "QR-SH-001",
                        "与问题处理表合并")
    coming = Change("QP-SH-001", "客户投诉处理程序", "A/1", "release", dt.date(2026, 12, 1))
    forged_publication(monkeypatch, withdrawn=[withdrawal], upcoming=[coming],
                       changes=lambda pub: sorted([*pub.changes, withdrawal], key=lambda c: c.date, reverse=True))
    out = tmp_path / "site"
    build(runner, released_repo, out)
    register = page(out, "register/index.html")
    rows = [[td.text_content() for td in tr.xpath("./td")]
            for tr in find(register, f"//table[{cls('dc-withdrawn')}]//tbody/tr")]
    assert rows == [["QR-SH-009", "旧派工单", "作废", "2026-11-18", "QR-SH-001", "与问题处理表合并"]]
    successor = find(register, f"//table[{cls('dc-withdrawn')}]//a")[0]
    assert successor.get("href") == "../QR-SH-001/"
    notice = page(out, "withdrawn/index.html")
    assert "QR-SH-009 旧派工单（已作废）" in text_of(notice, "//article//h2")
    assert "于 2026-11-18 作废" in text_of(notice, "//article")
    home = page(out, "index.html")
    changes = [[td.text_content() for td in tr.xpath("./td")]
               for tr in find(home, f"//table[{cls('dc-changes')}]/tbody/tr")]
    assert ["2026-11-18", "QR-SH-009", "旧派工单", "作废，由 QR-SH-001 替代"] in changes
    upcoming = find(home, "//h2[starts-with(normalize-space(), '即将生效')]/following::table[1]/tbody/tr")
    assert [[td.text_content() for td in tr.xpath("./td")] for tr in upcoming] == \
        [["2026-12-01", "QP-SH-001", "客户投诉处理程序", "修订 A/1"]]
    listing = text_of(page(out, "form/index.html"), "//article")
    assert "本类已作废 1 份" in listing


def test_held_back_documents_and_unverified_signatures_are_said_plainly(runner, released_repo, tmp_path, monkeypatch):
    import dataclasses

    from doccontrol.model import Finding

    held = Finding("procedures/QP-SH-002-维修服务程序.md", 1, "release-signature",
                   "QP-SH-002 A/0: the 批准 signature does not verify", "sign it again with the roster's key")

    def keyed(pub):
        return [dataclasses.replace(doc, approvals=tuple(dataclasses.replace(sig, key="SHA256:4Zq0w9c1Lx")
                                                         for sig in doc.approvals)) for doc in pub.documents]

    forged_publication(monkeypatch, held_back=[held], unsigned=True, documents=keyed)
    out = tmp_path / "site"
    build(runner, released_repo, out)
    for rel in ("index.html", "register/index.html"):
        doc = page(out, rel)
        assert "未发布的文件" in text_of(doc, "//article//h2")
        assert "QP-SH-002 A/0: the 批准 signature does not verify" in text_of(doc, f"//table[{cls('dc-held-back')}]")
        assert "签名未经密钥验证" in text_of(doc, f"//*[{cls('dc-unsigned')}]")
    procedure = page(out, "QP-SH-001/index.html")
    assert header_values(procedure)["approved"] == "陈国华 2026-11-20 10:00 SHA256:4Zq0w9c1Lx"
    assert "签名未经密钥验证" in text_of(procedure, f"//section[{cls('dc-header')}]")


def test_signatures_render_from_the_approvals_whatever_their_roles():
    import datetime as dt

    from doccontrol.model import Document, Prepared, Signature
    from doccontrol.render.site import signatures

    at = dt.datetime(2026, 11, 20, 9, 30)
    doc = Document("procedures/x.md", "QP-SH-001", "x", "procedure", "质量部", "A/0", "review",
                   Prepared("孙小雨", at.date()),
                   "", (), approvals=(Signature("countersign", "郑海", at, "", "sha256:0", "SHA256:abc"),
                                      Signature("review", "林慧", at, "", "sha256:0")))
    assert [(s["role"], s["name"], s["time"], s["fingerprint"]) for s in signatures(doc)] == [
        ("review", "林慧", "09:30", ""), ("approve", "", "", ""), ("countersign", "郑海", "09:30", "SHA256:abc")]


def test_a_chinese_site_is_chinese_for_the_browser_and_the_search(site):
    """locale: zh (the default): Material's interface and the search index in Chinese, and no English print style."""
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in index and "print-en.css" not in index
    assert json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))["config"]["lang"] == ["zh"]
    assert 'placeholder="搜索"' in index


def test_the_404_page_is_chinese_and_shows_the_ways_to_a_document(site):
    doc = page(site, "404.html")
    assert text_of(doc, "//article//h1") == "找不到此页面"
    links = {a.text_content(): a.get("href") for a in find(doc, "//article//a")}
    assert links["受控文件清单"].endswith("register/") and links["首页"]
    assert "Not found" not in doc.text_content()


# -- forms as forms ------------------------------------------------------------------------------

def test_dates_in_a_documents_text_stay_on_one_line(runner, repo, tmp_path):
    path = repo / "forms/QR-SH-001-顾客问题处理表.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n| 日期 | 说明 |\n| --- | --- |\n| 2026-11-16 | 首次发布 |\n",
                    encoding="utf-8")
    build(runner, repo, tmp_path / "preview", "--preview")
    doc = page(tmp_path / "preview", "QR-SH-001/index.html")
    assert [s.text_content() for s in find(doc, f"//td//span[{cls('dc-nowrap')}]")] == ["2026-11-16"]


def test_every_form_page_offers_its_blank_form(site):
    doc = page(site, "QR-SH-001/index.html")
    link = find(doc, f"//a[{cls('dc-download')}]")[0]
    assert link.text_content() == "下载空白表单（Word）" and link.get("download") is not None
    blank = site / "QR-SH-001" / link.get("href")
    import docx

    document = docx.Document(blank)
    assert document.paragraphs[0].text == "顾客问题处理表"
    assert "QR-SH-001" in "".join(c.text for t in document.sections[0].header.tables for r in t.rows for c in r.cells)
    assert not find(page(site, "QP-SH-001/index.html"), f"//a[{cls('dc-download')}]")


def test_fill_in_blanks_are_text_on_the_site_as_in_word(runner, repo, tmp_path):
    path = repo / "forms/QR-SH-001-顾客问题处理表.md"
    blanks = ("\n| 整机保修期 | ____年 | 主要部件保修期 | ____年（部件名称：____） |\n"
              "| --- | --- | --- | --- |\n| 购买日期 | ____年__月__日 |  |  |\n\n**用户联**\n")
    path.write_text(path.read_text(encoding="utf-8") + blanks, encoding="utf-8")
    out = tmp_path / "preview"
    build(runner, repo, out, "--preview")
    doc = page(out, "QR-SH-001/index.html")
    cells = [th.text_content() for th in find(doc, f"//*[{cls('dc-body')}]//table//th")]
    assert "____年（部件名称：____）" in cells
    assert [b.text_content() for b in find(doc, f"//*[{cls('dc-body')}]//strong")] == ["用户联"]


def test_every_document_is_found_by_its_own_page_and_the_register_is_not_indexed(site):
    """The register repeats every title: it is left out of the index, and each document's own page is what a
    search for its number or its title finds (its first entry holds both, and the number's parts)."""
    doc = page(site, "register/index.html")
    rows = [[td.text_content() for td in tr.xpath("./td")[:2]]
            for tr in find(doc, f"//article//table[{cls('dc-register')}]/tbody/tr")]
    assert len(rows) >= 3
    entries = search_docs(site)
    assert not [d for d in entries if d["location"].startswith("register/")]
    first = {d["location"]: d for d in entries if "#" not in d["location"]}
    for number, title in rows:
        entry = first[f"{number}/"]
        assert entry["title"].replace("\u200b", "") == f"{number} {title}"
        assert entry["number"].split()[0] == number


def test_a_forms_table_words_are_searchable_but_kept_out_of_snippets(site):
    entries = [d for d in search_docs(site) if d["location"] == "QR-SH-001/"]
    assert entries and "项目" not in entries[0]["text"] and "____" not in entries[0]["text"]
    assert {"客户", "姓名", "联系电话", "已", "解决"} <= set(entries[0]["cells"].split())
    procedure = next(d for d in search_docs(site) if d["location"].startswith("QP-SH-001/#4"))
    assert procedure["keys"].split() == ["24小时内响", "24小时", "5个工作日"]
    assert procedure["text"].replace("\u200b", "").startswith("<p>4.1 客服专员接到投诉后 24 小时内响应")
    assert next(d for d in search_docs(site) if d["location"] == "QP-SH-001/")["number"] == "QP-SH-001 QP SH 001"


# -- the site's configuration belongs to doccontrol ------------------------------------------------

def test_site_options_are_shown_as_text(runner, released_repo, tmp_path):
    write(released_repo, "mkdocs.yml", textwrap.dedent("""\
        title: '<img src=x onerror=alert(1)> 受控文件'
        footer: '</div><script>alert(2)</script>'
        colors: {primary: "#00796B", accent: "#FF5722"}
        links:
          - {title: '内网 <b>首页</b>', url: "https://intranet.example.com/"}
        logo: assets/logo.png
        """))
    (released_repo / "assets").mkdir()
    (released_repo / "assets/logo.png").write_bytes(PNG)
    out = tmp_path / "site"
    build(runner, released_repo, out)
    assert "受控文件" not in text_of(page(out, "QP-SH-001/index.html"), f"//*[{cls('md-copyright__highlight')}]") \
        or "alert(2)" not in (out / "QP-SH-001" / "index.html").read_text(encoding="utf-8")  # not yet approved
    git(released_repo, "add", "-A")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    build(runner, released_repo, out)
    raw = (out / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in raw and "<img src=x" not in raw and "<b>首页" not in raw
    doc = page(out, "QP-SH-001/index.html")
    assert "<img src=x onerror=alert(1)> 受控文件" in text_of(doc, f"//*[{cls('md-header__topic')}]")
    assert text_of(doc, f"//*[{cls('md-copyright__highlight')}]") == "</div><script>alert(2)</script>"
    assert [(a.text_content(), a.get("href")) for a in find(doc, f"//ul[{cls('dc-links')}]//a")] == \
        [("内网 <b>首页</b>", "https://intranet.example.com/")]
    assert "--md-primary-fg-color:#00796b" in (out / "assets/doccontrol/site-options.css").read_text(encoding="utf-8")
    assert set(find(doc, "//img[@alt='logo']/@src")) == {"../assets/doccontrol/logo.png"}


def test_site_options_take_effect_only_when_approved(runner, released_repo, tmp_path):
    """mkdocs.yml and the logo it names are part of the controlled configuration."""
    write(released_repo, "mkdocs.yml", "title: 未经批准的标题\nlogo: assets/logo.png\n")
    (released_repo / "assets").mkdir()
    (released_repo / "assets/logo.png").write_bytes(PNG)
    out = tmp_path / "site"
    build(runner, released_repo, out)
    assert "未经批准的标题" not in (out / "index.html").read_text(encoding="utf-8")
    assert "[configuration-unapproved]" in invoke(runner, released_repo, "check").output
    git(released_repo, "add", "-A")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    build(runner, released_repo, out)
    assert "未经批准的标题" in (out / "index.html").read_text(encoding="utf-8")
    (released_repo / "assets/logo.png").write_bytes(PNG + b"\0")
    refused = build(runner, released_repo, tmp_path / "other", expect=1).output
    assert "the logo assets/logo.png is not the image the configuration approved" in refused


SVG_LOGO = '<svg xmlns="http://www.w3.org/2000/svg"><script>document.title = "pwned"</script></svg>'
SVG_REFUSED = ("mkdocs.yml:2: error: logo assets/logo.svg is an SVG, which can carry scripts that would run in the "
               "site [site-options-logo]\n    fix: convert it to PNG, JPEG or WebP and name that file in logo: "
               "(allowed: .gif, .jpeg, .jpg, .png, .webp)")


def test_an_svg_logo_is_refused_by_check_approval_and_build(runner, released_repo, tmp_path):
    """An SVG is a page of its own: its script runs in the site's origin when its address is opened."""
    write(released_repo, "mkdocs.yml", "title: 受控文件\nlogo: assets/logo.svg\n")
    write(released_repo, "assets/logo.svg", SVG_LOGO)
    git(released_repo, "add", "-A")
    assert SVG_REFUSED in invoke(runner, released_repo, "check", expect=1).output
    assert SVG_REFUSED in invoke(runner, released_repo, "config", "approve", "--as", "陈国华", expect=1).output
    assert SVG_REFUSED in build(runner, released_repo, tmp_path / "preview", "--preview", expect=1).output


def test_an_svg_logo_approved_by_an_earlier_version_is_not_put_into_the_site(runner, released_repo, tmp_path,
                                                                             monkeypatch):
    from doccontrol import site_options

    write(released_repo, "mkdocs.yml", "title: 受控文件\nlogo: assets/logo.svg\n")
    write(released_repo, "assets/logo.svg", SVG_LOGO)
    git(released_repo, "add", "-A")
    with monkeypatch.context() as earlier:  # the version before SVG logos were refused
        earlier.setattr(site_options, "logo_problem", lambda name, data: None)
        invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    out = tmp_path / "site"
    refused = build(runner, released_repo, out, expect=1).output
    assert "error: refusing to put the logo assets/logo.svg into the site" in refused
    assert "logo assets/logo.svg is an SVG, which can carry scripts that would run in the site" in refused
    assert not out.exists()


def test_a_logo_whose_content_is_not_its_type_is_refused(runner, released_repo):
    write(released_repo, "mkdocs.yml", "title: 受控文件\nlogo: assets/logo.png\n")
    write(released_repo, "assets/logo.png", SVG_LOGO)
    assert ("mkdocs.yml:2: error: logo assets/logo.png is not a PNG file (its content says otherwise) "
            "[site-options-logo]\n    fix: save the picture in the format its name says (.png)") in \
        invoke(runner, released_repo, "check", expect=1).output


def test_every_page_carries_a_content_security_policy_and_no_inline_script(site):
    pages = html_pages(site)
    assert len(pages) > 8
    for html_file in pages:
        doc = page(site, html_file.relative_to(site))
        policy = find(doc, "//meta[@http-equiv='Content-Security-Policy']/@content")
        assert policy and "script-src 'self'" in policy[0] and "style-src 'self'" in policy[0], html_file
        assert "'unsafe-inline'" not in policy[0]
        for script in find(doc, "//script"):
            assert script.get("src") or script.get("type") == "application/json", (html_file, script.text)
        assert not find(doc, "//style"), html_file
        assert not [e for e in find(doc, "//*") if any(a.lower().startswith("on") for a in e.attrib)], html_file


def test_the_company_name_is_escaped_everywhere(runner, tmp_path):
    root = init_repo(tmp_path / "hostile-company")
    config = root / "doccontrol.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "company: 测试电器有限公司", "company: '<script>alert(\"公司\")</script>测试'"), encoding="utf-8")
    git(root, "commit", "-qam", "hostile company")
    invoke(runner, root, "config", "approve", "--as", "陈国华")  # approved: the controlled site shows it
    release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001"))
    out = tmp_path / "site"
    build(runner, root, out)
    for html_file in html_pages(out):
        raw = html_file.read_text(encoding="utf-8")
        assert "<script>alert" not in raw, html_file
    assert '<script>alert("公司")</script>测试' in text_of(page(out, "index.html"), "//article//h1")


ATTACKS = {
    "python-tag": ("site_name: !!python/object/apply:os.system ['touch {canary}']\n", 1, "YAML tags"),
    "copyright-html": ("copyright: <img src=x onerror=alert(1)>\n", 1, "write it as `footer:`"),
    "extra-javascript": ("extra_javascript:\n  - 'data:text/javascript,alert(1)'\n", 1, "doccontrol builds the site"),
    "snippets-passwd": ("markdown_extensions:\n  - pymdownx.snippets:\n      auto_append: [/etc/passwd]\n", 1,
                        "Markdown extensions"),
    "env-secret": ("title: !ENV [CI_DEPLOY_TOKEN]\n", 1, "YAML tags (!ENV)"),
    "alias-bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", 1, "anchors and aliases"),
    "hooks": ("title: 受控文件\nhooks:\n  - hooks.py\n", 2, "remove `hooks`"),
    "custom-dir": ("theme:\n  name: material\n  custom_dir: overrides\n", 1, "remove `theme`"),
    "plugins": ("plugins:\n  - search\n  - macros\n", 1, "remove `plugins`"),
    "inherit": ("INHERIT: ../other.yml\n", 1, "remove `INHERIT`"),
    "logo-outside": ("logo: ../../etc/passwd.png\n", 1, "without .. or a leading /"),
    "link-javascript": ("links:\n  - {title: x, url: 'javascript:alert(1)'}\n", 2, "is not a web address"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_site_options_cannot_run_or_load_anything(runner, released_repo, tmp_path, attack, monkeypatch):
    text, line, says = ATTACKS[attack]
    canary = tmp_path / "canary"
    monkeypatch.setenv("CI_DEPLOY_TOKEN", "s3cret-token")
    write(released_repo, "mkdocs.yml", text.replace("{canary}", str(canary)))
    site_dir = tmp_path / "site"
    result = build(runner, released_repo, site_dir, "--preview", expect=1)  # a preview reads the working file
    assert f"mkdocs.yml:{line}: error:" in result.output and says in result.output, result.output
    assert "Traceback" not in result.output
    assert not canary.exists() and not site_dir.exists()
    checked = invoke(runner, released_repo, "check", expect=1)
    assert f"mkdocs.yml:{line}: error:" in checked.output
    refused = invoke(runner, released_repo, "config", "approve", "--as", "陈国华", expect=1)
    assert "mkdocs.yml" in refused.output and "Traceback" not in refused.output
    build(runner, released_repo, site_dir)  # the controlled site uses the approved options only
    assert not canary.exists() and "s3cret-token" not in (site_dir / "index.html").read_text(encoding="utf-8")


def test_without_site_options_the_site_is_built_with_the_defaults(runner, released_repo, tmp_path):
    (released_repo / "mkdocs.yml").unlink(missing_ok=True)
    out = tmp_path / "site"
    build(runner, released_repo, out)
    assert text_of(page(out, "index.html"), f"//*[{cls('md-header__topic')}]").startswith("测试电器有限公司 受控文件")


def test_a_document_the_renderers_cannot_read_in_bounded_time_is_refused_quickly(runner, released_repo, tmp_path):
    """The renderers' own limits stand behind `check`: a draft (in a preview, or exported by name) beyond them
    is refused before anything is converted; the controlled site never had it (only signed releases publish)."""
    import time

    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "x", "--author", "孙小雨")
    path = next((released_repo / "procedures").glob("QP-SH-001-*.md"))
    path.write_text(path.read_text(encoding="utf-8") + "\n" + "[" * 5_000 + "\n", encoding="utf-8")
    started = time.monotonic()
    result = build(runner, released_repo, tmp_path / "preview", "--preview", expect=1)
    exported = invoke(runner, released_repo, "export", "QP-SH-001", "--revision", "A/1", "--out",
                      str(tmp_path / "docx"), expect=1)
    assert time.monotonic() - started < 60, "hang guard"
    for output in (result.output, exported.output):
        assert "[ not closed by ]" in output and "markdown-limit" in output and "Traceback" not in output
    assert not (tmp_path / "preview").exists()
    assert not list(tmp_path.glob("docx/*.docx"))
    assert "built 3 documents" in build(runner, released_repo, tmp_path / "site").output


AT_EVERY_LIMIT = "\n\n".join(["[" * 64 + "x"] * 2 + ["[](" * 64] * 2 + ["<x " * 500] * 2 + ["&#" * 500] * 4
                             + ["`" * 1000] * 5 + ["<x " + "回访" * 100] * 40
                             + ["回访记录，客服中心在规定时限内处理。" * 200] * 40) + "\n"


def test_a_document_at_every_limit_at_once_builds_and_exports_in_seconds(runner, repo, tmp_path):
    """A hang guard, not a speed test: the slowest text `check` lets through still converts."""
    import time

    from doccontrol.markdown_checks import limit_text

    assert list(limit_text("x.md", AT_EVERY_LIMIT, 1)) == []
    write(repo, "procedures/QP-SH-002-极限.md", front("QP-SH-002", "极限", "procedure") + "\n" + AT_EVERY_LIMIT)
    started = time.monotonic()
    build(runner, repo, tmp_path / "preview", "--preview")
    invoke(runner, repo, "export", "QP-SH-002", "--revision", "A/0", "--out", str(tmp_path / "docx"))
    assert time.monotonic() - started < 120, "hang guard"
    assert (tmp_path / "preview" / "QP-SH-002" / "index.html").is_file()
    assert list((tmp_path / "docx").glob("QP-SH-002-*.docx"))


def test_an_unapproved_configuration_edit_never_reaches_the_controlled_site(runner, released_repo, tmp_path):
    clauses = released_repo / "clauses.yml"
    clauses.write_text(clauses.read_text(encoding="utf-8").replace("投诉处理", "改过的条款名"), encoding="utf-8")
    config = released_repo / "doccontrol.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("company: 测试电器有限公司", "company: 冒名公司\nlocale: en")
                      .replace("label: 记录表单", "label: 改过的类别"), encoding="utf-8")
    git(released_repo, "commit", "-qam", "an edit nobody approved")
    site = tmp_path / "site"
    invoke(runner, released_repo, "build", "--out", str(site))
    pages = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert "测试电器有限公司" in pages and 'lang="zh' in (site / "index.html").read_text(encoding="utf-8")
    assert not [word for word in ("冒名公司", "改过的类别", "改过的条款名") if word in pages]
    preview = tmp_path / "preview"
    invoke(runner, released_repo, "build", "--preview", "--out", str(preview))
    assert "冒名公司" in (preview / "index.html").read_text(encoding="utf-8")


SEGMENT_SCRIPT = """
import json, logging, sys
import jieba
from pathlib import Path
from doccontrol.render.site_engine import USER_DICT
from doccontrol.render.site_jieba import use_split_dictionary
jieba.setLogLevel(logging.WARNING)
split = sys.argv[2] == "split" and use_split_dictionary(Path(sys.argv[3]))
jieba.load_userdict(str(USER_DICT))
texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
print(json.dumps({"split": split, "words": len(jieba.dt.FREQ), "cuts": ["/".join(jieba.cut(t)) for t in texts]}))
"""


def test_jieba_cuts_alike_with_its_dictionary_read_by_first_character(repo, tmp_path):
    """The split dictionary (site_jieba.py) reads only the characters the texts hold, and cuts as the whole one."""
    from doccontrol.render.site_engine import USER_DICT

    texts = [path.read_text(encoding="utf-8") for path in sorted(repo.rglob("*.md"))]
    texts += [USER_DICT.read_text(encoding="utf-8"), "三包规定：24小时内响应，顾客有效投诉处理率统计表。"]
    sample = tmp_path / "texts.json"
    sample.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")

    def cut(mode: str) -> dict:
        env = {**os.environ, "TMPDIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-c", SEGMENT_SCRIPT, str(sample), mode, str(tmp_path / "cache")],
                                capture_output=True, text=True, env=env, check=True)
        return json.loads(result.stdout)

    whole, split, again = cut("whole"), cut("split"), cut("split")
    assert not whole["split"] and split["split"] and again["split"]
    assert split["cuts"] == whole["cuts"] == again["cuts"]
    assert split["words"] < whole["words"] // 2
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".sqlite"]


JIEBA_SCRIPT = """
import json, logging, sys
if sys.argv[2] == "hidden":
    from doccontrol.render.site_engine import _jieba_without_pkg_resources
    jieba = _jieba_without_pkg_resources()
else:
    import jieba
jieba.setLogLevel(logging.WARNING)
print(json.dumps({"pkg_resources": "pkg_resources" in sys.modules, "cut": "/".join(jieba.cut(sys.argv[1]))}))
"""


def test_jieba_is_imported_without_pkg_resources_and_cuts_alike(tmp_path):
    """jieba imports pkg_resources only to find its own files; the site imports it with that hidden, and it still
    finds its dictionary and cuts the same. (If a jieba release stops importing pkg_resources, the first assertion
    says the workaround can go.)"""
    text = "售后服务管理体系文件控制程序：顾客投诉应在24小时内响应，三包期内免费维修。"

    def cut(mode: str) -> dict:
        result = subprocess.run([sys.executable, "-c", JIEBA_SCRIPT, text, mode], capture_output=True, text=True,
                                env={**os.environ, "TMPDIR": str(tmp_path)}, check=True)
        return json.loads(result.stdout)

    plain, hidden = cut("plain"), cut("hidden")
    assert plain["pkg_resources"] and not hidden["pkg_resources"]
    assert hidden["cut"] == plain["cut"] and "/售后服务/" in "/" + hidden["cut"]


@pytest.mark.parametrize("title", ['售后服务 "程序" }; @import url(//x)', "a\\\\b\nc\u2028d", "Ａ１ é", ""])
def test_a_print_header_string_holds_any_title_and_nothing_escapes_it(title):
    from doccontrol.render.site_print import css_string

    literal = css_string(title)
    assert re.fullmatch(r'"[A-Za-z0-9 \\]*"', literal)
    read_back = re.sub(r"\\([0-9a-f]{6})", lambda match: chr(int(match.group(1), 16)), literal[1:-1])
    assert read_back == title
