"""What changed between two revisions of a controlled document: a redline, computed without I/O.

Chinese has no spaces between words, so text is compared character by character and the result
cleaned up semantically (diff-match-patch's `diff_cleanupSemantic`), which turns scattered
single-character matches into whole replaced phrases. The body is compared by structure:

- sections (a heading and what follows it) are matched by their heading text, so a section that
  moved is recognised as moved, and a renamed one as changed;
- within a section, blocks (paragraphs, lists, tables, code) are aligned, and changed ones paired;
- within a list, items are aligned; within a table, rows, and a changed row is compared cell by cell.

A change inside a paragraph is kept at character level only where marking it cannot disturb the
Markdown around it (a link target, a code span, emphasis markers); otherwise the unit's whole old
text is shown deleted and its whole new text inserted. Either way, taking every insertion and no
deletion gives the new text exactly, and the reverse the old.

`marked_markdown` writes the redline as the new revision's Markdown with private-use marker
characters around each insertion and deletion; the site and the Word export each turn the
markers into their own marks. `format_diff` prints a diff as text, JSON or HTML.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from diff_match_patch import diff_match_patch

from .messages import Messages
from .messages.zh import MESSAGES as ZH
from .model import Document

INS, INS_END, DEL, DEL_END = "\ue000", "\ue001", "\ue002", "\ue003"
WHOLE_INS, WHOLE_DEL, MOVED = "\ue004", "\ue005", "\ue006"
"""Marker characters in `marked_markdown`: INS…INS_END inserted text, DEL…DEL_END deleted text;
WHOLE_INS / WHOLE_DEL open a paragraph, list item, heading or table row that is wholly inserted or
deleted (its paragraph mark or row goes too), MOVED after one of them says it was moved."""
PRIVATE_USE = re.compile("[\ue000-\ue00f]")

EQUAL, INSERTED, DELETED, CHANGED = "equal", "inserted", "deleted", "changed"
Format = Literal["text", "json", "html"]

# Each compared field's label in the catalogue (messages.Fields).
FIELD_LABELS = {
    "title": "title", "type": "type", "department": "department", "references": "references",
    "clauses": "clauses", "retention": "retention", "review_months": "review_months",
    "next_review_date": "next_review", "orientation": "orientation", "source": "source_short",
    "history": "history",
}
LIST_FIELDS = ("references", "clauses")
SCALAR_FIELDS = ("title", "type", "department", "retention", "review_months", "next_review_date",
                 "orientation", "source")

HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
HEADING_ATTRS = re.compile(r"(.*?)([ \t]*\{[^{}]*\})")
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"( *)([-*+]|[0-9]{1,9}[.)])(?: +|$)")
RULE = re.compile(r" {0,3}([-*_])(?: *\1){2,} *")
TABLE_DELIMITER = re.compile(r" *\|? *:?-{3,}:? *(?:\| *:?-{3,}:? *)*\|? *")
SECTION_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)*\.?\s*")

# Characters whose insertion or deletion could change how the Markdown around it reads, and
# places (link targets, code spans, attribute lists, autolinks, entities, escapes) inside which
# an edit cannot be marked without breaking them.
MARKUP_CHARS = set("*_`[]{}<>\\~^|!&$")
PROTECTED = re.compile(r"\\.|`+[^`]*`+|\]\([^)]*\)|\]\[[^\]]*\]|\{[^{}]*\}|<[^<>\s]+>|&#?[0-9A-Za-z]+;|\[\^[^\]]*\]")

PAIR_LIMIT = 40  # larger replaced runs are paired in order, not by best similarity
SIMILAR = 0.4
REWRITTEN = 0.5  # below this similarity a long paired paragraph is shown as rewritten: old text out, new text in
SHORT = 80  # characters in both texts, below which the character diff itself decides
KEPT = 0.3  # share of the longer text a character diff must keep to be shown


# -- the parsed body -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """A paragraph-like piece of the body: a heading, paragraph, list item, table row or code block.

    prefix and suffix are the Markdown around the compared text (`## `, `    - `, a heading's
    `{#id}`, a code block's fences); a table row's text is its cells joined by ` | `.
    """

    kind: str
    text: str
    prefix: str = ""
    suffix: str = ""
    cells: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    kind: str  # heading, paragraph, list, table, code
    units: tuple[Unit, ...]

    @property
    def key(self) -> str:
        return self.kind + "\0" + "\n".join(unit.prefix.strip() + unit.text for unit in self.units)

    @property
    def columns(self) -> int:
        return len(self.units[0].cells) if self.kind == "table" else 0


@dataclass(frozen=True)
class Section:
    heading: Unit | None
    blocks: tuple[Block, ...]

    @property
    def title(self) -> str:
        return self.heading.text if self.heading else ""

    @property
    def key(self) -> str:
        return SECTION_NUMBER.sub("", self.title).strip()

    @property
    def text(self) -> str:
        return "\n".join(block.key for block in self.blocks)


def parse_sections(text: str) -> list[Section]:
    """The body split into sections: whatever precedes the first heading, then one per heading."""
    sections: list[Section] = []
    heading: Unit | None = None
    blocks: list[Block] = []
    for block in parse_blocks(text):
        if block.kind == "heading":
            if heading is not None or blocks:
                sections.append(Section(heading, tuple(blocks)))
            heading, blocks = block.units[0], []
        else:
            blocks.append(block)
    if heading is not None or blocks:
        sections.append(Section(heading, tuple(blocks)))
    return sections


def parse_blocks(text: str) -> list[Block]:
    """The body's blocks, from the Markdown subset controlled documents use."""
    lines = PRIVATE_USE.sub("\ufffd", text).replace("\r\n", "\n").split("\n")
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        for reader in (_code, _heading, _table, _list):
            found = reader(lines, index)
            if found:
                block, index = found
                blocks.append(block)
                break
        else:
            block, index = _paragraph(lines, index)
            blocks.append(block)
    return blocks


def _code(lines: list[str], start: int) -> tuple[Block, int] | None:
    fence = FENCE.match(lines[start])
    if not fence:
        return None
    mark = fence.group(1)
    end = start + 1
    while end < len(lines) and not re.match(rf" {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}\s*$", lines[end]):
        end += 1
    closing = lines[end] if end < len(lines) else mark
    unit = Unit("code", "\n".join(lines[start + 1:end]), lines[start] + "\n", "\n" + closing)
    return Block("code", (unit,)), end + 1


def _heading(lines: list[str], start: int) -> tuple[Block, int] | None:
    match = HEADING.fullmatch(lines[start])
    if not match:
        return None
    content, suffix = match.group(2) or "", ""
    attrs = HEADING_ATTRS.fullmatch(content)
    if attrs:
        content, suffix = attrs.group(1), attrs.group(2)
    unit = Unit("heading", content, match.group(1) + " ", suffix)
    return Block("heading", (unit,)), start + 1


def _table(lines: list[str], start: int) -> tuple[Block, int] | None:
    if "|" not in lines[start] or start + 1 >= len(lines) or not TABLE_DELIMITER.fullmatch(lines[start + 1]):
        return None
    end = start
    rows = []
    while end < len(lines) and lines[end].strip() and "|" in lines[end]:
        cells = split_cells(lines[end])
        kind = "delimiter" if end == start + 1 else "row"
        rows.append(Unit(kind, " | ".join(cells), cells=tuple(cells)))
        end += 1
    return Block("table", tuple(rows)), end


def split_cells(line: str) -> list[str]:
    """A table row's cells: split at pipes that are neither escaped nor inside a code span."""
    cells, current, code = [], [], ""
    index, text = 0, line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index:index + 2])
            index += 2
            continue
        if char == "`":
            rest = text[index:]
            run = rest[: len(rest) - len(rest.lstrip("`"))]
            code = "" if code == run else (code or run)
            current.append(run)
            index += len(run)
            continue
        if char == "|" and not code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current).strip())
    return cells


