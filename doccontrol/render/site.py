"""The controlled website: stage what is published, build it with MkDocs once, swap it in.

Only the documents of a Publication enter the staged docs dir (the released revisions
read from git, or the working tree for a preview), so a draft that is not published
cannot reach a page or the search index. Page furniture (control block, notices, print
rules) lives in the theme override; each page's values (its title, and the control block's
under `dc`) are handed to MkDocs in process as the page's metadata, never written out as YAML
and parsed back, so the engine only has to honour `custom_dir` templates and page metadata.

Every title handed to MkDocs (nav entries, page `title`) is HTML-escaped text, because
Material prints those unescaped; the theme escapes the raw values under `dc` itself.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import os
import re
import tempfile
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from mkdocs.plugins import event_priority

from .. import clock
from ..config import CONFIG_FILE, Config
from ..errors import DoccontrolError
from ..fileio import interrupts_held, private_temp_dir
from ..loader import MANUAL_INDEX
from ..model import NUMBER_IN_TEXT, Document, Severity, Signature
from ..publication import Publication
from ..register import TYPE_ORDER, register_rows, sort_key
from ..workspace import Workspace
from . import site_redline
from .sanitize import Sanitize

HERE = Path(__file__).parent
THEME_DIR = HERE / "theme"
USER_DICT = HERE / "jieba_user_dict.txt"
SITE_MARKER = ".doccontrol-site"
BASE_CONFIG = "mkdocs.yml"

SEARCH_SEPARATOR = r"[\s\u200b\u3000\-、。，．？！；：“”‘’《》〈〉（）【】「」,:;!?()\[\]\"'/|]+|\.(?!\d)"
REQUIRED_FEATURES = ("navigation.prune", "navigation.tabs", "navigation.indexes", "navigation.top",
                     "navigation.footer", "search.highlight", "toc.follow")
# The Markdown both renderers agree on (pandoc reads the same constructs for the Word export);
# MkDocs adds toc, tables and fenced_code itself.
REQUIRED_EXTENSIONS = ("tables", "attr_list", "def_list", "footnotes")
HOME_SECTION = "首页"

# Each staged page opens with empty front matter, so that a body beginning with a `---` rule is
# never read as metadata; the real metadata comes from `Staged.meta`.
EMPTY_FRONT_MATTER = "---\n{}\n---\n\n"


@dataclass
class SiteResult:
    out: Path
    pages: int
    notice: str = ""


@dataclass
class Staged:
    """What `stage` wrote: the navigation, where each document went, and each page's metadata."""

    nav: list
    targets: dict[str, "Target"]
    meta: dict[str, dict]


@dataclass(frozen=True)
class Target:
    """Where a published document lives in the staged docs dir."""

    number: str
    title: str
    src: str

    @property
    def url(self) -> str:
        if self.src.endswith("/" + MANUAL_INDEX):
            return self.src[: -len(MANUAL_INDEX)]
        return self.src[: -len(".md")] + "/"


# -- entry points ------------------------------------------------------------------------------

