"""The parse cache never changes a result: warm equals cold, an edit misses exactly its entry."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from doccontrol import cache as cache_module
from doccontrol.cache import FILE_NAME, HISTORY_FILE, ParseCache
from doccontrol.config import load_config
from doccontrol.loader import load_worktree
from doccontrol.workspace import Workspace

from conftest import MANUAL_PART, PROCEDURE, git, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
MANUAL = "docs/QM-SH-01-售后服务手册/index.md"
PART = "docs/QM-SH-01-售后服务手册/01-颁布令.md"


@pytest.fixture(autouse=True)
def private_key_home(tmp_path, monkeypatch):
    """Each test signs its cache with its own key, never the developer's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def mixed(repo) -> Path:
    """A repository with clean documents, broken ones and a body that ends without a newline."""
    write(repo, "procedures/QP-SH-002-坏的元数据.md", PROCEDURE.replace("QP-SH-001", "QP-SH-002")
          .replace("revision: A/0\nstatus", "revision: 03\nstatus"))
    write(repo, "procedures/QP-SH-003-不存在的引用.md", PROCEDURE.replace("QP-SH-001", "QP-SH-003")
          .replace("并填写 QR-SH-001。", "并填写 QR-SH-099。"))
    write(repo, "procedures/QP-SH-004-没有正文.md",
          PROCEDURE.replace("QP-SH-001", "QP-SH-004").split("\n---\n")[0] + "\n---")
    write(repo, "procedures/QP-SH-005-没有结尾.md", "---\nnumber: QP-SH-005\ntitle: x\n")
    (repo / "procedures/QP-SH-006-编码.md").write_bytes("---\nnumber: 文件\n".encode("gbk"))
    return repo


def _load(root: Path, cache: ParseCache | None):
    return load_worktree(load_config(root), cache)


def _cache(root: Path) -> ParseCache:
    return ParseCache(root / ".doccontrol-cache")


def test_warm_and_cold_give_identical_output(runner, mixed):
    cold = invoke(runner, mixed, "check", "--format", "json", "--no-cache", expect=1).output
    assert not (mixed / ".doccontrol-cache").exists(), "--no-cache must not write a cache"
    first = invoke(runner, mixed, "check", "--format", "json", expect=1).output
    assert (mixed / ".doccontrol-cache" / FILE_NAME).is_file()
    warm = invoke(runner, mixed, "check", "--format", "json", expect=1).output
    assert cold == first == warm
    assert '"rule": "reference-missing"' in warm and '"rule": "schema"' in warm and '"rule": "encoding"' in warm
    for args in (["history", "--format", "json"], ["register", "--format", "json"], ["show", "QM-SH-01"]):
        assert invoke(runner, mixed, *args).output == invoke(runner, mixed, "--no-cache", *args).output


def test_cached_documents_equal_parsed_ones(mixed):
    cold = _load(mixed, None)
    _load(mixed, _cache(mixed))
    cache = _cache(mixed)
    warm = _load(mixed, cache)
    assert cache.misses == [] and len(cache.hits) == 8
    assert warm.documents == cold.documents
    assert warm.findings == cold.findings
    manual = next(doc for doc in warm.documents if doc.number == "QM-SH-01")
    assert manual.parts[0].text == MANUAL_PART and manual.body.strip()
    assert next(doc for doc in warm.documents if doc.number == "QP-SH-004").body == ""


def test_editing_a_file_invalidates_exactly_its_entry(mixed):
    _load(mixed, _cache(mixed))
    path = mixed / PROC
    path.write_text(path.read_text(encoding="utf-8").replace("24 小时内响应", "12 小时内响应"), encoding="utf-8")
    cache = _cache(mixed)
    result = _load(mixed, cache)
    assert cache.misses == [PROC]
    assert len(cache.hits) == 7
    assert "12 小时内响应" in next(doc for doc in result.documents if doc.path == PROC).body
    assert result.documents == _load(mixed, None).documents

    part = mixed / PART
    part.write_text(MANUAL_PART + "\n补充一段。\n", encoding="utf-8")
    cache = _cache(mixed)
    result = _load(mixed, cache)
    assert cache.misses == [MANUAL]  # a chapter belongs to its manual's entry
    assert result.documents == _load(mixed, None).documents

    cache = _cache(mixed)
    _load(mixed, cache)
    assert cache.misses == []


