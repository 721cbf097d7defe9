"""The pandoc worker pool: one `pandoc lua` process per share of batches, reporting each finished batch.

Each worker reads its job list from a file in the conversion's private temporary folder and prints
the number of every batch it has written. Whatever happens (a failed worker, an error in the
caller's handler, an interrupt), every worker is stopped and reaped before `run` returns, so no
pandoc outlives a conversion and nothing is left outside the temporary folder.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pypandoc

from ..errors import DoccontrolError
from ..fileio import interrupts_held


def run(tmp: Path, script: Path, job_lists: list[dict], on_batch: Callable[[int, int], None]) -> None:
    """Run `pandoc lua script` once per job list, all at once; on_batch(worker, position) as each worker
    finishes its position-th batch (counted from 1). A worker that fails raises DoccontrolError with the
    end of its error output."""
    processes: list[subprocess.Popen] = []
    events: queue.Queue[tuple[int, int] | None] = queue.Queue()
    try:
        for worker, jobs in enumerate(job_lists):
            _start(tmp, script, worker, jobs, events, processes)
        running = len(processes)
        while running:
            event = events.get()
            if event is None:
                running -= 1
                continue
            on_batch(*event)
        for worker, process in enumerate(processes):
            if process.wait() != 0:
                errors = Path(tmp, f"stderr-{worker}.txt").read_text(encoding="utf-8", errors="replace")
                raise DoccontrolError(f"pandoc failed converting to Word: {errors.strip()[-2000:]}",
                                      fix="check the documents' Markdown with `doccontrol check`")
    finally:
        with interrupts_held():
            _stop(processes)


def _stop(processes: list[subprocess.Popen]) -> None:
    """Kill the workers still running and reap every one, so no pandoc outlives the conversion."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def _start(tmp: Path, script: Path, worker: int, jobs: dict, events: queue.Queue,
           processes: list[subprocess.Popen]) -> None:
    """Start one pandoc worker and add it to processes, with no moment where an interrupt could lose it.

    The worker's own temporary files (`pandoc lua` keeps one) go into tmp too, so a worker
    that has to be killed leaves nothing outside it."""
    jobs_file = tmp / f"jobs-{worker}.json"
    jobs_file.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    command = [pypandoc.get_pandoc_path(), "lua", str(script), str(jobs_file)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "TMPDIR": str(tmp)}
    with open(tmp / f"stderr-{worker}.txt", "wb") as errors, interrupts_held():
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL,
                                   cwd=tmp, env=env)
        processes.append(process)

    def pump():
        for line in process.stdout:
            events.put((worker, int(line)))
        events.put(None)

    threading.Thread(target=pump, daemon=True).start()
