"""``embedding``: token ids ``[T]`` (integers) to vectors ``[T, output_dim]``, one row of a table per id.

Canonical weights are Keras': ``embeddings`` (input_dim, output_dim); torch's ``nn.Embedding``
``weight`` and Flax's ``nnx.Embed`` ``embedding`` have the same layout. Shared initial weights
are Keras' Embedding default: uniform(-0.05, 0.05). The layer reads integer ids, so it is the
model's first layer on an input of rank 1 (``input_shape: [T]``); ids that arrive as floats
are rounded back to integers. Ids have no gradient (backward's ``grad_x`` is zero).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import FLAX, KERAS, TORCH, ShapeError, check_family, from_layout, size, to_layout
from .dense import MAX_UNITS

TYPE = "embedding"
ACTIVATION = None
INTEGER_INPUT = True  # the layer reads integer token ids, not features
MAX_VOCABULARY = 1 << 24
INIT_LIMIT = 0.05  # Keras' Embedding default: RandomUniform(-0.05, 0.05)
LAYOUTS = {KERAS: {}, TORCH: {"embeddings": ("weight", None)}, FLAX: {"embeddings": ("embedding", None)}}
FIELDS: dict[str, dict[str, Any]] = {
    "input_dim": {"kind": "integer", "doc": "vocabulary size: token ids are 0 .. input_dim - 1",
                  "lo": 1, "hi": MAX_VOCABULARY},
    "output_dim": {"kind": "integer", "doc": "width of each token's vector", "lo": 1, "hi": MAX_UNITS},
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((5,), {"type": TYPE, "input_dim": 7, "output_dim": 3}),
    ((1,), {"type": TYPE, "input_dim": 4, "output_dim": 2}),
)


@dataclass(frozen=True)
class Layer:
    """A validated embedding layer."""

    type: ClassVar[str] = TYPE
    input_dim: int
    output_dim: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "input_dim": self.input_dim, "output_dim": self.output_dim}


@dataclass
class EmbeddingWeights:
    """An embedding layer's table in the canonical layout."""

    embeddings: np.ndarray  # (input_dim, output_dim)


Weights = EmbeddingWeights


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(input_shape) != 1:
        raise ShapeError(f"embedding reads token ids of shape [T] (rank 1), got rank {len(input_shape)}; make "
                         f"embedding the first layer with input_shape: [T] and data of integer token ids "
                         f"(data.sequence_length with data.vocab_size)")
    return (input_shape[0], int(layer.output_dim))


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return int(layer.input_dim) * int(layer.output_dim)


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    return size(input_shape)  # the ids (the gradient scatters rows back by them)


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> EmbeddingWeights:
    """Uniform(-0.05, 0.05), float32 (Keras' default)."""
    shape = (int(layer.input_dim), int(layer.output_dim))
    return EmbeddingWeights(rng.uniform(-INIT_LIMIT, INIT_LIMIT, size=shape).astype(np.float32))


def token_ids(layer: Layer, x: np.ndarray) -> np.ndarray:
    """``x`` as integer ids (floats rounded); a ValueError for ids outside ``[0, input_dim)``."""
    ids = np.asarray(x)
    ids = np.rint(ids).astype(np.int64) if not np.issubdtype(ids.dtype, np.integer) else ids.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= layer.input_dim):
        raise ValueError(f"embedding token ids must lie in [0, {layer.input_dim}) (input_dim), got ids from "
                         f"{ids.min()} to {ids.max()}; raise input_dim to the vocabulary size")
    return ids


def forward(layer: Layer, w: EmbeddingWeights, x: np.ndarray,
            training: bool = False) -> tuple[np.ndarray, tuple]:
    ids = token_ids(layer, x)
    dtype = x.dtype if np.issubdtype(np.asarray(x).dtype, np.floating) else np.float64
    return w.embeddings.astype(dtype)[ids], (ids, np.asarray(x).shape)


def backward(layer: Layer, w: EmbeddingWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, EmbeddingWeights]:
    """Rows of the table gather the gradients of their ids; ids themselves get zero."""
    ids, shape = cache
    g = np.zeros(w.embeddings.shape, grad_y.dtype)
    np.add.at(g, ids.reshape(-1), grad_y.reshape(-1, grad_y.shape[-1]))
    return np.zeros(shape, grad_y.dtype), EmbeddingWeights(g)


def to_family(w: EmbeddingWeights, family: str) -> dict[str, np.ndarray]:
    """Keras ``embeddings``, torch ``weight``, Flax ``embedding``: all (input_dim, output_dim)."""
    return to_layout({"embeddings": w.embeddings}, LAYOUTS[check_family(family)])


def from_family(arrays: dict[str, np.ndarray], family: str) -> EmbeddingWeights:
    """Inverse of :func:`to_family`."""
    return EmbeddingWeights(from_layout(arrays, LAYOUTS[check_family(family)])["embeddings"])