def test_an_edit_shows_on_the_warm_run(runner, repo):
    assert "0 errors" in invoke(runner, repo, "check").output
    path = repo / PROC
    path.write_text(path.read_text(encoding="utf-8").replace("并填写 QR-SH-001。", "并填写 QR-SH-099。"),
                    encoding="utf-8")
    out = invoke(runner, repo, "check", expect=1).output
    assert "QR-SH-099 (in the text) is not a document in this repository [reference-missing]" in out
    path.write_text(PROCEDURE, encoding="utf-8")
    assert "0 errors" in invoke(runner, repo, "check").output


def test_validation_memo_follows_today_and_configuration(runner, released_repo, monkeypatch):
    monkeypatch.setenv("DOCCONTROL_NOW", "2026-11-20T10:00:00+08:00")
    assert "review-overdue" not in invoke(runner, released_repo, "check").output
    monkeypatch.setenv("DOCCONTROL_NOW", "2028-01-20T10:00:00+08:00")
    late = invoke(runner, released_repo, "check").output
    assert "review-overdue" in late
    assert late == invoke(runner, released_repo, "check", "--no-cache").output
    config = released_repo / "doccontrol.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("folder: forms", "folder: records"), encoding="utf-8")
    out = invoke(runner, released_repo, "check", expect=1).output
    assert out == invoke(runner, released_repo, "check", "--no-cache", expect=1).output


def test_deleting_the_cache_is_safe(runner, mixed):
    invoke(runner, mixed, "check", expect=1)
    first = invoke(runner, mixed, "check", expect=1).output
    shutil.rmtree(mixed / ".doccontrol-cache")
    assert invoke(runner, mixed, "check", expect=1).output == first
    (mixed / ".doccontrol-cache" / FILE_NAME).write_bytes(b"truncated")
    assert invoke(runner, mixed, "check", expect=1).output == first


def test_a_code_change_empties_the_cache(mixed, monkeypatch):
    _load(mixed, _cache(mixed))
    monkeypatch.setattr(cache_module, "code_version", lambda: "another version of the code")
    cache = _cache(mixed)
    _load(mixed, cache)
    assert cache.hits == [] and len(cache.misses) == 8


