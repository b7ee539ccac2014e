"""The entry point inside a worker process: one job in, one JSON record out.

Run as ``python -m frameworkbench.worker JOB.json``. The job names the target,
the spec, the prepared data file, the batch plan and (for ``init: shared``)
the initial weights. Progress events go to stdout as ``FBEVENT {json}``
lines; the record is written to ``job["record_path"]``. Framework env vars,
thread limits and device visibility are set here before the adapter (and so
the framework) is imported.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

EVENT_PREFIX = "FBEVENT "


JOBS_DONE = 0  # runs this process finished before the current one (worker reuse)
CURRENT_RUN: str | None = None


def emit(event: str, **fields) -> None:
    print(EVENT_PREFIX + json.dumps({"event": event, "run_id": CURRENT_RUN, **fields}), flush=True)


def apply_process_settings(job: dict) -> dict:
    """Env vars, thread limits and device visibility; must run before any framework import."""
    from .targets import TARGETS

    target = TARGETS[job["target"]]
    os.environ.update(target.env)
    threads = int(job["threads"])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if job["device"] == "cpu":  # hide accelerators: nothing can silently land on them
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ["JAX_PLATFORMS"] = "cpu"
    applied = {"threads": threads}
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
        applied["cpu_affinity"] = sorted(os.sched_getaffinity(0))
    return applied


class Context:
    """What a worker mode gets: the adapter, the validated spec, data, plan and a model factory."""

    def __init__(self, job, adapter, spec, seed, ds, plan, shared, device, timings):
        self.job, self.adapter, self.spec, self.seed = job, adapter, spec, seed
        self.ds, self.plan, self.shared, self.device, self.timings = ds, plan, shared, device, timings

    def fresh_model(self):
        """A new model: built by the adapter, loaded with the shared initial weights if any."""
        m = self.adapter.build(self.spec, self.seed)
        if self.shared is not None:
            self.adapter.set_weights(m, self.shared)
        return m

    def output_path(self, suffix: str) -> Path:
        """A file next to the record for a mode's array outputs (read back by the runner)."""
        return Path(self.job["record_path"]).with_suffix(suffix)


# Worker modes: name -> "module:function(ctx, model) -> dict of record fields". One lookup site.
MODES = {
    "train": "frameworkbench.worker:train_mode",
    "probe": "frameworkbench.worker:probe_mode",
    "parity": "frameworkbench.parity:parity_mode",
    # the rebuilt document's measurements (frameworkbench.diagnostics)
    "activations": "frameworkbench.diagnostics:activations_mode",
    "dynamic": "frameworkbench.diagnostics:dynamic_mode",
    "export": "frameworkbench.diagnostics:export_mode",
    "codegen": "frameworkbench.diagnostics:codegen_mode",
    "train_stats": "frameworkbench.diagnostics:train_stats_mode",
}


def run_job(job: dict) -> dict:
    """Execute one job and return the fields it adds to the record."""
    applied = apply_process_settings(job)
    import numpy as np

    from . import data, weights
    from .measure import MachineLoad, RSSSampler, blas_info, peak_rss_mb
    from .spec import validate
    from .targets import TARGETS

    mode_ref = MODES[job.get("mode", "train")]
    target = TARGETS[job["target"]]
    t0 = time.perf_counter()
    adapter_cls = target.load_adapter()
    adapter = adapter_cls(target, int(job["threads"]), job.get("policy", "aligned"))
    import_s = time.perf_counter() - t0
    emit("imported", seconds=import_s)

    from frameworkbench.adapters.base import DeviceUnavailable

    try:
        device = adapter.select_device(job["device"])
    except DeviceUnavailable as exc:
        return {"status": "skipped", "error": str(exc), "timings": {"import_s": import_s}}
    runtime = {**applied, **adapter.configure()}

    spec = validate(job["spec"])
    ds = data.load(Path(job["data_path"]))
    plan = np.load(job["plan_path"], allow_pickle=False)
    shared = weights.load(Path(job["weights_path"])) if spec.init == "shared" else None
    ctx = Context(job, adapter, spec, int(job["seed"]), ds, plan, shared, device, {"import_s": import_s})

    with RSSSampler() as rss, MachineLoad() as load:
        out = _build_and_run(ctx, mode_ref, runtime)
    out["load"] = load.result  # how busy the machine was meanwhile (outliers.py reads it)
    out["peak_rss_mb"] = peak_rss_mb()  # ru_maxrss: the whole worker process
    out["peak_rss_sampled_mb"] = rss.peak_mb  # sampled every 100 ms during this run only
    out["device_memory"] = adapter.device_memory()
    out["runtime"]["blas"] = blas_info()
    out["worker"] = {"pid": os.getpid(), "runs_before": JOBS_DONE, "reused": JOBS_DONE > 0,
                     "import_cold": not JOBS_DONE}
    return out


