"""Worker modes behind the rebuilt document tables (registered in :data:`frameworkbench.execution.modes.MODES`).

Each mode runs inside a worker process, in the target's framework, and returns record fields:

* ``activations``: every activation of the seed document computed by the framework, the
  way its models compute it (the adapter's own activation layer / module), with the
  derivative from the framework's autodiff: curves over a sweep, output range, maximum
  derivative, derivative at |x| = 5 and at the kink, mean output on N(0, 1) input,
  forward+backward cost, and the deviation from the numpy reference.
* ``dynamic``: whether the training step runs eagerly by default, observed from inside the
  step, and the eager vs compiled step time (the same target switched both ways).
* ``export`` lives in :mod:`.export_mode` (trained model, every format, latency per runtime).
* ``codegen``: the idiomatic script from :mod:`frameworkbench.codegen`, run in the worker's
  environment: its line count, whether it ran, and the parameter count it printed.
* ``train_stats``: the ``train`` mode plus dead units (per hidden layer) and per-layer
  gradient norms at initialisation and after training.

The core modules import no framework; the framework-side code is the adapter's
:meth:`~frameworkbench.adapters.base.Adapter.probes`, reached through the adapter only.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import activations, reference
from ..execution.records import ActivationsResult, CodegenResult, DynamicResult, TrainStatsResult
from ..spec import ACTIVATION_PARAMS, Activation, Spec, validate

# The seed document's six activations, in its order.
DOCUMENT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax")
SWEEP_LIMIT = 6.0
SWEEP_STEP = 0.01  # x = -6, -5.99, ..., 6 (exactly 0 and ±5 are on it)
STORED_EVERY = 5  # curves stored in the record every 0.05
SOFTMAX_WIDTH = 3  # softmax is probed on the vector (x, 0, 0); its first component is reported
NORMAL_SAMPLES = 100_000
COST_SHAPE = (1 << 18, 4)  # one million elements for the forward+backward timing
COST_WARMUP, COST_REPEATS = 5, 30
GRADIENT_ROWS = 512


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _timed(run, warmup: int = COST_WARMUP, repeats: int = COST_REPEATS) -> dict:
    from ..measure import latency

    s = latency(run, warmup, repeats)
    return {"median_s": s["median"], "iqr_s": s["iqr"], "n": s["n"]}


# ----------------------------------------------------------------------------- activations
def sweep() -> np.ndarray:
    n = int(round(SWEEP_LIMIT / SWEEP_STEP))
    return (np.arange(-n, n + 1) * SWEEP_STEP).astype(np.float32)


def activation_spec(base: Spec, act: Activation) -> Spec:
    """A spec whose model is ``Dense(SOFTMAX_WIDTH, linear) → act``: the adapter's own activation object."""
    return validate({
        "name": f"{base.name}-{act.name}", "task": "multiclass", "input_shape": [SOFTMAX_WIDTH],
        "layers": [{"type": "dense", "units": SOFTMAX_WIDTH, "activation": "linear"},
                   {"type": "activation", "activation": {"name": act.name, **act.params}}],
        "loss": "mse", "metrics": [], "optimizer": base.optimizer, "training": base.training,
        "data": {"source": "synthetic", "n_samples": 64, "n_features": SOFTMAX_WIDTH, "n_classes": SOFTMAX_WIDTH},
        "init": base.init})


