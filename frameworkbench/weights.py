"""Initial weights drawn in numpy from the spec's seed, in one canonical layout.

Canonical layout is Keras' (dense: kernel (in, out), bias (out,); conv: kernel (*kernel_size, in,
out)); each layer module
converts to a framework family's layout (torch: weight (out, in)) with ``to_family``.
Every layer module draws its own weights (dense: glorot-uniform kernel, zero bias, float32
-- Keras' defaults), in layer order from one stream, shared by every target under
``init: shared``. The list holds one entry per layer that has weights; a weights class's
``TRAINABLE`` names the arrays the optimiser updates (:func:`trainable_arrays`; the others,
running statistics, are saved, loaded and compared but never trained).

Dropout masks (aligned policy) come from their own stream of the training seed: one mask bank per
dropout layer (:func:`mask_banks`), applied by every target and by the reference alike.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import layers as layer_types
from .layers.base import arrays_of
from .layers.dense import DenseWeights
from .spec import Spec

__all__ = ["DenseWeights", "MASK_BANK_BYTES", "MASK_STREAM", "PLAN_STREAM", "WEIGHTS_STREAM", "array_key",
           "arrays_of", "dense_shapes", "flatten", "initial_weights", "load", "mask_banks", "param_count", "rng_for",
           "same_weights", "save", "step_masks", "trainable_arrays"]

WEIGHTS_STREAM = 1  # seed-sequence stream ids: weights, batch plan and dropout masks never share draws
PLAN_STREAM = 2
MASK_STREAM = 3
MASK_BANK_BYTES = 64 << 20  # every mask bank of a run together (uint8); longer runs cycle through the banks


def dense_shapes(spec: Spec) -> list[tuple[int, int, bool]]:
    """(fan_in, fan_out, use_bias) of every dense layer, in order."""
    return [(shape[-1], int(lay.units), lay.use_bias) for lay, shape in zip(spec.layers, spec.shapes)
            if lay.type == "dense"]


def param_count(spec: Spec) -> int:
    """Trainable parameter count implied by the spec (running statistics are not trained: not counted)."""
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


def trainable_arrays(w: Any) -> dict[str, np.ndarray]:
    """The arrays of ``w`` the optimiser updates: those its class's ``TRAINABLE`` names (absent: every one)."""
    names = getattr(type(w), "TRAINABLE", None)
    return {k: a for k, a in arrays_of(w).items() if names is None or k in names}


def flatten(weights: list[Any]) -> list[np.ndarray]:
    """The trainable arrays, [kernel0, bias0, kernel1, ...] (Keras' trainable_weights order); the order
    of the gradients of the same layers, whose weights hold only those."""
    return [a for w in weights for a in trainable_arrays(w).values()]


def same_weights(a: list[Any], b: list[Any]) -> bool:
    """Every array of every layer equal (running statistics included)."""
    return len(a) == len(b) and all(
        arrays_of(x).keys() == arrays_of(y).keys() and all(np.array_equal(v, arrays_of(y)[k])
                                                           for k, v in arrays_of(x).items())
        for x, y in zip(a, b))


def array_key(prefix: str, name: str, i: int) -> str:
    """A mode's ``.npz`` key for array ``name`` of the ``i``-th weighted layer (``grad_kernel_0``,
    ``final_moving_mean_1``)."""
    return f"{prefix}_{name}_{i}"


def mask_banks(spec: Spec, seed: int, plan: np.ndarray) -> dict[int, np.ndarray]:
    """Layer index -> mask bank of every layer that draws masks (dropout), from ``seed``'s mask stream.

    A bank is uint8 {0, 1} of shape ``(n, batch_size, *input_shape)``; training step ``k`` (counted
    over the whole run, from 0) uses ``bank[k % n][:rows]`` (:func:`step_masks`). ``n`` is the run's
    step count (``plan``'s batches), capped so that every bank together stays within
    :data:`MASK_BANK_BYTES`; a longer run cycles through the bank. Each layer draws from its own
    stream (seed, MASK_STREAM, layer index), step after step: ``bank[k]`` does not depend on ``n``.
    """
    drawing = [(i, lay, shape) for i, (lay, shape) in enumerate(zip(spec.layers, spec.shapes))
               if hasattr(layer_types.get(lay.type), "draw_masks")]
    if not drawing:
        return {}
    bs = spec.training["batch_size"]
    steps = sum(math.ceil(len(order) / bs) for order in plan)
    per_step = bs * sum(math.prod(shape) for _, _, shape in drawing)
    n = max(1, min(steps, MASK_BANK_BYTES // per_step))
    out = {}
    for i, lay, shape in drawing:
        draw = layer_types.get(lay.type).draw_masks
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), MASK_STREAM, i]))
        out[i] = np.stack([draw(lay, (bs, *shape), rng) for _ in range(n)])
    return out


def step_masks(banks: dict[int, np.ndarray], step: int, rows: int) -> dict[int, np.ndarray]:
    """Every bank's masks for training step ``step`` (0-based, over the whole run) on a batch of ``rows``."""
    return {i: bank[step % len(bank)][:rows] for i, bank in banks.items()}
