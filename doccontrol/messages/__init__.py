"""The message catalogue: every label a reader sees, per locale (`locale:` in doccontrol.yml).

One frozen dataclass per area (document facts, statuses, roles, marks, the site, Word, the pack,
controlled copies, redlines, the command line); `zh.py` and `en.py` each build one `Messages`
from them. A locale that misses a label, or has one too many, fails when the module is imported,
and code that asks for a label that does not exist fails type checking (and at once when run).
The tests add what the types cannot say: both locales use the same placeholders in each text,
English has no CJK character, and every label is used somewhere.

Texts with placeholders are `str.format` templates (`{count}`, `{company}` …). A text inserted
into HTML or Markdown is trusted code, but the values put into it are escaped by the caller.
Role identifiers (review, countersign, approve, release) and status identifiers (draft, review,
approved, effective, obsolete) are language-neutral; these labels are only for people.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Fields:
    """The facts of a document, as the site, Word, the register and the command line label them."""

    number: str
    title: str
    type: str
    type_short: str
    revision: str
    status: str
    department: str
    effective: str
    next_review: str
    next_review_short: str
    source: str
    source_short: str
    retention: str
    references: str
    clauses: str
    review_months: str
    orientation: str
    history: str
    date: str
    section: str
    change: str
    change_summary: str
    approved_by: str
    control_status: str
    withdrawn_on: str
    successor: str
    withdrawal_reason: str
    registered_by: str
    registered_on: str
    path: str
    not_signed: str
    whole_document: str
    page_of: str
    colon: str
    gap: str
    list_separator: str
    item_separator: str


@dataclass(frozen=True)
class Statuses:
    draft: str
    review: str
    approved: str
    effective: str
    obsolete: str


@dataclass(frozen=True)
class Roles:
    """The labels of the signing roles (and of 编制, the preparer), and what each signature means."""

    prepare: str
    review: str
    countersign: str
    approve: str
    release: str
    review_meaning: str
    countersign_meaning: str
    approve_meaning: str


@dataclass(frozen=True)
class Marks:
    """What a copy says about control, and the marks across the pages of a copy that is not the current one."""

    uncontrolled: str
    uncontrolled_note: str
    controlled: str
    copy: str
    draft: str
    pending: str
    obsolete: str
    redline: str
    unsigned: str


@dataclass(frozen=True)
class Site:
    site_name: str
    preview_name: str
    preview_title: str
    footer: str
    draft_label: str
    preview_notice: str
    controlled_label: str
    controlled_notice: str
    draft_banner: str
    print_notice: str
    printed_on: str
    print_uncontrolled: str
    document_facts: str
    key_fingerprint: str
    unsigned_block: str
    unsigned_site: str
    download_form: str
    references_count: str
    clauses_count: str
    not_published: str
    not_found_title: str
    not_found_text: str
    not_found_search: str
    search: str
    not_found_register: str
    not_found_withdrawn: str
    not_found_home: str
    home_link: str
    home: str
    register: str
    withdrawn: str
    clauses: str
    chapters: str
    blank_form: str
    scope: str
    scope_preview: str
    shelves: str
    shelf_count: str
    register_count: str
    withdrawn_count: str
    clauses_shelf: str
    recent: str
    no_recent: str
    upcoming: str
    upcoming_note: str
    first_issue: str
    reissue: str
    revision: str
    withdrawal: str
    grouped: str
    see_lists: str
    change: str
    replaced_by: str
    held_back_title: str
    held_back_text: str
    file: str
    reason: str
    what_to_do: str
    withdrawn_of_type: str
    withdrawn_intro: str
    withdrawn_heading: str
    withdrawn_line: str
    successor_line: str
    reason_line: str
    clauses_intro: str
    required: str
    not_covered: str
    clause: str
    requirement: str
    answering: str


@dataclass(frozen=True)
class Word:
    approvals: str
    signature: str
    time: str
    key_fingerprint: str
    unsigned: str
    stamp: str
    control_line: str
    contents: str
    notes: str
    description: str
    blank_suffix: str
    copy_suffix: str


@dataclass(frozen=True)
class Pack:
    register: str
    withdrawn: str
    matrix: str
    record: str
    redlines: str
    in_force_line: str
    in_force_table: str
    matrix_line: str
    unsigned: str
    held_back: str
    held_back_line: str
    clause: str
    standard: str
    clause_title: str
    required: str
    answering: str
    yes: str
    not_catalogued: str
    answering_document: str
    manifest_unsigned: str
    record_readme: str


@dataclass(frozen=True)
class Copies:
    register: str
    register_line: str
    serial: str
    copy_number: str
    holder: str
    issued: str
    returned: str
    disposal: str
    issued_by: str
    in_use: str
    to_recall: str
    destroyed: str
    retained: str
    lost: str


@dataclass(frozen=True)
class Redline:
    page_title: str
    summary: str
    notice_label: str
    notice: str
    current_link: str
    body_changes: str
    meta_changes: str
    legend: str
    underlined: str
    struck: str
    added: str
    deleted: str
    moved: str
    moved_from: str
    moved_to: str
    item: str
    before: str
    after: str
    unchanged: str
    none: str
    start_of_text: str
    section_added: str
    section_deleted: str
    section_moved_from: str
    section_moved_to: str
    heading_changed: str
    paragraph: str
    list_item: str
    table_row: str
    code: str
    heading: str
    moved_unit: str
    text_header: str
    metadata: str
    html_title: str
    prepared_line: str
    history_row: str
    revised_by: str
    removed_item: str
    added_item: str


@dataclass(frozen=True)
class Cli:
    number: str
    title: str
    department: str
    pending_title: str
    released_ahead: str
    unproven: str
    revision: str


@dataclass(frozen=True)
class Messages:
    """Every user-facing label of one locale."""

    locale: str
    language: str  # BCP 47, for HTML lang, Word's core properties and Material's UI language
    fields: Fields
    status: Statuses
    roles: Roles
    marks: Marks
    site: Site
    word: Word
    pack: Pack
    copies: Copies
    redline: Redline
    cli: Cli

    def status_label(self, status: str) -> str:
        """The label of a status identifier (draft, review, approved, effective, obsolete)."""
        return str(getattr(self.status, status))

    def role_label(self, role: str) -> str:
        """The label of a role identifier (review, countersign, approve, release)."""
        return str(getattr(self.roles, role)) if role in ROLE_IDS else role

    def role_meaning(self, role: str) -> str:
        """What a signature in this role attests, as the signer signs it."""
        return str(getattr(self.roles, f"{role}_meaning"))

    def mark_label(self, mark: str) -> str:
        """The label of a mark identifier (draft, pending, obsolete, redline) put across a copy's pages."""
        if mark not in MARK_IDS:
            raise ValueError(f"unknown mark {mark!r}")
        return str(getattr(self.marks, mark))

    def page_of(self) -> list[tuple[str, str | None]]:
        """'Page X of Y' as (text before, field) pieces, the field PAGE or NUMPAGES (None after the last)."""
        pieces: list[tuple[str, str | None]] = []
        text = self.fields.page_of
        for name, field in (("{page}", "PAGE"), ("{pages}", "NUMPAGES")):
            before, _, text = text.partition(name)
            pieces.append((before, field))
        return pieces + [(text, None)]

    def as_dict(self) -> dict:
        """The catalogue as plain nested dictionaries (for the site's templates)."""
        return dataclasses.asdict(self)


ROLE_IDS = ("review", "countersign", "approve", "release")
MARK_IDS = ("draft", "pending", "obsolete", "redline")
LOCALES = ("zh", "en")


def catalogue(locale: str) -> Messages:
    """The catalogue of a locale (zh or en)."""
    from . import en, zh

    found = {"zh": zh.MESSAGES, "en": en.MESSAGES}.get(locale)
    if found is None:
        raise ValueError(f"unknown locale {locale!r}; use one of {', '.join(LOCALES)}")
    return found


def role_synonyms() -> dict[str, str]:
    """Every label of every locale (and its lower-case form) for its role identifier: --role 审核, --role Review."""
    synonyms: dict[str, str] = {}
    for locale in LOCALES:
        messages = catalogue(locale)
        for role in ROLE_IDS:
            label = messages.role_label(role)
            synonyms[label] = synonyms[label.lower()] = role
    return synonyms
