"""The proof's caches (parsed ledgers, texts read from commits, the memo of what content decides) never change a
result: a warm proof equals a cold one, a planted or tampered file is ignored, a changed ledger is read again."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import shutil
from pathlib import Path

import pytest

from doccontrol.cache import (
    FORMAT,
    HISTORY_FILE,
    JUDGED_FILE,
    LEDGERS_FILE,
    PROOF_FILE,
    JudgedRecords,
    LedgerCache,
    MemoCache,
    ParseCache,
    SealedFile,
    package_version,
    signing_key,
)
from doccontrol.cli import cli
from doccontrol.ledger import CONFIGURATION, Entry, parse_ledger
from doccontrol.loader import LoadResult
from doccontrol.model import Finding
from doccontrol.repo import Repo
from doccontrol.signing import PENDING, Verifier
from doccontrol.verification import judge_ledgers, parse_ledgers
from doccontrol.workspace import RECORD_MEMO

from conftest import git, invoke

PROC_LEDGER = "signatures/QP-SH-001.jsonl"
CACHES = (LEDGERS_FILE, PROOF_FILE, HISTORY_FILE, JUDGED_FILE)


@pytest.fixture(autouse=True)
def private_key_home(tmp_path, monkeypatch):
    """Each test signs its caches with its own key, never the developer's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


def _new_commit(root: Path, name: str = "a") -> None:
    """A new commit, so that the verify memo misses and the record is proven again (with the caches)."""
    (root / f"{name}.txt").write_text(name, encoding="utf-8")
    git(root, "add", f"{name}.txt")
    git(root, "commit", "-qm", f"add {name}")


def _verify(runner, root: Path, *options: str, expect: int = 0) -> str:
    return invoke(runner, root, *options, "verify", expect=expect).output


def test_a_warm_proof_says_what_a_cold_one_says_and_no_cache_writes_none(runner, released_repo):
    folder = released_repo / ".doccontrol-cache"
    _verify(runner, released_repo, "--no-cache")
    assert not folder.exists(), "--no-cache must not write a cache"
    _verify(runner, released_repo)
    assert all((folder / name).is_file() for name in CACHES)
    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "表单合并", "--as", "陈国华")
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "补充回访", "--author", "孙小雨")
    warm = _verify(runner, released_repo)
    assert warm == _verify(runner, released_repo, "--no-cache")
    assert "the record is intact" in warm


def _exploit(marker: Path) -> bytes:
    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Exploit())


@pytest.mark.parametrize("name", CACHES)
def test_a_planted_proof_cache_is_never_unpickled(runner, released_repo, tmp_path, name):
    _verify(runner, released_repo)
    _new_commit(released_repo)
    marker = tmp_path / "pwned"
    (released_repo / ".doccontrol-cache" / name).write_bytes(b"\0" * 32 + _exploit(marker))
    assert _verify(runner, released_repo) == _verify(runner, released_repo, "--no-cache")
    assert not marker.exists()


def _poison(root: Path, raw: bytes) -> bytes:
    """A ledger cache that says the procedure's ledger holds nothing: the payload, unsealed."""
    stored = {(PROC_LEDGER, hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()): pickle.dumps(((), ()))}
    return pickle.dumps((f"{FORMAT}|{package_version()}", stored), protocol=pickle.HIGHEST_PROTOCOL)


def test_a_tampered_ledger_cache_is_ignored_and_the_seal_is_what_keeps_it_out(runner, released_repo, tmp_path,
                                                                              monkeypatch):
    _verify(runner, released_repo)
    _new_commit(released_repo)
    cold = _verify(runner, released_repo, "--no-cache")
    target = released_repo / ".doccontrol-cache" / LEDGERS_FILE
    payload = _poison(released_repo, (released_repo / PROC_LEDGER).read_bytes())
    other_key = b"k" * 32  # another user's key, or a file committed from another machine
    target.write_bytes(hmac.new(other_key, payload, hashlib.sha256).digest() + payload)
    assert _verify(runner, released_repo) == cold
    invoke(runner, released_repo, "check")
    key = signing_key()
    assert key is not None
    target.write_bytes(hmac.new(key, payload, hashlib.sha256).digest() + payload)
    (target.parent / RECORD_MEMO).unlink()  # else check reads back what it found last, without the ledgers
    poisoned = invoke(runner, released_repo, "check", expect=1).output
    assert "QP-SH-001" in poisoned  # sealed with this user's key, the same bytes would be believed


