"""The bad-input corpus: every way a user can hand doccontrol a broken file.

Each case plants files into a fresh repository made by conftest.init_repo (a procedure
QP-SH-001, a form QR-SH-001 and a manual QM-SH-01, all valid) and names the finding the
user must see: the exact `path:line` and a fragment of the message or its fix.

Most cases add one new procedure, BASE at DOC, so that nothing else in the repository
is disturbed; its lines are:

     1 ---                        11 review_months: 12          21
     2 number: QP-SH-002          12 references: []             22 ## 1 目的
     3 title: 投诉回访程序          13 clauses: []                23
     4 type: procedure            14 history:                   24 结案后 7 日内回访客户。
     5 department: 质量部          15   - revision: A/0          25
     6 revision: A/0              16     date: 2026-11-16        26 ## 2 范围
     7 status: review             17     section: 全文
     8 prepared:                  18     summary: 首次发布
     9   name: 孙小雨              19     by: 孙小雨
    10   date: 2026-11-16         20 ---
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conftest import CLAUSES, CONFIG, FORM, MANUAL_PART, front

DOC = "procedures/QP-SH-002-投诉回访程序.md"
BODY = "\n## 1 目的\n\n结案后 7 日内回访客户。\n\n## 2 范围\n\n适用于已结案的投诉。\n"
BASE = front("QP-SH-002", "投诉回访程序", "procedure") + BODY
BODY_END = BASE.count("\n") + 1  # the line an appended body line lands on
MANUAL_DIR = "docs/QM-SH-01-售后服务手册"
PART = f"{MANUAL_DIR}/01-颁布令.md"
CFG = "doccontrol.yml"
CAT = "clauses.yml"
OUTSIDE = "{outside}"  # replaced by an existing folder outside the repository


@dataclass(frozen=True)
class Link:
    """A symbolic link to plant instead of a file; `{outside}` names a folder outside the repo."""

    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe to plant instead of a file: opening it for reading would wait for a writer forever."""


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, object]  # path -> str (UTF-8) | bytes | Link | Fifo
    where: str  # the exact "path:line" the finding must start with
    says: str  # a fragment of the finding (message or fix) the user must see
    tags: tuple[str, ...] = field(default=())