def _build_and_run(ctx: Context, mode_ref: str, runtime: dict) -> dict:
    import importlib

    from frameworkbench.adapters._runtime import device_kind

    adapter, device = ctx.adapter, ctx.device
    t = time.perf_counter()
    model = ctx.fresh_model()
    ctx.timings["build_s"] = time.perf_counter() - t
    param_device = adapter.param_device(model)
    if device_kind(param_device) != device:
        raise RuntimeError(f"parameters live on {param_device!r}, expected device {device!r}")
    out: dict = {"param_count": adapter.count_params(model), "device": device, "param_device": param_device,
                 "runtime": {**runtime, **adapter.runtime_info(model)}}
    mod, _, fn = mode_ref.partition(":")
    result = getattr(importlib.import_module(mod), fn)(ctx, model)
    out.update(result)
    out["timings"] = {**ctx.timings, **result.get("timings", {})}
    out.setdefault("status", "ok")
    return out


def train_mode(ctx: Context, model) -> dict:
    """Train for the spec's epochs on the batch plan; per-epoch history and timings."""
    import numpy as np

    from . import reference
    from .measure import NOISE_THRESHOLD, noisy, summary

    adapter, spec, ds, plan = ctx.adapter, ctx.spec, ctx.ds, ctx.plan
    bs = spec.training["batch_size"]
    history, epoch_s, step_times = [], [], []
    status, error = "ok", None
    epochs = spec.training["epochs"]

    def on_epoch(e: int, loss: float, steps: list[float], seconds: float) -> bool:
        nonlocal status, error
        loss = fault_loss(ctx.job, e + 1, loss)  # test-only: FRAMEWORKBENCH_FAULT=nan
        epoch_s.append(seconds)
        step_times.append(list(steps))
        pred = adapter.predict(model, ds.x_val)
        row = {"epoch": e + 1, "loss": loss, **reference.evaluate(spec, ds.y_val, pred), "seconds": seconds}
        history.append(row)
        emit("epoch", epoch=e + 1, epochs=epochs, loss=loss, seconds=seconds,
             **{k: v for k, v in row.items() if k.startswith("val_")})
        if not math.isfinite(loss) or not np.isfinite(pred).all():
            status, error = "diverged", f"non-finite loss or output at epoch {e + 1}"
            return False
        return True

    adapter.fit(model, spec, ds.x_train, ds.y_train, plan[:epochs], bs, on_epoch)
    # The first epoch holds tracing/compilation: steady-state steps come from the later ones.
    measured = [d for ep in step_times[1:] for d in ep] or step_times[0][min(5, len(step_times[0]) - 1):]
    step = summary(measured)
    epochs_steady = summary(epoch_s[1:] or epoch_s)
    warnings = [f"noisy step times: IQR/median = {step['iqr'] / step['median']:.0%} "
                f"(> {NOISE_THRESHOLD:.0%})"] if noisy(step) else []
    inference = inference_latency(ctx, model) if status == "ok" else None
    return {
        "status": status, "error": error, "history": history, "warnings": warnings,
        "diverged_epoch": history[-1]["epoch"] if status == "diverged" else None,
        "final": {k: v for k, v in history[-1].items() if k not in ("epoch", "seconds")},
        "timings": {"first_epoch_s": epoch_s[0], "epoch_s": epoch_s,
                    "median_epoch_s": epochs_steady["median"], "epoch_iqr_s": epochs_steady["iqr"],
                    "median_step_s": step.get("median"), "step_iqr_s": step.get("iqr"),
                    "step_p95_s": step.get("p95"), "measured_steps": step.get("n", 0),
                    "warmup_steps": len(step_times[0]) if len(step_times) > 1 else min(5, len(step_times[0]) - 1),
                    "first_step_s": step_times[0][0] if step_times[0] else None,
                    "samples_per_s": len(ds.x_train) / epochs_steady["median"]},
        "inference": inference,
    }


INFERENCE_WARMUP, INFERENCE_REPEATS, LARGE_BATCH = 10, 50, 1024


def inference_latency(ctx: Context, model) -> dict:
    """Latency (median, p95) at batch 1 and at a large batch after warm-up, and predict throughput."""
    import numpy as np

    from .measure import latency

    x = ctx.ds.x_val if len(ctx.ds.x_val) else ctx.ds.x_train
    out = {"warmup": INFERENCE_WARMUP, "repeats": INFERENCE_REPEATS, "call": type(ctx.adapter).infer.__qualname__}
    for label, n in (("batch_1", 1), ("batch_large", LARGE_BATCH)):
        xb = np.ascontiguousarray(np.resize(x, (n, x.shape[1])))
        stats = latency(lambda: ctx.adapter.infer(model, xb), INFERENCE_WARMUP, INFERENCE_REPEATS)
        out[label] = {"batch_size": n, "median_s": stats["median"], "p95_s": stats["p95"], "iqr_s": stats["iqr"],
                      "samples_per_s": n / stats["median"]}
    return out