def test_a_ledger_rewritten_at_the_same_path_is_read_again(runner, released_repo):
    _verify(runner, released_repo)
    ledger_file = released_repo / PROC_LEDGER
    text = ledger_file.read_text(encoding="utf-8")
    ledger_file.write_text(text.replace('"at":"2026-11-20T10:00:00+08:00"', '"at":"2026-11-20T10:00:01+08:00"', 1),
                           encoding="utf-8")
    git(released_repo, "commit", "-qam", "tidy")
    changed = git(released_repo, "log", "-1", "--format=%h", "--abbrev=10").strip()
    warm = _verify(runner, released_repo, expect=1)
    assert warm == _verify(runner, released_repo, "--no-cache", expect=1)
    assert (f"commit {changed} removed or changed a line of the QP-SH-001 ledger; the record only grows "
            "[ledger-rewritten]") in warm
    ledger_file.write_text(text, encoding="utf-8")
    git(released_repo, "commit", "-qam", "restore")
    again = _verify(runner, released_repo, expect=1)
    assert again == _verify(runner, released_repo, "--no-cache", expect=1)
    assert f"commit {changed} removed or changed a line" in again


def test_a_ledger_cache_hit_is_a_fresh_copy_and_keyed_by_path_and_content(released_repo, tmp_path):
    raw = (released_repo / PROC_LEDGER).read_bytes()
    expected = parse_ledger(PROC_LEDGER, raw)
    first = LedgerCache(tmp_path / "c")
    parsed = first.parse(PROC_LEDGER, raw)
    assert parsed == expected
    parsed.entries.clear()  # what a run does to its objects never reaches the cache
    parsed.findings.append(Finding(PROC_LEDGER, 1, "ledger-format", "planted by a run"))
    first.save()
    second = LedgerCache(tmp_path / "c")
    hit = second.parse(PROC_LEDGER, raw)
    assert hit == expected and hit is not expected
    hit.entries.pop()
    assert second.parse(PROC_LEDGER, raw) == expected
    elsewhere = second.parse("signatures/QP-SH-002.jsonl", raw)
    assert elsewhere == parse_ledger("signatures/QP-SH-002.jsonl", raw)
    assert {entry.path for entry in elsewhere.entries} == {"signatures/QP-SH-002.jsonl"}
    shorter = b"".join(raw.splitlines(keepends=True)[:-1])
    assert second.parse(PROC_LEDGER, shorter) == parse_ledger(PROC_LEDGER, shorter)
    assert len(second.parse(PROC_LEDGER, shorter).entries) == len(expected.entries) - 1
    spaced = raw.replace(b'"role":"', b'"role": "', 1)
    assert b'"role": "' in spaced and second.parse(PROC_LEDGER, spaced) == parse_ledger(PROC_LEDGER, spaced)


def test_a_sealed_file_from_an_older_version_of_the_code_is_ignored(tmp_path):
    SealedFile(tmp_path, LEDGERS_FILE, "an older version").save({("signatures/X.jsonl", "0" * 40): b"x"})
    assert LedgerCache(tmp_path).parse("signatures/X.jsonl", b"") == parse_ledger("signatures/X.jsonl", b"")


def test_deleting_the_proof_caches_is_safe(runner, released_repo):
    _verify(runner, released_repo)
    _new_commit(released_repo)
    first = _verify(runner, released_repo)
    for name in CACHES:
        (released_repo / ".doccontrol-cache" / name).write_bytes(b"truncated")
    _new_commit(released_repo, "b")
    second = _verify(runner, released_repo)
    shutil.rmtree(released_repo / ".doccontrol-cache")
    assert second == _verify(runner, released_repo) == first


