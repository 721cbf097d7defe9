"""One text, two renderers: every shipped document reads the same on its site page and in its Word copy.

The site renders Markdown with Python-Markdown, the Word export with pandoc. For every document
of the shipped set, the text of its site page (the document body; for the manual, the index page
and every chapter page) and the text of its .docx in the audit pack (the body after the cover,
the revision record and the contents) must be the same characters once whitespace is removed.
Only the furniture each renderer adds is left out: heading anchors (¶) and the manual's chapter
list on the site; the cover, the approval block, the revision record, the 目录 and the form
title in Word.
"""

from __future__ import annotations

import difflib
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import html as lxml_html

FURNITURE_STYLES = ("CoverCompany", "CoverType", "CoverTitle", "CoverCaption", "CoverNote", "CoverStamp",
                    "RecordHeading", "FormTitle", "TOCHeading", "toc1", "toc2")


@pytest.fixture(scope="module")
def shipped(shipped_outputs) -> tuple[Path, dict[str, bytes]]:
    with zipfile.ZipFile(shipped_outputs["pack"]) as archive:
        documents = {re.match(r"[A-Z]+-[A-Z]+-[0-9]+", name.rsplit("/", 1)[-1]).group(0): archive.read(name)
                     for name in archive.namelist() if name.endswith(".docx") and "/" in name}
    return shipped_outputs["site"], documents


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2011", "-")


def site_text(site: Path, number: str) -> str:
    pages = [site / number / "index.html"]
    pages += sorted(p for p in (site / number).glob("*/index.html") if p.parent.name != "redline")
    texts = []
    for path in pages:
        body = lxml_html.fromstring(path.read_text(encoding="utf-8")).find_class("dc-body")[0]
        links = ".//a[contains(@class, 'headerlink')] | .//a[contains(@class, 'footnote-backref')]"
        for furniture in body.xpath(links):
            furniture.drop_tree()
        for chapters in body.xpath(".//*[@id='dc-chapters']"):
            following = chapters.getnext()
            if following is not None and following.tag == "ul":
                following.drop_tree()
            chapters.drop_tree()
        texts.append(body.text_content())
    return flat("".join(texts))


def blocks(document) -> list[tuple[str, str]]:
    """(kind, text) of the body's paragraphs and tables in order; kind is a paragraph's style id or "table"."""
    found = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            style = child.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            text = "".join("-" if node.tag == qn("w:noBreakHyphen") else node.text or ""
                           for node in child.iter(qn("w:t"), qn("w:noBreakHyphen")))
            found.append((style.get(qn("w:val")) if style is not None else "", text))
        elif child.tag == qn("w:tbl"):
            text = "".join("-" if node.tag == qn("w:noBreakHyphen") else node.text or ""
                           for node in child.iter(qn("w:t"), qn("w:noBreakHyphen")))
            found.append(("table", text))
    return found


def word_text(data: bytes) -> str:
    """The document's own text in its Word copy: after the furniture (cover, revision record, contents, a
    form's control table and title), before a form's closing revision record."""
    items = blocks(docx.Document(io.BytesIO(data)))
    styles = [kind for kind, _ in items]
    if "FormTitle" in styles:
        start = styles.index("FormTitle") + 1
        end = styles.index("RecordHeading", start) if "RecordHeading" in styles[start:] else len(items)
    else:
        start = styles.index("RecordHeading") + 2  # the heading and its table
        end = len(items)
    body = [(kind, text) for kind, text in items[start:end] if kind not in FURNITURE_STYLES]
    return flat("".join(text for _, text in body))


def test_every_shipped_document_reads_the_same_on_the_site_and_in_word(shipped):
    site, documents = shipped
    assert len(documents) >= 50
    different = []
    for number, data in sorted(documents.items()):
        on_site, in_word = site_text(site, number), word_text(data)
        if on_site != in_word:
            matcher = difflib.SequenceMatcher(None, on_site, in_word, autojunk=False)
            where = next(op for op in matcher.get_opcodes() if op[0] != "equal")
            _, a0, a1, b0, b1 = where
            different.append(f"{number}: site …{on_site[max(0, a0 - 20):a1 + 20]}… "
                             f"Word …{in_word[max(0, b0 - 20):b1 + 20]}…")
    assert not different, "\n".join(different)
    blanks = "（盖章）：__________经办人：__________日期：____年__月__日"
    assert blanks in site_text(site, "QR-SH-009")  # blanks stay text