def probe_mode(ctx: Context, model) -> dict:
    """Conformance probe: outputs at init, one epoch of training, and a repeat of it from the same start."""
    import numpy as np

    from . import reference
    from .measure import StepTimer

    adapter, spec, ds = ctx.adapter, ctx.spec, ctx.ds
    bs = spec.training["batch_size"]
    order = ctx.plan[0]
    out0 = adapter.predict(model, ds.x_val)
    before = reference.loss(spec, ds.y_train, adapter.predict(model, ds.x_train))
    adapter.train(model, spec, ds.x_train[order], ds.y_train[order], bs, StepTimer())
    after = reference.loss(spec, ds.y_train, adapter.predict(model, ds.x_train))
    w1 = adapter.get_weights(model)
    again = ctx.fresh_model()
    adapter.train(again, spec, ds.x_train[order], ds.y_train[order], bs, StepTimer())
    w2 = adapter.get_weights(again)
    identical = all(np.array_equal(a.kernel, b.kernel) and (a.bias is None or np.array_equal(a.bias, b.bias))
                    for a, b in zip(w1, w2))
    arrays = {"output_at_init": out0}
    for i, w in enumerate(w1):
        arrays[f"trained_kernel_{i}"] = w.kernel
    np.savez(ctx.output_path(".npz"), **arrays)
    return {"probe": {"loss_before": before, "loss_after": after, "repeat_identical": bool(identical)}}


FAULT_ENV = "FRAMEWORKBENCH_FAULT"
FAULTS = ("raise", "exit", "kill", "hang", "oom", "nan")
OOM_HEADROOM = 64 << 20  # bytes the oom fault leaves the worker above what it already uses


def faults_for(job: dict, value: str | None = None) -> list[tuple[str, str]]:
    """The injected faults that apply to ``job``, as (kind, argument) pairs.

    Test-only switch: ``FRAMEWORKBENCH_FAULT=KIND[:ARG][@TARGET][#SEED][,...]``. KIND is one of
    FAULTS; without ``@TARGET`` or ``#SEED`` a fault applies to every run. ``nan:N`` makes the
    loss non-finite from epoch N (default 1).
    """
    value = os.environ.get(FAULT_ENV, "") if value is None else value
    out = []
    for entry in filter(None, (e.strip() for e in value.split(","))):
        head, _, seed = entry.partition("#")
        kind_arg, _, target = head.partition("@")
        kind, _, arg = kind_arg.partition(":")
        if kind not in FAULTS:
            raise RuntimeError(f"{FAULT_ENV}: unknown fault {kind!r}; expected one of: {', '.join(FAULTS)}")
        if target and target != job["target"]:
            continue
        if seed and int(seed) != int(job.get("seed", -1)):
            continue
        out.append((kind, arg))
    return out


def inject_fault(job: dict) -> None:
    """Raise, exit, die, hang or run out of memory as ``FRAMEWORKBENCH_FAULT`` says (``nan`` acts later)."""
    for kind, _ in faults_for(job):
        if kind == "raise":
            raise RuntimeError("injected fault")
        if kind == "exit":
            os._exit(3)
        if kind == "kill":
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "hang":
            time.sleep(1e6)
        if kind == "oom":
            _exhaust_memory()


def _exhaust_memory() -> None:
    """Cap the address space just above current use, then allocate past it: a real MemoryError."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        used = None
    try:
        if used is not None:
            cap = used + OOM_HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
            blocks = [bytearray(OOM_HEADROOM // 4) for _ in range(8)]  # twice the headroom: past the cap
            del blocks
        bytearray(1 << 62)  # no cap could be set: more than any address space
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def fault_loss(job: dict, epoch: int, loss: float) -> float:
    """The epoch's loss, or NaN when a ``nan[:N]`` fault applies from epoch N on."""
    for kind, arg in faults_for(job):
        if kind == "nan" and epoch >= int(arg or 1):
            return float("nan")
    return loss


OOM_MARKERS = ("out of memory", "can't allocate memory", "resource_exhausted", "resourceexhausted",
               "failed to allocate", "unable to allocate")


def failure(exc: BaseException) -> str:
    """The record's reason for an exception; out-of-memory conditions say so whatever raised them."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, MemoryError) or any(m in text.lower() for m in OOM_MARKERS):
        return f"out of memory: {text}"
    return text


def main(argv: list[str] | None = None) -> int:
    """Run each job file in turn (several: a reused worker, ``--isolate target``)."""
    global CURRENT_RUN, JOBS_DONE
    argv = sys.argv[1:] if argv is None else argv
    for job_file in argv:
        job = json.loads(Path(job_file).read_text())
        CURRENT_RUN = job.get("run_id")
        emit("job_start")
        try:
            inject_fault(job)
            result = run_job(job)
        except Exception as exc:  # the record carries the failure; the runner adds stderr context
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            result = {"status": "failed", "error": failure(exc), "traceback": tb[-4000:]}
        path = Path(job["record_path"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, default=_jsonable))
        tmp.replace(path)  # whole record or nothing
        JOBS_DONE += 1
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
    # Run as the importable module, not __main__, so worker modes (looked up by module path)
    # share this module's state (the current run id, the count of runs done).
    from frameworkbench.worker import main as _main

    code = _main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every record is on disk: skip the interpreter's teardown of the frameworks (TensorFlow and
    # JAX take up to a second to unload), which would otherwise count as orchestration time.
    os._exit(code)
