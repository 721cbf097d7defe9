"""Bad input: every case of tests/badinput/cases.py, as the user sees it.

Each case is planted into a fresh copy of a valid repository, and `doccontrol check` must
exit 1 with no traceback, print the finding at the exact `path:line:` with a message that
says what to do, and write nothing. A handful of cases also run `build` and `pack`, which
must fail the same way and neither write nor replace their output.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from doccontrol.cli import cli

from badinput.cases import CASES, OUTSIDE, Case, Fifo, Link
from conftest import git, init_repo, invoke

FINDING = re.compile(r"^(?P<where>.+?:\d+): (?P<severity>error|warning): (?P<message>.*) \[(?P<rule>[a-z-]+)\]$")
OUTSIDE_DOC = "---\nnumber: QP-SH-009\ntitle: 外部文件\n---\n外部内容\n"


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    return init_repo(tmp_path_factory.mktemp("badinput") / "template")


@pytest.fixture
def make_repo(template, tmp_path):
    """A fresh repository with the case planted, and a folder outside it that links may point to."""

    def make(case: Case) -> Path:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "QP-SH-009-外部.md").write_text(OUTSIDE_DOC, encoding="utf-8")
        root = tmp_path / "repo"
        shutil.copytree(template, root, symlinks=True)
        plant(root, case.files, outside)
        return root

    return make


def plant(root: Path, files: dict[str, object], outside: Path | None = None) -> None:
    """Write each file, link or named pipe, replacing whatever was at its path."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if isinstance(content, Link):
            path.symlink_to(content.target.replace(OUTSIDE, str(outside)))
        elif isinstance(content, Fifo):
            os.mkfifo(path)
        else:
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under root (outside .git) with a digest of its content."""
    state = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".doccontrol-cache")]
        for name in [*dirs, *files]:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail instead of hanging: a command that opens a named pipe would wait for a writer forever."""

    def expire(signum, frame):
        raise TimeoutError(f"the command did not finish within {seconds} s (did it open a named pipe?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(root: Path, *args: str):
    with deadline(60):
        result = CliRunner().invoke(cli, ["--repo", str(root), *args])
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result, output


def findings(output: str) -> list[tuple[re.Match, list[str]]]:
    """Each finding line of the output with the lines that follow it (its fix)."""
    lines = output.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = FINDING.match(line)
        if match:
            rest = []
            for follow in lines[index + 1:]:
                if not follow.startswith("    "):
                    break
                rest.append(follow)
            found.append((match, rest))
    return found


def assert_reported(case: Case, output: str) -> None:
    reported = findings(output)
    assert reported, f"no finding printed:\n{output}"
    for match, rest in reported:
        assert any(r.startswith("    fix: ") and len(r) > 12 for r in rest), \
            f"finding without a fix (what to do):\n{match.group(0)}\n{output}"
    at_place = [(m, rest) for m, rest in reported if m.group("where") == case.where]
    assert at_place, f"nothing reported at {case.where}:\n{output}"
    assert any(m.group("severity") == "error" for m, _ in at_place), f"no error at {case.where}:\n{output}"
    texts = ["\n".join([m.group(0), *rest]) for m, rest in at_place]
    assert any(case.says in text for text in texts), f"{case.says!r} not said at {case.where}:\n{output}"
    assert_not_read_through(case, reported, output)


def assert_not_read_through(case: Case, reported, output: str) -> None:
    """Nothing behind a planted link is read: no finding inside it, and the outside document is never seen."""
    for rel, content in case.files.items():
        if isinstance(content, Link):
            inside = [m.group("where") for m, _ in reported if m.group("where").startswith(rel + "/")]
            assert not inside, f"{rel} is a link, yet files behind it were read:\n{output}"
            assert "QP-SH-009" not in output, f"the document outside the repository was read:\n{output}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_check_reports_bad_input(case, make_repo):
    root = make_repo(case)
    before = snapshot(root)
    result, output = run(root, "check")
    assert result.exit_code == 1, output
    assert_reported(case, output)
    assert snapshot(root) == before, "check wrote or changed files"


def test_corpus_is_large_and_distinct():
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({repr(sorted((k, repr(v)) for k, v in c.files.items())) for c in CASES}) == len(CASES)


def test_check_json_reports_the_same_place(make_repo):
    case = next(c for c in CASES if c.id == "yaml-unclosed-double-quote")
    root = make_repo(case)
    result, output = run(root, "check", "--format", "json")
    assert result.exit_code == 1, output
    import json

    data = json.loads(output)
    path, line = case.where.rsplit(":", 1)
    hits = [f for f in data["findings"] if f["path"] == path and f["line"] == int(line)]
    assert hits and all(f["fix"] for f in data["findings"]), output


# -- build, pack and publish write nothing from bad input ----------------------------------------
#
# The controlled site and the audit pack publish released revisions read from git, never the
# working tree; so bad input reaches them through the configuration, through `build --preview`
# (the working tree), through a release commit whose file is broken (history edited by hand),
# and through `publish`, which checks first. Each must exit 1, name the finding, and leave the
# output (built before from a good repository) exactly as it was.

CONFIG_CASES = ["config-unclosed-quote", "bom-config", "unknown-key-config", "config-folder-dotdot",
                "clauses-yaml-error", "symlink-clauses", "fifo-config"]
RELEASED_CASES = ["yaml-unclosed-double-quote", "gbk-encoded", "bom-document", "crlf-whole-file",
                  "alias-expansion-bomb", "trap-status-NO"]
PREVIEW_CASES = ["yaml-unclosed-double-quote", "front-matter-missing", "nul-byte", "trap-revision-03",
                 "symlink-manual-index", "symlink-nested-controlled-folder", "fifo-manual-part"]
PUBLISH_CASES = ["html-script", "link-dotdot-etc-passwd", "symlink-to-etc-passwd", "title-script",
                 "revision-skips-a-modification"]
BY_ID = {case.id: case for case in CASES}


@pytest.fixture(scope="session")
def built(template, tmp_path_factory) -> dict[str, Path]:
    """A controlled site, a preview and an audit pack built from the good template repository."""
    out = tmp_path_factory.mktemp("built")
    outputs = {"site": out / "site", "preview": out / "preview", "pack": out / "pack.zip"}
    for args in (["build", "--out", str(outputs["site"])], ["build", "--preview", "--out", str(outputs["preview"])],
                 ["pack", "--out", str(outputs["pack"])]):
        result = CliRunner().invoke(cli, ["--repo", str(template), *args])
        assert result.exit_code == 0, result.output
    return outputs


@pytest.fixture
def outputs(built, tmp_path) -> dict[str, Path]:
    """Copies of the good outputs, and a place for each output that does not exist yet."""
    copies = {"site": tmp_path / "out" / "site", "preview": tmp_path / "out" / "preview",
              "pack": tmp_path / "out" / "pack.zip", "new-site": tmp_path / "out" / "new-site",
              "new-pack": tmp_path / "out" / "new-pack.zip"}
    shutil.copytree(built["site"], copies["site"])
    shutil.copytree(built["preview"], copies["preview"])
    shutil.copy2(built["pack"], copies["pack"])
    return copies


def release_by_hand(root: Path, case: Case) -> None:
    """Commit the planted file with a release trailer, as if the history had been edited by hand."""
    (path,) = case.files
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"release: by hand\n\nDoccontrol-Release: QP-SH-002 A/0 2026-11-16 {path}\n")


