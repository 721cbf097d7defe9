"""Cut one pandoc .docx holding a batch of documents into one package per document.

docx.lua writes many documents in one pandoc call, document N wrapped in a Div whose
bookmark is named dcx-N. Each document's body is cut out between that bookmark's start
and end and given its own package: the batch's styles, headers and footers, plus its
own list numbering, hyperlink relationships and bookmark ids, renumbered from the start
so that a document's bytes never depend on which documents shared its batch.

pandoc's XML is regular (one attribute order, no nesting of these elements), so plain
regular expressions are enough here.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from ..pictures import MEDIA_TYPES

DOCUMENT = "word/document.xml"
NUMBERING = "word/numbering.xml"
RELS = "word/_rels/document.xml.rels"

MARK = re.compile(r'<w:bookmarkStart w:id="(\d+)" w:name="dcx-(\d+)" />')
BOOKMARK_ID = re.compile(r'(<w:bookmark(?:Start|End) w:id=")(\d+)(")')
NUM_USE = re.compile(r'(<w:numId w:val=")(\d+)(")')
NUM = re.compile(r'<w:num w:numId="(\d+)">(.*?)</w:num>', re.S)
ABSTRACT = re.compile(r'<w:abstractNum w:abstractNumId="(\d+)">(.*?)</w:abstractNum>', re.S)
ABSTRACT_USE = re.compile(r'<w:abstractNumId w:val="(\d+)" />')
NSID = re.compile(r'<w:nsid w:val="[0-9A-F]+" />')
RELATIONSHIP = re.compile(r"<Relationship [^>]*/>")
REL_USE = re.compile(r'(r:id=")(rId\d+)(")')
EMBED_USE = re.compile(r'(r:embed=")(rId\d+)(")')
DRAWING_ID = re.compile(r'(<(?:wp:docPr|pic:cNvPr) [^>]*?\bid=")(\d+)(")')
HYPERLINK_TYPE = "/relationships/hyperlink"
IMAGE_TYPE = "/relationships/image"
CONTENT_TYPES = "[Content_Types].xml"
MEDIA = "word/media/"
FIRST_NUM = 1000


def split_batch(data: bytes) -> list[dict[str, bytes]]:
    """The package parts of each document in the batch, in batch order."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    xml = parts[DOCUMENT].decode("utf-8")
    head = xml[: xml.index("<w:body>") + len("<w:body>")]
    tail = xml[xml.rindex("<w:sectPr"):]
    numbering = parts[NUMBERING].decode("utf-8")
    rels = parts[RELS].decode("utf-8")
    documents = []
    for mark in sorted(MARK.finditer(xml), key=lambda m: int(m.group(2))):
        end = xml.index(f'<w:bookmarkEnd w:id="{mark.group(1)}" />', mark.end())
        body, _ = _renumber(BOOKMARK_ID, xml[mark.end(): end], str)
        body, own_numbering = _numbering(body, numbering)
        body, own_rels = _relationships(body, rels)
        body, own_rels, media = _pictures(body, own_rels, parts)
        shared = {name: data for name, data in parts.items() if not name.startswith(MEDIA)}
        documents.append({**shared, **media, DOCUMENT: (head + body + tail).encode("utf-8"),
                          NUMBERING: own_numbering.encode("utf-8"), RELS: own_rels.encode("utf-8"),
                          CONTENT_TYPES: _content_types(parts[CONTENT_TYPES].decode("utf-8"), media)})
    return documents


def found(pattern: str | re.Pattern[str], xml: str) -> re.Match[str]:
    """The first match of a pattern that pandoc's output always holds; a miss is a defect, named as such."""
    match = re.search(pattern, xml)
    if match is None:
        raise ValueError(f"the Word converter's output has no match for {pattern!r}")
    return match


def _renumber(pattern: re.Pattern, text: str, new_id, known=None) -> tuple[str, dict[str, str]]:
    """Replace each id the pattern finds (and known holds) by new_id(k), k counting distinct ids in order."""
    mapping: dict[str, str] = {}

    def replace(match):
        old = match.group(2)
        if known is not None and old not in known:
            return match.group(0)
        if old not in mapping:
            mapping[old] = new_id(len(mapping) + 1)
        return match.group(1) + mapping[old] + match.group(3)

    return pattern.sub(replace, text), mapping