def activations_mode(ctx, model) -> ActivationsResult:
    adapter = ctx.adapter
    fx = adapter.probes()
    params = {**ACTIVATION_PARAMS, **(ctx.job.options.get("activation_params") or {})}
    x = sweep()
    grid = np.zeros((len(x), SOFTMAX_WIDTH), np.float32)
    grid[:, 0] = x
    rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 7]))
    normal = rng.standard_normal((NORMAL_SAMPLES, SOFTMAX_WIDTH)).astype(np.float32)
    big = rng.standard_normal(COST_SHAPE).astype(np.float32)
    at = {v: int(np.flatnonzero(x == np.float32(v))[0]) for v in (-5.0, 0.0, 5.0)}
    step = int(round(1 / SWEEP_STEP / 100))  # the sweep neighbours of 0 (±0.01)
    out, how = {}, None
    for name in DOCUMENT_ACTIVATIONS:
        act = Activation(name, dict(params.get(name, {})))
        fn = fx.activation_callable(adapter, adapter.build(activation_spec(ctx.spec, act), ctx.seed))
        y, dy = fx.value_and_derivative(adapter, fn, grid)
        y0, dy = y[:, 0].astype(np.float64), dy.astype(np.float64)
        g64 = grid.astype(np.float64)
        ref_y = activations.forward(act, g64)[:, 0]
        ref_dy = activations.derivative(act, g64)[:, 0]
        away = x != 0
        yn, _ = fx.value_and_derivative(adapter, fn, normal)
        run, how = fx.forward_backward_timer(adapter, fn, big)
        i_max = int(np.argmax(dy))
        res = {
            "params": dict(act.params),
            "y": y0[::STORED_EVERY].tolist(), "dy": dy[::STORED_EVERY].tolist(),
            "range": [float(y0.min()), float(y0.max())],
            "max_derivative": float(dy[i_max]), "max_derivative_at": float(x[i_max]),
            "derivative_at": {"-5": float(dy[at[-5.0]]), "0": float(dy[at[0.0]]), "5": float(dy[at[5.0]]),
                              "-0.01": float(dy[at[0.0] - step]), "0.01": float(dy[at[0.0] + step])},
            "derivative_jump_at_0": float(abs(dy[at[0.0] + step] - dy[at[0.0] - step])),
            "mean_on_normal": float(np.mean(yn[:, 0], dtype=np.float64)),
            "sem_on_normal": float(np.std(yn[:, 0], dtype=np.float64) / np.sqrt(len(yn))),
            "reference": {"forward_max_abs": float(np.max(np.abs(y0 - ref_y))),
                          "derivative_max_abs": float(np.max(np.abs(dy - ref_dy)[away])),
                          "derivative_at_0": float(ref_dy[at[0.0]])},
            "cost": _timed(run),
        }
        if name == "softmax":
            res["sum_minus_one_max"] = float(np.max(np.abs(y.astype(np.float64).sum(axis=1) - 1)))
        out[name] = res
    return ActivationsResult(activations={
        "x": x[::STORED_EVERY].astype(np.float64).tolist(),
        "sweep": {"from": -SWEEP_LIMIT, "to": SWEEP_LIMIT, "step": SWEEP_STEP, "stored_every": STORED_EVERY},
        "softmax_input": f"(x, {', '.join(['0'] * (SOFTMAX_WIDTH - 1))}); first component",
        "normal_samples": NORMAL_SAMPLES, "cost_elements": int(np.prod(COST_SHAPE)), "cost_method": how,
        "by_name": out})


# ----------------------------------------------------------------------------- eager / compiled
def dynamic_mode(ctx, model) -> DynamicResult:
    from ..measure import StepTimer, summary

    fx = ctx.adapter.probes()
    adapter, spec, ds, plan = ctx.adapter, ctx.spec, ctx.ds, ctx.plan
    bs = spec.training["batch_size"]
    variants = fx.execution_variants(adapter)
    warm, measured = plan[0], plan[1] if len(plan) > 1 else plan[0]
    results = {}
    for kind in ("eager", "compiled"):
        v = variants[kind]
        res: dict = {"how": v["how"], "default": kind == variants["default"]["is"]}
        try:
            # Only the default way carries the probe: in a compiled step it is traced away, in an
            # eager one it costs microseconds; a probe in the other way could break its graph.
            probe = fx.StepProbe(adapter) if res["default"] else None
            m, scope = v["setup"](ctx.fresh_model(), probe)
            with scope:
                t1, t2 = StepTimer(), StepTimer()
                t = time.perf_counter()
                adapter.train(m, spec, ds.x_train[warm], ds.y_train[warm], bs, t1)
                res["first_epoch_s"] = time.perf_counter() - t
                t = time.perf_counter()
                res["loss"] = adapter.train(m, spec, ds.x_train[measured], ds.y_train[measured], bs, t2)
                res["epoch_s"] = time.perf_counter() - t
            step = summary(t2.durations)
            res.update(status="ok", median_step_s=step.get("median"), step_iqr_s=step.get("iqr"),
                       measured_steps=step.get("n", 0))
            if probe is not None:
                res["probe"] = probe.summary(len(t1.durations) + len(t2.durations))
        except Exception as exc:  # a way of running that does not work here is a result too
            res.update(status="failed", error=_first_line(exc))
        results[kind] = res
    default = variants["default"]["is"]
    observed = results[default].get("probe", {}).get("eager") if results[default]["status"] == "ok" else None
    ratio = None
    if all(results[k]["status"] == "ok" and results[k].get("median_step_s") for k in results):
        ratio = results["eager"]["median_step_s"] / results["compiled"]["median_step_s"]
    return DynamicResult(dynamic={"default_is": default, "default_how": variants["default"]["how"],
                                  "eager_by_default": observed, "eager_over_compiled": ratio, "variants": results})


