"""Plans runs, prepares shared inputs once, launches worker processes, collects and stores records.

The data file, batch plans and initial weights are written once per invocation; each
(target, seed, repeat) run then executes in a worker process (:mod:`.launch`) so framework
env vars, thread settings, timings and peak memory belong to that run alone.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import data, weights
from .._version import __version__
from ..devices import DEVICES
from ..estimate import check_memory
from ..measure import host_info
from ..spec import Spec, SpecError, out_of_range, unknown, wrong_type
from ..store import Store
from ..targets import Target, package_version
from .executors import Executor, Launch
from .launch import launch, launch_group
from .records import COMPILE, POLICIES, Job, RunRecord, init_used

Event = Callable[[dict], None]
ISOLATION = ("run", "target")


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
    mode: str = "train"  # worker mode (execution.modes.MODES)
    policy: str = "aligned"  # "aligned": spec values, one formulation everywhere; "native": framework defaults
    compile: str = "default"  # COMPILE: each target's default, eager, or jit (XLA / torch.compile)
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
        names = {f: f"--{f}" for f in ("device", "threads", "seeds", "isolate", "repeats", "policy", "timeout",
                                        "compile")}
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
        if self.compile not in COMPILE:
            problems.append(unknown(names["compile"], "compilation", self.compile, COMPILE))
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
            mode: str = "train", policy: str = "aligned", repeat: int = 0, compile: str = "default") -> str:
    """The precision is in the spec hash (``training.precision``) and named again here."""
    blob = json.dumps([spec.hash, dataset_hash, target.name, device, seed, versions, mode, policy,
                       spec.training["precision"], compile] + ([repeat] if repeat else []), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def base_record(spec: Spec, target: Target, seed: int, inputs: Inputs, opts: RunOptions, batch_id: str,
                repeat: int = 0) -> dict:
    """The context every record carries, whatever happens to the run."""
    versions = versions_for(target)
    return RunRecord(
        run_id=uuid.uuid4().hex[:12], batch_id=batch_id, created_at=now(), target=target.name,
        family=target.family, backend=target.backend, status="pending", error=None,
        spec_name=spec.name, spec_hash=spec.hash, spec=spec.to_dict(), init=init_used(spec.init, opts.policy),
        dataset_hash=inputs.dataset_hash, dataset=inputs.dataset_summary, seed=seed,
        device_requested=opts.device, device=None, threads=opts.resolved_threads(),
        versions=versions, host=host_info(), mode=opts.mode, policy=opts.policy, repeat=repeat, isolate=opts.isolate,
        precision=spec.training["precision"], compile=opts.compile,
        run_key=run_key(spec, inputs.dataset_hash, target, opts.device, seed, versions, opts.mode, opts.policy,
                        repeat, opts.compile)).to_dict()


def make_job(rec: dict, inputs: Inputs, opts: RunOptions, target: Target) -> Job:
    """The worker's job for the run ``rec`` describes."""
    seed = rec["seed"]
    return Job(run_id=rec["run_id"], target=target.name, spec=rec["spec"], seed=seed, device=opts.device,
               threads=rec["threads"], mode=opts.mode, policy=opts.policy, data_path=str(inputs.data_path),
               plan_path=str(inputs.plans[seed]), weights_path=str(inputs.weights[seed]), env=dict(target.env),
               options=dict(opts.job_options), compile=opts.compile)


def spread_warnings(records: list[dict]) -> list[dict]:
    """Flag targets whose step-time medians vary across runs (seeds/repeats) by IQR/median > 10 %.

    The warning is appended to each of that target's records; the changed records are returned.
    """
    from ..measure import NOISE_THRESHOLD, noisy, summary

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


def stored_runs(store: Store | None, spec: Spec, plan: list[tuple[Target, int, int]], inputs: Inputs,
                opts: RunOptions) -> dict[tuple[str, int, int], dict]:
    """Planned (target, seed, repeat) runs that already have an ``ok`` record with the same run key.

    The run key covers the spec hash, dataset hash, target, device, seed, repeat, mode, policy,
    precision, compilation and every package version, so a stored run is only reused when it would be repeated exactly.
    Only train runs resume (other modes return arrays that the database does not keep);
    ``force`` reruns.
    """
    if store is None or opts.force or opts.mode != "train":
        return {}
    keys = {(t.name, s, r): run_key(spec, inputs.dataset_hash, t, opts.device, s, versions_for(t), opts.mode,
                                    opts.policy, r, opts.compile) for t, s, r in plan}
    found = store.completed_records(keys.values())
    return {tsr: found[k] for tsr, k in keys.items() if k in found}


