"""Builders of simple_rnn, lstm and gru for this framework family (see ``frameworkbench.layers``).

Each layer is :class:`Recurrent`, an ``nnx.RNN`` (a scan over the steps from a zero state) that
returns every step or the last one. Cells: ``nnx.SimpleCell`` and ``nnx.LSTMCell`` compute Keras'
formulas (one bias per gate); ``nnx.GRUCell`` does not (its candidate ``tanh(W_in x + b_in +
r·(W_hn h))`` has no recurrent bias ``b_hn``, and there is no reset-before form), so gru uses
:class:`KerasGRUCell`, a small NNX cell with Keras' formula for both ``reset_after`` values and
``nnx.GRUCell``'s own default initialisers in the native policy.
"""
from __future__ import annotations

import inspect
from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
from flax import nnx


def _identity(x):
    return x


def function(act, native: bool) -> Callable:
    """A spec activation as a jax function (native: jax.nn's default slope / alpha)."""
    if act.name == "linear":
        return _identity
    if act.name == "leaky_relu":
        return jax.nn.leaky_relu if native else partial(jax.nn.leaky_relu, negative_slope=act.param("negative_slope"))
    if act.name == "elu":
        return jax.nn.elu if native else partial(jax.nn.elu, alpha=act.param("alpha"))
    if act.name == "softmax":
        return partial(jax.nn.softmax, axis=-1)
    return {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}[act.name]


_GRU_DEFAULTS = inspect.signature(nnx.GRUCell.__init__).parameters


class KerasGRUCell(nnx.RNNCellBase):
    """A GRU cell with Keras' formula and canonical arrays (``kernel``, ``recurrent_kernel``, ``bias``)."""

    def __init__(self, in_features: int, hidden_features: int, *, reset_after: bool, gate_fn: Callable,
                 activation_fn: Callable, rngs: nnx.Rngs) -> None:
        self.hidden_features, self.reset_after = hidden_features, reset_after
        self.gate_fn, self.activation_fn = gate_fn, activation_fn
        n = 3 * hidden_features
        kernel_init = _GRU_DEFAULTS["kernel_init"].default
        recurrent_init = _GRU_DEFAULTS["recurrent_kernel_init"].default
        self.kernel = nnx.Param(kernel_init(rngs.params(), (in_features, n), jnp.float32))
        self.recurrent_kernel = nnx.Param(recurrent_init(rngs.params(), (hidden_features, n), jnp.float32))
        self.bias = nnx.Param(jnp.zeros((2, n) if reset_after else (n,), jnp.float32))

    def __call__(self, h, x):
        bias, u = self.bias[...], self.recurrent_kernel[...]
        xz, xr, xh = jnp.split(x @ self.kernel[...] + (bias[0] if self.reset_after else bias), 3, axis=-1)
        if self.reset_after:
            hz, hr, hh = jnp.split(h @ u + bias[1], 3, axis=-1)
            z, r = self.gate_fn(xz + hz), self.gate_fn(xr + hr)
            n = self.activation_fn(xh + r * hh)
        else:
            uz, ur, uh = jnp.split(u, 3, axis=-1)
            z, r = self.gate_fn(xz + h @ uz), self.gate_fn(xr + h @ ur)
            n = self.activation_fn(xh + (r * h) @ uh)
        new = z * h + (1 - z) * n
        return new, new

    def initialize_carry(self, input_shape, rngs=None, carry_init=None):
        return jnp.zeros((*input_shape[:-1], self.hidden_features), jnp.float32)

    @property
    def num_feature_axes(self) -> int:
        return 1


class Recurrent(nnx.RNN):
    """``nnx.RNN`` over ``cell`` from a zero state (no carry RNG); the last step unless ``return_sequences``."""

    def __init__(self, cell: nnx.RNNCellBase, type_name: str, return_sequences: bool) -> None:
        super().__init__(cell, rngs=False)
        self.type_name, self.return_sequences = type_name, return_sequences

    def __call__(self, x):
        h = jnp.zeros((x.shape[0], self.cell.hidden_features), x.dtype)
        y = super().__call__(x, initial_carry=(h, h) if isinstance(self.cell, nnx.LSTMCell) else h)
        return y if self.return_sequences else y[:, -1]


def _rnn(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    act = function(lay.activation, adapter.native)
    features, units = input_shape[-1], lay.units
    if lay.type == "simple_rnn":
        cell = nnx.SimpleCell(features, units, activation_fn=act, rngs=rngs)
    else:
        gate = function(lay.gate, adapter.native)
        if lay.type == "lstm":
            cell = nnx.LSTMCell(features, units, gate_fn=gate, activation_fn=act, rngs=rngs)
        else:
            cell = KerasGRUCell(features, units, reset_after=lay.reset_after, gate_fn=gate, activation_fn=act,
                                rngs=rngs)
    return [Recurrent(cell, lay.type, lay.return_sequences)]


BUILDERS: dict[str, Any] = dict.fromkeys(("simple_rnn", "lstm", "gru"), _rnn)
WEIGHTED: dict[Any, Any] = {Recurrent: lambda lay: lay.type_name}


def _describe(fn: Any) -> str:
    """An initialiser or activation by name; jax's variance-scaling initialisers with their settings."""
    name = getattr(fn, "__qualname__", None) or repr(fn)
    if name.startswith("variance_scaling."):
        v = inspect.getclosurevars(fn).nonlocals
        return f"variance_scaling(scale={v.get('scale')}, {v.get('mode')}, {v.get('distribution')})"
    return name.split(".<locals>")[0]


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Flax's defaults for the recurrent cells, read from their signatures."""
    out: dict[str, Any] = {}
    for type_name, cell in (("simple_rnn", nnx.SimpleCell), ("lstm", nnx.LSTMCell), ("gru", nnx.GRUCell)):
        params = inspect.signature(cell.__init__).parameters
        for key, name in (("kernel_initializer", "kernel_init"), ("recurrent_initializer", "recurrent_kernel_init"),
                          ("bias_initializer", "bias_init"), ("activation", "activation_fn"),
                          ("recurrent_activation", "gate_fn")):
            if name in params:
                out[f"{type_name}_{key}"] = _describe(params[name].default)
    out["simple_rnn_biases"] = out["lstm_biases"] = "one bias per gate"
    out["lstm_unit_forget_bias"] = False  # no such option: the forget-gate bias starts at bias_init like the others
    out["gru_reset_after"] = ("nnx.GRUCell: r·(W_hn h), no recurrent candidate bias; frameworkbench builds "
                              "KerasGRUCell (Keras' formula) instead")
    out["gru_biases"] = "nnx.GRUCell: one input bias per gate, none on the recurrent side"
    return out
