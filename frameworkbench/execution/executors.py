"""Executors: where the runner's worker processes run, ``local`` (here) or ``ray`` (as Ray tasks).

The runner hands an executor groups of jobs (one job per group with ``--isolate run``, one
target's jobs with ``--isolate target``). Every group runs through :func:`.launch.launch_group`,
the same worker process either way, so isolation, time limits and fault statuses do not change;
a Ray task only moves that call onto a cluster node. Results always come back to the calling
(driver) thread, which alone stores them. ``jobs`` bounds how many groups run at a time,
across every thread that shares the executor (a study runs several specs at once).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator

from ..spec import SpecError, problem, unknown
from .launch import launch_group
from .records import Job

EXECUTORS = ("local", "ray")
CONNECT_TIMEOUT_S = 10.0  # an unreachable --ray-address fails within this
ENV_PREFIX = "FRAMEWORKBENCH_"  # driver variables a Ray task passes on to its worker (e.g. FRAMEWORKBENCH_FAULT)


class Launch:
    """What every group of one runner call shares: files, limits and the runner's callbacks."""

    def __init__(self, workdir: Path, timeout: float | None, extra_env: dict, on_start: Callable[[list[Job]], None],
                 on_event: Callable[[dict], None], on_result: Callable[[Job, dict], None],
                 launch_one: Callable = None, launch_many: Callable = launch_group) -> None:
        self.workdir, self.timeout, self.extra_env = workdir, timeout, extra_env
        self.on_start, self.on_event, self.on_result = on_start, on_event, on_result
        self.launch_one, self.launch_many = launch_one, launch_many  # launch.launch / launch_group, or stand-ins

    def here(self, group: list[Job], on_event: Callable[[dict], None], on_result: Callable[[Job, dict], None]) -> None:
        """Run ``group``'s worker process on this machine (a lone job through ``launch_one`` when given)."""
        if len(group) == 1 and self.launch_one is not None:
            on_result(group[0], self.launch_one(group[0], self.workdir, self.timeout, on_event, self.extra_env))
        else:
            self.launch_many(group, self.workdir, self.timeout, on_event, self.extra_env, on_result)


class Executor:
    """Runs groups of jobs, at most ``jobs`` at a time; subclasses say where."""

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs
        self._slots = threading.BoundedSemaphore(jobs)
        self.cancelled = threading.Event()

    def run_groups(self, groups: list[list[Job]], how: Launch) -> None:
        """Run every group; ``how.on_result`` is called on this thread, once per job, as each ends."""
        todo, inflight = list(groups), {}
        try:
            while todo or inflight:
                if self.cancelled.is_set():
                    raise KeyboardInterrupt
                if todo and self._slots.acquire(timeout=0 if inflight else 0.1):
                    handle = self._start(todo[0], how)
                    inflight[handle] = todo.pop(0)
                    continue
                for handle, results in self._collect(list(inflight), how):
                    for job, result in results:
                        how.on_result(job, result)
                    del inflight[handle]
                    self._slots.release()
        except BaseException:
            self._cancel(list(inflight))
            for _ in inflight:
                self._slots.release()
            raise

    def cancel_all(self) -> None:
        """Stop every caller's groups (Ctrl-C in a study): results already delivered stay."""
        self.cancelled.set()

    # local: the calling thread runs the only group at a time itself (today's behaviour), more in threads
    def _start(self, group: list[Job], how: Launch):
        how.on_start(group)
        if self.jobs == 1:
            results: list = []
            how.here(group, how.on_event, lambda j, r: results.append((j, r)))
            return _Done(results)
        box = _Box()

        def relay(ev: dict) -> None:
            if box.stop.is_set():
                raise KeyboardInterrupt  # launch_group kills its worker on the way out
            how.on_event(ev)

        def work() -> None:
            try:
                how.here(group, relay, lambda j, r: box.results.append((j, r)))
            finally:
                box.done.set()

        threading.Thread(target=work, daemon=True).start()
        return box

    def _collect(self, handles: list, how: Launch) -> Iterator[tuple[object, list]]:
        running = [h for h in handles if isinstance(h, _Box) and not h.done.is_set()]
        if running and len(running) == len(handles):
            running[0].done.wait(0.1)
        for h in handles:
            if isinstance(h, _Done) or h.done.is_set():
                yield h, h.results

    def _cancel(self, handles: list) -> None:
        for h in handles:
            if isinstance(h, _Box):
                h.stop.set()

    def close(self) -> None:
        pass


