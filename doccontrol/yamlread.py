"""A strict YAML reader that remembers the line of every key.

PyYAML's C parser yields events; we compose the values from them ourselves, without
recursion and within limits, so that duplicate keys, anchors and aliases, tags, deep
nesting, invisible characters and non-text keys are errors with a line number instead
of silent surprises (or a crash: libyaml's own composer recurses and overflows the C
stack on deep nesting). Types (YAML 1.1 reads `03` as 3 and `NO` as False) are left
to the strict schema, which rejects the wrong type.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

MAX_NODES = 5000


class YamlProblem(Exception):
    """A YAML text that cannot be read; line is 1-based within the YAML text."""

    def __init__(self, line: int, message: str, fix: str = ""):
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


@dataclass
class YamlDocument:
    data: object
    lines: dict[str, int]


def read_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; `lines` maps dotted key paths ("prepared.name", "history.0") to lines.

    Raises only YamlProblem. The document is composed from the parser's events without
    recursion, so deep nesting, anchors, aliases and tags are refused before they cost anything.
    """
    _check_text(text)
    quick = plain_block_yaml(text)
    if quick is not None:
        return quick
    loader = _Loader(text)
    try:
        return _Composer(loader).document()
    except yaml.MarkedYAMLError as exc:
        # raised as made, never kept in a name here: this frame would hold it, and it this frame (with the text)
        raise _within(_syntax_problem(exc, text), text) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML error: {exc}", "check the YAML syntax (see README, Document format)") from None
    finally:
        loader.dispose()


def _within(problem: YamlProblem, text: str) -> YamlProblem:
    """The problem, its line within the text (a problem found at the end is on the last line, not past it)."""
    problem.line = max(1, min(problem.line, text.count("\n") + 1))
    return problem


