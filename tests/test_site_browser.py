"""The built site in headless Chromium, served from 127.0.0.1: what a reader sees and what it requests."""

from __future__ import annotations

import functools
import http.server
import re
import textwrap
import threading
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect, sync_playwright

from conftest import front, git, init_repo, invoke, release_all, write

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

REPAIR = front("QP-SH-002", "维修服务控制程序", "procedure", department="售后服务部") + textwrap.dedent("""\

    ## 1 目的

    规定上门维修和送修的服务要求，回访时请客户填写满意度调查表。
    """)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A released repository (manual, two procedures, a form) built through the CLI."""
    runner = CliRunner()
    root = init_repo(tmp_path_factory.mktemp("browser") / "repo")
    write(root, "procedures/QP-SH-002-维修服务控制程序.md", REPAIR.replace("status: review", "status: draft"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "repair procedure")
    invoke(runner, root, "submit", "QP-SH-002")
    release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001", "QP-SH-002"))
    out = root.parent / "site"
    invoke(runner, root, "build", "--out", str(out))
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def requests():
    return []


@pytest.fixture
def reader(chromium, requests):
    """A fresh browser tab that records every request it makes."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    yield page
    context.close()


def test_procedure_page_shows_its_control_block(reader, base_url, artifacts):
    reader.goto(f"{base_url}/QP-SH-001/")
    header = reader.locator("section.dc-header")
    expect(header).to_be_visible()
    expect(reader.locator("h1.dc-title")).to_have_text(re.compile(r"QP-SH-001\s+客户投诉处理程序"))
    expected = {
        "number": "QP-SH-001", "revision": "A/0", "status": "生效", "title": "客户投诉处理程序",
        "effective": "2026-11-20", "department": "质量部",
        "prepared": "孙小雨 2026-11-16", "reviewed": "周立新 2026-11-20", "approved": "陈国华 2026-11-20",
    }
    for key, value in expected.items():
        cell = header.locator(f'[data-dc="{key}"]')
        expect(cell).to_be_visible()
        expect(cell).to_have_text(re.compile(r"\s*".join(map(re.escape, value.split())) + r"\s*$"))
    expect(reader.locator(".md-banner")).to_contain_text("受控文件")
    reference = reader.locator(".dc-body a.dc-ref", has_text="QR-SH-001").first
    expect(reference).to_have_attribute("title", "顾客问题处理表")
    reader.locator("a.dc-history-link").click()
    expect(reader.locator("#dc-history")).to_be_in_viewport()
    expect(reader.locator(".dc-history__table tbody tr")).to_have_text(re.compile(r"A/0\s*2026-11-16\s*全文\s*首次发布"))
    reader.goto(f"{base_url}/QP-SH-001/")
    reader.screenshot(path=str(artifacts / "site-procedure.png"), full_page=True)


def test_home_page(reader, base_url, artifacts):
    reader.goto(f"{base_url}/")
    expect(reader.locator("h1")).to_contain_text("测试电器有限公司")
    expect(reader.locator(".md-tabs")).to_contain_text("程序文件")
    expect(reader.locator("a.dc-tier")).to_have_count(3)
    reader.screenshot(path=str(artifacts / "site-home.png"), full_page=True)


