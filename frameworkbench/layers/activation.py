"""``activation``: an activation function as a layer of its own (no weights, shape unchanged)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations
from ..activations import Activation
from .base import check_family, size

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


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return 0


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return size(input_shape)


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
    return None


def forward(layer: Layer, w: None, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return activations.forward(layer.activation, x), x


def backward(layer: Layer, w: None, cache: np.ndarray, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
    return activations.vjp(layer.activation, cache, grad_y), None


def to_family(w: None, family: str) -> dict[str, np.ndarray]:
    check_family(family)
    return {}


def from_family(arrays: dict[str, np.ndarray], family: str) -> None:
    check_family(family)
    return None
