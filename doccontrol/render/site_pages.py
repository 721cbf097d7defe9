"""The generated pages of the controlled site: home, list pages, register, withdrawals, clauses.

Each page is Markdown with its tables written as HTML, so that every cell can carry the
class that keeps numbers, dates and names on one line. Every value from the repository
(titles, names, departments, reasons, the company) is HTML-escaped here; links are
relative to the page that holds them, because MkDocs does not rewrite links in HTML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass

from ..config import Config
from ..messages import Messages
from ..model import Document, Finding
from ..publication import Change, Publication
from ..register import TYPE_ORDER, register_rows

RECENT_DAYS = 30
HOME = "index.md"
REGISTER = "register.md"
WITHDRAWN = "withdrawn.md"
CLAUSES = "clauses.md"


@dataclass(frozen=True)
class Target:
    """Where a published document lives in the staged docs dir."""

    number: str
    title: str
    src: str

    @property
    def url(self) -> str:
        if self.src.endswith("/index.md"):
            return self.src[: -len("index.md")]
        return self.src[: -len(".md")] + "/"


def list_src(doc_type: str) -> str:
    """The staged list page of a document type (number, title, revision, effective date, department)."""
    return f"{doc_type}/index.md"


def page_url(src: str) -> str:
    if src == HOME:
        return ""
    if src.endswith("/index.md"):
        return src[: -len("index.md")]
    return src[: -len(".md")] + "/"


def relative(from_src: str, to_url: str) -> str:
    """A link from the page built from from_src to the site URL to_url (both inside the site)."""
    depth = page_url(from_src).count("/")
    return "../" * depth + to_url if (depth or to_url) else "./"


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Text for a Markdown line: shown literally, never read as HTML or Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>-])", r"\\\1", html.escape(text, quote=False))


def doc_anchor(from_src: str, target: Target, text: str | None = None) -> str:
    return (f'<a class="dc-ref" href="{e(relative(from_src, target.url))}" title="{e(target.title)}">'
            f"{e(text or target.number)}</a>")


def html_table(headers: list[str], rows: list[list[str]], classes: list[str], table_class: str) -> str:
    """A table whose cells are HTML already (escaped by the caller); classes apply per column."""
    head = "".join(f'<th class="{c}">{e(h)}</th>' for h, c in zip(headers, classes))
    body = "".join("<tr>" + "".join(f'<td class="{c}">{cell}</td>' for cell, c in zip(row, classes)) + "</tr>"
                   for row in rows)
    return (f'<div class="dc-table-box" tabindex="0"><table class="{table_class}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


# A table of a generated page standing alone on its line (what html_table writes, between blank lines).
TABLE_LINE = re.compile(r'(?<=\n\n)<div class="dc-table-box" tabindex="0"><table [^\n]*</table></div>(?=\n\n|\n?\Z)')


def lift_tables(text: str) -> tuple[str, dict[str, str]]:
    """The page with each table that html_table wrote replaced by a placeholder paragraph, and the tables by
    placeholder. The tables are HTML already, escaped and built here; put through Markdown, a register of
    thousands of rows is read twice by an HTML parser (MkDocs' anchor scan, Python-Markdown's raw HTML
    blocks) only to be passed on unchanged. The placeholder is the table's digest, so no text shown on the
    page can be one, and a changed table changes the page's Markdown (site_reuse keys pages on it)."""
    tables: dict[str, str] = {}

    def lifted(match: re.Match) -> str:
        token = "dctable" + hashlib.sha256(match.group(0).encode("utf-8")).hexdigest()
        tables[token] = match.group(0)
        return token

    return TABLE_LINE.sub(lifted, text), tables


def by_type(documents: list[Document]) -> list[tuple[str, list[Document]]]:
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.type, []).append(doc)
    return sorted(groups.items(), key=lambda item: TYPE_ORDER.get(item[0], 9))


def scope_line(config: Config, pub: Publication, count: int) -> str:
    site = config.messages.site
    if pub.preview:
        return site.scope_preview.format(system=md_text(config.model.system), count=count)
    return site.scope.format(system=md_text(config.model.system), as_of=pub.as_of.isoformat(), count=count)


# -- home --------------------------------------------------------------------------------------

def home_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    """What changed first (the last days' releases and withdrawals, what takes effect next), then the shelves."""
    labels = config.messages
    site = labels.site
    lines = [f"# {md_text(config.company)}", "", scope_line(config, pub, len(documents)), ""]
    lines += [unsigned_note(labels), ""] if pub.unsigned else []
    lines += held_back_section(HOME, pub.held_back, labels)
    lines += changes_section(pub, targets, labels)
    lines += [f"## {site.shelves}", "", '<ul class="dc-shelf">']
    for doc_type, docs in by_type(documents):
        lines.append(shelf(list_src(doc_type), config.type_label(doc_type), site.shelf_count.format(count=len(docs))))
    lines.append(shelf(REGISTER, site.register, site.register_count.format(count=len(documents))))
    if pub.withdrawn:
        lines.append(shelf(WITHDRAWN, site.withdrawn, site.withdrawn_count.format(count=len(pub.withdrawn))))
    lines.append(shelf(CLAUSES, site.clauses, site.clauses_shelf))
    lines += ["</ul>", ""]
    return "\n".join(lines)


