"""A cold proof shares its heaviest steps out to forked worker processes: parsing the ledgers, verifying the
signatures, parsing the texts read from the history. Done in workers or here, it must say exactly the same."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from doccontrol import parallel
from doccontrol.repo import Repo

from conftest import git, invoke, write


@pytest.fixture
def forked(monkeypatch):
    """Workers from two items on, and a record of every share-out: whether the workers gave their results."""
    given: list[bool] = []
    results = parallel.Shared.results

    def recording(self):
        found = results(self)
        given.append(found is not None)
        return found

    monkeypatch.setattr(parallel, "worker_count", lambda items, per_worker: 2 if items >= 2 else 1)
    monkeypatch.setattr(parallel.Shared, "results", recording)
    return given


def verify_output(runner, root, expect: int) -> str:
    return invoke(runner, root, "--no-cache", "verify", expect=expect).output


def test_a_cold_proof_in_worker_processes_says_what_one_process_says(runner, released_repo, forked, monkeypatch):
    """The record intact, and then forged (a signed name changed after signing): verify's whole report is the same
    with the ledgers, the signatures and the texts done in workers as without any."""
    from doccontrol import signing

    monkeypatch.setattr(signing, "SIGNATURES_PER_WORKER", 1)
    alone = None
    for expect in (0, 1):
        if expect:
            ledger = released_repo / "signatures/QP-SH-001.jsonl"
            lines = ledger.read_text(encoding="utf-8").splitlines()
            record = json.loads(lines[1])
            record["statement"]["name"] = "陈国华" if record["statement"]["name"] != "陈国华" else "周立新"
            lines[1] = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            ledger.write_text("\n".join(lines) + "\n", encoding="utf-8")
            git(released_repo, "commit", "-qam", "an approval rewritten")
        forked.clear()
        shared = verify_output(runner, released_repo, expect)
        assert forked and all(forked), "the workers did the work"
        with monkeypatch.context() as alone_patch:
            alone_patch.setattr(parallel, "worker_count", lambda items, per_worker: 1)
            forked.clear()
            alone = verify_output(runner, released_repo, expect)
            assert not forked
        assert shared == alone
    assert alone is not None and "signature" in alone


def test_a_first_build_parses_in_workers_and_keeps_what_they_parsed(runner, released_repo, forked, tmp_path):
    """With a cache to fill, what workers parse is kept as what parsing here keeps: the next build reads the
    cache and builds the same site."""
    first = invoke(runner, released_repo, "build", "--out", str(tmp_path / "a")).output
    assert forked and all(forked)
    forked.clear()
    again = invoke(runner, released_repo, "build", "--out", str(tmp_path / "b")).output
    assert not forked, "nothing left to parse"
    assert first.startswith("built 3 documents") and again.startswith("built 3 documents")
    files = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert files == {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}


def test_no_worker_is_forked_while_another_thread_runs():
    """A thread may hold a lock a forked worker would then wait for forever: while one runs, the work is done here
    (doccontrol's own progress line aside, which takes no lock a worker needs)."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="someone else's")
    other.start()
    try:
        assert parallel.worker_count(10 ** 6, 1) == 1
        assert parallel.Shared(str, [1, 2, 3, 4], 2).results() is None
    finally:
        stop.set()
        other.join()
    cores = len(os.sched_getaffinity(0))
    assert parallel.worker_count(10 ** 6, 1) == min(cores, parallel.MAX_WORKERS)
    assert parallel.Shared(str, [1, 2, 3, 4], 2).results() == ["1", "2", "3", "4"]


def test_a_history_pass_reads_from_git_only_the_versions_the_ledgers_do_not_give(runner, released_repo,
                                                                                monkeypatch):
    """A version of a ledger that is the file at the commit proven cut after a line is known by its blob id and
    not read; the history is the same as when every version is read, a rewritten line and a removed ledger
    included (those versions are read)."""
    ledger = released_repo / "signatures/QR-SH-001.jsonl"
    lines = ledger.read_text(encoding="utf-8").splitlines()
    ledger.write_text("\n".join([lines[0] + " ", *lines[1:]]) + "\n", encoding="utf-8")
    git(released_repo, "commit", "-qam", "a line rewritten")
    git(released_repo, "rm", "-q", "signatures/QM-SH-01.jsonl")
    git(released_repo, "commit", "-qm", "a ledger removed")
    asked: list[list[str]] = []
    blobs = Repo.blobs

    def recording(self, ids):
        asked.append(sorted(set(ids)))
        return blobs(self, ids)

    monkeypatch.setattr(Repo, "blobs", recording)
    with Repo(released_repo) as repo:
        current = repo.ledger_files()
        with repo.start_ledger_log() as log:
            every = repo.ledger_history("HEAD", None, log)
        read_every = asked[-1]
        with repo.start_ledger_log() as log:
            known = repo.ledger_history("HEAD", None, log, current)
        read_some = asked[-1]
    assert (known.added, known.removed, known.order) == (every.added, every.removed, every.order)
    assert any(path == "signatures/QR-SH-001.jsonl" for _, path, _ in known.removed)
    assert 0 < len(read_some) < len(read_every)
    prefixes = {hashlib.sha1(b"blob %d\0" % end + content[:end]).hexdigest() for content in current.values()
                for end in [0, *(index + 1 for index, byte in enumerate(content) if byte == 10)]}
    assert not set(read_some) & prefixes and set(read_every) & prefixes


def test_a_ledger_of_many_lines_is_hashed_once_a_version_not_once_a_line(released_repo, monkeypatch):
    """Anyone who can push can commit a ledger file of many short lines. Its versions are found by their own
    lengths, one hash each; hashing the prefix at every line would take time growing with the square of the
    lines (400,000 empty lines made a cold verify take 49 s instead of 6)."""
    from doccontrol import repo as repo_module

    write(released_repo, "signatures/QP-XX-001.jsonl", "\n" * 20_000)
    git(released_repo, "add", "-A")
    git(released_repo, "commit", "-qm", "a ledger of many lines")
    write(released_repo, "signatures/QP-XX-001.jsonl", "\n" * 20_001)
    git(released_repo, "commit", "-qam", "one more")
    hashed: list[int] = []  # the length of each prefix hashed

    def counting(header: bytes):
        hashed.append(int(header.split(b" ")[1].rstrip(b"\0")))
        return hashlib.sha1(header)

    monkeypatch.setattr(repo_module, "hashlib", types.SimpleNamespace(sha1=counting))
    with Repo(released_repo) as repo:
        current = repo.ledger_files()
        with repo.start_ledger_log() as log:
            history = repo.ledger_history("HEAD", None, log, current)
    assert ("signatures/QP-XX-001.jsonl", "") in history.added
    assert sorted(length for length in hashed if length >= 20_000) == [20_000, 20_001]
    versions = {blob for line in git(released_repo, "log", "--format=", "--raw", "--no-abbrev", "--",
                                     "signatures/").splitlines() for blob in line.split()[2:4]}
    assert len(hashed) <= len(versions)


WORKERS_AT_WORK = """
import os, signal, sys, time
from doccontrol import parallel

def terminated(number, frame):  # as doccontrol's command line does
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, terminated)
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, also when the suite runs with it ignored
shared = parallel.Shared(time.sleep, [0, 60], 2)  # one worker idle, one at work
print(" ".join(str(pid) for pid in shared.pool._processes), flush=True)
shared.results()
"""


def gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
                   .lower() for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", ["killed", "interrupted", "Ctrl-C in the terminal", "terminated with its group"])
def test_workers_end_with_the_command_however_it_ends(how):
    """Killed outright, the command's workers end with it (they would otherwise wait on their queue forever); on
    Ctrl-C (to the command, or to the terminal's whole process group) or SIGTERM (as `timeout` or a CI cancel
    sends it to the group) the command stops them and shows one interruption, not one per worker."""
    process = subprocess.Popen([sys.executable, "-c", WORKERS_AT_WORK], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    pids = [int(pid) for pid in process.stdout.readline().split()]
    assert len(pids) == 2
    time.sleep(0.5)  # one worker waits for work, the other sleeps on its item
    if how == "killed":
        process.send_signal(signal.SIGKILL)
    elif how == "interrupted":
        process.send_signal(signal.SIGINT)
    else:
        os.killpg(process.pid, signal.SIGINT if how.startswith("Ctrl-C") else signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert gone(pids), f"workers {pids} outlived the command"
    if how != "killed":
        assert process.returncode != 0 and stderr.count("KeyboardInterrupt") == 1, stderr
        assert "ForkProcess" not in stderr


RESULTS_IN_TRANSIT = """
import signal, sys, time
from doccontrol import parallel

def interrupt(number, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGALRM, interrupt)
for delay in [0.05 * step for step in range(1, 13)]:
    shared = parallel.Shared(bytes, [96 << 20, 96 << 20], 2)
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        shared.results()
        signal.setitimer(signal.ITIMER_REAL, 0)
    except KeyboardInterrupt:
        pass
    print(delay, flush=True)
"""


def test_an_interruption_while_results_come_back_never_hangs():
    """Interrupted while a worker sends its results, the command stops the workers and goes on: the pool's reader,
    left waiting for the rest of a killed worker's results, is not waited for forever."""
    done = subprocess.run([sys.executable, "-c", RESULTS_IN_TRANSIT], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 12


@pytest.mark.parametrize("depth", [40, 470, 600])
def test_a_statement_nested_too_deeply_is_a_finding_not_a_traceback(released_repo, depth):
    """A ledger line is read as JSON nested as deep as the reader allows; a statement nested deeper than doccontrol's
    own ever are (a configuration's content 40, 470 or 600 mappings deep: near Python's recursion limit, pickling
    it for the cache failed) is a finding on that line, wherever it is read."""
    from doccontrol.ledger import MAX_NESTING, parse_line

    record = json.loads((released_repo / "signatures/configuration.jsonl").read_text(encoding="utf-8").splitlines()[0])
    inner = record["statement"]["content"]
    for _ in range(depth):
        inner["deeper"] = {}
        inner = inner["deeper"]
    found = parse_line("signatures/configuration.jsonl", 1, json.dumps(record, ensure_ascii=False))
    assert (found.rule, found.message) == (  # type: ignore[union-attr]
        "ledger-format", f"statement is nested more than {MAX_NESTING} levels deep")
    assert parse_line("signatures/configuration.jsonl", 1,
                      (released_repo / "signatures/configuration.jsonl").read_text(encoding="utf-8").splitlines()[0]
                      ).statement.kind == "configuration"  # type: ignore[union-attr]