def assert_nothing_written(root: Path, outputs: dict[str, Path], before: dict[str, dict[str, str]], case: Case,
                           *commands: list[str]) -> None:
    for args in commands:
        result, output = run(root, *args)
        assert result.exit_code == 1, f"{args}: {output}"
        assert_reported(case, output)
    for name in ("new-site", "new-pack"):
        assert not outputs[name].exists(), f"{name} was written"
    assert {name: snapshot(path.parent) for name, path in outputs.items() if path.exists()} == before, \
        "an existing output was replaced"
    assert not [p for p in outputs["site"].parent.iterdir() if p.name.startswith(".")], "a temporary file was left"


def _before(outputs):
    return {name: snapshot(path.parent) for name, path in outputs.items() if path.exists()}


@pytest.mark.parametrize("case_id", CONFIG_CASES)
def test_build_and_pack_refuse_a_bad_configuration(case_id, make_repo, outputs):
    case = BY_ID[case_id]
    root = make_repo(case)
    assert_nothing_written(root, outputs, _before(outputs), case,
                           ["build", "--out", str(outputs["site"])], ["build", "--out", str(outputs["new-site"])],
                           ["build", "--preview", "--out", str(outputs["preview"])],
                           ["pack", "--out", str(outputs["pack"])], ["pack", "--out", str(outputs["new-pack"])])


