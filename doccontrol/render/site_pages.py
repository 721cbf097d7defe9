"""The generated pages of the controlled site: home, list pages, register, withdrawals, clauses.

Each page is Markdown with its tables written as HTML, so that every cell can carry the
class that keeps numbers, dates and names on one line. Every value from the repository
(titles, names, departments, reasons, the company) is HTML-escaped here; links are
relative to the page that holds them, because MkDocs does not rewrite links in HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from ..config import Config
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


def by_type(documents: list[Document]) -> list[tuple[str, list[Document]]]:
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.type, []).append(doc)
    return sorted(groups.items(), key=lambda item: TYPE_ORDER.get(item[0], 9))


def scope_line(config: Config, pub: Publication, count: int) -> str:
    if pub.preview:
        return f"{md_text(config.model.system)} · 草稿预览（含未批准文件，不是受控清单），共 {count} 份。"
    return f"{md_text(config.model.system)} · 截至 {pub.as_of.isoformat()} 现行有效的受控文件，共 {count} 份。"


# -- home --------------------------------------------------------------------------------------

def home_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    """What changed first (the last days' releases and withdrawals, what takes effect next), then the shelves."""
    lines = [f"# {md_text(config.company)}", "", scope_line(config, pub, len(documents)), ""]
    lines += [unsigned_note(pub), ""] if pub.unsigned else []
    lines += held_back_section(HOME, pub.held_back)
    lines += changes_section(pub, targets)
    lines += ["## 文件目录", "", '<ul class="dc-shelf">']
    for doc_type, docs in by_type(documents):
        lines.append(shelf(list_src(doc_type), config.type_label(doc_type), f"{len(docs)} 份"))
    lines.append(shelf(REGISTER, "受控文件清单", f"共 {len(documents)} 份"))
    if pub.withdrawn:
        lines.append(shelf(WITHDRAWN, "作废文件", f"{len(pub.withdrawn)} 份"))
    lines.append(shelf(CLAUSES, "条款对照", "标准与文件"))
    lines += ["</ul>", ""]
    return "\n".join(lines)


def shelf(src: str, label: str, count: str) -> str:
    return (f'<li><a href="{e(relative(HOME, page_url(src)))}"><span class="dc-shelf__label">{e(label)}</span>'
            f'<span class="dc-shelf__count">{e(count)}</span></a></li>')


# More releases than this on one day (a whole system issued at once) show as one line.
GROUP_ABOVE = 5


def changes_section(pub: Publication, targets: dict[str, Target]) -> list[str]:
    """The last RECENT_DAYS days' releases and withdrawals, and the revisions that are about to take effect."""
    since = pub.as_of - dt.timedelta(days=RECENT_DAYS)
    recent = [c for c in pub.changes if c.date > since]
    lines = ["## 最近变更", ""]
    if recent:
        lines += [change_table(recent, targets), ""]
    else:
        lines += [f"近 {RECENT_DAYS} 天内没有发布、换版或作废的文件。", ""]
    if pub.upcoming:
        lines += ["## 即将生效", "", "已批准、生效日期未到的修订；生效前仍执行现行版本。", "",
                  change_table(pub.upcoming, targets), ""]
    return lines


def change_kind(change: Change) -> str:
    if change.kind == "withdrawal":
        return "作废"
    if change.revision.endswith("/0"):
        return "首次发布" if change.revision == "A/0" else "换版"
    return "修订"


def change_table(changes: list[Change], targets: dict[str, Target]) -> str:
    """One row per change; more than GROUP_ABOVE releases of one kind on one day make one row."""
    groups: dict[tuple[dt.date, str], list[Change]] = {}
    for change in changes:
        groups.setdefault((change.date, change_kind(change)), []).append(change)
    rows = []
    for change in changes:
        group = groups[(change.date, change_kind(change))]
        if change.kind == "release" and len(group) > GROUP_ABOVE:
            if change is group[0]:
                rows.append([e(change.date.isoformat()), f"{len(group)} 份文件", "见各类文件清单",
                             e(change_kind(change))])
            continue
        rows.append(change_row(change, targets))
    return html_table(["日期", "文件编号", "文件名称", "变更"], rows,
                      ["dc-nowrap", "dc-nowrap", "dc-title-cell", "dc-nowrap"], "dc-list dc-changes")


def change_row(change: Change, targets: dict[str, Target]) -> list[str]:
    target = targets.get(change.number)
    number = doc_anchor(HOME, target) if target and change.kind == "release" else e(change.number)
    what = change_kind(change) + (f" {e(change.revision)}" if change.revision else "")
    if change.kind == "withdrawal" and change.superseded_by:
        successor = targets.get(change.superseded_by)
        what += "，由 " + (doc_anchor(HOME, successor) if successor else e(change.superseded_by)) + " 替代"
    title = change.title or (target.title if target else "—")
    return [e(change.date.isoformat()), number, e(title), what]


def unsigned_note(pub: Publication) -> str:
    return ('<p class="dc-unsigned" role="note"><strong>签名未经密钥验证</strong>：本站所列审核、批准签名'
            "只记录签署人，未用签署人的密钥核验。</p>")


def held_back_section(src: str, held_back: list[Finding]) -> list[str]:
    if not held_back:
        return []
    rows = [[e(f.path), e(f.message), e(f.fix)] for f in held_back]
    return ["## 未发布的文件", "",
            f"以下 {len(held_back)} 份文件的发布记录未通过核验，本站没有发布，"
            "仍以上一次核验通过的版本为准（如有）。", "",
            html_table(["文件", "原因", "处理办法"], rows, ["dc-nowrap", "", ""], "dc-list dc-held-back"), ""]


# -- list pages --------------------------------------------------------------------------------

def list_page(config: Config, doc_type: str, docs: list[Document], pub: Publication,
              targets: dict[str, Target]) -> str:
    src = list_src(doc_type)
    label = config.type_label(doc_type)
    lines = [f"# {md_text(label)}", "", scope_line(config, pub, len(docs)), ""]
    if doc_type == "external":
        headers = ["文件编号", "文件名称", "标准号/来源", "登记部门", "登记日期"]
        rows = [[doc_anchor(src, targets[d.number]), e(d.title), e(d.source or ""), e(d.department),
                 e(iso(d.effective))] for d in docs]
        classes = ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap"]
    else:
        headers = ["文件编号", "文件名称", "版本/修改码", "生效日期", "编制部门"]
        rows = [[doc_anchor(src, targets[d.number]), e(d.title), e(d.revision), e(iso(d.effective)), e(d.department)]
                for d in docs]
        classes = ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap"]
    lines += [html_table(headers, rows, classes, "dc-list"), ""]
    withdrawn = [c for c in pub.withdrawn if config.type_of_number(c.number) == doc_type]
    if withdrawn:
        lines += [f"本类已作废 {len(withdrawn)} 份，见[作废文件]({relative_md(WITHDRAWN)})。", ""]
    return "\n".join(lines)


def relative_md(src: str) -> str:
    return "/" + src


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


# -- register and withdrawals ------------------------------------------------------------------

def register_page(config: Config, pub: Publication, documents: list[Document], targets: dict[str, Target]) -> str:
    lines = ["# 受控文件清单", "", f"{md_text(config.company)} {scope_line(config, pub, len(documents))}", ""]
    lines += [unsigned_note(pub), ""] if pub.unsigned else []
    lines += held_back_section(REGISTER, pub.held_back)
    for doc_type, docs in by_type(documents):
        lines += [f"## {md_text(config.type_label(doc_type))} {{#tier-{doc_type}}}", ""]
        rows = []
        for doc, row in zip(docs, register_rows(config, docs)):
            version = f"{e(row.revision)}" if doc.type != "external" else e(doc.source or row.revision)
            rows.append([doc_anchor(REGISTER, targets[row.number]), e(row.title), version, e(row.status),
                         e(row.department), e(row.effective), e(row.next_review)])
        version_label = "标准号/来源" if doc_type == "external" else "版本/修改码"
        lines += [html_table(["文件编号", "文件名称", version_label, "状态", "编制部门", "生效日期", "下次评审日期"],
                             rows, ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap", "dc-nowrap",
                                    "dc-nowrap"], "dc-list dc-register"), ""]
    if pub.withdrawn:
        lines += ["## 作废文件 {#withdrawn}", "", withdrawn_table(REGISTER, pub.withdrawn, targets), ""]
    return "\n".join(lines)


