"""Pooling on channels-last inputs: ``max_pool{1,2}d``, ``avg_pool{1,2}d`` (windows) and
``global_avg_pool{1,2}d``, ``global_max_pool{1,2}d`` (over every spatial position).

One implementation per kind for both ranks; the layer-type modules are declared here
(:data:`MODULES`) and registered in :mod:`frameworkbench.layers`. No weights. ``padding: same``
pads as Keras does (see :mod:`.spatial`): max pooling ignores the padding (it pads with -inf),
average pooling divides by the number of real (unpadded) values in each window, as Keras and
TensorFlow do (torch's ``count_include_pad=False``).
"""
from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import spatial
from .base import from_family, init_weights, param_count, saved_elements, to_family  # noqa: F401 - no weights
from .conv import FIELDS as CONV_FIELDS

FIELDS: dict[str, dict[str, Any]] = {
    "pool_size": {"kind": "list", "doc": "window: an integer (every spatial axis) or one per spatial axis",
                  "default": 2, "lo": 1, "hi": spatial.MAX_WINDOW},
    "strides": {**CONV_FIELDS["strides"], "default": None, "default_doc": "`pool_size`"},
    "padding": CONV_FIELDS["padding"],
}


@dataclass(frozen=True)
class PoolLayer:
    """A validated window pooling (``RANK`` spatial axes, ``KIND`` max or avg)."""

    type: ClassVar[str] = ""
    RANK: ClassVar[int] = 0
    KIND: ClassVar[str] = ""
    pool_size: Any = 2
    strides: Any = None
    padding: str = "valid"

    @property
    def window(self) -> tuple[int, ...]:
        return spatial.as_tuple(self.pool_size, self.RANK)

    @property
    def steps(self) -> tuple[int, ...]:
        return self.window if self.strides is None else spatial.as_tuple(self.strides, self.RANK)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "pool_size": list(self.window), "strides": list(self.steps),
                "padding": self.padding}


@dataclass(frozen=True)
class GlobalPoolLayer:
    """A validated global pooling: one value per channel."""

    type: ClassVar[str] = ""
    RANK: ClassVar[int] = 0
    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type}


def output_shape(layer: PoolLayer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    spatial.check_input(layer.type, layer.RANK, input_shape)
    spatial.check_window(layer.type, "pool_size", layer.window, layer.steps, layer.RANK)
    out = spatial.output_spatial(layer.type, "pool_size", tuple(input_shape[:-1]), layer.window, layer.steps,
                                 layer.padding)
    return (*out, input_shape[-1])


def forward(layer: PoolLayer, w: None, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, tuple]:
    win, steps = layer.window, layer.steps
    p = spatial.pads(x.shape[1:-1], win, steps, layer.padding)
    out = tuple(spatial.out_size(n, k, s, layer.padding) for n, k, s in zip(x.shape[1:-1], win, steps))
    if layer.KIND == "max":
        xp = spatial.pad(x, p, -np.inf)
        cols = spatial.patches(xp, win, steps, out)  # (batch, *out, K, channels)
        arg = cols.argmax(axis=-2)[..., None, :]
        return np.take_along_axis(cols, arg, axis=-2)[..., 0, :], (arg, cols.shape, xp.shape, p, out)
    xp = spatial.pad(x, p)
    ones = spatial.pad(np.ones((1, *x.shape[1:-1], 1), x.dtype), p)
    count = spatial.patches(ones, win, steps, out).sum(axis=-2)  # real values per window
    return spatial.patches(xp, win, steps, out).sum(axis=-2) / count, (count, None, xp.shape, p, out)


def backward(layer: PoolLayer, w: None, cache: tuple, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
    first, cols_shape, padded, p, out = cache
    if layer.KIND == "max":
        gcols = np.zeros(cols_shape, grad_y.dtype)
        np.put_along_axis(gcols, first, grad_y[..., None, :], axis=-2)
    else:
        k = int(np.prod(layer.window))
        gcols = np.broadcast_to((grad_y / first)[..., None, :], (*grad_y.shape[:-1], k, grad_y.shape[-1]))
    return spatial.unpad(spatial.scatter(gcols, padded, layer.window, layer.steps, out), p), None


def global_output_shape(layer: GlobalPoolLayer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    spatial.check_input(layer.type, layer.RANK, input_shape)
    return (input_shape[-1],)


def global_forward(layer: GlobalPoolLayer, w: None, x: np.ndarray, training: bool = False
                   ) -> tuple[np.ndarray, tuple]:
    flat = x.reshape(len(x), -1, x.shape[-1])  # (batch, positions, channels)
    if layer.KIND == "avg":
        return flat.mean(axis=1), (x.shape, None)
    arg = flat.argmax(axis=1)[:, None, :]
    return np.take_along_axis(flat, arg, axis=1)[:, 0, :], (x.shape, arg)


def global_backward(layer: GlobalPoolLayer, w: None, cache: tuple, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
    shape, arg = cache
    n_pos = int(np.prod(shape[1:-1]))
    if arg is None:
        g = np.broadcast_to(grad_y[:, None, :] / n_pos, (len(grad_y), n_pos, grad_y.shape[-1]))
    else:
        g = np.zeros((len(grad_y), n_pos, grad_y.shape[-1]), grad_y.dtype)
        np.put_along_axis(g, arg, grad_y[:, None, :], axis=1)
    return np.ascontiguousarray(g).reshape(shape), None


def _declare(type_name: str, rank: int, kind: str, is_global: bool, examples: tuple) -> types.ModuleType:
    """The layer-type module of one pooling (the protocol of :mod:`.base`)."""
    mod = types.ModuleType(f"{__name__}.{type_name}", f"``{type_name}``: see :mod:`{__name__}`.")
    base = GlobalPoolLayer if is_global else PoolLayer
    layer = type(f"{type_name.title().replace('_', '')}Layer", (base,),
                 {"type": type_name, "RANK": rank, "KIND": kind, "__module__": __name__})
    fns = {"output_shape": global_output_shape, "forward": global_forward, "backward": global_backward} \
        if is_global else {"output_shape": output_shape, "forward": forward, "backward": backward}
    mod.__dict__.update(TYPE=type_name, RANK=rank, KIND=kind, GLOBAL=is_global, Layer=layer, ACTIVATION=None,
                        FIELDS={} if is_global else FIELDS, EXAMPLES=examples, **fns)
    for fn in (param_count, saved_elements, init_weights, to_family, from_family):
        setattr(mod, fn.__name__, fn)
    return mod


def _window(type_name: str, pool: list, strides: list, padding: str) -> dict:
    return {"type": type_name, "pool_size": pool, "strides": strides, "padding": padding}


def _examples(type_name: str, rank: int, is_global: bool) -> tuple:
    if is_global:
        return (((4, 3, 2) if rank == 2 else (5, 3), {"type": type_name}),)
    if rank == 2:
        return (((4, 6, 2), _window(type_name, [2, 2], [2, 2], "valid")),
                ((5, 5, 2), _window(type_name, [2, 3], [2, 2], "same")),
                ((5, 4, 1), _window(type_name, [3, 3], [1, 2], "valid")))
    return (((7, 2), _window(type_name, [2], [2], "valid")), ((7, 3), _window(type_name, [3], [2], "same")))


MODULES = tuple(_declare(f"{'global_' if g else ''}{kind}_pool{rank}d", rank, kind, g,
                         _examples(f"{'global_' if g else ''}{kind}_pool{rank}d", rank, g))
                for g in (False, True) for kind in ("max", "avg") for rank in (1, 2))
