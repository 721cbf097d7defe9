"""The MkDocs configuration of the controlled site, built in code, and the one in-process build.

Nothing of it comes from the repository but the inert site options (site_options.py): the
theme, its templates (`custom_dir`), the search plugin, the Markdown extensions (only those
pandoc reads the same way) and every page's metadata are set here. Strings the repository
chose (company, site title, footer) are handed to the templates already escaped, as Markup,
so a template that prints them raw and one that escapes them both show text.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from pathlib import Path

from markupsafe import Markup, escape
from mkdocs.plugins import BasePlugin, event_priority

from ..config import Config
from ..errors import DoccontrolError
from ..publication import Publication
from ..site_options import SiteOptions
from . import site_state
from .markdown_ext import LiteralRuns, NumberLinks
from .sanitize import Sanitize, clean
from .site_jieba import use_split_dictionary
from .site_pictures import PictureLinks
from .site_reuse import AS_OF_MARK, PageReuse, StagedFiles, digest, user_cache

HERE = Path(__file__).parent
THEME_DIR = HERE / "theme"
USER_DICT = HERE / "jieba_user_dict.txt"

# No "-" here: a document number (QP-SH-011) or a date stays one search term.
SEARCH_SEPARATOR = r"[\s\u200b\u3000、。，．？！；：“”‘’《》〈〉（）【】「」,:;!?()\[\]\"'/|]+|\.(?!\d)"
FEATURES = ("navigation.prune", "navigation.tabs", "navigation.indexes", "navigation.top",
            "navigation.footer", "search.highlight", "toc.follow")

# The Content-Security-Policy of every page: scripts, styles, images and fonts from the site itself.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; worker-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
       "form-action 'none'")


def run_mkdocs(config: Config, options: SiteOptions, pub: Publication, docs_dir: Path, site_dir: Path,
               staged, reuse: PageReuse, stamp: str, files: StagedFiles) -> None:
    """ONE in-process MkDocs build of the staged pages (handed over in memory by `files`, with the files next to
    them); `reuse` keeps the pages that did not change (see site_reuse.py) and gathers every page's search
    entries (the caller writes the index)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    quiet_jieba()
    try:
        cfg = load_config(io.StringIO("{}"), config_file_path=str(docs_dir.parent / "mkdocs.yml"),
                          **mkdocs_settings(config, options, pub, docs_dir, site_dir, staged.nav))
        meta = StagedMeta(staged.meta, staged.forms, staged.tables)
        targets = reuse.prepare(stamp, staged.targets, meta.form_words)
        pictures = PictureLinks(staged.pictures)
        cfg.markdown_extensions.extend([LiteralRuns(), NumberLinks(targets, config.number_in_text), pictures,
                                        Sanitize()])
        cfg.plugins["doccontrol/files"] = files
        cfg.plugins["doccontrol/meta"] = meta
        cfg.plugins["doccontrol/pictures"] = pictures
        cfg.plugins["doccontrol/reuse"] = reuse
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
    except MkDocsException as error:
        raise DoccontrolError(f"the site build failed: {error}") from None


def stamp(config: Config, options: SiteOptions, pub: Publication) -> dict[str, str]:
    """Everything every page is made with, in parts: doccontrol and its libraries (`code`), the MkDocs
    configuration but the navigation and the day (`settings`), the day every page shows (`as_of`), and
    whether it is a preview (`kind`). A page is kept from the previous build only when all but the day are
    the same; a kept page of another day gets the new date written over the old one (see site_reuse.py)."""
    settings = mkdocs_settings(config, options, pub, Path("docs"), Path("site"), [])
    for key in ("docs_dir", "site_dir", "nav"):
        settings.pop(key)
    extra = dict(settings["extra"]["doccontrol"])
    extra.pop("as_of")
    settings["extra"] = {**settings["extra"], "doccontrol": extra}
    settings["number_in_text"] = config.number_in_text.pattern
    return {"code": site_state.code_version(), "settings": digest(canonical_json_of(settings)),
            "as_of": pub.as_of.isoformat(), "kind": "preview" if pub.preview else "controlled"}


def canonical_json_of(value: object) -> str:
    """JSON of the settings; a function (a slugify) is named by its module and qualified name."""
    import json

    def named(thing: object) -> str:
        return f"{getattr(thing, '__module__', '')}.{getattr(thing, '__qualname__', type(thing).__qualname__)}"

    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=named)


