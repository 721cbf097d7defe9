"""Pages kept from the previous build: one MkDocs build that renders only the pages whose inputs changed.

MkDocs has no incremental build, and most of a site's build goes into putting every page
through the theme (each page carries the navigation of its tab). This plugin keeps ONE
ordinary in-process MkDocs build and lets a page skip reading, conversion and the theme when
everything it is made from is what the previous build of the same site used:

- its own inputs: the staged Markdown, its metadata (title, control block), its address, and a
  stamp of everything global (doccontrol's code and theme, the libraries, the whole MkDocs
  configuration except the navigation);
- what it shows of the navigation: every tab's title, first page and number of entries (Material
  writes whitespace for each entry of a tab it shows folded), the whole tree of its own tab, and
  the previous and next pages (Material's navigation, tabs and footer read only the title, the
  address, whether a page is a section index, and the `icon`, `subtitle` and `status` of its
  metadata from pages other than the one rendered);
- what its rendering looked up, recorded while it rendered: each link to a file of the site
  (whether it is there, and where) and each document number linked (the target's title and page).

Which pages are kept is decided once the navigation is known, before MkDocs reads any page: a kept
page stays in the navigation (with its title and metadata) and in the sitemap, but MkDocs' page
loops never see it. Its file is linked (a hard link, no copy) from the previous site into the new
one, and its search entries, kept with it, take their place in the new index. The previous file
is used only while it is exactly what that build wrote (see site_state.py); otherwise the page
is rendered again. Nothing here decides what is published: the pages come from the
publication of this build, and a page is kept only when its inputs are byte for byte the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemBytecodeCache
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_build_timestamp

from ..cache import user_cache_folder
from .site_pictures import number_of_page
from .site_search import entries_json, finish_page_entries

# Every page shows the day the site was built for (the theme's 截至 …): the theme is given this mark instead,
# and each page gets the day written over it, so a page of another day is kept with the new date written in.
# It is drawn anew in every process, so no document's text can hold it.
AS_OF_MARK = "DCASOF" + secrets.token_hex(16)
# How many threads make the new site's folders (Folders.make_all).
MAKERS = 8
# What Material's navigation and tabs read of the metadata of a page other than the one being rendered.
NAV_META = ("icon", "subtitle", "status")


@dataclass(frozen=True)
class PageRecord:
    """What a build remembers of one page: the digest of its own inputs, what its rendering looked up
    (with the answers), its file in the site, its finished search entries (as index JSON), and the date
    its file shows with where in the file that date stands (byte offsets)."""

    inputs: str
    lookups: tuple
    dest: str
    search: str
    dated: str = ""
    date_at: tuple[int, ...] = ()


def with_date(output: str, as_of: str) -> tuple[str, tuple[int, ...]]:
    """The page with the day written where the theme put AS_OF_MARK, and where (byte offsets in its UTF-8 file)."""
    pieces = output.split(AS_OF_MARK)
    offsets, position = [], 0
    for piece in pieces[:-1]:
        position += len(piece.encode("utf-8", "xmlcharrefreplace"))
        offsets.append(position)
        position += len(as_of.encode("utf-8"))
    return as_of.join(pieces), tuple(offsets)


def redated(data: bytes, offsets: tuple[int, ...], old: str, new: str) -> bytes | None:
    """The file with the new day over the old one at each offset; None when that cannot be done exactly."""
    before, after = old.encode("utf-8"), new.encode("utf-8")
    if len(before) != len(after):
        return None
    patched = bytearray(data)
    for offset in offsets:
        if patched[offset:offset + len(before)] != before:
            return None
        patched[offset:offset + len(after)] = after
    return bytes(patched)


class Lookups:
    """What rendering the current page looked up: (kind, name) → the answer rendering saw."""

    def __init__(self) -> None:
        self.current: dict | None = None

    def saw(self, kind: str, name: str, answer) -> None:
        if self.current is not None:
            self.current.setdefault((kind, name), answer)


def file_answer(file) -> tuple | None:
    """What a link to a file of the site turns into depends on these (MkDocs' relative links)."""
    if file is None:
        return None
    return file.src_uri, file.url, file.inclusion.name, file.is_documentation_page()


def target_answer(target) -> tuple | None:
    return None if target is None else (target.title, target.src)


class RecordingFiles(Files):
    """The site's files, noting each lookup made while a page renders (MkDocs resolves links through it).

    The pages in `kept` are left out of its documentation pages, which MkDocs reads and builds one by one."""

    def __init__(self, files: Files, lookups: Lookups):
        super().__init__(list(files))
        self.lookups = lookups
        self.kept: dict = {}

    def documentation_pages(self, *, inclusion=InclusionLevel.is_included):
        pages = super().documentation_pages(inclusion=inclusion)
        return [file for file in pages if file.src_uri not in self.kept] if self.kept else pages

    def get_file_from_path(self, path: str):
        file = super().get_file_from_path(path)
        self.lookups.saw("file", path, file_answer(file))
        return file


class RecordingTargets(dict):
    """The published documents by number, noting each number looked up while a page renders (NumberLinks)."""

    def __init__(self, targets: dict, lookups: Lookups):
        super().__init__(targets)
        self.lookups = lookups

    def get(self, key, default=None):
        value = super().get(key, default)
        self.lookups.saw("number", key, target_answer(value))
        return value


def digest(*parts: object) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class NavigationViews:
    """For each page, a digest of the navigation as that page shows it (see the module's docstring)."""

    def __init__(self, nav, meta: dict[str, dict]):
        self.meta = meta
        self.tops = [digest(self._tree(item)) for item in nav.items]
        homepage = nav.homepage.url if nav.homepage else None
        self.overview = digest(homepage, *(canonical_json(self._first_chain(item)) for item in nav.items))
        self.tab_of: dict[str, int] = {}
        for index, item in enumerate(nav.items):
            for page in _pages_under(item):
                self.tab_of[page.file.src_uri] = index

    def view(self, page) -> str:
        tab = self.tab_of.get(page.file.src_uri)
        return digest(self.overview, tab, self.tops[tab] if tab is not None else "", page.url,
                      canonical_json(self._neighbour(page.previous_page)),
                      canonical_json(self._neighbour(page.next_page)))

    def title(self, page) -> str | None:
        """The title MkDocs gives the page once read: the navigation's label, else its metadata's title."""
        return vars(page).get("title") or self.meta.get(page.file.src_uri, {}).get("title")

    def _node(self, item) -> list:
        if item.is_page:
            meta = self.meta.get(item.file.src_uri, {})
            return ["P", self.title(item), item.url, item.is_index, [meta.get(key) for key in NAV_META]]
        if item.is_section:
            return ["S", item.title]
        return ["L", item.title, item.url]

    def _tree(self, item) -> str:
        def walk(node) -> list:
            return [*self._node(node), [walk(child) for child in (node.children or [])]]

        return canonical_json(walk(item))

    def _first_chain(self, item) -> list:
        """What a tab shows of itself on a page of another tab: its first page (through the first child of each
        level), and what Material's navigation loops over among its children (their kind and whether each is a
        section index): the whitespace it writes depends on how many children there are."""
        chain = [self._node(item),
                 [[child.is_section, child.is_page and child.is_index] for child in item.children or []]]
        while item.children:
            item = item.children[0]
            chain.append(self._node(item))
        return chain

    def _neighbour(self, page) -> list | None:
        return None if page is None else [self.title(page), page.url]


def _pages_under(item):
    if item.is_page:
        yield item
    for child in item.children or []:
        yield from _pages_under(child)


class Folders:
    """The folders of the new site made so far: each is made once, however many files go into it.

    `ahead` (relative folders of the site) are made together with the folders of MkDocs' files, before MkDocs
    writes any (see make_all)."""

    def __init__(self, ahead: Iterable[str] = ()) -> None:
        self.made: set[str] = set()
        self.ahead = list(ahead)

    def make_all(self, root: str, folders: Iterable[str]) -> None:
        """Make root, the folders and every folder between them, a level at a time, each level from several
        threads: making a folder can cost far more than writing a file, mostly waiting on the file system, and
        those waits overlap (as in fileio.remove_tree)."""
        root = os.path.normpath(root)
        self.make(root)
        wanted: set[str] = set()
        for folder in (os.path.normpath(os.path.join(root, name)) for name in [*folders, *self.ahead]):
            while folder.startswith(root + os.sep) and folder not in self.made and folder not in wanted:
                wanted.add(folder)
                folder = os.path.dirname(folder)
        levels: dict[int, list[str]] = {}
        for folder in wanted:
            levels.setdefault(folder.count(os.sep), []).append(folder)
        with ThreadPoolExecutor(MAKERS) as pool:
            for depth in sorted(levels):
                for _ in pool.map(_make_folder, sorted(levels[depth])):
                    pass
                self.made.update(levels[depth])

    def make(self, folder: str) -> None:
        if folder in self.made:
            return
        os.makedirs(folder, exist_ok=True)
        while folder not in self.made:
            self.made.add(folder)
            folder = os.path.dirname(folder)


def _make_folder(folder: str) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder)


