"""The built site in headless Chromium, served from 127.0.0.1: what a reader sees and what it requests."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from conftest import front, git, init_repo, invoke, release_all, served, write

pytestmark = pytest.mark.browser

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


@pytest.fixture(scope="module")
def base_url(site):
    with served(site) as url:
        yield url


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
        "number": "QP-SH-001", "revision": "A/0", "status": "生效",
        "effective": "2026-11-20", "department": "质量部",
        "prepared": "孙小雨 2026-11-16", "reviewed": "周立新 2026-11-20 10:00", "approved": "陈国华 2026-11-20 10:00",
    }
    signed = r"\s*SHA256:[A-Za-z0-9+/]{12}"  # a signature shows the start of its key's fingerprint
    for key, value in expected.items():
        cell = header.locator(f'[data-dc="{key}"]')
        expect(cell).to_be_visible()
        tail = signed if key in ("reviewed", "approved") else ""
        expect(cell).to_have_text(re.compile(r"\s*".join(map(re.escape, value.split())) + tail + r"\s*$"))
    expect(reader.locator(".md-banner")).to_contain_text("受控文件")
    reference = reader.locator(".dc-body a.dc-ref", has_text="QR-SH-001").first
    expect(reference).to_have_attribute("title", "顾客问题处理表")
    reader.locator("a.dc-history-link").click()
    expect(reader.locator("#dc-history")).to_be_in_viewport()
    expect(reader.locator(".dc-history__table tbody tr")).to_have_text(
        re.compile(r"A/0\s*2026-11-16\s*全文\s*首次发布"))
    reader.goto(f"{base_url}/QP-SH-001/")
    reader.screenshot(path=str(artifacts / "site-procedure.png"), full_page=True)


def test_home_page(reader, base_url, artifacts):
    reader.goto(f"{base_url}/")
    expect(reader.locator("h1")).to_contain_text("测试电器有限公司")
    expect(reader.locator(".md-tabs")).to_contain_text("程序文件")
    expect(reader.locator("ul.dc-shelf a")).to_have_count(5)
    expect(reader.locator("h2").first).to_have_text(re.compile("最近变更"))
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
    for furniture in (".dc-header", ".dc-history", ".dc-print-notice"):
        expect(reader.locator(furniture)).to_be_hidden()
    expect(reader.locator("h1.dc-title")).to_be_visible()


HOSTILE = front("QP-SH-003", "<script>console.log('pwned:title')</script>", "procedure",
                status="draft") + textwrap.dedent("""\

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
    server = served(hostile_preview)
    url = server.__enter__()
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    ran = []
    page.on("console", lambda message: ran.append(message.text) if "pwned" in message.text else None)
    page.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"{url}/QP-SH-003/")
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
        server.__exit__(None, None, None)


# -- the shipped document set, as staff use it on a phone, in print and in search --------------------

@pytest.fixture(scope="module")
def shipped_site(shipped_outputs) -> Path:
    """The repository's own document set, built as it stood on conftest.SHIPPED_AS_OF."""
    return shipped_outputs["site"]


@pytest.fixture(scope="module")
def shipped_url(shipped_site):
    with served(shipped_site) as url:
        yield url


VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  e => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def test_the_pages_run_under_their_policy_without_a_violation(chromium, shipped_url):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.add_init_script(VIOLATIONS)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for path in ("/", "/QP-SH-011/", "/QR-SH-009/", "/QM-SH-01/04/", "/register/", "/procedure/", "/withdrawn/"):
            page.goto(shipped_url + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__violations") == [], path
            assert page.evaluate("typeof window.__md_get") == "function", path
        page.goto(f"{shipped_url}/?q={quote('投诉')}")
        expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=15000)
        assert page.evaluate("window.__violations") == []
        assert errors == []
    finally:
        context.close()


def test_the_policy_stops_a_script_that_got_into_a_page(chromium, shipped_site, shipped_url):
    """Were a script ever to slip into a page (all text is escaped and sanitised before), the browser refuses it."""
    original = (shipped_site / "QP-SH-011" / "index.html").read_text(encoding="utf-8")
    injected = shipped_site / "injected.html"
    injected.write_text(original.replace("</article>", '<script>window.__ran = true</script>'
                                         '<img src="x" onerror="window.__ran = true"></article>'), encoding="utf-8")
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.add_init_script(VIOLATIONS)
    try:
        page.goto(f"{shipped_url}/injected.html")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__ran === undefined")
        assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
    finally:
        context.close()
        injected.unlink()


PHONE = {"width": 390, "height": 844}
PHONE_PAGES = ["/", "/QP-SH-011/", "/QR-SH-009/", "/QM-SH-01/04/", "/QE-SH-005/", "/register/", "/procedure/",
               "/form/", "/clauses/", "/withdrawn/", "/404.html"]


@pytest.fixture(scope="module")
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_no_page_scrolls_sideways_on_a_phone(phone, shipped_url, path, artifacts):
    phone.goto(shipped_url + path)
    phone.wait_for_load_state("networkidle")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide"
    for box in phone.locator(".dc-table-box, .md-typeset__scrollwrap").all():
        assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    name = path.strip("/").replace("/", "-").replace(".html", "") or "home"
    phone.screenshot(path=str(artifacts / f"phone-{name}.png"))