def sub(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def body(*lines: str, text: str = BASE) -> str:
    """BASE with lines appended to its body; the first lands on line BODY_END."""
    return text + "".join(line + "\n" for line in lines)


CASES: list[Case] = []


def case(id: str, files, where: str, says: str, *tags: str) -> None:
    if isinstance(files, (str, bytes, Link, Fifo)):
        files = {DOC: files}
    if where.isdigit():
        where = f"{DOC}:{where}"
    CASES.append(Case(id, files, where, says, tags))


# -- malformed YAML --------------------------------------------------------------------------

case("yaml-unclosed-double-quote", sub("title: 投诉回访程序", 'title: "投诉回访程序'), "3", "close the quotation mark")
case("yaml-unclosed-single-quote", sub("title: 投诉回访程序", "title: '投诉回访程序"), "3", "close the quotation mark")
case("yaml-unclosed-quote-in-history", sub("summary: 首次发布", 'summary: "首次发布'), "18", "close the quotation mark")
case("yaml-unclosed-flow-list", sub("references: []", "references: [QR-SH-001"), "12", "close the bracket with ]")
case("yaml-unclosed-flow-mapping", sub("prepared:\n  name: 孙小雨\n  date: 2026-11-16",
                                       "prepared: {name: 孙小雨, date: 2026-11-16"), "8", "close the bracket")
case("yaml-indented-key", sub("title: 投诉回访程序", "  title: 投诉回访程序"), "3", "indentation")
case("yaml-nested-key-dedented", sub("  date: 2026-11-16\nreview", " date: 2026-11-16\nreview"), "10", "indentation")
case("yaml-history-row-misaligned", sub("    section: 全文", "   section: 全文"), "17", "indentation")
case("yaml-over-indented-key", sub("    section: 全文", "      section: 全文"), "17", "check the indentation")
case("yaml-tab-indentation", sub("  name: 孙小雨", "\tname: 孙小雨"), "9", "replace tabs with spaces")
case("yaml-tab-in-value", sub("title: 投诉回访程序", "title: 投诉\t回访程序"), "3", "replace tabs with spaces")
case("yaml-duplicate-key", sub("type: procedure", "type: procedure\ntitle: 回访程序"), "5", "duplicate key 'title'")
case("yaml-duplicate-nested-key", sub("  name: 孙小雨", "  name: 孙小雨\n  name: 林慧"), "10", "duplicate key 'name'")
case("yaml-duplicate-key-in-history", sub("    by: 孙小雨", "    by: 孙小雨\n    date: 2026-11-17"), "20",
     "keep one of the two entries")
case("yaml-colon-in-value", sub("title: 投诉回访程序", "title: 投诉: 回访程序"), "3", "quote a value that contains ': '")
case("yaml-fullwidth-colon", sub("title: 投诉回访程序", "title：投诉回访程序"), "3", "ASCII colon")
case("yaml-key-without-value", sub("title: 投诉回访程序", "title 投诉回访程序"), "3", "key: value")
case("yaml-stray-list-item", sub("status: review", "- status: review"), "7", "indentation")
case("yaml-front-matter-is-a-list", "---\n- QP-SH-002\n- 投诉回访程序\n---\n" + BODY, "2", "must be a mapping of keys")
case("yaml-front-matter-is-text", "---\n投诉回访程序\n---\n" + BODY, "2", "must be a mapping of keys")
case("yaml-unknown-escape", sub("title: 投诉回访程序", 'title: "投诉\\q回访"'), "3", "use single quotes")
case("yaml-directive", sub("number: QP-SH-002", "%YAML 1.1\nnumber: QP-SH-002"), "2", "remove the % line")
case("yaml-complex-key", sub("status: review", "? [status]\n: review"), "7", "a key must be plain text")
case("yaml-number-key", sub("status: review", "status: review\n2026: 年度"), "8", 'quote the key: "2026":')
case("yaml-null-key", sub("status: review", "status: review\n~: 空"), "8", "is not read as text")
case("yaml-double-comma", sub("references: []", "references: [QR-SH-001,, QP-SH-001]"), "12", "YAML syntax error")
case("yaml-control-character", sub("title: 投诉回访程序", "title: 投诉\x07回访程序"), "3", "control character (U+0007)")
case("yaml-byte-order-mark-inside", sub("title: 投诉回访程序", "title: 投诉\ufeff回访程序"), "3", "byte-order mark")
case("yaml-line-separator", sub("title: 投诉回访程序", "title: 投诉\u2028回访程序"), "3", "U+2028")
case("yaml-next-line-character", sub("title: 投诉回访程序", "title: 投诉\x85回访程序"), "3", "U+0085")
case("yaml-tag-python", sub("title: 投诉回访程序", "title: !!python/object/apply:os.system [id]"), "3",
     "YAML tags (!!python/object/apply:os.system) are not allowed")
case("yaml-tag-binary", sub("title: 投诉回访程序", "title: !!binary 5oqV6K+J"), "3", "remove the tag")
case("yaml-tag-custom", sub("title: 投诉回访程序", "title: !include 标题.txt"), "3", "YAML tags (!include)")
case("yaml-tag-set", sub("references: []", "references: !!set {QR-SH-001}"), "12", "YAML tags (!!set)")
case("yaml-deep-nesting", sub("references: []", "references: " + "[" * 200_000 + "]" * 200_000), "12",
     "nested more than 16 levels")
case("yaml-too-many-values", sub("references: []", "references: [" + ", ".join(["QR-SH-001"] * 6000) + "]"), "12",
     "more than 5000 values")
case("yaml-second-document", sub("status: review", "status: review\n--- !!map"), "8", "holds a second document")

# -- front matter ----------------------------------------------------------------------------

case("front-matter-missing", "# 投诉回访程序\n\n结案后回访客户。\n", "1", "does not start with front matter")
case("front-matter-after-blank-line", "\n" + BASE, "1", "begin the file with ---")
case("front-matter-indented-opening", " " + BASE, "1", "does not start with front matter")
case("front-matter-typo-opening", sub("---\nnumber", "--\nnumber"), "1", "does not start with front matter")
case("front-matter-not-closed", "---\nnumber: QP-SH-002\ntitle: 投诉回访程序\n", "1", "front matter is not closed")
case("front-matter-closing-typo", sub("---\n\n## 1", "--\n\n## 1"), "1", "add a line of --- after the metadata")
case("front-matter-only-opening", "---\n", "1", "front matter is not closed")
case("front-matter-closed-by-rule-in-body", sub("---\n\n## 1", "\n## 1").replace("适用于已结案的投诉。",
     "适用于已结案的投诉。\n\n---\n"), "21", "add a line of --- after the metadata, before this line")
case("front-matter-empty", "---\n---\n" + BODY, "2", "number: required key is missing")
case("front-matter-only-comments", "---\n# 待填写\n---\n" + BODY, "2", "add `title:` to the front matter")
case("front-matter-in-manual-part", {PART: BASE}, f"{PART}:1", "must not have front matter")
case("manual-folder-without-index", {"docs/QM-SH-02-质量手册/01-范围.md": MANUAL_PART},
     "docs/QM-SH-02-质量手册:1", "document folder has no index.md")

# -- empty files -----------------------------------------------------------------------------

case("empty-file", "", "1", "file is empty")
case("empty-file-newlines", "\n\n\n", "1", "start it from a template")
case("empty-file-spaces", "   \n \n", "1", "file is empty")
case("empty-manual-index", {f"{MANUAL_DIR}/index.md": ""}, f"{MANUAL_DIR}/index.md:1", "file is empty")
case("empty-front-matter-no-body", "---\n---\n", "2", "type: required key is missing")

# -- encodings and line ends -------------------------------------------------------------------

case("bom-document", b"\xef\xbb\xbf" + BASE.encode(), "1", "byte-order mark (BOM)")
case("bom-manual-part", {PART: b"\xef\xbb\xbf" + MANUAL_PART.encode()}, f"{PART}:1", "UTF-8 without BOM")
case("bom-config", {CFG: b"\xef\xbb\xbf" + CONFIG.encode()}, f"{CFG}:1", "without BOM")
case("bom-clauses", {CAT: b"\xef\xbb\xbf" + CLAUSES.encode()}, f"{CAT}:1", "without BOM")
case("crlf-whole-file", BASE.replace("\n", "\r\n"), "1", "CRLF")
case("crlf-one-line", sub("clauses: []\n", "clauses: []\r\n"), "13", "convert it to LF line endings")
case("crlf-in-body", body("回访记录见 QR-SH-001。\r"), str(BODY_END), "CRLF")
case("cr-only-line-ends", BASE.replace("\n", "\r"), "1", "CR line endings")
case("crlf-manual-part", {PART: MANUAL_PART.replace("\n", "\r\n")}, f"{PART}:1", "LF line endings")
case("gbk-encoded", BASE.encode("gbk"), "3", "not valid UTF-8 (GBK")
case("gbk-in-body-only", BASE.encode() + "回访记录。\n".encode("gbk"), str(BODY_END), "save the file as UTF-8")
case("latin1-byte", sub("title: 投诉回访程序", "title: Café").encode().replace("é".encode(), b"\xe9"), "3",
     "not valid UTF-8")
case("utf16-file", BASE.encode("utf-16"), "1", "not valid UTF-8")
case("truncated-utf8-at-end", BASE.encode() + "回".encode()[:2], str(BODY_END), "not valid UTF-8")
case("encoded-surrogate", BASE.encode() + b"\xed\xa0\x80\n", str(BODY_END), "not valid UTF-8")
case("nul-byte", body("回访\x00记录"), str(BODY_END), "NUL character")
case("gbk-manual-part", {PART: MANUAL_PART.encode("gbk")}, f"{PART}:1", "not valid UTF-8")
case("gbk-config", {CFG: CONFIG.encode("gbk")}, f"{CFG}:1", "save it as UTF-8")
case("gbk-clauses", {CAT: CLAUSES.encode("gbk")}, f"{CAT}:2", "save it as UTF-8")

# -- YAML 1.1 traps --------------------------------------------------------------------------

case("trap-on-key", sub("status: review", "status: review\non: 发布"), "8", "YAML 1.1 reads on/off/yes/no")
case("trap-yes-key", sub("status: review", "status: review\nyes: 1"), "8", 'quote the key: "yes":')
case("trap-status-NO", sub("status: review", "status: NO"), "7", "False (YAML reads yes/no/on/off as true/false)")
case("trap-title-no", sub("title: 投诉回访程序", "title: no"), "3", 'quote the value so it stays text')
case("trap-department-on", sub("department: 质量部", "department: on"), "5", "got True")
case("trap-revision-03", sub("revision: A/0\nstatus", "revision: 03\nstatus"), "6", "got the number 3")
case("trap-revision-010", sub("revision: A/0\nstatus", "revision: 010\nstatus"), "6", "got the number 8")
case("trap-number-010", sub("number: QP-SH-002", "number: 010"), "2", 'quote the value so it stays text')
case("trap-title-float", sub("title: 投诉回访程序", "title: 1.10"), "3", "got the number 1.1")
case("trap-title-date", sub("title: 投诉回访程序", "title: 2026-11-16"), "3", "quote the value")
case("trap-title-sexagesimal", sub("title: 投诉回访程序", "title: 1:30"), "3", "got the number 90")
case("trap-title-null", sub("title: 投诉回访程序", "title: null"), "3", "write a value after `title:`")
case("trap-title-tilde", sub("title: 投诉回访程序", "title: ~"), "3", "title: the value is empty")
case("trap-title-empty", sub("title: 投诉回访程序", "title:"), "3", "the value is empty")
case("trap-summary-number", sub("summary: 首次发布", "summary: 2026"), "18", "history.0.summary: expected text")
case("trap-section-OFF", sub("section: 全文", "section: OFF"), "17", "YAML reads yes/no/on/off")
case("trap-review-months-quoted", sub("review_months: 12", 'review_months: "12"'), "11",
     "write a whole number without quotes")
case("trap-by-yes", sub("    by: 孙小雨", "    by: Yes"), "19", "history.0.by: expected text, got True")

# -- anchors and aliases -----------------------------------------------------------------------

case("anchor-on-value", sub("department: 质量部", "department: &dept 质量部"), "5", "anchors and aliases")
case("alias-to-value", sub("department: 质量部", "department: &dept 质量部").replace("    by: 孙小雨", "    by: *dept"),
     "5", "write the value out in full")
case("anchor-on-mapping", sub("prepared:\n", "prepared: &who\n"), "8", "anchors and aliases (& and *)")
case("alias-expansion-bomb", sub("clauses: []", "clauses: []\n" + "\n".join(
    [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 9) + "]" for i in range(9)])), "14",
    "anchors and aliases")
