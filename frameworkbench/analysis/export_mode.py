"""The ``export`` worker mode: train (or load a saved run's model), then export it to every requested format.

For every format the target's probes declare (:meth:`Probes.export_formats`): the artifact's size,
export time, load time, latency at batch 1 and :data:`LARGE_BATCH` (median, p95 after warm-up)
through its own runtime with the worker's thread count, and max |Δ| of its outputs against the live
trained model on the validation rows. A converter that raises gives ``failed`` with its first error
sentence and the other formats go on; a format the target cannot take gives ``unsupported`` with
the reason; outputs off by more than :data:`MISMATCH` give ``mismatch``. The parent side (command,
table, report) is :mod:`frameworkbench.analysis.export`. Imports no framework itself.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ..execution.records import ExportResult

# The formats, in export order (openvino converts the onnx artifact; tflite the savedmodel one): name,
# label, kind (framework / server / mobile), the runtime that runs the artifact. Format names, not targets.
FORMAT_TABLE = (
    ("keras", ".keras file", "framework", "Keras (reloaded)"), ("savedmodel", "SavedModel", "server", "TensorFlow"),
    ("tflite", "TFLite", "mobile", "LiteRT"), ("onnx", "ONNX", "server", "ONNX Runtime"),
    ("openvino", "OpenVINO", "server", "OpenVINO"), ("torchscript", "TorchScript", "server", "TorchScript"),
    ("torch.export", "torch.export (.pt2)", "server", "torch (ExportedProgram)"),
    ("executorch", "ExecuTorch (.pte)", "mobile", "ExecuTorch"))
FORMATS = tuple(row[0] for row in FORMAT_TABLE)
LABELS, KINDS, RUNTIMES = ({row[0]: row[i] for row in FORMAT_TABLE} for i in (1, 2, 3))
MISMATCH = 1e-4  # max |Δ| above which an artifact that runs is a mismatch
LARGE_BATCH, WARMUP, REPEATS = 1024, 10, {1: 100, 1024: 30}


def first_sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def status_for(max_abs_diff: float | None) -> str:
    """``ok`` within :data:`MISMATCH`, else ``mismatch`` (a non-finite deviation is a mismatch too)."""
    return "ok" if max_abs_diff is not None and np.isfinite(max_abs_diff) and max_abs_diff <= MISMATCH else "mismatch"


def _latency(call, n: int) -> dict:
    from ..measure import latency

    s = latency(call, WARMUP, REPEATS[n])
    return {"batch_size": n, "median_s": s["median"], "p95_s": s["p95"], "n": s["n"]}


def model_input(ctx) -> np.ndarray:
    """The validation rows as every artifact takes them: any rank, float32 features or the spec's integer
    token ids (``Spec.input_dtype``, int32) unchanged."""
    return np.ascontiguousarray(ctx.ds.x_val, dtype=ctx.spec.input_dtype)


def measure(fmt: str, fn, ctx, model, workdir: Path, live: np.ndarray) -> dict:
    """One format: export, reload, compare, time. Every failure is a result."""
    res: dict = {"format": fmt, "path": LABELS[fmt], "kind": KINDS[fmt], "runtime": RUNTIMES[fmt]}
    if isinstance(fn, str) or fn is None:
        return {**res, "status": "unsupported", "error": fn or "unsupported: not an export format of this target"}
    x = model_input(ctx)
    one = x[:1]
    step = "export"
    try:
        t = time.perf_counter()
        artifact, load = fn(ctx.adapter, model, workdir, one)
        res["export_s"] = time.perf_counter() - t
        res["artifact"], res["size_bytes"] = Path(artifact).name, size_bytes(Path(artifact))
        step = "load"
        t = time.perf_counter()
        predict = load()
        res["load_s"] = time.perf_counter() - t
        step = "run"
        got = np.asarray(predict(x), dtype=np.float64).reshape(live.shape)
        res["max_abs_diff"] = float(np.max(np.abs(got - live)))
        big = np.ascontiguousarray(np.resize(x, (LARGE_BATCH, *x.shape[1:])))
        res["latency"] = {"batch_1": _latency(lambda: predict(one), 1),
                          "batch_large": _latency(lambda: predict(big), LARGE_BATCH)}
        res["status"] = status_for(res["max_abs_diff"])
    except NotImplementedError as exc:
        text = str(exc)
        res.update(status="unsupported" if text.startswith("unsupported") else "failed", error=text[:300])
    except Exception as exc:  # the converter's or runtime's own error: this format failed, the others go on
        res.update(status="failed", error=f"{step}: {first_sentence(exc)}")
    return res


def _source_model(ctx, model):
    """The trained model: loaded from a stored run's saved model, or trained here (the ``train`` mode)."""
    from ..execution.training import train_mode

    fx = ctx.adapter.probes()
    path = ctx.job.options.get("load_model")
    if path:
        t = time.perf_counter()
        model = fx.load_model(ctx.adapter, Path(path), model)
        return model, {"source": "saved model", "saved_model_path": path, "load_s": time.perf_counter() - t}, None
    trained = train_mode(ctx, model)
    return model, {"source": "trained"}, trained


def export_mode(ctx, model) -> ExportResult:
    from ..execution.training import inference_latency

    fx = ctx.adapter.probes()
    model, source, train = _source_model(ctx, model)
    if train is not None and train.status != "ok":
        t = train
        return ExportResult(status=t.status, error=t.error, history=t.history, final=t.final, timings=t.timings)
    live = np.asarray(ctx.adapter.predict(model, ctx.ds.x_val), dtype=np.float64)
    wanted = ctx.job.options.get("formats") or list(FORMATS)
    declared, notes = fx.export_formats(ctx.adapter), fx.format_notes(ctx.adapter)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fb-export-") as d:
        for fmt in (f for f in FORMATS if f in wanted):
            row = measure(fmt, declared.get(fmt), ctx, model, Path(d), live)
            if fmt in notes:
                row["note"] = notes[fmt]
            rows.append(row)
    export = {**source, "formats": rows, "sample_rows": int(len(live)), "threads": ctx.job.threads,
              "mismatch_above": MISMATCH, "framework_inference": inference_latency(ctx, model),
              "paths": [{k: r.get(k) for k in ("path", "kind", "status", "size_bytes", "max_abs_diff", "error")}
                        | {"latency_batch1": (r.get("latency") or {}).get("batch_1")} for r in rows]}
    out = ExportResult(export=export)
    if train is not None:
        out.history, out.final, out.timings = train.history, train.final, train.timings
        out.saved_model = train.saved_model
    return out