def _list(lines: list[str], start: int) -> tuple[Block, int] | None:
    if RULE.fullmatch(lines[start]) or not LIST_ITEM.match(lines[start]):
        return None
    items: list[Unit] = []
    index = start
    while index < len(lines):
        line = lines[index]
        match = LIST_ITEM.match(line)
        if match and not RULE.fullmatch(line):
            prefix = line[:match.end()]
            if not prefix.endswith(" "):
                prefix += " "
            items.append(Unit("item", line[match.end():], prefix))
            index += 1
            continue
        if line.strip() and (line.startswith(" ") or not _starts_block(lines, index)):
            last = items[-1]
            items[-1] = Unit("item", last.text + "\n" + line.strip(), last.prefix)
            index += 1
            continue
        if not line.strip():
            following = index + 1
            while following < len(lines) and not lines[following].strip():
                following += 1
            continues = following < len(lines) and (
                lines[following].startswith(" ")
                or (LIST_ITEM.match(lines[following]) and not RULE.fullmatch(lines[following])))
            if continues:
                if lines[following].startswith(" ") and not LIST_ITEM.match(lines[following]):
                    last = items[-1]
                    items[-1] = Unit("item", last.text + "\n\n" + lines[following].strip(), last.prefix)
                    index = following + 1
                    continue
                index = following
                continue
        break
    return Block("list", tuple(items)), index


def _starts_block(lines: list[str], index: int) -> bool:
    line = lines[index]
    return bool(FENCE.match(line) or HEADING.fullmatch(line) or LIST_ITEM.match(line) or RULE.fullmatch(line)
                or ("|" in line and index + 1 < len(lines) and TABLE_DELIMITER.fullmatch(lines[index + 1])))


def _paragraph(lines: list[str], start: int) -> tuple[Block, int]:
    end = start + 1
    if not RULE.fullmatch(lines[start]):
        while end < len(lines) and lines[end].strip() and not (
                FENCE.match(lines[end]) or HEADING.fullmatch(lines[end])
                or ("|" in lines[end] and end + 1 < len(lines) and TABLE_DELIMITER.fullmatch(lines[end + 1]))):
            end += 1
    return Block("paragraph", (Unit("paragraph", "\n".join(lines[start:end])),)), end


# -- the diff ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """A run of text that is kept (`=`), inserted (`+`) or deleted (`-`)."""

    op: str
    text: str


@dataclass(frozen=True)
class UnitDiff:
    kind: str
    status: str
    old: Unit | None
    new: Unit | None
    pieces: tuple[Piece, ...] = ()
    cells: tuple[tuple[Piece, ...], ...] = ()
    moved: bool = False

    @property
    def unit(self) -> Unit:
        return self.new or self.old  # type: ignore[return-value]


@dataclass(frozen=True)
class BlockDiff:
    kind: str
    status: str
    units: tuple[UnitDiff, ...]
    moved: bool = False