case("merge-key", sub("  date: 2026-11-16\nreview", "  date: 2026-11-16\n  <<: {name: 林慧}\nreview"), "11",
     "merge keys (<<) are not allowed")
case("anchor-on-key", sub("title: 投诉回访程序", "&t title: 投诉回访程序"), "3", "anchors and aliases")
case("alias-in-config", {CFG: CONFIG.replace("rights: {review: [manual, procedure, form, external], approve: [manual",
                                             "rights: &all {review: [manual, procedure, form, external], approve: "
                                             "[manual", 1)},
     f"{CFG}:15", "anchors and aliases")

# -- oversized files and values ----------------------------------------------------------------

case("oversized-file", body("回访" * 300_000), "1", "larger than 1024 KiB")
case("oversized-manual-part", {PART: MANUAL_PART + "颁布" * 300_000}, f"{PART}:1", "split the document")
case("oversized-title", sub("title: 投诉回访程序", "title: " + "投" * 201), "3", "title: too long")
case("oversized-summary", sub("summary: 首次发布", "summary: " + "发" * 2001), "18", "shorten it")
case("oversized-number", sub("number: QP-SH-002", "number: QP-SH-" + "0" * 40), "2", "number: too long")
case("oversized-integer", sub("review_months: 12", "review_months: " + "9" * 5000), "11", "write a shorter number")
case("oversized-text-value", sub("review_months: 12", "review_months: " + "十" * 5000), "11", "got '十十十")
case("oversized-config-value", {CFG: CONFIG.replace("测试电器有限公司", "测" * 401)}, f"{CFG}:1", "company: too long")

# -- wrong types -------------------------------------------------------------------------------

case("type-prepared-as-text", sub("prepared:\n  name: 孙小雨\n  date: 2026-11-16", "prepared: 孙小雨"), "8",
     "prepared: expected a mapping of keys")
case("type-history-as-mapping", sub("  - revision: A/0", "  revision: A/0").replace("\n    ", "\n  "), "14",
     "history: expected a list")
case("type-history-empty", sub("history:\n  - revision: A/0\n    date: 2026-11-16\n    section: 全文\n"
                               "    summary: 首次发布\n    by: 孙小雨", "history: []"), "14", "history: must not be empty")
case("type-references-as-text", sub("references: []", "references: QR-SH-001"), "12", "write a list: references: [A, B]")
case("type-approvals-as-text", sub("clauses: []", "clauses: []\napprovals: 林慧"), "14",
     "signatures are signed statements in signatures/NUMBER.jsonl")
case("type-review-months-text", sub("review_months: 12", "review_months: 十二个月"), "11", "a whole number")
case("type-review-months-zero", sub("review_months: 12", "review_months: 0"), "11", "use a number from 1 to 120")
case("type-review-months-too-big", sub("review_months: 12", "review_months: 600"), "11", "from 1 to 120")
case("type-review-months-fraction", sub("review_months: 12", "review_months: 1.5"), "11", "a whole number")
case("type-date-quoted", sub("  date: 2026-11-16\nreview", '  date: "2026-11-16"\nreview'), "10",
     "write the date unquoted as YYYY-MM-DD")
case("type-date-with-time", sub("  date: 2026-11-16\nreview", "  date: 2026-11-16 10:30:00\nreview"), "10",
     "YYYY-MM-DD")
case("type-status-chinese", sub("status: review", "status: 审核中"), "7", "'draft', 'review'")
case("type-type-unknown", sub("type: procedure", "type: policy"), "4", "use one of the configured types")
case("type-type-capitalised", sub("type: procedure", "type: Procedure"), "4", "'Procedure' has the wrong form")
case("type-orientation-chinese", {"forms/QR-SH-001-顾客问题处理表.md": FORM.replace("orientation: portrait",
                                                                            "orientation: 横向")},
     "forms/QR-SH-001-顾客问题处理表.md:15", "'portrait' or 'landscape'")
case("type-revision-dash", sub("revision: A/0\nstatus", "revision: A-0\nstatus"), "6", 'e.g. "A/0"')
case("type-revision-lowercase", sub("revision: A/0\nstatus", "revision: a/0\nstatus"), "6", "has the wrong form")
case("type-revision-two-digits", sub("  - revision: A/0", "  - revision: A/10"), "15", "version letter and modification")
case("type-revision-fullwidth-digit", sub("revision: A/0\nstatus", "revision: A/０\nstatus"), "6", "has the wrong form")
case("type-missing-number", sub("number: QP-SH-002\n", ""), "2", "add `number:` to the front matter")
case("type-missing-history", BASE.split("history:")[0] + "---\n" + BODY, "2", "history: required key is missing")
case("type-missing-prepared-date", sub("  date: 2026-11-16\nreview", "review"), "8", "prepared.date: required key")
case("type-number-as-list", sub("number: QP-SH-002", "number: [QP, SH, 002]"), "2", "number: expected text, got a list")

# -- unknown keys ------------------------------------------------------------------------------

case("unknown-key-typo", sub("revision: A/0\nstatus", "revison: A/0\nstatus"), "6", "correct its spelling to `revision`")
case("unknown-key-capitalised", sub("title: 投诉回访程序", "Title: 投诉回访程序"), "3", "Title: unknown key")
case("unknown-key-nested", sub("  name: 孙小雨", "  nmae: 孙小雨"), "9", "prepared.nmae: unknown key")
case("unknown-key-in-history", sub("summary: 首次发布", "summery: 首次发布"), "18", "`summary`")
case("unknown-key-chinese", sub("status: review", "status: review\n编制人: 孙小雨"), "8", "编制人: unknown key")
case("unknown-key-config", {CFG: CONFIG.replace("company:", "compnay:")}, f"{CFG}:1", "compnay: unknown key")
case("unknown-key-config-type", {CFG: CONFIG.replace("{label: 程序文件, prefix: QP", "{label: 程序文件, prefx: QP")},
     f"{CFG}:6", "types.procedure.prefx: unknown key")

# -- full-width and look-alike characters in numbers -------------------------------------------

case("number-fullwidth", sub("number: QP-SH-002", "number: ＱＰ-ＳＨ-００２"), "2", "type it with ASCII letters and digits: QP-SH-002")
case("number-fullwidth-hyphen", sub("number: QP-SH-002", "number: QP－SH－002"), "2", "full-width or look-alike")
case("number-cyrillic-letters", sub("number: QP-SH-002", "number: QР-ЅН-002"), "2", "QP-SH-002")
case("number-en-dash", sub("number: QP-SH-002", "number: QP–SH–002"), "2", "type it with ASCII letters and digits: QP-SH-002")
case("number-zero-width-space", sub("number: QP-SH-002", "number: QP-SH-00\u200b2"), "2", "QP-SH-002")
case("number-arabic-digits", sub("number: QP-SH-002", "number: QP-SH-٠٠٢"), "2", "QP-SH-002")
case("number-letter-o-for-zero", sub("number: QP-SH-002", "number: QP-SH-OO2"), "2", "does not match the procedure numbering scheme")
case("number-lowercase", sub("number: QP-SH-002", "number: qp-sh-002"), "2", "e.g. QP-SH-001")
case("number-trailing-space", sub("number: QP-SH-002", 'number: "QP-SH-002 "'), "2", "contains a space")
case("number-line-break", sub("number: QP-SH-002", "number: |\n  QP-SH-002"), "2", "contains a line break")
case("number-fullwidth-file-name", {"procedures/ＱＰ-ＳＨ-００２-投诉回访程序.md": BASE},
     "procedures/ＱＰ-ＳＨ-００２-投诉回访程序.md:2", "file name contains full-width or look-alike characters")
