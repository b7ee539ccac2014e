"""``flatten``: every value of a sample in one axis, in channels-last (Keras) order; no weights.

Keras' ``Flatten`` order on ``(height, width, channels)`` is row-major over that shape, so the next
dense layer's kernel rows follow it. Targets that compute in another layout (torch convolutions
are channels-first) keep channels-last tensors between layers, so their flatten gives this order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import from_family, init_weights, param_count, saved_elements, size, to_family  # noqa: F401 - no weights

TYPE = "flatten"
ACTIVATION = None
FIELDS: dict[str, dict[str, Any]] = {}

EXAMPLES = (((3, 2, 2), {"type": TYPE}), ((4, 3), {"type": TYPE}), ((5,), {"type": TYPE}))


@dataclass(frozen=True)
class Layer:
    """A validated flatten layer."""

    type: ClassVar[str] = TYPE

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE}


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (size(input_shape),)


def forward(layer: Layer, w: None, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, tuple]:
    return x.reshape(len(x), -1), x.shape


def backward(layer: Layer, w: None, cache: tuple, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
    return grad_y.reshape(cache), None
