"""The site's 修订对比 pages: what the current revision of each document changed, for staff and auditors.

Every published document whose revision in force replaced an earlier released revision gets a
page at `NUMBER/redline/`, linked from the current row of its revision record (修订记录).
Insertions are underlined and deletions struck through (`<ins>` / `<del>`), and every wholly
added, removed or moved paragraph, item or row carries a text label, so the marks do not rely
on colour and survive printing. Sections that did not change show only their heading. Deleted
text is never shown as current: the page says which revision is in force and links to it, every
deletion is struck through, and the pages are left out of the site search.

The pages cost little to build: MkDocs renders ONE shell page with placeholders at the same
depth as the redline pages, and each redline page is that shell with its title and content
filled in (the content is the document's Markdown rendered with the marks, then sanitised), so
the site's furniture (header, tabs, print notice) is the theme's own. The content is cached by
the two releases compared, so a build diffs only revisions released since the last one.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import hmac
import html
import json
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import signing_key
from ..diff import DocumentDiff, diff_documents, legend_html, metadata_html, redline_html
from ..fileio import atomic_write_bytes
from ..messages import Messages
from ..messages.zh import MESSAGES as ZH

if TYPE_CHECKING:
    from ..publication import Publication
    from ..workspace import Workspace
    from .site import Staged

SHELL_SRC = "_doccontrol/redline.md"
SHELL_DIR = "_doccontrol"
SHELL_TITLE = "DCRLSHELLTITLE"
SHELL_CONTENT = "DCRLSHELLCONTENT"
PAGE_DIR = "redline"
STYLE = Path(__file__).with_name("redline.css")
STYLE_TARGET = "assets/doccontrol/redline.css"


@dataclass
class RedlinePage:
    number: str
    url: str  # docs-relative, e.g. QP-SH-001/redline/
    title: str
    content: str  # sanitised HTML with the marks


@dataclass
class RedlinePlan:
    pages: list[RedlinePage] = field(default_factory=list)


def prepare(ws: Workspace, pub: Publication, staged: Staged, docs_dir: Path) -> RedlinePlan:
    """Make the redline page of each published document whose revision replaced a released one, link
    it from the revision record in staged's page metadata, and stage the shell page. Previews get none.

    A page is a pure function of the two releases it compares, so finished pages are kept in a
    signed cache keyed by those releases (commit and path of each): only a new release is diffed."""
    from ..compare import predecessors, read_revisions

    plan = RedlinePlan()
    if pub.preview or not pub.documents:
        return plan
    pairs = predecessors(ws, pub.documents)
    pages = PageCache(ws.config.cache_dir, ws.use_cache)
    labels = pub.config.messages
    wanted = [(doc, pairs[doc.number]) for doc in pub.documents
              if doc.number in pairs and doc.number in staged.targets]
    missing = [(doc, old) for doc, (old, new) in wanted if pages.get(_page_key(old, new, labels)) is None]
    if missing:
        olds = read_revisions([old for _, old in missing])
        for (doc, old_event), earlier in zip(missing, olds):
            if earlier is None:
                continue  # an unreadable earlier release gets no page; `doccontrol verify` reports it
            diff = diff_documents(earlier, doc, labels)
            pages.put(_page_key(old_event, pairs[doc.number][1], labels),
                      (page_title(diff, labels), checked_content(diff, labels)))
    for doc, (old, new) in wanted:
        target = staged.targets[doc.number]
        page = pages.get(_page_key(old, new, labels))
        if page is None:
            continue
        title, content = page
        plan.pages.append(RedlinePage(doc.number, f"{target.url}{PAGE_DIR}/", title, content))
        _link_row(staged.meta.get(target.src), doc.revision, plan.pages[-1].url)
    pages.save()
    if plan.pages:
        shell = docs_dir / SHELL_SRC
        shell.parent.mkdir(parents=True, exist_ok=True)
        shell.write_text(f"---\n{{}}\n---\n\n{SHELL_CONTENT}\n", encoding="utf-8")
        staged.meta[SHELL_SRC] = {"title": SHELL_TITLE, "search": {"exclude": True}, "hide": ["toc"]}
    return plan


def _page_key(old, new, labels: Messages) -> str:
    key = f"{old.commit.sha}\0{old.path}\0{new.commit.sha}\0{new.path}\0{labels.locale}"
    return hashlib.sha256(key.encode()).hexdigest()


def _link_row(meta: dict | None, revision: str, url: str) -> None:
    """The revision record row of the current revision links to its redline."""
    if not meta or "dc" not in meta:
        return
    for row in meta["dc"].get("history", []):
        if row.get("revision") == revision:
            row["redline"] = url


class PageCache:
    """Finished page titles and contents by key, in one file under the repository's cache folder.

    The file is stamped with a hash of the code that makes the pages and signed with the user's
    cache key (see `cache.signing_key`), so a file planted in a repository is ignored, and entries
    not used by a build drop out. Anything unexpected means a cold run."""

    FILE = "redline-pages.json"

    def __init__(self, directory: Path, use: bool = True):
        self.path = Path(directory) / self.FILE
        self.key = signing_key() if use else None
        self.entries: dict[str, list[str]] = {}
        self.used: dict[str, list[str]] = {}
        self.dirty = False
        if self.key is not None:
            self._load()

    def get(self, key: str) -> tuple[str, str] | None:
        value = self.used.get(key) or self.entries.get(key)
        if value is None:
            return None
        self.used[key] = value
        return value[0], value[1]

    def put(self, key: str, value: tuple[str, str]) -> None:
        self.used[key] = list(value)
        self.dirty = True

    def save(self) -> None:
        if self.key is None or not (self.dirty or len(self.used) != len(self.entries)):
            return
        payload = json.dumps({"version": _code_version(), "pages": self.used}, ensure_ascii=False).encode("utf-8")
        try:
            atomic_write_bytes(self.path,
                               hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode() + b"\n" + payload)
        except OSError:
            return

    def _load(self) -> None:
        try:
            signature, _, payload = self.path.read_bytes().partition(b"\n")
        except OSError:
            return
        expected = hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode()  # type: ignore[arg-type]
        if not hmac.compare_digest(signature, expected):
            return
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("version") == _code_version() and isinstance(data.get("pages"), dict):
            self.entries = data["pages"]


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """Changes whenever the code or the libraries that make a page change."""
    import markdown
    import nh3

    from .. import diff
    from ..messages import en, zh
    from . import sanitize

    digest = hashlib.sha256(f"{markdown.__version__}|{getattr(nh3, '__version__', '')}".encode())
    for module in (diff, sanitize, zh, en, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def write_pages(site_dir: Path, plan: RedlinePlan | None,
                write: Callable[[str, str, Callable[[], bytes]], None] | None = None) -> None:
    """Write each redline page from the built shell, then remove the shell from the site.

    write(path relative to site_dir, key, make bytes), when given, writes each page: a build links the previous
    site's page made with the same key (the shell, the title and the content) instead."""
    if plan is None or not plan.pages:
        return
    shell_path = site_dir / SHELL_SRC.removesuffix(".md") / "index.html"
    shell = shell_path.read_text(encoding="utf-8")
    target = site_dir / STYLE_TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STYLE, target)
    shell = shell.replace("</head>", '<link rel="stylesheet" href="../../' + STYLE_TARGET + '">\n</head>', 1)
    shell_key = hashlib.sha256(shell.encode("utf-8", "surrogatepass")).hexdigest()
    for page in plan.pages:
        if write is not None:
            identity = f"{shell_key}\0{page.title}\0{page.content}".encode("utf-8", "surrogatepass")
            key = hashlib.sha256(identity).hexdigest()
            write(f"{page.url}index.html", key, functools.partial(_page_bytes, shell, page))
            continue
        out = site_dir / page.url / "index.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page_html(shell, page), encoding="utf-8")
    shutil.rmtree(site_dir / SHELL_DIR)
    _drop_from_sitemap(site_dir, SHELL_SRC.removesuffix(".md") + "/")


