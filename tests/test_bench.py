"""Smoke test of the benchmark harness on a tiny corpus, so that it cannot rot (no timings asserted)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, git, invoke

sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_bench_run_prints_the_table(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--n", "12", "--repeat", "2",
         "--workloads", "check,history", "--work-dir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert any(line.split()[:4] == ["N", "workload", "median", "floor"] for line in lines), result.stdout
    for workload in ("check (cold)", "check (warm)", "history"):
        assert any(line.startswith("12") and workload in line for line in lines), result.stdout
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [row["workload"] for row in rows] == ["check (cold)", "check (warm)", "history"]
    assert all(row["median"] > 0 and row["floor"] > 0 and row["ratio"] > 0 for row in rows)
    assert [row["paired"] for row in rows] == [True, False, True]
    assert all(len(row["runs"]) == len(row["floor_runs"]) == 2 for row in rows)


def test_a_paired_ratio_is_the_median_of_per_pair_ratios():
    loader = importlib.machinery.SourceFileLoader("bench_run", str(ROOT / "bench" / "run"))
    bench = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    sys.modules[loader.name] = bench  # dataclasses look their module up while the class is made
    loader.exec_module(bench)
    row = bench.Row(1000, "build", times=[2.0, 9.0, 3.0], floor_times=[1.0, 3.0, 2.0], paired=True)
    assert row.ratio == 2.0  # the median of 2, 3 and 1.5
    row.paired = False
    assert row.ratio == 1.5  # the median time 3 over the median floor 2


def test_corpus_is_valid_and_deterministic(tmp_path, runner, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", make_corpus.NOW)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    first = tmp_path / "a"
    summary = make_corpus.make_corpus(12, first, seed=7, quiet=True)
    make_corpus.make_corpus(12, tmp_path / "b", seed=7, quiet=True)
    assert git(first, "rev-parse", "HEAD") == git(tmp_path / "b", "rev-parse", "HEAD")
    assert summary["documents"] == 12 and summary["revisions"] >= 24
    check = json.loads(invoke(runner, first, "check", "--format", "json").output)
    assert check["documents"] == 12 and check["errors"] == 0 and check["warnings"] == 0
    assert "the record is intact" in invoke(runner, first, "verify").output
    history = json.loads(invoke(runner, first, "history", "--format", "json").output)
    assert all(row["record"] == "signed" for record in history for row in record["rows"])  # all released, signed
    types = {record["number"][:2] for record in history}
    assert types == {"QM", "QP", "QI", "QR"}


def test_bench_redline_workloads_run(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--n", "12", "--repeat", "1", "--workloads", "redline",
         "--work-dir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    rows = {row["workload"]: row for row in json.loads(out.read_text(encoding="utf-8"))}
    assert list(rows) == ["diff (one procedure)", "build with redlines", "build with redlines, cold"]
    assert rows["diff (one procedure)"]["note"].endswith("kB") and int(rows["diff (one procedure)"]["note"][:-3]) >= 15
    assert all(row["median"] > 0 and row["floor"] > 0 for row in rows.values())
    assert rows["build with redlines"]["paired"] and rows["build with redlines, cold"]["paired"]


def test_bench_republish_verify_and_signature_workloads_run(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--n", "12", "--repeat", "1",
         "--workloads", "republish,verify,signatures", "--work-dir", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, env=_env(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    rows = {row["workload"]: row for row in json.loads(out.read_text(encoding="utf-8"))}
    assert list(rows) == ["build, first (no earlier build)", "republish after one release",
                          "rebuild with nothing changed", "verify (cold)", "verify (warm)", "build, signed",
                          "pack, signed"]
    assert all(row["median"] > 0 for row in rows.values())
    assert rows["build, signed"]["paired"] and rows["pack, signed"]["floor"] > 0
    assert "(policy unsigned)" in rows["pack, signed"]["floor_note"]


def test_the_unsigned_twin_holds_the_same_documents_with_no_signature(tmp_path, runner, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", make_corpus.NOW)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    signed, unsigned = tmp_path / "signed", tmp_path / "unsigned"
    make_corpus.make_corpus(12, signed, seed=3, quiet=True)
    make_corpus.make_corpus(12, unsigned, seed=3, quiet=True, unsigned=True)
    names = sorted(p.relative_to(signed).as_posix() for p in signed.rglob("*.md"))
    assert names == sorted(p.relative_to(unsigned).as_posix() for p in unsigned.rglob("*.md"))
    assert all((signed / name).read_bytes() == (unsigned / name).read_bytes() for name in names)
    ledgers = [line for p in (unsigned / "signatures").glob("*.jsonl") for line in p.read_text().splitlines()]
    assert ledgers and not any('"signature"' in line for line in ledgers)
    verified = invoke(runner, unsigned, "verify").output
    assert "the record is intact; 0 signatures verified" in verified and "policy unsigned" in verified
