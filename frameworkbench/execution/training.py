"""The ``train`` and ``probe`` worker modes (registered in :mod:`frameworkbench.execution.modes`)."""
from __future__ import annotations

import math

from . import faults
from .events import emit
from .records import ProbeResult, TrainResult

INFERENCE_WARMUP, INFERENCE_REPEATS, LARGE_BATCH = 10, 50, 1024


def train_mode(ctx, model) -> TrainResult:
    """Train for the spec's epochs on the batch plan; per-epoch history and timings."""
    import numpy as np

    from .. import reference

    adapter, spec, ds, plan, job = ctx.adapter, ctx.spec, ctx.ds, ctx.plan, ctx.job
    history, epoch_s, step_times, splits = [], [], [], []
    status, error = "ok", None
    epochs = spec.training["epochs"]

    def on_epoch(e: int, loss: float, timer, seconds: float) -> bool:
        nonlocal status, error
        from ..measure import epoch_split

        loss = faults.loss(job.target, job.seed, e + 1, loss)  # test-only: FRAMEWORKBENCH_FAULT=nan
        epoch_s.append(seconds)
        step_times.append(list(timer.durations))
        splits.append({"epoch": e + 1, **epoch_split(seconds, timer)})
        pred = adapter.predict(model, ds.x_val)
        row = {"epoch": e + 1, "loss": loss, **reference.evaluate(spec, ds.y_val, pred), "seconds": seconds}
        history.append(row)
        emit("epoch", epoch=e + 1, epochs=epochs, loss=loss, seconds=seconds,
             **{k: v for k, v in row.items() if k.startswith("val_")})
        if not math.isfinite(loss) or not np.isfinite(pred).all():
            status, error = "diverged", f"non-finite loss or output at epoch {e + 1}"
            return False
        return True

    adapter.fit(model, spec, ds.x_train, ds.y_train, plan[:epochs], spec.training["batch_size"], on_epoch)
    timings = _timings(epoch_s, step_times, len(ds.x_train), splits)
    return TrainResult(
        status=status, error=error, history=history, warnings=_noise_warnings(step_times, timings),
        diverged_epoch=history[-1]["epoch"] if status == "diverged" else None,
        final={k: v for k, v in history[-1].items() if k not in ("epoch", "seconds")},
        timings=timings,
        inference=inference_latency(ctx, model) if status == "ok" else None,
        **({"saved_model": save_model_hook(ctx, model)} if status == "ok" and ctx.job.options.get("save_models") else {}))


def save_model_hook(ctx, model) -> dict | None:
    """``run --save-models``: the trained model in the framework's own format under
    ``options["save_models"]/<run_id>/``; its path, sha256 and size (or the reason it could not be saved)."""
    import hashlib
    from pathlib import Path

    root = ctx.job.options.get("save_models")
    if not root:
        return None
    try:
        path = ctx.adapter.probes().save_model(ctx.adapter, model, Path(root) / ctx.job.run_id)
    except Exception as exc:  # a family that cannot save says so in the record; the run itself is fine
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:300]}
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(path).as_posix().encode() if f != path else b"")
        digest.update(f.read_bytes())
    return {"status": "ok", "path": str(path.absolute()), "sha256": digest.hexdigest(),
            "size_bytes": sum(f.stat().st_size for f in files)}


def _steady_steps(step_times: list[list[float]]) -> list[float]:
    """The first epoch holds tracing/compilation: steady-state steps come from the later ones."""
    return [d for ep in step_times[1:] for d in ep] or step_times[0][min(5, len(step_times[0]) - 1):]


def _noise_warnings(step_times: list[list[float]], timings: dict) -> list[str]:
    from ..measure import NOISE_THRESHOLD, OUTSIDE_THRESHOLD, noisy, summary

    step = summary(_steady_steps(step_times))
    out = [f"noisy step times: IQR/median = {step['iqr'] / step['median']:.0%} "
           f"(> {NOISE_THRESHOLD:.0%})"] if noisy(step) else []
    outside = timings.get("outside_steps_share")
    if outside is not None and outside > OUTSIDE_THRESHOLD:
        out.append(f"{outside:.0%} of an epoch is outside the steps (> {OUTSIDE_THRESHOLD:.0%}): median epoch "
                   f"{timings['median_epoch_s']:.4g} s vs {timings['steps_per_epoch']} steps × median step "
                   f"{timings['median_step_s']:.4g} s")
    return out


