"""English and Chinese: every label a reader sees comes from the locale's catalogue (doccontrol/messages).

An English company is built end to end through the CLI with real keys (init --locale en, new, submit,
approve, release, revise, withdraw, issue a copy; then build, pack, export), and what a reader sees is
read back: the site's HTML (and one page in Chromium), the Word XML, the pack's names and CSV headers,
the command line's tables. Its documents, people, company and clause catalogue are English, so any CJK
character in those outputs is a label that did not come from the catalogue.
"""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import string
import threading
import zipfile
from dataclasses import fields, is_dataclass
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from doccontrol.diff import FIELD_LABELS
from doccontrol.messages import ROLE_IDS, Messages, catalogue
from doccontrol.register import COLUMNS
from doccontrol.workflow import role_id

from conftest import KEYS, git, invoke

CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                 r"\ufe30-\ufe4f\uff00-\uffef]")
PACKAGE = Path(__file__).resolve().parent.parent / "doccontrol"
ZH, EN = catalogue("zh"), catalogue("en")
ALICE, BOB, CAROL = KEYS["林慧"], KEYS["周立新"], KEYS["孙小雨"]
ALL_TYPES = "[manual, procedure, instruction, form, external]"


def leaves(messages: Messages) -> dict[str, str]:
    """Every label of a catalogue by its dotted name (site.register …)."""
    found: dict[str, str] = {}

    def walk(value, prefix: str) -> None:
        for field in fields(value):
            item = getattr(value, field.name)
            if is_dataclass(item):
                walk(item, f"{prefix}{field.name}.")
            elif isinstance(item, str):
                found[prefix + field.name] = item

    walk(messages, "")
    return found


def literal(text: str) -> str:
    """A template's own text, without its placeholders."""
    return "".join(part for part, _, _, _ in string.Formatter().parse(text))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# -- the catalogue -----------------------------------------------------------------------------

def test_both_locales_label_the_same_things_with_the_same_placeholders():
    zh, en = leaves(ZH), leaves(EN)
    assert zh.keys() == en.keys()
    differ = {name: (placeholders(zh[name]), placeholders(en[name])) for name in zh
              if placeholders(zh[name]) != placeholders(en[name])}
    assert differ == {}
    assert all(text.strip() for name, text in en.items() if name not in ("fields.gap",)), "an empty label"


def test_english_labels_have_no_cjk_character():
    assert {name: text for name, text in leaves(EN).items() if CJK.search(text)} == {}


def test_site_labels_are_plain_text_in_markdown():
    """The generated pages put the site's labels into Markdown as they are: none may read as markup (the one
    link of withdrawn_of_type is meant)."""
    for messages in (ZH, EN):
        marked = {name: text for name, text in leaves(messages).items()
                  if name.startswith("site.") and name != "site.withdrawn_of_type"
                  and re.search(r"[*_`\[\]<>#|\\]", literal(text))}
        assert marked == {}


def test_every_label_is_asked_for_somewhere():
    """No dead label: each is named in the code or a template (by attribute, or as a name a lookup table holds)."""
    sources = "\n".join(path.read_text(encoding="utf-8") for pattern in ("*.py", "*.html")
                        for path in PACKAGE.rglob(pattern) if "messages" not in path.parts)
    dynamic = {f"fields.{name}" for name in FIELD_LABELS.values()} | {f"fields.{name}" for _, name in COLUMNS} \
        | {f"roles.{role}" for role in ROLE_IDS} | {f"roles.{role}_meaning" for role in ("review", "countersign",
                                                                                         "approve")} \
        | {f"status.{status}" for status in ("draft", "review", "approved", "effective", "obsolete")} \
        | {f"marks.{mark}" for mark in ("draft", "pending", "obsolete")} \
        | {f"copies.{state}" for state in ("in_use", "to_recall", "destroyed", "retained", "lost")}
    unused = [name for name in leaves(ZH) if name not in dynamic and name not in ("locale", "language")
              and not re.search(rf"\.{re.escape(name.split('.')[-1])}\b", sources)]
    assert unused == []


def test_every_label_the_templates_ask_for_exists():
    """The site's templates read labels from a dictionary (t.site.register …), where a missing key would
    print nothing: each one they name must exist in both catalogues."""
    named = set()
    for template in (PACKAGE / "render" / "theme").rglob("*.html"):
        named |= set(re.findall(r"\bt\.(\w+)\.(\w+)", template.read_text(encoding="utf-8")))
    assert len(named) > 30
    for messages in (ZH, EN):
        catalogue_ = messages.as_dict()
        assert [f"{group}.{name}" for group, name in sorted(named) if name not in catalogue_.get(group, {})] == []