def build_site(ws: Workspace, out: Path, *, preview: bool = False, as_of: dt.date | None = None,
               redlines: bool = True) -> SiteResult:
    """Build the site (released revisions, or the working tree when preview) and replace `out` with it."""
    out = checked_output(ws, Path(out), preview)
    pub = publication(ws, preview, as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    with private_temp_dir(out.parent, f".{out.name}-build-") as work:
        docs_dir, site_dir = work / "docs", work / "site"
        staged = stage(ws.config, pub, docs_dir)
        redline_plan = site_redline.prepare(ws, pub, staged, docs_dir) if redlines else None  # 修订对比 pages
        run_mkdocs(ws, pub, docs_dir, site_dir, staged)
        ensure_local(site_dir)
        site_redline.write_pages(site_dir, redline_plan)  # 修订对比 pages (their content is checked as it is made)
        (site_dir / SITE_MARKER).write_text(
            f"{'preview' if pub.preview else 'controlled'} {pub.as_of.isoformat()}\n", encoding="utf-8")
        swap_in(site_dir, out, work / "previous")
    return SiteResult(out=out, pages=len(pub.documents), notice=pub.notice)


def serve(ws: Workspace, host: str, port: int) -> None:
    """Build the preview into a temporary folder and serve it, rebuilding when a document changes."""
    from mkdocs.livereload import LiveReloadServer

    log = serve_log()
    with tempfile.TemporaryDirectory(prefix="doccontrol-serve-") as tmp:
        out = Path(tmp) / "preview"
        build_site(ws, out, preview=True)

        def rebuild():
            try:
                build_site(Workspace(ws.root), out, preview=True)
            except DoccontrolError as error:
                log.error("the preview was not rebuilt:\n%s", error)

        server = LiveReloadServer(builder=rebuild, host=host, port=port, root=str(out))
        for path in watched_paths(ws):
            server.watch(str(path))
        try:
            server.serve()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()


def serve_log() -> logging.Logger:
    """Show the server's address and rebuild problems on stderr (MkDocs logs them at INFO)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("mkdocs.livereload", "doccontrol"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)
    return logging.getLogger("doccontrol")


def watched_paths(ws: Workspace) -> list[Path]:
    folders = {ws.root / spec.folder for spec in ws.config.types.values()}
    files = [ws.root / CONFIG_FILE, ws.root / BASE_CONFIG]
    return sorted(p for p in [*folders, *files] if p.exists())


# -- what to publish and where -----------------------------------------------------------------

def checked_output(ws: Workspace, out: Path, preview: bool) -> Path:
    """The output folder, resolved; refuse folders whose replacement would destroy something."""
    out = (out if out.is_absolute() else Path.cwd() / out).resolve()
    root = ws.root
    if out == root or out in root.parents:
        raise DoccontrolError(f"refusing to build into {out}: it holds the document repository",
                              fix="pass --out site/ or another folder of its own")
    if (out / CONFIG_FILE).exists():
        raise DoccontrolError(f"refusing to build into {out}: it contains {CONFIG_FILE}",
                              fix="pass --out a folder that holds only the built site")
    protected = [root / ".git", *(root / spec.folder for spec in ws.config.types.values())]
    for folder in protected:
        if out == folder or folder in out.parents:
            raise DoccontrolError(f"refusing to build into {out}: it is inside the controlled folder {folder.name}",
                                  fix="pass --out site/ or another folder outside the document folders")
    if preview and out == (root / "site").resolve():
        raise DoccontrolError("refusing to write a preview into the controlled site folder site/",
                              fix="preview into preview/ (the default) or another folder")
    if out.exists():
        ensure_replaceable(out, preview)
    return out


def ensure_replaceable(out: Path, preview: bool) -> None:
    if not out.is_dir():
        raise DoccontrolError(f"refusing to build into {out}: it is not a folder")
    marker = out / SITE_MARKER
    if marker.is_file():
        kind = marker.read_text(encoding="utf-8").split(" ", 1)[0]
        if preview and kind == "controlled":
            raise DoccontrolError(f"refusing to write a preview over the controlled site in {out}",
                                  fix="preview into preview/ (the default) or another folder")
        return
    if any(out.iterdir()):
        raise DoccontrolError(f"refusing to replace {out}: it is not empty and was not built by doccontrol",
                              fix="pass --out a new or empty folder")


def publication(ws: Workspace, preview: bool, as_of: dt.date | None) -> Publication:
    pub = ws.preview() if preview else ws.in_force(as_of or clock.today())
    errors = [f for f in pub.findings if f.severity is Severity.ERROR]
    if errors:
        what = "the working tree" if preview else "the released documents"
        raise DoccontrolError(f"cannot build the site: {len(errors)} errors in {what}", findings=errors,
                              fix="run `doccontrol check` (or `doccontrol verify`) and correct them")
    return pub


# -- staging -----------------------------------------------------------------------------------

def stage(config: Config, pub: Publication, docs_dir: Path) -> Staged:
    """Write one page per published document (a manual: an index page and one per part) plus the
    generated pages into docs_dir; return the navigation, where each document went and the pages' metadata."""
    documents = sorted(pub.documents, key=sort_key)
    targets = {doc.number: Target(doc.number, doc.title, main_src(doc)) for doc in documents}
    pages: dict[str, tuple[str, dict]] = {}
    for doc in documents:
        pages.update(document_pages(config, doc, targets))
    pages["index.md"] = (home_page(config, pub, documents, targets), page_meta("首页"))
    pages["register.md"] = (register_page(config, pub, documents, targets), page_meta("受控文件清单"))
    pages["clauses.md"] = (clause_page(config, documents, targets), page_meta("条款对照"))
    for src, (text, _) in pages.items():
        path = docs_dir / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(EMPTY_FRONT_MATTER + text, encoding="utf-8")
    meta = {src: page for src, (_, page) in pages.items()}
    return Staged(navigation(config, documents, targets), targets, meta)


def main_src(doc: Document) -> str:
    if doc.parts or doc.path.endswith("/" + MANUAL_INDEX):
        return f"{doc.number}/{MANUAL_INDEX}"
    return f"{doc.number}.md"


def part_pages(doc: Document) -> list[tuple[str, str, str]]:
    """(staged path, chapter title, text) for each part of a multi-file document, in file order."""
    pages = []
    for ordinal, part in enumerate(sorted(doc.parts, key=lambda p: p.path), start=1):
        pages.append((f"{doc.number}/{ordinal:02d}.md", part_title(part.path, part.text), part.text))
    return pages


def part_title(path: str, text: str) -> str:
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if match:
            return match.group(1)
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    return re.sub(r"^\d+[-_ .]*", "", stem) or stem


def document_pages(config: Config, doc: Document, targets: dict[str, Target]) -> dict[str, tuple[str, dict]]:
    dc = document_meta(config, doc, targets)
    main = targets[doc.number]
    parts = part_pages(doc)
    body = doc.body
    if parts:
        contents = "\n".join(f"- [{md_text(title)}](/{src})" for src, title, _ in parts)
        body = f"{body.rstrip()}\n\n## 章节\n\n{contents}\n"
    pages = {main.src: (body, page_meta(f"{doc.number} {doc.title}", dc))}
    for src, title, text in parts:
        part_dc = {**dc, "part": title, "home": main.url, "history": []}
        pages[src] = (text, page_meta(f"{doc.number} {doc.title} · {title}", part_dc))
    return pages


def document_meta(config: Config, doc: Document, targets: dict[str, Target]) -> dict:
    """The values the control block shows, as plain (unescaped) strings."""
    return {
        "number": doc.number,
        "title": doc.title,
        "type": doc.type,
        "type_label": config.type_label(doc.type),
        "revision": doc.revision,
        "status": doc.status,
        "status_label": doc.status_label,
        "effective": iso(doc.effective),
        "next_review": iso(doc.next_review),
        "department": doc.department,
        "prepared": {"name": doc.prepared.name, "date": iso(doc.prepared.date)},
        "reviewed": signed(doc.reviewer),
        "approved": signed(doc.approver),
        "retention": doc.retention or "",
        "orientation": doc.orientation or "",
        "source": doc.source or "",
        "references": [reference(number, targets) for number in doc.references],
        "clauses": [{"id": cid, "title": clause.title if (clause := config.clauses.get(cid)) else ""}
                    for cid in doc.clauses],
        "history": [{"revision": row.revision, "date": iso(row.date), "section": row.section,
                     "summary": row.summary, "by": row.by, "approved_by": row.approved_by or ""}
                    for row in doc.history],
        "part": "",
        "home": targets[doc.number].url,
    }


def reference(number: str, targets: dict[str, Target]) -> dict:
    target = targets.get(number)
    return {"number": number, "title": target.title if target else "", "url": target.url if target else ""}


def signed(sig: Signature | None) -> dict | None:
    return {"name": sig.name, "date": iso(sig.at.date())} if sig else None


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def page_meta(title: str, dc: dict | None = None) -> dict:
    meta: dict = {"title": html.escape(title)}
    if dc is not None:
        meta["dc"] = dc
    return meta


def md_text(text: str) -> str:
    """Text for a generated Markdown page: shown literally, never read as HTML or Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+!|-])", r"\\\1", html.escape(text, quote=False))


def doc_link(target: Target) -> str:
    return f"[{target.number}](/{target.src})"


# -- generated pages ---------------------------------------------------------------------------

def by_type(documents: list[Document]) -> list[tuple[str, list[Document]]]:
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.type, []).append(doc)
    return sorted(groups.items(), key=lambda item: TYPE_ORDER.get(item[0], 9))


def home_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    model = config.model
    scope = "草稿预览（含未批准文件）" if pub.preview else f"截至 {pub.as_of.isoformat()} 现行有效的受控文件"
    lines = [f"# {md_text(model.company)}", "",
             f"**{md_text(model.system)}** · {scope}，共 {len(documents)} 份。", "",
             '<div class="dc-tiers">']
    for doc_type, docs in by_type(documents):
        lines.append(f'<a class="dc-tier" href="register/#tier-{doc_type}"><span class="dc-tier__count">{len(docs)}</span>'
                     f'<span class="dc-tier__label">{html.escape(config.type_label(doc_type))}</span></a>')
    lines += ["</div>", "", "[受控文件清单](/register.md) · [条款对照](/clauses.md)", ""]
    for doc_type, docs in by_type(documents):
        lines += [f"## {md_text(config.type_label(doc_type))} {{#tier-{doc_type}}}", ""]
        lines += [f"- {doc_link(targets[doc.number])} {md_text(doc.title)}" for doc in docs]
        lines.append("")
    return "\n".join(lines)


def register_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    scope = "草稿预览，含未批准文件，不是受控清单" if pub.preview else f"截至 {pub.as_of.isoformat()} 现行有效"
    lines = ["# 受控文件清单", "",
             f"{md_text(config.model.company)} {md_text(config.model.system)} · {scope}，共 {len(documents)} 份。", ""]
    for doc_type, docs in by_type(documents):
        lines += [f"## {md_text(config.type_label(doc_type))} {{#tier-{doc_type}}}", "",
                  "| 文件编号 | 文件名称 | 版本/修改码 | 状态 | 编制部门 | 生效日期 | 下次评审日期 |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for row in register_rows(config, docs):
            cells = [doc_link(targets[row.number]), md_text(row.title), row.revision, row.status,
                     md_text(row.department), row.effective, row.next_review]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def clause_page(config: Config, documents: list[Document], targets: dict[str, Target]) -> str:
    answering: dict[str, list[Document]] = {}
    for doc in documents:
        for clause_id in doc.clauses:
            answering.setdefault(clause_id, []).append(doc)
    lines = ["# 条款对照", "",
             "标准条款（评价指标）与回应它的现行文件。标注“必须”的条款须至少有一份文件回应。", ""]
    standards: dict[str, list] = {}
    for clause in config.clauses.values():
        standards.setdefault(clause.standard, []).append(clause)
    for standard, clauses in standards.items():
        lines += [f"## {md_text(standard)}", "", "| 条款 | 要求 | 对应文件 |", "| --- | --- | --- |"]
        for clause in clauses:
            docs = answering.get(clause.id, [])
            requirement = md_text(clause.title) + (" （必须）" if clause.required else "")
            if docs:
                cell = "<br>".join(f"{doc_link(targets[d.number])} {md_text(d.title)}" for d in docs)
            else:
                cell = '<span class="dc-gap">未覆盖</span>' if clause.required else "—"
            lines.append(f"| {md_text(clause.id)} | {requirement} | {cell} |")
        lines.append("")
    return "\n".join(lines)


def navigation(config: Config, documents: list[Document], targets: dict[str, Target]) -> list:
    """Tiers (手册 / 程序文件 / 记录表单 / 外来文件) then departments; one level less when a tier has one department."""
    nav: list = [{HOME_SECTION: ["index.md", {"受控文件清单": "register.md"}, {"条款对照": "clauses.md"}]}]
    for doc_type, docs in by_type(documents):
        departments: dict[str, list] = {}
        for doc in docs:
            departments.setdefault(doc.department, []).append(nav_entry(doc, targets))
        if len(departments) == 1:
            entries = next(iter(departments.values()))
        else:
            entries = [{html.escape(dept): items} for dept, items in departments.items()]
        nav.append({html.escape(config.type_label(doc_type)): entries})
    return nav


def nav_entry(doc: Document, targets: dict[str, Target]) -> dict:
    label = html.escape(f"{doc.number} {doc.title}")
    main = targets[doc.number]
    parts = part_pages(doc)
    if not parts:
        return {label: main.src}
    return {label: [main.src, *({html.escape(title): src} for src, title, _ in parts)]}


# -- document numbers become links -------------------------------------------------------------

class NumberLinks(Extension):
    """Turn each published document number in the text into a link to its page, titled with its name."""

    def __init__(self, targets: dict[str, Target]):
        super().__init__()
        self.targets = targets

    def extendMarkdown(self, md):
        md.treeprocessors.register(NumberLinker(md, self.targets), "doccontrol_numbers", 15)


class NumberLinker(Treeprocessor):
    SKIP = {"a", "code", "pre", "kbd", "script", "style", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, md, targets: dict[str, Target]):
        super().__init__(md)
        self.targets = targets

    def run(self, root):
        self.visit(root)

    def visit(self, element) -> None:
        if element.tag in self.SKIP:
            return
        if element.text:
            element.text, links = self.split(element.text)
            for index, link in enumerate(links):
                element.insert(index, link)
        for child in list(element):
            self.visit(child)
            if child.tail:
                child.tail, links = self.split(child.tail)
                position = list(element).index(child) + 1
                for offset, link in enumerate(links):
                    element.insert(position + offset, link)

    def split(self, text: str) -> tuple[str, list]:
        """The text before the first linked number, and one <a> per number (its tail the text after it)."""
        links: list = []
        head, last = text, 0
        for match in NUMBER_IN_TEXT.finditer(text):
            target = self.targets.get(match.group(1))
            if not target:
                continue
            if links:
                links[-1].tail = text[last:match.start()]
            else:
                head = text[:match.start()]
            # Python-Markdown's serializer leaves "&" alone when it already looks like an entity.
            title = target.title.replace("&", "&amp;")
            link = etree.Element("a", {"href": f"/{target.src}", "title": title, "class": "dc-ref"})
            link.text = match.group(1)
            links.append(link)
            last = match.end()
        if links:
            links[-1].tail = text[last:]
        return head, links


# -- MkDocs ------------------------------------------------------------------------------------

def run_mkdocs(ws: Workspace, pub: Publication, docs_dir: Path, site_dir: Path, staged: Staged) -> None:
    """ONE in-process MkDocs build of the staged pages."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    quiet_jieba()
    try:
        cfg = load_config(io.StringIO("{}"), config_file_path=str(ws.root / BASE_CONFIG),
                          **mkdocs_settings(ws, pub, docs_dir, site_dir, staged.nav))
        cfg.markdown_extensions.extend([NumberLinks(staged.targets), Sanitize()])
        cfg.plugins["doccontrol/meta"] = StagedMeta(staged.meta)
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
    except MkDocsException as error:
        raise DoccontrolError(f"the site build failed: {error}") from None


class StagedMeta:
    """A MkDocs plugin that gives each staged page its metadata (title, control block) before anything reads it."""

    def __init__(self, meta: dict[str, dict]):
        self.meta = meta

    @event_priority(100)
    def on_page_markdown(self, markdown, *, page, config, files):
        page.meta.update(self.meta.get(page.file.src_uri, {}))
        return markdown


def quiet_jieba() -> None:
    try:
        import jieba
    except ImportError:
        return
    jieba.setLogLevel(logging.WARNING)


def mkdocs_settings(ws: Workspace, pub: Publication, docs_dir: Path, site_dir: Path, nav: list) -> dict:
    """The repository's mkdocs.yml, with what the controlled site needs forced on top."""
    base = base_settings(ws.root)
    company = ws.config.company
    extra = dict(base.get("extra") or {})
    extra["doccontrol"] = {"preview": pub.preview, "company": company, "system": ws.config.model.system,
                           "as_of": pub.as_of.isoformat()}
    extra.setdefault("generator", False)
    validation = dict(base.get("validation") or {})
    validation["links"] = {**(validation.get("links") or {}), "absolute_links": "relative_to_docs"}
    return {
        **{k: v for k, v in base.items() if k not in ("INHERIT", "hooks", "watch")},
        "site_name": f"{company} 文件预览（草稿/未批准）" if pub.preview else f"{company} 受控文件",
        "copyright": base.get("copyright") or f"© {company} · 受控文件，打印件为非受控文件",
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "nav": nav,
        "use_directory_urls": True,
        "strict": False,
        "theme": theme_settings(base.get("theme")),
        "plugins": plugin_settings(ws, base.get("plugins")),
        "markdown_extensions": extension_settings(base.get("markdown_extensions")),
        "extra": extra,
        "validation": validation,
    }


def base_settings(root: Path) -> dict:
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import yaml_load

    path = root / BASE_CONFIG
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as handle:
            data = yaml_load(handle)
    except ConfigurationError as error:
        raise DoccontrolError(f"{BASE_CONFIG} cannot be read: {error}", path=BASE_CONFIG) from None
    if not isinstance(data, dict):
        raise DoccontrolError(f"{BASE_CONFIG} must be a mapping of settings", path=BASE_CONFIG)
    return data


def theme_settings(theme) -> dict:
    theme = {"name": theme} if isinstance(theme, str) else dict(theme or {})
    features = list(theme.get("features") or [])
    features += [f for f in REQUIRED_FEATURES if f not in features]
    theme.update({"name": "material", "custom_dir": str(THEME_DIR), "font": False, "features": features})
    theme.setdefault("language", "zh")
    theme.setdefault("palette", {"primary": "custom", "accent": "custom"})
    return theme


def plugin_settings(ws: Workspace, plugins) -> dict:
    """Search forced to Chinese with jieba; other plugins as configured (none by default).

    The privacy plugin is not added: with `font: false` the theme loads nothing remote, it
    would try to fetch Mermaid from a CDN at build time, and other engines ignore it. The
    build checks the output for remote resources instead (`remote_resources`).
    """
    merged = named_settings(plugins)
    search = dict(merged.pop("search", None) or merged.pop("material/search", None) or {})
    search.update({"lang": ["zh"], "separator": SEARCH_SEPARATOR, "jieba_dict_user": str(USER_DICT)})
    for name in ("privacy", "material/privacy"):
        if name in merged:
            merged[name].setdefault("cache_dir", str(ws.config.cache_dir / "privacy"))
    return {"search": search, **merged}


def extension_settings(extensions) -> list:
    from pymdownx.slugs import slugify

    merged = named_settings(extensions)
    for name in REQUIRED_EXTENSIONS:
        merged.setdefault(name, {})
    toc = dict(merged.pop("toc", None) or {})
    toc["slugify"] = slugify(case="lower")
    toc.setdefault("permalink", True)
    merged["toc"] = toc
    return [{name: cfg} if cfg else name for name, cfg in merged.items()]


def named_settings(items) -> dict:
    """A plugins/markdown_extensions value (list of names or one-key mappings, or a mapping) as name → settings."""
    if isinstance(items, dict):
        return {name: dict(cfg or {}) for name, cfg in items.items()}
    merged = {}
    for item in items or []:
        if isinstance(item, str):
            merged[item] = {}
        elif isinstance(item, dict):
            for name, cfg in item.items():
                merged[name] = dict(cfg or {})
    return merged


# -- nothing leaves the site ------------------------------------------------------------------

LOADING_TAGS = {"script", "img", "iframe", "frame", "embed", "object", "audio", "video", "source", "track",
                "input", "link"}
BEFORE_REMOTE = re.compile(r"""(?:\s(?P<attr>src|srcset|data|poster|href)\s*=|url\(|@import(?:\s+url\()?)"""
                           r"""\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?$""", re.IGNORECASE)
TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
NOT_LOADED = re.compile(r"""\brel\s*=\s*["']?(?:canonical|alternate)\b""", re.IGNORECASE)


def remote_resources(site_dir: Path) -> list[str]:
    """Pages and style sheets that would make a browser load something from another host."""
    found = []
    for path in sorted(site_dir.rglob("*")):
        if path.suffix in (".html", ".css"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(site_dir).as_posix()}: {what}" for what in remote_in(text)]
    return found


def remote_in(text: str) -> list[str]:
    """Resource URLs in HTML or CSS that start with `//` or `scheme://`; plain links (<a href>) are fine."""
    found = []
    for slash in re.finditer("//", text):
        before = BEFORE_REMOTE.search(text, max(0, slash.start() - 64), slash.start())
        if not before:
            continue
        if before.group("attr"):
            start = text.rfind("<", 0, slash.start())
            tag = text[start: text.find(">", slash.start()) + 1]
            name = TAG_NAME.match(tag)
            if not name or name.group(1).lower() not in LOADING_TAGS or NOT_LOADED.search(tag):
                continue
            found.append(tag[:160])
        else:
            found.append(text[before.start(): slash.end() + 80].split(")")[0])
    return found


def ensure_local(site_dir: Path) -> None:
    remote = remote_resources(site_dir)
    if remote:
        shown = "\n".join(f"    {line}" for line in remote[:20])
        raise DoccontrolError(f"the site would load resources from other hosts; readers on the intranet "
                              f"cannot reach them and no request may leave the site:\n{shown}",
                              fix="put the file into the repository and link it locally, or remove it")


# -- replacing the output ----------------------------------------------------------------------

def swap_in(new: Path, out: Path, previous: Path) -> None:
    """Replace out with new by renames on one file system; the old site survives any failure.

    SIGINT and SIGTERM are held from the first rename to the end, so an interrupt cannot land
    between the renames or before a failed second rename is undone; it takes effect after."""
    if not out.exists():
        os.rename(new, out)
        return
    with interrupts_held():
        os.rename(out, previous)
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(previous, out)
            raise
