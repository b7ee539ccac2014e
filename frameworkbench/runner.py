"""Plans runs, prepares shared inputs once, launches one worker process per run, collects records.

The data file, batch plans and initial weights are written once per
invocation; each (target, seed) run then executes in a fresh worker process
(``python -m frameworkbench.worker``) so framework env vars, thread settings,
timings and peak memory belong to that run alone. A worker that raises,
crashes or runs past its time limit still yields a record (``failed`` or
``timeout``) and the other runs go on.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__, data, weights
from .measure import host_info
from .spec import DEVICES, Spec, SpecError, out_of_range, unknown, wrong_type
from .estimate import check_memory
from .store import Store
from .targets import Target, package_version
from .worker import EVENT_PREFIX

Event = Callable[[dict], None]
POLICIES = ("aligned", "native")
ISOLATION = ("run", "target")
STDERR_TAIL_LINES = 15


@dataclass
class RunOptions:
    """How to run: device, threads, seeds, limits, where results go."""

    device: str = "cpu"
    threads: int | None = None  # None: every core the process may use
    seeds: int = 1
    timeout: float | None = None  # seconds per run
    db: str | os.PathLike | None = None
    store: bool = True
    repeats: int = 1  # runs per (target, seed): their medians and IQR are reported
    isolate: str = "run"  # "run": a fresh worker per run; "target": one worker per target, reused
    mode: str = "train"  # worker mode (worker.MODES)
    policy: str = "aligned"  # "aligned": spec values, one formulation everywhere; "native": framework defaults
    job_options: dict = field(default_factory=dict)  # extra fields a worker mode reads from its job
    extra_env: dict = field(default_factory=dict)
    force: bool = False  # rerun runs whose run key already has an ``ok`` record (default: resume, skip them)

    def resolved_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

    def check(self, *, option_names: dict[str, str] | None = None) -> None:
        """Raise SpecError listing every bad option. ``option_names`` maps a field (device, threads, seeds,
        isolate, repeats, policy, timeout) to the name messages use (default: the CLI flag, ``--device``)."""
        names = {f: f"--{f}" for f in ("device", "threads", "seeds", "isolate", "repeats", "timeout")}
        names["policy"] = "--policy"
        names.update(option_names or {})
        problems = []
        if self.device not in DEVICES:
            problems += [unknown(names["device"], "device", self.device, DEVICES)]
        for key, value, hi in (("threads", self.threads, 1024), ("seeds", self.seeds, 1000)):
            if value is None and key == "threads":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(wrong_type(names[key], value, "an integer"))
            elif not 1 <= value <= hi:
                problems.append(out_of_range(names[key], value, f"an integer in [1, {hi}]"))
        if self.isolate not in ISOLATION:
            problems.append(unknown(names["isolate"], "isolation level", self.isolate, ISOLATION))
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or not 1 <= self.repeats <= 1000:
            problems.append(out_of_range(names["repeats"], self.repeats, "an integer in [1, 1000]"))
        if self.policy not in POLICIES:
            problems.append(unknown(names["policy"], "defaults policy", self.policy, POLICIES))
        if self.timeout is not None and (isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float))
                                         or not 0 < self.timeout < math.inf):
            problems.append(out_of_range(names["timeout"], self.timeout, "a positive, finite number of seconds"))
        if problems:
            raise SpecError(problems)


@dataclass
class Inputs:
    """Files every worker of one invocation reads."""

    data_path: Path
    dataset_hash: str
    dataset_summary: dict
    plans: dict[int, Path]
    weights: dict[int, Path]


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def seeds_for(spec: Spec, n: int) -> list[int]:
    base = spec.training["seed"]
    return [base + i for i in range(n)]


def prepare_inputs(spec: Spec, seeds: list[int], workdir: Path) -> Inputs:
    """Load and check the data, write it once, and the batch plan and weights per seed."""
    ds = data.load_dataset(spec)
    path, digest = data.save(ds, workdir)
    plans, inits = {}, {}
    for seed in seeds:
        plans[seed] = workdir / f"plan-{seed}.npy"
        np.save(plans[seed], data.batch_plan(len(ds.x_train), spec.training["epochs"], seed))
        inits[seed] = workdir / f"weights-{seed}.npz"
        weights.save(weights.initial_weights(spec, seed), inits[seed])
    return Inputs(path, digest, ds.summary(), plans, inits)


def versions_for(target: Target) -> dict:
    return {"frameworkbench": __version__, "numpy": package_version("numpy"), **target.versions()}


def run_key(spec: Spec, dataset_hash: str, target: Target, device: str, seed: int, versions: dict,
            mode: str = "train", policy: str = "aligned", repeat: int = 0) -> str:
    blob = json.dumps([spec.hash, dataset_hash, target.name, device, seed, versions, mode, policy]
                      + ([repeat] if repeat else []), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def base_record(spec: Spec, target: Target, seed: int, inputs: Inputs, opts: RunOptions, batch_id: str,
                repeat: int = 0) -> dict:
    """The context every record carries, whatever happens to the run."""
    versions = versions_for(target)
    return {
        "run_id": uuid.uuid4().hex[:12], "batch_id": batch_id, "created_at": now(), "target": target.name,
        "family": target.family, "backend": target.backend, "status": "pending", "error": None,
        "spec_name": spec.name, "spec_hash": spec.hash, "spec": spec.to_dict(), "init": spec.init,
        "dataset_hash": inputs.dataset_hash, "dataset": inputs.dataset_summary, "seed": seed,
        "device_requested": opts.device, "device": None, "threads": opts.resolved_threads(),
        "versions": versions, "host": host_info(), "mode": opts.mode, "policy": opts.policy,
        "repeat": repeat, "isolate": opts.isolate,
        "run_key": run_key(spec, inputs.dataset_hash, target, opts.device, seed, versions, opts.mode, opts.policy,
                           repeat),
    }


def launch(job: dict, workdir: Path, timeout: float | None, on_event: Event | None = None,
           extra_env: dict | None = None) -> dict:
    """Run one worker process for ``job``; always return a result dict (never raise for worker faults)."""
    results: dict[str, dict] = {}
    launch_group([job], workdir, timeout, on_event, extra_env, lambda j, r: results.__setitem__(j["run_id"], r))
    return results[job["run_id"]]


def launch_group(jobs: list[dict], workdir: Path, timeout: float | None, on_event: Event | None,
                 extra_env: dict | None, on_result: Callable[[dict, dict], None]) -> None:
    """Run ``jobs`` one after another in one worker process (``--isolate target``).

    ``on_result(job, result)`` is called exactly once per job, as soon as that job ends, so
    each record can be stored at once. ``timeout`` applies to each job. If the worker dies or
    is killed, the job it was running gets a failed/timeout result and the jobs after it run
    in a fresh worker.
    """
    paths = []
    for job in jobs:
        job["record_path"] = str(workdir / f"record-{job['run_id']}.json")
        paths.append(workdir / f"job-{job['run_id']}.json")
        paths[-1].write_text(json.dumps(job))
    stderr_path = workdir / f"stderr-{jobs[0]['run_id']}.txt"
    env = {**os.environ, **jobs[0]["env"], **(extra_env or {})}
    pending = list(jobs)
    started = time.perf_counter()
    timed_out = False
    last_epoch: dict = {}

    def finish(result: dict) -> None:
        nonlocal started, last_epoch
        now_ = time.perf_counter()
        result["worker_wall_s"] = now_ - started
        on_result(pending.pop(0), result)
        started, last_epoch = now_, {}

    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "frameworkbench.worker", *map(str, paths)],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True, text=True, bufsize=1)
        lines: "queue.Queue[str | None]" = queue.Queue()

        def pump() -> None:
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        try:
            while pending:
                left = None if timeout is None else timeout - (time.perf_counter() - started)
                if left is not None and left <= 0:
                    timed_out = True
                    _kill(proc)
                    break
                try:
                    line = lines.get(timeout=0.2 if left is None else min(0.2, left))
                except queue.Empty:
                    continue
                if line is None:
                    break
                if not line.startswith(EVENT_PREFIX):
                    continue
                try:
                    ev = json.loads(line[len(EVENT_PREFIX):])
                except json.JSONDecodeError:
                    continue
                kind = ev.get("event")
                if kind == "job_start" and pending and ev.get("run_id") == pending[0]["run_id"] and \
                        pending[0] is not jobs[0]:
                    started = time.perf_counter()  # the first job's wall includes process start and import
                elif kind == "job_done" and pending and ev.get("run_id") == pending[0]["run_id"]:
                    finish(_read_result(Path(pending[0]["record_path"]), stderr_path))
                elif kind == "epoch":
                    last_epoch = ev
                if on_event and kind not in ("job_start", "job_done"):
                    on_event(ev)
            proc.wait()
        except BaseException:
            _kill(proc)
            raise
    if not pending:
        return
    tail = _tail(stderr_path)
    if timed_out:
        where = (f" after epoch {last_epoch['epoch']}/{last_epoch.get('epochs', '?')}" if last_epoch
                 else " before the first epoch ended")
        finish({"status": "timeout", "error": f"time limit of {timeout:g} s exceeded{where}; worker killed",
                "last_epoch": last_epoch.get("epoch"), "stderr_tail": tail})
    elif Path(pending[0]["record_path"]).exists():
        finish(_read_result(Path(pending[0]["record_path"]), stderr_path))
    else:
        how = (f"signal {-proc.returncode}" if proc.returncode and proc.returncode < 0
               else f"exit code {proc.returncode}")
        if proc.returncode == -signal.SIGKILL:
            how += ", SIGKILL: killed, e.g. by the out-of-memory killer"
        finish({"status": "failed", "error": f"worker died ({how}) without a record"
                                             + (f": {tail.splitlines()[-1]}" if tail else ""), "stderr_tail": tail})
    if pending:  # the rest get a fresh worker
        launch_group(pending, workdir, timeout, on_event, extra_env, on_result)


def _read_result(record_path: Path, stderr_path: Path) -> dict:
    result = json.loads(record_path.read_text())
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


Planned = tuple  # (target, seed, repeat)


def spread_warnings(records: list[dict]) -> list[dict]:
    """Flag targets whose step-time medians vary across runs (seeds/repeats) by IQR/median > 10 %.

    The warning is appended to each of that target's records; the changed records are returned.
    """
    from .measure import NOISE_THRESHOLD, noisy, summary

    changed = []
    by_target: dict[str, list[dict]] = {}
    for r in records:
        if r["status"] == "ok" and (r.get("timings") or {}).get("median_step_s"):
            by_target.setdefault(r["target"], []).append(r)
    for target, recs in by_target.items():
        stats = summary([r["timings"]["median_step_s"] for r in recs])
        if len(recs) > 1 and noisy(stats):
            msg = (f"noisy across {len(recs)} runs: step-time IQR/median = {stats['iqr'] / stats['median']:.0%} "
                   f"(> {NOISE_THRESHOLD:.0%})")
            for r in recs:
                r.setdefault("warnings", []).append(msg)
                changed.append(r)
    return changed


def stored_runs(store: Store | None, spec: Spec, plan: list[Planned], inputs: Inputs,
                opts: RunOptions) -> dict[tuple[str, int, int], dict]:
    """Planned (target, seed, repeat) runs that already have an ``ok`` record with the same run key.

    The run key covers the spec hash, dataset hash, target, device, seed, repeat, mode, policy
    and every package version, so a stored run is only reused when it would be repeated exactly.
    Only train runs resume (other modes return arrays that the database does not keep);
    ``force`` reruns.
    """
    if store is None or opts.force or opts.mode != "train":
        return {}
    keys = {(t.name, s, r): run_key(spec, inputs.dataset_hash, t, opts.device, s, versions_for(t), opts.mode,
                                    opts.policy, r) for t, s, r in plan}
    found = store.completed_records(keys.values())
    return {tsr: found[k] for tsr, k in keys.items() if k in found}


def run(spec: Spec, targets: list[Target], opts: RunOptions | None = None, on_event: Event | None = None,
        finalize: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every target × seed × repeat in a worker; store and return the records in plan order.

    With ``opts.isolate == "run"`` every run gets a fresh worker process; with ``"target"`` one
    worker runs all seeds and repeats of a target in turn (records say which). ``finalize(record)``
    may add fields (e.g. an analysis) before a record is stored.
    """
    opts = opts or RunOptions()
    opts.check()
    check_memory(spec, source=spec.source)  # refuse a model this machine cannot hold before any worker starts
    if opts.policy == "native" and spec.init != "native":
        spec = spec.with_overrides(init="native")  # native defaults include each framework's initialiser
    seeds = seeds_for(spec, opts.seeds)
    batch_id = uuid.uuid4().hex[:12]
    emit = on_event or (lambda e: None)
    store = None
    records: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="frameworkbench-") as tmp:
            workdir = Path(tmp)
            inputs = prepare_inputs(spec, seeds, workdir)
            store = Store(opts.db) if opts.store else None  # only now: bad input leaves no empty database
            plan = [(t, s, r) for t in targets for s in seeds for r in range(opts.repeats)]
            n = len(plan)
            stored = stored_runs(store, spec, plan, inputs, opts)
            emit({"event": "plan", "runs": n, "dataset_hash": inputs.dataset_hash,
                  "dataset": inputs.dataset_summary, "cached": len(stored)})
            tags: dict[str, dict] = {}  # run id -> progress tags
            pending: dict[str, tuple[dict, dict]] = {}  # run id -> (record, job)

            def complete(rec: dict, cached: bool = False) -> None:
                if not cached:
                    rec["finished_at"] = now()
                    if finalize is not None:
                        finalize(rec)
                    if store is not None:
                        from .outliers import flag_outlier

                        flag_outlier(rec, store)  # vs stored ok runs of this setup; the done line prints it
                        store.save({k: v for k, v in rec.items() if k != "arrays"})
                records.append(rec)
                emit({"event": "done", **tags.get(rec["run_id"], {}), "status": rec["status"],
                      "error": rec.get("error"), "record": rec, **({"cached": True} if cached else {})})

            def on_result(job: dict, result: dict) -> None:
                rec, _ = pending.pop(job["run_id"])
                arrays = Path(job["record_path"]).with_suffix(".npz")
                if arrays.exists():  # a mode's array outputs: returned, never stored in the database
                    with np.load(arrays, allow_pickle=False) as z:
                        result["arrays"] = {k: z[k] for k in z.files}
                rec.update(result)
                complete(rec)

            def relay(ev: dict) -> None:
                emit({**ev, **tags.get(ev.get("run_id"), {})})

            groups: dict[str, list[dict]] = {}
            for i, (target, seed, rep) in enumerate(plan, 1):
                tag = {"index": i, "runs": n, "target": target.name, "seed": seed, "repeat": rep}
                if (target.name, seed, rep) in stored:  # resume: this exact run is already stored as ok
                    rec = {**stored[target.name, seed, rep], "cached": True}
                    tags[rec["run_id"]] = tag
                    complete(rec, cached=True)
                    continue
                rec = base_record(spec, target, seed, inputs, opts, batch_id, rep)
                tags[rec["run_id"]] = tag
                missing = target.missing_modules()
                if missing:
                    rec.update(status="skipped", error=f"not installed: {', '.join(missing)} "
                                                        f"({target.install_hint()})")
                    emit({"event": "start", **tag})
                    complete(rec)
                    continue
                job = {"run_id": rec["run_id"], "target": target.name, "spec": spec.to_dict(), "seed": seed,
                       "device": opts.device, "threads": rec["threads"], "mode": opts.mode,
                       "policy": opts.policy, **opts.job_options,
                       "data_path": str(inputs.data_path), "plan_path": str(inputs.plans[seed]),
                       "weights_path": str(inputs.weights[seed]), "env": target.env}
                pending[rec["run_id"]] = (rec, job)
                if opts.isolate == "run":
                    emit({"event": "start", **tag})
                    on_result(job, launch(job, workdir, opts.timeout, relay, opts.extra_env))
                else:
                    groups.setdefault(target.name, []).append(job)
            for jobs in groups.values():
                emit({"event": "start", **tags[jobs[0]["run_id"]], "reused_worker_runs": len(jobs)})
                launch_group(jobs, workdir, opts.timeout, relay, opts.extra_env, on_result)
            for rec in spread_warnings(records):
                if store is not None and not rec.get("cached"):
                    store.save({k: v for k, v in rec.items() if k != "arrays"})
                emit({"event": "warning", "target": rec["target"], "message": rec["warnings"][-1]})
    finally:
        if store is not None:
            store.close()
    return records