@pytest.mark.parametrize("query, number", [
    ("投诉", "QP-SH-001"), ("程序", "QP-SH-001"), ("维修", "QP-SH-002"), ("满意度", "QP-SH-002"),
], ids=["complaint", "procedure", "repair", "satisfaction"])
def test_chinese_search_finds_the_page(reader, base_url, query, number):
    reader.goto(f"{base_url}/?q={quote(query)}")
    results = reader.locator(".md-search-result__item > a.md-search-result__link")
    expect(results.first).to_be_visible(timeout=15000)
    hrefs = [href for href in results.evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    assert any(f"{number}/" in href for href in hrefs), hrefs


def test_every_request_stays_on_the_local_server(reader, base_url, requests):
    for path in ("/", "/QP-SH-001/", "/QR-SH-001/", "/QM-SH-01/01/", "/register/", f"/?q={quote('投诉')}"):
        reader.goto(base_url + path)
        reader.wait_for_load_state("networkidle")
    expect(reader.locator(".md-search-result__item").first).to_be_visible(timeout=15000)
    hosts = {urlparse(url).hostname for url in requests if urlparse(url).scheme not in ("data", "blob")}
    assert len(requests) > 10
    assert hosts == {"127.0.0.1"}, sorted(url for url in requests if "127.0.0.1" not in url)


def test_a_printed_page_says_it_is_uncontrolled(reader, base_url):
    reader.goto(f"{base_url}/QP-SH-001/")
    notice = reader.locator(".dc-print-notice")
    expect(notice).to_be_hidden()
    reader.emulate_media(media="print")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("打印件为非受控文件")
    expect(notice.locator(".dc-print-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(reader.locator(".md-sidebar--primary")).to_be_hidden()
    expect(reader.locator(".md-header")).to_be_hidden()
    expect(reader.locator("section.dc-header")).to_be_visible()


def test_a_form_prints_as_a_bordered_form(reader, base_url):
    reader.goto(f"{base_url}/QR-SH-001/")
    reader.emulate_media(media="print")
    cell = reader.locator(".dc-body--form table td").first
    expect(cell).to_be_visible()
    border = cell.evaluate("td => getComputedStyle(td).borderTopStyle")
    assert border == "solid"
    empty = reader.locator(".dc-body--form table td:empty").first
    assert empty.bounding_box()["height"] >= 24


HOSTILE = front("QP-SH-003", "<script>console.log('pwned:title')</script>", "procedure", status="draft") + textwrap.dedent("""\

    ## 1 目的

    本段之前和之后各有一段脚本，读者只应看到文字。

    <script>console.log("pwned:script")</script>

    <img src="x" onerror="console.log('pwned:onerror')">

    <svg onload="console.log('pwned:svg')"></svg>

    <iframe srcdoc="<script>console.log('pwned:iframe')</script>"></iframe>

    <details open ontoggle="console.log('pwned:toggle')"><summary>展开</summary>细节</details>

    [点此查看](javascript:void(console.log('pwned:link'))){: #js-link }

    [回访记录](#){: #attr-link onclick="console.log('pwned:onclick')" onmouseover="console.log('pwned:hover')" }

    <a id="raw-link" href="javascript:void(console.log('pwned:raw'))">原始链接</a>

    ## 2 范围

    适用于全部售后服务网点。
    """)


@pytest.fixture(scope="module")
def hostile_preview(tmp_path_factory) -> Path:
    """A preview holding a draft that tries every way a document could run a script."""
    runner = CliRunner()
    root = init_repo(tmp_path_factory.mktemp("hostile") / "repo")
    write(root, "procedures/QP-SH-003-hostile.md", HOSTILE)
    out = root.parent / "preview"
    invoke(runner, root, "build", "--preview", "--out", str(out))
    return out


def test_no_script_from_a_document_runs_in_the_browser(chromium, hostile_preview):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(hostile_preview)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    ran = []
    page.on("console", lambda message: ran.append(message.text) if "pwned" in message.text else None)
    page.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/QP-SH-003/")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".dc-body")).to_contain_text("适用于全部售后服务网点")
        expect(page.locator("h1.dc-title")).to_contain_text("<script>console.log('pwned:title')</script>")
        for selector in ("#attr-link", "#js-link", "#raw-link", ".dc-body summary"):
            for link in page.locator(selector).all():
                link.hover()
                link.click(no_wait_after=True)
        page.wait_for_timeout(300)
        assert ran == []
        body = page.locator(".dc-body")
        assert body.locator("script, iframe, svg, [onclick], [onerror], [onmouseover], [ontoggle]").count() == 0
        assert body.locator("a[href^='javascript']").count() == 0
    finally:
        context.close()
        server.shutdown()
        server.server_close()
