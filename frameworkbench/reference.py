"""Numpy reference model: forward pass, losses and metrics, computed in float64.

The core computes validation loss and metrics here from each target's
predictions, so every target is scored by the same code. :func:`forward` is inference (running
statistics, no dropout); :func:`gradients` and :func:`train` run the training mode: batch
statistics, the step's dropout masks (:func:`frameworkbench.weights.step_masks`), and after each
step the running statistics move as Keras moves them.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from . import layers as layer_types
from .spec import Spec
from .weights import flatten, step_masks


def with_weights(spec: Spec, weights: Sequence[Any], masks: dict[int, np.ndarray] | None = None):
    """(layer module, layer, its weights, or its step mask, or None) for every layer, weights taken in order."""
    it = iter(weights)
    for i, (layer, shape) in enumerate(zip(spec.layers, spec.shapes)):
        mod = layer_types.get(layer.type)
        yield mod, layer, (next(it) if mod.param_count(layer, shape) else (masks or {}).get(i))


def forward(spec: Spec, weights: Sequence[Any], x: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Model output for ``x`` in inference mode with the given canonical (Keras-layout) weights, in ``dtype``."""
    h = np.asarray(x, dtype=dtype)
    for mod, layer, w in with_weights(spec, weights):
        h, _ = mod.forward(layer, w, h, training=False)
    return h


def as_targets(spec: Spec, y: np.ndarray, n_out: int) -> np.ndarray:
    """Targets in the dense form the loss formulas use (one-hot for sparse labels)."""
    y = np.asarray(y)
    if spec.loss["name"] == "sparse_categorical_crossentropy" or (y.ndim == 1 and n_out > 1):
        return np.eye(n_out, dtype=np.float64)[y.astype(np.int64)]
    return y.astype(np.float64).reshape(len(y), -1)


