"""Initial weights drawn in numpy from the spec's seed, in one canonical layout.

Canonical layout is Keras': kernel (in, out), bias (out,). Adapters convert
to their own layout (torch: weight (out, in)). Glorot-uniform kernels and zero
biases, float32 -- Keras' Dense defaults, shared by every target under
``init: shared``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spec import Spec

WEIGHTS_STREAM = 1  # seed-sequence stream ids: weights and batch plan never share draws
PLAN_STREAM = 2


@dataclass
class DenseWeights:
    kernel: np.ndarray  # (in, out)
    bias: np.ndarray | None  # (out,)


def dense_shapes(spec: Spec) -> list[tuple[int, int, bool]]:
    """(fan_in, fan_out, use_bias) of every dense layer, in order."""
    shapes, fan_in = [], spec.n_features
    for layer in spec.dense_layers:
        shapes.append((fan_in, int(layer.units), layer.use_bias))
        fan_in = int(layer.units)
    return shapes


def param_count(spec: Spec) -> int:
    """Trainable parameter count implied by the spec."""
    return sum(i * o + (o if b else 0) for i, o, b in dense_shapes(spec))


def rng_for(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream]))


def initial_weights(spec: Spec, seed: int) -> list[DenseWeights]:
    """Glorot-uniform kernels, zero biases, float32, from ``seed``."""
    rng = rng_for(seed, WEIGHTS_STREAM)
    out = []
    for fan_in, fan_out, use_bias in dense_shapes(spec):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        kernel = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)
        out.append(DenseWeights(kernel, np.zeros(fan_out, np.float32) if use_bias else None))
    return out


def save(weights: list[DenseWeights], path: Path) -> None:
    arrays = {}
    for i, w in enumerate(weights):
        arrays[f"kernel_{i}"] = w.kernel
        if w.bias is not None:
            arrays[f"bias_{i}"] = w.bias
    np.savez(path, **arrays)


def load(path: Path) -> list[DenseWeights]:
    with np.load(path, allow_pickle=False) as z:
        n = sum(1 for k in z.files if k.startswith("kernel_"))
        return [DenseWeights(z[f"kernel_{i}"], z[f"bias_{i}"] if f"bias_{i}" in z.files else None)
                for i in range(n)]


def flatten(weights: list[DenseWeights]) -> list[np.ndarray]:
    """[kernel0, bias0, kernel1, ...] -- the order Keras' get_weights() uses."""
    out = []
    for w in weights:
        out.append(w.kernel)
        if w.bias is not None:
            out.append(w.bias)
    return out


def unflatten(arrays: list[np.ndarray], spec: Spec) -> list[DenseWeights]:
    """Inverse of :func:`flatten` for the spec's layer structure."""
    it = iter(arrays)
    return [DenseWeights(np.asarray(next(it)), np.asarray(next(it)) if b else None)
            for _, _, b in dense_shapes(spec)]
