"""Python-Markdown extensions of the site: links for document numbers, and the Markdown pandoc reads alike.

The Word export reads each document with pandoc; where Python-Markdown would read the same
text differently, the site is made to read it as pandoc does, so both copies show one text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from ..model import NUMBER_IN_TEXT

BLANK_RUN = re.compile(r"_{2,}")
CODE_OR_AUTOLINK = re.compile(r"`[^`]*`|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*>")


class LiteralRuns(Extension):
    """Two or more `_` in a row, and four or more `*`, are text: fill-in blanks (____年__月__日), never emphasis.

    Python-Markdown would read `____年（部件名称：____）` as nested bold around 年（部件名称：
    and drop the blanks; pandoc reads `____年__月__日至____年` with 日至 in bold. The Word
    export escapes the same runs (`literal_blanks`), so both copies show the blanks."""

    def extendMarkdown(self, md):
        md.inlinePatterns.register(LiteralRunProcessor(r"(\*{4,}|_{2,})", md), "doccontrol_literal_runs", 70)


def literal_blanks(text: str) -> str:
    """text with every run of two or more `_` escaped for pandoc, outside fenced code, code spans and autolinks."""
    out, fence = [], ""
    for line in text.split("\n"):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~") and (not fence or marker == fence):
            fence = "" if fence else marker
        elif not fence and "__" in line:
            line = _escape_outside_code(line)
        out.append(line)
    return "\n".join(out)


def _escape_outside_code(line: str) -> str:
    pieces, position = [], 0
    for kept in CODE_OR_AUTOLINK.finditer(line):
        pieces.append(BLANK_RUN.sub(lambda m: "\\_" * len(m.group(0)), line[position:kept.start()]))
        pieces.append(kept.group(0))
        position = kept.end()
    pieces.append(BLANK_RUN.sub(lambda m: "\\_" * len(m.group(0)), line[position:]))
    return "".join(pieces)


class LiteralRunProcessor(InlineProcessor):
    def handleMatch(self, m, data):
        return AtomicString(m.group(1)), m.start(0), m.end(0)


DATE = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")


class NumberLinks(Extension):
    """Turn each published document number in the text into a link to its page, titled with its name,
    and keep each date on one line (a span the style sheet does not let wrap)."""

    def __init__(self, targets: dict, numbers: re.Pattern = NUMBER_IN_TEXT):
        super().__init__()
        self.targets = targets
        self.numbers = numbers

    def extendMarkdown(self, md):
        md.treeprocessors.register(NumberLinker(md, self.targets, self.numbers), "doccontrol_numbers", 15)


class NumberLinker(Treeprocessor):
    SKIP = {"a", "code", "pre", "kbd", "script", "style", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, md, targets: dict, numbers: re.Pattern = NUMBER_IN_TEXT):
        super().__init__(md)
        self.targets = targets
        self.numbers = numbers

    def run(self, root):
        self.visit(root)

    def visit(self, element) -> None:
        if element.tag in self.SKIP or element.get("class") == "dc-nowrap":
            return
        if element.text:
            element.text, links = self.split(element.text)
            for index, link in enumerate(links):
                element.insert(index, link)
        for child in list(element):
            self.visit(child)
            if child.tail:
                child.tail, links = self.split(child.tail)
                position = list(element).index(child) + 1
                for offset, link in enumerate(links):
                    element.insert(position + offset, link)

    def split(self, text: str) -> tuple[str, list]:
        """The text before the first number or date, and one element per number (<a>) or date (<span>),
        each with the text after it as its tail."""
        found = sorted([*((m.start(), m.end(), self.link(m.group(1))) for m in self.numbers.finditer(text)),
                        *((m.start(), m.end(), self.date(m.group(0))) for m in DATE.finditer(text))],
                       key=lambda item: item[0])
        elements: list = []
        head, last = text, 0
        for start, end, element in found:
            if element is None or start < last:
                continue
            if elements:
                elements[-1].tail = text[last:start]
            else:
                head = text[:start]
            elements.append(element)
            last = end
        if elements:
            elements[-1].tail = text[last:]
        return head, elements

    def link(self, number: str):
        target = self.targets.get(number)
        if not target:
            return None
        # Python-Markdown's serializer leaves "&" alone when it already looks like an entity.
        title = target.title.replace("&", "&amp;")
        link = etree.Element("a", {"href": f"/{target.src}", "title": title, "class": "dc-ref"})
        link.text = number
        return link

    @staticmethod
    def date(day: str):
        span = etree.Element("span", {"class": "dc-nowrap"})
        span.text = day
        return span