def test_a_locale_that_misses_a_label_does_not_load():
    from doccontrol.messages import Site

    with pytest.raises(TypeError):
        Site(**{name: text for name, text in EN.as_dict()["site"].items() if name != "register"})


def test_lookup_tables_name_existing_labels():
    names = {field.name for field in fields(ZH.fields)}
    assert set(FIELD_LABELS.values()) <= names and {name for _, name in COLUMNS} <= names


def test_role_identifiers_and_every_locales_labels_name_a_role():
    for role in ("review", "countersign", "approve"):
        assert role_id(role) == role
        assert role_id(ZH.role_label(role)) == role and role_id(EN.role_label(role)) == role
    assert role_id("Review") == role_id("审核") == "review"


def test_page_x_of_y_keeps_its_words_around_the_fields():
    assert ZH.page_of() == [("第 ", "PAGE"), (" 页 共 ", "NUMPAGES"), (" 页", None)]
    assert EN.page_of() == [("Page ", "PAGE"), (" of ", "NUMPAGES"), ("", None)]


# -- an English company, end to end --------------------------------------------------------------

def public(key: Path) -> str:
    return " ".join(Path(f"{key}.pub").read_text(encoding="utf-8").split()[:2])


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def acme(tmp_path_factory) -> dict[str, Path]:
    """ACME Appliances Ltd, in English: a procedure (A/0, then A/1), a form, an instruction that was withdrawn,
    a numbered controlled copy; its site, audit pack and Word exports."""
    runner = CliRunner()
    work = tmp_path_factory.mktemp("english")
    root = work / "acme"
    invoke(runner, work, "init", str(root), "--locale", "en", "--company", "ACME Appliances Ltd", "--catalogue",
           "iso9001", "--name", "Alice", "--key", str(ALICE))
    config = root / "doccontrol.yml"
    replace_in(config, "policy:", f"  Bob:\n    position: Managing director\n    department: Management\n"
                                  f"    keys: ['{public(BOB)}']\n    rights: {{approve: {ALL_TYPES}}}\n"
                                  f"  Carol:\n    position: Service engineer\n    department: Service\n"
                                  f"    keys: ['{public(CAROL)}']\n\npolicy:")
    replace_in(config, "holders: []", "holders: [Service desk]")
    invoke(runner, root, "config", "approve", "--key", str(ALICE))
    for doc_type, title in (("procedure", "Complaint handling"), ("form", "Complaint record"),
                            ("instruction", "Old repair guide")):
        invoke(runner, root, "new", doc_type, title, "--author", "Carol")
    procedure = root / "procedures/SOP-001-Complainthandling.md"
    replace_in(procedure, "4.1 (Step)", "4.1 The service desk answers a complaint within 24 hours.[^1]\n\n"
                                        "[^1]: Working hours only.")
    replace_in(procedure, "clauses: []", "clauses: [ISO9001-8.2]")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first documents")
    numbers = ("SOP-001", "F-001", "WI-001")
    invoke(runner, root, "submit", *numbers, "--key", str(CAROL))
    reviewed = invoke(runner, root, "approve", *numbers, "--role", "Review", "--key", str(ALICE)).output
    approved = invoke(runner, root, "approve", *numbers, "--role", "approve", "--key", str(BOB)).output
    invoke(runner, root, "release", *numbers, "--key", str(ALICE))
    invoke(runner, root, "revise", "SOP-001", "--reason", "Answer within 12 hours", "--author", "Carol")
    replace_in(procedure, "within 24 hours", "within 12 hours")
    invoke(runner, root, "submit", "SOP-001", "--key", str(CAROL))
    invoke(runner, root, "approve", "SOP-001", "--role", "review", "--key", str(ALICE))
    invoke(runner, root, "approve", "SOP-001", "--role", "Approve", "--key", str(BOB))
    invoke(runner, root, "release", "SOP-001", "--key", str(ALICE))
    withdrawn = invoke(runner, root, "obsolete", "WI-001", "--reason", "Replaced by the procedure", "--superseded-by",
                       "SOP-001", "--key", str(BOB)).output
    issued = invoke(runner, root, "issue", "SOP-001", "--holder", "Service desk", "--out", str(work / "copies"),
                    "--key", str(ALICE)).output
    invoke(runner, root, "build", "--out", str(work / "site"))
    invoke(runner, root, "pack", "--out", str(work / "pack.zip"), "--redlines-since", "2026-01-01")
    invoke(runner, root, "revise", "F-001", "--reason", "Add a signature field", "--author", "Carol")
    invoke(runner, root, "submit", "F-001", "--key", str(CAROL))
    invoke(runner, root, "approve", "F-001", "--role", "审核", "--key", str(ALICE))
    invoke(runner, root, "approve", "F-001", "--role", "批准", "--key", str(BOB))
    invoke(runner, root, "release", "F-001", "--effective", "2026-12-01", "--key", str(ALICE))
    invoke(runner, root, "new", "procedure", "Warranty claims", "--author", "Carol")
    invoke(runner, root, "build", "--preview", "--out", str(work / "preview"))
    exports = work / "exports"
    for args in (["SOP-001"], ["SOP-001", "--revision", "A/0"], ["F-001"], ["SOP-001", "--redline"],
                 ["F-001", "--revision", "A/1"], ["SOP-002", "--revision", "A/0"]):
        invoke(runner, root, "export", *args, "--out", str(exports))
    (work / "signed.txt").write_text(reviewed + approved + withdrawn + issued, encoding="utf-8")
    return {"root": root, "site": work / "site", "preview": work / "preview", "pack": work / "pack.zip",
            "exports": exports, "copies": work / "copies", "cli": work / "signed.txt"}


