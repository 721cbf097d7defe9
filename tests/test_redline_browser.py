"""The site's 修订对比 pages in headless Chromium: reached from the revision record, marks that do not
rely on colour and that print, withdrawn text never presented as current."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect
from test_redline import revised_repo

from conftest import invoke, served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    root = revised_repo(tmp_path_factory.mktemp("redline-browser") / "repo")
    site = root.parent / "site"
    invoke(CliRunner(), root, "build", "--out", str(site))
    with served(site) as url:
        yield url


@pytest.fixture
def reader(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def decoration(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).textDecorationLine")


def test_the_revision_record_row_leads_to_the_redline(reader, base_url, artifacts):
    reader.goto(f"{base_url}/QP-SH-001/")
    row = reader.locator(".dc-history__table tbody tr", has_text="A/1")
    expect(row).to_contain_text("投诉响应时限由24小时缩短为12小时")
    expect(reader.locator(".dc-history__table tbody tr", has_text="A/0").locator("a.dc-redline-link")).to_have_count(0)
    row.locator("a.dc-redline-link").click()
    expect(reader).to_have_url(re.compile(r"/QP-SH-001/redline/$"))
    expect(reader.locator("h1")).to_have_text("QP-SH-001 客户投诉受理与处理程序 · 修订对比（A/0 → A/1）")
    expect(reader.locator(".dc-rl-notice")).to_contain_text("修订对比，非现行文本")
    reader.locator("a.dc-rl-current").click()
    expect(reader).to_have_url(re.compile(r"/QP-SH-001/$"))
    expect(reader.locator(".dc-body")).to_contain_text("12 小时内响应")
    reader.goto(f"{base_url}/QP-SH-001/redline/")
    reader.screenshot(path=str(artifacts / "site-redline.png"), full_page=True)


def test_marks_do_not_rely_on_colour_on_screen_or_in_print(reader, base_url):
    reader.goto(f"{base_url}/QP-SH-001/redline/")
    body = reader.locator(".dc-rl-body")
    deleted, inserted = body.locator("del.dc-del", has_text="24"), body.locator("ins.dc-ins", has_text="12")
    expect(deleted).to_be_visible()
    expect(inserted).to_be_visible()
    for media in ("screen", "print"):
        reader.emulate_media(media=media)
        assert "line-through" in decoration(deleted), media
        assert "underline" in decoration(inserted), media
        for label in ("删除", "新增", "移出", "移入"):
            expect(body.locator(".dc-rl-tag", has_text=label).first).to_be_visible()
    expect(body.locator("li", has_text="当场登记").locator(".dc-rl-tag")).to_have_text("删除")
    cell = body.locator("td", has_text="个工作日")
    expect(cell.locator("del")).to_have_text("5")
    expect(cell.locator("ins")).to_have_text("3")
    expect(reader.locator(".dc-rl-meta")).to_contain_text("客户投诉受理与处理程序")
    expect(body).to_contain_text("（本节无修改。）")


def test_a_printed_redline_keeps_its_labels(reader, base_url, tmp_path):
    reader.goto(f"{base_url}/QP-SH-001/redline/")
    reader.emulate_media(media="print")
    pdf = tmp_path / "redline.pdf"
    reader.pdf(path=str(pdf), format="A4")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    compact = re.sub(r"\s+", "", text)
    for words in ("修订对比，非现行文本", "打印件为非受控文件", "移出", "移入", "网上投诉", "当场登记"):
        assert words in compact, words


def test_search_never_offers_the_redline(reader, base_url):
    reader.goto(f"{base_url}/?q={quote('网上投诉')}")
    results = reader.locator(".md-search-result__item > a.md-search-result__link")
    expect(results.first).to_be_visible(timeout=15000)
    hrefs = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("QP-SH-001/" in href for href in hrefs) and not any("redline" in href for href in hrefs), hrefs


def test_a_document_without_a_predecessor_has_no_redline(reader, base_url):
    reader.goto(f"{base_url}/QR-SH-001/")
    expect(reader.locator("a.dc-redline-link")).to_have_count(0)
    response = reader.goto(f"{base_url}/QR-SH-001/redline/")
    assert response.status == 404
