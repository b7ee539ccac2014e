"""Numpy reference model: forward pass, losses and metrics, computed in float64.

The core computes validation loss and metrics here from each target's
predictions, so every target is scored by the same code.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import activations
from .spec import Spec
from .weights import DenseWeights


def forward(spec: Spec, weights: Sequence[DenseWeights], x: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Model output for ``x`` with the given canonical (Keras-layout) weights."""
    h = np.asarray(x, dtype=dtype)
    it = iter(weights)
    for layer in spec.layers:
        if layer.type == "dense":
            w = next(it)
            h = h @ w.kernel.astype(dtype)
            if w.bias is not None:
                h = h + w.bias.astype(dtype)
        h = activations.forward(layer.activation, h)
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
