"""``conv1d``, ``conv2d``: convolutions on channels-last inputs, ``activation(conv(x, kernel) + bias)``.

One implementation for both ranks; :data:`CONV1D` and :data:`CONV2D` are the layer-type modules
(declared here, registered in :mod:`frameworkbench.layers`). Canonical weights are Keras':
kernel ``(*kernel_size, in, out)``, bias ``(out,)``; Flax NNX's ``nnx.Conv`` uses the same
layout, torch's ``nn.Conv{1,2}d`` weight is ``(out, in, *kernel_size)``. Shared initial weights
are Keras' Conv defaults: glorot-uniform kernel (fan_in = prod(kernel_size)·in, fan_out =
prod(kernel_size)·out), zero bias. ``padding: same`` pads as Keras does (see :mod:`.spatial`).
"""
from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations
from ..activations import Activation
from . import spatial
from .base import FLAX, KERAS, TORCH, arrays_of, check_family, from_layout, size, to_layout
from .dense import FIELDS as DENSE_FIELDS
from .dense import MAX_UNITS

FIELDS: dict[str, dict[str, Any]] = {
    "filters": {"kind": "integer", "doc": "output channels", "lo": 1, "hi": MAX_UNITS},
    "kernel_size": {"kind": "list", "doc": "window: an integer (every spatial axis) or one per spatial axis",
                    "lo": 1, "hi": spatial.MAX_WINDOW},
    "strides": {"kind": "list", "doc": "step of the window: an integer or one per spatial axis", "default": 1,
                "lo": 1, "hi": spatial.MAX_WINDOW},
    "padding": {"kind": "choice", "doc": "`valid`: no padding; `same`: Keras' padding (extra at the end), "
                                         "output size ceil(n / stride)",
                "default": "valid", "choices": spatial.PADDINGS, "what": "padding"},
    "use_bias": DENSE_FIELDS["use_bias"],
}


@dataclass(frozen=True)
class ConvLayer:
    """A validated convolution (``RANK`` spatial axes); ints given for sizes repeat on every axis."""

    type: ClassVar[str] = ""
    RANK: ClassVar[int] = 0
    filters: int
    kernel_size: Any
    activation: Activation
    strides: Any = 1
    padding: str = "valid"
    use_bias: bool = True

    @property
    def window(self) -> tuple[int, ...]:
        return spatial.as_tuple(self.kernel_size, self.RANK)

    @property
    def steps(self) -> tuple[int, ...]:
        return spatial.as_tuple(self.strides, self.RANK)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "filters": self.filters, "kernel_size": list(self.window),
                "strides": list(self.steps), "padding": self.padding, "activation": self.activation.to_dict(),
                "use_bias": self.use_bias}


@dataclass
class ConvWeights:
    """A convolution's weights in the canonical (Keras) layout."""

    kernel: np.ndarray  # (*kernel_size, in, out)
    bias: np.ndarray | None  # (out,)


