"""Work shared out to forked worker processes: the few steps of a cold run that verify or parse tens of
thousands of items in Python, where one core would otherwise be the whole wait.

The items are not sent to the workers: a module-level table holds them when the workers are forked, so each
inherits them and only its share's results come back (pickled). Workers are forked only on Linux and only
while no thread but the main one (or doccontrol's own progress line) runs, since a thread may hold a lock a
worker would then wait for forever; otherwise, and whenever processes cannot be had, the caller does the work
itself (`Shared.results` gives None).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

MAX_WORKERS = 8
_PR_SET_PDEATHSIG = 1
QUIET_THREADS = ("doccontrol-progress",)  # threads that never hold a lock a worker takes

_SHARED: dict[int, tuple[Callable[[Any], Any], list]] = {}
_TOKENS = itertools.count()


def worker_count(items: int, per_worker: int) -> int:
    """Processes worth forking for this many items, each given at least per_worker of them (1: do it here)."""
    if not sys.platform.startswith("linux") or items < 2 * per_worker or not only_quiet_threads():
        return 1
    return min(len(os.sched_getaffinity(0)), items // per_worker, MAX_WORKERS)


def only_quiet_threads() -> bool:
    main = threading.main_thread()
    return all(thread is main or thread.name in QUIET_THREADS for thread in threading.enumerate())


def _run_share(token: int, start: int, stop: int) -> list:
    function, items = _SHARED[token]
    return [function(item) for item in items[start:stop]]


def _worker_start(parent: int) -> None:
    """In each worker, first: Ctrl-C is the parent's to handle (it stops the workers), SIGTERM ends the worker
    quietly, and a worker ends when its parent does, even when the parent is killed outright (Linux's
    PR_SET_PDEATHSIG)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command's handler, which raises KeyboardInterrupt
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the line above took effect
        os._exit(1)


class Shared:
    """function over items in `workers` forked processes, started at once (the caller may do other work, and then
    asks `results`)."""

    def __init__(self, function: Callable[[Any], Any], items: list, workers: int):
        self.token = next(_TOKENS)
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list = []
        if workers < 2 or not only_quiet_threads():
            return
        _SHARED[self.token] = (function, items)
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_start, initargs=(os.getpid(),))
            bounds = [len(items) * index // workers for index in range(workers + 1)]
            self.futures = [self.pool.submit(_run_share, self.token, start, stop)
                            for start, stop in zip(bounds[:-1], bounds[1:])]
        except (OSError, BrokenProcessPool):
            self.close()

    def results(self) -> list | None:
        """Every item's result, in the items' order; None when the workers could not give them."""
        if self.pool is None:
            return None
        try:
            found = [result for future in self.futures for result in future.result()]
        except (OSError, BrokenProcessPool):
            self.abort()
            return None
        except BaseException:
            self.abort()
            raise
        self.close()
        return found

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        _SHARED.pop(self.token, None)

    def abort(self) -> None:
        """Stop the workers now, their work unfinished (an interruption, or an error in the caller).

        A worker killed while it sends its results leaves the pool's reader waiting for the rest, which never
        comes while this process holds the pipe's other end: that end is closed too, so the pool can end instead
        of waiting forever. (The pool's parts are reached by name: Python has no public way before 3.14.)"""
        pool, self.pool = self.pool, None
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            for process in processes:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    process.kill()
            for process in processes:
                with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
                    process.join(5)
            with contextlib.suppress(OSError, AttributeError):
                pool._result_queue._writer.close()  # type: ignore[attr-defined]
            pool.shutdown(wait=False, cancel_futures=True)
        _SHARED.pop(self.token, None)