@dataclass(frozen=True)
class SectionDiff:
    heading: UnitDiff | None
    status: str
    blocks: tuple[BlockDiff, ...]
    moved: bool = False

    @property
    def title(self) -> str:
        if self.heading is None:
            return ""
        return self.heading.unit.text

    @property
    def old_title(self) -> str:
        return self.heading.old.text if self.heading and self.heading.old else ""


@dataclass(frozen=True)
class FieldChange:
    """A controlled metadata field that differs: the values as shown, and what was added and removed."""

    name: str
    label: str
    old: str
    new: str
    pieces: tuple[Piece, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentDiff:
    number: str
    title: str
    old_revision: str | None
    new_revision: str
    author: str
    date: str
    fields: tuple[FieldChange, ...]
    sections: tuple[SectionDiff, ...]
    old_title: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.fields) or any(section.status != EQUAL for section in self.sections)

    @property
    def changed_sections(self) -> list[SectionDiff]:
        return [section for section in self.sections if section.status != EQUAL]

    def counts(self) -> dict[str, int]:
        """Characters inserted and deleted in the body, and sections changed, added, removed and moved."""
        inserted = deleted = 0
        for piece in self.pieces():
            if piece.op == "+":
                inserted += len(piece.text)
            elif piece.op == "-":
                deleted += len(piece.text)
        statuses = [s.status for s in self.sections]
        return {"inserted": inserted, "deleted": deleted, "sections_changed": statuses.count(CHANGED),
                "sections_added": sum(1 for s in self.sections if s.status == INSERTED and not s.moved),
                "sections_removed": sum(1 for s in self.sections if s.status == DELETED and not s.moved),
                "sections_moved": sum(1 for s in self.sections if s.status == INSERTED and s.moved)}

    def pieces(self) -> Iterable[Piece]:
        for section in self.sections:
            units = ([section.heading] if section.heading else []) + [u for b in section.blocks for u in b.units]
            for unit in units:
                yield from unit_pieces(unit)


def unit_pieces(unit: UnitDiff) -> list[Piece]:
    """The unit's text as kept, inserted and deleted pieces (a row's cells joined by ` | `)."""
    if unit.status == EQUAL:
        return [Piece("=", unit.unit.text)]
    if unit.status == INSERTED:
        return [Piece("+", unit.unit.text)]
    if unit.status == DELETED:
        return [Piece("-", unit.unit.text)]
    if unit.cells:
        joined: list[Piece] = []
        for index, cell in enumerate(unit.cells):
            if index:
                joined.append(Piece("=", " | "))
            joined.extend(cell)
        return joined
    return list(unit.pieces)


def diff_documents(old: Document | None, new: Document, labels: Messages = ZH) -> DocumentDiff:
    """The redline from old (None: a first revision, everything is new) to new; fields labelled from labels."""
    old_sections = parse_sections(old.full_text) if old else []
    new_sections = parse_sections(new.full_text)
    sections = _diff_sections(old_sections, new_sections)
    sections = _mark_moved_units(sections)
    row = next((r for r in new.history if r.revision == new.revision), None)
    day = row.date if row else new.prepared.date
    return DocumentDiff(number=new.number, title=new.title, old_revision=old.revision if old else None,
                        new_revision=new.revision, author=new.prepared.name, date=day.isoformat(),
                        fields=tuple(_diff_fields(old, new, labels)), sections=tuple(sections),
                        old_title=old.title if old else "")


def diff_text(old: str, new: str) -> list[Piece]:
    """Character-level diff of two texts, cleaned up into whole phrases.

    Chinese is compared character by character; a run of ASCII letters and digits (a number, a
    code, an English word) counts as one token, so 24 → 12 reads as one replaced number.
    """
    if old == new:
        return [Piece("=", old)] if old else []
    codes: dict[str, str] = {}
    tokens: list[str] = []
    encoded_old = _encode(old, codes, tokens)
    encoded_new = _encode(new, codes, tokens)
    engine = diff_match_patch()
    engine.Diff_Timeout = 1.0
    diffs = engine.diff_main(encoded_old, encoded_new, False)
    engine.diff_cleanupSemantic(diffs)
    _absorb_single_equalities(engine, diffs)
    ops = {0: "=", 1: "+", -1: "-"}
    pieces: list[Piece] = []
    for op, text in diffs:
        decoded = "".join(tokens[ord(char) - TOKEN_BASE] for char in text)
        if decoded:
            pieces.append(Piece(ops[op], decoded))
    return pieces


def _absorb_single_equalities(engine: diff_match_patch, diffs: list) -> None:
    """One kept token between two edits joins them (程序 → 规程 reads as one replaced word, not 规 + 序)."""
    changed = True
    while changed:
        changed = False
        for index in range(1, len(diffs) - 1):
            op, text = diffs[index]
            if op == 0 and len(text) == 1 and diffs[index - 1][0] != 0 and diffs[index + 1][0] != 0:
                diffs[index:index + 1] = [(-1, text), (1, text)]
                engine.diff_cleanupMerge(diffs)
                changed = True
                break


TOKEN = re.compile(r"[A-Za-z0-9]+|.", re.S)
TOKEN_BASE = 0xF0000


def _encode(text: str, codes: dict[str, str], tokens: list[str]) -> str:
    """Each distinct token as one character of a private plane, so the diff never splits a token."""
    out = []
    for token in TOKEN.findall(text):
        code = codes.get(token)
        if code is None:
            code = codes[token] = chr(TOKEN_BASE + len(tokens))
            tokens.append(token)
        out.append(code)
    return "".join(out)


