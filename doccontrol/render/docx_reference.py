"""The pandoc reference document for controlled Word files, generated with python-docx.

Pandoc takes styles, page setup, headers and footers from a reference .docx. This
module builds one from pandoc's own default (so every style pandoc uses exists) and
adds what a Chinese controlled document needs: A4, 宋体/黑体 as East Asian fonts on
the document defaults and on every style, bordered tables, cover styles, and the
header and footer furniture with real PAGE / NUMPAGES fields.

Per-document values in the header and footer are placeholders (`@@NUMBER@@` ...),
filled in when each converted file is finished (see docx.py). The first-page header
and footer parts are the cover's: the cover is its own section that refers to them.
"""

from __future__ import annotations

import io
import os
import subprocess

import docx
import pypandoc
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..messages import Messages

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)

A4 = (Cm(21.0), Cm(29.7))
MARGINS = {"top": Cm(3.3), "bottom": Cm(2.2), "left": Cm(2.5), "right": Cm(2.0),
           "header_distance": Cm(1.2), "footer_distance": Cm(1.0)}

MARK_RUN = "@@MARK@@"

HEADING_SIZES = {1: 16, 2: 14, 3: 12}
BODY_SIZE = 12
HEADER_SIZE = 10.5

COVER_STYLES = {
    # name: (font, size pt, bold, space before pt, space after pt)
    "Cover Company": (HEADING_FONT, 18, True, 60, 18),
    "Cover Type": (HEADING_FONT, 16, False, 24, 6),
    "Cover Title": (HEADING_FONT, 26, True, 6, 48),
    "Cover Caption": (HEADING_FONT, 12, True, 30, 6),
    "Record Heading": (HEADING_FONT, 16, True, 6, 12),
    "Form Title": (HEADING_FONT, 16, True, 6, 12),
    "Cover Note": (BODY_FONT, 10.5, False, 12, 0),
    "Cover Stamp": (HEADING_FONT, 12, True, 24, 0),
}
HEADING_STYLE_IDS = ("Heading", "Title", "Subtitle", "Cover", "RecordHeading", "FormTitle", "TOCHeading")
TOC_STYLES = {1: "toc 1", 2: "toc 2"}


def pandoc_default_reference() -> bytes:
    """pandoc's default reference as pandoc writes it, so it already holds every style pandoc may add."""
    return subprocess.run([pypandoc.get_pandoc_path(), "--from", "markdown", "--to", "docx", "--output", "-"],
                          input=b"x\n", check=True, capture_output=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "0"}).stdout


def build_reference(landscape: bool, labels: Messages) -> bytes:
    """The reference .docx for a body in portrait or landscape A4, its header labelled from labels."""
    document = docx.Document(io.BytesIO(pandoc_default_reference()))
    _clear_body(document)
    section = document.sections[0]
    set_page(section, landscape)
    _add_styles(document)
    set_east_asian_fonts(document)
    _furniture(section, text_width(section), labels)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def set_page(section, landscape: bool = False):
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    for name, value in MARGINS.items():
        setattr(section, f"{name}_margin" if "distance" not in name else name, value)


def text_width(section):
    return section.page_width - section.left_margin - section.right_margin


def _clear_body(document):
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


# -- styles ------------------------------------------------------------------------------------