class _Done:
    def __init__(self, results: list) -> None:
        self.results = results


class _Box:
    def __init__(self) -> None:
        self.results: list = []
        self.done, self.stop = threading.Event(), threading.Event()


def check_options(executor: str, jobs: int | None, ray_address: str | None, *, names: dict | None = None) -> None:
    """SpecError naming the option for a bad executor, job count or an address without ``ray``."""
    names = {"executor": "--executor", "jobs": "--jobs", "ray_address": "--ray-address", **(names or {})}
    problems = []
    if executor not in EXECUTORS:
        problems.append(unknown(names["executor"], "executor", executor, EXECUTORS))
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 10000):
        problems.append(problem(names["jobs"], f"got {jobs!r}; expected an integer in [1, 10000]"))
    if ray_address is not None and executor != "ray":
        problems.append(problem(names["ray_address"], f"got {ray_address!r}, but it needs {names['executor']} ray"))
    if problems:
        raise SpecError(problems)


@contextlib.contextmanager
def executors(executor: str = "local", ray_address: str | None = None, *,
              names: dict | None = None) -> Iterator[Callable[[int], Executor]]:
    """For one command: ``make(jobs)`` gives an executor; with ``ray`` all share one Ray connection
    (to ``ray_address``, or to a local instance started here and stopped on the way out)."""
    names = {"executor": "--executor", "jobs": "--jobs", "ray_address": "--ray-address", **(names or {})}
    check_options(executor, None, ray_address, names=names)
    if executor == "local":
        yield Executor
        return
    with ray_session(ray_address, names) as ray:
        yield lambda jobs: RayExecutor(jobs, ray)


