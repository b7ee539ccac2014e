"""``activation``: an activation function as a layer of its own (no weights, shape unchanged)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations
from ..activations import Activation
from .base import from_family, init_weights, param_count, saved_elements, to_family  # noqa: F401 - no weights

TYPE = "activation"
ACTIVATION = "required"
FIELDS: dict[str, dict[str, Any]] = {}

EXAMPLES = tuple(  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((4,), {"type": TYPE, "activation": act}) for act in (
        {"name": "softmax"}, {"name": "leaky_relu", "negative_slope": 0.01}, {"name": "sigmoid"}))


@dataclass(frozen=True)
class Layer:
    """A validated activation layer."""

    type: ClassVar[str] = TYPE
    activation: Activation

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "activation": self.activation.to_dict()}


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(input_shape)


def forward(layer: Layer, w: None, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, np.ndarray]:
    return activations.forward(layer.activation, x), x


def backward(layer: Layer, w: None, cache: np.ndarray, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
    return activations.vjp(layer.activation, cache, grad_y), None
