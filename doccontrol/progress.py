"""Progress of long commands: the library reports it, the command line decides whether anyone sees it.

A library function that takes a while accepts `progress`, a callable `(stage, done, total)`:
stage says what is being done ("rendering pages"), done and total count it (total 0 when there
is nothing to count). It knows nothing of terminals. `TerminalProgress` shows the latest report
on one line of a terminal, redrawn from a background thread, and only once the command has run
for DELAY seconds; the command line uses it only when stderr is a terminal, so a quick command,
or one whose output goes to CI, a test or a pipe, shows nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

DELAY = 2.0  # seconds a command runs before its progress is shown


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def quiet(stage: str, done: int, total: int) -> None:
    """A progress report nobody sees."""


def counted(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    """A `(done, total)` callback (as `pack` takes) reporting to progress under stage."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


class TerminalProgress:
    """Shows the latest report on stderr's last line, from `delay` seconds on, until `close`.

    Use it as a context manager around the work; it is a `Progress`."""

    def __init__(self, stream: TextIO, command: str, stage: str = "", delay: float | None = None,
                 interval: float = 0.25):
        self.stream = stream
        self.command = command
        self.delay = DELAY if delay is None else delay
        self.interval = interval
        self.stage = stage
        self.done = 0
        self.total = 0
        self.started = time.monotonic()
        self._shown = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="doccontrol-progress", daemon=True)

    def __enter__(self) -> TerminalProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.stage, self.done, self.total = stage, done, total

    def line(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        with self._lock:
            stage, done, total = self.stage, self.done, self.total
        count = f" {done:,}/{total:,}" if total else ""
        return f"{self.command}: {stage or 'working'}{count} ({elapsed} s)"

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            text = self.line()
            padding = " " * max(0, self._shown - len(text))
            self.stream.write("\r" + text + padding)
            self.stream.flush()
            self._shown = max(self._shown, len(text))
            if self._stop.wait(self.interval):
                return
