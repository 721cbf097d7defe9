"""Reading controlled documents: from the working tree, or from texts read out of git.

The loader turns files into `Document`s and problems into findings; it never stops
at the first problem, and it never writes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from . import collector
from .config import Config
from .model import Document, Finding, HistoryRow, Part, Prepared
from .pictures import with_pictures, worktree_reader
from .schema import FrontMatter, describe_errors
from .signing import has_private_key
from .yamlread import YamlProblem, read_yaml

MAX_FILE_BYTES = 1024 * 1024
MANUAL_INDEX = "index.md"
# Anchored with \Z (not $, which also accepts a trailing newline) so that `.match` elsewhere stays exact.
# The shape of any number a configuration can make (a prefix of 1-6 letters, an optional department segment,
# 1-6 digits): discovery takes every file named so, and `check` then holds each number against its type's
# own pattern (Config.number_pattern), so that a wrong number is reported as such, not skipped.
NUMBER_SHAPE = r"[A-Z]{1,6}(?:-[A-Z]{1,6})?-[0-9]{1,6}"
FILE_NAME = re.compile(rf"(?P<number>{NUMBER_SHAPE})(?:[-_ ].*)?\.md\Z")
DIR_NAME = re.compile(rf"(?P<number>{NUMBER_SHAPE})(?:[-_ ].*)?\Z")
SYMLINK_MESSAGE = "symbolic links are not allowed in controlled folders"
# Never follow a link, never wait for a writer on a named pipe.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


@dataclass
class Source:
    """The files of one controlled document: its main file and, for a manual, its parts."""

    path: str
    parts: list[str] = field(default_factory=list)

    @property
    def main(self) -> str:
        return self.path


@dataclass
class LoadResult:
    documents: list[Document]
    findings: list[Finding]
    pictures: dict[str, bytes] = field(default_factory=dict)  # the bytes of the documents' pictures, by sha256


def number_in_name(name: str) -> str | None:
    """The document number a file or folder name starts with (full-width characters folded), if any."""
    folded = _fold(name)
    match = FILE_NAME.fullmatch(folded) or DIR_NAME.fullmatch(folded)
    return match.group("number") if match else None


def controlled_folders(config: Config) -> list[str]:
    return sorted({spec.folder for spec in config.types.values()})


def link_on_path(root: Path, rel: str) -> str | None:
    """The first part of the repository-relative path rel that is a symbolic link, if any."""
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        if os.path.islink(root / prefix):
            return prefix
    return None


def discover(config: Config) -> tuple[list[Source], list[Finding]]:
    """Every controlled document's files under the configured folders (repository-relative posix paths).

    Nothing is opened and no link is followed: a link, named pipe or other special file anywhere
    in a controlled folder is a finding, and a linked folder is never entered.
    """
    folders = controlled_folders(config)
    scanner = _Scanner(config.root, folders)
    for folder in folders:
        scanner.scan(folder)
    return scanner.sources, scanner.findings


@dataclass
class _Entries:
    """The entries of one folder by kind; links and special files are already reported."""

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class _Scanner:
    def __init__(self, root: Path, folders: list[str]):
        self.root = root
        self.folders = set(folders)
        self.sources: list[Source] = []
        self.findings: list[Finding] = []
        self._reported: set[str] = set()

    def scan(self, folder: str) -> None:
        link = link_on_path(self.root, folder)
        if link:
            self._report(_link_finding(self.root, link))
            return
        if not os.path.isdir(self.root / folder):
            return
        entries = self._list(folder)
        subfolders = set(self._subfolders(folder, entries))
        files = set(entries.files)
        for name in sorted(entries.files + entries.folders):
            rel = f"{folder}/{name}"
            if rel in subfolders:
                self._folder_in_controlled_folder(rel, name)
            elif name in files and name.endswith(".md"):
                self._markdown_file(rel, name)

    def _folder_in_controlled_folder(self, rel: str, name: str) -> None:
        if DIR_NAME.fullmatch(_fold(name)):
            self._document_folder(rel)
        else:
            self._sweep(rel)

    def _markdown_file(self, rel: str, name: str) -> None:
        if FILE_NAME.fullmatch(_fold(name)):
            self.sources.append(Source(rel))
        else:
            self._report(Finding(rel, 1, "file-name",
                                 "a Markdown file in a controlled folder must be named after its number",
                                 "rename it to NUMBER-标题.md (e.g. QP-SH-001-文件控制程序.md) or move it out"))

    def _document_folder(self, rel: str) -> None:
        """A multi-file document: index.md with the front matter, and the chapters beside it."""
        entries = self._list(rel)
        for sub in self._subfolders(rel, entries):
            self._sweep(sub)
        if MANUAL_INDEX in entries.files:
            parts = [f"{rel}/{name}" for name in entries.files if name != MANUAL_INDEX and name.endswith(".md")]
            self.sources.append(Source(f"{rel}/{MANUAL_INDEX}", parts))
        elif MANUAL_INDEX not in entries.refused:
            self._report(Finding(rel, 1, "file-name", f"document folder has no {MANUAL_INDEX}",
                                 f"add {rel}/{MANUAL_INDEX} with the document's front matter"))

    def _sweep(self, rel: str) -> None:
        """Report links and special files in a folder the loader does not read, and in its subfolders."""
        pending = [rel]
        while pending:
            folder = pending.pop()
            pending.extend(self._subfolders(folder, self._list(folder)))

    def _subfolders(self, rel: str, entries: _Entries) -> list[str]:
        """Real subfolders to look into: not hidden, and not a controlled folder scanned on its own."""
        paths = (f"{rel}/{name}" for name in entries.folders if not name.startswith("."))
        return [path for path in paths if path not in self.folders]

    def _list(self, rel: str) -> _Entries:
        entries = _Entries()
        try:
            with os.scandir(self.root / rel) as scan:
                found = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            self._report(Finding(rel, 1, "file-read", f"folder cannot be read ({error.strerror})",
                                 "give the user running doccontrol read access to it, or move it out"))
            return entries
        for entry in found:
            path = f"{rel}/{entry.name}"
            if entry.is_symlink():
                self._report(_link_finding(self.root, path))
                entries.refused.append(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                entries.folders.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                entries.files.append(entry.name)
            else:
                self._report(_special_file_finding(path, entry))
                entries.refused.append(entry.name)
        return entries

    def _report(self, finding: Finding) -> None:
        if finding.path not in self._reported:
            self._reported.add(finding.path)
            self.findings.append(finding)


def _link_finding(root: Path, rel: str) -> Finding:
    what = "folder" if os.path.isdir(root / rel) else "file"
    return Finding(rel, 1, "symlink", SYMLINK_MESSAGE, f"replace the link with the {what} itself")


def _special_file_finding(rel: str, entry: os.DirEntry) -> Finding:
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        mode = 0
    return Finding(rel, 1, "file-type", f"{_special_kind(mode)} is not a regular file",
                   "remove it or move it out of the controlled folder; controlled documents are plain files")


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "this entry"


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


def read_ledger_files(root: Path) -> tuple[dict[str, bytes], list[Finding]]:
    """The ledger files in the working tree (signatures/*.jsonl), read like controlled files: no link
    followed, no special file opened."""
    from .ledger import FOLDER, SUFFIX
    from .ledger import MAX_FILE_BYTES as LEDGER_LIMIT

    texts: dict[str, bytes] = {}
    findings: list[Finding] = []
    link = link_on_path(Path(root), FOLDER)
    if link:
        return texts, [_link_finding(Path(root), link)]
    try:
        with os.scandir(Path(root) / FOLDER) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except FileNotFoundError:
        return texts, findings
    except OSError as error:
        return texts, [Finding(FOLDER, 1, "file-read", f"folder cannot be read ({error.strerror})",
                               "give the user running doccontrol read access to it")]
    for entry in entries:
        rel = f"{FOLDER}/{entry.name}"
        if not entry.name.endswith(SUFFIX) or entry.name.startswith("."):
            continue
        if entry.is_symlink():
            findings.append(_link_finding(Path(root), rel))
            continue
        try:
            texts[rel] = _read_controlled_file(os.path.join(root, rel), LEDGER_LIMIT)
            if has_private_key(texts[rel]):
                findings.append(private_key_finding(rel))
        except _Unreadable as problem:
            findings.append(Finding(rel, 1, "file-read", f"file cannot be read: {problem}",
                                    "make it a plain file you can read, or restore it from the history"))
    return texts, findings


def private_key_finding(path: str) -> Finding:
    return Finding(path, 1, "private-key", "this file holds private key material; a private key never belongs in "
                   "the repository (anyone who can read it can sign as its owner)",
                   "remove it and purge it from the history (git filter-repo), treat the key as compromised, and "
                   "have a new key listed in an approved configuration version")


def load_worktree(config: Config, cache=None) -> LoadResult:
    """Read every controlled document in the working tree.

    With a `cache.ParseCache`, a document whose files' bytes are unchanged is taken from
    the cache instead of being parsed again; the result is the same either way.
    """
    sources, texts, findings = read_worktree(config)
    result = load_sources(sources, texts, cache)
    if cache is not None:
        cache.save()
    result.findings[:0] = findings
    result.documents = with_pictures(result.documents, worktree_reader(config.root), result.pictures)
    return result


def read_worktree(config: Config) -> tuple[list[Source], dict[str, bytes], list[Finding]]:
    """The controlled documents' files in the working tree, read but not parsed: the readable sources, the
    bytes of their files, and what could not be read."""
    sources, findings = discover(config)
    sources, texts = _read_sources(str(config.root), sources, findings)
    return sources, texts, findings


def load_sources(sources: list[Source], texts: dict[str, bytes], cache=None) -> LoadResult:
    """Parse these documents, taking each from the cache (if given) when its files' bytes are known.

    The cache is not saved here: the caller decides whether this load is the one to keep.
    """
    if cache is None:
        return load_texts(sources, texts)
    result = LoadResult([], [])
    with collector.paused():  # thousands of cached objects come back at once, and none is garbage
        for source in sources:
            key = cache.key([source.main, *source.parts], texts)
            one = cache.get(key, texts)
            if one is None:
                one = load_texts([source], texts)
                cache.put(key, one, texts)
            result.documents.extend(one.documents)
            result.findings.extend(one.findings)
    return result


def load_each(sources: list[Source], texts: dict[str, bytes]) -> dict[tuple, LoadResult]:
    """Parse each document on its own: its load result by its files' paths and blob ids (`cache.ParseCache.key`),
    in the order of sources."""
    from .cache import ParseCache

    results = load_many([(source, texts) for source in sources])
    return {ParseCache.key([source.main, *source.parts], texts): result for source, result in zip(sources, results)}


PARSES_PER_WORKER = 1000


def load_many(items: list[tuple[Source, dict[str, bytes]]]) -> list[LoadResult]:
    """Parse each document with its files' bytes, as `load_texts([source], texts)` would, in the items' order: in
    forked worker processes when there are thousands (a cold proof reads some 25,000 texts from the history),
    each document sent back without the texts this process already holds."""
    return Loading(items).result()


class Loading:
    """`load_many` started: the caller may do other work before it asks for the `result`."""

    def __init__(self, items: list[tuple[Source, dict[str, bytes]]]):
        from . import parallel

        self.items = items
        workers = parallel.worker_count(len(items), PARSES_PER_WORKER)
        self.shared = parallel.Shared(_load_slim, items, workers) if workers > 1 else None

    def abort(self) -> None:
        """Stop the workers, their work unfinished (the caller failed meanwhile)."""
        if self.shared is not None:
            self.shared.abort()
            self.shared = None

    def result(self) -> list[LoadResult]:
        from .cache import fill_document

        with collector.paused():  # thousands of parsed documents come back at once, and none is garbage
            results = self.shared.results() if self.shared is not None else None
        self.shared = None
        if results is None:
            return [load_texts([source], texts) for source, texts in self.items]
        for (_, texts), result in zip(self.items, results):
            for doc in result.documents:
                fill_document(doc, texts)
        return results


def _load_slim(item: tuple[Source, dict[str, bytes]]) -> LoadResult:
    from .cache import slim_document

    source, texts = item
    result = load_texts([source], texts)
    return LoadResult([slim_document(doc, texts) for doc in result.documents], result.findings)


class _Unreadable(Exception):
    """A controlled file that cannot be read; the message says why."""


def _read_sources(root: str, sources: list[Source], findings: list[Finding]) -> tuple[list[Source], dict[str, bytes]]:
    """The sources whose every file could be read, and those files' bytes; the rest become findings."""
    readable, texts = [], {}
    for source in sources:
        complete = True
        for path in [source.main, *source.parts]:
            try:
                texts[path] = _read_controlled_file(os.path.join(root, path))
                if has_private_key(texts[path]):
                    findings.append(private_key_finding(path))
            except _Unreadable as problem:
                findings.append(Finding(path, 1, "file-read", f"file cannot be read: {problem}",
                                        "make it a plain file you can read (chmod u+r), or move it out"))
                complete = False
        if complete:
            readable.append(source)
    return readable, texts


def _read_controlled_file(full: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, at most limit + 1 of them; raises _Unreadable.

    discover() has seen a regular file here, but the file may have been replaced since:
    opening does not follow a link or wait on a pipe, and fstat confirms what was opened.
    """
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except OSError as error:
        raise _Unreadable("it is a symbolic link" if error.errno == errno.ELOOP else error.strerror) from None
    try:
        with open(fd, "rb", buffering=0) as handle:  # readall: no 1 MiB buffer per small file
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise _Unreadable("it is not a regular file")
            if info.st_size <= limit:
                return handle.readall()
            return _read_at_most(handle, limit + 1)
    except OSError as error:
        raise _Unreadable(error.strerror) from None


def _read_at_most(handle, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = handle.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def load_texts(sources: list[Source], texts: dict[str, bytes]) -> LoadResult:
    """Parse documents whose file contents are given (from disk or from a git tree)."""
    documents, findings = [], []
    for source in sources:
        doc, problems = parse_source(source, texts)
        findings.extend(problems)
        if doc is not None:
            documents.append(doc)
    return LoadResult(documents, findings)


def parse_source(source: Source, texts: dict[str, bytes]) -> tuple[Document | None, list[Finding]]:
    findings: list[Finding] = []
    main_text = _decode(source.main, texts[source.main], findings)
    parts = []
    for part_path in source.parts:
        text = _decode(part_path, texts[part_path], findings)
        if text is None:
            continue
        if text.startswith("---"):
            findings.append(Finding(part_path, 1, "front-matter",
                                    "a chapter file of a multi-file document must not have front matter",
                                    f"keep the metadata only in {source.main}"))
        parts.append(Part(part_path, text))
    if main_text is None:
        return None, findings
    split = split_front_matter(source.main, main_text)
    if isinstance(split, Finding):
        return None, findings + [split]
    yaml_text, body, body_line = split
    try:
        parsed = read_yaml(yaml_text)
    except YamlProblem as problem:
        rows = yaml_text.split("\n")
        for index in range(1, min(problem.line, len(rows))):
            # A Markdown heading after a blank line: the closing --- is missing and a --- rule in the body closed it.
            if re.match(r"#{2,6}\s+\S", rows[index]) and not rows[index - 1].strip():
                return None, findings + [Finding(source.main, index + 2, "front-matter",
                                                 "front matter is not closed before the document text",
                                                 "add a line of --- after the metadata, before this line")]
        return None, findings + [Finding(source.main, problem.line + 1, "yaml", problem.message, problem.fix)]
    if not isinstance(parsed.data, dict):
        return None, findings + [Finding(source.main, 2, "yaml", "front matter must be a mapping of keys",
                                         "write one `key: value` per line")]
    try:
        meta = FrontMatter.model_validate(parsed.data)
    except ValidationError as error:
        findings.extend(Finding(source.main, line, "schema", message, fix)
                        for line, message, fix in describe_errors(error, parsed.lines, base_line=1))
        return None, findings
    key_lines = {key: line + 1 for key, line in parsed.lines.items()}
    return _document(source.main, meta, body, body_line, tuple(parts), key_lines), findings


def _decode(path: str, raw: bytes, findings: list[Finding]) -> str | None:
    if len(raw) > MAX_FILE_BYTES:
        findings.append(Finding(path, 1, "file-size", f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
                                "split the document, or move attachments out of the Markdown text"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        findings.append(Finding(path, 1, "encoding", "file starts with a UTF-8 byte-order mark (BOM)",
                                "save the file as UTF-8 without BOM"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        findings.append(Finding(path, line, "encoding", "file is not valid UTF-8 (GBK or another encoding?)",
                                "save the file as UTF-8"))
        return None
    if "\r" in text:
        line = text[: text.index("\r")].count("\n") + 1
        findings.append(Finding(path, line, "line-endings", "file has Windows (CRLF) or CR line endings",
                                "convert it to LF line endings (git config core.autocrlf input)"))
        return None
    if "\x00" in text:
        findings.append(Finding(path, text[: text.index("\x00")].count("\n") + 1, "encoding",
                                "file contains a NUL character", "remove it; controlled documents are plain text"))
        return None
    findings.extend(line_break_lookalikes(path, text))
    return text


# Characters that str.splitlines() reads as a line end (and str.rstrip() as space): the content fingerprint
# normalises text with them (model.normalise_text, which must not change: it would void every signature), while
# the site and Word break lines at \n only. Text that holds one would render differently from text with the same
# fingerprint, so a document may not hold them at all; a released text that does is never published.
LINE_BREAK_LOOKALIKES = re.compile("[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def line_break_lookalikes(path: str, text: str) -> Iterator[Finding]:
    """One finding per line holding a character that only some readers take for a line break."""
    seen: set[int] = set()
    for found in LINE_BREAK_LOOKALIKES.finditer(text):
        line = text.count("\n", 0, found.start()) + 1
        if line in seen:
            continue
        seen.add(line)
        char = found.group()
        name = unicodedata.name(char, "") or CONTROL_NAMES.get(char, "a control character")
        yield Finding(path, line, "line-break-character",
                      f"U+{ord(char):04X} {name}: the fingerprint reads it as a line break, but the site and the "
                      "Word copy do not, so what was approved and what is shown could differ",
                      "replace it with a line break, or remove it")


CONTROL_NAMES = {"\x0b": "LINE TABULATION", "\x0c": "FORM FEED", "\x1c": "FILE SEPARATOR",
                 "\x1d": "GROUP SEPARATOR", "\x1e": "RECORD SEPARATOR", "\x1f": "UNIT SEPARATOR",
                 "\x85": "NEXT LINE"}


def split_front_matter(path: str, text: str) -> tuple[str, str, int] | Finding:
    """Split `---` front matter from the body; body_line is the body's first line in the file."""
    if not text.strip():
        return Finding(path, 1, "front-matter", "file is empty", "start it from a template: doccontrol new TYPE 标题")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return Finding(path, 1, "front-matter", "file does not start with front matter (a line of ---)",
                       "begin the file with ---, the metadata, and another ---")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    return Finding(path, 1, "front-matter", "front matter is not closed",
                   "add a line of --- after the metadata")


def _document(path: str, meta: FrontMatter, body: str, body_line: int,
              parts: tuple[Part, ...], key_lines: dict[str, int]) -> Document:
    return Document(
        path=path,
        number=meta.number,
        title=meta.title,
        type=meta.type,
        department=meta.department,
        revision=meta.revision,
        status=meta.status,
        prepared=Prepared(meta.prepared.name, meta.prepared.date),
        body=body,
        history=tuple(HistoryRow(**row.model_dump()) for row in meta.history),
        effective=meta.effective,
        review_months=meta.review_months,
        next_review_date=meta.next_review,
        references=tuple(meta.references),
        clauses=tuple(meta.clauses),
        retention=meta.retention,
        orientation=meta.orientation,
        source=meta.source,
        superseded_by=meta.superseded_by,
        obsolete_reason=meta.obsolete_reason,
        parts=parts,
        body_line=body_line,
        key_lines=key_lines,
    )