def _page_bytes(shell: str, page: RedlinePage) -> bytes:
    return page_html(shell, page).encode("utf-8")


def page_html(shell: str, page: RedlinePage) -> str:
    text = shell.replace(f"<p>{SHELL_CONTENT}</p>", page.content, 1)
    return text.replace(SHELL_TITLE, html.escape(page.title))


def page_title(diff: DocumentDiff, labels: Messages) -> str:
    return labels.redline.page_title.format(number=diff.number, title=diff.title, old=diff.old_revision,
                                            new=diff.new_revision)


def checked_content(diff: DocumentDiff, labels: Messages = ZH) -> str:
    """The page content, refused like any page of the site when it would load something from another host
    (an image in a withdrawn paragraph, say): the shell is checked with the site, each content here."""
    from ..errors import DoccontrolError
    from .site_output import remote_in

    content = page_content(diff, labels)
    remote = remote_in(content)
    if remote:
        shown = "\n".join(f"    {line}" for line in remote[:20])
        raise DoccontrolError(f"the 修订对比 page of {diff.number} would load resources from other hosts; readers "
                              f"on the intranet cannot reach them and no request may leave the site:\n{shown}",
                              fix=f"remove them from {diff.number}, or build without redline pages (--no-redlines)")
    return content


def page_content(diff: DocumentDiff, labels: Messages) -> str:
    text = labels.redline
    counts = diff.counts()
    summary = text.summary.format(inserted=counts["inserted"], deleted=counts["deleted"],
                                  changed=counts["sections_changed"], added=counts["sections_added"],
                                  removed=counts["sections_removed"], moved=counts["sections_moved"])
    link = (f'<a href="../" class="dc-rl-current">'
            f"{html.escape(text.current_link.format(revision=diff.new_revision))}</a>")
    notice = html.escape(text.notice).format(
        number=html.escape(diff.number), new=html.escape(diff.new_revision),
        old=html.escape(diff.old_revision or ""), author=html.escape(diff.author), date=html.escape(diff.date),
        link=link)
    body = _headings_below_h2(redline_html(diff, unchanged="collapse", labels=labels))
    return (
        '<div class="dc-rl">'
        f'<div class="dc-rl-notice" role="note"><strong>{html.escape(text.notice_label)}</strong>{notice}</div>'
        f'{legend_html(labels)}<p class="dc-rl-summary">{html.escape(summary)}</p>'
        f'{_metadata_section(diff, labels)}'
        f'<h2 id="dc-rl-body">{html.escape(text.body_changes)}</h2><div class="dc-rl-body">{body}</div>'
        "</div>")


def _headings_below_h2(body: str) -> str:
    """The document's own headings one level down, under the page's heading of the changes to the text."""
    return re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + 1)}", body)


def _metadata_section(diff: DocumentDiff, labels: Messages) -> str:
    table = metadata_html(diff, labels)
    return f'<h2 id="dc-rl-meta">{html.escape(labels.redline.meta_changes)}</h2>{table}' if table else ""


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
