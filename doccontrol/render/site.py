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
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock, collector
from ..config import CONFIG_FILE, Config, ConfigError
from ..errors import DoccontrolError
from ..fileio import private_temp_dir, remove_in_background
from ..loader import MANUAL_INDEX
from ..markdown_checks import refuse_beyond_limits
from ..messages import Messages
from ..model import ROLES, Document, Finding, Severity, Signature
from ..progress import Progress, quiet
from ..publication import Publication
from ..register import sort_key
from ..site_options import OPTIONS_FILE, SiteOptions, read_logo, site_options_of
from ..workspace import Workspace
from . import site_engine, site_redline, site_state
from . import site_pages as pages_
from .site_engine import run_mkdocs
from .site_output import checked_output, ensure_local, swap_in
from .site_pages import Target
from .site_pictures import site_pictures
from .site_print import print_css
from .site_reuse import Folders, LinkOrWrite, PageReuse, StagedFiles, digest
from .site_search import write_search_index
from .site_state import (
    Intact,
    SiteState,
    document_changes,
    file_digest,
    load_state,
    published,
    save_state,
    site_files,
    stamp_changes,
    unchanged_site,
    watched_unchanged,
)

SITE_MARKER = ".doccontrol-site"
ASSETS = "assets/doccontrol"
ROLE_KEYS = {"review": "reviewed", "approve": "approved"}

# Each staged page opens with empty front matter, so that a body beginning with a `---` rule is
# never read as metadata; the real metadata comes from `Staged.meta`.
EMPTY_FRONT_MATTER = "---\n{}\n---\n\n"


@dataclass
class SiteResult:
    """What a build made: the site, the documents published, and how many of the site's pages it rendered
    (the others were kept from the previous build) and why."""

    out: Path
    pages: int
    notice: str = ""
    held_back: list[Finding] = field(default_factory=list)
    rendered: int = 0
    page_total: int = 0
    why: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """site: 3 of 1,002 pages rebuilt (QP-SH-011 A/2 released)"""
        reasons = self.why[:3] + ([f"and {len(self.why) - 3} more"] if len(self.why) > 3 else [])
        return (f"{self.rendered:,} of {self.page_total:,} pages rebuilt"
                + (f" ({'; '.join(reasons)})" if reasons else ""))


@dataclass
class Staged:
    """What `stage` wrote: the navigation, where each document went, and each page's metadata."""

    nav: list
    targets: dict[str, Target]
    meta: dict[str, dict]
    forms: set[str]
    texts: dict[str, str] = field(default_factory=dict)  # each page's staged Markdown, by its path in docs_dir
    files: dict[str, bytes] = field(default_factory=dict)  # the files next to the pages (style sheets, pictures …)
    pictures: dict[str, dict[str, str]] = field(default_factory=dict)  # by number: picture path → site address
    tables: dict[str, dict[str, str]] = field(default_factory=dict)  # the generated pages' tables (lift_tables)

    def lift_tables(self) -> None:
        """Take the tables out of the generated pages' Markdown, to be put back after it (site_pages.lift_tables)."""
        for src, text in self.texts.items():
            if "dc" not in self.meta.get(src, {}):
                self.texts[src], tables = pages_.lift_tables(text)
                if tables:
                    self.tables[src] = tables


# -- entry points ------------------------------------------------------------------------------

def build_site(ws: Workspace, out: Path, *, preview: bool = False, as_of: dt.date | None = None,
               redlines: bool = True, progress: Progress | None = None) -> SiteResult:
    """Build the site (released revisions, or the working tree when preview) and replace `out` with it.

    Pages whose inputs did not change since the last build of `out` are kept from it (site_reuse.py);
    when nothing it is made from changed, the site is left as it is (site_state.py). `--no-cache`
    (ws.use_cache False) renders every page and keeps no record."""
    report = progress or quiet
    out = checked_output(ws, Path(out), preview, SITE_MARKER)
    previous = load_state(ws.config.cache_dir, out, with_pages=False) if ws.use_cache else None
    inputs = build_inputs(ws, as_of, redlines) if ws.use_cache and not preview else None
    if previous is not None and inputs and previous.inputs == inputs \
            and watched_unchanged(ws.root, previous.watched) and unchanged_site(out, previous.files):
        return SiteResult(out, previous.documents_total, previous.notice, list(previous.held_back), 0,
                          previous.pages_total, ["nothing changed"])
    report("proving the signed record", 0, 0)
    pub = publication(ws, preview, as_of)
    with collector.long_lived():
        return render_site(ws, out, pub, previous, inputs, redlines, report)


