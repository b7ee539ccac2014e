"""The entry point inside a worker process: job files in, one JSON result per job out.

Run as ``python -m frameworkbench.execution.worker JOB.json [JOB.json ...]``. A job
(:class:`~frameworkbench.execution.records.Job`) names the target, the spec snapshot, the
prepared data file, the batch plan and the shared initial weights. Progress events go to stdout
(:mod:`.events`); the result is written to ``job.record_path``. Framework env vars, thread limits
and device visibility are set here before the adapter (and so the framework) is imported.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import faults
from .events import WorkerState, emit
from .records import Job, init_used

OOM_MARKERS = ("out of memory", "can't allocate memory", "resource_exhausted", "resourceexhausted",
               "failed to allocate", "unable to allocate")


def apply_process_settings(job: Job) -> dict:
    """Env vars, thread limits and device visibility; must run before any framework import."""
    os.environ.update(job.env)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(job.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if job.device == "cpu":  # hide accelerators: nothing can silently land on them
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ["JAX_PLATFORMS"] = "cpu"
    applied = {"threads": job.threads}
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if job.threads < len(cpus):
            os.sched_setaffinity(0, cpus[:job.threads])
        applied["cpu_affinity"] = sorted(os.sched_getaffinity(0))
    return applied


class Context:
    """What a worker mode gets: the job, the adapter, the spec as run, data, plan and a model factory."""

    def __init__(self, job: Job, adapter, spec, ds, plan, shared, device: str, timings: dict) -> None:
        self.job, self.adapter, self.spec, self.seed = job, adapter, spec, job.seed
        self.ds, self.plan, self.shared, self.device, self.timings = ds, plan, shared, device, timings

    def fresh_model(self):
        """A new model: built by the adapter, loaded with the shared initial weights if any."""
        m = self.adapter.build(self.spec, self.seed)
        if self.shared is not None:
            self.adapter.set_weights(m, self.shared)
        return m

    def output_path(self, suffix: str) -> Path:
        """A file next to the record for a mode's array outputs (read back by the runner)."""
        return Path(self.job.record_path).with_suffix(suffix)


def spec_as_run(job: Job):
    """The job's spec with the initialisation the run uses (the core validated it already)."""
    from ..spec import from_snapshot

    return from_snapshot({**job.spec, "init": init_used(job.spec["init"], job.policy)})


def run_job(job: Job) -> dict:
    """Execute one job and return the fields it adds to the record."""
    applied = apply_process_settings(job)
    import numpy as np

    from .. import data, weights
    from ..devices import DeviceUnavailable
    from ..measure import MachineLoad, RSSSampler, blas_info, peak_rss_mb
    from ..targets import TARGETS
    from .modes import MODES

    mode = MODES[job.mode]
    target = TARGETS[job.target]
    t0 = time.perf_counter()
    adapter = target.load_adapter()(target, job.threads, job.policy)
    adapter.precision, adapter.compile = job.spec["training"].get("precision", "float32"), job.compile
    import_s = time.perf_counter() - t0
    emit("imported", seconds=import_s)
    try:
        device = adapter.select_device(job.device)
    except DeviceUnavailable as exc:
        return {"status": "skipped", "error": str(exc), "timings": {"import_s": import_s}}
    reason = adapter.unsupported()  # this precision or compilation on this target: explicit, never a fallback
    if reason:
        return {"status": "skipped", "error": reason, "timings": {"import_s": import_s}}
    runtime = {**applied, **adapter.configure()}
    shared = weights.load(Path(job.weights_path)) if job.shared_init else None
    ctx = Context(job, adapter, spec_as_run(job), data.load(Path(job.data_path)),
                  np.load(job.plan_path, allow_pickle=False), shared, device, {"import_s": import_s})
    if job.policy == "aligned":  # every target drops the same units: the run's masks, before any build
        adapter.mask_banks = weights.mask_banks(ctx.spec, job.seed, ctx.plan)
    with RSSSampler() as rss, MachineLoad() as load:
        out = _build_and_run(ctx, mode, runtime)
    out["load"] = load.result  # how busy the machine was meanwhile (outliers.py reads it)
    out["peak_rss_mb"] = peak_rss_mb()  # ru_maxrss: the whole worker process
    out["peak_rss_sampled_mb"] = rss.peak_mb  # sampled every 100 ms during this run only
    out["device_memory"] = adapter.device_memory()
    out["runtime"]["blas"] = blas_info()
    out["worker"] = {"pid": os.getpid(), "runs_before": WorkerState.jobs_done, "reused": WorkerState.jobs_done > 0,
                     "import_cold": not WorkerState.jobs_done}
    return out


def _build_and_run(ctx: Context, mode, runtime: dict) -> dict:
    adapter, device = ctx.adapter, ctx.device
    t = time.perf_counter()
    model = ctx.fresh_model()
    ctx.timings["build_s"] = time.perf_counter() - t
    param_device = adapter.param_device(model)
    if adapter.param_device_kind(model) != device:
        raise RuntimeError(f"parameters live on {param_device!r}, expected device {device!r}")
    out: dict = {"param_count": adapter.count_params(model), "device": device, "param_device": param_device,
                 "runtime": {**runtime, **adapter.runtime_info(model)}}
    result = mode.load()(ctx, model)
    if not isinstance(result, mode.result):
        raise TypeError(f"worker mode {ctx.job.mode!r} returned {type(result).__name__}, "
                        f"expected {mode.result.__name__}")
    fields = result.to_dict()
    out.update(fields)
    out["timings"] = {**ctx.timings, **fields.get("timings", {})}
    out.setdefault("status", "ok")
    return out


def failure(exc: BaseException) -> str:
    """The record's reason for an exception; out-of-memory conditions say so whatever raised them."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, MemoryError) or any(m in text.lower() for m in OOM_MARKERS):
        return f"out of memory: {text}"
    return text


def main(argv: list[str] | None = None) -> int:
    """Run each job file in turn (several: a reused worker, ``--isolate target``)."""
    argv = sys.argv[1:] if argv is None else argv
    for job_file in argv:
        job = Job.from_dict(json.loads(Path(job_file).read_text()))
        WorkerState.current_run = job.run_id
        emit("job_start")
        try:
            faults.inject(job.target, job.seed)
            result = run_job(job)
        except Exception as exc:  # the record carries the failure; the runner adds stderr context
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            result = {"status": "failed", "error": failure(exc), "traceback": tb[-4000:]}
        path = Path(job.record_path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, default=_jsonable))
        tmp.replace(path)  # whole record or nothing
        WorkerState.jobs_done += 1
        emit("job_done")
    return 0


def _jsonable(obj):
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:
        pass
    return str(obj)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every record is on disk: skip the interpreter's teardown of the frameworks (TensorFlow and
    # JAX take up to a second to unload), which would otherwise count as orchestration time.
    os._exit(code)