def set_east_asian_fonts(document):
    """East Asian font and language on the document defaults and on every style, so Chinese never falls back."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = _child(defaults, "w:rPrDefault", first=True)
    _set_fonts(_child(rpr_default, "w:rPr"), BODY_FONT)
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) == "numbering":
            continue
        style_id = style.get(qn("w:styleId"), "")
        font = HEADING_FONT if style_id.startswith(HEADING_STYLE_IDS) else BODY_FONT
        _set_fonts(_style_rpr(style), font)


def _style_rpr(style):
    rpr = style.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        tail = [style.find(qn(tag)) for tag in ("w:tblPr", "w:trPr", "w:tcPr", "w:tblStylePr")]
        anchor = next((el for el in tail if el is not None), None)
        if anchor is not None:
            anchor.addprevious(rpr)
        else:
            style.append(rpr)
    return rpr


def _set_fonts(rpr, east_asia: str):
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, value in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:cs", LATIN_FONT),
                        ("w:eastAsia", east_asia)):
        if attr != "w:eastAsia" and fonts.get(qn(attr)):
            continue
        fonts.set(qn(attr), value)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:eastAsia"), "zh-CN")
    if not lang.get(qn("w:val")):
        lang.set(qn("w:val"), "en-US")


def _add_styles(document):
    styles = document.styles
    styles["Normal"].font.size = Pt(BODY_SIZE)
    for name in ("Body Text", "First Paragraph"):
        fmt = styles[name].paragraph_format
        fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(3), Pt(3), 1.25
    compact = styles["Compact"].paragraph_format
    compact.space_before, compact.space_after = Pt(2), Pt(2)
    for level in range(1, 10):
        style = styles[f"Heading {level}"]
        style.font.size = Pt(HEADING_SIZES.get(level, BODY_SIZE))
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(12 if level == 1 else 8)
        style.paragraph_format.space_after = Pt(6 if level == 1 else 4)
    for level in range(1, 10):
        styles[f"Heading {level} Char"].font.color.rgb = RGBColor(0, 0, 0)
    for name, (_font, size, bold, before, after) in COVER_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.font.size, style.font.bold = Pt(size), bold
        fmt = style.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        fmt.keep_with_next = True
    _bordered_table_style(styles["Table"])
    stamp = styles["Cover Stamp"]
    stamp.font.color.rgb = RED
    _box(stamp.element.get_or_add_pPr())
    for level, name in TOC_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        fmt = style.paragraph_format
        fmt.left_indent = Pt(0 if level == 1 else 21)
        fmt.space_before, fmt.space_after = Pt(3 if level == 1 else 0), Pt(2)
        style.font.bold = level == 1


def _box(ppr):
    """A red border around the paragraph (the 非受控 stamp)."""
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        border = OxmlElement(f"w:{side}")
        for attr, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
            border.set(qn(attr), value)
        borders.append(border)
    ppr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                              "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                              "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                              "w:pPrChange")


def _bordered_table_style(style):
    """Every border on, so forms print as forms (pandoc gives every table this style)."""
    tbl_pr = style.element.find(qn("w:tblPr"))
    set_borders(tbl_pr)
    margins = tbl_pr.find(qn("w:tblCellMar"))
    for side in ("top", "bottom"):
        margins.find(qn(f"w:{side}")).set(qn("w:w"), "40")
    for conditional in style.element.findall(qn("w:tblStylePr")):
        style.element.remove(conditional)


def set_borders(tbl_pr, size: int = 4):
    borders = tbl_pr.find(qn("w:tblBorders"))
    if borders is None:
        borders = OxmlElement("w:tblBorders")
        tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                     "w:tblCaption", "w:tblDescription")
    borders.clear()
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), "single")
        border.set(qn("w:sz"), str(size))
        border.set(qn("w:space"), "0")
        border.set(qn("w:color"), "000000")
        borders.append(border)


def _child(parent, tag: str, first: bool = False):
    child = parent.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        parent.insert(0 if first else len(parent), child)
    return child


# -- header and footer -------------------------------------------------------------------------

def _furniture(section, width, labels: Messages):
    """Body pages: header table and control footer. Cover (first-page parts): mark and page footer."""
    section.different_first_page_header_footer = True
    _header_table(section.header, width, labels)
    _footer(section.footer.paragraphs[0], labels, with_pages=False)
    _mark_paragraph(section.first_page_header.paragraphs[0])
    _footer(section.first_page_footer.paragraphs[0], labels, with_pages=True)
    section.different_first_page_header_footer = False


def _header_table(header, width, labels: Messages):
    table = header.add_table(rows=4, cols=3, width=width)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_borders(table._tbl.tblPr, size=8)
    shares = (0.32, 0.38, 0.30)
    for column, share in zip(table.columns, shares):
        column.width = int(width * share)
        for cell in column.cells:
            cell.width = int(width * share)
    company = table.cell(0, 0).merge(table.cell(3, 0))
    title = table.cell(0, 1).merge(table.cell(3, 1))
    _cell_text(company, [("@@COMPANY@@", True)], size=11)
    _cell_text(title, [("@@TITLE@@", True)], size=14)
    fields = labels.fields
    for row, (label, value) in enumerate([(fields.number, "@@NUMBER@@"), (fields.revision, "@@REVISION@@"),
                                          (fields.effective, "@@EFFECTIVE@@")]):
        _cell_text(table.cell(row, 2), [(label + fields.colon, False), (value, False)], center=False)
    pages = table.cell(3, 2).paragraphs[0]
    page_of(pages, labels)
    _tight(pages)
    mark = header.paragraphs[0]
    header._element.remove(mark._p)
    header._element.append(mark._p)
    _mark_paragraph(mark)


def _cell_text(cell, runs, size=HEADER_SIZE, center=True):
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text, bold in runs:
        run = paragraph.add_run(text)
        run.font.size, run.font.bold = Pt(size), bold
        east_asian(run, HEADING_FONT if bold else BODY_FONT)
    _tight(paragraph)


def _tight(paragraph):
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(1)
    fmt.line_spacing = 1.0


def _footer(paragraph, labels: Messages, with_pages: bool):
    """受控状态：非受控　只供参考… (the labels are placeholders: a blank form's footer says nothing)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    label = paragraph.add_run("@@CONTROL_LABEL@@")
    label.font.size = Pt(HEADER_SIZE)
    status = paragraph.add_run("@@CONTROL@@")
    status.font.size, status.font.bold, status.font.color.rgb = Pt(HEADER_SIZE), True, RED
    note = paragraph.add_run("@@CONTROL_NOTE@@")
    note.font.size = Pt(9)
    for run in (label, status, note):
        east_asian(run, BODY_FONT)
    if with_pages:
        paragraph.add_run(labels.fields.gap * 2)
        page_of(paragraph, labels)


def page_of(paragraph, labels: Messages):
    """第 X 页 共 Y 页 (Page X of Y), X and Y as real PAGE and NUMPAGES fields."""
    for text, instr in labels.page_of():
        if not text and not instr:
            continue
        run = paragraph.add_run(text)
        run.font.size = Pt(HEADER_SIZE)
        east_asian(run, BODY_FONT)
        if instr:
            add_field(paragraph, instr)


def add_field(paragraph, instruction: str):
    """A complex field: fldChar begin, instrText, fldChar separate, a cached result, fldChar end."""
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    for element in (_fld_char("begin"), instr, _fld_char("separate"), None, _fld_char("end")):
        run = paragraph.add_run("1" if element is None else None)
        run.font.size = Pt(HEADER_SIZE)
        if element is not None:
            run._r.append(element)


def _fld_char(kind: str):
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element


def _mark_paragraph(paragraph):
    """A one-point paragraph whose only run is the watermark placeholder."""
    paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = MARK_RUN
    run.append(text)
    paragraph._p.append(run)
    mark = paragraph._p.get_or_add_pPr()
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    rpr.append(size)
    mark.append(rpr)


def east_asian(run, font: str):
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
