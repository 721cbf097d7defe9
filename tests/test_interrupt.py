"""Interrupting build, export and pack with real signals leaves the previous output whole and nothing behind.

`build` runs twice: cold (`--no-cache`, every page rendered) and incremental (the site's
front page touched before each run, so each run renders it again and links every other
page from the previous site, and keeps its record for the next). Each command runs as its
own process with its own TMPDIR. Two complete runs make the
previous output and give the command's duration (the second, warm run); then
INTERRUPTS_PER_COMMAND runs are interrupted at moments spread over that duration,
alternately with SIGINT and SIGTERM, and KILLS_PER_COMMAND runs are killed with SIGKILL.
Moments count from when doccontrol handles SIGTERM itself (its main() runs), so no signal
lands in Python's start-up. A normal run after the kills must clear what the killed
processes left. Linux only: it reads /proc.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from doccontrol import cli, fileio
from doccontrol.render.site import swap_in

ROOT = Path(__file__).resolve().parent.parent
INTERRUPTS_PER_COMMAND = 8
KILLS_PER_COMMAND = 3
FIRST_DELAY = 0.05
LAST_DELAY_SHARE = 0.95
COMMANDS = ("build", "build (incremental)", "export", "pack")
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
OWN_TEMPORARY = re.compile(r"\..*\.tmp")
ORPHANS_PATIENCE = 60
INTERRUPTED_MESSAGE = "interrupted; nothing was left half-written"
# A shell shows both as 130. CPython's `python -m` ends by SIGINT instead of the exit status
# when an interrupt surfaced from exec'd code (dataclasses, namedtuple), even once handled.
INTERRUPTED = (130, -signal.SIGINT)


@dataclass(frozen=True)
class Output:
    identity: tuple[int, int]
    content: object


@dataclass
class Command:
    """One doccontrol command run as a process over a repository, and where its output goes."""

    repo: Path
    args: list[str]
    out: Path
    tmpdir: Path
    cwd: Path
    incremental: bool = False

    def start(self) -> subprocess.Popen:
        env = {**os.environ, "TMPDIR": str(self.tmpdir),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        cache = [] if self.incremental else ["--no-cache"]
        if self.incremental and (self.out / "index.html").is_file():
            os.utime(self.out / "index.html")  # something to do: this page is rendered again, the others kept
        return subprocess.Popen([sys.executable, "-m", "doccontrol", "--repo", str(self.repo), *cache, *self.args],
                                cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, preexec_fn=default_sigint)

    def output(self) -> Output | None:
        if not self.out.exists():
            return None
        stat = self.out.stat()
        return Output((stat.st_dev, stat.st_ino),
                      site_content(self.out) if self.out.is_dir() else self.out.read_bytes())


def default_sigint() -> None:
    """Let the command see SIGINT even where the tests run with it ignored (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def site_content(site: Path) -> tuple:
    """Every file of the site with the digest of its bytes (a page kept by an incremental build is a link to the
    previous site's file: nothing may have written into it), and the site's marker."""
    files = sorted((p.relative_to(site).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                   for p in site.rglob("*") if p.is_file())
    return tuple(files), (site / ".doccontrol-site").read_text(encoding="utf-8")


@pytest.fixture(params=COMMANDS)
def command(request, released_repo, tmp_path) -> Command:
    out = tmp_path / "out"
    for folder in (out, tmp_path / "tmpdir", tmp_path / "cwd"):
        folder.mkdir()
    args, target = {
        "build": (["build", "--out", str(out / "site")], out / "site"),
        "build (incremental)": (["build", "--out", str(out / "site")], out / "site"),
        "export": (["export", "QP-SH-001", "--out", str(out)], out / "QP-SH-001-A0-客户投诉处理程序.docx"),
        "pack": (["pack", "--out", str(out / "audit-pack.zip")], out / "audit-pack.zip"),
    }[request.param]
    return Command(released_repo, args, target, tmp_path / "tmpdir", tmp_path / "cwd",
                   incremental=request.param == "build (incremental)")


def test_interrupts_and_kills_leave_the_previous_output_whole_and_nothing_behind(command, tmp_path):
    complete_run(command)
    duration = complete_run(command)
    reference = command.output()
    assert reference is not None
    if command.out.is_dir():
        files, marker = reference.content
        assert "index.html" in dict(files) and marker.startswith("controlled ")
    kept = leftovers(command)

    stopped_by = set()
    for delay, signum in interruption_moments(duration):
        before = command.output()
        code, errors = signalled_run(command, delay, signum)
        if assert_whole(command, reference, before, code, signum, errors):
            stopped_by.add(signum)
        assert leftovers(command) == kept
        assert strays(tmp_path) == []
    assert stopped_by == set(INTERRUPT_SIGNALS)

    for delay in kill_moments(duration):
        before = command.output()
        code, errors = signalled_run(command, delay, signal.SIGKILL)
        assert_whole(command, reference, before, code, signal.SIGKILL, errors)
        wait_until_gone(tmp_path)

    complete_run(command)
    assert command.output().content == reference.content
    assert leftovers(command) == kept
    assert strays(tmp_path) == []
    if command.incremental:  # what the interrupted runs left for the next one led to the site a cold build makes
        cold = tmp_path / "cold"
        complete_run(Command(command.repo, ["build", "--out", str(cold)], cold, command.tmpdir, command.cwd))
        assert site_content(cold) == reference.content


def interruption_moments(duration: float) -> list[tuple[float, int]]:
    """INTERRUPTS_PER_COMMAND delays from FIRST_DELAY to just under the duration, SIGINT and SIGTERM in turn."""
    last = max(FIRST_DELAY, duration * LAST_DELAY_SHARE)
    step = (last - FIRST_DELAY) / (INTERRUPTS_PER_COMMAND - 1)
    return [(FIRST_DELAY + i * step, INTERRUPT_SIGNALS[i % 2]) for i in range(INTERRUPTS_PER_COMMAND)]


def kill_moments(duration: float) -> list[float]:
    return [duration * (k + 1) / (KILLS_PER_COMMAND + 1) for k in range(KILLS_PER_COMMAND)]


def complete_run(command: Command) -> float:
    """Run the command to its end and return how long it ran once doccontrol was running."""
    process = command.start()
    wait_until_doccontrol_runs(process)
    started = time.monotonic()
    _, errors = process.communicate()
    assert process.returncode == 0, errors.decode(errors="replace")
    duration = time.monotonic() - started
    wait_until_gone(command.out.parent)  # a build that replaced the site removes the old one after it ends
    return duration


def signalled_run(command: Command, delay: float, signum: int) -> tuple[int, str]:
    process = command.start()
    wait_until_doccontrol_runs(process)
    time.sleep(delay)
    process.send_signal(signum)
    _, errors = process.communicate()
    wait_until_gone(command.out.parent)
    return process.returncode, errors.decode(errors="replace")


def wait_until_doccontrol_runs(process: subprocess.Popen) -> None:
    """Wait until the process catches SIGTERM: from then on doccontrol, not Python's start-up, gets signals."""
    sigterm = 1 << (signal.SIGTERM - 1)
    while process.poll() is None and not caught_signals(process.pid) & sigterm:
        time.sleep(0.002)


def caught_signals(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    return int(found.group(1), 16) if found else 0


def assert_whole(command: Command, reference: Output, before: Output, code: int, signum: int, errors: str) -> bool:
    """The output is the previous one or a complete new one, and the exit status says which could happen.

    A run stopped before replacing its output must say it was interrupted (or have died by
    SIGKILL); one that had replaced it may also have finished (0) or been stopped while
    Python shut down (death by the signal)."""
    after = command.output()
    name = signal.Signals(signum).name
    assert after is not None, f"{name} left no output: {errors}"
    assert after.content == reference.content, f"{name} left a changed output: {errors}"
    if signum == signal.SIGKILL:
        stopped = code == -signal.SIGKILL
    else:
        stopped = code in INTERRUPTED and INTERRUPTED_MESSAGE in errors
    replaced = after.identity != before.identity
    assert stopped or (replaced and code in (0, -signum)), f"{name}: exit {code}, replaced: {replaced}: {errors}"
    return stopped


def leftovers(command: Command) -> list[str]:
    """What is next to the output, in TMPDIR, and temporaries in the repository's cache.

    A complete run may keep files of its own there (jieba keeps its dictionary cache in TMPDIR)."""
    beside = [p.name for p in command.out.parent.iterdir() if p != command.out]
    in_tmpdir = [p.name for p in command.tmpdir.iterdir()]
    cache = command.repo / ".doccontrol-cache"
    in_cache = [p.name for p in cache.rglob("*") if OWN_TEMPORARY.fullmatch(p.name)] if cache.exists() else []
    return sorted(beside + in_tmpdir + in_cache)


def strays(folder: Path) -> list[str]:
    """Live processes (zombies aside) working in folder or naming it on their command line."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if state != "Z" and (str(folder) in cmdline or cwd.startswith(str(folder))):
            found.append(f"{proc.name} {cmdline}")
    return found


def wait_until_gone(folder: Path) -> None:
    """A killed run's pandoc workers end by themselves (their pipe is gone), and the remover of a replaced site
    (fileio.remove_in_background) once the old site is gone; wait for them before the next run."""
    deadline = time.monotonic() + ORPHANS_PATIENCE
    while strays(folder):
        assert time.monotonic() < deadline, f"still running after {ORPHANS_PATIENCE} s: {strays(folder)}"
        time.sleep(0.05)


# -- what a signal can hardly be timed to hit -------------------------------------------------

@pytest.fixture
def sites(tmp_path) -> tuple[Path, Path, Path]:
    new, out = tmp_path / "work" / "site", tmp_path / "site"
    for site, page in ((new, "new"), (out, "old")):
        site.mkdir(parents=True)
        (site / "index.html").write_text(page, encoding="utf-8")
    return new, out, tmp_path / "work" / "previous"


@pytest.fixture
def sigint_raises():
    """SIGINT raising KeyboardInterrupt as in a terminal, even where the tests run with it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_an_interrupt_between_the_renames_takes_effect_once_the_new_site_is_in_place(sites, monkeypatch,
                                                                                    sigint_raises):
    new, out, previous = sites
    rename = os.rename

    def rename_then_interrupt(src, dst):
        rename(src, dst)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "rename", rename_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        swap_in(new, out, previous)
    assert (out / "index.html").read_text(encoding="utf-8") == "new"
    assert (previous / "index.html").read_text(encoding="utf-8") == "old"


def test_an_interrupt_while_python_finds_the_temporary_folder_leaves_no_probe_file(tmp_path, monkeypatch,
                                                                                  sigint_raises):
    """Python writes and removes a probe file to find TMPDIR; the interrupt lands just after it is created."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    open_file = os.open

    def open_then_interrupt(path, *args, **kwargs):
        handle = open_file(path, *args, **kwargs)
        if Path(path).parent == tmp_path:
            os.kill(os.getpid(), signal.SIGINT)
        return handle

    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        cli.settle_temporary_folder()
    assert list(tmp_path.iterdir()) == []


def test_only_leftovers_of_processes_that_ended_are_removed(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    mine = fileio.private_temp_path(tmp_path, ".pack.zip.", ".tmp")
    dead = tmp_path / mine.name.replace(f".{os.getpid()}-", f".{ended.pid}-")
    unrelated = tmp_path / f".pack.zip.{ended.pid}.tmp"
    for path in (mine, dead, unrelated):
        path.write_bytes(b"")
    fileio.remove_stale(tmp_path, ".pack.zip.", ".tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, unrelated.name])


def test_a_temporary_folder_is_removed_whole_from_several_threads_and_links_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.txt").write_text("kept", encoding="utf-8")
    work = tmp_path / "work"
    for number in range(3 * fileio.PARALLEL_FROM):
        page = work / "previous" / f"QP-SH-{number:03d}" / "redline"
        page.mkdir(parents=True)
        (page / "index.html").write_text("page", encoding="utf-8")
        (page.parent / "index.html").write_text("page", encoding="utf-8")
    (work / "previous" / "index.html").write_text("home", encoding="utf-8")
    (work / "previous" / "QP-SH-000" / "outside").symlink_to(outside, target_is_directory=True)
    (work / "docs").mkdir()
    fileio.remove_tree(work)
    assert not work.exists()
    assert (outside / "kept.txt").read_text(encoding="utf-8") == "kept"
