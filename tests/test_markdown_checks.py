"""The Markdown checks: linear scans that agree with what they replace, and a hang guard on hostile text."""

from __future__ import annotations

import re
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doccontrol.errors import DoccontrolError
from doccontrol.markdown_checks import (
    html_tags,
    limits_digest,
    markdown_findings,
    refuse_beyond_limits,
    scan,
    strip_inline_code,
)
from doccontrol.model import Document, Part, Prepared

# The regular expressions check used before (quadratic on `<` followed by a long run of blanks).
RAW_HTML = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?\s*>")
HTML_BLOCK_START = re.compile(r"^ {0,3}<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)(?=[\s/>]|$)")
HTML_DANGEROUS = re.compile(r"<\s*/?\s*(script|style|iframe|object|embed|frame|frameset|meta|link|base|form|svg|"
                            r"math|textarea)(?=[\s/>]|$)", re.IGNORECASE)


def old_finds_html(line: str) -> bool:
    return bool(RAW_HTML.search(line) or HTML_BLOCK_START.match(line) or HTML_DANGEROUS.search(line))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="<>/ \tabsvx=\"'-文", max_size=24))
def test_the_linear_tag_scanner_finds_what_the_old_expressions_found(line):
    old, new = old_finds_html(line), next(html_tags(line), None) is not None
    if old:
        assert new, line
    if new and not old:
        assert re.search(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*/", line), line  # only `<a/x>` is read more strictly


def test_code_is_not_checked():
    text = "```\n<script>\n```\n`<b>` 与 <i>\n~~~\n[//]: # (x)\n~~~\n"
    lines = list(scan(text, 10))
    assert [line.number for line in lines] == [13, 17]
    assert strip_inline_code("`<b>` 与 <i>") == " 与 <i>"
    assert [f.rule for f in markdown_findings("x.md", text, 10)] == ["raw-html"]


HOSTILE = {
    "lt-blanks": "\n\n".join(["<a" + " " * 9_990] * 100),
    "lt-repeated": "\n\n".join(["<a " * 150 + "x" * 9_000] * 100),
    "brackets": "\n\n".join(["[" * 9_999] * 100),
    "link-ends": "\n\n".join(["](" * 4_999] * 100),
    "image-starts": "\n\n".join(["![" * 30 + "](" + "x" * 9_800] * 100),
    "braces": "\n\n".join(["{a" * 4_999] * 100),
    "attribute-list": "\n\n".join(["{:" + " x=1" * 2_400 + "}"] * 100),
    "backticks": "\n\n".join(["`a" * 1_000 + "b" * 7_000] * 100),
    "autolinks": "\n\n".join(["<a:" * 3_000] * 100),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_check_reads_a_megabyte_of_hostile_text_without_stalling(name):
    def expire(signum, frame):
        raise TimeoutError(f"{name}: the checks did not finish within 30 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    try:
        findings = list(markdown_findings("x.md", HOSTILE[name], 1))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(HOSTILE[name]) > 800_000
    assert all(f.path == "x.md" and f.fix for f in findings)


def limited(number: str, body: str, *parts: str) -> Document:
    import datetime as dt

    return Document(path=f"procedures/{number}.md", number=number, title="标题", type="procedure", department="客服部",
                    revision="A/0", status="effective", prepared=Prepared("孙小雨", dt.date(2026, 1, 1)), body=body,
                    history=(), parts=tuple(Part(f"manual/{i}.md", text) for i, text in enumerate(parts)))


def test_texts_accepted_before_are_not_read_again_and_a_new_text_beyond_the_limits_is_still_refused(monkeypatch):
    from doccontrol import markdown_checks

    fine = [limited("QP-SH-001", "正文。\n"), limited("QM-SH-01", "总则。\n", "第一章。\n", "第二章。\n")]
    accepted = refuse_beyond_limits(fine, "build the site")
    assert accepted == {limits_digest(t) for t in ("正文。\n", "总则。\n", "第一章。\n", "第二章。\n")}

    read = []
    real = markdown_checks.limit_text
    monkeypatch.setattr(markdown_checks, "limit_text", lambda path, text, first: read.append(text) or real(path, text,
                                                                                                            first))
    too_long = "x" * 10_001
    again = [*fine, limited("QP-SH-002", "新的正文。\n")]
    assert refuse_beyond_limits(again, "build the site", accepted) == accepted | {limits_digest("新的正文。\n")}
    assert read == ["新的正文。\n"]
    with pytest.raises(DoccontrolError, match="exceeds what the renderers read") as refused:
        refuse_beyond_limits([*fine, limited("QP-SH-003", too_long)], "build the site", accepted)
    assert [f.path for f in refused.value.findings] == ["procedures/QP-SH-003.md"]
