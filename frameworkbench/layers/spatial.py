"""What the convolution and pooling layer types share: channels-last shapes, Keras' padding, sliding windows.

Tensors are channels-last, Keras' layout: ``(batch, *spatial, channels)`` with one spatial axis
(1-D layers: ``(steps, channels)``) or two (2-D layers: ``(height, width, channels)``).
``padding: same`` follows Keras / TensorFlow (and XLA): the output has ``ceil(n / stride)``
positions and the total padding ``max((out - 1) * stride + window - n, 0)`` is split with the
extra element at the end, so it is asymmetric for even windows and for strides > 1.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterator

import numpy as np

from .base import ShapeError

PADDINGS = ("same", "valid")
MAX_WINDOW = 1 << 12
AXES = {1: "(steps, channels)", 2: "(height, width, channels)"}


def as_tuple(value: Any, rank: int) -> tuple[int, ...]:
    """An int or a list of ints as a tuple of ints (an int repeats ``rank`` times; lengths are checked later)."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * rank


def check_input(type_name: str, rank: int, input_shape: tuple[int, ...]) -> None:
    """ShapeError unless ``input_shape`` is ``(*spatial, channels)`` with ``rank`` spatial axes."""
    if len(input_shape) != rank + 1:
        fix = ("give input_shape as " + ("[H, W, C] (e.g. data.reshape: [8, 8, 1])" if rank == 2 else "[T, F]")
               + f" and put {type_name} before any flatten, global pool or dense layer")
        raise ShapeError(f"{type_name} needs an input of rank {rank + 1} {AXES[rank]}, got rank "
                         f"{len(input_shape)}; {fix}")


def check_window(type_name: str, what: str, window: tuple[int, ...], strides: tuple[int, ...], rank: int) -> None:
    for name, t in ((what, window), ("strides", strides)):
        if len(t) != rank:
            raise ShapeError(f"{type_name}.{name} {list(t)} has {len(t)} values; {type_name} needs 1 or {rank}")


def out_size(n: int, window: int, stride: int, padding: str) -> int:
    """Output positions along one axis (Keras' formula)."""
    return math.ceil(n / stride) if padding == "same" else (n - window) // stride + 1


def output_spatial(type_name: str, what: str, spatial: tuple[int, ...], window: tuple[int, ...],
                   strides: tuple[int, ...], padding: str) -> tuple[int, ...]:
    """The output's spatial shape; ShapeError naming the fix when a window does not fit its input."""
    out = tuple(out_size(n, k, s, padding) for n, k, s in zip(spatial, window, strides))
    if min(out) < 1:
        raise ShapeError(f"{type_name}.{what} {list(window)} is larger than its input {list(spatial)} with "
                         f"padding 'valid' (output would be {[max(o, 0) for o in out]}); use a {what} of at most "
                         f"{list(spatial)}, padding 'same', or remove a pooling/strided layer before it")
    return out


def pads(spatial: tuple[int, ...], window: tuple[int, ...], strides: tuple[int, ...], padding: str
         ) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial axis as Keras applies it (extra element at the end)."""
    if padding == "valid":
        return tuple((0, 0) for _ in spatial)
    out = []
    for n, k, s in zip(spatial, window, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        out.append((total // 2, total - total // 2))
    return tuple(out)


def _offsets(window: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(k) for k in window))


def _slices(offset: tuple[int, ...], out: tuple[int, ...], strides: tuple[int, ...]) -> tuple:
    return (slice(None), *(slice(o, o + s * (n - 1) + 1, s) for o, n, s in zip(offset, out, strides)), slice(None))


def patches(xp: np.ndarray, window: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Sliding windows of the padded input ``xp``: ``(batch, *out, prod(window), channels)``,
    window positions in C order (the order of a kernel ``(*window, in, out)`` reshaped)."""
    return np.stack([xp[_slices(o, out, strides)] for o in _offsets(window)], axis=-2)


def scatter(grad_patches: np.ndarray, padded_shape: tuple[int, ...], window: tuple[int, ...],
            strides: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Adjoint of :func:`patches`: window gradients summed back onto the padded input."""
    g = np.zeros(padded_shape, grad_patches.dtype)
    for i, o in enumerate(_offsets(window)):
        g[_slices(o, out, strides)] += grad_patches[..., i, :]
    return g


def pad(x: np.ndarray, p: tuple[tuple[int, int], ...], value: float = 0.0) -> np.ndarray:
    return np.pad(x, ((0, 0), *p, (0, 0)), constant_values=value)


def unpad(g: np.ndarray, p: tuple[tuple[int, int], ...]) -> np.ndarray:
    return g[(slice(None), *(slice(b, g.shape[i + 1] - a) for i, (b, a) in enumerate(p)), slice(None))]
