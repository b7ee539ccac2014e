"""``batch_norm``: batch normalisation over every axis but the last (channels-last, as Keras):
``gamma · (x - mean) / sqrt(var + epsilon) + beta``.

Training mode normalises with the batch's mean and biased variance and then moves the running
statistics as Keras does (:func:`update`): ``running = momentum · running + (1 - momentum) · batch``,
the biased batch variance included. Inference uses the running statistics. Canonical weights are
Keras': ``gamma``, ``beta`` (trained), ``moving_mean``, ``moving_variance`` (not trained:
:attr:`BatchNormWeights.TRAINABLE`), all ``(channels,)``; torch's ``nn.BatchNorm*`` calls them
``weight``, ``bias``, ``running_mean``, ``running_var``, Flax's ``nnx.BatchNorm`` ``scale``,
``bias``, ``mean``, ``var``. Shared initial weights are Keras' defaults: ones, zeros, zeros, ones.
Defaults are Keras' (momentum 0.99, epsilon 1e-3); torch's momentum is the weight of the new value
(0.1 = Keras' 0.9) and its running variance the unbiased one; the native policy keeps each
framework's own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import FLAX, KERAS, TORCH, ShapeError, arrays_of, check_family, from_layout, size, to_layout
from .layer_norm import FIELDS as LAYER_NORM_FIELDS

TYPE = "batch_norm"
ACTIVATION = None
DEFAULT_MOMENTUM = 0.99  # Keras' BatchNormalization default
LAYOUTS = {KERAS: {},
           TORCH: {"gamma": ("weight", None), "beta": ("bias", None), "moving_mean": ("running_mean", None),
                   "moving_variance": ("running_var", None)},
           FLAX: {"gamma": ("scale", None), "beta": ("bias", None), "moving_mean": ("mean", None),
                  "moving_variance": ("var", None)}}
FIELDS: dict[str, dict[str, Any]] = {
    "momentum": {"kind": "number", "doc": "weight of the old value in the running statistics (Keras' meaning: "
                                          "running = momentum·running + (1−momentum)·batch; torch's momentum is "
                                          "1 − this)",
                 "default": DEFAULT_MOMENTUM, "lo": 0.0, "hi": 1.0, "hi_open": True},
    "epsilon": LAYER_NORM_FIELDS["epsilon"],
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((4,), {"type": TYPE, "momentum": 0.99, "epsilon": 1e-3}),
    ((3, 2, 2), {"type": TYPE, "momentum": 0.9, "epsilon": 0.5}),
    ((5, 3), {"type": TYPE, "momentum": 0.0, "epsilon": 1e-5}),
)


@dataclass(frozen=True)
class Layer:
    """A validated batch normalisation."""

    type: ClassVar[str] = TYPE
    momentum: float = DEFAULT_MOMENTUM
    epsilon: float = LAYER_NORM_FIELDS["epsilon"]["default"]

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "momentum": self.momentum, "epsilon": self.epsilon}


@dataclass
class BatchNormWeights:
    """A batch normalisation's arrays in the canonical layout, all ``(channels,)``."""

    TRAINABLE: ClassVar[tuple[str, ...]] = ("gamma", "beta")  # the optimiser's; the running statistics are not
    gamma: np.ndarray
    beta: np.ndarray
    moving_mean: np.ndarray | None  # None in a gradient
    moving_variance: np.ndarray | None


Weights = BatchNormWeights


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if not input_shape:
        raise ShapeError("batch_norm needs an input with at least one dimension (its last axis holds the channels)")
    return tuple(input_shape)


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    """Trained parameters (gamma, beta); the running statistics are as many again, not trained."""
    return 2 * input_shape[-1]


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return size(input_shape)


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> BatchNormWeights:
    """Keras' defaults: gamma ones, beta zeros, moving mean zeros, moving variance ones (float32; no draws)."""
    c = input_shape[-1]
    return BatchNormWeights(np.ones(c, np.float32), np.zeros(c, np.float32), np.zeros(c, np.float32),
                            np.ones(c, np.float32))


def forward(layer: Layer, w: BatchNormWeights, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, tuple]:
    """Training: the batch's mean and biased variance (kept in the cache for :func:`update`); else the running ones."""
    axes = tuple(range(x.ndim - 1))
    if training:
        mean = x.mean(axis=axes)
        var = ((x - mean) ** 2).mean(axis=axes)
    else:
        mean, var = w.moving_mean.astype(x.dtype), w.moving_variance.astype(x.dtype)
    inv = 1.0 / np.sqrt(var + layer.epsilon)
    xhat = (x - mean) * inv
    return w.gamma.astype(x.dtype) * xhat + w.beta.astype(x.dtype), (xhat, inv, mean, var, training)


def backward(layer: Layer, w: BatchNormWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, BatchNormWeights]:
    xhat, inv, _, _, training = cache
    axes = tuple(range(grad_y.ndim - 1))
    gxhat = grad_y * w.gamma.astype(grad_y.dtype)
    if training:  # the batch statistics depend on x too
        gx = inv * (gxhat - gxhat.mean(axis=axes) - xhat * (gxhat * xhat).mean(axis=axes))
    else:
        gx = gxhat * inv
    return gx, BatchNormWeights((grad_y * xhat).sum(axis=axes), grad_y.sum(axis=axes), None, None)


def update(layer: Layer, w: BatchNormWeights, cache: tuple) -> None:
    """After a training-mode forward: move ``w``'s running statistics (in place) as Keras does."""
    _, _, mean, var, training = cache
    if not training:
        raise ValueError("batch_norm: running statistics move only after a training-mode forward pass")
    m = layer.momentum
    w.moving_mean[...] = w.moving_mean * m + mean * (1.0 - m)
    w.moving_variance[...] = w.moving_variance * m + var * (1.0 - m)


def to_family(w: BatchNormWeights, family: str) -> dict[str, np.ndarray]:
    """torch ``weight``/``bias``/``running_mean``/``running_var``; Flax ``scale``/``bias``/``mean``/``var``."""
    return to_layout(arrays_of(w), LAYOUTS[check_family(family)])


def from_family(arrays: dict[str, np.ndarray], family: str) -> BatchNormWeights:
    """Inverse of :func:`to_family`; a gradient (trained arrays only) gives None running statistics."""
    c = from_layout(arrays, LAYOUTS[check_family(family)])
    return BatchNormWeights(c["gamma"], c["beta"], c.get("moving_mean"), c.get("moving_variance"))
