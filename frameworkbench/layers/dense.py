"""``dense``: a fully connected layer ``activation(x @ kernel + bias)`` on the last axis.

Canonical weights are Keras': kernel (in, out), bias (out,). Shared initial weights are
Keras' Dense defaults: glorot-uniform kernel, zero bias.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations
from ..activations import Activation
from .base import FLAX, KERAS, TORCH, ShapeError, arrays_of, check_family, from_layout, size, to_layout

TYPE = "dense"
MAX_UNITS = 1 << 16
ACTIVATION = "optional"
LAYOUTS = {KERAS: {}, FLAX: {}, TORCH: {"kernel": ("weight", (1, 0))}}  # torch: weight (out, in)
FIELDS: dict[str, dict[str, Any]] = {
    "units": {"kind": "integer", "doc": "output units", "lo": 1, "hi": MAX_UNITS},
    "use_bias": {"kind": "boolean", "doc": "add a bias vector", "default": True},
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((4,), {"type": TYPE, "units": 3, "activation": {"name": "tanh"}, "use_bias": True}),
    ((5,), {"type": TYPE, "units": 2, "activation": {"name": "elu", "alpha": 0.5}, "use_bias": False}),
)


@dataclass(frozen=True)
class Layer:
    """A validated dense layer."""

    type: ClassVar[str] = TYPE
    units: int
    activation: Activation
    use_bias: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "units": self.units, "activation": self.activation.to_dict(),
                "use_bias": self.use_bias}


@dataclass
class DenseWeights:
    """A dense layer's weights in the canonical layout."""

    kernel: np.ndarray  # (in, out)
    bias: np.ndarray | None  # (out,)


Weights = DenseWeights  # the weights class (frameworkbench.weights.load rebuilds saved weights by it)


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if not input_shape:
        raise ShapeError("a dense layer needs an input with at least one dimension")
    return (*input_shape[:-1], int(layer.units))


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    units = int(layer.units)
    return input_shape[-1] * units + (units if layer.use_bias else 0)


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return size(output_shape(layer, input_shape))


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> DenseWeights:
    """Glorot-uniform kernel, zero bias, float32."""
    fan_in, fan_out = input_shape[-1], int(layer.units)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    kernel = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)
    return DenseWeights(kernel, np.zeros(fan_out, np.float32) if layer.use_bias else None)


def forward(layer: Layer, w: DenseWeights, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, tuple]:
    z = x @ w.kernel.astype(x.dtype)
    if w.bias is not None:
        z = z + w.bias.astype(x.dtype)
    return activations.forward(layer.activation, z), (x, z)


def backward(layer: Layer, w: DenseWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, DenseWeights]:
    x, z = cache
    g = activations.vjp(layer.activation, z, grad_y)
    x2, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    grads = DenseWeights(x2.T @ g2, g2.sum(axis=0) if w.bias is not None else None)
    return g @ w.kernel.astype(g.dtype).T, grads


def to_family(w: DenseWeights, family: str) -> dict[str, np.ndarray]:
    """The family's named arrays: torch ``weight`` (out, in), Keras and Flax ``kernel`` (in, out); ``bias``."""
    return to_layout(arrays_of(w), LAYOUTS[check_family(family)])


def from_family(arrays: dict[str, np.ndarray], family: str) -> DenseWeights:
    """Inverse of :func:`to_family`."""
    canonical = from_layout(arrays, LAYOUTS[check_family(family)])
    return DenseWeights(canonical["kernel"], canonical.get("bias"))
