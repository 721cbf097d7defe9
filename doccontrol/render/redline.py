"""Word redlines: a controlled .docx whose body carries native tracked changes.

The redline's Markdown (`diff.marked_markdown`) becomes pandoc Markdown in which every insertion
and deletion is a span of class `insertion` / `deletion` with the revision's preparer as author and
its revision date as date; pandoc's docx writer turns those into `w:ins` / `w:del`. The file goes
through the same batch converter and finishing as every controlled export (cover, approval block,
revision record, header and footer), marked 修订对比, with a table of what was compared under the
revision record. Then the package's body is finished for
Word's review tools, which pandoc leaves undone:

- a paragraph, list item or heading that is wholly inserted or deleted has its paragraph mark
  tracked too, and a wholly inserted or deleted table row is a tracked row, so that "reject all"
  leaves no empty paragraph or row behind (pandoc writes a bookmark there, which is replaced);
- a changed code block is written as the old block deleted and the new one inserted;
- every tracked change gets its own id, and a change that holds a hyperlink is moved inside it
  (the schema does not allow a hyperlink inside `w:ins`).

So Word's "accept all" gives exactly the new revision's text and "reject all" the old one's.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..diff import (
    DEL,
    DEL_END,
    FENCE,
    INS,
    INS_END,
    MOVED,
    PRIVATE_USE,
    WHOLE_DEL,
    WHOLE_INS,
    DocumentDiff,
    diff_documents,
    marked_markdown,
)
from ..fileio import atomic_write_bytes
from ..messages import Messages
from ..model import Document
from . import docx

if TYPE_CHECKING:
    from ..workspace import Workspace

MARK = "redline"  # the mark across every page of a redline (修订对比)
DOCUMENT = "word/document.xml"
BOOKMARK = re.compile(r'<w:bookmarkStart w:id="(\d+)" w:name="dcrl-(ins|del|cins|cdel)-\d+" />'
                      r'<w:bookmarkEnd w:id="\1" />')
PARAGRAPH = re.compile(r"<w:p(?=[ >])(?:(?!</w:p>).)*</w:p>", re.S)
ROW = re.compile(r"<w:tr(?=[ >])(?:(?!</w:tr>).)*</w:tr>", re.S)
CHANGE_ID = re.compile(r'(<w:(?:ins|del) w:id=")(\d+)(")')
CHANGE = re.compile(r'(<w:(ins|del) w:id="\d+"[^>]*(?<!/)>)(.*?)(</w:\2>)', re.S)
HYPERLINK = re.compile(r"<w:hyperlink\b[^>]*>.*?</w:hyperlink>", re.S)
FIRST_CHANGE_ID = 5000


def redline_file_name(diff: DocumentDiff, title: str, labels: Messages) -> str:
    old = (diff.old_revision or "").replace("/", "")
    new = diff.new_revision.replace("/", "")
    return f"{diff.number}-{old}-{new}-{docx.UNSAFE_FILE_CHARS.sub('', title)}-{labels.marks.redline}.docx"


def redline_rendition(config: Config, old: Document | None, new: Document) -> tuple[docx.Rendition, DocumentDiff]:
    """The new revision laid out as a controlled document whose body is the redline, and the diff."""
    labels = config.messages
    diff = diff_documents(old, new, labels)
    body = pandoc_markdown(marked_markdown(diff, labels=labels), diff.author, diff.date)
    shown = dataclasses.replace(new, body=body, parts=())
    return docx.Rendition(shown, config.company, config.type_label(new.type), labels, MARK,
                          comparison=cover_table(diff, labels)), diff


def cover_table(diff: DocumentDiff, labels: Messages) -> tuple[tuple[str, str, str], ...]:
    """The comparison rows under the revision record: the revisions compared, the author and date of
    the changes, and each controlled metadata field that changed (the record itself is just above)."""
    text = labels.redline
    rows = [(labels.fields.revision, diff.old_revision or "—", diff.new_revision),
            (text.revised_by, "", f"{diff.author} {diff.date}")]
    for change in diff.fields:
        if change.name == "history":
            continue
        if change.name in ("references", "clauses"):
            joined = labels.fields.item_separator
            old = joined.join(text.removed_item.format(item=x) for x in change.removed)
            new = joined.join(text.added_item.format(item=x) for x in change.added)
        else:
            old, new = change.old, change.new
        rows.append((change.label, old or "—", new or "—"))
    return tuple(rows)


def export_redline(ws: Workspace, old: Document | None, new: Document, out_dir: Path, force: bool = False) -> Path:
    """Write the redline .docx of new against old into out_dir; return its path."""
    from ..outputs import checked_file

    data, name = redline_docx(ws.config, old, new, use_cache=ws.use_cache)
    path = checked_file(ws.config, Path(out_dir) / name, "docx", force)
    atomic_write_bytes(path, data)
    return path


def redline_docx(config: Config, old: Document | None, new: Document, *, use_cache: bool = True) -> tuple[bytes, str]:
    """The redline's bytes and file name."""
    return redline_docxs(config, [(old, new)], use_cache=use_cache)[0]


