"""The quick reader of plain block YAML gives exactly what the full reader gives (the same values of the same types,
the same key lines in the same order), or leaves the text to it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doccontrol import yamlread
from doccontrol.yamlread import YamlProblem, plain_block_yaml, read_yaml

from conftest import FORM, PROCEDURE

SETTINGS = settings(deadline=None, max_examples=1500, database=None, suppress_health_check=[HealthCheck.too_slow])


def _full(text: str):
    """What the full reader makes of the text: the document, or the problem."""
    loader = yamlread._Loader(text)
    try:
        return yamlread._Composer(loader).document()
    except Exception as error:  # noqa: BLE001 - any failure means the quick reader must not answer
        return error
    finally:
        loader.dispose()


def _same_or_declined(text: str) -> bool:
    """Whether the quick reader declined; fails when it answered otherwise than the full reader."""
    quick = plain_block_yaml(text)
    if quick is None:
        return True
    full = _full(text)
    assert not isinstance(full, Exception), f"the quick reader read what the full one refuses: {text!r} ({full})"
    assert repr(quick.data) == repr(full.data), text
    assert list(quick.lines.items()) == list(full.lines.items()), text
    return False


def _front(document: str) -> str:
    return document.split("---\n")[1]


def test_front_matter_is_read_quickly_and_the_same():
    for document in (PROCEDURE, FORM):
        assert not _same_or_declined(_front(document))


CASES = [
    "a: 1\nb: 2024-02-30\n",  # no such day
    "a: 2024-02-29\nb: 2025-01-01 10:00:00\nc: 0x1F\nd: 1_000\ne: 1.5\nf: .inf\ng: ~\nh: null\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: true\n",
    "yes: 1\n", "on: 1\n", "null: 1\n", "y: 1\n", "n: 1\n", "1: a\n", "_a: b\n",
    "a: =\n", "a: <<\n", "<<: a\n", "a: -1\n", "a: +1\n", "a: .5\n", "a: 012\n", "a: 0o12\n", "a: 1e3\n",
    "a: 'it''s'\n", "a: \"x\"y\"\n", "a: \"\"\n", "a: ''\n", "a: \"  spaced  \"\n", "a: 'x' y\n",
    "a: x  y  \n", "a:  x\n", "a: x\n  y\n", "a: x\n y: 1\n", "a:\n", "a:\nb: 1\n", "a: \u3000x\u3000\n",
    "a: it's\n", "a: x, y\n", "a: x: y\n", "a: x #c\n", "a: [x, y]\n", "a: [x,y]\n", "a: []\n", "a: [ ]\n",
    "a: [x, ]\n", "a: [x,, y]\n", "a: [1, 2024-01-01, yes, ~]\n", "a: [x\n", "a: [x]y\n", "a: [[x]]\n",
    "a:\n  b: 1\n  c: 2\n", "a:\n  b: 1\n c: 2\n", "a:\n  b: 1\n   c: 2\n", "a:\n    b: 1\n    c: 2\nd: 3\n",
    "a:\n- x\n- y\nb: 1\n", "a:\n  - x\n  - y\n", "a:\n  - x\n - y\n", "a:\n  - x\n   - y\n",
    "a:\n  - b: 1\n    c: 2\n  - b: 3\n", "a:\n  - b: 1\n     c: 2\n", "a:\n  - b: 1\n   c: 2\n",
    "a:\n  - b:\n      c: 1\n", "a:\n  - b:\n    - c\n", "a:\n  - b:\n    c: 1\n", "a:\n  -  b: 1\n",
    "a:\n  -\n    b: 1\n", "a:\n  -x\n", "a:\n  - - x\n", "a:\n  - x\n  b: 1\n",
    "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\n", "a:\n  - b: 1\n    b: 2\n",
    "a: 1\n---\nb: 2\n", "a: 1\n...\n", "? a\n: 1\n", "a: &x 1\n", "a: *x\n", "a: !!str 1\n", "a: |\n  x\n",
    "a: >\n  x\n", "a: {b: 1}\n", "%YAML 1.1\n---\na: 1\n", "a: \"x\\ty\"\n", "a: `x`\n", "a: @x\n",
    "  a: 1\n", "a: 1\n  \n", "\n\na: 1\n\nb: 2\n\n", "", "\n", "x\n", "- a\n", "a: 1\nb\n",
    "a:\n  b:\n    c:\n      d:\n        e:\n          f:\n            g:\n              h: 1\n",
    "a: [" + ", ".join("x" for _ in range(6000)) + "]\n",
]


@pytest.mark.parametrize("text", CASES)
def test_edge_cases_are_read_the_same_or_left_to_the_full_reader(text):
    _same_or_declined(text)


def test_what_the_full_reader_refuses_is_refused():
    for text in ("a: 1\na: 2\n", "yes: 1\n", "a: 2024-02-30\n", "a: [" + ",".join("x" * 6000) + "]\n"):
        with pytest.raises(YamlProblem):
            read_yaml(text)


ROWS = st.lists(st.tuples(st.sampled_from([0, 0, 0, 2, 2, 4, 4, 1, 3]), st.sampled_from([
    "a: 1", "b: x", "c: 2024-01-01", "d: [x, 1]", "- x", "- a: 1", "u: v", "w: 3", "x:", "- y: 2",
    "a:", "b:", "a: 1", "b: x", "c: 2024-01-01", "d: [x, 1]", "e: 'q'", 'f: "q r"', "- x", "- a: 1", "- b:",
    "yes: 1", "g: no", "h: x y", "i: 12:30", "j: -", "- ", "k: []", "l: ~", "m: 1.0", "n: 0x10", "o: 'a''b'",
    "p: 中文", "q:  两 个 ", "", "r: [a, [b]]", "s: x # c", "---", "t: =",
])), max_size=10).map(lambda rows: "\n".join(" " * indent + row for indent, row in rows) + "\n")


@SETTINGS
@given(ROWS)
def test_random_block_yaml_is_read_the_same_or_left_to_the_full_reader(text):
    _same_or_declined(text)
