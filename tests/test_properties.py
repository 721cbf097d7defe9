"""Property-based tests: the front-matter reader, revision arithmetic and numbering.

Hypothesis generates the inputs; every property is what a user relies on: a broken file
gives a finding and never a crash, what is written is what is read back, revisions
advance one step at a time, and a document number is never handed out twice.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from doccontrol.config import Config, load_config
from doccontrol.errors import DoccontrolError
from doccontrol.loader import Source, load_texts, number_in_name, parse_source, split_front_matter
from doccontrol.model import Finding, Revision, RevisionError
from doccontrol.schema import ConfigModel, RevisionText
from doccontrol.validate import validate
from doccontrol.workspace import Workspace
from doccontrol.yamlread import YamlDocument, YamlProblem, read_yaml

from badinput.cases import BASE, DOC
from conftest import CLAUSES, CONFIG, write

SETTINGS = settings(deadline=None, max_examples=150, database=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def config_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("properties")
    write(root, "doccontrol.yml", CONFIG)
    write(root, "clauses.yml", CLAUSES)
    return root


# -- the YAML reader ---------------------------------------------------------------------------

YAML_PIECES = st.sampled_from([
    "title", "number", "a", "on", "NO", "03", "010", "~", "null", "2026-02-30", "2026-11-16", "1:30", "0x1F",
    ": ", ":", "- ", "-", "\n", "\n  ", "\n    ", "  ", " ", "\t", "'", '"', "\\", "[", "]", "{", "}", ",", "?",
    "&a ", "*a", "!!str ", "!!binary ", "!x ", "<<: ", "%YAML 1.1\n", "---\n", "...\n", "#", "|", ">", "\r", "\r\n",
    "\ufeff", "\x00", "\x85", "\u2028", "é", "质量部", "ＱＰ", "\U0001f600", "\ud800", "9" * 30,
])
YAMLISH = st.lists(YAML_PIECES, max_size=40).map("".join)


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, dt.date))


@SETTINGS
@given(st.one_of(st.text(), YAMLISH))
@example("a: " + "[" * 100_000)
@example("a: &x [1]\nb: *x\n")
@example("a: b\x07c\n")
def test_read_yaml_raises_only_yaml_problem(text):
    try:
        document = read_yaml(text)
    except YamlProblem as problem:
        assert 1 <= problem.line <= text.count("\n") + 1
        assert problem.message and problem.fix, "every problem says what to do"
        return
    assert isinstance(document, YamlDocument)
    assert _plain(document.data)
    assert all(1 <= line <= text.count("\n") + 1 for line in document.lines.values())


KEYS = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(
    lambda k: k not in {"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
SCALARS = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), blacklist_characters="\ufeff"),
            max_size=30),
    st.integers(-10**9, 10**9),
    st.dates(dt.date(1900, 1, 1), dt.date(2199, 12, 31)),
    st.booleans(),
)


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, dt.date)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


BODY_LINES = st.lists(st.one_of(st.sampled_from(["---", "...", "", "# 标题", "- a: b", "<script>"]),
                                st.text(st.characters(blacklist_characters="\n\r"), max_size=20)), max_size=8)


@SETTINGS
@given(st.dictionaries(KEYS, SCALARS, max_size=8), BODY_LINES)
def test_front_matter_round_trip(meta, body_lines):
    yaml_text = "\n".join(f"{key}: {_yaml_scalar(value)}" for key, value in meta.items())
    body = "\n".join(body_lines)
    text = "---\n" + (yaml_text + "\n" if yaml_text else "") + "---\n" + body
    split = split_front_matter("x.md", text)
    assert not isinstance(split, Finding), split
    got_yaml, got_body, body_line = split
    assert got_yaml == yaml_text
    assert got_body == body
    assert text.split("\n")[body_line - 1:] == body.split("\n")
    document = read_yaml(got_yaml)
    assert document.data == meta
    for index, key in enumerate(meta, 1):
        assert document.lines[key] == index  # line within the YAML; +1 in the file


@SETTINGS
@given(st.text())
def test_split_front_matter_never_raises(text):
    split = split_front_matter("x.md", text)
    if isinstance(split, Finding):
        assert split.line >= 1 and split.fix
    else:
        yaml_text, body, body_line = split
        assert text.startswith("---")
        assert 2 <= body_line <= text.count("\n") + 2


MUTATIONS = st.lists(st.tuples(st.integers(0, len(BASE.encode())), st.integers(0, 8),
                               st.binary(max_size=6) | st.sampled_from([b"\r\n", b"\t", b"'", b'"', b":", b"[", b"&a",
                                                                        b"\xef\xbb\xbf", b"\xb9\xe3", b"\x00", b"---\n",
                                                                        "ＱＰ".encode(), b"<script>"])),
                     min_size=1, max_size=4)


@SETTINGS
@given(MUTATIONS)
def test_a_damaged_document_gives_findings_not_a_crash(config_root, mutations):
    data = bytearray(BASE.encode())
    for position, delete, insert in mutations:
        position = min(position, len(data))
        data[position:position + delete] = insert
    config = load_config(config_root)
    loaded = load_texts([Source(DOC)], {DOC: bytes(data)})
    findings = loaded.findings + validate(config, loaded.documents, TODAY)
    lines = bytes(data).count(b"\n") + 2
    for finding in findings:
        assert 1 <= finding.line <= lines, finding
        assert finding.message and finding.fix, finding
    assert loaded.documents or any(f.path == DOC for f in loaded.findings)


def test_the_unmodified_base_document_is_valid(config_root):
    doc, findings = parse_source(Source(DOC), {DOC: BASE.encode()})
    assert doc is not None and not findings
    assert not [f for f in validate(load_config(config_root), [doc], TODAY) if f.path == DOC]


# -- revisions ---------------------------------------------------------------------------------

LETTERS = st.sampled_from(string.ascii_uppercase)
REVISIONS = st.builds(Revision, LETTERS, st.integers(0, 9))
MAX_MODIFICATION = st.integers(1, 9)


@SETTINGS
@given(REVISIONS)
def test_revision_text_round_trip(rev):
    assert Revision.parse(str(rev)) == rev
    assert TypeAdapter(RevisionText).validate_python(str(rev)) == str(rev)


@SETTINGS
@given(st.from_regex(r"[A-Z]/\d", fullmatch=True) | st.text(max_size=5))
@example("A/０")
@example("A/٣")
@example("A/0\n")
def test_every_revision_the_schema_accepts_reads_back_unchanged(text):
    try:
        TypeAdapter(RevisionText).validate_python(text)
    except ValidationError:
        return
    assert str(Revision.parse(text)) == text


@SETTINGS
@given(st.from_regex(r"[A-Z]/\d\n?", fullmatch=True) | st.text(max_size=4))
@example("A/٣")
@example("A/1\n")
@example("A/３")
def test_revision_parse_accepts_only_an_ascii_letter_slash_and_digit(text):
    """\\d would read A/٣ (Arabic-Indic three) as A/3, and $ would let A/1 plus a newline through."""
    exact = len(text) == 3 and text[0] in string.ascii_uppercase and text[1] == "/" and text[2] in string.digits
    try:
        Revision.parse(text)
    except RevisionError:
        assert not exact
    else:
        assert exact


@pytest.mark.parametrize("text", ["A/٣", "A/1\n", "A/３", "\nA/1", "A/1 "])
def test_revision_with_a_foreign_digit_or_a_line_break_is_refused(text):
    with pytest.raises(RevisionError):
        Revision.parse(text)
    with pytest.raises(ValidationError):
        TypeAdapter(RevisionText).validate_python(text)


@SETTINGS
@given(REVISIONS, MAX_MODIFICATION, st.booleans())
def test_next_always_follows(rev, max_mod, major):
    assume(rev.letter != "Z")
    following = rev.next(major=major, max_modification=max_mod)
    assert following.follows(rev, max_modification=max_mod)
    assert following > rev
    assert following.modification <= max_mod


@SETTINGS
@given(REVISIONS, REVISIONS, MAX_MODIFICATION)
def test_follows_only_the_next_revisions(earlier, later, max_mod):
    assume(earlier.letter != "Z")
    allowed = {earlier.next(max_modification=max_mod), earlier.next(major=True, max_modification=max_mod)}
    assert later.follows(earlier, max_modification=max_mod) == (later in allowed)
    if later.follows(earlier, max_modification=max_mod):
        assert later > earlier


@SETTINGS
@given(REVISIONS, REVISIONS)
def test_revision_order_is_letter_then_modification(a, b):
    assert (a < b) == ((a.letter, a.modification) < (b.letter, b.modification))


@SETTINGS
@given(MAX_MODIFICATION)
def test_stepping_from_a0_visits_every_revision_in_order(max_mod):
    rev, seen = Revision("A", 0), [Revision("A", 0)]
    while True:
        try:
            rev = rev.next(max_modification=max_mod)
        except RevisionError:
            break
        assert rev.follows(seen[-1], max_modification=max_mod) and rev > seen[-1]
        seen.append(rev)
    assert len(seen) == 26 * (max_mod + 1) == len(set(seen))
    assert seen[-1].letter == "Z"


# -- numbering ---------------------------------------------------------------------------------

CODES = st.from_regex(r"[A-Z]{1,4}", fullmatch=True)
TYPE_NAMES = ("manual", "procedure", "instruction", "form", "external")


@st.composite
def configs(draw) -> Config:
    names = draw(st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=5, unique=True))
    schemes = draw(st.lists(st.tuples(CODES, CODES), min_size=len(names), max_size=len(names), unique=True))
    types = {name: {"label": name, "prefix": prefix, "department": department,
                    "width": draw(st.integers(1, 6)), "folder": name + "s"}
             for name, (prefix, department) in zip(names, schemes)}
    model = ConfigModel.model_validate({"company": "测试", "types": types, "people": {}})
    return Config(root=None, model=model, clauses={})


@SETTINGS
@given(configs(), st.data())
def test_format_number_and_serial_of_round_trip(config, data):
    doc_type = data.draw(st.sampled_from(list(config.types)))
    width = config.types[doc_type].width
    serial = data.draw(st.integers(0, 10**width - 1))
    number = config.format_number(doc_type, serial)
    assert config.serial_of(number) == (doc_type, serial)
    assert config.type_of_number(number) == doc_type
    assert config.number_pattern(doc_type).match(number)


@SETTINGS
@given(configs(), st.from_regex(r"[A-Z]{1,4}-[A-Z]{1,4}-[0-9]{1,7}", fullmatch=True))
def test_serial_of_reads_only_numbers_it_would_write(config, number):
    found = config.serial_of(number)
    if found is not None:
        assert config.format_number(*found) == number


@SETTINGS
@given(configs(), st.data(), st.sampled_from(["\n", "٣", "３", "߃"]))
def test_numbers_with_a_foreign_digit_or_a_line_break_are_refused(config, data, oddity):
    doc_type = data.draw(st.sampled_from(list(config.types)))
    number = config.format_number(doc_type, 1)
    odd = number + oddity if oddity == "\n" else number[:-1] + oddity
    assert config.serial_of(odd) is None and config.type_of_number(odd) is None
    assert not config.number_pattern(doc_type).match(odd)


@pytest.mark.parametrize("name, number", [
    ("QP-SH-001-程序.md", "QP-SH-001"), ("QM-SH-01-手册", "QM-SH-01"), ("ＱＰ-ＳＨ-００２-全角.md", "QP-SH-002"),
    ("QP-SH-٠٠٣-程序.md", None), ("QP-SH-004.md\n", None), ("QP-SH-005\n", None), ("程序.md", None),
])
def test_number_in_name_reads_ascii_digits_only(name, number):
    assert number_in_name(name) == number


def test_configs_that_would_number_two_types_alike_are_refused():
    types = {name: {"label": name, "prefix": "QP", "department": "SH", "width": width, "folder": name}
             for name, width in (("procedure", 3), ("instruction", 4))}
    with pytest.raises(ValidationError):
        ConfigModel.model_validate({"company": "测试", "types": types, "people": {}})


ASCII_NUMBERS = st.from_regex(r"(QM-SH-[0-9]{2}|Q[PIRE]-SH-[0-9]{3})", fullmatch=True)
ODD_NUMBERS = st.sampled_from(["QP-SH-01", "QP-SH-0001", "ＱＰ-ＳＨ-００９", "qp-sh-005", "XX-SH-001", "QP-SH-٠٠٧"])


@pytest.fixture(scope="module")
def workspace(config_root):
    return Workspace(config_root)


@SETTINGS
@given(st.sets(ASCII_NUMBERS | ODD_NUMBERS, max_size=30), st.sets(ASCII_NUMBERS, max_size=30),
       st.sampled_from(TYPE_NAMES), st.integers(1, 5))
def test_next_number_never_reuses_a_number(workspace, worktree, history, doc_type, count):
    """Numbers in the working tree and ever in git history (obsolete ones too) are never handed out again."""
    used = set(worktree) | set(history)
    workspace.documents = lambda: [SimpleNamespace(number=n) for n in sorted(worktree)]
    workspace._numbers_in_history = lambda: set(history)
    pattern = workspace.config.number_pattern(doc_type)
    before = [s for t, s in filter(None, map(workspace.config.serial_of, used)) if t == doc_type]
    for _ in range(count):
        try:
            number = workspace.next_number(doc_type)
        except DoccontrolError as error:
            assert "no " in str(error) and error.fix
            break
        assert number not in used
        assert pattern.match(number)
        assert workspace.config.serial_of(number)[1] > max(before, default=0)
        used.add(number)
        worktree = worktree | {number}
        workspace.documents = lambda w=worktree: [SimpleNamespace(number=n) for n in sorted(w)]