def withdrawn_table(src: str, withdrawn: list[Change], targets: dict[str, Target]) -> str:
    rows = []
    for change in sorted(withdrawn, key=lambda c: c.number):
        successor = targets.get(change.superseded_by or "")
        shown = doc_anchor(src, successor) if successor else e(change.superseded_by or "—")
        rows.append([e(change.number), e(change.title or "—"), "作废", e(change.date.isoformat()), shown,
                     e(change.reason or "—")])
    return html_table(["文件编号", "文件名称", "状态", "作废日期", "替代文件", "作废原因"], rows,
                      ["dc-nowrap", "dc-title-cell", "dc-nowrap", "dc-nowrap", "dc-nowrap", ""], "dc-list dc-withdrawn")


def withdrawn_page(config: Config, pub: Publication, targets: dict[str, Target]) -> str:
    """One section per withdrawn document, so that searching its number finds its withdrawal."""
    lines = ["# 作废文件", "", f"已作废的文件不再使用，其编号不再分配给其他文件。截至 {pub.as_of.isoformat()} 共 "
             f"{len(pub.withdrawn)} 份。", ""]
    for change in sorted(pub.withdrawn, key=lambda c: c.number):
        title = f"{change.number} {change.title}".strip()
        lines += [f"## {md_text(title)}（已作废） {{#{change.number.lower()}}}", "",
                  f"{md_text(change.number)} 于 {change.date.isoformat()} 作废，不得再使用。"]
        if change.superseded_by:
            successor = targets.get(change.superseded_by)
            lines.append("替代文件：" + (doc_anchor(WITHDRAWN, successor, f"{successor.number} {successor.title}")
                                     if successor else md_text(change.superseded_by)) + "。")
        if change.reason:
            lines.append(f"作废原因：{md_text(change.reason)}")
        lines.append("")
    return "\n".join(lines)