# ----------------------------------------------------------------------------- codegen
def codegen_mode(ctx, model) -> CodegenResult:
    from .. import codegen, weights

    code = codegen.generate(ctx.spec, ctx.job.target)
    res: dict = {**codegen.count_lines(code), "code": code,
                 "code_sha256": hashlib.sha256(code.encode()).hexdigest()[:16],
                 "params_expected": weights.param_count(ctx.spec)}
    timeout = float(ctx.job.options.get("codegen_timeout", 300))
    with tempfile.TemporaryDirectory(prefix="fb-codegen-") as d:
        path = Path(d) / "generated.py"
        path.write_text(code, encoding="utf-8")
        t = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=d,
                                  env=dict(os.environ), timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            res.update(ran=False, exit_code=None, error=f"generated script ran past {timeout:g} s")
            return CodegenResult(codegen=res)
        res["wall_s"] = time.perf_counter() - t
    params = codegen.parse_params(proc.stdout)
    res.update(exit_code=proc.returncode, params_printed=params, ran=proc.returncode == 0 and params is not None,
               final_printed=codegen.parse_final(proc.stdout))  # the script's own final losses
    if proc.returncode != 0:
        res["error"] = "\n".join(proc.stderr.strip().splitlines()[-5:])
    return CodegenResult(codegen=res)


# ----------------------------------------------------------------------------- training statistics
def hidden_units(spec: Spec, ws, x: np.ndarray) -> list[dict]:
    """For every hidden dense layer: its activation and the share of units whose pre-activation is
    <= 0 on every row of ``x`` (dead under ReLU: zero output and zero gradient for all of them)."""
    h = np.asarray(x, dtype=np.float64)
    layers = spec.layers
    dense_idx = [i for i, lay in enumerate(layers) if lay.type == "dense"]
    out = []
    for i, (mod, lay, w) in enumerate(reference.with_weights(spec, ws)):
        if lay.type == "dense" and i != dense_idx[-1]:
            z = h @ w.kernel.astype(np.float64) + (0 if w.bias is None else w.bias.astype(np.float64))
            z = z.reshape(-1, z.shape[-1])  # every position of an N-D input is a row
            act = lay.activation.name
            if act == "linear" and i + 1 < len(layers) and layers[i + 1].type == "activation":
                act = layers[i + 1].activation.name
            dead = int(np.sum(np.all(z <= 0, axis=0)))
            out.append({"layer": i, "activation": act, "units": int(z.shape[1]), "dead": dead,
                        "dead_share": dead / z.shape[1], "active_fraction": float(np.mean(z > 0))})
        h, _ = mod.forward(lay, w, h)
    return out


def gradient_norms(ctx, model, x: np.ndarray, y: np.ndarray) -> dict:
    """Loss and the Frobenius norm of every dense kernel's gradient on (x, y)."""
    adapter, spec = ctx.adapter, ctx.spec
    try:
        loss, grads = adapter.loss_and_gradients(model, spec, x, y)
        method = "framework autodiff (adapter.loss_and_gradients)"
    except (AttributeError, NotImplementedError):
        loss, grads = reference.gradients(spec, adapter.get_weights(model), x, y)
        method = "numpy reference backprop on the framework's weights"
    return {"loss": float(loss), "kernel_norms": [float(np.linalg.norm(g.kernel)) for g in grads if hasattr(g, "kernel")],
            "method": method}


def train_stats_mode(ctx, model) -> TrainStatsResult:
    from ..execution.training import train_mode

    ds = ctx.ds
    rows = slice(0, min(GRADIENT_ROWS, len(ds.x_train)))
    xg, yg = ds.x_train[rows], ds.y_train[rows]
    init = {"gradients": gradient_norms(ctx, model, xg, yg),
            "units": hidden_units(ctx.spec, ctx.adapter.get_weights(model), ds.x_train)}
    trained = train_mode(ctx, model)
    final = {"gradients": gradient_norms(ctx, model, xg, yg),
             "units": hidden_units(ctx.spec, ctx.adapter.get_weights(model), ds.x_train)}
    return TrainStatsResult(**trained.to_dict(), train_stats={"init": init, "final": final,
                                                              "gradient_rows": int(len(xg)),
                                                              "dead_rows": int(len(ds.x_train))})