def html_text(page: Path) -> str:
    """The text a reader sees on a page: the HTML without scripts, styles, tags and attributes."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_english_site_shows_english_labels(acme):
    site = acme["site"]
    pages = {path.relative_to(site).as_posix(): path for path in site.rglob("*.html")}
    leaking = {name: CJK.findall(path.read_text(encoding="utf-8"))[:5] for name, path in pages.items()
               if CJK.search(path.read_text(encoding="utf-8"))}
    assert leaking == {}
    home = html_text(pages["index.html"])
    for label in ("Controlled documents", "ACME Appliances Ltd: the documents in force on 2026-11-20.",
                  "Recent changes", "First issue", "Revision", "Withdrawn", ", replaced by SOP-001", "Documents",
                  "Document register", "2 in all", "Withdrawn documents", "1 withdrawn",
                  "Clause matrix", "Standards and documents"):
        assert label in home, label
    assert '<html lang="en"' in pages["index.html"].read_text(encoding="utf-8")
    assert "ACME Appliances Ltd Controlled documents" in home  # the site's name in its header
    assert "© ACME Appliances Ltd · Controlled documents; a printed copy is uncontrolled" in home
    document = html_text(pages["SOP-001/index.html"])
    for label in ("Document number", "Revision A/1", "Status Effective", "Effective date 2026-11-20",
                  "Review Alice", "Approve Bob", "Prepared by Carol", "Next review", "Department Service",
                  "Document type Procedure", "Revision record", "Change",
                  "Approved by", "Redline", "Clauses (1)", "Printed copy: uncontrolled"):
        assert label in document, label
    form = pages["F-001/index.html"].read_text(encoding="utf-8")
    assert "Download the blank form (Word)" in form and "F-001-A0-Complaintrecord-blank-form.docx" in form
    assert (site / "F-001" / "F-001-A0-Complaintrecord-blank-form.docx").is_file()
    register = html_text(pages["register/index.html"])
    for label in ("Document register", "Title", "Status", "Next review", "Effective", "Reason for withdrawal",
                  "Replaced by the procedure"):
        assert label in register, label
    withdrawn = html_text(pages["withdrawn/index.html"])
    assert "WI-001 Old repair guide (withdrawn)" in withdrawn
    assert "WI-001 was withdrawn on 2026-11-20 and must not be used." in withdrawn
    assert "Replaced by: SOP-001 Complaint handling." in withdrawn
    clauses = html_text(pages["clauses/index.html"])
    assert "Requirement" in clauses and "(required)" in clauses and "Not covered" in clauses
    assert "ISO9001-8.2 Requirements for products and services (required) SOP-001 Complaint handling" in clauses
    redline = html_text(pages["SOP-001/redline/index.html"])
    for label in ("Redline, not the current text", "Struck-through text is withdrawn",
                  "the document's page (A/1)", "Changes to the text", "characters inserted", "Underlined"):
        assert label in redline, label
    not_found = html_text(pages["404.html"])
    assert "Page not found" in not_found and "All documents in force: Document register" in not_found
    nav = html_text(pages["procedure/index.html"])
    assert "Home" in nav and "Procedure" in nav
    print_css = (site / "assets/doccontrol/print/SOP-001.css").read_text(encoding="utf-8")
    assert '"Page " counter(page) " of " counter(pages)' in print_css
    assert 'print-en.css' in pages["index.html"].read_text(encoding="utf-8")
    search = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    assert search["config"]["lang"] == ["en"]
    preview = html_text(acme["preview"] / "index.html")
    assert "Draft / not approved" in preview and "This is an authors' preview" in preview
    assert "ACME Appliances Ltd Document preview (drafts, not approved)" in preview
    assert not CJK.search((acme["preview"] / "SOP-002" / "index.html").read_text(encoding="utf-8"))


def test_an_english_page_in_chromium(acme):
    """The control block as Chromium lays it out: English labels, and the page in English for the browser."""
    from playwright.sync_api import sync_playwright

    site = acme["site"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *args: None}),
        directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/SOP-001/")
            labels = page.locator(".dc-header dt").all_inner_texts()
            assert labels[:6] == ["Document number", "Revision", "Status", "Effective date", "Review", "Approve"]
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator(".md-search__input").get_attribute("placeholder") == "Search"
            assert not CJK.search(page.locator("body").inner_text())
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def word_texts(path: Path, prefix: str) -> str:
    """The text runs (and watermark strings) of the package's parts whose names start with prefix."""
    with zipfile.ZipFile(path) as package:
        xml = "".join(package.read(name).decode("utf-8") for name in package.namelist() if name.startswith(prefix))
    xml = xml.replace("<w:noBreakHyphen/>", "<w:t>-</w:t>")
    runs = re.findall(r"<w:(?:t|delText)(?: [^>]*)?>([^<]*)</w:(?:t|delText)>", xml)
    return unescape("".join(runs) + " " + " ".join(re.findall(r' string="([^"]*)"', xml)))


