"""Numerical parity: do the targets compute the same thing as the numpy reference and each other?

Worker side: :mod:`frameworkbench.analysis.parity_mode` (what the framework computes).

Parent side (:func:`run_parity`, here): the float64 reference runs the same steps with
the same update rule; every record gets its deviations and a verdict (``same``,
``close``, ``different`` with the first step that left tolerance) before it is
stored, and then the pairwise final-weight differences between targets.

The forward check is inference (running statistics, no dropout) at the initial weights; the
first gradients are a training step's (batch statistics, step 0's dropout masks), trainable arrays
only; the final weights compare every array, running statistics included.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import data, reference, weights
from ..spec import Spec
from .parity_mode import DEFAULT_STEPS

# Tolerances per precision (training.precision). "same": that precision's round-off against the
# float64 reference; "close": small, explainable drift. The mantissa sets the scale: float32 24 bits,
# TF32 and float16 11 bits (~5e-4 per rounding), bfloat16 8 bits (~4e-3 per rounding).
_HALF = {"same": {"forward_abs": 2e-3, "grad_abs": 2e-3, "loss_rel": 2e-3},
         "close": {"forward_abs": 2e-2, "grad_abs": 2e-2, "loss_rel": 5e-2}}
_BF16 = {"same": {"forward_abs": 1e-2, "grad_abs": 1e-2, "loss_rel": 1e-2},
         "close": {"forward_abs": 5e-2, "grad_abs": 5e-2, "loss_rel": 1e-1}}
TOLERANCES = {
    "float32": {
        "same": {"forward_abs": 1e-5, "grad_abs": 1e-5, "loss_rel": 1e-4},
        "close": {"forward_abs": 1e-3, "grad_abs": 1e-3, "loss_rel": 1e-2},
    },
    "tf32": _HALF, "mixed_float16": _HALF, "mixed_bfloat16": _BF16, "bfloat16": _BF16,
}
DTYPE = "float32"  # the precision of records that predate training.precision


# ----------------------------------------------------------------------------- parent side
def reference_run(spec: Spec, seed: int, steps: int) -> dict:
    """The float64 reference for one seed: forward at init, first-step gradients, trajectory."""
    ds = data.load_dataset(spec)
    w0 = weights.initial_weights(spec, seed)
    plan = data.batch_plan(len(ds.x_train), spec.training["epochs"], seed)
    banks = weights.mask_banks(spec, seed, plan)  # what the worker hands the adapter (aligned policy)
    first = plan[0][:spec.training["batch_size"]]
    loss0, grads = reference.gradients(spec, w0, ds.x_train[first], ds.y_train[first],
                                       weights.step_masks(banks, 0, len(first)))
    traj = reference.train(spec, w0, ds.x_train, ds.y_train, plan, banks)
    return {"forward": reference.forward(spec, w0, ds.x_val), "first_batch_loss": loss0, "grads": grads,
            "step_losses": traj["step_losses"][:steps], "epoch_losses": traj["epoch_losses"],
            "steps_in_run": len(traj["step_losses"]),
            "steps_per_epoch": len(data.batches(plan[0], spec.training["batch_size"])), "final": traj["weights"]}


def _rel(a: list[float], b: list[float]) -> list[float]:
    return [abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b)]


def _max_abs_layers(arrays: dict, prefix: str, ref: list) -> float:
    """Max |Δ| over every array the reference has (a gradient holds the trainable ones only)."""
    return max((float(np.max(np.abs(arrays[weights.array_key(prefix, name, i)] - a)))
                for i, w in enumerate(ref) for name, a in weights.arrays_of(w).items()), default=0.0)


def verdict(forward_abs: float, grad_abs: float, loss_rel: float, precision: str = DTYPE) -> str:
    tol = TOLERANCES[precision]
    for name in ("same", "close"):
        t = tol[name]
        if forward_abs <= t["forward_abs"] and grad_abs <= t["grad_abs"] and loss_rel <= t["loss_rel"]:
            return name
    return "different"


def analyze(rec: dict, ref: dict) -> dict:
    """Deviations of one parity record from the reference, and its verdict."""
    arrays, p = rec["arrays"], rec["parity"]
    fwd = arrays["output_at_init"].astype(np.float64)
    d = np.abs(fwd - ref["forward"])
    n = min(len(p["step_losses"]), len(ref["step_losses"]))  # the same steps on both sides
    step_rel = _rel(p["step_losses"][:n], ref["step_losses"][:n])
    epoch_rel = _rel(p["epoch_losses"], ref["epoch_losses"])
    precision = rec.get("precision") or DTYPE
    out = {
        "dtype": precision,  # the precision whose tolerances the verdict used
        "tolerance": TOLERANCES[precision],
        "forward_max_abs": float(d.max()),
        "forward_max_rel": float((d / np.maximum(np.abs(ref["forward"]), 1e-12)).max()),
        "grad_max_abs": _max_abs_layers(arrays, "grad", ref["grads"]),
        "first_batch_loss_rel": _rel([p["first_batch_loss"]], [ref["first_batch_loss"]])[0],
        "step_loss_max_rel": max(step_rel, default=0.0),
        "epoch_loss_max_rel": max(epoch_rel, default=0.0),
        "epoch_loss_rel": epoch_rel,
        "final_weights_max_abs_vs_reference": _max_abs_layers(arrays, "final", ref["final"]),
        "steps_compared": n,
        "steps_in_run": ref.get("steps_in_run", p.get("steps_in_run")),
        "reference": {"step_losses": ref["step_losses"][:n], "epoch_losses": ref["epoch_losses"],
                      "first_batch_loss": ref["first_batch_loss"], "steps_per_epoch": ref.get("steps_per_epoch")},
    }
    loss_rel = max(out["step_loss_max_rel"], out["epoch_loss_max_rel"], out["first_batch_loss_rel"])
    out["verdict"] = verdict(out["forward_max_abs"], out["grad_max_abs"], loss_rel, precision)
    out["left_tolerance_at"] = None
    if out["verdict"] != "same":
        same = TOLERANCES[precision]["same"]["loss_rel"]
        if out["forward_max_abs"] > TOLERANCES[precision]["same"]["forward_abs"]:
            out["left_tolerance_at"] = "initialisation (forward)"
        elif out["grad_max_abs"] > TOLERANCES[precision]["same"]["grad_abs"]:
            out["left_tolerance_at"] = "step 1 (gradients)"
        else:
            k = next((i for i, r in enumerate(step_rel) if r > same), None)
            e = next((i for i, r in enumerate(epoch_rel) if r > same), None)
            out["left_tolerance_at"] = f"step {k + 1}" if k is not None else f"epoch {e + 1}" if e is not None else None
    return out


def pairwise_final(records: list[dict]) -> dict[str, dict[str, float]]:
    """Max |Δ| of the final weights between every pair of targets (same seed)."""
    out: dict[str, dict[str, float]] = {}
    for a in records:
        row = out.setdefault(f"{a['target']}#{a['seed']}", {})
        for b in records:
            if b["seed"] != a["seed"] or "arrays" not in a or "arrays" not in b:
                continue
            keys = [k for k in a["arrays"] if k.startswith("final_")]
            row[b["target"]] = max(float(np.max(np.abs(a["arrays"][k] - b["arrays"][k]))) for k in keys)
    return out


def run_parity(spec: Spec, targets: list, opts, steps: int = DEFAULT_STEPS,
               on_event: Callable[[dict], None] | None = None) -> list[dict]:
    """Parity runs of ``spec`` on ``targets`` under ``opts.policy``; records carry their analysis."""
    from ..execution.runner import run, seeds_for
    from ..store import Store

    opts.mode = "parity"
    opts.job_options = {**opts.job_options, "steps": steps}
    refs: dict[int, dict] = {}
    if opts.policy == "aligned":
        refs = {s: reference_run(spec, s, steps) for s in seeds_for(spec, opts.seeds)}

    def finalize(rec: dict) -> None:
        if rec["status"] == "ok" and rec["seed"] in refs:
            rec["parity"].update(analyze(rec, refs[rec["seed"]]))

    records = run(spec, targets, opts, on_event, finalize)
    ok = [r for r in records if r["status"] == "ok"]
    matrix = pairwise_final(ok)
    if opts.store and ok:
        with Store(opts.db) as st:
            for r in ok:
                r["parity"]["final_weights_max_abs_vs"] = matrix.get(f"{r['target']}#{r['seed']}", {})
                st.save({k: v for k, v in r.items() if k != "arrays"})
    return records

