"""Validators: each looks at the loaded documents and yields findings; none writes anything."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from .config import Config
from .images import check_images
from .loader import FILE_NAME, MANUAL_INDEX
from .markdown_checks import check_markdown
from .model import ROLES, Document, Finding, Revision, RevisionError, Severity

WARN = Severity.WARNING


class FindingsMemo(Protocol):
    """What checks of one text found before, by a key naming the text (`cache.MemoCache` is one)."""

    def get(self, key: tuple) -> tuple | None: ...

    def put(self, key: tuple, value: tuple) -> None: ...


@dataclass
class Context:
    config: Config
    documents: list[Document]
    today: dt.date
    markdown_memo: FindingsMemo | None = None

    def __post_init__(self):
        self.by_number: dict[str, list[Document]] = defaultdict(list)
        for doc in self.documents:
            self.by_number[doc.number].append(doc)


Validator = Callable[[Context], Iterable[Finding]]


def validate(config: Config, documents: list[Document], today: dt.date | None = None,
             markdown_memo: FindingsMemo | None = None) -> list[Finding]:
    """Every finding of every validator (markdown_memo: what each text's Markdown checks found before)."""
    context = Context(config, documents, today or dt.date.today(), markdown_memo)
    findings: list[Finding] = []
    for validator in VALIDATORS:
        findings.extend(validator(context))
    return findings


def check_numbering(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.documents:
        line = doc.line_of("number")
        problem = _number_characters(doc.number)
        if problem:
            yield Finding(doc.path, line, "number-characters", f"number {doc.number!r} {problem[0]}", problem[1])
            continue
        if doc.type not in ctx.config.types:
            yield Finding(doc.path, doc.line_of("type"), "type-config",
                          f"type {doc.type} is not configured in doccontrol.yml",
                          "use one of the configured types (" + ", ".join(ctx.config.types) + "), or add it under "
                          "`types:`")
            continue
        if not ctx.config.number_pattern(doc.type).fullmatch(doc.number):
            example = ctx.config.format_number(doc.type, 1)
            yield Finding(doc.path, line, "number-pattern",
                          f"number {doc.number} does not match the {doc.type} numbering scheme (e.g. {example})",
                          "use `doccontrol new` to allocate a number, or correct the type")
            continue
        folder = ctx.config.folder_of(doc.type)
        directory = doc.path.rsplit("/", 2 if doc.path.endswith("/" + MANUAL_INDEX) else 1)[0]
        if directory != folder:
            yield Finding(doc.path, line, "number-folder",
                          f"a {doc.type} belongs in {folder}/, not {directory}/",
                          f"move the file to {folder}/")
        named = doc.path.split("/")[-2] if doc.path.endswith("/" + MANUAL_INDEX) else doc.path.split("/")[-1]
        match = FILE_NAME.fullmatch(named if named.endswith(".md") else named + ".md")
        folded = FILE_NAME.fullmatch(unicodedata.normalize("NFKC", named if named.endswith(".md") else named + ".md"))
        if (not match or match.group("number") != doc.number) and folded and folded.group("number") == doc.number:
            yield Finding(doc.path, line, "number-file-name",
                          "file name contains full-width or look-alike characters",
                          f"rename it to {doc.number}-{doc.title}" + ("" if doc.path.endswith(MANUAL_INDEX) else ".md")
                          + ", typed with ASCII letters, digits, - and spaces")
        elif not match or match.group("number") != doc.number:
            yield Finding(doc.path, line, "number-file-name",
                          f"file name does not start with the document's number {doc.number}",
                          f"rename it to {doc.number}-{doc.title}" + ("" if doc.path.endswith(MANUAL_INDEX) else ".md"))


_LOOKALIKES = str.maketrans({
    **dict(zip("АВСЕНІЈКМОРЅТХУ", "ABCEHIJKMOPSTXY")),  # Cyrillic
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),  # Greek
    **{dash: "-" for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc"},
})


def _ascii_number(text: str) -> str | None:
    """The ASCII number a look-alike text was meant to be (ＱＰ-ＳＨ-００１, QР-SH-001 with a Cyrillic Р), if clear."""
    out = []
    for char in unicodedata.normalize("NFKC", text).translate(_LOOKALIKES):
        if char.isascii():
            out.append(char)
        elif unicodedata.category(char) == "Nd":
            out.append(str(unicodedata.digit(char)))
        elif unicodedata.category(char) not in ("Cf", "Zs"):
            return None
    return "".join(out)


def _number_characters(number: str) -> tuple[str, str] | None:
    """What is wrong with the characters of a document number, and what to do; None when they are fine."""
    if re.fullmatch(r"[A-Za-z0-9-]+", number):
        return None
    if "\n" in number or "\r" in number:
        return "contains a line break", f"write it on one line, without | or >: {''.join(number.split())}"
    if any(char.isspace() for char in number) and re.fullmatch(r"[A-Za-z0-9-]+", "".join(number.split())):
        return "contains a space", f"remove the spaces: {''.join(number.split())}"
    suggestion = _ascii_number(number)
    if suggestion and re.fullmatch(r"[A-Za-z0-9-]+", suggestion):
        return "contains full-width or look-alike characters", f"type it with ASCII letters and digits: {suggestion}"
    return ("contains characters other than letters, digits and -",
            "retype it with ASCII letters A-Z, digits 0-9 and -")


def check_duplicates(ctx: Context) -> Iterator[Finding]:
    for number, docs in ctx.by_number.items():
        if len(docs) > 1:
            others = ", ".join(d.path for d in docs[1:])
            for doc in docs[:1]:
                yield Finding(doc.path, doc.line_of("number"), "number-duplicate",
                              f"number {number} is also used by {others}",
                              "give one of them a new number with `doccontrol new`; numbers are never shared")


def check_references(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.documents:
        for index, ref in enumerate(doc.references):
            line = doc.line_of(f"references.{index}")
            yield from _reference_findings(ctx, doc, ref, line, "in references")
        listed = set(doc.references)
        seen = set()
        for ref, line in doc.numbers_in_text(ctx.config.number_in_text):
            if ref == doc.number or ref in seen:
                continue
            seen.add(ref)
            path = doc.path
            part = _part_path_for_line(doc, ref)
            if part:
                path, line = part
            problems = list(_reference_findings(ctx, doc, ref, line, "in the text", path))
            yield from problems
            if not problems and ref not in listed:
                yield Finding(path, line, "reference-unlisted",
                              f"{ref} is cited in the text but not listed in references",
                              f"add {ref} to `references:`", WARN)
        if doc.superseded_by:
            yield from _reference_findings(ctx, doc, doc.superseded_by, doc.line_of("superseded_by"),
                                           "as superseded_by")


def _part_path_for_line(doc: Document, ref: str):
    if ref in doc.body:
        return None
    for part in doc.parts:
        for offset, line in enumerate(part.text.splitlines()):
            if ref in line:
                return part.path, offset + 1
    return None


def _reference_findings(ctx, doc, ref, line, where, path=None):
    path = path or doc.path
    targets = ctx.by_number.get(ref)
    problem = _number_characters(ref)
    if problem:
        yield Finding(path, line, "reference-characters", f"reference {ref!r} ({where}) {problem[0]}", problem[1])
    elif not targets:
        yield Finding(path, line, "reference-missing", f"{ref} ({where}) is not a document in this repository",
                      "correct the number, or create the document with `doccontrol new`")
    elif all(t.status == "obsolete" for t in targets) and doc.status != "obsolete":
        yield Finding(path, line, "reference-obsolete", f"{ref} ({where}) is obsolete (作废)",
                      "refer to the document that replaced it", WARN)


def check_effective_dates(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.documents:
        if doc.status == "effective" and doc.effective is None:
            yield Finding(doc.path, doc.line_of("status"), "effective-date-missing",
                          "status is effective but there is no effective date",
                          f"release it with `doccontrol release {doc.number}`")


def check_dates(ctx: Context) -> Iterator[Finding]:
    labels = ctx.config.messages
    order = [labels.roles.prepare, *(labels.role_label(role) for role in ROLES), labels.status.effective]
    for doc in ctx.documents:
        steps = [(order[0], doc.prepared.date, doc.line_of("prepared.date"))]
        for role in ROLES:
            sig = doc.signature(role)
            if sig:
                steps.append((labels.role_label(role), sig.at.date(), doc.line_of("prepared.date")))
        if doc.effective:
            steps.append((order[-1], doc.effective, doc.line_of("effective")))
        for (earlier, d1, _), (later, d2, line) in zip(steps, steps[1:]):
            if d2 < d1:
                yield Finding(doc.path, line, "date-order", f"{later} date {d2} is before {earlier} date {d1}",
                              f"dates must run {' ≤ '.join(order)}; correct the date or sign again")
        due = doc.next_review
        if doc.status == "effective" and due and due < ctx.today:
            yield Finding(doc.path, doc.line_of("effective"), "review-overdue",
                          f"periodic review was due on {due}", "review the document; revise it or confirm it", WARN)


def check_history(ctx: Context) -> Iterator[Finding]:
    max_mod = ctx.config.model.max_modification
    for doc in ctx.documents:
        rows = doc.history
        if not any(row.revision == doc.revision for row in rows):
            yield Finding(doc.path, doc.line_of("history"), "history-missing",
                          f"the revision record has no row for the current revision {doc.revision}",
                          f"add a history row for {doc.revision} (doccontrol revise does this)")
        previous = None
        for index, row in enumerate(rows):
            rev = Revision.parse(row.revision)
            if previous and not rev.follows(previous, max_modification=max_mod):
                yield Finding(doc.path, doc.line_of(f"history.{index}"), "revision-sequence",
                              f"revision {rev} does not follow {previous}", _next_revisions(previous, max_mod))
            previous = rev
        if previous and previous != doc.rev and any(row.revision == doc.revision for row in rows):
            yield Finding(doc.path, doc.line_of("revision"), "revision-sequence",
                          f"revision {doc.revision} is not the last row of the revision record ({previous})",
                          "keep the revision record in order, newest last")


def _next_revisions(previous: Revision, max_mod: int) -> str:
    successors: list[Revision | None] = []
    for reissue in (False, True):
        try:
            successors.append(previous.next(major=reissue, max_modification=max_mod))
        except RevisionError:
            successors.append(None)
    minor, major = successors
    if minor is None:
        return f"{previous} is the last revision there is; give the document a new number with `doccontrol new`"
    if major is None:
        return f"the next revision after {previous} is {minor} ({previous.letter} is the last version letter)"
    if minor == major:
        return f"the next revision after {previous} is {major} (a re-issue)"
    return f"the next revision after {previous} is {minor} (or {major} for a re-issue)"


def check_type_fields(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.documents:
        if doc.type == "form" and not doc.retention:
            yield Finding(doc.path, doc.line_of("type"), "retention-missing", "a form needs a retention period",
                          "add `retention: 3年` (保存期限)")
        if doc.type != "form" and (doc.retention or doc.orientation):
            yield Finding(doc.path, doc.line_of("retention" if doc.retention else "orientation"), "form-only",
                          "retention and orientation apply only to forms", "remove the key")
        if doc.type == "external" and not doc.source:
            yield Finding(doc.path, doc.line_of("type"), "source-missing",
                          "an external document needs `source:` (standard number or issuing body)",
                          "add `source: GB/T 27922-2011`")
        if doc.status == "obsolete" and not doc.obsolete_reason:
            yield Finding(doc.path, doc.line_of("status"), "obsolete-reason",
                          "an obsolete document needs obsolete_reason", "use `doccontrol obsolete ID --reason …`")


def check_text_fields(ctx: Context) -> Iterator[Finding]:
    """Titles and names appear in the site, the Word files and file names: one line of plain text."""
    for doc in ctx.documents:
        for key, value in (("title", doc.title), ("department", doc.department), ("prepared.name", doc.prepared.name)):
            line = doc.line_of(key)
            if not value.strip():
                yield Finding(doc.path, line, "text-blank", f"{key} is blank", f"write the {key} in words")
            elif any(char in value for char in "\n\r\u2028\u2029"):
                yield Finding(doc.path, line, "text-line-break", f"{key} contains a line break",
                              f"write the {key} on one line, without | or >")
            elif any(unicodedata.category(char) in ("Cc", "Cf") for char in value):
                yield Finding(doc.path, line, "text-invisible", f"{key} contains an invisible control character",
                              f"retype the {key}")
            elif "<" in value or ">" in value:
                yield Finding(doc.path, line, "text-html", f"{key} contains < or >, which would be read as HTML",
                              "remove them; use 《》 around the titles of books and standards")


def check_clauses(ctx: Context) -> Iterator[Finding]:
    covered = set()
    for doc in ctx.documents:
        for index, clause in enumerate(doc.clauses):
            if clause not in ctx.config.clauses:
                yield Finding(doc.path, doc.line_of(f"clauses.{index}"), "clause-unknown",
                              f"clause {clause} is not in the clause catalogue",
                              f"correct it, or add it to {ctx.config.model.clause_catalogue}")
            elif doc.status != "obsolete":
                covered.add(clause)
    # coverage means something once there are documents
    for listed in ctx.config.clauses.values() if ctx.documents else ():
        if listed.required and listed.id not in covered:
            yield Finding(ctx.config.model.clause_catalogue, 1, "clause-uncovered",
                          f"required clause {listed.id} ({listed.title}) is answered by no document",
                          "list it in the `clauses:` of the document that answers it", WARN)


VALIDATORS: list[Validator] = [
    check_numbering,
    check_duplicates,
    check_references,
    check_effective_dates,
    check_dates,
    check_history,
    check_type_fields,
    check_clauses,
    check_markdown,
    check_text_fields,
    check_images,
]
