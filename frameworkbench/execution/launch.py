"""Worker processes: start one for a group of jobs, relay its events, collect one result per job.

A worker that raises, crashes or runs past its time limit still yields a result (``failed`` or
``timeout``) and the jobs after it run in a fresh worker.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from . import events
from .modes import MODES
from .records import Job, check_result

WORKER_MODULE = "frameworkbench.execution.worker"
STDERR_TAIL_LINES = 15
Event = Callable[[dict], None]


def launch(job: Job, workdir: Path, timeout: float | None, on_event: Event | None = None,
           extra_env: dict | None = None) -> dict:
    """Run one worker process for ``job``; always return a result dict (never raise for worker faults)."""
    results: dict[str, dict] = {}
    launch_group([job], workdir, timeout, on_event, extra_env, lambda j, r: results.__setitem__(j.run_id, r))
    return results[job.run_id]


class _Group:
    """The jobs of one worker process still waiting for their result, and the clock of the current one."""

    def __init__(self, jobs: list[Job], on_result: Callable[[Job, dict], None]) -> None:
        self.first, self.pending, self.on_result = jobs[0], list(jobs), on_result
        self.started, self.last_epoch = time.perf_counter(), {}

    def finish(self, result: dict) -> None:
        now = time.perf_counter()
        result["worker_wall_s"] = now - self.started
        self.on_result(self.pending.pop(0), result)
        self.started, self.last_epoch = now, {}

    def handle(self, ev: dict, stderr_path: Path) -> None:
        kind, current = ev.get("event"), self.pending[0] if self.pending else None
        if current is None or ev.get("run_id") != current.run_id:
            return
        if kind == "job_start" and current is not self.first:
            self.started = time.perf_counter()  # the first job's wall includes process start and import
        elif kind == "job_done":
            self.finish(_read_result(current, stderr_path))


def launch_group(jobs: list[Job], workdir: Path, timeout: float | None, on_event: Event | None,
                 extra_env: dict | None, on_result: Callable[[Job, dict], None]) -> None:
    """Run ``jobs`` one after another in one worker process (``--isolate target``).

    ``on_result(job, result)`` is called exactly once per job, as soon as that job ends, so
    each record can be stored at once. ``timeout`` applies to each job. If the worker dies or
    is killed, the job it was running gets a failed/timeout result and the jobs after it run
    in a fresh worker.
    """
    paths = []
    for job in jobs:
        job.record_path = str(workdir / f"record-{job.run_id}.json")
        paths.append(workdir / f"job-{job.run_id}.json")
        paths[-1].write_text(json.dumps(job.to_dict()))
    stderr_path = workdir / f"stderr-{jobs[0].run_id}.txt"
    env = {**os.environ, **jobs[0].env, **(extra_env or {})}
    group = _Group(jobs, on_result)
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, *map(str, paths)],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True, text=True, bufsize=1)
        try:
            timed_out = _follow(proc, group, timeout, on_event, stderr_path)
            proc.wait()
        except BaseException:
            _kill(proc)
            raise
    if group.pending:
        _lost(proc, group, timeout, timed_out, stderr_path)
    if group.pending:  # the rest get a fresh worker
        launch_group(group.pending, workdir, timeout, on_event, extra_env, on_result)


def _follow(proc: subprocess.Popen, group: _Group, timeout: float | None, on_event: Event | None,
            stderr_path: Path) -> bool:
    """Relay the worker's events until every job ended or the worker is gone; True if it ran out of time."""
    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while group.pending:
        left = None if timeout is None else timeout - (time.perf_counter() - group.started)
        if left is not None and left <= 0:
            _kill(proc)
            return True
        try:
            line = lines.get(timeout=0.2 if left is None else min(0.2, left))
        except queue.Empty:
            continue
        if line is None:
            return False
        ev = events.parse(line)
        if ev is None:
            continue
        group.handle(ev, stderr_path)
        if ev.get("event") == "epoch":
            group.last_epoch = ev
        if on_event and ev.get("event") not in ("job_start", "job_done"):
            on_event(ev)
    return False


def _lost(proc: subprocess.Popen, group: _Group, timeout: float | None, timed_out: bool, stderr_path: Path) -> None:
    """The result of the job the worker was running when it stopped."""
    tail = _tail(stderr_path)
    current, last = group.pending[0], group.last_epoch
    if timed_out:
        where = (f" after epoch {last['epoch']}/{last.get('epochs', '?')}" if last
                 else " before the first epoch ended")
        group.finish({"status": "timeout", "error": f"time limit of {timeout:g} s exceeded{where}; worker killed",
                      "last_epoch": last.get("epoch"), "stderr_tail": tail})
    elif Path(current.record_path).exists():
        group.finish(_read_result(current, stderr_path))
    else:
        how = (f"signal {-proc.returncode}" if proc.returncode and proc.returncode < 0
               else f"exit code {proc.returncode}")
        if proc.returncode == -signal.SIGKILL:
            how += ", SIGKILL: killed, e.g. by the out-of-memory killer"
        group.finish({"status": "failed", "error": f"worker died ({how}) without a record"
                                                   + (f": {tail.splitlines()[-1]}" if tail else ""),
                      "stderr_tail": tail})


def _read_result(job: Job, stderr_path: Path) -> dict:
    result = check_result(json.loads(Path(job.record_path).read_text()), MODES[job.mode].result)
    if result.get("status") == "failed":
        result["stderr_tail"] = _tail(stderr_path)
    return result


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-STDERR_TAIL_LINES:])

