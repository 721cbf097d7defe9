"""Reading controlled documents: from the working tree, or from texts read out of git.

The loader turns files into `Document`s and problems into findings; it never stops
at the first problem, and it never writes.
"""

from __future__ import annotations

import gc
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .config import Config
from .model import Document, Finding, HistoryRow, Part, Prepared, Signature
from .schema import FrontMatter, describe_errors
from .yamlread import YamlProblem, read_yaml

MAX_FILE_BYTES = 1024 * 1024
MANUAL_INDEX = "index.md"
FILE_NAME = re.compile(r"^(?P<number>[A-Z]{2,4}-[A-Z]{1,4}-\d{1,6})(?:[-_ ].*)?\.md$")
DIR_NAME = re.compile(r"^(?P<number>[A-Z]{2,4}-[A-Z]{1,4}-\d{1,6})(?:[-_ ].*)?$")


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


def discover(config: Config) -> tuple[list[Source], list[Finding]]:
    """Every controlled document's files under the configured folders (repository-relative posix paths)."""
    root = config.root
    folders = sorted({spec.folder for spec in config.types.values()})
    sources: list[Source] = []
    findings: list[Finding] = []
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        nested = {f for f in folders if f != folder and f.startswith(folder + "/")}
        _scan_folder(root, folder, nested, sources, findings)
    return sources, findings


def _scan_folder(root: Path, folder: str, nested: set[str], sources: list[Source], findings: list[Finding]):
    with os.scandir(root / folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            rel = f"{folder}/{entry.name}"
            if entry.is_symlink():
                findings.append(Finding(rel, 1, "symlink", "symbolic links are not allowed in controlled folders",
                                        "replace the link with the file itself"))
            elif entry.is_dir():
                if rel in nested or entry.name.startswith("."):
                    continue
                if DIR_NAME.match(_fold(entry.name)):
                    _add_multi_file(root, rel, sources, findings)
            elif entry.name.endswith(".md"):
                if FILE_NAME.match(_fold(entry.name)):
                    sources.append(Source(rel))
                else:
                    findings.append(Finding(rel, 1, "file-name",
                                            "a Markdown file in a controlled folder must be named after its number",
                                            "rename it to NUMBER-标题.md (e.g. QP-SH-001-文件控制程序.md) or move it out"))


def _add_multi_file(root: Path, rel: str, sources: list[Source], findings: list[Finding]):
    directory = root / rel
    if not (directory / MANUAL_INDEX).is_file():
        findings.append(Finding(rel, 1, "file-name", f"document folder has no {MANUAL_INDEX}",
                                f"add {rel}/{MANUAL_INDEX} with the document's front matter"))
        return
    parts = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.name == MANUAL_INDEX or not entry.name.endswith(".md"):
            continue
        if entry.is_symlink():
            findings.append(Finding(f"{rel}/{entry.name}", 1, "symlink",
                                    "symbolic links are not allowed in controlled folders",
                                    "replace the link with the file itself"))
            continue
        parts.append(f"{rel}/{entry.name}")
    sources.append(Source(f"{rel}/{MANUAL_INDEX}", parts))


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


def load_worktree(config: Config, cache=None) -> LoadResult:
    """Read every controlled document in the working tree.

    With a `cache.ParseCache`, a document whose files' bytes are unchanged is taken from
    the cache instead of being parsed again; the result is the same either way.
    """
    sources, findings = discover(config)
    texts: dict[str, bytes] = {}
    root = str(config.root)
    for source in sources:
        for path in [source.main, *source.parts]:
            full = os.path.join(root, path)
            with open(full, "rb", buffering=0) as handle:  # readall: no 1 MiB buffer per small file
                small = os.fstat(handle.fileno()).st_size <= MAX_FILE_BYTES
                texts[path] = handle.readall() if small else None
            if texts[path] is None:
                texts[path] = _read_bytes(Path(full))
    if cache is None:
        result = load_texts(sources, texts)
    else:
        result = LoadResult([], [])
        collecting = gc.isenabled()
        gc.disable()  # thousands of cached objects come back at once, and none is garbage
        try:
            for source in sources:
                key = cache.key([source.main, *source.parts], texts)
                one = cache.get(key, texts)
                if one is None:
                    one = load_texts([source], texts)
                    cache.put(key, one, texts)
                result.documents.extend(one.documents)
                result.findings.extend(one.findings)
        finally:
            if collecting:
                gc.enable()
        cache.save()
    result.findings[:0] = findings
    return result


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


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
    return text


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
        approvals=tuple(Signature(**sig.model_dump()) for sig in meta.approvals),
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