@pytest.mark.parametrize("case_id", RELEASED_CASES)
def test_a_broken_file_committed_as_released_never_publishes(case_id, make_repo, outputs):
    """Commit messages are not the record: the hand-made "release" publishes nothing, and nothing breaks."""
    case = BY_ID[case_id]
    root = make_repo(case)
    release_by_hand(root, case)
    for args in (["build", "--out", str(outputs["new-site"])], ["pack", "--out", str(outputs["new-pack"])]):
        result, output = run(root, *args)
        assert result.exit_code == 0, output
    assert not (outputs["new-site"] / "QP-SH-002").exists()
    import zipfile

    assert not [name for name in zipfile.ZipFile(outputs["new-pack"]).namelist() if "QP-SH-002" in name]


@pytest.mark.parametrize("case_id", PREVIEW_CASES)
def test_preview_refuses_a_broken_draft(case_id, make_repo, outputs):
    case = BY_ID[case_id]
    root = make_repo(case)
    assert_nothing_written(root, outputs, _before(outputs), case,
                           ["build", "--preview", "--out", str(outputs["preview"])],
                           ["build", "--preview", "--out", str(outputs["new-site"])])


@pytest.mark.parametrize("case_id", PUBLISH_CASES)
def test_publish_checks_first_and_writes_nothing(case_id, make_repo, outputs):
    case = BY_ID[case_id]
    root = make_repo(case)
    assert_nothing_written(root, outputs, _before(outputs), case,
                           ["publish", "--site", str(outputs["site"]), "--pack", str(outputs["pack"])],
                           ["publish", "--site", str(outputs["new-site"]), "--pack", str(outputs["new-pack"])])


# -- numbers are never reused, and a file replaced after discovery is not opened ---------------------


def test_new_never_reuses_the_number_of_an_untracked_file_that_cannot_be_read(runner, repo):
    """A file's name claims its number even when the file is no readable document and git has never seen it."""
    plant(repo, {
        "procedures/QP-SH-004-草稿.md": "标题：投诉回访\n".encode("gbk"),  # not UTF-8, no front matter
        "procedures/QP-SH-005-半成品.md": "---\nnumber: [\n",  # YAML that does not parse
        "procedures/QP-SH-006-管道.md": Fifo(),
        "procedures/QP-SH-007-外链.md": Link("/etc/passwd"),
        "procedures/QP-SH-008-无权限.md": "---\n",
        "procedures/QP-SH-009-手册稿/01-范围.md": "## 1 范围\n",  # a folder without index.md
    })
    (repo / "procedures/QP-SH-008-无权限.md").chmod(0)
    with deadline(60):
        result = invoke(runner, repo, "new", "procedure", "备件管理程序", "--author", "孙小雨")
    assert result.output == "procedures/QP-SH-010-备件管理程序.md\n"


@pytest.mark.parametrize("rel, expected", [
    ("forms/ＱＲ-ＳＨ-００６-全角.md", "forms/QR-SH-007-新表单.md"),  # read as QR-SH-006, as `check` reads it
    ("forms/草稿/QR-SH-003-旧稿.txt", "forms/QR-SH-004-新表单.md"),
    ("forms/QR-SH-005", "forms/QR-SH-006-新表单.md"),
])
def test_new_counts_every_name_in_the_controlled_folder(runner, repo, rel, expected):
    plant(repo, {rel: ""})
    result = invoke(runner, repo, "new", "form", "新表单", "--author", "孙小雨")
    assert result.output == expected + "\n"


def test_a_file_replaced_by_a_pipe_after_discovery_is_not_opened(repo, monkeypatch):
    """discover() saw a regular file; if a named pipe takes its place before the read, the read must not wait."""
    from doccontrol import loader
    from doccontrol.config import load_config

    rel = "procedures/QP-SH-002-管道.md"
    os.mkfifo(repo / rel)
    monkeypatch.setattr(loader, "discover", lambda config: ([loader.Source(rel)], []))
    with deadline(60):
        result = loader.load_worktree(load_config(repo))
    assert not result.documents
    assert [(f.path, f.line, f.rule) for f in result.findings] == [(rel, 1, "file-read")]
    assert "not a regular file" in result.findings[0].message and result.findings[0].fix


def test_an_unreadable_document_is_a_finding(repo, monkeypatch):
    """As root (CI) chmod 0 does not stop a read, so the refusal the kernel would give is simulated."""
    from doccontrol import loader

    rel = "procedures/QP-SH-002-无权限.md"
    (repo / rel).write_text("---\n", encoding="utf-8")
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if str(path).endswith(rel):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(loader.os, "open", refuse)
    result, output = run(repo, "check")
    assert result.exit_code == 1
    assert f"{rel}:1: error: file cannot be read: Permission denied [file-read]" in output