class KeptFile(File):
    """A file of the previous site that this build would write again unchanged: linked into the new site.

    `fallback` is how to make it when the link cannot be made (bytes, or the path of the file to copy)."""

    fallback: bytes | str = b""
    folders: Folders

    def copy_file(self, dirty: bool = False) -> None:
        self.folders.make(os.path.dirname(self.abs_dest_path))
        try:
            os.link(self.abs_src_path, self.abs_dest_path)  # type: ignore[arg-type]
        except OSError:
            if isinstance(self.fallback, bytes):
                Path(self.abs_dest_path).write_bytes(self.fallback)
            else:
                shutil.copyfile(self.fallback, self.abs_dest_path)


def _kept_page(page, meta: dict) -> None:
    """A kept page as the navigation and the other pages read it: its metadata, and what Page.render leaves for an
    empty page (it is not read, converted or built)."""
    page.markdown = ""
    page.meta = dict(meta)
    page.content = ""
    page.toc = get_toc([])
    page.present_anchor_ids = set()
    page.links_to_anchors = {}


def template_cache() -> Path | None:
    """Compiled theme templates, kept in this user's cache folder (never the repository's, so nothing in a
    repository can plant code there); None when it cannot be made."""
    return user_cache("templates")


def user_cache(name: str) -> Path | None:
    """A folder of this user's cache folder (never the repository's); None when it cannot be made."""
    folder = user_cache_folder() / name
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder


