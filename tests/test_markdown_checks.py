"""The Markdown checks: linear scans that agree with what they replace, and a hang guard on hostile text."""

from __future__ import annotations

import re
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doccontrol.markdown_checks import (
    html_tags,
    markdown_findings,
    scan,
    strip_inline_code,
)

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