class _Batch:
    """One invocation's runs: completes, stores and reports each record as its worker ends."""

    def __init__(self, spec: Spec, opts: RunOptions, inputs: Inputs, store: Store | None, emit: Event,
                 finalize: Callable[[dict], None] | None, runs: int) -> None:
        self.spec, self.opts, self.inputs, self.store, self.emit = spec, opts, inputs, store, emit
        self.finalize, self.runs, self.batch_id = finalize, runs, uuid.uuid4().hex[:12]
        self.records: list[dict] = []
        self.tags: dict[str, dict] = {}  # run id -> progress tags
        self.pending: dict[str, dict] = {}  # run id -> record waiting for its worker

    def complete(self, rec: dict, cached: bool = False) -> None:
        if not cached:
            rec["finished_at"] = now()
            if self.finalize is not None:
                self.finalize(rec)
            if self.store is not None:
                from ..analysis.outliers import flag_outlier

                flag_outlier(rec, self.store)  # vs stored ok runs of this setup; the done line prints it
                self.store.save({k: v for k, v in rec.items() if k != "arrays"})
        self.records.append(rec)
        self.emit({"event": "done", **self.tags.get(rec["run_id"], {}), "status": rec["status"],
                   "error": rec.get("error"), "record": rec, **({"cached": True} if cached else {})})

    def on_result(self, job: Job, result: dict) -> None:
        rec = self.pending.pop(job.run_id)
        arrays = Path(job.record_path).with_suffix(".npz")
        if arrays.exists():  # a mode's array outputs: returned, never stored in the database
            with np.load(arrays, allow_pickle=False) as z:
                result["arrays"] = {k: z[k] for k in z.files}
        rec.update(result)
        self.complete(rec)

    def relay(self, ev: dict) -> None:
        self.emit({**ev, **self.tags.get(ev.get("run_id"), {})})

    def plan_one(self, i: int, target: Target, seed: int, rep: int, stored: dict | None) -> Job | None:
        """Complete a cached or uninstalled run at once; else the job that runs it."""
        tag = {"index": i, "runs": self.runs, "target": target.name, "seed": seed, "repeat": rep}
        if stored is not None:  # resume: this exact run is already stored as ok
            rec = {**stored, "cached": True}
            self.tags[rec["run_id"]] = tag
            self.complete(rec, cached=True)
            return None
        rec = base_record(self.spec, target, seed, self.inputs, self.opts, self.batch_id, rep)
        self.tags[rec["run_id"]] = tag
        missing = target.missing_modules()
        if missing:
            rec.update(status="skipped", error=f"not installed: {', '.join(missing)} ({target.install_hint()})")
            self.emit({"event": "start", **tag})
            self.complete(rec)
            return None
        self.pending[rec["run_id"]] = rec
        return make_job(rec, self.inputs, self.opts, target)

    def started(self, jobs: list[Job]) -> None:
        reused = {"reused_worker_runs": len(jobs)} if self.opts.isolate == "target" else {}
        self.emit({"event": "start", **self.tags[jobs[0].run_id], **reused})

    def warn_spread(self) -> None:
        for rec in spread_warnings(self.records):
            if self.store is not None and not rec.get("cached"):
                self.store.save({k: v for k, v in rec.items() if k != "arrays"})
            self.emit({"event": "warning", "target": rec["target"], "message": rec["warnings"][-1]})


def run(spec: Spec, targets: list[Target], opts: RunOptions | None = None, on_event: Event | None = None,
        finalize: Callable[[dict], None] | None = None, executor: Executor | None = None) -> list[dict]:
    """Run every target × seed × repeat in a worker; store and return the records in plan order.

    With ``opts.isolate == "run"`` every run gets a fresh worker process; with ``"target"`` one
    worker runs all seeds and repeats of a target in turn (records say which). ``finalize(record)``
    may add fields (e.g. an analysis) before a record is stored. ``executor`` runs the workers
    (:mod:`.executors`; default: here, one at a time); records are stored on this thread only.
    """
    opts = opts or RunOptions()
    opts.check()
    check_memory(spec, source=spec.source)  # refuse a model this machine cannot hold before any worker starts
    emit = on_event or (lambda e: None)
    store = None
    try:
        with tempfile.TemporaryDirectory(prefix="frameworkbench-") as tmp:
            workdir = Path(tmp)
            inputs = prepare_inputs(spec, seeds_for(spec, opts.seeds), workdir)
            store = Store(opts.db) if opts.store else None  # only now: bad input leaves no empty database
            plan = [(t, s, r) for t in targets for s in seeds_for(spec, opts.seeds) for r in range(opts.repeats)]
            stored = stored_runs(store, spec, plan, inputs, opts)
            emit({"event": "plan", "runs": len(plan), "dataset_hash": inputs.dataset_hash,
                  "dataset": inputs.dataset_summary, "cached": len(stored)})
            batch = _Batch(spec, opts, inputs, store, emit, finalize, len(plan))
            groups: dict[str, list[Job]] = {}  # one worker per run, or per target with isolate "target"
            for i, (target, seed, rep) in enumerate(plan, 1):
                job = batch.plan_one(i, target, seed, rep, stored.get((target.name, seed, rep)))
                if job is not None:
                    groups.setdefault(job.run_id if opts.isolate == "run" else target.name, []).append(job)
            how = Launch(workdir, opts.timeout, opts.extra_env, batch.started, batch.relay, batch.on_result,
                         launch, launch_group)
            (executor or Executor()).run_groups(list(groups.values()), how)
            batch.records.sort(key=lambda r: batch.tags[r["run_id"]]["index"])  # plan order, whatever ran first
            batch.warn_spread()
    finally:
        if store is not None:
            store.close()
    return batch.records