MAX_CHARS = 1024 * 1024
MAX_DEPTH = 16
_STR_TAG = "tag:yaml.org,2002:str"
_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
# The first characters of the plain scalars that YAML 1.1 may read as something other than text.
_RESOLVED_FIRST = frozenset(key for key in _Loader.yaml_implicit_resolvers if key)
assert None not in _Loader.yaml_implicit_resolvers  # no resolver for every first character
# YAML allows tab, LF and printable characters; CR, NEL and the Unicode line and paragraph
# separators would break lines where we do not, and a BOM or control character is invisible.
_BAD_CHAR = re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def _check_text(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise YamlProblem(1, f"the YAML text is longer than {MAX_CHARS // 1024} KiB",
                          "keep metadata small; move long content into the document body")
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise YamlProblem(line, "a tab character is used for indentation or inside YAML",
                          "replace tabs with spaces (YAML allows only spaces)")
    bad = _BAD_CHAR.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        char = bad.group()
        if char == "\r":
            raise YamlProblem(line, "a carriage return (CR) character ends a line",
                              "convert the file to LF line endings (git config core.autocrlf input)")
        if char == "\ufeff":
            raise YamlProblem(line, "an invisible byte-order mark (U+FEFF) is in the YAML text",
                              "save the file as UTF-8 without BOM, or delete the invisible character")
        raise YamlProblem(line, f"an invisible control character (U+{ord(char):04X}) is in the YAML text",
                          "delete it; if you cannot see it, retype the line")


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """A syntax error at the line where the user has to look, which is not always where the parser stopped."""
    context = exc.context or ""
    problem = exc.problem or context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    opened = exc.context_mark.line + 1 if exc.context_mark else line
    if "while scanning a quoted scalar" in context:
        return YamlProblem(opened, "YAML syntax error: a quotation mark opened on this line is not closed",
                           "close the quotation mark on the same line")
    if "while parsing a flow sequence" in context or "while parsing a flow mapping" in context:
        bracket = "[" if "sequence" in context else "{"
        return YamlProblem(opened, f"YAML syntax error: the {bracket} opened on this line is not closed",
                           f"close the bracket with {']' if bracket == '[' else '}'} on the same line, "
                           "and quote values that contain , [ ] { or }")
    if "while scanning a simple key" in context:
        source = text.split("\n")[opened - 1] if opened <= text.count("\n") + 1 else ""
        if "\uff1a" in source:
            return YamlProblem(opened, "YAML syntax error: the key is followed by a full-width colon (：)",
                               "type an ASCII colon and a space after the key, e.g. title: 标题")
        return YamlProblem(opened, "YAML syntax error: this line is not a `key: value` pair",
                           "write key: value (a colon and a space after the key), "
                           "or indent the line under the key it belongs to")
    directive = next((n for n, row in enumerate(text.split("\n"), 1) if row.startswith("%")), None)
    if directive and ("document start" in problem or "directive" in problem or "incompatible" in problem):
        return YamlProblem(directive, "YAML syntax error: a % directive line is not allowed here",
                           "remove the % line; front matter needs no YAML directives")
    return YamlProblem(line, f"YAML syntax error: {problem}", _syntax_hint(problem))


def _syntax_hint(problem: str) -> str:
    if "found character '\\t'" in problem:
        return "replace tabs with spaces"
    if "mapping values are not allowed" in problem:
        return "check the indentation, and quote a value that contains ': '"
    if "found unexpected end of stream" in problem or "while scanning a quoted scalar" in problem:
        return "close the quotation mark"
    if "unknown escape character" in problem:
        return "inside double quotes write a backslash as \\\\, or use single quotes"
    if "did not find expected key" in problem:
        return "check the indentation: the keys of one mapping must start in the same column"
    return "check indentation and quoting on this line and the line before"


class _Frame:
    __slots__ = ("value", "path", "key", "key_line")

    def __init__(self, value, path: str):
        self.value = value
        self.path = path
        self.key: str | None = None
        self.key_line = 0


class _Composer:
    """Builds plain dicts, lists and scalars from parser events, iteratively, keeping key lines."""

    def __init__(self, loader):
        self.loader = loader
        self.lines: dict[str, int] = {}
        self.count = 0

    def document(self) -> YamlDocument:
        loader = self.loader
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            return YamlDocument({}, {})
        loader.get_event()  # DocumentStartEvent
        data = self._root()
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            raise YamlProblem(event.start_mark.line + 1, "the YAML text holds a second document (another ---)",
                              "keep one document: remove the extra --- line and what follows it, or merge them")
        return YamlDocument({} if data is None else data, self.lines)

    def _root(self):
        get_event = self.loader.get_event
        stack: list[_Frame] = []
        while True:
            event = get_event()
            kind = type(event)
            if kind is _MAPPING_END or kind is _SEQUENCE_END:
                done = stack.pop()
                if not stack:
                    return done.value
                self._attach(stack[-1], done.value)
                continue
            line = event.start_mark.line + 1
            frame = stack[-1] if stack else None
            self._refuse(event, line)
            if frame is not None and frame.key is None and type(frame.value) is dict:
                self._key(frame, event, line)
                continue
            path = self._child_path(frame, line)
            if kind is _SCALAR:
                value = self._scalar(event, line)
                if frame is None:
                    return value
                self._attach(frame, value)
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if len(stack) >= MAX_DEPTH:
                    raise YamlProblem(line, f"values are nested more than {MAX_DEPTH} levels deep",
                                      "flatten the structure; metadata needs only a few levels")
                stack.append(_Frame({} if kind is _MAPPING_START else [], path))
            else:  # pragma: no cover - the parser sends nothing else inside a document
                raise YamlProblem(line, "unexpected YAML structure", "check the YAML syntax")

    def _refuse(self, event, line: int) -> None:
        if event.anchor is not None or type(event) is _ALIAS:
            raise YamlProblem(line, "YAML anchors and aliases (& and *) are not allowed",
                              "write the value out in full; quote a value that starts with & or *")
        tag = event.tag
        if tag is not None and tag != _STR_TAG:
            raise YamlProblem(line, f"YAML tags ({tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed",
                              "remove the tag; quote a value to keep it as text")
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(line, f"the YAML text has more than {MAX_NODES} values",
                              "keep metadata small; move long content into the document body")

    def _tag(self, event) -> str:
        """The scalar's tag: explicit, or resolved as YAML 1.1 does (only a plain scalar whose first character
        can start a number, boolean, null, date or merge key needs PyYAML's resolver)."""
        if event.tag:
            return event.tag
        value = event.value
        if not event.implicit[0] or (value and value[0] not in _RESOLVED_FIRST):
            return _STR_TAG
        return self.loader.resolve(yaml.ScalarNode, value, event.implicit)

    def _key(self, frame: _Frame, event, line: int) -> None:
        if type(event) is not _SCALAR:
            raise YamlProblem(line, "a key must be plain text, not a list or a mapping",
                              "write `key: value`; quote a key that starts with [ or {")
        tag = self._tag(event)
        raw = event.value
        if tag == "tag:yaml.org,2002:merge":
            raise YamlProblem(line, "YAML merge keys (<<) are not allowed", "write the keys out in full")
        if tag != _STR_TAG:
            raise YamlProblem(line, f"key {_short(raw)} is not read as text "
                                    "(YAML 1.1 reads on/off/yes/no and numbers specially)",
                              f"quote the key: \"{raw}\":")
        if raw in frame.value:
            raise YamlProblem(line, f"duplicate key {_short(raw)}", "keep one of the two entries")
        frame.key = raw
        frame.key_line = line

    def _child_path(self, frame: _Frame | None, line: int) -> str:
        if frame is None:
            return ""
        if type(frame.value) is dict:
            assert frame.key is not None  # a mapping's child starts after its key
            path = f"{frame.path}.{frame.key}" if frame.path else frame.key
            self.lines[path] = frame.key_line
        else:
            index = len(frame.value)
            path = f"{frame.path}.{index}" if frame.path else str(index)
            self.lines[path] = line
        return path

    @staticmethod
    def _attach(frame: _Frame, value) -> None:
        if type(frame.value) is dict:
            frame.value[frame.key] = value
            frame.key = None
        else:
            frame.value.append(value)

    def _scalar(self, event, line: int):
        tag = self._tag(event)
        if tag == _STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise YamlProblem(line, f"cannot read value {_short(event.value)}",
                              "quote the value to keep it as text") from None
        except (ValueError, OverflowError) as exc:
            if tag == "tag:yaml.org,2002:timestamp":
                raise YamlProblem(line, f"invalid date {_short(event.value)}: {exc}",
                                  "write dates as YYYY-MM-DD with a real day") from None
            raise YamlProblem(line, f"cannot read the number {_short(event.value)}: it has too many digits",
                              "write a shorter number, or quote the value to keep it as text") from None


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…'"


# -- the quick reader ----------------------------------------------------------------------------------------------
#
# Front matter is nearly always plain block YAML: `key: value` lines, nested mappings, lists of mappings, one-line
# [a, b] lists, one-line quoted text. `plain_block_yaml` reads exactly that, line by line, and gives what the reader
# above gives (the same values, the same key lines), or None for anything else, which the reader above then reads
# (and reports, if it is wrong). Each value is typed by PyYAML's own resolver and constructor; a value seen before
# is taken from a memo of those results.

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?")
# Characters the quick reader leaves to the full one wherever they stand: comments, anchors, aliases, tags, block
# scalars, directives, escapes, flow mappings.
_NOT_QUICK = re.compile(r"[#&*!|>%@`\\{}]")
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\[\]{}]*")
_FLOW_ITEM = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#,\[\]{}]*")
_QUICK_DEPTH = 6
_MEMO_LIMIT = 100_000
_typed: dict[str, object] = {}
_RESOLVER = yaml.resolver.Resolver()


