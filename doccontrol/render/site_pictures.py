"""Pictures on the controlled site.

Each picture a published document shows is written once per content under `assets/pictures/`,
from the approved bytes (`Publication.pictures`, read from the release commit), never from the
working tree. On a document's pages every `<img>` is pointed at that document's own approved
picture; an image without approved bytes (or whose bytes are not the picture type its name says)
shows its description instead, as the Word copy does.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from pathlib import Path

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from mkdocs.plugins import BasePlugin

from ..pictures import is_showable, picture_path
from ..publication import Publication

FOLDER = "assets/pictures"


def site_pictures(pub: Publication) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    """The documents' approved pictures as files of the site, by path in the docs folder, and by document
    number each picture path's site address (absolute within the docs folder; MkDocs makes it relative)."""
    urls: dict[str, dict[str, str]] = {}
    files: dict[str, bytes] = {}
    for doc in pub.documents:
        for picture in doc.pictures:
            data = pub.pictures.get(picture.sha256)
            if data is None or not is_showable(picture.path, data):
                continue
            name = f"{FOLDER}/{picture.sha256.split(':')[-1]}{Path(picture.path).suffix.lower()}"
            files[name] = data
            urls.setdefault(doc.number, {})[picture.path] = "/" + name
    return urls, files


def number_of_page(src_uri: str) -> str:
    """The document a staged page belongs to (`QP-SH-001.md`, `QM-SH-01/第1章.md` …)."""
    return src_uri.split("/", 1)[0].removesuffix(".md")


class PictureLinks(Extension, BasePlugin):
    """A Markdown extension and MkDocs plugin in one: the plugin learns which page MkDocs renders next, the
    tree processor points that page's images at its document's approved pictures."""

    def __init__(self, urls: dict[str, dict[str, str]]):
        Extension.__init__(self)
        BasePlugin.__init__(self)
        self.urls = urls
        self.number = ""

    def on_page_markdown(self, markdown, *, page, config, files):
        self.number = number_of_page(page.file.src_uri)
        return markdown

    def extendMarkdown(self, md):
        md.treeprocessors.register(PictureSources(md, self), "doccontrol_pictures", 16)


class PictureSources(Treeprocessor):
    def __init__(self, md, links: PictureLinks):
        super().__init__(md)
        self.links = links

    def run(self, root: etree.Element) -> None:
        urls = self.links.urls.get(self.links.number, {})
        for image in list(root.iter("img")):
            path = picture_path(image.get("src", ""))
            if path is not None and path in urls:
                image.set("src", urls[path])
                continue
            description = image.get("alt", "")
            image.attrib.clear()
            image.tag = "span"
            image.text = description
