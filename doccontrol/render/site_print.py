"""Print style sheets: every printed page of a document names it, its revision and 第X页 共Y页.

Chromium prints CSS `@page` margin boxes, so the running header and footer need no script.
Margin boxes cannot show text from the page, so each document gets a small style sheet of
its own holding its number, title and revision as CSS strings (every character that is not
an ASCII letter, digit or space written as an escape, so no title can end the string).
"""

from __future__ import annotations

from ..messages import Messages
from ..model import Document


class _Escapes(dict):
    """Each character as a CSS string holds it: an ASCII letter, digit or space as itself, any other as an escape
    (worked out once per character, as str.translate asks)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        shown = char if char.isascii() and (char.isalnum() or char == " ") else f"\\{code:06x}"
        self[code] = shown
        return shown


_ESCAPES = _Escapes()


def css_string(text: str) -> str:
    """text as a CSS string literal that nothing in text can end or escape from."""
    return '"' + text.translate(_ESCAPES) + '"'


def print_css(doc: Document, preview: bool, labels: Messages) -> str:
    """The @page rules of one document's printed pages (forms: just the form, no 非受控 stamp)."""
    fields = labels.fields
    title = f"{doc.number} {doc.title}"
    state = f"{fields.revision} {doc.revision}"
    if doc.effective:
        state += f"{fields.gap}{fields.effective} {doc.effective.isoformat()}"
    if preview:
        state = labels.site.draft_label + fields.gap + state
    box = "font-size: 8pt; color: #222;"
    margins = [f"@top-left {{ content: {css_string(title)}; {box} }}",
               f"@top-right {{ content: {css_string(state)}; {box} }}",
               f"@bottom-right {{ {page_counter(labels)} {box} }}"]
    if doc.type != "form":
        margins.append(f"@bottom-left {{ content: {css_string(labels.site.print_uncontrolled)}; {box} }}")
    size = "size: A4 landscape; " if doc.orientation == "landscape" else ""
    return "@page { " + size + " ".join(margins) + " }\n"


COUNTERS = {"PAGE": "counter(page)", "NUMPAGES": "counter(pages)"}


def page_counter(labels: Messages) -> str:
    """第 X 页 共 Y 页 (Page X of Y) with the page and pages counters."""
    pieces = []
    for text, field in labels.page_of():
        if text:
            pieces.append(css_string(text))
        if field:
            pieces.append(COUNTERS[field])
    return f"content: {' '.join(pieces)};"
