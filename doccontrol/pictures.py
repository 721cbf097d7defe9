"""Pictures a document shows: where its references point, and the bytes its signers approved.

A document shows a picture with `![text](images/NUMBER/NAME)`, a file under `images/` at the
repository root (images.py checks type, size and place). The picture is part of what is
approved: `with_pictures` records the sha256 of each picture's bytes in the document, and
`model.fingerprint` covers them, so a picture replaced after approval is an edit like any other.
The bytes are read from wherever the document was read (the working tree, a commit, an audit
pack) and kept by digest, so that the site and Word show exactly the approved picture.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from .markdown_checks import images as inline_images
from .markdown_checks import scan
from .model import Document, Picture

IMAGE_FOLDER = "images"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# The first bytes of each allowed type (WebP: RIFF, four size bytes, WEBP).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp"}
ALLOWED = ", ".join(sorted(SIGNATURES))

_LABEL = r"(?:[^\[\]\n]|\[[^\[\]\n]*\])*"
REFERENCE_IMAGE = re.compile(r"!\[(" + _LABEL + r")\](?:\[([^\[\]\n]*)\])?(?!\()")
DEFINITION = re.compile(r"^ {0,3}\[([^\[\]\n]+)\]:\s*(<[^<>\n]*>|\S+)")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

# Reads the bytes of repository paths (None: no such regular file, or too large).
PictureReader = Callable[[list[str]], Mapping[str, "bytes | None"]]


def image_targets(text: str) -> Iterator[tuple[int, str]]:
    """(line offset, target) of every image a Markdown text shows, outside code.

    Lines and inline images are read by the same scanner as the other Markdown checks, so that
    every picture source those checks leave to images.py is seen here.
    """
    lines = [(line.number - 1, line.plain) for line in scan(text, 1)]
    definitions: dict[str, str] = {}
    for _, line in lines:
        match = DEFINITION.match(line)
        if match:
            definitions.setdefault(_label(match.group(1)), match.group(2))
    for offset, line in lines:
        if "![" not in line:
            continue
        for _, target in inline_images(line):
            yield offset, unbracket(target)
        for match in REFERENCE_IMAGE.finditer(line):
            label = match.group(2) or match.group(1)
            defined = definitions.get(_label(label))
            if defined is not None:
                yield offset, unbracket(defined)


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def unbracket(target: str) -> str:
    return target[1:-1].strip() if target.startswith("<") and target.endswith(">") else target


def picture_path(target: str) -> str | None:
    """The repository path `images/…` an image reference points at, or None when it points elsewhere
    (the web, another folder, outside the repository)."""
    path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
    if SCHEME.match(path) or path.startswith(("/", "\\")):
        return None
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if len(parts) < 2 or parts[0] != IMAGE_FOLDER or ".." in parts:
        return None
    return "/".join(parts)


def texts_of(doc: Document) -> list[str]:
    return [doc.body, *(part.text for part in doc.parts)]


def picture_paths(texts: Iterable[str]) -> list[str]:
    """The pictures these texts show, each once, in order of first appearance."""
    found: dict[str, None] = {}
    for text in texts:
        if "![" in text:
            for _, target in image_targets(text):
                path = picture_path(target)
                if path:
                    found.setdefault(path, None)
    return list(found)


def content_matches(head: bytes, suffix: str) -> bool:
    """Whether a file's first bytes are those of the picture type its suffix names."""
    if suffix == ".webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    return head.startswith(SIGNATURES.get(suffix, (b"\0" * 13,)))


def is_showable(path: str, data: bytes) -> bool:
    """Whether the site and Word may show these bytes as the picture at path (type, signature, size)."""
    suffix = os.path.splitext(path)[1].lower()
    return suffix in SIGNATURES and len(data) <= MAX_IMAGE_BYTES and content_matches(data[:12], suffix)


def sha256(data: bytes | None) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest() if data is not None else ""


def with_pictures(documents: list[Document], read: PictureReader, store: dict[str, bytes]) -> list[Document]:
    """The documents with the digest of every picture they show; the bytes go into store, by digest.

    One call of read for all the documents' pictures."""
    wanted = {id(doc): picture_paths(texts_of(doc)) for doc in documents}
    paths = sorted({path for found in wanted.values() for path in found})
    if not paths:
        return documents
    contents = read(paths)
    digests = {path: sha256(contents.get(path)) for path in paths}
    for path, data in contents.items():
        if data is not None:
            store[digests[path]] = data
    return [dataclasses.replace(doc, pictures=tuple(Picture(p, digests[p]) for p in wanted[id(doc)]))
            if wanted[id(doc)] else doc for doc in documents]


def picture_bytes(doc: Document, read: PictureReader) -> dict[str, bytes]:
    """The bytes of the pictures doc shows that read still finds with the digest doc records, by sha256."""
    if not doc.pictures:
        return {}
    contents = read([picture.path for picture in doc.pictures])
    found = {sha256(data): data for data in contents.values() if data is not None}
    return {p.sha256: found[p.sha256] for p in doc.pictures if p.sha256 in found}


def worktree_reader(root: Path) -> PictureReader:
    """Read pictures from the working tree: regular files only, never through a symbolic link, at most
    MAX_IMAGE_BYTES (a larger or stranger file reads as missing; `check` says what is wrong with it)."""
    top = os.path.realpath(os.path.join(root, IMAGE_FOLDER))

    def read(paths: list[str]) -> dict[str, bytes | None]:
        return {path: _read_regular(root, top, path) for path in paths}

    return read


def _read_regular(root: Path, top: str, path: str) -> bytes | None:
    full = os.path.join(root, path)
    if os.path.realpath(full) != os.path.normpath(os.path.join(top, path[len(IMAGE_FOLDER) + 1:])):
        return None  # a symbolic link somewhere on the way
    try:
        info = os.lstat(full)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_IMAGE_BYTES:
            return None
        with open(full, "rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_IMAGE_BYTES else None


def mapping_reader(files: Mapping[str, bytes]) -> PictureReader:
    """Read pictures from a mapping of path to bytes (an audit pack's members)."""
    def read(paths: list[str]) -> dict[str, bytes | None]:
        return {path: files.get(path) for path in paths}

    return read