def _timings(epoch_s: list[float], step_times: list[list[float]], samples: int, splits: list[dict]) -> dict:
    """Step statistics from the instrumented epochs; the headline epoch time from the steady epochs
    trained without per-step clocks where there are such (else every steady epoch)."""
    from ..measure import summary

    step = summary(_steady_steps(step_times))
    plain = [s for i, s in enumerate(epoch_s) if i >= 1 and splits[i]["step_s"] is None]
    steady = summary(plain or epoch_s[1:] or epoch_s)
    steps = max(len(ep) for ep in step_times) if step_times else 0
    split = next((sp for sp in splits[1:] if sp["step_s"] is not None), splits[0])
    per_step = steady["median"] / steps if steps else None
    return {"first_epoch_s": epoch_s[0], "epoch_s": epoch_s,
            "median_epoch_s": steady["median"], "epoch_iqr_s": steady["iqr"],
            "median_step_s": step.get("median"), "step_iqr_s": step.get("iqr"),
            "step_p95_s": step.get("p95"), "measured_steps": step.get("n", 0),
            "warmup_steps": len(step_times[0]) if len(step_times) > 1 else min(5, len(step_times[0]) - 1),
            "first_step_s": step_times[0][0] if step_times[0] else None,
            # tracing/compilation (jit_compile, torch.compile, jax.jit) falls in the first step and epoch:
            # compile_s is the first step's excess over the steady median; steady figures exclude epoch 1
            "compile_s": max(step_times[0][0] - step["median"], 0.0) if step_times[0] and step.get("median") else None,
            "compile_in": "first_step_s, first_epoch_s (not in median_step_s / median_epoch_s)",
            "samples_per_s": samples / steady["median"],
            "instrumented_epochs": [sp["epoch"] for sp in splits if sp["step_s"] is not None],
            "headline_epochs": "uninstrumented" if plain else "instrumented",
            "epoch_split": splits, "steady_split": split, "steps_per_epoch": steps,
            "epoch_per_step_s": per_step,
            "epoch_step_ratio": per_step / step["median"] if per_step and step.get("median") else None,
            "outside_steps_share": (1 - steps * step["median"] / steady["median"]) if per_step and step.get("median")
            else None}


def inference_latency(ctx, model) -> dict:
    """Latency (median, p95) at batch 1 and at a large batch after warm-up, and predict throughput."""
    import numpy as np

    from ..measure import latency

    x = ctx.ds.x_val if len(ctx.ds.x_val) else ctx.ds.x_train
    out = {"warmup": INFERENCE_WARMUP, "repeats": INFERENCE_REPEATS, "call": type(ctx.adapter).infer.__qualname__}
    for label, n in (("batch_1", 1), ("batch_large", LARGE_BATCH)):
        xb = np.ascontiguousarray(np.resize(x, (n, *x.shape[1:])))
        stats = latency(lambda: ctx.adapter.infer(model, xb), INFERENCE_WARMUP, INFERENCE_REPEATS)
        out[label] = {"batch_size": n, "median_s": stats["median"], "p95_s": stats["p95"], "iqr_s": stats["iqr"],
                      "samples_per_s": n / stats["median"]}
    return out


def probe_mode(ctx, model) -> ProbeResult:
    """Conformance probe: outputs at init, one epoch of training, and a repeat of it from the same start."""
    import numpy as np

    from .. import reference
    from ..measure import StepTimer
    from ..weights import array_key, arrays_of, same_weights

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
    identical = same_weights(w1, w2)
    arrays = {"output_at_init": out0}
    for i, w in enumerate(w1):
        arrays.update({array_key("trained", name, i): a for name, a in arrays_of(w).items()})
    np.savez(ctx.output_path(".npz"), **arrays)
    return ProbeResult(probe={"loss_before": before, "loss_after": after, "repeat_identical": bool(identical)})