def render_site(ws: Workspace, out: Path, pub: Publication, previous: SiteState | None, inputs: str | None,
                redlines: bool, report: Progress) -> SiteResult:
    """Render the publication into out, keeping from the previous build (its small record) what did not change."""
    options, logo_sha256 = site_options(ws, pub.preview, pub)
    if previous is not None:
        previous = load_state(ws.config.cache_dir, out)
    within_limits = refuse_beyond_limits(pub.documents, "build the site", previous.within_limits if previous else ())
    config = pub.config  # the approved configuration (the working one only in a preview)
    parts = site_engine.stamp(config, options, pub)
    out.parent.mkdir(parents=True, exist_ok=True)
    with private_temp_dir(out.parent, f".{out.name}-build-") as work:
        docs_dir, site_dir = work / "docs", work / "site"
        report("staging pages", 0, 0)
        staged = staged_pages(config, pub)
        staged.lift_tables()
        staged.files.update(site_assets(ws, options, pub, logo_sha256))
        staged.files.update(blank_forms(ws, pub, within_limits))
        docs_dir.mkdir()
        redline_plan = site_redline.prepare(ws, pub, staged, docs_dir) if redlines else None  # 修订对比 pages
        old_site = out if previous is not None else None
        intact = Intact(out, previous.files if previous else {})
        earlier = previous.outputs if previous else {}
        folders = Folders(ahead=[page.url for page in redline_plan.pages] if redline_plan else [])
        files = StagedFiles(texts=staged.texts, files=staged.files, previous=earlier, old_site=old_site,
                            intact=intact, code=parts["code"], folders=folders)
        reuse = PageReuse(previous=previous.pages if previous else {}, old_site=old_site, intact=intact,
                          meta=staged.meta, forms=staged.forms, pictures=staged.pictures, progress=report,
                          folders=folders)
        reuse.as_of = parts["as_of"]
        everything_but_the_day = digest(*sorted((key, value) for key, value in parts.items() if key != "as_of"))
        run_mkdocs(config, options, pub, docs_dir, site_dir, staged, reuse, everything_but_the_day, files)
        report("writing the search index", 0, 0)
        write_search_index(site_dir, reuse.search_config, reuse.search_parts)
        ensure_local(site_dir, skip={record.dest for record in reuse.kept.values()} | files.kept)
        outputs = dict(files.outputs)
        # 修订对比 pages (their content is checked as it is made); one the same as before is linked
        linked = LinkOrWrite(site_dir, earlier, old_site, intact, outputs, folders)
        site_redline.write_pages(site_dir, redline_plan, linked)
        (site_dir / SITE_MARKER).write_text(
            f"{'preview' if pub.preview else 'controlled'} {pub.as_of.isoformat()}\n", encoding="utf-8")
        swap_in(site_dir, out, work / "previous")
        if (work / "previous").exists():  # the old site, now in work: its removal need not hold the command up
            remove_in_background(work, f".{out.name}-build-")
    shown = [src for src in reuse.records if src != site_redline.SHELL_SRC]  # the shell is not a page of the site
    result = SiteResult(out=out, pages=len(pub.documents), notice=pub.notice, held_back=list(pub.held_back),
                        rendered=sum(1 for src in reuse.rendered if src != site_redline.SHELL_SRC),
                        page_total=len(shown),
                        why=rebuilt_because(previous, parts, pub, reuse))
    if ws.use_cache:
        keep_state(ws, out, inputs, parts, pub, reuse, result, options, outputs, within_limits)
    return result


def build_inputs(ws: Workspace, as_of: dt.date | None, redlines: bool) -> str | None:
    """A digest of everything a controlled build is made from, or None when the record is not proven from a
    full history (then the files themselves are published, and every build reads them)."""
    from ..publication import full_history_repo

    repo = full_history_repo(ws.root)
    if repo is None:
        return None
    with repo:
        head = repo.head
    today = clock.today()
    return digest(site_state.code_version(), head, (as_of or today).isoformat(), today.isoformat(),
                  build_date(), redlines, ws.allow_no_history)


def build_date() -> str:
    """The day MkDocs dates the pages in sitemap.xml with (SOURCE_DATE_EPOCH, else today in UTC)."""
    from mkdocs.utils import get_build_date

    return get_build_date()


def watched_files(ws: Workspace, options: SiteOptions) -> dict[str, str]:
    """The working files a controlled build reads besides the history: the configuration, the clause
    catalogue, the site options and the logo."""
    names = [CONFIG_FILE, ws.config.model.clause_catalogue, OPTIONS_FILE, *([options.logo] if options.logo else [])]
    return {name: file_digest(ws.root / name) for name in names}


