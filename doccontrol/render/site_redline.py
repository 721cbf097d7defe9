"""The site's 修订对比 pages: what the current revision of each document changed, for staff and auditors.

Every published document whose revision in force replaced an earlier released revision gets a
page at `NUMBER/redline/`, linked from the current row of its revision record (修订记录).
Insertions are underlined and deletions struck through (`<ins>` / `<del>`), and every wholly
added, removed or moved paragraph, item or row carries a text label, so the marks do not rely
on colour and survive printing. Sections that did not change show only their heading. Deleted
text is never shown as current: the page says which revision is in force and links to it, every
deletion is struck through, and the pages are left out of the site search.

The pages cost almost nothing to build: MkDocs renders ONE shell page with placeholders at the
same depth as the redline pages, and each redline page is that shell with its title and
content filled in (the content is the document's Markdown rendered once with the marks, then
sanitised). So the site's furniture (header, tabs, print notice) is the theme's own.
"""

from __future__ import annotations

import gzip
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..diff import LEGEND, DocumentDiff, diff_documents, metadata_html, redline_html
from ..fileio import atomic_write_bytes

SHELL_SRC = "_doccontrol/redline.md"
SHELL_DIR = "_doccontrol"
SHELL_TITLE = "DCRLSHELLTITLE"
SHELL_CONTENT = "DCRLSHELLCONTENT"
PAGE_DIR = "redline"
STYLE = Path(__file__).with_name("redline.css")
STYLE_TARGET = "assets/doccontrol/redline.css"
PAGE_LABEL = "修订对比"


@dataclass
class RedlinePage:
    number: str
    url: str  # docs-relative, e.g. QP-SH-001/redline/
    home: str  # the document's own page, e.g. QP-SH-001/
    diff: DocumentDiff


@dataclass
class RedlinePlan:
    pages: list[RedlinePage] = field(default_factory=list)


def prepare(ws, pub, staged, docs_dir: Path) -> RedlinePlan:
    """Diff each published document with the revision it replaced, link the pages from the revision
    records in staged's page metadata, and stage the shell page. Previews get no redline pages."""
    from ..compare import predecessors

    plan = RedlinePlan()
    if pub.preview or not pub.documents:
        return plan
    cache = ws.parse_cache(autosave=False)
    previous = predecessors(ws.config, pub.documents, cache)
    if cache is not None:
        cache.flush(keep_unused=True)
    for doc in pub.documents:
        old = previous.get(doc.number)
        target = staged.targets.get(doc.number)
        if old is None or target is None:
            continue
        page = RedlinePage(doc.number, f"{target.url}{PAGE_DIR}/", target.url, diff_documents(old, doc))
        plan.pages.append(page)
        _link_row(staged.meta.get(target.src), doc.revision, page.url)
    if plan.pages:
        shell = docs_dir / SHELL_SRC
        shell.parent.mkdir(parents=True, exist_ok=True)
        shell.write_text(f"---\n{{}}\n---\n\n{SHELL_CONTENT}\n", encoding="utf-8")
        staged.meta[SHELL_SRC] = {"title": SHELL_TITLE, "search": {"exclude": True}, "hide": ["toc"]}
    return plan


def _link_row(meta: dict | None, revision: str, url: str) -> None:
    """The revision record row of the current revision links to its redline."""
    if not meta or "dc" not in meta:
        return
    for row in meta["dc"].get("history", []):
        if row.get("revision") == revision:
            row["redline"] = url


def write_pages(site_dir: Path, plan: RedlinePlan | None) -> None:
    """Write each redline page from the built shell, then remove the shell from the site."""
    if plan is None or not plan.pages:
        return
    shell_path = site_dir / SHELL_SRC.removesuffix(".md") / "index.html"
    shell = shell_path.read_text(encoding="utf-8")
    target = site_dir / STYLE_TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STYLE, target)
    shell = shell.replace("</head>", '<link rel="stylesheet" href="../../' + STYLE_TARGET + '">\n</head>', 1)
    for page in plan.pages:
        out = site_dir / page.url / "index.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page_html(shell, page), encoding="utf-8")
    shutil.rmtree(site_dir / SHELL_DIR)
    _drop_from_sitemap(site_dir, SHELL_SRC.removesuffix(".md") + "/")


def page_html(shell: str, page: RedlinePage) -> str:
    diff = page.diff
    title = f"{diff.number} {diff.title} · {PAGE_LABEL}（{diff.old_revision} → {diff.new_revision}）"
    content = page_content(page)
    text = shell.replace(f"<p>{SHELL_CONTENT}</p>", content, 1)
    return text.replace(SHELL_TITLE, html.escape(title))


def page_content(page: RedlinePage) -> str:
    diff = page.diff
    counts = diff.counts()
    summary = (f"新增 {counts['inserted']} 字，删除 {counts['deleted']} 字；修改 {counts['sections_changed']} 节，"
               f"新增 {counts['sections_added']} 节，删除 {counts['sections_removed']} 节，移动 {counts['sections_moved']} 节。")
    return (
        '<div class="dc-rl">'
        '<div class="dc-rl-notice" role="note"><strong>修订对比，非现行文本</strong>'
        f"本页列出 {html.escape(diff.number)} 现行版本 {html.escape(diff.new_revision)} 相对于被替代版本 "
        f"{html.escape(diff.old_revision or '')} 的修改（修订人 {html.escape(diff.author)}，{html.escape(diff.date)}）。"
        f'删除线内容已作废，不得使用；现行文本见<a href="../" class="dc-rl-current">文件页（{html.escape(diff.new_revision)}）</a>。</div>'
        f'{LEGEND}<p class="dc-rl-summary">{html.escape(summary)}</p>'
        f'{_metadata_section(diff)}'
        f'<h2 id="dc-rl-body">正文修改</h2><div class="dc-rl-body">{_headings_below_h2(redline_html(diff, unchanged="collapse"))}</div>'
        "</div>")


def _headings_below_h2(body: str) -> str:
    """The document's own headings one level down, under the page's 正文修改."""
    return re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + 1)}", body)


def _metadata_section(diff: DocumentDiff) -> str:
    table = metadata_html(diff)
    return f'<h2 id="dc-rl-meta">文件信息修改</h2>{table}' if table else ""


def _drop_from_sitemap(site_dir: Path, url: str) -> None:
    sitemap = site_dir / "sitemap.xml"
    if not sitemap.is_file():
        return
    text = sitemap.read_text(encoding="utf-8")
    cleaned = re.sub(r"\s*<url>\s*<loc>[^<]*" + re.escape(url) + r"</loc>.*?</url>", "", text, flags=re.S)
    if cleaned != text:
        sitemap.write_text(cleaned, encoding="utf-8")
        packed = site_dir / "sitemap.xml.gz"
        if packed.is_file():
            atomic_write_bytes(packed, gzip.compress(cleaned.encode("utf-8"), mtime=0))
