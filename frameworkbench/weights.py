"""Initial weights drawn in numpy from the spec's seed, in one canonical layout.

Canonical layout is Keras' (dense: kernel (in, out), bias (out,); conv: kernel (*kernel_size, in,
out)); each layer module
converts to a framework family's layout (torch: weight (out, in)) with ``to_family``.
Every layer module draws its own weights (dense: glorot-uniform kernel, zero bias, float32
-- Keras' defaults), in layer order from one stream, shared by every target under
``init: shared``. The list holds one entry per layer that has weights.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from . import layers as layer_types
from .layers.base import arrays_of
from .layers.dense import DenseWeights
from .spec import Spec

__all__ = ["DenseWeights", "PLAN_STREAM", "WEIGHTS_STREAM", "arrays_of", "dense_shapes", "flatten",
           "initial_weights", "load", "param_count", "rng_for", "save"]

WEIGHTS_STREAM = 1  # seed-sequence stream ids: weights and batch plan never share draws
PLAN_STREAM = 2


def dense_shapes(spec: Spec) -> list[tuple[int, int, bool]]:
    """(fan_in, fan_out, use_bias) of every dense layer, in order."""
    return [(shape[-1], int(lay.units), lay.use_bias) for lay, shape in zip(spec.layers, spec.shapes)
            if lay.type == "dense"]


def param_count(spec: Spec) -> int:
    """Trainable parameter count implied by the spec."""
    return sum(layer_types.get(lay.type).param_count(lay, shape) for lay, shape in zip(spec.layers, spec.shapes))


def rng_for(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream]))


def initial_weights(spec: Spec, seed: int) -> list[Any]:
    """Every layer's initial weights (float32, canonical layout), drawn from ``seed`` in layer order."""
    rng = rng_for(seed, WEIGHTS_STREAM)
    out = []
    for lay, shape in zip(spec.layers, spec.shapes):
        w = layer_types.get(lay.type).init_weights(lay, shape, rng)
        if w is not None:
            out.append(w)
    return out


def save(weights: list[Any], path: Path) -> None:
    """``<name>_<i>`` per array of the i-th weighted layer (``kernel_0``, ``bias_0``, ...) and
    ``class_<i>``, the name of its weights class (``DenseWeights``, ``ConvWeights``)."""
    arrays = {f"{name}_{i}": a for i, w in enumerate(weights) for name, a in arrays_of(w).items()}
    np.savez(path, **arrays, **{f"class_{i}": np.array(type(w).__name__) for i, w in enumerate(weights)})


def load(path: Path) -> list[Any]:
    """What :func:`save` wrote: every weighted layer's weights, of its own class, in layer order."""
    with np.load(path, allow_pickle=False) as z:
        n = sum(1 for k in z.files if k.startswith("class_"))
        out = []
        for i in range(n):
            cls = layer_types.WEIGHTS[str(z[f"class_{i}"])]
            names = [f.name for f in dataclasses.fields(cls)]
            out.append(cls(**{k: z[f"{k}_{i}"] if f"{k}_{i}" in z.files else None for k in names}))
        return out


def flatten(weights: list[Any]) -> list[np.ndarray]:
    """[kernel0, bias0, kernel1, ...] -- the order Keras' get_weights() uses."""
    return [a for w in weights for a in arrays_of(w).values()]
