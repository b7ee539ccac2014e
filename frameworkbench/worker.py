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


def emit(event: str, **fields) -> None:
    print(EVENT_PREFIX + json.dumps({"event": event, **fields}), flush=True)


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


def run_job(job: dict) -> dict:
    """Execute one job and return the fields it adds to the record."""
    applied = apply_process_settings(job)
    import numpy as np

    from . import data, reference, weights
    from .measure import StepTimer, peak_rss_mb, summary
    from .spec import validate
    from .targets import TARGETS

    target = TARGETS[job["target"]]
    t0 = time.perf_counter()
    adapter_cls = target.load_adapter()
    adapter = adapter_cls(target, int(job["threads"]))
    import_s = time.perf_counter() - t0
    emit("imported", seconds=import_s)

    from frameworkbench.adapters.base import DeviceUnavailable
    from frameworkbench.adapters._runtime import device_kind

    try:
        device = adapter.select_device(job["device"])
    except DeviceUnavailable as exc:
        return {"status": "skipped", "error": str(exc), "timings": {"import_s": import_s}}
    runtime = {**applied, **adapter.configure()}

    spec = validate(job["spec"])
    seed = int(job["seed"])
    ds = data.load(Path(job["data_path"]))
    plan = np.load(job["plan_path"], allow_pickle=False)
    shared = weights.load(Path(job["weights_path"])) if spec.init == "shared" else None

    def fresh_model():
        m = adapter.build(spec, seed)
        if shared is not None:
            adapter.set_weights(m, shared)
        return m

    t = time.perf_counter()
    model = fresh_model()
    build_s = time.perf_counter() - t
    param_device = adapter.param_device(model)
    if device_kind(param_device) != device:
        raise RuntimeError(f"parameters live on {param_device!r}, expected device {device!r}")
    out: dict = {"param_count": adapter.count_params(model), "device": device, "param_device": param_device,
                 "runtime": {**runtime, **adapter.runtime_info(model)}}
    if job.get("mode") == "probe":
        out["probe"] = _probe(job, spec, adapter, model, fresh_model, ds, plan)
        out["status"] = "ok"
        out["timings"] = {"import_s": import_s, "build_s": build_s}
        return out

    bs = spec.training["batch_size"]
    history, epoch_s, step_times = [], [], []
    status, error = "ok", None
    epochs = spec.training["epochs"]
    for e in range(epochs):
        order = plan[e]
        timer = StepTimer()
        t = time.perf_counter()
        loss = adapter.train(model, spec, ds.x_train[order], ds.y_train[order], bs, timer)
        epoch_s.append(time.perf_counter() - t)
        step_times.append(timer.durations)
        pred = adapter.predict(model, ds.x_val)
        row = {"epoch": e + 1, "loss": loss, **reference.evaluate(spec, ds.y_val, pred), "seconds": epoch_s[-1]}
        history.append(row)
        emit("epoch", epoch=e + 1, epochs=epochs, loss=loss, seconds=epoch_s[-1],
             **{k: v for k, v in row.items() if k.startswith("val_")})
        if not math.isfinite(loss) or not np.isfinite(pred).all():
            status, error = "diverged", f"non-finite loss or output at epoch {e + 1}"
            break
    # The first epoch holds tracing/compilation: steady-state steps come from the later ones.
    measured = [d for ep in step_times[1:] for d in ep] or step_times[0][min(5, len(step_times[0]) - 1):]
    step = summary(measured)
    out.update({
        "status": status, "error": error, "history": history,
        "final": {k: v for k, v in history[-1].items() if k not in ("epoch", "seconds")},
        "timings": {"import_s": import_s, "build_s": build_s, "first_epoch_s": epoch_s[0], "epoch_s": epoch_s,
                    "median_epoch_s": summary(epoch_s[1:] or epoch_s)["median"],
                    "median_step_s": step.get("median"), "step_iqr_s": step.get("iqr"),
                    "measured_steps": step.get("n", 0), "first_step_s": step_times[0][0] if step_times[0] else None},
        "peak_rss_mb": peak_rss_mb(),
    })
    return out


def _probe(job, spec, adapter, model, fresh_model, ds, plan) -> dict:
    """Conformance probe: outputs at init, one epoch of training, and a repeat of it."""
    import numpy as np

    from . import reference
    from .measure import StepTimer

    bs = spec.training["batch_size"]
    order = plan[0]
    out0 = adapter.predict(model, ds.x_val)
    before = reference.loss(spec, ds.y_train, adapter.predict(model, ds.x_train))
    adapter.train(model, spec, ds.x_train[order], ds.y_train[order], bs, StepTimer())
    after = reference.loss(spec, ds.y_train, adapter.predict(model, ds.x_train))
    w1 = adapter.get_weights(model)
    again = fresh_model()
    adapter.train(again, spec, ds.x_train[order], ds.y_train[order], bs, StepTimer())
    w2 = adapter.get_weights(again)
    identical = all(np.array_equal(a.kernel, b.kernel) and (a.bias is None or np.array_equal(a.bias, b.bias))
                    for a, b in zip(w1, w2))
    arrays = {"output_at_init": out0}
    for i, w in enumerate(w1):
        arrays[f"trained_kernel_{i}"] = w.kernel
    np.savez(job["probe_path"], **arrays)
    return {"loss_before": before, "loss_after": after, "repeat_identical": bool(identical)}


FAULT_ENV = "FRAMEWORKBENCH_FAULT"
FAULTS = ("raise", "exit", "kill", "hang")


def inject_fault(job: dict) -> None:
    """Test-only fault injection: ``FRAMEWORKBENCH_FAULT=KIND[@TARGET]`` (KIND in FAULTS)."""
    value = os.environ.get(FAULT_ENV, "")
    kind, _, only = value.partition("@")
    if not kind or (only and only != job["target"]):
        return
    if kind == "raise":
        raise RuntimeError("injected fault")
    if kind == "exit":
        os._exit(3)
    if kind == "kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "hang":
        time.sleep(1e6)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text())
    try:
        inject_fault(job)
        result = run_job(job)
    except Exception as exc:  # the record carries the failure; the runner adds stderr context
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "traceback": tb[-4000:]}
    path = Path(job["record_path"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, default=_jsonable))
    tmp.replace(path)  # whole record or nothing
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
    sys.exit(main())