def _history_keys(root: Path) -> list[tuple]:
    history = ParseCache(root / ".doccontrol-cache", name=HISTORY_FILE)
    history._load()
    return list(history.entries)


def test_verify_drops_texts_no_proof_reads_and_build_keeps_them(runner, released_repo, tmp_path):
    stale = (("procedures/QP-SH-009-旧分支.md", "0" * 40),)  # of a rewritten history, or another branch
    planted = ParseCache(released_repo / ".doccontrol-cache", autosave=False, name=HISTORY_FILE)
    planted.put(stale, LoadResult([], []), {})
    planted.flush()
    invoke(runner, released_repo, "build", "--out", str(tmp_path / "site"))
    assert stale in _history_keys(released_repo)
    _new_commit(released_repo)
    _verify(runner, released_repo)
    assert stale not in _history_keys(released_repo)


# -- the judged records ------------------------------------------------------------------------
CONFIG_LEDGER = f"signatures/{CONFIGURATION}.jsonl"


def _judge(root: Path, folder: Path, ledgers: dict[str, bytes], today: str = "2026-11-29"):
    """Judge the ledgers with a judged-records memo in folder, save it, and give the evaluation and the memo."""
    judged = JudgedRecords(folder, ledgers, today)
    evaluation = judge_ledgers(parse_ledgers(ledgers), Verifier(), judged)
    judged.save(keep_unused=False)
    return evaluation, judged


def _ledgers(root: Path) -> dict[str, bytes]:
    with Repo(root) as repo:
        return repo.ledger_files()


def test_a_judged_record_taken_back_is_what_judging_gives_made_of_this_runs_entries_and_rosters(released_repo,
                                                                                               tmp_path):
    ledgers = _ledgers(released_repo)
    cold = judge_ledgers(parse_ledgers(ledgers), Verifier())
    first, _ = _judge(released_repo, tmp_path, ledgers)
    parsed = parse_ledgers(ledgers)
    judged = JudgedRecords(tmp_path, ledgers, "2026-11-29")
    assert judged.known(PROC_LEDGER)
    warm = judge_ledgers(parsed, Verifier(), judged)
    assert warm.records == first.records == cold.records and warm.findings == cold.findings
    record = warm.records["QP-SH-001"]
    entries = parsed[PROC_LEDGER].entries
    for cycle in record.cycles:
        for signed in [cycle.submit, *cycle.approvals, *([cycle.release] if cycle.release else [])]:
            assert any(signed.entry is entry for entry in entries)
            assert signed.roster is warm.chain.version(signed.roster.version)
    record.findings.append(Finding(PROC_LEDGER, 1, "record-order", "added by a run"))  # a fresh copy each time
    again = judge_ledgers(parse_ledgers(ledgers), Verifier(), JudgedRecords(tmp_path, ledgers, "2026-11-29"))
    assert again.records == cold.records


def test_a_judged_record_is_judged_again_when_a_ledger_line_or_the_roster_or_the_day_changes(released_repo,
                                                                                            tmp_path):
    ledgers = _ledgers(released_repo)
    _judge(released_repo, tmp_path, ledgers)
    assert JudgedRecords(tmp_path, ledgers, "2026-11-29").known(PROC_LEDGER)
    tampered = dict(ledgers)
    tampered[PROC_LEDGER] = ledgers[PROC_LEDGER].replace(b'"name":"', b'"name":"X', 1)
    assert not JudgedRecords(tmp_path, tampered, "2026-11-29").known(PROC_LEDGER)
    evaluation, _ = _judge(released_repo, tmp_path / "other", tampered)
    assert evaluation.doubtful("QP-SH-001"), "the tampered line is judged, and fails"
    reroster = dict(ledgers)
    reroster[CONFIG_LEDGER] = ledgers[CONFIG_LEDGER] + b"\n"
    assert not JudgedRecords(tmp_path, reroster, "2026-11-29").known(PROC_LEDGER)
    assert not JudgedRecords(tmp_path, ledgers, "2026-11-30").known(PROC_LEDGER)
    assert JudgedRecords(tmp_path, ledgers, "2026-11-29").known(PROC_LEDGER)