class _NotQuick(Exception):
    """The text is not plain block YAML: the full reader reads it."""


def plain_block_yaml(text: str) -> YamlDocument | None:
    """The document, when the text is plain block YAML the quick reader reads exactly as `read_yaml` would;
    None otherwise."""
    if _NOT_QUICK.search(text):
        return None
    rows = []
    for number, row in enumerate(text.split("\n"), 1):
        stripped = row.lstrip(" ")
        if stripped:
            if stripped.startswith(("---", "...", "?")):
                return None
            rows.append((len(row) - len(stripped), stripped.rstrip(" "), number))
    if not rows or len(rows) > MAX_NODES // 4:
        return None
    reader = _QuickReader(rows)
    try:
        data = reader.mapping(0, "", 0, None)
    except _NotQuick:
        return None
    if reader.row < len(rows) or 3 * len(rows) + reader.items > MAX_NODES:  # at most 3 values a row, and the lists'
        return None
    return YamlDocument(data, reader.lines)


class _QuickReader:
    """Reads the rows that are not blank (indent, text without the spaces around it, line number)."""

    def __init__(self, rows: list[tuple[int, str, int]]):
        self.rows = rows
        self.row = 0
        self.lines: dict[str, int] = {}
        self.items = 0  # in one-line lists

    def _indent(self) -> int:
        """The indent of the next row; -1 at the end."""
        return self.rows[self.row][0] if self.row < len(self.rows) else -1

    def mapping(self, indent: int, path: str, depth: int, first: str | None) -> dict:
        """The block mapping whose keys stand at indent; first: the text of its first row after a `- `."""
        if depth > _QUICK_DEPTH:
            raise _NotQuick
        found: dict = {}
        rows, lines = self.rows, self.lines
        while True:
            if first is not None:
                text, first = first, None
                line = rows[self.row][2]
            else:
                if self.row >= len(rows):
                    return found
                column, text, line = rows[self.row]
                if column != indent:
                    if column < indent:
                        return found
                    raise _NotQuick
            match = _KEY_LINE.fullmatch(text)
            if match is None:
                raise _NotQuick
            key, rest = match.group(1, 2)
            if key in found or (key[0] in _RESOLVED_FIRST and type(_typed_value(key)) is not str):
                raise _NotQuick
            self.row += 1
            child = f"{path}.{key}" if path else key
            lines[child] = line
            found[key] = self._value(rest, indent, child, line) if rest else self._nested(indent, child, depth)

    def _nested(self, indent: int, path: str, depth: int):
        """The value of a key with nothing after its colon: a mapping indented under it, or a list."""
        if self.row >= len(self.rows):
            raise _NotQuick
        column, text, _ = self.rows[self.row]
        if text.startswith("- ") and column >= indent:
            return self.sequence(column, path, depth + 1)
        if column > indent:
            return self.mapping(column, path, depth + 1, None)
        raise _NotQuick

    def sequence(self, indent: int, path: str, depth: int) -> list:
        if depth > _QUICK_DEPTH:
            raise _NotQuick
        found: list = []
        rows, lines = self.rows, self.lines
        while self.row < len(rows):
            column, text, line = rows[self.row]
            if column < indent or (column == indent and not text.startswith("-")):
                return found
            if column > indent or not text.startswith("- ") or text[2] == " ":
                raise _NotQuick
            item = text[2:]
            child = f"{path}.{len(found)}"
            lines[child] = line
            if _KEY_LINE.fullmatch(item):
                found.append(self.mapping(indent + 2, child, depth + 1, item))
            else:
                self.row += 1
                found.append(self._value(item, indent, child, line))
        return found

    def _value(self, text: str, indent: int, path: str, line: int):
        """A value on its key's row (or its item's): text, quoted text, or a one-line list."""
        if self._indent() > indent:
            raise _NotQuick  # the value goes on in the next row
        first = text[0]
        if first == "[":
            return self._flow(text, path, line)
        if first == '"' or first == "'":
            if len(text) < 2 or text[-1] != first or first in text[1:-1]:
                raise _NotQuick
            return text[1:-1]
        if not _PLAIN.fullmatch(text):
            raise _NotQuick
        return _typed_value(text) if first in _RESOLVED_FIRST else text

    def _flow(self, text: str, path: str, line: int) -> list:
        if text[-1] != "]":
            raise _NotQuick
        inner = text[1:-1].strip(" ")
        if not inner:
            return []
        found = []
        items = inner.split(",")
        self.items += len(items)
        if self.items > MAX_NODES:
            raise _NotQuick
        for index, item in enumerate(items):
            item = item.strip(" ")
            if not _FLOW_ITEM.fullmatch(item):
                raise _NotQuick
            self.lines[f"{path}.{index}"] = line
            found.append(_typed_value(item) if item[0] in _RESOLVED_FIRST else item)
        return found


def _typed_value(value: str):
    """A plain scalar's value as `_Composer._scalar` constructs it (for one that starts with a character YAML 1.1
    may read as something other than text); _NotQuick for one it would refuse."""
    if value in _typed:
        return _typed[value]
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _STR_TAG:
        if len(_typed) < _MEMO_LIMIT:
            _typed[value] = value
        return value
    node = yaml.ScalarNode(tag, value, None, None, None)
    try:
        typed = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        raise _NotQuick from None
    if type(typed) not in (int, float, bool, type(None)) and not isinstance(typed, (dt.date, dt.datetime)):
        raise _NotQuick
    if len(_typed) < _MEMO_LIMIT:
        _typed[value] = typed
    return typed
