"""Progress: shown on a terminal once a command has run a while, never in CI, pipes or tests."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from doccontrol.progress import TerminalProgress

from conftest import ROOT, invoke

SCRIPT = """
import sys
import doccontrol.progress as progress
progress.DELAY = 0.0
from doccontrol.cli import cli
cli(sys.argv[1:], prog_name="doccontrol")
"""


def test_the_latest_report_is_shown_on_one_line_and_cleared_at_the_end():
    stream = io.StringIO()
    with TerminalProgress(stream, "build", delay=0.0, interval=0.01) as progress:
        progress("rendering pages", 340, 1002)
        time.sleep(0.1)
    shown = stream.getvalue()
    assert "\rbuild: rendering pages 340/1,002 (0 s)" in shown
    assert shown.endswith("\r" + " " * len("build: rendering pages 340/1,002 (0 s)") + "\r")


def test_a_quick_command_shows_nothing():
    stream = io.StringIO()
    with TerminalProgress(stream, "build", delay=2.0) as progress:
        progress("rendering pages", 1, 2)
    assert stream.getvalue() == ""


def test_the_command_line_shows_no_progress_when_stderr_is_not_a_terminal(runner, released_repo, tmp_path):
    result = invoke(runner, released_repo, "build", "--out", str(tmp_path / "site"))
    assert "\r" not in result.output and "rendering" not in result.output


def run(args: list[str], on_terminal: bool) -> str:
    """doccontrol with progress shown from the start, its stderr a terminal or a pipe; what it wrote there."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", SCRIPT, *args]
    if not on_terminal:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr
    master, slave = pty.openpty()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    assert process.wait(timeout=300) == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


def test_build_pack_and_verify_show_what_they_do_on_a_terminal(released_repo, tmp_path):
    repo = str(released_repo)
    built = run(["--repo", repo, "build", "--out", str(tmp_path / "site")], on_terminal=True)
    assert "\rbuild: " in built and "pages" in built
    packed = run(["--repo", repo, "pack", "--out", str(tmp_path / "pack.zip")], on_terminal=True)
    assert "\rpack: " in packed
    verified = run(["--repo", repo, "verify"], on_terminal=True)
    assert "\rverify: proving the signed record" in verified


def test_nothing_is_shown_when_stderr_is_a_pipe(released_repo, tmp_path):
    shown = run(["--repo", str(released_repo), "build", "--out", str(tmp_path / "site")], on_terminal=False)
    assert "\r" not in shown and shown == ""
    assert Path(tmp_path / "site" / "index.html").is_file()