case("number-fullwidth-reference", sub("references: []", "references: [ＱＲ-ＳＨ-００１]"), "12", "type it with ASCII letters and digits: QR-SH-001")
case("number-file-name-mismatch", {"procedures/QP-SH-003-投诉回访程序.md": BASE},
     "procedures/QP-SH-003-投诉回访程序.md:2", "rename it to QP-SH-002-投诉回访程序.md")
case("number-duplicate", sub("number: QP-SH-002", "number: QP-SH-001"), "procedures/QP-SH-001-客户投诉处理程序.md:2",
     "is also used by procedures/QP-SH-002")

# -- dates ---------------------------------------------------------------------------------------

case("date-february-30", sub("  date: 2026-11-16\nreview", "  date: 2026-02-30\nreview"), "10", "with a real day")
case("date-month-13", sub("  date: 2026-11-16\nreview", "  date: 2026-13-01\nreview"), "10", "invalid date '2026-13-01'")
case("date-year-zero", sub("  date: 2026-11-16\nreview", "  date: 0000-01-01\nreview"), "10", "YYYY-MM-DD")
case("date-slashes", sub("  date: 2026-11-16\nreview", "  date: 2026/11/16\nreview"), "10", "got '2026/11/16'")
case("date-chinese", sub("  date: 2026-11-16\nreview", "  date: 2026年11月16日\nreview"), "10", "a date (YYYY-MM-DD)")
case("date-compact-number", sub("  date: 2026-11-16\nreview", "  date: 20261116\nreview"), "10", "got the number 20261116")
case("date-history-row", sub("    date: 2026-11-16", "    date: 2026-11-31"), "16", "invalid date '2026-11-31'")
case("date-next-review-invalid", sub("review_months: 12", "next_review: 2027-02-29"), "11", "day is out of range")
case("date-far-future", sub("review_months: 12", "review_months: 12\neffective: 9999-12-01"), "12",
     "write a real date between 1900-01-01 and 2199-12-31")
case("date-far-past", sub("  date: 2026-11-16\nreview", "  date: 0001-01-01\nreview"), "10", "the date 0001-01-01 is out of range")
case("date-effective-before-prepared", sub("review_months: 12", "review_months: 12\neffective: 2026-01-05"), "12",
     "生效 date 2026-01-05 is before 编制 date 2026-11-16")

# -- revision sequence ---------------------------------------------------------------------------

ROW = "  - revision: {rev}\n    date: 2026-11-17\n    section: 第4章\n    summary: 修改\n    by: 孙小雨\n---"


def history(*revs: str, current: str | None = None) -> str:
    text = BASE.replace("revision: A/0\nstatus", f"revision: {current or revs[-1]}\nstatus")
    rows = "".join(ROW.format(rev=rev)[:-3] for rev in revs[1:])
    text = text.replace("by: 孙小雨\n---", "by: 孙小雨\n" + rows + "---", 1)
    return text.replace("  - revision: A/0", f"  - revision: {revs[0]}", 1)


case("revision-skips-a-modification", history("A/0", "A/2"), "20", "revision A/2 does not follow A/0")
case("revision-goes-backwards", history("B/0", "A/1"), "20", "the next revision after B/0 is B/1")
case("revision-skips-a-letter", history("A/0", "C/0"), "20", "(or B/0 for a re-issue)")
case("revision-repeated", history("A/0", "A/0"), "20", "revision A/0 does not follow A/0")
case("revision-reissue-not-at-zero", history("A/3", "B/1"), "20", "does not follow A/3")
case("revision-after-nine", history("A/9", "A/9", current="A/9"), "20", "the next revision after A/9 is B/0")
case("revision-after-last-letter", history("Z/0", "Z/2"), "20", "the next revision after Z/0 is Z/1 (Z is the last")
case("revision-after-last-revision", history("Z/9", "Z/9"), "20", "give the document a new number")
case("revision-not-in-history", sub("revision: A/0\nstatus", "revision: A/1\nstatus"), "14",
     "has no row for the current revision A/1")
case("revision-not-last-row", history("A/0", "A/1", current="A/0"), "6", "is not the last row")

# -- Markdown: raw HTML, scripts, links out of the repository ----------------------------------------

N = str(BODY_END)
case("html-script", body("<script>alert('x')</script>"), N, "raw HTML <script>")
case("html-script-uppercase", body("<SCRIPT SRC=//evil.example/x.js></SCRIPT>"), N, "raw HTML <SCRIPT>")
case("html-script-split-over-lines", body("<script", "src=//evil.example/x.js></script>"), N, "raw HTML <script>")
case("html-script-inline", body("回访 <script>alert(1)</script> 客户"), N, "is not allowed in controlled documents")
case("html-div", body('<div class="note">', "提示", "</div>"), N, "raw HTML <div>")
case("html-iframe", body('<iframe src="https://evil.example"></iframe>'), N, "raw HTML <iframe>")
case("html-img-onerror", body("<img src=x onerror=alert(1)>"), N, "write it in Markdown")
case("html-anchor-javascript", body('<a href="javascript:alert(1)">回访</a>'), N, "raw HTML <a>")
case("html-style", body("<style>body{display:none}</style>"), N, "raw HTML <style>")
case("html-comment", body("<!-- 审核意见：暂不发布 -->"), N, "HTML comment")
case("html-line-break", body("第一行<br>第二行"), N, "raw HTML <br>")
case("html-in-manual-part", {PART: MANUAL_PART + "<script>alert(1)</script>\n"}, f"{PART}:4", "raw HTML <script>")
case("html-in-heading", body("## <span style='color:red'>重要</span>"), N, "raw HTML <span>")
case("attr-list-onclick", body('[回访记录](#){: onclick="alert(1)" }'), N, "sets onclick=")
case("attr-list-style", body("## 重要 {: style='display:none' }"), N, "sets style=")
case("attr-list-onmouseover-quoted", body("段落文字", "{: class=\"x\" onmouseover='alert(1)' }"), f"{DOC}:{BODY_END + 1}",
     "sets onmouseover=")
