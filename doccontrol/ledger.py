"""The ledger: signed statements kept as content, one JSON line each. Parsing is pure.

    signatures/configuration.jsonl   every version of the controlled configuration (roster …)
    signatures/QP-SH-011.jsonl       every statement about one document, oldest first

A line is `{"statement": {…}, "signature": "-----BEGIN SSH SIGNATURE-----…"}` (no signature
under the `unsigned` policy). Files only grow: a line once written is never changed or removed,
and `verify` and the server guard prove that from the history. Because the record is content,
it survives what rewrites commits (a squash merge, a rebase, an export without .git).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass

from . import collector
from .model import Finding
from .statements import Statement, StatementError, parse_statement, statement_bytes

FOLDER = "signatures"
CONFIGURATION = "configuration"
SUFFIX = ".jsonl"
MAX_LINE_BYTES = 256 * 1024
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NESTING = 32  # a statement's objects and arrays, one in another; doccontrol's own go a few levels deep


def ledger_path(subject: str) -> str:
    """The ledger file of a document number, or of the configuration."""
    return f"{FOLDER}/{subject}{SUFFIX}"


def subject_of(path: str) -> str | None:
    """The document number (or "configuration") a ledger path is for; None for another file."""
    if not path.startswith(FOLDER + "/") or not path.endswith(SUFFIX) or path.count("/") != 1:
        return None
    return path[len(FOLDER) + 1:-len(SUFFIX)]


@dataclass(frozen=True)
class Entry:
    """One line of a ledger: a statement, its signature, and where it was read."""

    path: str
    line: int
    statement: Statement
    signature: str | None
    data: bytes  # the canonical bytes the signature covers
    raw: str = ""  # the line as it stands in the file (how the history finds where it came from)


@dataclass
class Ledger:
    """Every entry of one ledger file, and the lines that could not be read."""

    path: str
    entries: list[Entry]
    findings: list[Finding]


def to_line(statement: Statement, signature: str | None) -> str:
    record: dict = {"statement": json.loads(statement_bytes(statement))}
    if signature is not None:
        record["signature"] = signature
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_ledger(path: str, raw: bytes) -> Ledger:
    """Read a ledger file; a line that is not a well-formed entry is a finding, never an exception."""
    ledger = Ledger(path, [], [])
    if len(raw) > MAX_FILE_BYTES:
        ledger.findings.append(Finding(path, 1, "ledger-format",
                                       f"ledger file is larger than {MAX_FILE_BYTES >> 20} MiB",
                                       "restore it from the history; ledgers are written by doccontrol only"))
        return ledger
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        ledger.findings.append(Finding(path, raw[: error.start].count(b"\n") + 1, "ledger-format",
                                       "ledger file is not valid UTF-8", "restore it from the history"))
        return ledger
    if text and not text.endswith("\n"):
        ledger.findings.append(Finding(path, text.count("\n") + 1, "ledger-format", "the last line is incomplete",
                                       "restore the file from the history; ledgers are written by doccontrol only"))
        text = text[: text.rfind("\n") + 1]
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        entry = parse_line(path, number, line)
        if isinstance(entry, Finding):
            ledger.findings.append(entry)
        else:
            ledger.entries.append(entry)
    return ledger


def parse_line(path: str, number: int, line: str) -> Entry | Finding:
    def problem(message: str) -> Finding:
        return Finding(path, number, "ledger-format", message,
                       "ledger lines are written by doccontrol; restore this one from the history")

    if len(line.encode("utf-8")) > MAX_LINE_BYTES:
        return problem(f"line is longer than {MAX_LINE_BYTES >> 10} KiB")
    try:
        record = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        return problem(f"not a JSON line ({error})")
    if not isinstance(record, dict) or set(record) - {"statement", "signature"} or "statement" not in record:
        return problem('expected {"statement": {…}, "signature": "…"}')
    signature = record.get("signature")
    if signature is not None and not isinstance(signature, str):
        return problem("signature must be text")
    if _nested_deeper_than(record["statement"], MAX_NESTING):
        return problem(f"statement is nested more than {MAX_NESTING} levels deep")
    try:
        statement = parse_statement(record["statement"])
    except StatementError as error:
        return problem(f"statement is not valid: {error}")
    return Entry(path, number, statement, signature, statement_bytes(statement), line)


def _nested_deeper_than(value: object, limit: int) -> bool:
    """Whether a JSON value holds objects or arrays more than limit levels deep (found without recursion: every
    step after reading, canonical bytes and pickling alike, recurses, and must never meet Python's limit)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def packed(ledger: Ledger) -> bytes:
    """A parsed ledger as bytes, without what the file's bytes give back (the path, each entry's line text): what
    the ledger cache keeps, and what a worker process sends back. `unpacked` makes a fresh copy each time."""
    entries = tuple((entry.line, entry.statement, entry.signature, entry.data) for entry in ledger.entries)
    return pickle.dumps((entries, tuple(ledger.findings)), protocol=pickle.HIGHEST_PROTOCOL)


def parse_packed(item: tuple[str, bytes]) -> bytes:
    """`packed(parse_ledger(path, raw))` of a (path, raw) item."""
    return packed(parse_ledger(*item))


def unpacked(path: str, raw: bytes, stored: bytes) -> Ledger:
    """The ledger `packed` gave these bytes for, from the file's bytes it was parsed from."""
    with collector.paused():  # many objects at once, and none is garbage
        entries, findings = pickle.loads(stored)
    lines = raw.decode("utf-8").split("\n") if entries else []
    return Ledger(path, [Entry(path, line, statement, signature, data, lines[line - 1])
                         for line, statement, signature, data in entries], list(findings))


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed")
