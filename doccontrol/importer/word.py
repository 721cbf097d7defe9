"""Word (.docx) files, read by pandoc: their text as Markdown, their pictures extracted."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from ..errors import DoccontrolError
from ..fileio import private_temp_dir
from .common import ATTENTION, CONVERTED, Note, SourceDoc, numbered_lines, read_regular_file

MAX_DOCX_BYTES = 50 * 1024 * 1024
MAX_PICTURE_BYTES = 20 * 1024 * 1024
FILTER = Path(__file__).with_name("docx.lua")
# pandoc separates two lists that follow each other with an empty HTML comment; it carries no text.
LIST_SEPARATOR = "<!-- -->"


def read_docx(path: Path, shown: str, groups: tuple[str, ...] = ()) -> SourceDoc:
    """A .docx as a source document: pandoc's Markdown of it, its title property, its pictures (in memory)."""
    read_regular_file(path, shown, MAX_DOCX_BYTES)
    if not zipfile.is_zipfile(path):
        raise DoccontrolError(f"{shown} is not a Word .docx file (an old .doc, or damaged?)",
                              fix="open it in Word or LibreOffice and save it as .docx")
    with private_temp_dir(Path(tempfile.gettempdir()), "doccontrol-import-") as work:
        media = work / "media-out"
        ast = _pandoc(path, shown, "json", [f"--lua-filter={FILTER}", f"--extract-media={media}"])
        markdown = _pandoc_text(ast, shown, "gfm", ["--wrap=none"])
        plain = _pandoc(path, shown, "plain", ["--wrap=none"])  # the text as Word holds it, for the word count
        pictures = _pictures(media)
    data = json.loads(ast)
    notes = [Note(CONVERTED, what) for what, count in _filter_notes(data) for _ in range(count)]
    markdown = markdown.replace(f"{media}/", "")  # pictures are named media/imageN.png, as inside the .docx
    lines = [line for line in markdown.split("\n") if line.strip() != LIST_SEPARATOR]
    doc = SourceDoc(shown=shown, path=path, root=path.parent, kind="docx", lines=numbered_lines("\n".join(lines)),
                    groups=groups, title_hint=_meta_text(data.get("meta", {}).get("title")), notes=notes,
                    original_text=plain)
    for name, (picture, size) in pictures.items():
        if not picture:
            doc.note(ATTENTION, f"picture {name} is {size // 1024 // 1024} MiB: left out; add a smaller copy under "
                                "images/ and refer to it")
            continue
        doc.media[name] = picture
    return doc


def _pandoc(path: Path, shown: str, to: str, extra: list[str]) -> str:
    import pypandoc

    try:
        return pypandoc.convert_file(str(path), to, format="docx", extra_args=extra)
    except (RuntimeError, OSError) as error:
        raise DoccontrolError(f"{shown} cannot be read by pandoc: {_first_line(error)}",
                              fix="open it in Word or LibreOffice, save it again as .docx, and import it again") \
            from None


def _pandoc_text(ast: str, shown: str, to: str, extra: list[str]) -> str:
    import pypandoc

    try:
        return pypandoc.convert_text(ast, to, format="json", extra_args=extra)
    except (RuntimeError, OSError) as error:
        raise DoccontrolError(f"{shown} cannot be converted by pandoc: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["unknown error"])[-1][:300]


def _pictures(media: Path) -> dict[str, tuple[bytes, int]]:
    """Every extracted picture: its name under the media folder → its bytes (empty when too big) and size."""
    found: dict[str, tuple[bytes, int]] = {}
    if not media.is_dir():
        return found
    for picture in sorted(media.rglob("*")):
        if picture.is_file() and not picture.is_symlink():
            size = picture.stat().st_size
            found[picture.relative_to(media).as_posix()] = (picture.read_bytes() if size <= MAX_PICTURE_BYTES
                                                             else b"", size)
    return found


def _filter_notes(data: dict) -> list[tuple[str, int]]:
    value = data.get("meta", {}).get("doccontrol-notes", {})
    out = []
    for item in value.get("c", []) if isinstance(value, dict) else []:
        text = _meta_text(item)
        what, _, count = text.rpartition("\t")
        if what and count.isdigit():
            out.append((what, int(count)))
    return out


def _meta_text(value) -> str:
    """The text of a pandoc JSON metadata value (MetaString or MetaInlines)."""
    if not isinstance(value, dict):
        return ""
    kind, content = value.get("t"), value.get("c")
    if kind == "MetaString" and isinstance(content, str):
        return content
    if kind == "MetaInlines" and isinstance(content, list):
        return "".join(_inline_text(inline) for inline in content)
    return ""


def _inline_text(inline) -> str:
    if not isinstance(inline, dict):
        return ""
    kind, content = inline.get("t"), inline.get("c")
    if kind == "Str":
        return str(content)
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if isinstance(content, list):
        return "".join(_inline_text(item) for item in content if isinstance(item, dict)) or \
            "".join(_inline_text(item) for sub in content if isinstance(sub, list) for item in sub)
    return ""
