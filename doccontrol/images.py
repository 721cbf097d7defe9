"""Images in controlled documents: the one place they live, and what `check` accepts.

A document shows an image with `![text](images/NUMBER/NAME)`: a file under `images/` at the
repository root, of a type both the site and Word show (PNG, JPEG, GIF, WebP; never SVG, which
can carry scripts), at most 5 MiB. Anything else is a finding with the file, the line and a fix.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .loader import link_on_path
from .model import Document, Finding
from .pictures import ALLOWED, IMAGE_FOLDER, MAX_IMAGE_BYTES, SIGNATURES, content_matches, image_targets

if TYPE_CHECKING:
    from .validate import Context


def check_images(ctx: Context) -> Iterator[Finding]:
    root = Path(ctx.config.root)
    for doc in ctx.documents:
        yield from _document_images(root, doc)


def _document_images(root: Path, doc: Document) -> Iterator[Finding]:
    texts = [(doc.path, doc.body, doc.body_line)] + [(part.path, part.text, 1) for part in doc.parts]
    for path, text, first_line in texts:
        for offset, target in image_targets(text):
            problem = image_problem(root, target)
            if problem:
                yield Finding(path, first_line + offset, "image", problem[0], problem[1])


def image_problem(root: Path, target: str) -> tuple[str, str] | None:
    """What is wrong with an image reference, and how to fix it; None when the image is fine."""
    place = f"copy the picture to {IMAGE_FOLDER}/NUMBER/NAME (NUMBER: the document's number) and refer to it " \
            f"by that path"
    path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", path)
    if scheme:
        return (f"image {target!r} is not in the repository ({scheme.group(1)}:); a reader offline would not see it "
                "and it can change after approval", place)
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\")) or ".." in parts or parts[0] != IMAGE_FOLDER or len(parts) < 2:
        return f"image {target!r} is not under {IMAGE_FOLDER}/ at the repository root", place
    rel = "/".join(part for part in parts if part not in ("", "."))
    link = link_on_path(root, rel)
    if link:
        return f"image {rel}: {link} is a symbolic link", "replace the link with the file itself"
    try:
        info = os.lstat(root / rel)
    except OSError:
        return f"image {rel} does not exist", f"add the file, or correct the path (files under {IMAGE_FOLDER}/)"
    if not stat.S_ISREG(info.st_mode):
        return f"image {rel} is not a regular file", "refer to a picture file"
    suffix = Path(rel).suffix.lower()
    if suffix == ".svg":
        return f"image {rel} is an SVG, which can carry scripts and which Word does not show", \
            f"convert it to PNG and refer to the PNG (allowed: {ALLOWED})"
    if suffix not in SIGNATURES:
        return f"image {rel} has type {suffix or '(none)'}, which is not allowed", \
            f"save it as one of {ALLOWED}"
    if info.st_size > MAX_IMAGE_BYTES:
        return f"image {rel} is {info.st_size / 1024 / 1024:.1f} MiB; at most {MAX_IMAGE_BYTES // 1024 // 1024} MiB " \
            "are allowed", "scale it down or save it as JPEG"
    if not _content_matches(root / rel, suffix):
        return f"image {rel} is not a {suffix[1:].upper()} file (its content says otherwise)", \
            f"save the picture in the format its name says ({suffix})"
    return None


def _content_matches(path: Path, suffix: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return content_matches(handle.read(12), suffix)
    except OSError:
        return False


def images_state(root: Path) -> bytes:
    """A digest of every entry under images/ (name, kind, size, time), so that a remembered `check`
    result is used again only while the images it judged are unchanged."""
    digest = hashlib.sha1()
    top = Path(root) / IMAGE_FOLDER
    try:
        info = os.lstat(top)
    except OSError:
        return digest.digest()
    digest.update(f"{info.st_mode}".encode())
    if not stat.S_ISDIR(info.st_mode):
        return digest.digest()
    for folder, folders, files in os.walk(top):
        folders.sort()
        for name in sorted(folders + files):
            try:
                entry = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            rel = os.path.relpath(os.path.join(folder, name), top)
            digest.update(f"{rel}\0{entry.st_mode}\0{entry.st_size}\0{entry.st_mtime_ns}\n".encode())
    return digest.digest()