case("link-dotdot-etc-passwd", body("见 [密码](../../etc/passwd)。"), N, "points outside the document's folder")
case("image-dotdot", body("![图](../../../etc/passwd)"), N, "'../../../etc/passwd'")
case("link-absolute-path", body("见 [密码](/etc/passwd)。"), N, "absolute path or file://")
case("image-absolute-path", body("![图](/home/user/photo.png)"), N, "is not under images/")
case("link-file-url", body("见 [密码](file:///etc/passwd)。"), N, "link only to web addresses")
case("image-file-url-uppercase", body("![图](FILE:///C:/Windows/win.ini)"), N, "is not in the repository (FILE:)")
case("link-windows-drive", body("见 [文件](C:\\Windows\\win.ini)。"), N, "absolute path")
case("link-unc-path", body("见 [共享](\\\\server\\share\\x.docx)。"), N, "points outside the repository")
case("link-backslash-dotdot", body("见 [文件](..\\..\\secret.txt)。"), N, "(..)")
case("link-percent-encoded-dotdot", body("见 [文件](%2e%2e/%2e%2e/etc/passwd)。"), N, "points outside the document's folder")
case("link-angle-brackets", body("见 [文件](<../../etc/passwd>)。"), N, "(..)")
case("link-with-title", body('见 [文件](../../etc/passwd "密码")。'), N, "(..)")
case("link-protocol-relative", body("见 [站点](//evil.example/x)。"), N, "points outside the repository")
case("link-javascript", body("[点击](javascript:alert(1))"), N, "uses a script or data scheme")
case("link-javascript-entity", body("[点击](java&#115;cript:alert(1))"), N, "uses a script or data scheme")
case("image-data-uri", body("![x](data:image/svg+xml;base64,PHN2Zz4=)"), N, "is not in the repository (data:)")
case("link-autolink-file", body("见 <file:///etc/passwd>。"), N, "'file:///etc/passwd'")
case("link-reference-definition", body("见 [密码][p]。", "", "[p]: ../../etc/passwd"), str(BODY_END + 2),
     "points outside the document's folder")
case("link-smb-share", body("见 [共享](smb://server/share/x.docx)。"), N, "link only to web addresses")
case("link-in-manual-part", {PART: MANUAL_PART + "\n见 [密码](../../etc/passwd)。\n"}, f"{PART}:5", "(..)")

# -- pictures: only files under images/, of a type both the site and Word show ---------------------

PIC = "images/QP-SH-002"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
case("image-missing", body("![流程](images/QP-SH-002/flow.png)"), N, "image images/QP-SH-002/flow.png does not exist")
case("image-outside-images", {DOC: body("![流程](flow.png)"), "procedures/flow.png": PNG}, N,
     "is not under images/ at the repository root")
case("image-dotdot-inside-images", body("![流程](images/../doccontrol.yml)"), N, "is not under images/")
case("image-absolute-outside-images", body("![流程](/etc/passwd)"), N, "is not under images/")
case("image-remote", body("![流程](https://evil.example/track.png)"), N, "is not in the repository (https:)")
case("image-data-url", body("![流程](data:image/png;base64,AAAA)"), N, "is not in the repository (data:)")
case("image-svg", {DOC: body(f"![流程]({PIC}/flow.svg)"), f"{PIC}/flow.svg": "<svg onload='alert(1)'/>"}, N,
     "convert it to PNG")
case("image-svg-named-png", {DOC: body(f"![流程]({PIC}/flow.png)"), f"{PIC}/flow.png": "<svg onload='alert(1)'/>"},
     N, "is not a PNG file")
case("image-other-type", {DOC: body(f"![流程]({PIC}/flow.tiff)"), f"{PIC}/flow.tiff": b"II*\0"}, N,
     "has type .tiff, which is not allowed")
case("image-oversized", {DOC: body(f"![流程]({PIC}/flow.png)"), f"{PIC}/flow.png": PNG + b"\0" * (5 * 1024 * 1024)},
     N, "at most 5 MiB are allowed")
case("image-symlink", {DOC: body(f"![流程]({PIC}/flow.png)"), f"{PIC}/flow.png": Link("/etc/passwd")}, N,
     "is a symbolic link")
case("image-folder-symlink", {DOC: body(f"![流程]({PIC}/flow.png)"), PIC: Link(OUTSIDE)}, N, "is a symbolic link")
case("image-fifo", {DOC: body(f"![流程]({PIC}/flow.png)"), f"{PIC}/flow.png": Fifo()}, N, "is not a regular file")
case("image-by-reference", body("![流程][图一]", "", "[图一]: https://evil.example/a.png"), N,
     "is not in the repository (https:)")
case("image-in-manual-part", {PART: MANUAL_PART + "![图](images/QM-SH-01/none.png)\n"}, f"{PART}:4",
     "image images/QM-SH-01/none.png does not exist")

# -- titles --------------------------------------------------------------------------------------

case("title-script", sub("title: 投诉回访程序", 'title: "<script>alert(1)</script>"'), "3", "title contains < or >")
case("title-img", sub("title: 投诉回访程序", "title: <img src=x onerror=alert(1)>回访"), "3", "use 《》")
case("title-bold-tag", sub("title: 投诉回访程序", "title: <b>投诉</b>回访程序"), "3", "title contains < or >")
case("title-line-break", sub("title: 投诉回访程序", "title: |\n  投诉\n  回访程序"), "3", "title contains a line break")
case("title-blank", sub("title: 投诉回访程序", 'title: "   "'), "3", "title is blank")
case("department-html", sub("department: 质量部", "department: <i>质量部</i>"), "5", "department contains < or >")
case("department-zero-width", sub("department: 质量部", "department: 质量部\u200b"), "5",
     "department: contains U+200B ZERO WIDTH SPACE, an invisible character; remove it")
case("department-kangxi", sub("department: 质量部", "department: 质\u2f65部"), "5",
     "department: contains U+2F65 KANGXI RADICAL FIELD, which stands for '田' (U+7530)")

# -- paths with Chinese and space characters -------------------------------------------------------

case("path-chinese-without-number", {"procedures/客户回访程序.md": BASE}, "procedures/客户回访程序.md:1",
     "must be named after its number")
case("path-space-without-number", {"procedures/客户 回访 程序.md": BASE}, "procedures/客户 回访 程序.md:1",
     "rename it to NUMBER-标题.md")
case("path-spaces-yaml-error", {"procedures/QP-SH-002 投诉 回访程序.md": sub("title: 投诉回访程序", 'title: "投诉')},
     "procedures/QP-SH-002 投诉 回访程序.md:3", "close the quotation mark")
case("path-chinese-folder-manual", {"docs/QM-SH-02 质量 手册/index.md": front("QM-SH-02", "质量手册", "manual")
                                    .replace("status: review", "status: 待审")},
     "docs/QM-SH-02 质量 手册/index.md:7", "status: '待审' is not allowed")
case("path-ideographic-space", {"procedures/QP-SH-002\u3000投诉回访程序.md": BASE},
     "procedures/QP-SH-002\u3000投诉回访程序.md:2", "full-width")
case("path-wrong-folder", {"forms/QP-SH-002-投诉回访程序.md": BASE}, "forms/QP-SH-002-投诉回访程序.md:2",
     "move the file to procedures/")

# -- symbolic links out of the repository -----------------------------------------------------------

case("symlink-to-etc-passwd", {"procedures/QP-SH-002-外链.md": Link("/etc/passwd")},
     "procedures/QP-SH-002-外链.md:1", "symbolic links are not allowed")
case("symlink-relative-outside", {"procedures/QP-SH-002-外链.md": Link("../../outside/QP-SH-009-外部.md")},
     "procedures/QP-SH-002-外链.md:1", "replace the link with the file itself")
