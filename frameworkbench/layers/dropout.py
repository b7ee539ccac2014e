"""``dropout``: in training, each value is kept with probability ``1 - rate`` and scaled by
``1 / (1 - rate)`` (inverted dropout, as every framework does it); inference never drops. No weights.

Which values are kept is a per-step input, a {0, 1} mask of the input's shape: under the aligned
policy the core draws every step's masks from the training seed (:func:`draw_masks`, called by
:func:`frameworkbench.weights.mask_banks`) and every target applies those same masks, so the
targets and the float64 reference drop the same units; the native policy uses each framework's
own dropout (its own random stream).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import from_family, init_weights, param_count, saved_elements, to_family  # noqa: F401 - no weights

TYPE = "dropout"
ACTIVATION = None
FIELDS: dict[str, dict[str, Any]] = {
    "rate": {"kind": "number", "doc": "share of the input's values dropped in training (inference never drops)",
             "lo": 0.0, "hi": 1.0, "hi_open": True},
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((5,), {"type": TYPE, "rate": 0.5}),
    ((3, 2, 2), {"type": TYPE, "rate": 0.0}),
)


@dataclass(frozen=True)
class Layer:
    """A validated dropout layer."""

    type: ClassVar[str] = TYPE
    rate: float

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "rate": self.rate}


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(input_shape)


def draw_masks(layer: Layer, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A {0, 1} uint8 mask of ``shape``: each value kept (1) with probability ``1 - rate``."""
    return (rng.random(shape) >= layer.rate).astype(np.uint8)


def forward(layer: Layer, mask: np.ndarray | None, x: np.ndarray, training: bool = False
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Training: ``x · mask / (1 - rate)`` with the step's ``mask`` (it stands where weights would); else ``x``."""
    if not training:
        return x, None
    if mask is None:
        raise ValueError("dropout in training mode needs the step's mask (frameworkbench.weights.step_masks)")
    scale = np.asarray(mask, x.dtype) / (1.0 - layer.rate)
    return x * scale, scale


def backward(layer: Layer, mask: np.ndarray | None, cache: np.ndarray | None, grad_y: np.ndarray
             ) -> tuple[np.ndarray, None]:
    return (grad_y if cache is None else grad_y * cache), None