def similarity(old: str, new: str) -> float:
    """How alike two texts are, from 0 (nothing in common) to 1 (equal): the Dice coefficient of their
    character pairs, which costs one pass over each text (for pairing, not for showing)."""
    if old == new:
        return 1.0
    first, second = _bigrams(old), _bigrams(new)
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def _bigrams(text: str) -> set[str]:
    return {text[k:k + 2] for k in range(len(text) - 1)} if len(text) > 1 else ({text} if text else set())


# -- sections ------------------------------------------------------------------------------------

def _diff_sections(old: list[Section], new: list[Section]) -> list[SectionDiff]:
    pairs = _match_sections(old, new)
    anchors = _longest_increasing(pairs, lambda pair: 1 + len(old[pair[0]].text) + len(new[pair[1]].text))
    moved = set(pairs) - set(anchors)
    moved_old = {i for i, _ in moved}
    moved_new = {j for _, j in moved}
    result: list[SectionDiff] = []
    for kind, i, j in _merge(len(old), len(new), anchors):
        if kind == "-":
            result.append(_whole_section(old[i], DELETED, i in moved_old))
        elif kind == "+":
            result.append(_whole_section(new[j], INSERTED, j in moved_new))
        else:
            result.append(_changed_section(old[i], new[j]))
    return result


def _match_sections(old: list[Section], new: list[Section]) -> list[tuple[int, int]]:
    """Pairs (old index, new index) of the same section: same heading, then same heading without
    its number, then (for the rest) the most similar content; the untitled preamble pairs with itself."""
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for key in (lambda s: (s.heading is None, s.title), lambda s: (s.heading is None, s.key)):
        by_key: dict = {}
        for i, section in enumerate(old):
            if i not in used_old:
                by_key.setdefault(key(section), []).append(i)
        for j, section in enumerate(new):
            if j in used_new:
                continue
            candidates = by_key.get(key(section))
            if candidates:
                i = candidates.pop(0)
                pairs.append((i, j))
                used_old.add(i)
                used_new.add(j)
    rest_old = [i for i in range(len(old)) if i not in used_old and old[i].heading is not None]
    rest_new = [j for j in range(len(new)) if j not in used_new and new[j].heading is not None]
    if rest_old and rest_new and len(rest_old) * len(rest_new) <= PAIR_LIMIT * PAIR_LIMIT:
        scored = sorted(((similarity(old[i].text, new[j].text), i, j) for i in rest_old for j in rest_new),
                        reverse=True)
        for score, i, j in scored:
            if score < SIMILAR + 0.2 or not old[i].text.strip():
                break
            if i not in used_old and j not in used_new:
                pairs.append((i, j))
                used_old.add(i)
                used_new.add(j)
    return sorted(pairs)


def _longest_increasing(pairs: list[tuple[int, int]], weight=lambda pair: 1) -> list[tuple[int, int]]:
    """The heaviest run of pairs (sorted by old index) whose new indexes also increase: what stayed in
    order. Weighing sections by their size makes the smaller of two swapped sections the one that moved."""
    if not pairs:
        return []
    chains: list[tuple[float, list[tuple[int, int]]]] = []
    for pair in pairs:
        total, chain = max(((t, c) for t, c in chains if c[-1][1] < pair[1]), key=lambda tc: tc[0], default=(0, []))
        chains.append((total + weight(pair), chain + [pair]))
    return max(chains, key=lambda tc: tc[0])[1]


def _merge(old_count: int, new_count: int, anchors: Sequence[tuple[int, int]]):
    """The merged order: between anchors, what only the old side has, then what only the new side has."""
    i = j = 0
    for anchor_i, anchor_j in [*anchors, (old_count, new_count)]:
        for k in range(i, anchor_i):
            yield "-", k, None
        for k in range(j, anchor_j):
            yield "+", None, k
        if anchor_i < old_count:
            yield "=", anchor_i, anchor_j
        i, j = anchor_i + 1, anchor_j + 1


def _whole_section(section: Section, status: str, moved: bool) -> SectionDiff:
    heading = _whole_unit(section.heading, status, moved) if section.heading else None
    blocks = tuple(_whole_block(block, status, moved) for block in section.blocks)
    return SectionDiff(heading, status, blocks, moved)


def _whole_block(block: Block, status: str, moved: bool = False) -> BlockDiff:
    return BlockDiff(block.kind, status, tuple(_whole_unit(u, status, moved) for u in block.units), moved)


def _whole_unit(unit: Unit, status: str, moved: bool = False) -> UnitDiff:
    if status == INSERTED:
        return UnitDiff(unit.kind, INSERTED, None, unit, moved=moved)
    if status == DELETED:
        return UnitDiff(unit.kind, DELETED, unit, None, moved=moved)
    return UnitDiff(unit.kind, EQUAL, unit, unit)


def _changed_section(old: Section, new: Section) -> SectionDiff:
    heading = None
    if old.heading and new.heading:
        heading = _diff_unit(old.heading, new.heading)
    blocks = _diff_sequence(list(old.blocks), list(new.blocks), key=lambda b: b.key,
                            pairable=_blocks_pairable, whole=_whole_block, pair=_diff_block)
    changed = (heading is not None and heading.status != EQUAL) or any(b.status != EQUAL for b in blocks)
    return SectionDiff(heading, CHANGED if changed else EQUAL, tuple(blocks))