def check_reachable(address: str, option: str) -> None:
    """Fail within :data:`CONNECT_TIMEOUT_S` with a clear error if nothing listens at ``[ray://]HOST:PORT``."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise SpecError([problem(option, f"got {address!r}; expected HOST:PORT, ray://HOST:PORT or auto")])
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise SpecError([problem(option, f"cannot reach a Ray cluster at {address!r} within "
                                         f"{CONNECT_TIMEOUT_S:g} s ({exc.__class__.__name__}: {exc}); "
                                         "nothing was run or written")]) from None


def driver_env(extra_env: dict) -> dict:
    """The environment a remote worker gets on top of its node's: the run's extras and FRAMEWORKBENCH_* ones."""
    return {**{k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}, **extra_env}


def local_tempdir() -> str:
    return tempfile.mkdtemp(prefix="frameworkbench-ray-")


# ----------------------------------------------------------------------------- ray
@contextlib.contextmanager
def ray_session(address: str | None, names: dict) -> Iterator:
    """``ray`` connected to ``address`` (checked to answer first) or to a new local instance."""
    try:
        import ray
    except ImportError:
        raise SpecError([problem(names["executor"], "ray is not installed; install it with "
                                                    "pip install 'frameworkbench[ray]'")]) from None
    if address is not None:
        check_reachable(address, names["ray_address"])
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = not ray.is_initialized()
    if started:
        local = {} if address else {"num_cpus": _cores(), "include_dashboard": False}
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR", **local)
        except Exception as exc:  # ConnectionError, RuntimeError: the cluster did not take us
            raise SpecError([problem(names["ray_address"] if address else names["executor"],
                                     f"could not start or join Ray ({exc.__class__.__name__}: "
                                     f"{str(exc).splitlines()[0] if str(exc) else ''}); nothing was run")]) from None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class RayExecutor(Executor):
    """Each group is one Ray task (``num_cpus`` = threads, ``num_gpus`` = 1 on ``gpu``) that runs the
    group's worker process on its node; inputs travel through the object store, results come back."""

    name = "ray"

    def __init__(self, jobs: int, ray) -> None:
        super().__init__(jobs)
        self.ray, self._task = ray, ray.remote(max_retries=0)(_ray_task)
        self._inputs: dict[str, object] = {}  # workdir -> object ref of its input files
        self._groups: dict[object, list[Job]] = {}  # in-flight task -> its jobs
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        self._max_cpus = max((n.get("CPU", 0) for n in nodes), default=0)
        self._gpus = max((n.get("GPU", 0) for n in nodes), default=0)

    def run_groups(self, groups: list[list[Job]], how: Launch) -> None:
        key = str(how.workdir)
        self._inputs[key] = self.ray.put({p.name: p.read_bytes() for p in how.workdir.iterdir() if p.is_file()})
        try:
            super().run_groups(groups, how)
        finally:
            self._inputs.pop(key, None)

    def _start(self, group: list[Job], how: Launch):
        job = group[0]
        gpus = 1 if job.device == "gpu" else 0
        if job.threads > self._max_cpus:
            raise SpecError([problem("--threads", f"{job.threads} threads per run, but the largest Ray node has "
                                                  f"{self._max_cpus:g} CPUs")])
        if gpus > self._gpus:
            raise SpecError([problem("--device", "gpu, but no node of the Ray cluster has a GPU")])
        how.on_start(group)
        ref = self._task.options(num_cpus=job.threads, num_gpus=gpus).remote(
            [j.to_dict() for j in group], self._inputs[str(how.workdir)], how.timeout, driver_env(how.extra_env))
        self._groups[ref] = group
        return ref

    def _collect(self, handles: list, how: Launch) -> Iterator[tuple[object, list]]:
        ready, _ = self.ray.wait(handles, num_returns=1, timeout=0.2)
        for ref in ready:
            group = self._groups.pop(ref)
            try:
                results, events = self.ray.get(ref)
            except Exception as exc:  # the Ray task itself failed (node lost, cancelled)
                first = (str(exc).strip().splitlines() or [""])[-1]
                results, events = [(j.run_id, {"status": "failed", "error": f"Ray task failed: {first}"}, None)
                                   for j in group], []
            for ev in events:
                how.on_event(ev)
            by_id, out = {j.run_id: j for j in group}, []
            for run_id, result, arrays in results:
                job = by_id[run_id]
                job.record_path = str(how.workdir / f"record-{run_id}.json")
                if arrays is not None:
                    Path(job.record_path).with_suffix(".npz").write_bytes(arrays)
                out.append((job, result))
            yield ref, out

    def _cancel(self, handles: list) -> None:
        for ref in handles:  # not force: the task's launch_group sees KeyboardInterrupt and kills its worker
            self.ray.cancel(ref, force=False)
            self._groups.pop(ref, None)
        if handles:
            self.ray.wait(handles, num_returns=len(handles), timeout=10)


def _ray_task(jobs: list[dict], files: dict[str, bytes], timeout: float | None, env: dict) -> tuple[list, list]:
    """On a Ray node: write the inputs, run the group's worker as the local executor does, return
    ``[(run_id, result, array bytes or None)]`` and the worker's events."""
    tmp = Path(local_tempdir())
    if "OMP_NUM_THREADS" not in env:  # Ray sets it per task; the local executor's workers never see it
        os.environ.pop("OMP_NUM_THREADS", None)
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        group = []
        for d in jobs:
            job = Job.from_dict(d)
            for attr in ("data_path", "plan_path", "weights_path"):
                setattr(job, attr, str(tmp / Path(getattr(job, attr)).name))
            group.append(job)
        results, events = [], []

        def on_result(job: Job, result: dict) -> None:
            arrays = Path(job.record_path).with_suffix(".npz")
            results.append((job.run_id, result, arrays.read_bytes() if arrays.exists() else None))

        launch_group(group, tmp, timeout, events.append, env, on_result)
        return results, events
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