def test_a_cache_file_from_elsewhere_is_never_unpickled(repo, tmp_path):
    """A cache committed to a repository (or planted in it) is not signed with this user's key."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    target = repo / ".doccontrol-cache" / FILE_NAME
    target.parent.mkdir()
    target.write_bytes(b"\0" * 32 + pickle.dumps(Exploit()))
    cache = _cache(repo)
    result = _load(repo, cache)
    assert not marker.exists()
    assert len(cache.misses) == 3 and len(result.documents) == 3


def test_without_a_place_for_the_key_the_cache_is_off(repo, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    report = Workspace(repo).check()
    assert report.ok
    assert not (repo / ".doccontrol-cache").exists()


def test_stale_entries_are_dropped(repo):
    _load(repo, _cache(repo))
    (repo / "forms/QR-SH-001-顾客问题处理表.md").unlink()
    _load(repo, _cache(repo))
    cache = _cache(repo)
    cache._load()
    assert sorted(key[0][0] for key in cache.entries) == [MANUAL, PROC]


def test_a_warm_check_does_not_validate_again(repo, monkeypatch):
    cold = Workspace(repo).check()

    def refuse(*args, **kwargs):
        raise AssertionError("validate ran although nothing changed")

    monkeypatch.setattr("doccontrol.workspace.validate", refuse)
    warm = Workspace(repo).check()
    assert warm.findings == cold.findings and warm.documents == cold.documents


def _count_calls(monkeypatch, module, name: str) -> list[int]:
    """A list that grows by one each time module.name is called (the function still runs)."""
    calls: list[int] = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_warm_check_reads_the_record_back_until_a_ledger_or_the_configuration_changes(runner, released_repo,
                                                                                         monkeypatch):
    from doccontrol import workspace

    judged = _count_calls(monkeypatch, workspace, "evaluate")
    clean = invoke(runner, released_repo, "check").output
    assert invoke(runner, released_repo, "check").output == clean and len(judged) == 1  # read back
    ledger = released_repo / "signatures" / "QP-SH-001.jsonl"
    original = ledger.read_bytes()
    ledger.write_bytes(original.replace(b'"A/0"', b'"A/9"', 1))  # the signed revision, changed
    tampered = invoke(runner, released_repo, "check", expect=1).output
    assert tampered == invoke(runner, released_repo, "--no-cache", "check", expect=1).output and len(judged) == 3
    ledger.write_bytes(original)
    assert invoke(runner, released_repo, "check").output == clean and len(judged) == 4
    config = released_repo / "doccontrol.yml"
    config.write_text(config.read_text(encoding="utf-8") + "holders: [维修中心]\n", encoding="utf-8")
    from doccontrol.cli import cli

    runner.invoke(cli, ["--repo", str(released_repo), "check"])
    assert len(judged) == 5


def test_a_warm_verify_is_read_back_only_while_nothing_it_depends_on_changed(runner, released_repo, monkeypatch):
    from doccontrol import audit

    proved = _count_calls(monkeypatch, audit, "_verify")
    intact = invoke(runner, released_repo, "verify").output
    assert invoke(runner, released_repo, "verify").output == intact and len(proved) == 1  # read back
    path = released_repo / PROC
    original = path.read_bytes()
    path.write_bytes(original.replace("24 小时内响应".encode(), "12 小时内响应".encode()))
    assert "[edited-after-release]" in invoke(runner, released_repo, "verify", expect=1).output
    path.write_bytes(original)
    assert invoke(runner, released_repo, "verify").output == intact and len(proved) == 3
    git(released_repo, "tag", "-f", "-a", "-m", "moved", "QP-SH-001/A0", "HEAD~1")
    assert "[tag-moved]" in invoke(runner, released_repo, "verify", expect=1).output
    git(released_repo, "tag", "-d", "QP-SH-001/A0")
    assert "note: 1 release tags are not in this clone" in invoke(runner, released_repo, "verify").output
    git(released_repo, "commit", "--allow-empty", "-q", "-m", "an empty commit")
    invoke(runner, released_repo, "verify")
    assert len(proved) == 6


def _in_force(root: Path, cache: ParseCache | None):
    from doccontrol import clock
    from doccontrol.publication import in_force
    from doccontrol.signing import Verifier

    return in_force(load_config(root), clock.today(), Verifier(), cache)


def test_released_files_are_looked_up_by_the_key_check_stored(runner, released_repo):
    invoke(runner, released_repo, "check")
    cache = _cache(released_repo)
    warm = _in_force(released_repo, cache)
    assert cache.misses == [] and sorted(cache.hits) == [MANUAL, "forms/QR-SH-001-顾客问题处理表.md", PROC]
    cold = _in_force(released_repo, None)
    assert warm.documents == cold.documents and warm.findings == cold.findings


def test_a_draft_in_the_working_tree_never_stands_in_for_its_release(runner, released_repo):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "响应时限调整")
    path = released_repo / PROC
    path.write_text(path.read_text(encoding="utf-8").replace("24 小时内响应", "12 小时内响应"), encoding="utf-8")
    invoke(runner, released_repo, "check")
    cache = _cache(released_repo)
    published = {doc.number: doc for doc in _in_force(released_repo, cache).documents}
    assert cache.misses == [PROC]
    assert published["QP-SH-001"].revision == "A/0" and "24 小时内响应" in published["QP-SH-001"].body
    assert list(published.values()) == _in_force(released_repo, None).documents


def test_build_adds_released_files_without_dropping_the_working_trees(runner, released_repo):
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "响应时限调整")
    invoke(runner, released_repo, "check")
    invoke(runner, released_repo, "build", "--out", str(released_repo.parent / "site"))
    cache, history = _cache(released_repo), ParseCache(released_repo / ".doccontrol-cache", name=HISTORY_FILE)
    cache._load()
    history._load()
    assert [key[0][0] for key in cache.entries].count(PROC) == 1  # the draft, as check left it
    assert [key[0][0] for key in history.entries] == [PROC]  # the release, read from its commit
    checked = _cache(released_repo)
    _load(released_repo, checked)
    assert checked.misses == []


def test_a_warm_build_makes_the_same_site_as_a_cold_one(runner, released_repo):
    cold, warm = released_repo.parent / "cold", released_repo.parent / "warm"
    shutil.rmtree(released_repo / ".doccontrol-cache", ignore_errors=True)
    invoke(runner, released_repo, "build", "--no-cache", "--out", str(cold))
    assert not (released_repo / ".doccontrol-cache").exists(), "--no-cache must not write a cache"
    invoke(runner, released_repo, "check")
    invoke(runner, released_repo, "build", "--out", str(warm))
    files = sorted(p.relative_to(cold) for p in cold.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(warm) for p in warm.rglob("*") if p.is_file())
    assert [f for f in files if (cold / f).read_bytes() != (warm / f).read_bytes()] == []
    assert "QP-SH-001" in (warm / "QP-SH-001" / "index.html").read_text(encoding="utf-8")


# -- the cache folder is never a way out ---------------------------------------------------------

def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim-home"
    write(victim, "work/notes/todo.txt", "unsaved work\n")
    return victim


def _files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


@pytest.mark.parametrize("link", [".doccontrol-cache/docx", ".doccontrol-cache"])
def test_a_committed_link_in_the_cache_folder_is_refused_and_nothing_is_deleted(runner, released_repo, tmp_path,
                                                                               link):
    from conftest import git

    victim = _victim(tmp_path)
    shutil.rmtree(released_repo / ".doccontrol-cache", ignore_errors=True)
    (released_repo / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(victim, released_repo / link)
    git(released_repo, "add", "-f", link)
    git(released_repo, "commit", "-q", "-m", "speed up packing")
    before = _files(victim)
    for command in (["pack", "--out", str(tmp_path / "pack.zip")], ["build", "--out", str(tmp_path / "site")],
                    ["check"]):
        result = invoke(runner, released_repo, *command, expect=1)
        assert ("error: refusing to use the cache folder .doccontrol-cache/: the repository commits files in it "
                f"({link}); a cache must be this machine's own") in result.output
        assert "fix: remove it (git rm -r --cached .doccontrol-cache && rm -r .doccontrol-cache)" in result.output
    assert _files(victim) == before
    assert not (tmp_path / "pack.zip").exists()
    verified = invoke(runner, released_repo, "--no-cache", "verify").output  # without a cache, nothing is refused
    assert "verified: the record is intact" in verified.splitlines()[-1]
    assert _files(victim) == before


def test_a_link_in_the_cache_folder_is_refused_even_when_not_committed(runner, released_repo, tmp_path):
    victim = _victim(tmp_path)
    shutil.rmtree(released_repo / ".doccontrol-cache", ignore_errors=True)
    (released_repo / ".doccontrol-cache").mkdir()
    os.symlink("../.git", released_repo / ".doccontrol-cache/docx")
    result = invoke(runner, released_repo, "build", "--out", str(tmp_path / "site"), expect=1)
    assert ("refusing to use the cache folder .doccontrol-cache/: .doccontrol-cache/docx is a symbolic link "
            "(to ../.git); doccontrol never writes or deletes through a link") in result.output
    assert "fix: remove it (rm .doccontrol-cache/docx)" in result.output
    assert (released_repo / ".git/HEAD").is_file() and (released_repo / ".git/objects").is_dir()
    assert _files(victim) == ["work", "work/notes", "work/notes/todo.txt"]


def test_a_committed_word_file_in_the_cache_is_never_served(runner, released_repo, tmp_path):
    """The Word conversions are not sealed: a committed one would go into the pack as the document."""
    from conftest import git

    write(released_repo, ".doccontrol-cache/docx/0123456789abcdef/planted.docx", "not a conversion")
    git(released_repo, "add", "-f", ".doccontrol-cache")
    git(released_repo, "commit", "-q", "-m", "cache")
    result = invoke(runner, released_repo, "pack", "--out", str(tmp_path / "pack.zip"), expect=1)
    assert "the repository commits files in it (.doccontrol-cache/docx/0123456789abcdef/planted.docx)" in result.output


@pytest.mark.parametrize("command", [("build", "--out", "site"), ("pack", "--out", "dist/pack.zip"),
                                     ("export", "QP-SH-001", "--out", "dist")])
def test_an_output_folder_that_is_a_link_in_the_repository_is_refused(runner, released_repo, tmp_path, command,
                                                                      monkeypatch):
    victim = _victim(tmp_path)
    folder = command[-1].split("/")[0]
    os.symlink(victim, released_repo / folder)
    monkeypatch.chdir(released_repo)
    result = invoke(runner, released_repo, *command, expect=1)
    assert f"error: refusing to write {released_repo.resolve() / command[-1]}" in result.output
    assert (f": {folder} in the repository is a symbolic link (to {victim}); doccontrol never writes or replaces "
            "through a link") in result.output
    assert f"fix: remove the link ({folder}) or pass --out a folder that is not a link" in result.output
    assert _files(victim) == ["work", "work/notes", "work/notes/todo.txt"]


def test_only_a_text_that_changed_has_its_markdown_checked_again(runner, mixed, monkeypatch):
    """Each text's Markdown checks are kept by its path and digest (`check`, and every workflow command before it
    signs): after an edit, only the edited text is checked again, and the findings are a cold check's."""
    from doccontrol import markdown_checks

    invoke(runner, mixed, "check", expect=1)
    checked: list[str] = []
    real = markdown_checks.markdown_findings

    def counted(path, text, first_line):
        checked.append(path)
        return real(path, text, first_line)

    monkeypatch.setattr(markdown_checks, "markdown_findings", counted)
    write(mixed, "procedures/QP-SH-006-新的.md", PROCEDURE.replace("QP-SH-001", "QP-SH-006")
          .replace("并填写 QR-SH-001。", "并填写 QR-SH-001。\n\n<script>alert(1)</script>"))
    warm = invoke(runner, mixed, "check", "--format", "json", expect=1).output
    assert checked == ["procedures/QP-SH-006-新的.md"]
    assert "QP-SH-006" in warm and "raw-html" in warm
    assert invoke(runner, mixed, "--no-cache", "check", "--format", "json", expect=1).output == warm


def test_a_forged_markdown_memo_hides_no_finding(runner, mixed):
    """The memo is sealed like the other caches: one written without this user's key (saying a text with a
    script in it is clean) is ignored, never unpickled."""
    from doccontrol.cache import FORMAT, package_version
    from doccontrol.workspace import MARKDOWN_MEMO

    write(mixed, "procedures/QP-SH-006-新的.md", PROCEDURE.replace("QP-SH-001", "QP-SH-006")
          .replace("并填写 QR-SH-001。", "并填写 QR-SH-001。\n\n<script>alert(1)</script>"))
    cold = invoke(runner, mixed, "--no-cache", "check", "--format", "json", expect=1).output
    invoke(runner, mixed, "check", expect=1)
    memo = mixed / ".doccontrol-cache" / MARKDOWN_MEMO
    stored = pickle.loads(memo.read_bytes()[32:])
    clean = {key: () for key in stored[1]}
    memo.write_bytes(b"\0" * 32 + pickle.dumps((f"{FORMAT}|{package_version()}", clean)))
    (mixed / ".doccontrol-cache" / FILE_NAME).unlink()  # else check reads its whole result back
    assert invoke(runner, mixed, "check", "--format", "json", expect=1).output == cold