case("symlink-folder-outside", {"procedures/QP-SH-003-外部目录": Link(OUTSIDE)},
     "procedures/QP-SH-003-外部目录:1", "symbolic links are not allowed")
case("symlink-manual-part", {f"{MANUAL_DIR}/02-外链.md": Link("/etc/passwd")}, f"{MANUAL_DIR}/02-外链.md:1",
     "symbolic links are not allowed")
case("symlink-plain-name", {"procedures/passwd.md": Link("/etc/passwd")}, "procedures/passwd.md:1",
     "symbolic links are not allowed")
case("symlink-manual-index", {f"{MANUAL_DIR}/index.md": Link(f"{OUTSIDE}/QP-SH-009-外部.md")},
     f"{MANUAL_DIR}/index.md:1", "symbolic links are not allowed")
case("symlink-manual-folder-outside", {"docs/QM-SH-02-外部手册": Link(OUTSIDE)}, "docs/QM-SH-02-外部手册:1",
     "replace the link with the folder itself")
case("symlink-folder-in-manual", {f"{MANUAL_DIR}/附件": Link(OUTSIDE)}, f"{MANUAL_DIR}/附件:1",
     "symbolic links are not allowed")
case("symlink-image-in-manual", {f"{MANUAL_DIR}/logo.png": Link("/etc/passwd")}, f"{MANUAL_DIR}/logo.png:1",
     "replace the link with the file itself")
case("symlink-in-plain-subfolder", {"procedures/附件/QP-SH-002-外链.md": Link(f"{OUTSIDE}/QP-SH-009-外部.md")},
     "procedures/附件/QP-SH-002-外链.md:1", "symbolic links are not allowed")
case("symlink-nested-controlled-folder", {"docs/external": Link(OUTSIDE)}, "docs/external:1",
     "replace the link with the folder itself")
case("symlink-controlled-folder", {"forms": Link(OUTSIDE)}, "forms:1", "symbolic links are not allowed")
case("symlink-dangling", {"procedures/QP-SH-002-断链.md": Link("/nonexistent/QP-SH-002.md")},
     "procedures/QP-SH-002-断链.md:1", "replace the link with the file itself")
case("symlink-loop", {"procedures/QP-SH-002-循环.md": Link("QP-SH-002-循环.md")}, "procedures/QP-SH-002-循环.md:1",
     "symbolic links are not allowed")
case("symlink-config", {CFG: Link(f"{OUTSIDE}/QP-SH-009-外部.md")}, f"{CFG}:1", "replace the link with the file itself")
case("symlink-clauses", {CAT: Link("/etc/passwd")}, f"{CAT}:1", "is a symbolic link")

# -- named pipes and other special files: opening one would wait forever --------------------------------

case("fifo-document", {"procedures/QP-SH-002-管道.md": Fifo()}, "procedures/QP-SH-002-管道.md:1",
     "a named pipe (FIFO) is not a regular file")
case("fifo-plain-name", {"procedures/管道": Fifo()}, "procedures/管道:1", "move it out of the controlled folder")
case("fifo-manual-index", {f"{MANUAL_DIR}/index.md": Fifo()}, f"{MANUAL_DIR}/index.md:1", "not a regular file")
case("fifo-manual-part", {f"{MANUAL_DIR}/02-管道.md": Fifo()}, f"{MANUAL_DIR}/02-管道.md:1", "not a regular file")
case("fifo-in-plain-subfolder", {"forms/草稿/QR-SH-002-管道.md": Fifo()}, "forms/草稿/QR-SH-002-管道.md:1",
     "named pipe")
case("fifo-config", {CFG: Fifo()}, f"{CFG}:1", "doccontrol.yml is not a regular file")
case("fifo-clauses", {CAT: Fifo()}, f"{CAT}:1", "replace it with a plain text file")

# -- invalid configuration: doccontrol.yml ------------------------------------------------------------

case("config-unclosed-quote", {CFG: CONFIG.replace("company: 测试电器有限公司", 'company: "测试电器有限公司')},
     f"{CFG}:1", "close the quotation mark")
case("config-tab", {CFG: CONFIG.replace("  林慧:", "\t林慧:")}, f"{CFG}:22", "replace tabs with spaces")
case("config-duplicate-person", {CFG: CONFIG + "  林慧:\n    position: 副经理\n"}, f"{CFG}:37", "duplicate key '林慧'")
case("config-missing-company", {CFG: CONFIG.replace("company: 测试电器有限公司\n", "")}, f"{CFG}:1",
     "company: required key is missing")
case("config-prefix-lowercase", {CFG: CONFIG.replace("prefix: QP", "prefix: qp")}, f"{CFG}:6", "types.procedure.prefix")
case("config-width-zero", {CFG: CONFIG.replace("prefix: QP, department: SH, width: 3", "prefix: QP, department: SH, width: 0")},
     f"{CFG}:6", "types.procedure.width")
case("config-width-quoted", {CFG: CONFIG.replace("prefix: QP, department: SH, width: 3",
                                                 'prefix: QP, department: SH, width: "3"')},
     f"{CFG}:6", "write a whole number without quotes")
case("config-folder-dotdot", {CFG: CONFIG.replace("folder: forms", "folder: ../../etc")}, f"{CFG}:8",
     "a path inside the repository")
case("config-folder-absolute", {CFG: CONFIG.replace("folder: forms", "folder: /etc")}, f"{CFG}:8",
     "types.form.folder")
case("config-unknown-type", {CFG: CONFIG.replace("  external: {label", "  Policy: {label")}, f"{CFG}:9",
     "types.Policy: 'Policy' has the wrong form")
case("config-unknown-role", {CFG: CONFIG.replace("rights: {review: [procedure, form, external]}",
                                                 "rights: {签发: [procedure, form, external]}")},
     f"{CFG}:26", "'签发' is not allowed")
case("config-sign-unknown-type", {CFG: CONFIG.replace("rights: {review: [procedure, form, external]}",
                                                      "rights: {review: [procedure, record]}")},
     f"{CFG}:26", "people.林慧.rights.review.1: 'record' is not a configured type")
case("config-sign-not-a-list", {CFG: CONFIG.replace("rights: {review: [procedure, form, external]}",
                                                    "rights: {review: procedure}")}, f"{CFG}:26", "expected a list")
case("config-max-modification-NO", {CFG: CONFIG + "max_modification: NO\n"}, f"{CFG}:37", "got False")
case("config-max-modification-zero", {CFG: CONFIG + "max_modification: 0\n"}, f"{CFG}:37", "from 1 to 99")
case("config-empty", {CFG: ""}, f"{CFG}:1", "company: required key is missing")
case("config-list", {CFG: "- company: 测试电器有限公司\n"}, f"{CFG}:1", "expected a mapping of keys")
case("config-catalogue-missing", {CFG: CONFIG.replace("clause_catalogue: clauses.yml", "clause_catalogue: 条款.yml")},
     f"{CFG}:3", "clause catalogue 条款.yml does not exist")
case("config-catalogue-folder", {CFG: CONFIG.replace("clause_catalogue: clauses.yml", "clause_catalogue: procedures")},
     f"{CFG}:3", "is a folder, not a file")
case("config-catalogue-outside", {CFG: CONFIG.replace("clause_catalogue: clauses.yml",
                                                      "clause_catalogue: ../../etc/passwd")},
     f"{CFG}:3", "clause_catalogue")
