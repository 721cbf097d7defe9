"""What every source kind hands to the plan: a source document, its lines, and notes about it.

A source document's text is kept as lines that remember the line of the source file they came
from, so that every conversion can say where in the source it looked.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import DoccontrolError

MAX_SOURCE_BYTES = 1024 * 1024
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CONVERTED, ATTENTION = "converted", "attention"


@dataclass(frozen=True)
class Line:
    """One line of a document's text and the line of the source file it came from (0: written by import)."""

    origin: int
    text: str


@dataclass(frozen=True)
class Note:
    """Something the plan tells the user about one source: a conversion made, or a thing to look at."""

    kind: str  # CONVERTED (counted by what) or ATTENTION (listed one by one)
    what: str
    line: int = 0


@dataclass
class SourceDoc:
    """One document found in a source, before it has a number."""

    shown: str  # how the plan names it (the path as the user gave it)
    path: Path  # the file read (a .md, or the .docx)
    root: Path  # the folder its links and images may point into
    kind: str  # markdown | mkdocs | docx
    lines: list[Line]
    meta: dict = field(default_factory=dict)  # another tool's front matter
    meta_problem: str = ""
    nav_title: str = ""
    groups: tuple[str, ...] = ()  # folder names or nav sections above it (for guessing its type)
    title_hint: str = ""  # a title the source gives outside the text (a Word file's title property)
    media: dict[str, bytes] = field(default_factory=dict)  # pictures the text names (a Word file's) → bytes
    notes: list[Note] = field(default_factory=list)
    original_text: str = ""  # the body as read, for the check that no word was lost

    def note(self, kind: str, what: str, line: int = 0) -> None:
        self.notes.append(Note(kind, what, line))

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def read_or_skip(read: Callable[[], SourceDoc], shown: str, skipped: list[str]) -> list[SourceDoc]:
    """A file found in a folder, read; one that cannot be read is listed as not imported (with why and how
    to fix it) so that the rest can still come in."""
    try:
        return [read()]
    except DoccontrolError as error:
        message = error.message if error.message.startswith(shown) else f"{shown}: {error.message}"
        skipped.append(f"{message}: not imported" + (f" ({error.fix})" if error.fix else ""))
        return []


def is_chinese(text: str) -> bool:
    """Whether a document reads as Chinese (labels and separators written by import follow it): more Han
    characters than half its Latin words, and at least two."""
    return len(CJK.findall(text)) >= max(2, len(LATIN_WORD.findall(text)) // 2)


def read_text_file(path: Path, shown: str, notes: list[Note]) -> str:
    """A source text file's text: UTF-8 (a BOM dropped) or GB18030, with LF line ends; refuses links and giants."""
    raw = read_regular_file(path, shown, MAX_SOURCE_BYTES)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise DoccontrolError(f"{shown} is neither UTF-8 nor GB18030 text",
                                  fix="save it as UTF-8, or leave it out of the import") from None
        notes.append(Note(CONVERTED, "text decoded from GB18030 (saved as UTF-8)"))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise DoccontrolError(f"{shown} contains NUL characters: it is not a text file",
                              fix="leave it out of the import")
    return text


def read_regular_file(path: Path, shown: str, limit: int) -> bytes:
    """The bytes of a plain file (never through a link, never a pipe), at most limit of them."""
    try:
        info = os.lstat(path)
    except OSError as error:
        raise DoccontrolError(f"{shown} cannot be read ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise DoccontrolError(f"{shown} is a symbolic link", fix="import the file it points to instead")
    if not stat.S_ISREG(info.st_mode):
        raise DoccontrolError(f"{shown} is not a regular file", fix="leave it out of the import")
    if info.st_size > limit:
        raise DoccontrolError(f"{shown} is larger than {limit // 1024} KiB",
                              fix="split it, or leave it out of the import")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError as error:
        raise DoccontrolError(f"{shown} cannot be read ({error.strerror})") from None


class _TolerantLoader(yaml.SafeLoader):
    """PyYAML's safe loader that reads any tag (`!!python/name:…`, `!ENV`) as the plain value under it."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node):
    """A date, or the text as written when it is no real date (2024-13-45)."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_TolerantLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_TolerantLoader.add_multi_constructor("!", _untagged)
_TolerantLoader.add_multi_constructor("tag:", _untagged)


def read_foreign_yaml(text: str):
    """Another tool's YAML (front matter, mkdocs.yml): safe, tags ignored; raises ValueError with a line."""
    try:
        return yaml.load(text, Loader=_TolerantLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ValueError(f"line {mark.line + 1 if mark else 1}: {error.problem or error}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as error:
        raise ValueError(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


FRONT_MATTER_END = ("---", "...")


def split_foreign_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, line of the body's first line in the file)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, text, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in FRONT_MATTER_END:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    return None, text, 1


def numbered_lines(text: str, first: int = 1) -> list[Line]:
    return [Line(first + offset, line) for offset, line in enumerate(text.split("\n"))]


WORD = re.compile(r"[A-Za-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]")
# Markup that carries no words of its own: HTML tags that Markdown can express, admonition and tab
# markers, link and image targets, reference definitions' targets.
_MARKUP = [
    re.compile(r"</?(?:br|b|strong|i|em|code|ul|ol|li|p|a|img|hr|u|span|div|sup|sub|table|thead|tbody|tr|td|th)"
               r"(?:\s[^<>]*)?/?>", re.IGNORECASE),
    re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s*[A-Za-z-]+", re.MULTILINE),
    re.compile(r"^\s*===[!+]?\s", re.MULTILINE),
    re.compile(r"\]\(\s*(?:<[^<>\n]*>|[^\s()]+)(?:\s+\"[^\"]*\")?\s*\)"),
    re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*\S+", re.MULTILINE),
    re.compile(r"(?:src|href|alt|title|id|name|class|style)\s*=\s*(\"[^\"]*\"|'[^']*')", re.IGNORECASE),
]


def words(text: str) -> Counter:
    """The words of a text (Latin words lower-cased, Han characters one by one), markup left out."""
    for pattern in _MARKUP:
        text = pattern.sub(" ", text)
    return Counter(word.lower() for word in WORD.findall(text))


def lost_words(before: str, after: str, allowed: Counter | None = None) -> list[str]:
    """Words of `before` that `after` does not hold (as often as before holds them)."""
    missing = words(before) - words(after) - (allowed or Counter())
    return sorted(missing.elements())


def parse_date(value) -> dt.date | None:
    """A date from another tool's metadata: a YAML date, or text such as 2024-03-01, 2024/3/1, 2024年3月1日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ].*)?\s*", value)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