def _blocks_pairable(old: Block, new: Block) -> bool:
    if old.kind != new.kind:
        return False
    return old.kind != "table" or old.columns == new.columns


def _diff_block(old: Block, new: Block) -> BlockDiff:
    if old.kind == "table":
        header = [_diff_unit(old.units[0], new.units[0]), UnitDiff("delimiter", EQUAL, old.units[1], new.units[1])]
        rows = _diff_sequence(list(old.units[2:]), list(new.units[2:]), key=lambda u: u.text,
                              pairable=lambda a, b: len(a.cells) == len(b.cells), whole=_whole_unit, pair=_diff_unit)
        units = header + rows
    elif old.kind == "list":
        units = _diff_sequence(list(old.units), list(new.units), key=lambda u: u.prefix.strip() + u.text,
                               pairable=lambda a, b: True, whole=_whole_unit, pair=_diff_unit)
    else:
        units = [_diff_unit(old.units[0], new.units[0])]
    status = EQUAL if all(u.status == EQUAL for u in units) else CHANGED
    return BlockDiff(new.kind, status, tuple(units))


def _diff_sequence(old: list, new: list, *, key, pairable, whole, pair) -> list:
    """Align two sequences; in each run replaced, pair the similar items and keep the rest whole."""
    matcher = difflib.SequenceMatcher(None, [key(x) for x in old], [key(x) for x in new], autojunk=False)
    result = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result += [pair(old[i], new[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
        elif tag == "delete":
            result += [whole(old[i], DELETED) for i in range(i1, i2)]
        elif tag == "insert":
            result += [whole(new[j], INSERTED) for j in range(j1, j2)]
        else:
            pairs = _pair_replaced(old[i1:i2], new[j1:j2], key, pairable)
            for kind, i, j in _merge(i2 - i1, j2 - j1, pairs):
                if kind == "-":
                    result.append(whole(old[i1 + i], DELETED))
                elif kind == "+":
                    result.append(whole(new[j1 + j], INSERTED))
                else:
                    result.append(pair(old[i1 + i], new[j1 + j]))
    return result


def _pair_replaced(old: list, new: list, key, pairable) -> list[tuple[int, int]]:
    """The order-keeping pairing of replaced items that maximises their total similarity."""
    if len(old) * len(new) > PAIR_LIMIT * PAIR_LIMIT:
        return [(k, k) for k in range(min(len(old), len(new))) if pairable(old[k], new[k])]
    score = [[0.0] * len(new) for _ in old]
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            if pairable(a, b):
                value = similarity(key(a), key(b))
                single = len(old) == 1 and len(new) == 1
                score[i][j] = value if value >= SIMILAR or single else 0.0
    best = [[0.0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(len(old) - 1, -1, -1):
        for j in range(len(new) - 1, -1, -1):
            take = best[i + 1][j + 1] + score[i][j] if score[i][j] > 0 else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(old) and j < len(new):
        if score[i][j] > 0 and best[i][j] == best[i + 1][j + 1] + score[i][j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _diff_unit(old: Unit, new: Unit) -> UnitDiff:
    if old.text == new.text and old.prefix.strip() == new.prefix.strip() and old.suffix == new.suffix:
        return UnitDiff(new.kind, EQUAL, old, new)
    if new.kind == "row" and len(old.cells) == len(new.cells):
        cells = tuple(tuple(inline_diff(a, b)) for a, b in zip(old.cells, new.cells))
        return UnitDiff(new.kind, CHANGED, old, new, cells=cells)
    if new.kind == "code" or old.kind != new.kind:
        pieces = tuple(p for p in (Piece("-", old.text), Piece("+", new.text)) if p.text)
    else:
        pieces = tuple(inline_diff(old.text, new.text))
    return UnitDiff(new.kind, CHANGED, old, new, pieces=pieces)


def inline_diff(old: str, new: str) -> list[Piece]:
    """Character diff of inline Markdown, or the whole old text replaced by the whole new one where a
    marked edit could change how the Markdown around it reads, or where the two have too little in
    common for a character diff to help a reader (it would only scatter marks)."""
    whole = [p for p in (Piece("-", old), Piece("+", new)) if p.text]
    if len(old) + len(new) > SHORT and similarity(old, new) < REWRITTEN:
        return whole  # checked first: diffing two long unrelated texts is slow as well as useless
    pieces = diff_text(old, new)
    kept = sum(len(piece.text) for piece in pieces if piece.op == "=")
    if kept < KEPT * max(len(old), len(new)) or not _safe(pieces, old, new):
        return whole
    return pieces


def _safe(pieces: list[Piece], old: str, new: str) -> bool:
    """Marking these edits leaves the Markdown around them reading as it did."""
    old_protected, new_protected = _protected(old), _protected(new)
    at = {"-": 0, "+": 0}
    for piece in pieces:
        size = len(piece.text)
        if piece.op == "=":
            at["-"] += size
            at["+"] += size
            continue
        if MARKUP_CHARS.intersection(piece.text):
            return False
        at[piece.op] += size
        for text, protected, begin, end in ((old, old_protected, at["-"] - (size if piece.op == "-" else 0), at["-"]),
                                            (new, new_protected, at["+"] - (size if piece.op == "+" else 0), at["+"])):
            if any(a < end and begin < b for a, b in protected) or any(a < begin < b for a, b in protected):
                return False
            if _next_to_markup(text, begin, end):
                return False
    return True


def _protected(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in PROTECTED.finditer(text)]


def _next_to_markup(text: str, start: int, end: int) -> bool:
    """An edit from start to end sits next to emphasis markers or an escape, whose reading it could change."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before in ("*", "_", "~", "^", "\\") or after in ("*", "_", "~", "^")


def _mark_moved_units(sections: list[SectionDiff]) -> list[SectionDiff]:
    """Units deleted in one place and inserted unchanged in another are marked as moved."""
    deleted: dict[str, int] = {}
    inserted: dict[str, int] = {}
    for section in sections:
        for block in section.blocks:
            for unit in block.units:
                if unit.kind in ("paragraph", "item", "code") and len(unit.unit.text.strip()) >= 4:
                    if unit.status == DELETED:
                        deleted[unit.unit.text] = deleted.get(unit.unit.text, 0) + 1
                    elif unit.status == INSERTED:
                        inserted[unit.unit.text] = inserted.get(unit.unit.text, 0) + 1
    both = set(deleted) & set(inserted)
    if not both:
        return sections

    def mark(unit: UnitDiff) -> UnitDiff:
        if unit.status in (DELETED, INSERTED) and unit.unit.text in both and not unit.moved:
            return UnitDiff(unit.kind, unit.status, unit.old, unit.new, unit.pieces, unit.cells, True)
        return unit

    return [SectionDiff(s.heading, s.status, tuple(BlockDiff(b.kind, b.status, tuple(map(mark, b.units)), b.moved)
                                                     for b in s.blocks), s.moved) for s in sections]


# -- metadata ------------------------------------------------------------------------------------

def _diff_fields(old: Document | None, new: Document, labels: Messages) -> list[FieldChange]:
    changes = []

    def label(name: str) -> str:
        return str(getattr(labels.fields, FIELD_LABELS[name]))

    def row_text(row) -> str:
        return labels.redline.history_row.format(revision=row.revision, date=row.date.isoformat(),
                                                 section=row.section, summary=row.summary, by=row.by)

    for name in SCALAR_FIELDS:
        before = _shown(getattr(old, name)) if old else ""
        after = _shown(getattr(new, name))
        if before != after:
            changes.append(FieldChange(name, label(name), before, after, tuple(diff_text(before, after))))
    for name in LIST_FIELDS:
        before_items = tuple(getattr(old, name)) if old else ()
        after_items = tuple(getattr(new, name))
        if before_items != after_items:
            added = tuple(x for x in after_items if x not in before_items)
            removed = tuple(x for x in before_items if x not in after_items)
            joined = labels.fields.list_separator
            changes.append(FieldChange(name, label(name), joined.join(before_items), joined.join(after_items),
                                       added=added, removed=removed))
    before_rows = {row_text(r) for r in old.history} if old else set()
    added_rows = tuple(row_text(r) for r in new.history if row_text(r) not in before_rows)
    removed_rows = tuple(row_text(r) for r in old.history
                         if row_text(r) not in {row_text(x) for x in new.history}) if old else ()
    if added_rows or removed_rows:
        changes.append(FieldChange("history", label("history"), "\n".join(removed_rows),
                                   "\n".join(added_rows), added=added_rows, removed=removed_rows))
    return changes


def _shown(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# -- the redline as marked Markdown --------------------------------------------------------------

def marked_markdown(diff: DocumentDiff, *, unchanged: Literal["full", "collapse"] = "full",
                    labels: Messages = ZH) -> str:
    """The redline as Markdown with marker characters (INS…INS_END, DEL…DEL_END, WHOLE_INS, WHOLE_DEL, MOVED).

    With unchanged="collapse", a section that did not change shows only its heading and a note that it
    did not change.
    """
    chunks: list[str] = []
    for section in diff.sections:
        if section.heading:
            chunks.append(_marked_unit(section.heading))
        if unchanged == "collapse" and section.status == EQUAL:
            if section.blocks:
                chunks.append(labels.redline.unchanged)
            continue
        for block in section.blocks:
            chunks.append("\n".join(_marked_unit(unit) for unit in block.units))
    return "\n\n".join(chunks) + "\n"


def _marked_unit(unit: UnitDiff) -> str:
    shape = unit.unit
    lead = ""
    if unit.status == INSERTED:
        lead = WHOLE_INS + (MOVED if unit.moved else "")
    elif unit.status == DELETED:
        lead = WHOLE_DEL + (MOVED if unit.moved else "")
    if shape.kind == "delimiter":
        return "| " + " | ".join(shape.cells) + " |"
    if shape.kind == "row":
        if unit.status == CHANGED:
            cells = [_marked_pieces(cell) for cell in unit.cells]
        else:
            cells = [_wrapped(cell, unit.status) for cell in shape.cells]
        if cells and lead:
            cells[0] = lead + cells[0]
        return "| " + " | ".join(cells) + " |"
    if unit.status == CHANGED:
        body = _marked_pieces(unit.pieces)
    else:
        body = _wrapped(shape.text, unit.status)
    if shape.kind == "code":
        return (lead and lead + "\n\n") + shape.prefix + body + shape.suffix
    if shape.kind == "item":
        body = body.replace("\n", "\n" + " " * len(shape.prefix))
    return shape.prefix + lead + body + shape.suffix


def _wrapped(text: str, status: str) -> str:
    if not text or status == EQUAL:
        return text
    return (INS + text + INS_END) if status == INSERTED else (DEL + text + DEL_END)


def _marked_pieces(pieces: Sequence[Piece]) -> str:
    out = []
    for piece in pieces:
        if piece.op == "=":
            out.append(piece.text)
        else:
            out.append(_wrapped(piece.text, INSERTED if piece.op == "+" else DELETED))
    return "".join(out)


# -- output --------------------------------------------------------------------------------------

def format_diff(diff: DocumentDiff, fmt: Format = "text", labels: Messages = ZH) -> str:
    """The diff as text (for a terminal or a commit message), JSON (stable keys) or a standalone HTML page."""
    if fmt == "json":
        return json.dumps(diff_as_dict(diff), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return diff_html_page(diff, labels)
    if fmt == "text":
        return diff_as_text(diff, labels)
    raise ValueError(f"unknown diff format {fmt!r}; use text, json or html")


def _revisions(diff: DocumentDiff, labels: Messages) -> str:
    return f"{diff.old_revision or labels.redline.none} → {diff.new_revision}"


def diff_as_text(diff: DocumentDiff, labels: Messages = ZH) -> str:
    """Readable in a terminal: [-deleted-] and {+inserted+}, by section; unchanged sections are skipped."""
    lines = [labels.redline.text_header.format(number=diff.number, title=diff.title,
                                               revisions=_revisions(diff, labels), author=diff.author, date=diff.date)]
    if not diff.changed:
        lines.append("no differences")
        return "\n".join(lines) + "\n"
    if diff.fields:
        lines += ["", f"== {labels.redline.metadata} =="]
        for change in diff.fields:
            lines.append(f"{change.label}: {_text_field(change)}")
    for section in diff.changed_sections:
        lines += ["", f"== {_section_label(section, labels)} =="]
        for block in section.blocks:
            for unit in block.units:
                if unit.status == EQUAL or unit.kind == "delimiter":
                    continue
                lines.append(_text_unit(unit, labels))
    counts = diff.counts()
    lines += ["", f"{counts['inserted']} characters inserted, {counts['deleted']} deleted; sections: "
                  f"{counts['sections_changed']} changed, {counts['sections_added']} added, "
                  f"{counts['sections_removed']} removed, {counts['sections_moved']} moved"]
    return "\n".join(lines) + "\n"


def _text_field(change: FieldChange) -> str:
    if change.name in LIST_FIELDS or change.name == "history":
        parts = [f"+{item}" for item in change.added] + [f"-{item}" for item in change.removed]
        return "; ".join(parts)
    return _text_pieces(change.pieces)


def _section_label(section: SectionDiff, labels: Messages) -> str:
    text = labels.redline
    title = section.title or text.start_of_text
    if section.moved:
        return (text.section_moved_from if section.status == DELETED else text.section_moved_to).format(title=title)
    if section.status == INSERTED:
        return text.section_added.format(title=title)
    if section.status == DELETED:
        return text.section_deleted.format(title=title)
    if section.heading and section.heading.status == CHANGED:
        return text.heading_changed.format(title=_text_pieces(section.heading.pieces))
    return title


def _text_unit(unit: UnitDiff, labels: Messages) -> str:
    text = labels.redline
    label = {"paragraph": text.paragraph, "item": text.list_item, "row": text.table_row, "code": text.code,
             "heading": text.heading}.get(unit.kind, unit.kind)
    moved = text.moved_unit if unit.moved else ""
    if unit.status == INSERTED:
        return f"  + {label}{moved}: {unit.unit.text}"
    if unit.status == DELETED:
        return f"  - {label}{moved}: {unit.unit.text}"
    if unit.cells:
        return f"  ~ {label}: " + " | ".join(_text_pieces(cell) for cell in unit.cells)
    return f"  ~ {label}: {_text_pieces(unit.pieces)}"


def _text_pieces(pieces: Sequence[Piece]) -> str:
    return "".join(p.text if p.op == "=" else (f"{{+{p.text}+}}" if p.op == "+" else f"[-{p.text}-]")
                   for p in pieces)


def diff_as_dict(diff: DocumentDiff) -> dict:
    """The diff as plain data: the `--format json` output (version 1; keys are stable)."""
    return {
        "version": 1, "number": diff.number, "title": diff.title, "from": diff.old_revision,
        "to": diff.new_revision, "author": diff.author, "date": diff.date, "changed": diff.changed,
        "counts": diff.counts(),
        "metadata": [{"field": c.name, "label": c.label, "old": c.old, "new": c.new,
                      "added": list(c.added), "removed": list(c.removed),
                      "pieces": [[p.op, p.text] for p in c.pieces]} for c in diff.fields],
        "sections": [_section_dict(section) for section in diff.sections],
    }


def _section_dict(section: SectionDiff) -> dict:
    return {
        "title": section.title, "old_title": section.old_title, "status": section.status, "moved": section.moved,
        "changes": [_unit_dict(unit) for unit in ([section.heading] if section.heading else [])
                    + [u for b in section.blocks for u in b.units]
                    if unit.status != EQUAL and unit.kind != "delimiter"],
    }


def _unit_dict(unit: UnitDiff) -> dict:
    data: dict = {"kind": unit.kind, "status": unit.status, "moved": unit.moved,
                  "old": unit.old.text if unit.old else None, "new": unit.new.text if unit.new else None}
    if unit.cells:
        data["cells"] = [[[p.op, p.text] for p in cell] for cell in unit.cells]
    elif unit.status == CHANGED:
        data["pieces"] = [[p.op, p.text] for p in unit.pieces]
    return data


# -- HTML ----------------------------------------------------------------------------------------

def mark_tags(labels: Messages) -> dict[str, str]:
    """The HTML of each marker character, and of a whole unit's marker followed by MOVED, with their labels."""
    text = labels.redline

    def tag(classes: str, label: str) -> str:
        return f'<span class="dc-rl-tag {classes}">{html.escape(label)}</span>'

    return {
        INS: '<ins class="dc-ins">', INS_END: "</ins>", DEL: '<del class="dc-del">', DEL_END: "</del>",
        WHOLE_INS: tag("dc-rl-tag--ins", text.added),
        WHOLE_DEL: tag("dc-rl-tag--del", text.deleted),
        MOVED: tag("dc-rl-tag--moved", text.moved),
        WHOLE_DEL + MOVED: tag("dc-rl-tag--moved dc-rl-tag--from", text.moved_from),
        WHOLE_INS + MOVED: tag("dc-rl-tag--moved dc-rl-tag--to", text.moved_to),
    }


MARKDOWN_EXTENSIONS = ["tables", "attr_list", "def_list", "footnotes", "fenced_code"]


def redline_html(diff: DocumentDiff, *, unchanged: Literal["full", "collapse"] = "collapse",
                 labels: Messages = ZH) -> str:
    """The body's redline as sanitised HTML: <ins>/<del> (underlined / struck through, so not by colour
    alone) and a text label on every wholly inserted, deleted or moved paragraph, item or row."""
    from .render.sanitize import clean

    converter = _markdown()
    rendered = converter.reset().convert(marked_markdown(diff, unchanged=unchanged, labels=labels))
    return replace_markers(clean(rendered), labels)


_CONVERTER = None


def _markdown():
    """One Markdown converter per process (building one costs more than converting a page)."""
    global _CONVERTER
    if _CONVERTER is None:
        import markdown

        _CONVERTER = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return _CONVERTER


def replace_markers(text: str, labels: Messages = ZH) -> str:
    """Marker characters turned into their HTML marks (after sanitising: the markers are plain text till then)."""
    tags = mark_tags(labels)
    return re.sub(f"[{WHOLE_INS}{WHOLE_DEL}]{MOVED}|{PRIVATE_USE.pattern}",
                  lambda match: tags.get(match.group(0), ""), text)


def metadata_html(diff: DocumentDiff, labels: Messages = ZH) -> str:
    """The changed metadata as a table (item / before / after: 项目 / 原 / 新), escaped."""
    if not diff.fields:
        return ""
    rows = []
    for change in diff.fields:
        if change.pieces:
            old = "".join(html.escape(p.text) if p.op == "=" else
                          (f'<del class="dc-del">{html.escape(p.text)}</del>' if p.op == "-" else "")
                          for p in change.pieces)
            new = "".join(html.escape(p.text) if p.op == "=" else
                          (f'<ins class="dc-ins">{html.escape(p.text)}</ins>' if p.op == "+" else "")
                          for p in change.pieces)
        else:
            old = "<br>".join(f'<del class="dc-del">{html.escape(x)}</del>' for x in change.removed) or \
                html.escape(change.old)
            new = "<br>".join(f'<ins class="dc-ins">{html.escape(x)}</ins>' for x in change.added) or \
                html.escape(change.new)
        rows.append(f"<tr><th scope=\"row\">{html.escape(change.label)}</th><td>{old}</td><td>{new}</td></tr>")
    head = "".join(f"<th>{html.escape(label)}</th>" for label in (labels.redline.item, labels.redline.before,
                                                                  labels.redline.after))
    return (f'<table class="dc-rl-meta"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def legend_html(labels: Messages = ZH) -> str:
    """How to read the marks, in words: they never rely on colour."""
    text = labels.redline
    return ('<p class="dc-rl-legend">' + html.escape(text.legend).format(
        underlined=f'<ins class="dc-ins">{html.escape(text.underlined)}</ins>',
        struck=f'<del class="dc-del">{html.escape(text.struck)}</del>') + "</p>")


PAGE_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1b2a3a; }
ins.dc-ins { text-decoration: underline double; background: #e6f4ea; }
del.dc-del { text-decoration: line-through; background: #fdecea; }
.dc-rl-tag { display: inline-block; margin-right: .4em; padding: 0 .3em; border: 1px solid currentColor;
             font-size: .8em; }
table { border-collapse: collapse; } th, td { border: 1px solid #9aa8b8; padding: .2em .5em; vertical-align: top; }
@media print { ins.dc-ins, del.dc-del { background: none; } }
"""


def diff_html_page(diff: DocumentDiff, labels: Messages = ZH) -> str:
    """A standalone HTML page of the redline, every section shown."""
    title = labels.redline.html_title.format(number=diff.number, title=diff.title,
                                             revisions=_revisions(diff, labels))
    prepared = labels.redline.prepared_line.format(author=diff.author, date=diff.date)
    return (f"<!DOCTYPE html>\n<html lang=\"{labels.language}\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(prepared)}</p>{legend_html(labels)}"
            f"{metadata_html(diff, labels)}{redline_html(diff, unchanged='full', labels=labels)}</body></html>\n")


__all__ = ["DocumentDiff", "SectionDiff", "BlockDiff", "UnitDiff", "FieldChange", "Piece", "diff_documents",
           "format_diff", "marked_markdown", "redline_html", "metadata_html", "replace_markers", "diff_text",
           "parse_sections"]