def loss(spec: Spec, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean loss over the batch, with the spec's probability clipping for cross-entropies."""
    p = np.asarray(y_pred, dtype=np.float64)
    t = as_targets(spec, y_true, p.shape[-1])
    name = spec.loss["name"]
    if name == "mse":
        return float(np.mean(np.mean((p - t) ** 2, axis=-1)))
    eps = spec.loss["epsilon"]
    pc = np.clip(p, eps, 1 - eps)
    if name == "binary_crossentropy":
        per = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
        return float(np.mean(np.mean(per, axis=-1)))
    return float(np.mean(-(t * np.log(pc)).sum(axis=-1)))


def metric(name: str, spec: Spec, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """One metric: accuracy (thresholded at 0.5 for binary, argmax for multiclass), mae or mse."""
    p = np.asarray(y_pred, dtype=np.float64)
    t = as_targets(spec, y_true, p.shape[-1])
    if name == "accuracy":
        if spec.task == "binary":
            return float(np.mean((p > 0.5) == (t > 0.5)))
        return float(np.mean(p.argmax(-1) == t.argmax(-1)))
    if name == "mae":
        return float(np.mean(np.abs(p - t)))
    if name == "mse":
        return float(np.mean((p - t) ** 2))
    raise ValueError(f"unknown metric {name!r}")


def evaluate(spec: Spec, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict:
    """Loss and every spec metric, keyed with ``prefix`` (e.g. ``val_loss``)."""
    out = {f"{prefix}loss": loss(spec, y_true, y_pred)}
    for m in spec.metrics:
        out[f"{prefix}{m}"] = metric(m, spec, y_true, y_pred)
    return out


# --------------------------------------------------------------------------- backprop and training
def _forward_trace(spec: Spec, weights: Sequence[Any], x: np.ndarray, masks: dict[int, np.ndarray] | None):
    """Training-mode forward pass in float64 keeping, per layer, what its backward pass needs."""
    h = np.asarray(x, dtype=np.float64)
    trace = []
    for mod, layer, w in with_weights(spec, weights, masks):
        h, cache = mod.forward(layer, w, h, training=True)
        trace.append((mod, layer, w, cache))
    return h, trace


def loss_grad(spec: Spec, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """dLoss/dOutput for :func:`loss` (mean reduction, probability clipping as in the forward)."""
    p = np.asarray(y_pred, dtype=np.float64)
    t = as_targets(spec, y_true, p.shape[-1])
    n, c = p.shape
    name = spec.loss["name"]
    if name == "mse":
        return 2 * (p - t) / (n * c)
    eps = spec.loss["epsilon"]
    pc = np.clip(p, eps, 1 - eps)
    inside = (p >= eps) & (p <= 1 - eps)  # clipping passes no gradient outside
    if name == "binary_crossentropy":
        return (-(t / pc) + (1 - t) / (1 - pc)) * inside / (n * c)
    return -(t / pc) * inside / n


def gradients(spec: Spec, weights: Sequence[Any], x: np.ndarray, y: np.ndarray,
              masks: dict[int, np.ndarray] | None = None, trace: list | None = None) -> tuple[float, list[Any]]:
    """Training-mode loss and its gradient for every layer's weights, in the weights' layout (backprop in
    float64; trainable arrays only, the others None). ``masks``: the step's dropout masks; ``trace``: a
    list that receives the forward trace (what :func:`train` moves the running statistics from)."""
    out, steps = _forward_trace(spec, weights, x, masks)
    g = loss_grad(spec, y, out)
    grads: list[Any] = []
    for mod, layer, w, cache in reversed(steps):
        g, gw = mod.backward(layer, w, cache, g)
        if gw is not None:
            grads.append(gw)
    if trace is not None:
        trace.extend(steps)
    return loss(spec, y, out), grads[::-1]


class Optimizer:
    """The spec's optimiser in float64, with one fixed update rule per name.

    adam: Keras' formulation (epsilon-hat): lr_t = lr·√(1-β₂ᵗ)/(1-β₁ᵗ), w -= lr_t·m/(√v + ε).
    sgd: Keras' momentum form v = μ·v - lr·g, w += v (equal to torch's for a constant lr).
    """

    def __init__(self, spec: Spec, params: list[np.ndarray]):
        self.opt = spec.optimizer
        self.t = 0
        self.slots = [[np.zeros_like(p) for p in params] for _ in range(2)]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        o = self.opt
        self.t += 1
        if o["name"] == "adam":
            b1, b2 = o["beta_1"], o["beta_2"]
            lr_t = o["learning_rate"] * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
            for p, g, m, v in zip(params, grads, *self.slots):
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                p -= lr_t * m / (np.sqrt(v) + o["epsilon"])
        else:
            for p, g, v in zip(params, grads, self.slots[0]):
                v *= o["momentum"]
                v -= o["learning_rate"] * g
                p += v


def train(spec: Spec, weights: Sequence[Any], x: np.ndarray, y: np.ndarray, plan: np.ndarray,
          banks: dict[int, np.ndarray] | None = None) -> dict:
    """Train in float64 on the batch plan; per-step losses, per-epoch mean losses, final weights.

    Step ``k`` (over the run) drops with ``banks``' masks for ``k`` (:func:`frameworkbench.weights.mask_banks`;
    needed when the spec has dropout); after each step the running statistics move (the modules' ``update``)."""
    ws = [dataclasses.replace(w, **{f.name: getattr(w, f.name).astype(np.float64)  # astype copies
                                    for f in dataclasses.fields(w) if getattr(w, f.name) is not None})
          for w in weights]
    params = flatten(ws)
    opt = Optimizer(spec, params)
    bs = spec.training["batch_size"]
    step_losses, epoch_losses = [], []
    for order in plan:
        total = 0.0
        for i in range(0, len(order), bs):
            idx = order[i:i + bs]
            trace: list = []
            masks = step_masks(banks, len(step_losses), len(idx)) if banks else None
            value, grads = gradients(spec, ws, x[idx], y[idx], masks, trace)
            opt.step(params, flatten(grads))
            for mod, layer, w, cache in trace:
                if hasattr(mod, "update"):
                    mod.update(layer, w, cache)
            step_losses.append(value)
            total += value * len(idx)
        epoch_losses.append(total / len(order))
    return {"step_losses": step_losses, "epoch_losses": epoch_losses, "weights": ws}