def output_shape(layer: ConvLayer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    spatial.check_input(layer.type, layer.RANK, input_shape)
    spatial.check_window(layer.type, "kernel_size", layer.window, layer.steps, layer.RANK)
    out = spatial.output_spatial(layer.type, "kernel_size", tuple(input_shape[:-1]), layer.window, layer.steps,
                                 layer.padding)
    return (*out, int(layer.filters))


def param_count(layer: ConvLayer, input_shape: tuple[int, ...]) -> int:
    f = int(layer.filters)
    return math.prod(layer.window) * input_shape[-1] * f + (f if layer.use_bias else 0)


def saved_elements(layer: ConvLayer, input_shape: tuple[int, ...]) -> int:
    """The output, and the input's windows backward needs for the kernel gradient."""
    out = output_shape(layer, input_shape)
    return size(out) + size(out[:-1]) * math.prod(layer.window) * input_shape[-1]


def init_weights(layer: ConvLayer, input_shape: tuple[int, ...], rng: np.random.Generator) -> ConvWeights:
    """Glorot-uniform kernel, zero bias, float32 (Keras' Conv defaults)."""
    k, c, f = layer.window, input_shape[-1], int(layer.filters)
    limit = np.sqrt(6.0 / (math.prod(k) * (c + f)))
    kernel = rng.uniform(-limit, limit, size=(*k, c, f)).astype(np.float32)
    return ConvWeights(kernel, np.zeros(f, np.float32) if layer.use_bias else None)


def forward(layer: ConvLayer, w: ConvWeights, x: np.ndarray, training: bool = False
            ) -> tuple[np.ndarray, tuple]:
    win, steps = layer.window, layer.steps
    p = spatial.pads(x.shape[1:-1], win, steps, layer.padding)
    xp = spatial.pad(x, p)
    out = tuple(spatial.out_size(n, k, s, layer.padding) for n, k, s in zip(x.shape[1:-1], win, steps))
    cols = spatial.patches(xp, win, steps, out)  # (batch, *out, K, in)
    kernel = w.kernel.astype(x.dtype).reshape(-1, x.shape[-1], w.kernel.shape[-1])  # (K, in, out)
    z = np.tensordot(cols, kernel, axes=([-2, -1], [0, 1]))
    if w.bias is not None:
        z = z + w.bias.astype(x.dtype)
    return activations.forward(layer.activation, z), (cols, z, xp.shape, p, out)


def backward(layer: ConvLayer, w: ConvWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, ConvWeights]:
    cols, z, padded, p, out = cache
    g = activations.vjp(layer.activation, z, grad_y)
    lead = tuple(range(g.ndim - 1))
    gk = np.tensordot(cols, g, axes=(lead, lead)).reshape(w.kernel.shape)
    kernel = w.kernel.astype(g.dtype).reshape(-1, w.kernel.shape[-2], w.kernel.shape[-1])
    gcols = np.tensordot(g, kernel, axes=([-1], [2]))  # (batch, *out, K, in)
    gx = spatial.unpad(spatial.scatter(gcols, padded, layer.window, layer.steps, out), p)
    return gx, ConvWeights(gk, g.sum(axis=lead) if w.bias is not None else None)


def _layouts(rank: int) -> dict:
    """torch: weight (out, in, *kernel_size); Keras and Flax: the canonical kernel."""
    return {KERAS: {}, FLAX: {}, TORCH: {"kernel": ("weight", (rank + 1, rank, *range(rank)))}}


def to_family(w: ConvWeights, family: str) -> dict[str, np.ndarray]:
    rank = w.kernel.ndim - 2
    return to_layout(arrays_of(w), _layouts(rank)[check_family(family)])


def from_family(arrays: dict[str, np.ndarray], family: str) -> ConvWeights:
    rank = np.ndim(arrays.get("kernel", arrays.get("weight"))) - 2
    canonical = from_layout(arrays, _layouts(rank)[check_family(family)])
    return ConvWeights(canonical["kernel"], canonical.get("bias"))


def _declare(type_name: str, rank: int, examples: tuple) -> types.ModuleType:
    """The layer-type module of the ``rank``-D convolution (the protocol of :mod:`.base`)."""
    mod = types.ModuleType(f"{__name__}.{type_name}", f"``{type_name}``: see :mod:`{__name__}`.")
    layer = type(f"Conv{rank}DLayer", (ConvLayer,), {"type": type_name, "RANK": rank, "__module__": __name__})
    mod.__dict__.update(TYPE=type_name, RANK=rank, Layer=layer, FIELDS=FIELDS, ACTIVATION="optional",
                        EXAMPLES=examples, Weights=ConvWeights)
    for fn in (output_shape, param_count, saved_elements, init_weights, forward, backward, to_family, from_family):
        setattr(mod, fn.__name__, fn)
    return mod


def _example(type_name: str, filters: int, kernel: list, strides: list, padding: str, act: dict, bias: bool) -> dict:
    return {"type": type_name, "filters": filters, "kernel_size": kernel, "strides": strides, "padding": padding,
            "activation": act, "use_bias": bias}


CONV2D = _declare("conv2d", 2, (  # (input shape, normalised layer): what tests/test_layers.py checks
    ((5, 5, 2), _example("conv2d", 3, [3, 3], [1, 1], "valid", {"name": "tanh"}, True)),
    ((6, 5, 2), _example("conv2d", 2, [2, 3], [2, 1], "same", {"name": "elu", "alpha": 0.5}, False)),
    ((5, 4, 1), _example("conv2d", 2, [2, 2], [2, 2], "same", {"name": "linear"}, True)),
))
CONV1D = _declare("conv1d", 1, (
    ((7, 3), _example("conv1d", 4, [3], [1], "valid", {"name": "sigmoid"}, True)),
    ((6, 2), _example("conv1d", 2, [4], [3], "same", {"name": "linear"}, False)),
))