def keep_state(ws: Workspace, out: Path, inputs: str | None, parts: dict[str, str], pub: Publication,
               reuse: PageReuse, result: SiteResult, options: SiteOptions, outputs: dict[str, str],
               within_limits: set[bytes]) -> None:
    """Record what this build was made from and what it left in out, for the next build."""
    state = SiteState(inputs=inputs or "", stamp=parts, files=site_files(out), documents=published(pub.documents),
                      watched=watched_files(ws, options), pages_total=result.page_total,
                      documents_total=result.pages, notice=result.notice, held_back=result.held_back,
                      pages=reuse.records, outputs=outputs, within_limits=frozenset(within_limits))
    save_state(ws.config.cache_dir, out, state)


def rebuilt_because(previous: SiteState | None, parts: dict[str, str], pub: Publication, reuse: PageReuse) -> list[str]:
    """Why the pages rendered were rendered, in words."""
    if previous is None or not previous.pages:
        return ["no earlier build to keep pages from"]
    why = stamp_changes(previous.stamp, parts, len(reuse.redated)) + document_changes(previous.documents,
                                                                                   published(pub.documents))
    if not why and reuse.rendered:
        why = ["pages of the earlier build were changed or removed since"]
    return why or ["nothing changed"]


def site_options(ws: Workspace, preview: bool = False,
                 pub: Publication | None = None) -> tuple[SiteOptions, str | None]:
    """The approved site options (those of the configuration the publication was proven with; a preview takes
    the working mkdocs.yml's), and the logo's approved sha256."""
    try:
        if not preview and pub is not None and pub.config.site is not None:
            return site_options_of(pub.config.site)
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
    staged = staged_pages(config, pub)
    for src, text in staged.texts.items():
        path = docs_dir / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for src, data in staged.files.items():
        path = docs_dir / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return staged


def staged_pages(config: Config, pub: Publication) -> Staged:
    """The pages to publish (see `stage`), kept in memory: the build hands them to MkDocs without writing them."""
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
                              page_meta(site.register, search={"exclude": True}))
    pages[pages_.CLAUSES] = (pages_.clause_page(config, documents, targets), page_meta(site.clauses, search=listed))
    if pub.withdrawn:
        pages[pages_.WITHDRAWN] = (pages_.withdrawn_page(config, pub, targets), page_meta(site.withdrawn))
    for doc_type, docs in pages_.by_type(documents):
        pages[pages_.list_src(doc_type)] = (pages_.list_page(config, doc_type, docs, pub, targets),
                                           page_meta(config.type_label(doc_type), search={"exclude": True}))
    texts = {src: EMPTY_FRONT_MATTER + text for src, (text, _) in pages.items()}
    meta = {src: page for src, (_, page) in pages.items()}
    forms = {targets[d.number].src for d in documents if d.type == "form"}
    urls, pictures = site_pictures(pub)
    return Staged(navigation(config, pub, documents, targets), targets, meta, forms, texts, pictures, urls)


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

def site_assets(ws: Workspace, options: SiteOptions, pub: Publication,
                logo_sha256: str | None = None) -> dict[str, bytes]:
    """The site options' style sheet and logo (the approved image only), and each document's print style sheet,
    by their path in docs_dir."""
    import hashlib

    files = {f"{ASSETS}/site-options.css": options_css(options).encode("utf-8")}
    if options.logo:
        try:
            logo = read_logo(ws.root, options)
        except ConfigError as error:
            raise DoccontrolError(f"refusing to put the logo {options.logo} into the site", findings=error.findings,
                                  fix="replace it with a PNG, JPEG or WebP picture, then approve it: "
                                      "doccontrol config approve --key KEY") from None
        if logo_sha256 is not None and hashlib.sha256(logo).hexdigest() != logo_sha256:
            raise DoccontrolError(f"the logo {options.logo} is not the image the configuration approved",
                                  fix="restore it, or approve the new one: doccontrol config approve --key KEY")
        files[f"{ASSETS}/logo{Path(options.logo).suffix.lower()}"] = logo
    for doc in pub.documents:
        css = print_css(doc, pub.preview, pub.config.messages)
        files[f"{ASSETS}/print/{doc.number}.css"] = css.encode("utf-8")
    return files


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


def blank_forms(ws: Workspace, pub: Publication, within_limits: Collection[bytes] = ()) -> dict[str, bytes]:
    """Each form page's blank form as .docx, next to the page (草稿 across it in a preview), by path in docs_dir
    (within_limits: digests of texts known to be within the Markdown limits)."""
    from .docx import blank_form, render

    forms = [doc for doc in sorted(pub.documents, key=sort_key) if doc.type == "form"]
    if not forms:
        return {}
    config = pub.config
    items = [blank_form(config, doc, "draft" if pub.preview else None) for doc in forms]
    rendered = render(config, items, use_cache=ws.use_cache, write_cache=ws.use_cache, pictures=pub.pictures,
                      within_limits=within_limits)
    return {f"{doc.number}/{blank_form_name(doc, config.messages)}": data
            for doc, data in zip(forms, rendered.files)}
