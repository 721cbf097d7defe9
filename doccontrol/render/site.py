"""The controlled website: stage what is published, build it with MkDocs once, swap it in.

Only the documents of a Publication enter the staged docs dir (the released revisions
read from git, or the working tree for a preview), so a draft that is not published
cannot reach a page or the search index. Page furniture (control block, notices, print
rules) lives in the theme override; each page's values (its title, and the control block's
under `dc`) are handed to MkDocs in process as the page's metadata, never written out as YAML
and parsed back, so the engine only has to honour `custom_dir` templates and page metadata.

The MkDocs configuration is built here, in code (site_engine.py): the repository's
`mkdocs.yml` holds only inert options (site_options.py), so nothing in the repository is run.
Every title handed to MkDocs (nav entries, page `title`) is HTML-escaped text, because
Material prints those unescaped; the theme escapes the raw values under `dc` itself.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock
from ..config import CONFIG_FILE, Config, ConfigError
from ..errors import DoccontrolError
from ..fileio import private_temp_dir
from ..loader import MANUAL_INDEX
from ..markdown_checks import refuse_beyond_limits
from ..messages import Messages
from ..model import ROLES, Document, Severity, Signature
from ..publication import Publication
from ..register import sort_key
from ..workspace import Workspace
from . import site_pages as pages_
from .site_engine import run_mkdocs
from ..site_options import OPTIONS_FILE, SiteOptions, read_logo
from .site_output import checked_output, ensure_local, swap_in
from .site_pages import Target
from .site_pictures import write_pictures
from .site_print import print_css
from .site_search import finish_search_index
from . import site_redline

SITE_MARKER = ".doccontrol-site"
ASSETS = "assets/doccontrol"
ROLE_KEYS = {"review": "reviewed", "approve": "approved"}

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
    targets: dict[str, Target]
    meta: dict[str, dict]
    forms: set[str]
    pictures: dict[str, dict[str, str]] = field(default_factory=dict)  # by number: picture path → site address


# -- entry points ------------------------------------------------------------------------------

def build_site(ws: Workspace, out: Path, *, preview: bool = False, as_of: dt.date | None = None,
               redlines: bool = True) -> SiteResult:
    """Build the site (released revisions, or the working tree when preview) and replace `out` with it."""
    out = checked_output(ws, Path(out), preview, SITE_MARKER)
    options, logo_sha256 = site_options(ws, preview)
    pub = publication(ws, preview, as_of)
    refuse_beyond_limits(pub.documents, "build the site")
    out.parent.mkdir(parents=True, exist_ok=True)
    with private_temp_dir(out.parent, f".{out.name}-build-") as work:
        docs_dir, site_dir = work / "docs", work / "site"
        staged = stage(ws.config, pub, docs_dir)
        write_assets(ws, options, pub, docs_dir, logo_sha256)
        write_blank_forms(ws, pub, docs_dir, staged)
        redline_plan = site_redline.prepare(ws, pub, staged, docs_dir) if redlines else None  # 修订对比 pages
        form_words = run_mkdocs(ws.config, options, pub, docs_dir, site_dir, staged)
        finish_search_index(site_dir, form_words)
        ensure_local(site_dir)
        site_redline.write_pages(site_dir, redline_plan)  # 修订对比 pages (their content is checked as it is made)
        (site_dir / SITE_MARKER).write_text(
            f"{'preview' if pub.preview else 'controlled'} {pub.as_of.isoformat()}\n", encoding="utf-8")
        swap_in(site_dir, out, work / "previous")
    return SiteResult(out=out, pages=len(pub.documents), notice=pub.notice)


def site_options(ws: Workspace, preview: bool = False) -> tuple[SiteOptions, str | None]:
    """The approved site options (a preview takes the working mkdocs.yml's), and the logo's approved sha256."""
    try:
        return ws.site_options(working=preview)
    except ConfigError as error:
        raise DoccontrolError(f"the site options ({OPTIONS_FILE}) are not valid", findings=error.findings,
                              fix="correct them as the findings say (see README, Site options)") from None


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
    files = [ws.root / CONFIG_FILE, ws.root / OPTIONS_FILE]
    return sorted(p for p in [*folders, *files] if p.exists())


# -- what to publish ---------------------------------------------------------------------------

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
        pages.update(document_pages(config, pub, doc, targets))
    listed = {"boost": 0.2}
    site = config.messages.site
    pages[pages_.HOME] = (pages_.home_page(config, pub, documents, targets),
                          page_meta(site.home, search={"exclude": True}))
    pages[pages_.REGISTER] = (pages_.register_page(config, pub, documents, targets),
                              page_meta(site.register, search=listed))
    pages[pages_.CLAUSES] = (pages_.clause_page(config, documents, targets), page_meta(site.clauses, search=listed))
    if pub.withdrawn:
        pages[pages_.WITHDRAWN] = (pages_.withdrawn_page(config, pub, targets), page_meta(site.withdrawn))
    for doc_type, docs in pages_.by_type(documents):
        pages[pages_.list_src(doc_type)] = (pages_.list_page(config, doc_type, docs, pub, targets),
                                           page_meta(config.type_label(doc_type), search={"exclude": True}))
    for src, (text, _) in pages.items():
        path = docs_dir / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(EMPTY_FRONT_MATTER + text, encoding="utf-8")
    meta = {src: page for src, (_, page) in pages.items()}
    forms = {targets[d.number].src for d in documents if d.type == "form"}
    return Staged(navigation(config, pub, documents, targets), targets, meta, forms, write_pictures(pub, docs_dir))


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


HEADING = re.compile(r"#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*")


def part_title(path: str, text: str) -> str:
    for line in text.splitlines():
        match = HEADING.fullmatch(line) if line.startswith("#") else None
        if match:
            return match.group(1)
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    return re.sub(r"^[0-9]+[-_ .]*", "", stem) or stem


def document_pages(config: Config, pub: Publication, doc: Document,
                   targets: dict[str, Target]) -> dict[str, tuple[str, dict]]:
    dc = document_meta(config, pub, doc, targets)
    main = targets[doc.number]
    parts = part_pages(doc)
    body = doc.body
    if parts:
        contents = "\n".join(f"- [{pages_.md_text(title)}](/{src})" for src, title, _ in parts)
        body = f"{body.rstrip()}\n\n## {config.messages.site.chapters} {{#dc-chapters}}\n\n{contents}\n"
    search = {"boost": SEARCH_BOOST.get(doc.type, 1)}
    pages = {main.src: (body, page_meta(f"{doc.number} {doc.title}", dc, search=search))}
    for src, title, text in parts:
        part_dc = {**dc, "part": title, "home": main.url, "history": [], "print_title": f"{doc.title} · {title}"}
        pages[src] = (text, page_meta(f"{doc.number} {doc.title} · {title}", part_dc, search=search))
    return pages


# Search ranks a procedure's sections above a form's or a manual chapter's when both match as well.
SEARCH_BOOST = {"procedure": 1.5, "instruction": 1.5, "external": 1.2, "manual": 1, "form": 1}


def document_meta(config: Config, pub: Publication, doc: Document, targets: dict[str, Target]) -> dict:
    """The values the control block shows, as plain (unescaped) strings."""
    return {
        "number": doc.number,
        "title": doc.title,
        "type": doc.type,
        "type_label": config.type_label(doc.type),
        "revision": doc.revision,
        "status": doc.status,
        "effective": iso(doc.effective),
        "next_review": iso(doc.next_review),
        "department": doc.department,
        "prepared": {"name": doc.prepared.name, "date": iso(doc.prepared.date)},
        "signatures": signatures(doc),
        "unsigned": pub.unsigned,
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
        "print_css": f"{ASSETS}/print/{doc.number}.css",
        "print_title": doc.title,
        "blank_form": blank_form_name(doc, config.messages) if doc.type == "form" else "",
    }


def signatures(doc: Document) -> list[dict]:
    """Every signature of the revision, 审核 and 批准 first, then any other role in the order signed.

    A role without a signature (审核 or 批准) still gets its cell, marked 未签."""
    ordered: list[dict] = []
    for role in ROLES:
        sig = doc.signature(role)
        ordered.append(signed(role, sig))
    for sig in doc.approvals:
        if sig.role not in ROLES:
            ordered.append(signed(sig.role, sig))
    return ordered


def signed(role: str, sig: Signature | None) -> dict:
    key = ROLE_KEYS.get(role, "signed")
    if sig is None:
        return {"role": role, "key": key, "name": "", "date": "", "time": "", "fingerprint": ""}
    return {"role": role, "key": key, "name": sig.name, "date": sig.at.date().isoformat(),
            "time": sig.at.strftime("%H:%M"), "fingerprint": sig.key}


def reference(number: str, targets: dict[str, Target]) -> dict:
    target = targets.get(number)
    return {"number": number, "title": target.title if target else "", "url": target.url if target else ""}


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def page_meta(title: str, dc: dict | None = None, **extra) -> dict:
    meta: dict = {"title": html.escape(title)}
    if dc is not None:
        meta["dc"] = dc
    meta.update({key: value for key, value in extra.items() if value is not None})
    return meta


def navigation(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> list:
    """首页 (with the register, withdrawals and clauses), then one tab per type: its list page, then its
    documents in number order."""
    site = config.messages.site
    home: list = [pages_.HOME, {html.escape(site.register): pages_.REGISTER}]
    if pub.withdrawn:
        home.append({html.escape(site.withdrawn): pages_.WITHDRAWN})
    home.append({html.escape(site.clauses): pages_.CLAUSES})
    nav: list = [{html.escape(site.home): home}]
    for doc_type, docs in pages_.by_type(documents):
        entries = [pages_.list_src(doc_type), *(nav_entry(doc, targets) for doc in docs)]
        nav.append({html.escape(config.type_label(doc_type)): entries})
    return nav


def nav_entry(doc: Document, targets: dict[str, Target]) -> dict:
    label = html.escape(f"{doc.number} {doc.title}")
    main = targets[doc.number]
    parts = part_pages(doc)
    if not parts:
        return {label: main.src}
    return {label: [main.src, *({html.escape(title): src} for src, title, _ in parts)]}


# -- files next to the pages -------------------------------------------------------------------

def write_assets(ws: Workspace, options: SiteOptions, pub: Publication, docs_dir: Path,
                 logo_sha256: str | None = None) -> None:
    """The site options' style sheet and logo (the approved image only), and each document's print style sheet."""
    import hashlib

    assets = docs_dir / ASSETS
    (assets / "print").mkdir(parents=True, exist_ok=True)
    (assets / "site-options.css").write_text(options_css(options), encoding="utf-8")
    if options.logo:
        logo = read_logo(ws.root, options)
        if logo_sha256 is not None and hashlib.sha256(logo).hexdigest() != logo_sha256:
            raise DoccontrolError(f"the logo {options.logo} is not the image the configuration approved",
                                  fix="restore it, or approve the new one: doccontrol config approve --key KEY")
        (assets / f"logo{Path(options.logo).suffix.lower()}").write_bytes(logo)
    for doc in pub.documents:
        (assets / "print" / f"{doc.number}.css").write_text(print_css(doc, pub.preview, ws.config.messages),
                                                            encoding="utf-8")


def options_css(options: SiteOptions) -> str:
    """The two colours of the site options (validated as #rrggbb, so they are safe in CSS)."""
    primary, accent = options.colors.primary, options.colors.accent
    return (f'[data-md-color-primary="custom"]{{--md-primary-fg-color:{primary};'
            f"--md-primary-fg-color--light:{shade(primary, 1.25)};--md-primary-fg-color--dark:{shade(primary, 0.7)}}}\n"
            f'[data-md-color-accent="custom"]{{--md-accent-fg-color:{accent}}}\n')


def shade(colour: str, factor: float) -> str:
    channels = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{max(0, min(255, round(c * factor))):02x}" for c in channels)


def blank_form_name(doc: Document, labels: Messages) -> str:
    title = re.sub(r'[\\/:*?"<>|\s]+', "", doc.title)
    return f"{doc.number}-{doc.revision.replace('/', '')}-{title}-{labels.site.blank_form}.docx"


def write_blank_forms(ws: Workspace, pub: Publication, docs_dir: Path, staged: Staged) -> None:
    """Each form page's blank form as .docx, next to the page (草稿 across it in a preview)."""
    from .docx import blank_form, render

    forms = [doc for doc in sorted(pub.documents, key=sort_key) if doc.type == "form"]
    if not forms:
        return
    items = [blank_form(ws.config, doc, "draft" if pub.preview else None) for doc in forms]
    rendered = render(ws.config, items, use_cache=ws.use_cache, write_cache=ws.use_cache, pictures=pub.pictures)
    for doc, data in zip(forms, rendered.files):
        folder = docs_dir / doc.number
        folder.mkdir(parents=True, exist_ok=True)
        (folder / blank_form_name(doc, ws.config.messages)).write_bytes(data)