def shelf(src: str, label: str, count: str) -> str:
    return (f'<li><a href="{e(relative(HOME, page_url(src)))}"><span class="dc-shelf__label">{e(label)}</span>'
            f'<span class="dc-shelf__count">{e(count)}</span></a></li>')


# More releases than this on one day (a whole system issued at once) show as one line.
GROUP_ABOVE = 5


def changes_section(pub: Publication, targets: dict[str, Target], labels: Messages) -> list[str]:
    """The last RECENT_DAYS days' releases and withdrawals, and the revisions that are about to take effect."""
    site = labels.site
    since = pub.as_of - dt.timedelta(days=RECENT_DAYS)
    recent = [c for c in pub.changes if c.date > since]
    lines = [f"## {site.recent}", ""]
    if recent:
        lines += [change_table(recent, targets, labels), ""]
    else:
        lines += [site.no_recent.format(days=RECENT_DAYS), ""]
    if pub.upcoming:
        lines += [f"## {site.upcoming}", "", site.upcoming_note, "",
                  change_table(pub.upcoming, targets, labels), ""]
    return lines


def change_kind(change: Change, labels: Messages) -> str:
    site = labels.site
    if change.kind == "withdrawal":
        return site.withdrawal
    if change.revision.endswith("/0"):
        return site.first_issue if change.revision == "A/0" else site.reissue
    return site.revision


def change_table(changes: list[Change], targets: dict[str, Target], labels: Messages) -> str:
    """One row per change; more than GROUP_ABOVE releases of one kind on one day make one row."""
    site, fields = labels.site, labels.fields
    groups: dict[tuple[dt.date, str], list[Change]] = {}
    for change in changes:
        groups.setdefault((change.date, change_kind(change, labels)), []).append(change)
    rows = []
    for change in changes:
        group = groups[(change.date, change_kind(change, labels))]
        if change.kind == "release" and len(group) > GROUP_ABOVE:
            if change is group[0]:
                rows.append([e(change.date.isoformat()), e(site.grouped.format(count=len(group))), e(site.see_lists),
                             e(change_kind(change, labels))])
            continue
        rows.append(change_row(change, targets, labels))
    return html_table([fields.date, fields.number, fields.title, site.change], rows,
                      ["dc-nowrap", "dc-nowrap", "dc-title-cell", "dc-nowrap"], "dc-list dc-changes")


def change_row(change: Change, targets: dict[str, Target], labels: Messages) -> list[str]:
    target = targets.get(change.number)
    number = doc_anchor(HOME, target) if target and change.kind == "release" else e(change.number)
    what = e(change_kind(change, labels)) + (f" {e(change.revision)}" if change.revision else "")
    if change.kind == "withdrawal" and change.superseded_by:
        successor = targets.get(change.superseded_by)
        what += e(labels.site.replaced_by).format(
            successor=doc_anchor(HOME, successor) if successor else e(change.superseded_by))
    title = change.title or (target.title if target else "—")
    return [e(change.date.isoformat()), number, e(title), what]


def unsigned_note(labels: Messages) -> str:
    return (f'<p class="dc-unsigned" role="note"><strong>{e(labels.marks.unsigned)}</strong>'
            f"{e(labels.site.unsigned_site)}</p>")


def held_back_section(src: str, held_back: list[Finding], labels: Messages) -> list[str]:
    if not held_back:
        return []
    site = labels.site
    rows = [[e(f.path), e(f.message), e(f.fix)] for f in held_back]
    return [f"## {site.held_back_title}", "", site.held_back_text.format(count=len(held_back)), "",
            html_table([site.file, site.reason, site.what_to_do], rows, ["dc-nowrap", "", ""], "dc-list dc-held-back"),
            ""]


# -- list pages --------------------------------------------------------------------------------

def list_page(config: Config, doc_type: str, docs: list[Document], pub: Publication,
              targets: dict[str, Target]) -> str:
    src = list_src(doc_type)
    label = config.type_label(doc_type)
    labels = config.messages
    fields = labels.fields
    lines = [f"# {md_text(label)}", "", scope_line(config, pub, len(docs)), ""]
    if doc_type == "external":
        headers = [fields.number, fields.title, fields.source, fields.registered_by, fields.registered_on]
        rows = [[doc_anchor(src, targets[d.number]), e(d.title), e(d.source or ""), e(d.department),
                 e(iso(d.effective))] for d in docs]
        classes = ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap"]
    else:
        headers = [fields.number, fields.title, fields.revision, fields.effective, fields.department]
        rows = [[doc_anchor(src, targets[d.number]), e(d.title), e(d.revision), e(iso(d.effective)), e(d.department)]
                for d in docs]
        classes = ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap"]
    lines += [html_table(headers, rows, classes, "dc-list"), ""]
    withdrawn = [c for c in pub.withdrawn if config.type_of_number(c.number) == doc_type]
    if withdrawn:
        lines += [labels.site.withdrawn_of_type.format(count=len(withdrawn), label=labels.site.withdrawn,
                                                       link=relative_md(WITHDRAWN)), ""]
    return "\n".join(lines)