def test_the_english_word_copy_is_labelled_in_english(acme):
    exports = acme["exports"]
    current = exports / "SOP-001-A1-Complainthandling.docx"
    body = word_texts(current, "word/document.xml")
    for label in ("ACME Appliances Ltd", "Procedure", "Complaint handling", "Document number", "Revision",
                  "Effective date", "Department", "Control status", "Uncontrolled (For reference only; check the "
                  "revision against the controlled site before use)", "Approvals", "Signature", "Time",
                  "Key fingerprint", "Prepared by", "Review", "Approve", "Uncontrolled · For reference only",
                  "Revision record", "Summary of change", "Approved by", "Notes", "Working hours only."):
        assert label in body, label
    headers = word_texts(current, "word/header")
    assert all(label in headers for label in ("Document number: ", "Revision: ", "Effective date: ", "Page ", " of "))
    footers = word_texts(current, "word/footer")
    assert "Control status: " in footers and "Uncontrolled" in footers and "Page " in footers
    for path in exports.iterdir():
        for part in ("word/document.xml", "word/header", "word/footer", "docProps/core.xml"):
            assert not CJK.search(word_texts(path, part)), (path.name, part)
    with zipfile.ZipFile(current) as package:
        core = package.read("docProps/core.xml").decode("utf-8")
    assert "<dc:language>en</dc:language>" in core and "controlled document SOP-001 A/1" in core
    old = exports / "SOP-001-A0-Complainthandling.docx"
    assert word_texts(old, "word/header").count("Obsolete") >= 2
    redline = exports / "SOP-001-A0-A1-Complainthandling-Redline.docx"
    assert "Revised by / date" in word_texts(redline, "word/document.xml")
    assert "Redline" in word_texts(redline, "word/header")
    assert "Not yet effective" in word_texts(exports / "F-001-A1-Complaintrecord.docx", "word/header")
    assert "Draft" in word_texts(exports / "SOP-002-A0-Warrantyclaims.docx", "word/header")
    form = word_texts(exports / "F-001-A0-Complaintrecord.docx", "word/document.xml")
    assert "Retention" in form and "Not signed" not in form and "Approve" in form
    copy = next(acme["copies"].glob("*.docx"))
    assert copy.name == "SOP-001-A1-Complainthandling-controlled-copy-01.docx"
    marks = word_texts(copy, "word/")
    assert "Controlled" in marks and "Copy no. 01  Holder Service desk  Issued 2026-11-20" in marks