def test_a_record_judged_with_a_statement_still_being_signed_is_never_kept(released_repo, tmp_path):
    ledgers = _ledgers(released_repo)
    parsed = parse_ledgers(ledgers)
    ledger = parsed[PROC_LEDGER]
    last = ledger.entries[-1]
    ledger.entries[-1] = Entry(last.path, last.line, last.statement, PENDING, last.data, last.raw)
    judged = JudgedRecords(tmp_path, ledgers, "2026-11-29")
    judge_ledgers(parsed, Verifier(), judged)
    judged.save(keep_unused=False)
    kept = JudgedRecords(tmp_path, ledgers, "2026-11-29")
    assert not kept.known(PROC_LEDGER)
    assert kept.known("signatures/QR-SH-001.jsonl")


def test_a_ledger_line_tampered_after_a_build_is_caught_by_the_next_build(runner, released_repo, tmp_path):
    site = str(tmp_path / "site")
    invoke(runner, released_repo, "build", "--out", site)
    assert (released_repo / ".doccontrol-cache" / JUDGED_FILE).is_file()
    ledger_file = released_repo / PROC_LEDGER
    lines = ledger_file.read_text(encoding="utf-8").split("\n")
    lines[-2] = lines[-2].replace('"name":"', '"name":"X', 1)  # the release line (the file ends with a newline)
    ledger_file.write_text("\n".join(lines), encoding="utf-8")
    git(released_repo, "commit", "-qam", "tamper")
    warm = runner.invoke(cli, ["--repo", str(released_repo), "build", "--out", site])
    cold = runner.invoke(cli, ["--repo", str(released_repo), "--no-cache", "build", "--out", site])
    held_back = "built 2 documents"  # of 3: the procedure, whose release line no longer verifies, is held back
    assert warm.exit_code == cold.exit_code == 0
    assert held_back in warm.output and held_back in cold.output and "QP-SH-001" in warm.output
    assert warm.output.split(";")[0] == cold.output.split(";")[0]  # what follows is the site's reuse of pages


def test_check_judges_again_only_the_ledger_that_changed_and_says_what_a_cold_check_says(runner, released_repo,
                                                                                        monkeypatch):
    """The working tree's record takes the judged records too (`check` and every workflow command judge it): a
    ledger line edited by hand is judged again, and fails; the others are taken from the cache."""
    from doccontrol import verification

    invoke(runner, released_repo, "check")
    judged = []
    real = verification.judge_document

    def counted(number, *args, **kwargs):
        judged.append(number)
        return real(number, *args, **kwargs)

    monkeypatch.setattr(verification, "judge_document", counted)
    path = released_repo / PROC_LEDGER
    path.write_bytes(path.read_bytes().replace(b'"name":"', b'"name":"X', 1))
    warm = invoke(runner, released_repo, "check", "--format", "json", expect=1).output
    assert judged == ["QP-SH-001"]
    assert PROC_LEDGER in warm
    assert invoke(runner, released_repo, "--no-cache", "check", "--format", "json", expect=1).output == warm


def test_the_working_trees_judged_records_keep_only_todays_and_this_rosters(runner, released_repo, monkeypatch):
    """`check` keeps the records it did not ask for (the last proof's), but never another day's: day after day of
    checks without a build must not grow judged.pickle."""
    cache_dir = released_repo / ".doccontrol-cache"
    days = ["2031-01-01", "2031-01-02", "2031-01-03"]
    for day in days:
        monkeypatch.setenv("DOCCONTROL_NOW", f"{day}T10:00:00+08:00")
        invoke(runner, released_repo, "check")
        kept = MemoCache(cache_dir, JUDGED_FILE)._entries()
        assert kept and {key[4] for key in kept} == {day}
    ledgers = _ledgers(released_repo)
    assert {key[1] for key in kept} == {path for path in ledgers if path != CONFIG_LEDGER}