def walk_order(src_uri: str) -> list:
    """Where MkDocs' walk of a docs dir puts a file: a folder's files (index first) before its sub-folders."""
    *folders, name = src_uri.split("/")
    key: list = [(1, folder) for folder in folders]
    key.append((0, (os.path.splitext(name)[0] not in ("index", "README"), name)))
    return key


class StagedFiles(BasePlugin):
    """Hands MkDocs the staged pages and the files next to them from memory (nothing is written to a docs dir),
    in the order a docs dir would give them, and links from the previous site each file that is the same:
    a staged file with the same bytes, a theme file of the same doccontrol and libraries (`code`)."""

    def __init__(self, *, texts: dict[str, str], files: dict[str, bytes], previous: dict[str, str],
                 old_site: Path | None, intact: Callable[[str], bool], code: str, folders: Folders | None = None):
        super().__init__()
        self.folders = folders or Folders()
        self.texts = texts
        self.files = files
        self.previous = previous
        self.old_site = old_site
        self.intact = intact
        self.code = code
        self.outputs: dict[str, str] = {}
        self.kept: set[str] = set()

    @event_priority(50)
    def on_files(self, files, *, config):
        docs_dir = config.docs_dir
        found = {file.src_uri: file for file in files if file.src_dir == docs_dir}
        theme = [file for file in files if file.src_dir not in (None, docs_dir) and file.src_uri not in self.files
                 and file.src_uri not in self.texts]
        for src, text in self.texts.items():
            found[src] = File.generated(config, src, content=text)
        for src, data in self.files.items():
            found[src] = self._file(config, src, digest("file", data), data)
        for index, file in enumerate(theme):
            theme[index] = self._file(config, file.src_uri, digest("theme", self.code, file.src_uri),
                                      file.abs_src_path, file)
        return Files([*(found[src] for src in sorted(found, key=walk_order)), *theme])

    def _file(self, config, src: str, key: str, source: bytes | str, original: File | None = None) -> File:
        made = original or File.generated(config, src, content=source)
        dest = made.dest_uri
        self.outputs[dest] = key
        if self.old_site is None or self.previous.get(dest) != key or not self.intact(dest):
            return made
        kept = KeptFile.generated(config, src, abs_src_path=str(self.old_site / dest))
        assert isinstance(kept, KeptFile)
        kept.fallback = source
        kept.folders = self.folders
        self.kept.add(dest)
        return kept


