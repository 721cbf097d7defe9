"""The garbage collector's rounds are seldom while a command runs, and as they were after it."""

from __future__ import annotations

import gc

import pytest

from doccontrol import collector, proof
from doccontrol.cli import cli


def test_a_command_runs_with_seldom_rounds_and_restores_them(runner, repo, monkeypatch):
    seen = []
    real_prove = proof.prove

    def watched(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real_prove(*args, **kwargs)

    monkeypatch.setattr("doccontrol.publication.prove", watched)
    before = gc.get_threshold()
    result = runner.invoke(cli, ["--repo", str(repo), "register", "--as-of", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert seen == [(before[0], *collector.OLDER_THRESHOLDS)]
    assert gc.get_threshold() == before


def test_thresholds_come_back_when_the_command_fails(runner, tmp_path):
    before = gc.get_threshold()
    result = runner.invoke(cli, ["--repo", str(tmp_path), "check"])
    assert result.exit_code != 0
    assert gc.get_threshold() == before


def test_paused_restores_the_collector_however_the_block_ends():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("stop")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()


REJECTED_DOCUMENTS = {
    "a YAML syntax error": "---\nnumber: QP-SH-500\ntitle: {\"x\n---\nbody\n",
    "front matter that is not a mapping": "---\n- a\n---\nbody\n",
    "front matter never closed": "---\nnumber: x\n",
    "a field the schema refuses": "---\nnumber: QP-SH-500\ntitle: 标题\nrevision: Z/99\n---\nbody\n",
    "a tab in the front matter": "---\nnumber:\tx\n---\n",
}
REJECTED_LEDGER_LINES = {
    "a name with a hidden character": '{"statement": {"kind": "submit", "name": "王\\u200b芳"}}',
    "not JSON": "not json",
    "a statement that is not an object": '{"statement": 1}',
    "nested too deeply": "[" * 40 + "]" * 40,
    "every field wrong": '{"statement": {"kind": "release", "name": "A", "at": "x", "config": 0}}',
}


@pytest.mark.parametrize("text", REJECTED_DOCUMENTS.values(), ids=REJECTED_DOCUMENTS.keys())
def test_a_rejected_document_leaves_no_cycle_holding_its_text(text):
    """Young rounds are what free such cycles, so that a pushed set of rejected files cannot make a command (the
    server's guard among them) keep every text it read; reading leaves none at all."""
    from doccontrol.loader import Source, load_texts

    path = "procedures/QP-SH-500-x.md"
    gc.collect()
    with collector.paused():
        result = load_texts([Source(path)], {path: text.encode("utf-8")})
        assert result.findings and not result.documents
        del result
        assert gc.collect() == 0


@pytest.mark.parametrize("line", REJECTED_LEDGER_LINES.values(), ids=REJECTED_LEDGER_LINES.keys())
def test_a_rejected_ledger_line_leaves_no_cycle_holding_the_ledger(line):
    from doccontrol.ledger import parse_ledger

    gc.collect()
    with collector.paused():
        ledger = parse_ledger("signatures/QP-SH-001.jsonl", (line + "\n").encode("utf-8"))
        assert ledger.findings and not ledger.entries
        del ledger
        assert gc.collect() == 0
