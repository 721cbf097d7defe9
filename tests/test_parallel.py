"""A cold proof shares its heaviest steps out to forked worker processes: parsing the ledgers, verifying the
signatures, parsing the texts read from the history. Done in workers or here, it must say exactly the same."""

from __future__ import annotations

import hashlib
import json
import os
import threading

import pytest

from doccontrol import parallel
from doccontrol.repo import Repo

from conftest import git, invoke


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
        assert parallel.shared_map(str, [1, 2, 3, 4], 1) == ["1", "2", "3", "4"]
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
