"""``layer_norm``: normalise each position over its last axis, then scale and shift:
``gamma · (x - mean) / sqrt(var + epsilon) + beta`` (biased variance, as every framework uses).

Canonical weights are Keras': ``gamma``, ``beta`` (features,); torch's ``nn.LayerNorm`` calls them
``weight`` / ``bias``, Flax's ``nnx.LayerNorm`` ``scale`` / ``bias``. Shared initial weights are
Keras' defaults: ones and zeros. ``epsilon`` defaults to Keras' 1e-3 (torch's is 1e-5, Flax's
1e-6: the native policy uses each framework's own).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import FLAX, KERAS, TORCH, ShapeError, arrays_of, check_family, from_layout, size, to_layout

TYPE = "layer_norm"
ACTIVATION = None
DEFAULT_EPSILON = 1e-3  # Keras' LayerNormalization and BatchNormalization default
LAYOUTS = {KERAS: {}, TORCH: {"gamma": ("weight", None), "beta": ("bias", None)},
           FLAX: {"gamma": ("scale", None), "beta": ("bias", None)}}
FIELDS: dict[str, dict[str, Any]] = {
    "epsilon": {"kind": "number", "doc": "added to the variance before the square root (Keras' default; the "
                                         "native policy uses each framework's own)",
                "default": DEFAULT_EPSILON, "lo": 0.0, "lo_open": True, "hi": 1.0},
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((5,), {"type": TYPE, "epsilon": 1e-3}),
    ((3, 4), {"type": TYPE, "epsilon": 0.5}),
    ((2, 3, 2), {"type": TYPE, "epsilon": 1e-5}),
)


@dataclass(frozen=True)
class Layer:
    """A validated layer normalisation."""

    type: ClassVar[str] = TYPE
    epsilon: float = DEFAULT_EPSILON

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "epsilon": self.epsilon}


@dataclass
class LayerNormWeights:
    """A layer normalisation's scale and shift in the canonical layout."""

    gamma: np.ndarray  # (features,)
    beta: np.ndarray  # (features,)


Weights = LayerNormWeights


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if not input_shape:
        raise ShapeError("layer_norm needs an input with at least one dimension")
    return tuple(input_shape)


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return 2 * input_shape[-1]


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    """The normalised input and one inverse deviation per position."""
    return size(input_shape) + size(input_shape[:-1])


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> LayerNormWeights:
    """Ones and zeros, float32 (Keras' defaults; ``rng`` is not drawn from)."""
    n = input_shape[-1]
    return LayerNormWeights(np.ones(n, np.float32), np.zeros(n, np.float32))


def forward(layer: Layer, w: LayerNormWeights, x: np.ndarray,
            training: bool = False) -> tuple[np.ndarray, tuple]:
    centred = x - x.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + layer.epsilon)
    xhat = centred * inv
    return xhat * w.gamma.astype(x.dtype) + w.beta.astype(x.dtype), (xhat, inv)


def backward(layer: Layer, w: LayerNormWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, LayerNormWeights]:
    xhat, inv = cache
    lead = tuple(range(grad_y.ndim - 1))
    g = grad_y * w.gamma.astype(grad_y.dtype)
    gx = inv * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return gx, LayerNormWeights((grad_y * xhat).sum(axis=lead), grad_y.sum(axis=lead))


def to_family(w: LayerNormWeights, family: str) -> dict[str, np.ndarray]:
    """Keras ``gamma`` / ``beta``, torch ``weight`` / ``bias``, Flax ``scale`` / ``bias``."""
    return to_layout(arrays_of(w), LAYOUTS[check_family(family)])


def from_family(arrays: dict[str, np.ndarray], family: str) -> LayerNormWeights:
    """Inverse of :func:`to_family`."""
    canonical = from_layout(arrays, LAYOUTS[check_family(family)])
    return LayerNormWeights(canonical["gamma"], canonical["beta"])