def relative_md(src: str) -> str:
    return "/" + src


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


# -- register and withdrawals ------------------------------------------------------------------

def register_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    labels = config.messages
    fields = labels.fields
    lines = [f"# {labels.site.register}", "",
             f"{md_text(config.company)} {scope_line(config, pub, len(documents))}", ""]
    lines += [unsigned_note(labels), ""] if pub.unsigned else []
    lines += held_back_section(REGISTER, pub.held_back, labels)
    for doc_type, docs in by_type(documents):
        lines += [f"## {md_text(config.type_label(doc_type))} {{#tier-{doc_type}}}", ""]
        rows = []
        for doc, row in zip(docs, register_rows(config, docs)):
            version = f"{e(row.revision)}" if doc.type != "external" else e(doc.source or row.revision)
            rows.append([doc_anchor(REGISTER, targets[row.number]), e(row.title), version, e(row.status),
                         e(row.department), e(row.effective), e(row.next_review)])
        version_label = fields.source if doc_type == "external" else fields.revision
        lines += [html_table([fields.number, fields.title, version_label, fields.status, fields.department,
                              fields.effective, fields.next_review],
                             rows, ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap", "dc-nowrap",
                                    "dc-nowrap"], "dc-list dc-register"), ""]
    if pub.withdrawn:
        lines += [f"## {labels.site.withdrawn} {{#withdrawn}}", "",
                  withdrawn_table(REGISTER, pub.withdrawn, targets, labels), ""]
    return "\n".join(lines)


def withdrawn_table(src: str, withdrawn: list[Change], targets: dict[str, Target], labels: Messages) -> str:
    fields = labels.fields
    rows = []
    for change in sorted(withdrawn, key=lambda c: c.number):
        successor = targets.get(change.superseded_by or "")
        shown = doc_anchor(src, successor) if successor else e(change.superseded_by or "—")
        rows.append([e(change.number), e(change.title or "—"), e(labels.status.obsolete), e(change.date.isoformat()),
                     shown, e(change.reason or "—")])
    return html_table([fields.number, fields.title, fields.status, fields.withdrawn_on, fields.successor,
                       fields.withdrawal_reason], rows,
                      ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap", ""], "dc-list dc-withdrawn")


def withdrawn_page(config: Config, pub: Publication, targets: dict[str, Target]) -> str:
    """One section per withdrawn document, so that searching its number finds its withdrawal."""
    site = config.messages.site
    lines = [f"# {site.withdrawn}", "",
             site.withdrawn_intro.format(as_of=pub.as_of.isoformat(), count=len(pub.withdrawn)), ""]
    for change in sorted(pub.withdrawn, key=lambda c: c.number):
        title = f"{change.number} {change.title}".strip()
        lines += [f"## {site.withdrawn_heading.format(title=md_text(title))} {{#{change.number.lower()}}}", "",
                  site.withdrawn_line.format(number=md_text(change.number), date=change.date.isoformat())]
        if change.superseded_by:
            successor = targets.get(change.superseded_by)
            lines.append(site.successor_line.format(
                successor=doc_anchor(WITHDRAWN, successor, f"{successor.number} {successor.title}")
                if successor else md_text(change.superseded_by)))
        if change.reason:
            lines.append(site.reason_line.format(reason=md_text(change.reason)))
        lines.append("")
    return "\n".join(lines)


# -- clause matrix -----------------------------------------------------------------------------

def clause_page(config: Config, documents: list[Document], targets: dict[str, Target]) -> str:
    answering: dict[str, list[Document]] = {}
    for doc in documents:
        for clause_id in doc.clauses:
            answering.setdefault(clause_id, []).append(doc)
    site = config.messages.site
    lines = [f"# {site.clauses}", "", site.clauses_intro, ""]
    standards: dict[str, list] = {}
    for clause in config.clauses.values():
        standards.setdefault(clause.standard, []).append(clause)
    for standard, clauses in standards.items():
        rows = []
        for clause in clauses:
            docs = answering.get(clause.id, [])
            requirement = e(clause.title) + (e(site.required) if clause.required else "")
            if docs:
                cell = "<br>".join(f"{doc_anchor(CLAUSES, targets[d.number])} {e(d.title)}" for d in docs)
            else:
                cell = f'<span class="dc-gap">{e(site.not_covered)}</span>' if clause.required else "—"
            rows.append([e(clause.id), requirement, cell])
        lines += [f"## {md_text(standard)}", "",
                  html_table([site.clause, site.requirement, site.answering], rows, ["dc-nowrap", "", ""],
                             "dc-list dc-clauses"), ""]
    return "\n".join(lines)
