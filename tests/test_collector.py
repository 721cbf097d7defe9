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
    assert seen == [collector.COMMAND_THRESHOLDS]
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