# -- clause matrix -----------------------------------------------------------------------------

def clause_page(config: Config, documents: list[Document], targets: dict[str, Target]) -> str:
    answering: dict[str, list[Document]] = {}
    for doc in documents:
        for clause_id in doc.clauses:
            answering.setdefault(clause_id, []).append(doc)
    lines = ["# 条款对照", "", "标准条款（评价指标）与回应它的现行文件。标注“必须”的条款须至少有一份文件回应。", ""]
    standards: dict[str, list] = {}
    for clause in config.clauses.values():
        standards.setdefault(clause.standard, []).append(clause)
    for standard, clauses in standards.items():
        rows = []
        for clause in clauses:
            docs = answering.get(clause.id, [])
            requirement = e(clause.title) + (" （必须）" if clause.required else "")
            if docs:
                cell = "<br>".join(f"{doc_anchor(CLAUSES, targets[d.number])} {e(d.title)}" for d in docs)
            else:
                cell = '<span class="dc-gap">未覆盖</span>' if clause.required else "—"
            rows.append([e(clause.id), requirement, cell])
        lines += [f"## {md_text(standard)}", "",
                  html_table(["条款", "要求", "对应文件"], rows, ["dc-nowrap", "", ""], "dc-list dc-clauses"), ""]
    return "\n".join(lines)
