"""What every layer module shares: the framework families, shape helpers, the activation field.

A layer module (``dense.py``, ``activation.py``, ...) declares, for one layer type:

- ``TYPE``: the spec's ``type`` value; ``Layer``: the typed, frozen layer built from the spec;
- ``FIELDS``: its own spec fields as constraint data (``key -> Field keywords``: kind, doc,
  default, lo, hi, ...); the spec's field table and validator read them;
- ``ACTIVATION``: ``"optional"`` (default ``linear``, or the module's ``DEFAULT_ACTIVATION`` name where it
  declares one), ``"required"`` or ``None`` (no activation);
- ``output_shape(layer, input_shape)``: shape inference per sample; raises :class:`ShapeError`
  when the input does not fit (the validator reports it at the layer's index);
- ``param_count(layer, input_shape)`` (trained parameters) and ``saved_elements(layer, input_shape)``
  (per-sample values one training batch keeps for backward: the memory estimate);
- ``init_weights(layer, input_shape, rng)``: the shared initial weights (canonical, Keras
  layout, float32) or None; a type with weights names their dataclass ``Weights`` (its arrays
  are named as in Keras: ``kernel``, ``bias``, ...). The class's ``TRAINABLE`` names the arrays
  the optimiser updates (absent: all); the others (running statistics) are saved, loaded and
  compared like the rest, but have no gradient (None in a gradient's ``Weights``);
- ``forward(layer, weights, x, training=False) -> (y, cache)`` and ``backward(layer, weights, cache,
  grad_y) -> (grad_x, grad_weights)``: the reference computation (in ``x``'s dtype; float64 for
  training); ``training`` selects the training-mode computation (batch statistics, dropout). A type
  with state that training moves declares ``update(layer, weights, cache)`` (running statistics,
  in place, after a training-mode forward); one with a per-step random input declares
  ``draw_masks(layer, shape, rng)``, and its forward takes the step's mask in the weights' place;
- ``EXAMPLES``: ``(input_shape, normalised layer)`` pairs the layer tests run on;
- ``to_family(weights, family)`` / ``from_family(arrays, family)``: canonical weights as the
  named arrays of one framework family (``FAMILIES``) and back.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

FAMILIES = ("keras", "torch", "flax")  # weight layouts: Keras API (tf.keras, Keras 3), PyTorch, Flax
KERAS, TORCH, FLAX = FAMILIES
# A layout: canonical array name -> (the family's name for it, axes of np.transpose or None);
# arrays it does not list keep their name and axes.
Layout = dict[str, tuple[str, "tuple[int, ...] | None"]]


class ShapeError(ValueError):
    """A layer's input shape does not fit the layer (the message says what it needs)."""


def check_family(family: str) -> str:
    """``family`` if it is one of :data:`FAMILIES`, else a ValueError naming them."""
    if family not in FAMILIES:
        raise ValueError(f"unknown framework family {family!r}; expected one of: {', '.join(FAMILIES)}")
    return family


def size(shape: tuple[int, ...]) -> int:
    """Values per sample of a shape."""
    return math.prod(shape)


def arrays_of(w: Any) -> dict[str, np.ndarray]:
    """A layer's canonical weights by name, in declaration order (absent ones, like no bias, left out)."""
    return {f.name: getattr(w, f.name) for f in dataclasses.fields(w) if getattr(w, f.name) is not None}


def to_layout(arrays: dict[str, np.ndarray], layout: Layout) -> dict[str, np.ndarray]:
    """Canonical arrays renamed and transposed as ``layout`` says."""
    out = {}
    for name, a in arrays.items():
        new, axes = layout.get(name, (name, None))
        out[new] = a if axes is None else np.ascontiguousarray(np.transpose(a, axes))
    return out


def from_layout(arrays: dict[str, np.ndarray], layout: Layout) -> dict[str, np.ndarray]:
    """Inverse of :func:`to_layout`: the canonical arrays."""
    back = {new: (name, axes) for name, (new, axes) in layout.items()}
    out = {}
    for new, a in arrays.items():
        name, axes = back.get(new, (new, None))
        a = np.asarray(a)
        out[name] = a if axes is None else np.ascontiguousarray(np.transpose(a, np.argsort(axes)))
    return out


# The weight side of a layer type without weights (activation, flatten, the pools), which those
# modules import as their own: no parameters, no initial weights, no arrays in any family; what
# backward keeps per sample is at most the input (the pools: argmax positions or counts).
def param_count(layer: Any, input_shape: tuple[int, ...]) -> int:
    return 0


def saved_elements(layer: Any, input_shape: tuple[int, ...]) -> int:
    return size(input_shape)


def init_weights(layer: Any, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
    return None


def to_family(w: None, family: str) -> dict[str, np.ndarray]:
    check_family(family)
    return {}


def from_family(arrays: dict[str, np.ndarray], family: str) -> None:
    check_family(family)
    return None