@pytest.mark.parametrize("path", ["/QP-SH-011/", "/QR-SH-009/", "/QM-SH-01/04/", "/QE-SH-005/"])
def test_a_phone_shows_status_dates_and_approvals_in_the_first_view(phone, shipped_url, path):
    phone.goto(shipped_url + path)
    for key in ("number", "revision", "status", "effective", "reviewed", "approved"):
        cell = phone.locator(f'.dc-header [data-dc="{key}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{key} is below the first view on {path}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{key} is cut off on {path}"


def test_a_wide_table_scrolls_inside_its_own_box_on_a_phone(phone, shipped_url):
    phone.goto(f"{shipped_url}/register/")
    box = phone.locator(".dc-table-box").first
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert "gradient" in box.evaluate("el => getComputedStyle(el).backgroundImage")


def pdf_page_texts(pdf: Path) -> list[str]:
    import subprocess

    count = int(re.search(r"^Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                                                              text=True).stdout, re.M).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout for n in range(1, count + 1)]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2011", "-")


@pytest.fixture(scope="module")
def printer(chromium):
    context = chromium.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def printed(printer, url: str, pdf: Path) -> list[str]:
    printer.goto(url)
    printer.wait_for_load_state("networkidle")
    printer.pdf(path=str(pdf), format="A4")
    return pdf_page_texts(pdf)


def test_every_printed_page_names_the_document_its_revision_and_page(printer, shipped_url, tmp_path, artifacts):
    pages = printed(printer, f"{shipped_url}/QP-SH-011/", artifacts / "print-QP-SH-011.pdf")
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        flat = squeeze(text)
        assert "QP-SH-011客户投诉处理程序" in flat, number
        assert "版本/修改码A/2" in flat and "生效日期2026-11-28" in flat, number
        assert f"第{number}页共{len(pages)}页" in flat, number
        assert "打印件为非受控文件" in flat, number


def test_headings_stay_with_what_follows_in_print(printer, shipped_url, tmp_path):
    printer.goto(f"{shipped_url}/QP-SH-011/")
    headings = [squeeze(h) for h in printer.locator(".dc-body h2, .dc-body h3").all_inner_texts()]
    pages = printed(printer, f"{shipped_url}/QP-SH-011/", tmp_path / "headings.pdf")
    for text in pages:
        lines = [squeeze(line) for line in text.splitlines() if line.strip()]
        body = [line for line in lines if not re.search(r"第\d+页共\d+页|打印件为非受控文件", line)]
        assert body and body[-1] not in headings, f"a page ends with the heading {body[-1]}"


def test_a_form_prints_as_just_the_form(printer, shipped_url, artifacts):
    pages = printed(printer, f"{shipped_url}/QR-SH-009/", artifacts / "print-QR-SH-009.pdf")
    flat = squeeze("".join(pages))
    for absent in ("非受控", "修订记录", "审核", "批准", "下载空白表单"):
        assert absent not in flat, absent
    for number, text in enumerate(pages, start=1):
        assert "QR-SH-009质量保修卡" in squeeze(text) and f"第{number}页共{len(pages)}页" in squeeze(text)
    assert "保修卡编号" in squeeze(pages[0]) and "版本/修改码B/0" in squeeze(pages[0])


def test_a_wide_table_prints_every_column(printer, shipped_url, artifacts):
    pages = printed(printer, f"{shipped_url}/QM-SH-01/04/", artifacts / "print-QM-SH-01-04.pdf")
    flat = squeeze("".join(pages))
    for column in ("手册章节/过程", "总经理办公室", "质量部", "售后服务部", "客服中心", "技术部", "行政人事部",
                   "仓储物流部", "销售部"):
        assert column in flat, column


SEARCHES = [
    # what staff type, and the page that must come first (or one of the pages, where several state the rule)
    ("2小时", "QP-SH-004/"), ("48小时", ("QP-SH-004/", "QI-SH-010/", "QR-SH-009/")), ("4小时内", "QP-SH-011/"),
    ("7日内", "QP-SH-006/"), ("5000元", "QP-SH-011/"), ("投诉", "QP-SH-011/"),
    ("三包", ("QE-SH-005/", "QI-SH-009/", "QR-SH-009/")), ("保修卡", "QR-SH-009/"),
    ("QP-SH-011", "QP-SH-011/"), ("QR-SH-009", "QR-SH-009/"), ("QE-SH-005", "QE-SH-005/"),
    ("QR-SH-028", "withdrawn/"), ("满意度", "QP-SH-012/"), ("退换货", "QP-SH-006/"), ("召回", "QP-SH-007/"),
    ("报修登记表", "QR-SH-015/"), ("不满意", "QP-SH-012/"),
]


@pytest.fixture(scope="module")
def searcher(chromium, shipped_url):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(shipped_url + "/")
    page.wait_for_load_state("networkidle")
    yield page
    context.close()


@pytest.mark.parametrize("query, first", SEARCHES, ids=[q for q, _ in SEARCHES])
def test_search_finds_what_staff_look_up_first(searcher, shipped_url, query, first):
    box = searcher.locator(".md-search__input")
    box.fill(query)
    box.press("End")
    results = searcher.locator(".md-search-result__item > a.md-search-result__link")
    expect(results.first).to_be_visible(timeout=15000)
    expect(searcher.locator(".md-search-result__meta")).not_to_have_text(re.compile("正在初始化"))
    searcher.wait_for_timeout(300)
    href = results.first.get_attribute("href")
    wanted = ["/" + page for page in ((first,) if isinstance(first, str) else first)]
    assert urlparse(href).path in wanted, [a.get_attribute("href") for a in results.all()[:4]]
    snippets = searcher.locator(".md-search-result__teaser").all_inner_texts()
    assert not [s for s in snippets if s.startswith(("、", "，", "：", "；", "。")) or "____" in s]