case("config-duplicate-numbering", {CFG: CONFIG.replace("prefix: QI", "prefix: QP")}, f"{CFG}:7",
     "procedure and instruction are both numbered QP-SH-")
case("config-second-document", {CFG: CONFIG + "---\ncompany: 另一家公司\n"}, f"{CFG}:37", "holds a second document")
case("config-roster-sign-deep", {CFG: CONFIG.replace("rights: {review: [procedure, form, external]}",
                                                    "rights:\n      review:\n        - procedure\n        - 3")},
     f"{CFG}:29", "people.林慧.rights.review.1: expected text, got the number 3")
case("config-roster-position-number", {CFG: CONFIG.replace("position: 文控员", "position: 2024")}, f"{CFG}:28",
     'quote the value so it stays text, e.g. position: "..."')
case("config-roster-person-as-text", {CFG: CONFIG[:CONFIG.index("  孙小雨:")] + "  孙小雨: 文控员\n"
                                            + CONFIG[CONFIG.index("  赵明:"):]},
     f"{CFG}:27", "people.孙小雨: expected a mapping of keys")
case("config-roster-unknown-key", {CFG: CONFIG + "    phone: 8888\n"}, f"{CFG}:37", "people.赵明.phone: unknown key")
case("config-roster-missing-position", {CFG: CONFIG.replace("    position: 质量部经理\n", "")}, f"{CFG}:22",
     "add `position:` under `林慧:`")
case("config-type-unknown-key-block", {CFG: CONFIG.replace(
    "  form: {label: 记录表单, prefix: QR, department: SH, width: 3, folder: forms}",
    "  form:\n    label: 记录表单\n    prefix: QR\n    department: SH\n    width: 3\n    folder: forms\n    colour: red")},
     f"{CFG}:14", "types.form.colour: unknown key")
case("config-type-missing-folder", {CFG: CONFIG.replace(", folder: forms}", "}")}, f"{CFG}:8",
     "add `folder:` under `form:`")
case("config-gbk-in-roster", {CFG: CONFIG.encode().replace("文控员".encode(), "文控员".encode("gbk"))}, f"{CFG}:28",
     "not valid UTF-8")
case("config-deep-nesting", {CFG: CONFIG + "extra: " + "{a: " * 100 + "1" + "}" * 100 + "\n"}, f"{CFG}:37",
     "nested more than 16 levels")

# -- invalid configuration: clauses.yml ----------------------------------------------------------------

case("clauses-yaml-error", {CAT: CLAUSES.replace("{title: 投诉处理, required: true}", "{title: 投诉处理, required: true")},
     f"{CAT}:5", "YAML syntax error")
case("clauses-unknown-standard", {CAT: CLAUSES + "  GB19001-7.5: {title: 成文信息}\n"}, f"{CAT}:7",
     "names unknown standard GB19001")
case("clauses-unknown-standard-first", {CAT: CLAUSES.replace("clauses:\n", "clauses:\n  ISO14001-6.1: {title: 风险}\n")},
     f"{CAT}:5", "add the standard under `standards:`")
case("clauses-entry-as-text", {CAT: CLAUSES.replace("{title: 成文信息}", "成文信息")}, f"{CAT}:6",
     "clauses.ISO9001-7.5: expected a mapping of keys")
case("clauses-entry-empty", {CAT: CLAUSES.replace(" {title: 成文信息}", "")}, f"{CAT}:6",
     "clauses.ISO9001-7.5: the value is empty")
case("clauses-title-in-block", {CAT: CLAUSES.replace("{title: 成文信息}", "\n    title: 成文信息\n    required: 1")},
     f"{CAT}:8", "clauses.ISO9001-7.5.required: expected true or false")
case("clauses-missing-title", {CAT: CLAUSES.replace("{title: 成文信息}", "{required: true}")}, f"{CAT}:6",
     "clauses.ISO9001-7.5.title: required key is missing")
case("clauses-required-quoted", {CAT: CLAUSES.replace("required: true", 'required: "yes"')}, f"{CAT}:5",
     "write true or false")
case("clauses-duplicate", {CAT: CLAUSES + "  GB27922-6.3: {title: 投诉}\n"}, f"{CAT}:7", "duplicate key 'GB27922-6.3'")
case("clauses-empty", {CAT: ""}, f"{CAT}:1", "standards: required key is missing")
case("clauses-unknown-key", {CAT: CLAUSES.replace("{title: 成文信息}", "{title: 成文信息, mandatory: true}")},
     f"{CAT}:6", "clauses.ISO9001-7.5.mandatory: unknown key")
case("clauses-standard-as-number", {CAT: CLAUSES.replace("ISO9001: ISO 9001:2015", "ISO9001: 9001")}, f"{CAT}:3",
     "standards.ISO9001: expected text")

# -- the signed record: ledger files (signatures/NUMBER.jsonl) ------------------------------------------

LEDGER = "signatures/QP-SH-001.jsonl"
STATEMENT = ('{"statement":{"config":1,"department":"质量部","fingerprint":"sha256:' + "0" * 64 + '",'
             '"kind":"return","name":"林慧","number":"QP-SH-001","path":"procedures/QP-SH-001-客户投诉处理程序.md",'
             '"reason":"退回","revision":"A/0","title":"客户投诉处理程序","type":"procedure",'
             '"at":"2026-11-20T10:00:00+08:00"}}')


def statement(old: str, new: str) -> str:
    assert STATEMENT.count(old) == 1, old
    return STATEMENT.replace(old, new) + "\n"


case("ledger-not-json", {LEDGER: "{这不是 JSON\n"}, f"{LEDGER}:1", "not a JSON line")
case("ledger-duplicate-key", {LEDGER: '{"statement":{},"statement":{"kind":"submit"}}\n'}, f"{LEDGER}:1", "duplicate key")
case("ledger-nan", {LEDGER: '{"statement":NaN}\n'}, f"{LEDGER}:1", "NaN is not allowed")
case("ledger-unknown-kind", {LEDGER: statement('"kind":"return"', '"kind":"approve-everything"')}, f"{LEDGER}:1",
     "unknown statement kind")
case("ledger-extra-field", {LEDGER: statement('"reason":"退回"', '"reason":"退回","admin":true')}, f"{LEDGER}:1",
     "statement is not valid: admin")
case("ledger-line-break-in-name", {LEDGER: statement('"name":"林慧"', '"name":"林慧\\nDoccontrol-Release: x"')},
     f"{LEDGER}:1", "contains a line break")
case("ledger-bidi-in-reason", {LEDGER: statement('"reason":"退回"', '"reason":"退\u202e回"')}, f"{LEDGER}:1",
     "U+202E")
case("ledger-time-without-zone", {LEDGER: statement("2026-11-20T10:00:00+08:00", "2026-11-20T10:00:00")},
     f"{LEDGER}:1", "has no time zone")
case("ledger-path-dotdot", {LEDGER: statement("procedures/QP-SH-001-客户投诉处理程序.md", "../../etc/passwd")},
     f"{LEDGER}:1", "not a plain path inside the repository")
case("ledger-bad-fingerprint", {LEDGER: statement("sha256:" + "0" * 64, "sha256:手签")}, f"{LEDGER}:1",
     "fingerprint")