def test_the_english_pack_names_its_files_and_columns_in_english(runner, acme):
    with zipfile.ZipFile(acme["pack"]) as pack:
        names = pack.namelist()
        register = pack.read("Document register.csv").decode("utf-8-sig")
        withdrawn = pack.read("Withdrawn documents.csv").decode("utf-8-sig")
        manifest = json.loads(pack.read("manifest.json"))
        readme = pack.read("Signed record/README.txt").decode("utf-8")
        matrix = word_texts_of(pack.read("Clause matrix.docx"))
        register_docx = word_texts_of(pack.read("Document register.docx"))
    assert [name for name in names if CJK.search(name)] == []
    for name in ("Procedure/SOP-001-A1-Complainthandling.docx", "Form/F-001-A0-Complaintrecord.docx",
                 "Document register.docx", "Clause matrix.docx", "Distribution register.csv",
                 "Redlines/SOP-001-A0-A1-Complainthandling-Redline.docx", "Signed record/allowed_signers"):
        assert name in names, name
    rows = list(csv.reader(io.StringIO(register)))
    assert rows[0] == ["Document number", "Title", "Type", "Revision", "Status", "Department", "Effective date",
                       "Next review"]
    assert rows[1][:5] == ["SOP-001", "Complaint handling", "Procedure", "A/1", "Effective"]
    assert next(csv.reader(io.StringIO(withdrawn))) == ["Document number", "Title", "Withdrawn on", "Replaced by",
                                                         "Reason for withdrawal"]
    assert manifest["copy"].startswith("Uncontrolled (")
    assert {s["role"] for f in manifest["files"] for s in f.get("signatures", [])} == {"Review", "Approve"}
    assert not CJK.search(readme) and not CJK.search(matrix) and not CJK.search(register_docx)
    assert "Page" in register_docx and "Documents in force on 2026-11-20: 2; withdrawn: 1" in register_docx
    out = invoke(runner, acme["root"], "verify-pack", str(acme["pack"])).output
    assert "verified: 2 documents" in out


def word_texts_of(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = "".join(package.read(name).decode("utf-8") for name in package.namelist() if name.startswith("word/"))
    xml = xml.replace("<w:noBreakHyphen/>", "<w:t>-</w:t>")
    return unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)))


def test_the_command_line_labels_in_english(runner, acme):
    root = acme["root"]
    signed = acme["cli"].read_text(encoding="utf-8")
    assert "SOP-001 A/0: Review signed by Alice (key SHA256:" in signed and "(In review)" in signed
    assert "SOP-001 A/0: Approve signed by Bob (key SHA256:" in signed and "(Approved)" in signed
    assert "WI-001 is withdrawn (Obsolete)" in signed and not CJK.search(signed)
    meanings = {json.loads(line)["statement"].get("meaning") for line in
                (root / "signatures" / "SOP-001.jsonl").read_text(encoding="utf-8").splitlines()}
    assert {"Review: the content is correct, suitable and workable",
            "Approve: approved for release and use"} <= meanings
    table = invoke(runner, root, "register").output
    assert table.splitlines()[0].split() == ["Document", "number", "Title", "Type", "Revision", "Status",
                                             "Department", "Effective", "date", "Next", "review"]
    assert "Effective" in table.splitlines()[2] and not CJK.search(table)
    pending = table.split("Pending (not yet in force, not in the register)")[1]
    assert "Released, effective 2026-12-01" in pending and "SOP-002" in pending and "Draft" in pending
    shown = invoke(runner, root, "show", "SOP-001").output
    assert "Status: Effective (effective)" in shown and "Review: Alice 2026-11-20" in shown
    assert "Prepared by: Carol" in shown and not CJK.search(shown)
    history = invoke(runner, root, "history", "SOP-001").output
    assert "(Prepared by Carol; released 2026-11-20 by Alice" in history and "Review Alice" in history
    assert not CJK.search(history)
    copies = invoke(runner, root, "copies").output
    assert copies.split()[:3] == ["No.", "Copy", "no."] and "In use" in copies and not CJK.search(copies)
    diff = invoke(runner, root, "diff", "SOP-001", "--from", "A/0", "--to", "A/1").output
    assert "(prepared by Carol" in diff and not CJK.search(diff)