def redline_docxs(config: Config, pairs: list[tuple[Document | None, Document]], *,
                  use_cache: bool = True) -> list[tuple[bytes, str]]:
    """Several redlines in one conversion run (the pack's)."""
    items, names, authors = [], [], []
    for old, new in pairs:
        item, diff = redline_rendition(config, old, new)
        items.append(item)
        names.append(redline_file_name(diff, new.title, config.messages))
        authors.append((diff.author, _when(diff.date)))
    rendered = docx.render(config, items, use_cache=use_cache)
    return [(track_whole_units(data, item.stamp, *who), name)
            for data, item, name, who in zip(rendered.files, items, names, authors)]


def pack_files(config: Config, redlines: list, use_cache: bool = True) -> dict[str, tuple[bytes, dict]]:
    """The pack's redlines (`compare.Redline`s) as files under 修订对比/ (Redlines/), each with its manifest fields."""
    if not redlines:
        return {}
    rendered = redline_docxs(config, [(r.old, r.new) for r in redlines], use_cache=use_cache)
    return {f"{config.messages.pack.redlines}/{name}": (data, {"number": r.new.number, "revision": r.new.revision,
                                      "effective": r.event.effective.isoformat(), "commit": r.event.commit.sha,
                                      "compared_with": r.old.revision})
            for r, (data, name) in zip(redlines, rendered)}


def _when(day: str) -> str:
    return f"{day}T00:00:00Z"


# -- marked Markdown → pandoc Markdown ---------------------------------------------------------

def pandoc_markdown(marked: str, author: str, day: str) -> str:
    """The marked redline as pandoc Markdown: spans of class insertion/deletion, bookmarks for whole units."""
    attributes = f'author="{_attribute(author)}" date="{_when(day)}"'
    counter = itertools.count(1)
    spans = {INS: "[", INS_END: "]{.insertion " + attributes + "}",
             DEL: "[", DEL_END: "]{.deletion " + attributes + "}", MOVED: ""}

    def replace(match: re.Match) -> str:
        char = match.group(0)
        if char == WHOLE_INS:
            return f"[]{{#dcrl-ins-{next(counter)}}}"
        if char == WHOLE_DEL:
            return f"[]{{#dcrl-del-{next(counter)}}}"
        return spans.get(char, "")

    return PRIVATE_USE.sub(replace, _code_blocks(marked, counter))


def _attribute(value: str) -> str:
    return value.replace("\\", "").replace('"', "")


def _code_blocks(marked: str, counter) -> str:
    """Code blocks with marks become the old block (tracked as deleted) and the new block (inserted).

    The marker paragraph before a wholly inserted or deleted block goes: the blocks carry their own."""
    lines = marked.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            out.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence.group(1)[0] * len(fence.group(1))):
            end += 1
        content = "\n".join(lines[index + 1:end])
        closing = lines[end] if end < len(lines) else fence.group(1)
        if not PRIVATE_USE.search(content):
            out += lines[index:end + 1]
        else:
            if len(out) >= 2 and out[-1] == "" and re.fullmatch("[\ue004\ue005]\ue006?", out[-2]):
                del out[-2:]
            old = _side(content, keep=DEL, drop=INS)
            new = _side(content, keep=INS, drop=DEL)
            for kind, text in (("cdel", old), ("cins", new)):
                if text.strip():
                    out += [f"[]{{#dcrl-{kind}-{next(counter)}}}", "", lines[index], text, closing, ""]
        index = end + 1
    return "\n".join(out)


def _side(content: str, keep: str, drop: str) -> str:
    """One revision's text of a marked code block: the runs marked `drop` removed, the other marks dropped."""
    ends = {INS: INS_END, DEL: DEL_END}
    content = re.sub(re.escape(drop) + ".*?" + re.escape(ends[drop]), "", content, flags=re.S)
    return PRIVATE_USE.sub("", content)


# -- finishing the package for Word's review tools ---------------------------------------------