case("ledger-wrong-document", {LEDGER: statement('"number":"QP-SH-001"', '"number":"QR-SH-001"')}, f"{LEDGER}:1",
     "a statement about QR-SH-001 is in the ledger of QP-SH-001")
case("ledger-unsigned", {LEDGER: STATEMENT + "\n"}, f"{LEDGER}:1", "is not signed (the policy requires signatures)")
case("ledger-forged-signature", {LEDGER: STATEMENT[:-1] + ',"signature":"-----BEGIN SSH SIGNATURE-----\\nAAAA\\n'
                                 '-----END SSH SIGNATURE-----\\n"}\n'}, f"{LEDGER}:1", "does not verify")
case("ledger-unknown-config-version", {LEDGER: statement('"config":1', '"config":7')}, f"{LEDGER}:1",
     "names configuration version 7, which is not an approved version")
case("ledger-no-final-newline", {LEDGER: STATEMENT}, f"{LEDGER}:1", "the last line is incomplete")
case("ledger-gbk", {LEDGER: STATEMENT.encode("gbk") + b"\n"}, f"{LEDGER}:1", "not valid UTF-8")
case("ledger-line-too-long", {LEDGER: '{"statement":"' + "长" * 100_000 + '"}\n'}, f"{LEDGER}:1", "longer than 256 KiB")
case("ledger-symlink", {LEDGER: Link("/etc/passwd")}, f"{LEDGER}:1", "symbolic links are not allowed")
case("ledger-fifo", {LEDGER: Fifo()}, f"{LEDGER}:1", "not a regular file")
case("ledger-config-forged-anchor", {"signatures/configuration.jsonl": '{"statement":{"kind":"configuration",'
                                     '"version":1,"fingerprint":"sha256:' + "1" * 64 + '","content":{},"name":"王五",'
                                     '"at":"2026-11-20T10:00:00+08:00","config":1}}\n'},
     "signatures/configuration.jsonl:1", "its fingerprint does not match its content")

# -- the site's options (mkdocs.yml): inert values only, read with the strict reader -----------------------

SITE = "mkdocs.yml"
case("site-options-python-tag", {SITE: "title: !!python/object/apply:os.system ['touch /tmp/dc-pwned']\n"},
     f"{SITE}:1", "YAML tags (!!python/object/apply:os.system) are not allowed")
case("site-options-env-tag", {SITE: "footer: !ENV [CI_DEPLOY_TOKEN]\n"}, f"{SITE}:1", "YAML tags (!ENV)")
case("site-options-copyright-html", {SITE: "copyright: <img src=x onerror=alert(1)>\n"}, f"{SITE}:1",
     "write it as `footer:`")
case("site-options-extra-javascript", {SITE: "extra_javascript:\n  - 'data:text/javascript,alert(1)'\n"},
     f"{SITE}:1", "doccontrol builds the site's MkDocs configuration itself")
case("site-options-snippets", {SITE: "markdown_extensions:\n  - pymdownx.snippets:\n      auto_append: [/etc/passwd]\n"},
     f"{SITE}:1", "remove `markdown_extensions`")
case("site-options-hooks", {SITE: "title: 受控文件\nhooks: [hooks.py]\n"}, f"{SITE}:2", "remove `hooks`")
case("site-options-plugins", {SITE: "plugins:\n  - search\n  - macros\n"}, f"{SITE}:1", "remove `plugins`")
case("site-options-theme-custom-dir", {SITE: "theme:\n  name: material\n  custom_dir: overrides\n"}, f"{SITE}:1",
     "remove `theme`")
case("site-options-alias-bomb", {SITE: "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                       "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"}, f"{SITE}:1", "anchors and aliases")
case("site-options-unknown-key", {SITE: "titel: 受控文件\n"}, f"{SITE}:1", "correct its spelling to `title`")
case("site-options-colour", {SITE: "colors:\n  primary: red\n"}, f"{SITE}:2", "six hexadecimal digits")
case("site-options-link-script", {SITE: "links:\n  - {title: 首页, url: 'javascript:alert(1)'}\n"}, f"{SITE}:2",
     "is not a web address")
case("site-options-title-line-break", {SITE: "title: \"受控\\n文件\"\n"}, f"{SITE}:1", "write it on one line")
case("site-options-logo-outside", {SITE: "logo: ../../etc/passwd.png\n"}, f"{SITE}:1", "without .. or a leading /")
case("site-options-logo-missing", {SITE: "logo: assets/logo.png\n"}, f"{SITE}:1", "logo: assets/logo.png does not exist")
case("site-options-logo-link", {SITE: "logo: assets/logo.png\n", "assets/logo.png": Link("/etc/passwd")}, f"{SITE}:1",
     "is a symbolic link")
case("site-options-gbk", {SITE: "title: 受控文件\n".encode("gbk")}, f"{SITE}:1", "save it as UTF-8")
case("site-options-list", {SITE: "- title: 受控文件\n"}, f"{SITE}:1", "expected a mapping of options")
case("site-options-fifo", {SITE: Fifo()}, f"{SITE}:1", "is not a regular file")

# -- one text, two renderers: what the site would show and Word hide, or the reverse -----------------------

case("two-renderers-comment", body("[//]: # (审核意见：暂不发布)"), N, "a comment written as a link definition")
case("two-renderers-unused-definition", body("[附件]: https://example.com/attachment"), N,
     "the link definition [附件] that no link uses")
case("two-renderers-unreferenced-footnote", body("[^1]: 只在一份副本中出现的注释。"), N,
     "the footnote [^1] that nothing refers to")
case("two-renderers-link-title", body('见 [标准](https://openstd.samr.gov.cn/ "仅站点可见的提示")。'), N,
     "a link title (shown as a tooltip on the site, dropped in Word)")
case("two-renderers-toggle-class", body("本段在站点上被隐藏。", "{: .md-toggle }"), f"{DOC}:{BODY_END + 1}",
     "sets classes or attributes")
case("two-renderers-toc-label", body('## 3 职责 {: data-toc-label="另一个名称" }'), N, "sets classes or attributes")
case("two-renderers-bidi-override", body("回访\u202e录记户客"), N, "invisible direction control (U+202E)")
case("image-backslash-host", body("![x](http:/\\evil.example/x.gif)"), N, "is not in the repository (http:)")

# -- Markdown the renderers cannot read in bounded time ------------------------------------------------------

case("limit-long-line-after-lt", body("<a" + " " * 160_000), N, "line of 160,002 characters")
case("limit-lt-spaces-under-line-limit", body("<a" + " " * 9_000), N, "raw HTML <a>")
case("limit-unclosed-brackets", body("[" * 5_000), N, "more than 64 [ not closed by ]")
case("limit-unclosed-link-addresses", body("[](" * 100), N, "link addresses ]( not closed by )")
case("limit-angle-brackets", body("<x " * 600), N, "more than 500 < characters")
case("limit-nested-quotes", body("> " * 12 + "回访"), N, "nested 12 deep")
case("limit-nested-list", body(*("    " * level + "- 层级" for level in range(10))), f"{DOC}:{BODY_END + 8}",
     "nested 9 deep")
case("limit-long-paragraph", body(*["回访记录。"] * 1_002), f"{DOC}:{BODY_END - 1}", "a paragraph, list or table of more than 1,000 lines")