def mkdocs_settings(config: Config, options: SiteOptions, pub: Publication, docs_dir: Path, site_dir: Path,
                    nav: list) -> dict:
    """The whole MkDocs configuration; only the site options' values come from the repository."""
    from pymdownx.slugs import slugify

    company, locale, text = config.company, config.model.locale, config.messages.site
    default_name = (text.preview_name if pub.preview else text.site_name).format(company=company)
    name = text.preview_title.format(title=options.title) if options.title and pub.preview else \
        options.title or default_name
    footer = options.footer or text.footer.format(company=company)
    return {
        "site_name": shown(name),
        "site_url": options.site_url,
        "copyright": shown(footer),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "nav": nav,
        "use_directory_urls": True,
        "strict": False,
        "theme": {"name": "material", "custom_dir": str(THEME_DIR), "language": locale, "font": False,
                  "features": list(FEATURES), "palette": {"primary": "custom", "accent": "custom"},
                  **({"logo": f"assets/doccontrol/logo{Path(options.logo).suffix.lower()}"} if options.logo else {})},
        "plugins": {"search": {"lang": [locale], "separator": SEARCH_SEPARATOR,
                               **({"jieba_dict_user": str(USER_DICT)} if locale == "zh" else {}),
                               "fields": {"title": {"boost": 1000}, "text": {"boost": 1}, "keys": {"boost": 20},
                                          "cells": {"boost": 1}, "number": {"boost": 100000}}}},
        "markdown_extensions": [
            {"tables": {"use_align_attribute": True}}, "attr_list", "def_list", "footnotes",
            {"toc": {"permalink": True, "slugify": slugify(case="lower")}},
        ],
        "extra": {
            "generator": False,
            "doccontrol": {"preview": pub.preview, "company": company, "system": config.model.system,
                           "as_of": AS_OF_MARK, "csp": CSP, "unsigned": pub.unsigned,
                           "locale": locale, "t": config.messages.as_dict(),
                           "links": [{"title": link.title, "url": link.url} for link in options.links]},
        },
        "validation": {"links": {"absolute_links": "relative_to_docs"}},
    }


def shown(text: str) -> Markup:
    """Text the templates may print raw or escaped: escaped once, either way."""
    return Markup(escape(text))


class StagedMeta(BasePlugin):
    """A MkDocs plugin that gives each staged page its metadata (title, control block) before anything reads it,
    and keeps a form's tables out of the search snippets (their words go to the index's `keys` instead)."""

    def __init__(self, meta: dict[str, dict], forms: set[str], tables: dict[str, dict[str, str]] | None = None):
        super().__init__()
        self.meta = meta
        self.forms = forms
        self.tables = tables or {}
        self.form_words: dict[str, str] = {}

    @event_priority(100)
    def on_page_markdown(self, markdown, *, page, config, files):
        page.meta.update(self.meta.get(page.file.src_uri, {}))
        return markdown

    @event_priority(100)
    def on_page_content(self, html, *, page, config, files):
        html = self._tables_put_back(html, self.tables.get(page.file.src_uri, {}))
        if page.file.src_uri not in self.forms:
            return html
        self.form_words[page.url] = " ".join(TAG.sub(" ", table) for table in FORM_TABLES.findall(html))
        return FORM_TABLE.sub(r"<table data-search-exclude\1>", html)


    @staticmethod
    def _tables_put_back(html: str, tables: dict[str, str]) -> str:
        """The generated page's tables where their placeholders stand (see site_pages.lift_tables), each through the
        sanitiser as the rest of the page went, and spaced as Markdown spaces a block of HTML."""
        if not tables:
            return html
        for token, table in tables.items():
            placeholder = f"<p>{token}</p>"
            if placeholder not in html:
                raise DoccontrolError(f"a table of a generated page was lost by Markdown ({token})")
            html = html.replace(placeholder, clean(table) + "\n", 1)
        return html.strip()


def _jieba_without_pkg_resources():
    """Import jieba with setuptools' pkg_resources hidden: jieba imports it only to find its own files, which it
    opens by path without it; importing pkg_resources costs more than the rest of jieba put together."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # `import pkg_resources` raises ImportError
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


FORM_TABLE = re.compile(r"<table(?=[\s>])([^>]*)>")
FORM_TABLES = re.compile(r"<table(?=[\s>]).*?</table>", re.S)
TAG = re.compile(r"<[^>]*>")


def quiet_jieba() -> None:
    """jieba without its log lines, reading its dictionary a first character at a time (site_jieba.py)."""
    try:
        jieba = _jieba_without_pkg_resources()
    except ImportError:
        return
    jieba.setLogLevel(logging.WARNING)
    use_split_dictionary(user_cache("jieba"))