def track_whole_units(data: bytes, stamp, author: str, when: str) -> bytes:
    """Track the paragraph marks and rows of wholly inserted or deleted units, give every change its own
    id and move changes inside hyperlinks; repackaged with the same fixed timestamps."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    xml = parts[DOCUMENT].decode("utf-8")
    attrs = f'w:author="{_xml(author)}" w:date="{when}"'
    xml = ROW.sub(lambda m: _track_row(m.group(0), attrs), xml)
    xml = _track_code(xml, attrs)
    xml = PARAGRAPH.sub(lambda m: _track_paragraph(m.group(0), attrs), xml)
    xml = CHANGE.sub(_hyperlinks_outside, xml)
    ids = itertools.count(FIRST_CHANGE_ID)
    xml = CHANGE_ID.sub(lambda m: m.group(1) + str(next(ids)) + m.group(3), xml)
    parts[DOCUMENT] = xml.encode("utf-8")
    return docx.package(parts, stamp)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _track_row(row: str, attrs: str) -> str:
    found = BOOKMARK.search(row)
    if not found or found.group(2) not in ("ins", "del"):
        return row
    row = BOOKMARK.sub("", row, count=1)
    mark = f'<w:{found.group(2)} w:id="0" {attrs} />'
    if "<w:trPr>" in row:
        return row.replace("</w:trPr>", mark + "</w:trPr>", 1)
    return re.sub(r"^(<w:tr[^>]*>(?:<w:tblPrEx>.*?</w:tblPrEx>)?)", lambda m: m.group(1) + f"<w:trPr>{mark}</w:trPr>",
                  row, count=1, flags=re.S)


def _track_paragraph(paragraph: str, attrs: str) -> str:
    found = BOOKMARK.search(paragraph)
    if not found or found.group(2) not in ("ins", "del"):
        return paragraph
    return _mark_paragraph(BOOKMARK.sub("", paragraph, count=1), found.group(2), attrs)


def _mark_paragraph(paragraph: str, kind: str, attrs: str) -> str:
    """The paragraph with its mark (¶) tracked as inserted or deleted."""
    mark = f'<w:{kind} w:id="0" {attrs} />'
    paragraph = paragraph.replace("<w:pPr />", "<w:pPr></w:pPr>", 1)
    if "<w:pPr>" not in paragraph:
        paragraph = re.sub(r"^<w:p([^>]*)>", lambda m: f"<w:p{m.group(1)}><w:pPr></w:pPr>", paragraph, count=1)
    head, _, rest = paragraph.partition("</w:pPr>")
    if "<w:rPr>" in head:
        head = head.replace("<w:rPr>", "<w:rPr>" + mark, 1)
    else:
        head += f"<w:rPr>{mark}</w:rPr>"
    return head + "</w:pPr>" + rest


def _track_code(xml: str, attrs: str) -> str:
    """A bookmark paragraph dcrl-cins/cdel goes; the code paragraph after it is tracked whole."""
    pattern = re.compile(r'<w:p(?=[ >])(?:(?!</w:p>).)*?<w:bookmarkStart w:id="(\d+)" w:name="dcrl-(cins|cdel)-\d+" />'
                         r'<w:bookmarkEnd w:id="\1" /></w:p>\s*(<w:p(?=[ >])(?:(?!</w:p>).)*</w:p>)', re.S)

    def replace(match: re.Match) -> str:
        kind = "ins" if match.group(2) == "cins" else "del"
        paragraph = match.group(3)
        head, _, body = paragraph.partition("</w:pPr>")
        body = body[: -len("</w:p>")]
        if kind == "del":
            body = body.replace("<w:t ", "<w:delText ").replace("<w:t>", "<w:delText>")
            body = body.replace("</w:t>", "</w:delText>")
        tracked = f'{head}</w:pPr><w:{kind} w:id="0" {attrs}>{body}</w:{kind}></w:p>'
        return _mark_paragraph(tracked, kind, attrs)

    return pattern.sub(replace, xml)


def _hyperlinks_outside(match: re.Match) -> str:
    """`<w:ins><w:hyperlink>runs</w:hyperlink></w:ins>` → `<w:hyperlink><w:ins>runs</w:ins></w:hyperlink>`."""
    open_tag, kind, content, close_tag = match.groups()
    if "<w:hyperlink" not in content:
        return match.group(0)
    out, last = [], 0
    for link in HYPERLINK.finditer(content):
        if content[last:link.start()]:
            out.append(open_tag + content[last:link.start()] + close_tag)
        start = link.group(0).index(">") + 1
        inner = link.group(0)[start: -len("</w:hyperlink>")]
        out.append(link.group(0)[:start] + open_tag + inner + close_tag + "</w:hyperlink>")
        last = link.end()
    if content[last:]:
        out.append(open_tag + content[last:] + close_tag)
    return "".join(out)