class LinkOrWrite:
    """Writes a file of the new site, or links the previous site's file when that build made it with the same
    key (a digest of everything the file is made from)."""

    def __init__(self, site_dir: Path, previous: dict[str, str], old_site: Path | None, intact: Callable[[str], bool],
                 outputs: dict[str, str], folders: Folders | None = None):
        self.folders = folders or Folders()
        self.site_dir = site_dir
        self.previous = previous
        self.old_site = old_site
        self.intact = intact
        self.outputs = outputs
        self.kept = 0

    def __call__(self, relative: str, key: str, make: Callable[[], bytes]) -> None:
        """Put the file at relative: the previous site's when it was made with the same key, else make()'s bytes."""
        self.outputs[relative] = key
        target = self.site_dir / relative
        self.folders.make(str(target.parent))
        if self.old_site is not None and self.previous.get(relative) == key and self.intact(relative):
            try:
                os.link(self.old_site / relative, target)
                self.kept += 1
                return
            except OSError:
                pass
        target.write_bytes(make())


class PageReuse(BasePlugin):
    """Keeps the pages whose inputs did not change since the previous build (see the module's docstring).

    previous: the records of the previous build; old_site: where that build's site is; intact(dest): whether
    its file is still exactly what that build wrote; meta and forms: the staged pages' metadata and which
    pages are forms; pictures: by document number, where each picture its pages show is on the site.
    `prepare` adds what is known once the MkDocs configuration is made."""

    def __init__(self, *, previous: dict[str, PageRecord], old_site: Path | None, intact: Callable[[str], bool],
                 meta: dict[str, dict], forms: set[str], pictures: dict[str, dict[str, str]] | None = None,
                 progress: Callable[[str, int, int], None] | None = None, folders: Folders | None = None):
        super().__init__()
        self.folders = folders or Folders()
        self.previous = previous
        self.old_site = old_site
        self.intact = intact
        self.meta = meta
        self.forms = forms
        self.pictures = pictures or {}
        self.progress = progress
        self.lookups = Lookups()
        self.stamp = ""
        self.as_of = ""
        self.redated: list[str] = []
        self.targets: dict = {}
        self.form_words: dict[str, str] = {}
        self.records: dict[str, PageRecord] = {}
        self.kept: dict[str, PageRecord] = {}
        self.rendered: list[str] = []
        self.search_parts: list[str] = []
        self.search_config: dict = {}
        self._search: dict[str, str] = {}
        self._order: list[str] = []
        self._files: RecordingFiles | None = None
        self._views: NavigationViews | None = None
        self._inputs: dict[str, str] = {}
        self._recorded: dict[str, dict] = {}
        self._mark = 0
        self._pages = 0
        self._done = 0

    def prepare(self, stamp: str, targets: dict, form_words: dict[str, str]) -> RecordingTargets:
        """Set what the build knows once its configuration is made; the targets NumberLinks should look up."""
        self.stamp = stamp
        self.targets = targets
        self.form_words = form_words
        return RecordingTargets(targets, self.lookups)

    # -- lookups and navigation ------------------------------------------------------------------

    @event_priority(-100)
    def on_files(self, files, *, config):
        self._files = RecordingFiles(files, self.lookups)
        return self._files

    @event_priority(-100)
    def on_nav(self, nav, *, config, files):
        """Decide which pages are kept, and leave them out of MkDocs' page loops (see RecordingFiles)."""
        assert self._files is not None
        self._views = NavigationViews(nav, self.meta)
        pages = self._files.documentation_pages()
        self._order = [file.src_uri for file in pages]
        for file in pages:
            self._keep_or_read(file.page)
        self._files.kept = self.kept
        self._pages = len(pages) - len(self.kept)
        self.folders.make_all(config.site_dir, {os.path.dirname(file.dest_uri) for file in self._files})
        return nav

    def on_template_context(self, context, *, template_name, config):
        """The sitemap lists every page, the kept ones too."""
        assert self._files is not None
        if "pages" in context:
            context["pages"] = Files.documentation_pages(self._files)
        return context

    def on_env(self, env, *, config, files):
        folder = template_cache()
        if folder is not None:
            env.bytecode_cache = FileSystemBytecodeCache(str(folder))
        return env

    def _answer(self, kind: str, name: str):
        if kind == "file":
            assert self._files is not None
            return file_answer(Files.get_file_from_path(self._files, name))
        return target_answer(self.targets.get(name))

    # -- reading: keep the page, or read it for rendering -----------------------------------------

    @event_priority(100)
    def on_pre_page(self, page, *, config, files):
        self.lookups.current = self._recorded.setdefault(page.file.src_uri, {})
        return page

    def _keep_or_read(self, page) -> None:
        """Keep the page when its inputs and lookups are what the previous build rendered it from; else note its
        inputs, and MkDocs reads and renders it."""
        src = page.file.src_uri
        assert self._views is not None
        inputs = digest(self.stamp, src, page.url, page.file.content_string, canonical_json(self.meta.get(src, {})),
                        src in self.forms, self._views.view(page),
                        canonical_json(self.pictures.get(number_of_page(src), {})))
        record = self.previous.get(src)
        if record is not None and self._keeps(record, inputs):
            self.kept[src] = self.records[src] = record
            self._search[src] = record.search
            _kept_page(page, self.meta.get(src, {}))
        else:
            self._inputs[src] = inputs

    def _keeps(self, record: PageRecord, inputs: str) -> bool:
        if record.inputs != inputs or self.old_site is None or not self.intact(record.dest):
            return False
        if record.dated != self.as_of and not self._dated_where_recorded(record):
            return False
        return all(self._answer(kind, name) == answer for (kind, name), answer in record.lookups)

    def _dated_where_recorded(self, record: PageRecord) -> bool:
        """Whether the previous site's file shows its date at every offset recorded, and the new date fits there."""
        old = record.dated.encode("utf-8")
        if len(old) != len(self.as_of.encode("utf-8")):
            return False
        try:
            with open(self.old_site / record.dest, "rb") as handle:  # type: ignore[operator]
                for offset in record.date_at:
                    handle.seek(offset)
                    if handle.read(len(old)) != old:
                        return False
        except OSError:
            return False
        return True

    @event_priority(-100)
    def on_page_content(self, html, *, page, config, files):
        self.lookups.current = None
        self._step("reading")
        return html

    # -- building: the search entries, and the output ----------------------------------------------

    @event_priority(100)
    def _before_search(self, context, *, page, config, nav):
        self.lookups.current = self._recorded.setdefault(page.file.src_uri, {})
        self._mark = len(self._search_entries(config))
        return context

    @event_priority(-100)
    def _after_search(self, context, *, page, config, nav):
        entries = self._search_entries(config)
        added = entries[self._mark:]
        del entries[self._mark:]
        self._search[page.file.src_uri] = entries_json(finish_page_entries(added, self.form_words.get(page.url, "")))
        return context

    on_page_context = CombinedEvent(_before_search, _after_search)

    @event_priority(-100)
    def on_post_page(self, output, *, page, config):
        src = page.file.src_uri
        self._step("rendering")
        lookups = tuple(sorted(self._recorded.pop(src, {}).items(), key=lambda item: item[0]))
        self.lookups.current = None
        output, offsets = with_date(output, self.as_of)
        self.records[src] = PageRecord(self._inputs[src], lookups, page.file.dest_uri, self._search[src],
                                       self.as_of, offsets)
        self.rendered.append(src)
        return output

    def on_post_template(self, output_content, *, template_name, config):
        return with_date(output_content, self.as_of)[0]

    @event_priority(100)
    def _search_configuration(self, *, config):
        """Material's search plugin writes its index next, without entries (each page's were taken as it was
        built); the build writes the real index from search_parts with this configuration."""
        self.search_parts = [self._search.get(src, "") for src in self._order]
        search = self._search_plugin(config)
        if search is not None:
            self.search_config = {key: search.search_index.config[key]
                                  for key in ("lang", "separator", "pipeline", "fields")}

    @event_priority(-100)
    def _link_kept_pages(self, *, config):
        """Each kept page's file from the previous site: linked, or with the new day written in (a new file)."""
        site_dir = Path(config.site_dir)
        assert self.old_site is not None or not self.kept
        for src, record in self.kept.items():
            target = site_dir / record.dest
            self.folders.make(str(target.parent))
            source = self.old_site / record.dest  # type: ignore[operator]
            if record.dated == self.as_of:
                os.link(source, target)
                continue
            data = redated(source.read_bytes(), record.date_at, record.dated, self.as_of)
            if data is None:
                raise RuntimeError(f"{record.dest} of the previous site does not show its date where it was written")
            target.write_bytes(data)
            self.records[src] = dataclasses.replace(record, dated=self.as_of)
            self.redated.append(src)

    @event_priority(-100)
    def _sitemap_dated_by_its_pages(self, *, config):
        """MkDocs dates sitemap.xml.gz by the pages it builds, and by the clock when it builds none: when every page
        was kept, it is written again dated by all the pages, as a build that renders them dates it."""
        sitemap = Path(config.site_dir) / "sitemap.xml"
        if self._pages or self._files is None or not sitemap.is_file():
            return
        pages = [file.page for file in Files.documentation_pages(self._files) if file.page is not None]
        gz_filename = f"{sitemap}.gz"
        with open(gz_filename, "wb") as handle, gzip.GzipFile(fileobj=handle, filename=gz_filename, mode="wb",
                                                              mtime=get_build_timestamp(pages=pages)) as packed:
            packed.write(sitemap.read_bytes())

    on_post_build = CombinedEvent(_search_configuration, _link_kept_pages, _sitemap_dated_by_its_pages)

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _search_plugin(config):
        for name in ("material/search", "search"):
            plugin = config.plugins.get(name)
            if plugin is not None and hasattr(plugin, "search_index"):
                return plugin
        return None

    def _search_entries(self, config) -> list:
        search = self._search_plugin(config)
        return search.search_index.entries if search is not None else []

    def _step(self, stage: str) -> None:
        self._done += 1
        if self.progress is not None:
            done = self._done if stage == "reading" else self._done - self._pages
            self.progress(f"{stage} pages", done, self._pages)