def _numbering(body: str, numbering: str) -> tuple[str, str]:
    """The body with its lists numbered from FIRST_NUM, and a numbering part holding only those lists."""
    nums = dict(NUM.findall(numbering))
    abstracts = dict(ABSTRACT.findall(numbering))
    body, num_map = _renumber(NUM_USE, body, lambda k: str(FIRST_NUM + k - 1), known=nums)
    abstract_map: dict[str, str] = {}
    own_nums = []
    for old, new in num_map.items():
        abstract = found(ABSTRACT_USE, nums[old]).group(1)
        abstract_map.setdefault(abstract, str(len(abstract_map)))
        content = ABSTRACT_USE.sub(f'<w:abstractNumId w:val="{abstract_map[abstract]}" />', nums[old])
        own_nums.append(f'<w:num w:numId="{new}">{content}</w:num>')
    own_abstracts = [
        f'<w:abstractNum w:abstractNumId="{new}">'
        + NSID.sub(f'<w:nsid w:val="{0xD0C0000 + int(new):08X}" />', abstracts[old]) + "</w:abstractNum>"
        for old, new in abstract_map.items()
    ]
    root = found(r"<w:numbering[^>]*>", numbering).group(0)
    return body, ('<?xml version="1.0" encoding="UTF-8"?>' + root + "".join(own_abstracts + own_nums)
                  + "</w:numbering>")


def _relationships(body: str, rels: str) -> tuple[str, str]:
    """The body with its hyperlinks' relationship ids renumbered, and a relationships part holding only those."""
    entries = RELATIONSHIP.findall(rels)
    links = {found(r'Id="([^"]+)"', e).group(1): e for e in entries if HYPERLINK_TYPE in e}
    shared = [e for e in entries if HYPERLINK_TYPE not in e and IMAGE_TYPE not in e]
    body, link_map = _renumber(REL_USE, body, lambda k: f"rIdLink{k}", known=links)
    own = [re.sub(r'Id="[^"]+"', f'Id="{new}"', links[old]) for old, new in link_map.items()]
    root = rels[: rels.index("<Relationship ")] if entries else rels.replace("</Relationships>", "")
    return body, root + "".join(shared + own) + "</Relationships>"


def _pictures(body: str, rels: str, parts: dict[str, bytes]) -> tuple[str, str, dict[str, bytes]]:
    """The body with its pictures' relationship ids and drawing ids renumbered from the start, the relationships
    part with one image relationship per picture it shows, and those pictures' media parts, renamed."""
    batch_rels = parts[RELS].decode("utf-8")
    images = {found(r'Id="([^"]+)"', e).group(1): found(r'Target="([^"]+)"', e).group(1)
              for e in RELATIONSHIP.findall(batch_rels) if IMAGE_TYPE in e}
    body, image_map = _renumber(EMBED_USE, body, lambda k: f"rIdPicture{k}", known=images)
    counter = iter(range(1, 1_000_000))
    body = DRAWING_ID.sub(lambda m: f"{m.group(1)}{next(counter)}{m.group(3)}", body)
    media, own = {}, []
    for old, new in image_map.items():
        target = images[old]
        name = f"media/{new}{target[target.rfind('.'):] if '.' in target else ''}"
        media[f"word/{name}"] = parts[f"word/{target}"]
        own.append(f'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006{IMAGE_TYPE}" '
                   f'Id="{new}" Target="{name}" />')
    return body, rels.replace("</Relationships>", "".join(own) + "</Relationships>"), media


def _content_types(types: str, media: dict[str, bytes]) -> bytes:
    """The batch's content types without its pictures' overrides, plus one for each of this document's."""
    types = re.sub(r'<Override PartName="/word/media/[^"]*" ContentType="[^"]*" />', "", types)
    kinds = {name: MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream") for name in media}
    own = "".join(f'<Override PartName="/{name}" ContentType="{kinds[name]}" />' for name in sorted(media))
    return types.replace("</Types>", own + "</Types>").encode("utf-8")
