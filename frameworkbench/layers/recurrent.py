"""``simple_rnn``, ``lstm``, ``gru``: recurrent layers over float sequences ``[steps, features]``.

One implementation for the three cells; :data:`SIMPLE_RNN`, :data:`LSTM` and :data:`GRU` are the
layer-type modules (declared here, registered in :mod:`frameworkbench.layers`). Output: the last
step's state ``[units]``, or every step's ``[steps, units]`` with ``return_sequences``. The
computation is Keras' (``a`` = activation, ``s`` = recurrent_activation, ``x`` one step's input,
``h`` the previous state, zero at the start):

- simple_rnn: ``h' = a(x·K + b + h·U)``;
- lstm (gates i, f, c, o): ``z = x·K + b + h·U``; ``c' = s(z_f)·c + s(z_i)·a(z_c)``; ``h' = s(z_o)·a(c')``;
- gru (gates z, r, h): ``z = s(x·K_z + h·U_z + b_z)``, ``r`` likewise; candidate ``n = a(x·K_h + b_h +
  r·(h·U_h + b'_h))`` with ``reset_after`` (Keras' default, cuDNN's and torch's form: input bias row
  ``b`` and recurrent bias row ``b'``), ``n = a(x·K_h + b_h + (r·h)·U_h)`` without; ``h' = z·h + (1-z)·n``.

Canonical weights are Keras': kernel ``(features, G·units)``, recurrent_kernel ``(units, G·units)``,
bias ``(G·units,)`` (``(2, 3·units)`` for gru with reset_after), G gates in the order above. Shared
initial weights are Keras' defaults: glorot-uniform kernel, orthogonal recurrent kernel (QR of a
normal matrix, sign-corrected), zero bias with the LSTM forget-gate bias at 1 (``unit_forget_bias``).
The families' layouts: torch ``weight_ih_l0`` / ``weight_hh_l0`` (transposed; gru gates reordered to
r, z, n) and two biases ``bias_ih_l0``, ``bias_hh_l0`` (one-bias cells: Keras' bias in ``bias_ih_l0``,
zeros in ``bias_hh_l0``; a ``bias_hh_l0`` left out reads as zero); Flax: ``nnx.LSTMCell``'s per-gate
``cell/ii/kernel`` ... ``cell/ho/bias``, ``nnx.SimpleCell``'s ``cell/dense_i/...``, and for gru the
canonical arrays under ``cell/`` (Flax's GRUCell has no recurrent candidate bias, so the adapter
uses a cell with Keras' formula).
"""
from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations
from ..activations import Activation
from .base import KERAS, TORCH, ShapeError, arrays_of, check_family, size
from .dense import FIELDS as DENSE_FIELDS

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
# recurrent_activation: a parameter-free elementwise function (every framework's gate functions take no parameter)
GATE_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
DEFAULT_ACTIVATION = "tanh"  # Keras' (and torch's) activation of every recurrent layer

_UNITS = DENSE_FIELDS["units"]  # the state size: output features per step
_SEQUENCES = {"kind": "boolean", "doc": "output every step's state `[steps, units]` instead of the last one's "
                                        "`[units]`", "default": False}
_GATE = {"kind": "choice", "doc": "activation of the gates (Keras' `recurrent_activation`)", "default": "sigmoid",
         "choices": GATE_ACTIVATIONS, "what": "recurrent activation"}
_RESET_AFTER = {"kind": "boolean", "doc": "apply the reset gate after the recurrent matmul (Keras' default, "
                                          "cuDNN's and torch's form; two bias rows)", "default": True}


class RecurrentLayer:
    """What the three typed layers share (their fields are the spec's, declared by each below)."""

    type: ClassVar[str] = ""

    @property
    def gate(self) -> Activation:
        """The gates' activation (lstm and gru; simple_rnn has no gates)."""
        return Activation(getattr(self, "recurrent_activation"))

    def to_dict(self) -> dict[str, Any]:
        out = {"type": self.type, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}
        return {**out, "activation": self.activation.to_dict()}


@dataclass(frozen=True)
class SimpleRNNLayer(RecurrentLayer):
    """A validated simple_rnn layer."""

    type: ClassVar[str] = "simple_rnn"
    units: int
    activation: Activation
    return_sequences: bool = False


@dataclass(frozen=True)
class LSTMLayer(RecurrentLayer):
    """A validated lstm layer."""

    type: ClassVar[str] = "lstm"
    units: int
    activation: Activation
    return_sequences: bool = False
    recurrent_activation: str = "sigmoid"


@dataclass(frozen=True)
class GRULayer(RecurrentLayer):
    """A validated gru layer."""

    type: ClassVar[str] = "gru"
    units: int
    activation: Activation
    return_sequences: bool = False
    recurrent_activation: str = "sigmoid"
    reset_after: bool = True


@dataclass
class RecurrentWeights:
    """A recurrent layer's weights in the canonical (Keras) layout."""

    kernel: np.ndarray  # (features, G·units)
    recurrent_kernel: np.ndarray  # (units, G·units)
    bias: np.ndarray  # (G·units,); gru with reset_after: (2, 3·units), rows input and recurrent bias


def output_shape(layer: RecurrentLayer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(input_shape) != 2:
        raise ShapeError(f"{layer.type} needs a sequence input of rank 2 [steps, features] per sample, got rank "
                         f"{len(input_shape)}; give input_shape as [T, F] (float sequences: data.sequence_length "
                         f"with n_features, or data.reshape: [8, 8]) and put {layer.type} before any flatten, "
                         "global pool or dense layer (a recurrent layer before it needs return_sequences: true)")
    steps, units = input_shape[0], int(layer.units)
    return (steps, units) if layer.return_sequences else (units,)


def _bias_shape(layer: RecurrentLayer) -> tuple[int, ...]:
    n = GATES[layer.type] * int(layer.units)
    return (2, n) if layer.type == "gru" and layer.reset_after else (n,)


def param_count(layer: RecurrentLayer, input_shape: tuple[int, ...]) -> int:
    n = GATES[layer.type] * int(layer.units)
    return (input_shape[-1] + int(layer.units)) * n + math.prod(_bias_shape(layer))


def saved_elements(layer: RecurrentLayer, input_shape: tuple[int, ...]) -> int:
    """The input, every step's gate pre-activations and the states backward through time needs."""
    steps, units = input_shape[0], int(layer.units)
    return size(input_shape) + steps * (GATES[layer.type] + 3) * units


def orthogonal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Keras' Orthogonal initializer (gain 1): QR of a normal matrix, signs fixed by R's diagonal."""
    rows, cols = shape
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return q.T if rows < cols else q


def init_weights(layer: RecurrentLayer, input_shape: tuple[int, ...], rng: np.random.Generator
                 ) -> RecurrentWeights:
    """Glorot-uniform kernel, orthogonal recurrent kernel, zero bias (LSTM forget gate: 1), float32."""
    features, units = input_shape[-1], int(layer.units)
    n = GATES[layer.type] * units
    limit = np.sqrt(6.0 / (features + n))
    kernel = rng.uniform(-limit, limit, size=(features, n)).astype(np.float32)
    recurrent = orthogonal(rng, (units, n)).astype(np.float32)
    bias = np.zeros(_bias_shape(layer), np.float32)
    if layer.type == "lstm":
        bias[units:2 * units] = 1.0  # Keras' unit_forget_bias
    return RecurrentWeights(kernel, recurrent, bias)


# ----------------------------------------------------------------------------- reference (float64: BPTT)
def _split(a: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(a, parts, axis=-1)


def _step(layer: RecurrentLayer, xz: np.ndarray, h: np.ndarray, c: np.ndarray | None, u: np.ndarray,
          b_rec: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, tuple]:
    """One step from the input projection ``xz`` (bias added): the new state (h, c) and what backward needs."""
    act = layer.activation
    if layer.type == "simple_rnn":
        z = xz + h @ u
        return activations.forward(act, z), None, (h, z)
    gate = layer.gate
    if layer.type == "lstm":
        z = xz + h @ u
        zi, zf, zc, zo = _split(z, 4)
        i, f, o = (activations.forward(gate, v) for v in (zi, zf, zo))
        g = activations.forward(act, zc)
        c_new = f * c + i * g
        return o * activations.forward(act, c_new), c_new, (h, c, z, c_new)
    xs = _split(xz, 3)
    if layer.reset_after:
        hz = h @ u + b_rec
        hs = _split(hz, 3)
        pz, pr = xs[0] + hs[0], xs[1] + hs[1]
        r = activations.forward(gate, pr)
        ph = xs[2] + r * hs[2]
    else:
        uz, ur, uh = _split(u, 3)
        pz, pr = xs[0] + h @ uz, xs[1] + h @ ur
        r = activations.forward(gate, pr)
        ph = xs[2] + (r * h) @ uh
        hz = None
    zg = activations.forward(gate, pz)
    n = activations.forward(act, ph)
    return zg * h + (1 - zg) * n, None, (h, hz, pz, pr, ph, zg, r, n)


def forward(layer: RecurrentLayer, w: RecurrentWeights, x: np.ndarray, training: bool = False
            ) -> tuple[np.ndarray, tuple]:
    dt = x.dtype
    kernel, u, bias = (a.astype(dt) for a in (w.kernel, w.recurrent_kernel, w.bias))
    b_in, b_rec = (bias[0], bias[1]) if bias.ndim == 2 else (bias, None)
    xz = x @ kernel + b_in  # (batch, steps, G·units): every step's input projection at once
    units = u.shape[0]
    h = np.zeros((x.shape[0], units), dt)
    c = np.zeros_like(h) if layer.type == "lstm" else None
    hs, saved = [], []
    for t in range(x.shape[1]):
        h, c, keep = _step(layer, xz[:, t], h, c, u, b_rec)
        hs.append(h)
        saved.append(keep)
    y = np.stack(hs, axis=1) if layer.return_sequences else h
    return y, (x, saved)


def _step_back(layer: RecurrentLayer, keep: tuple, dh: np.ndarray, dc: np.ndarray | None, u: np.ndarray,
               grads: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One step backward: (d input projection, d previous h, d previous c); adds to ``grads``' U and b_rec."""
    act, vjp = layer.activation, activations.vjp
    if layer.type == "simple_rnn":
        h, z = keep
        dz = vjp(act, z, dh)
        grads["u"] += h.T @ dz
        return dz, dz @ u.T, None
    gate = layer.gate
    if layer.type == "lstm":
        h, c, z, c_new = keep
        zi, zf, zc, zo = _split(z, 4)
        i, f, o = (activations.forward(gate, v) for v in (zi, zf, zo))
        g = activations.forward(act, zc)
        dc = dc + vjp(act, c_new, dh * o)
        dz = np.concatenate([vjp(gate, zi, dc * g), vjp(gate, zf, dc * c), vjp(act, zc, dc * i),
                             vjp(gate, zo, dh * activations.forward(act, c_new))], axis=-1)
        grads["u"] += h.T @ dz
        return dz, dz @ u.T, dc * f
    h, hz, pz, pr, ph, zg, r, n = keep
    dpz = vjp(gate, pz, dh * (h - n))
    dph = vjp(act, ph, dh * (1 - zg))
    dh_prev = dh * zg
    if layer.reset_after:
        dpr = vjp(gate, pr, dph * _split(hz, 3)[2])
        dhz = np.concatenate([dpz, dpr, dph * r], axis=-1)
        grads["u"] += h.T @ dhz
        grads["b_rec"] += dhz.sum(axis=0)
        return np.concatenate([dpz, dpr, dph], axis=-1), dh_prev + dhz @ u.T, None
    uz, ur, uh = _split(u, 3)
    drh = dph @ uh.T
    dpr = vjp(gate, pr, drh * h)
    grads["u"] += np.concatenate([h.T @ dpz, h.T @ dpr, (r * h).T @ dph], axis=-1)
    dh_prev = dh_prev + drh * r + dpz @ uz.T + dpr @ ur.T
    return np.concatenate([dpz, dpr, dph], axis=-1), dh_prev, None


def backward(layer: RecurrentLayer, w: RecurrentWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, RecurrentWeights]:
    x, saved = cache
    dt = grad_y.dtype
    kernel, u = w.kernel.astype(dt), w.recurrent_kernel.astype(dt)
    grads = {"u": np.zeros_like(u), "b_rec": np.zeros(u.shape[1], dt)}
    dh = np.zeros((x.shape[0], u.shape[0]), dt)
    dc = np.zeros_like(dh) if layer.type == "lstm" else None
    dxz = np.zeros((*x.shape[:2], u.shape[1]), dt)
    steps = x.shape[1]
    for t in reversed(range(steps)):
        if layer.return_sequences:
            dh = dh + grad_y[:, t]
        elif t == steps - 1:
            dh = dh + grad_y
        dxz[:, t], dh, dc = _step_back(layer, saved[t], dh, dc, u, grads)
    d_in = dxz.sum(axis=(0, 1))
    bias = np.stack([d_in, grads["b_rec"]]) if w.bias.ndim == 2 else d_in
    gk = np.tensordot(x, dxz, axes=([0, 1], [0, 1]))
    return dxz @ kernel.T, RecurrentWeights(gk, grads["u"], bias)


# ----------------------------------------------------------------------------- family layouts
def _gru_to_torch(a: np.ndarray) -> np.ndarray:
    """Keras' GRU gate order z, r, h on the last axis as torch's r, z, n (and back: the swap is its own inverse)."""
    z, r, h = _split(a, 3)
    return np.concatenate([r, z, h], axis=-1)


# flax: nnx.LSTMCell's per-gate Linear layers (input ones without a bias), in Keras' gate order i, f, c, o
_FLAX_LSTM = (("ii", "hi"), ("if_", "hf"), ("ig", "hg"), ("io", "ho"))


def _to_family(type_name: str, w: RecurrentWeights, family: str) -> dict[str, np.ndarray]:
    check_family(family)
    if family == KERAS:
        return arrays_of(w)
    if family == TORCH:
        k, u, b = w.kernel, w.recurrent_kernel, w.bias
        b_in, b_rec = (b[0], b[1]) if b.ndim == 2 else (b, np.zeros_like(b))
        if type_name == "gru":
            k, u, b_in, b_rec = (_gru_to_torch(a) for a in (k, u, b_in, b_rec))
        out = {"weight_ih_l0": np.ascontiguousarray(k.T), "weight_hh_l0": np.ascontiguousarray(u.T),
               "bias_ih_l0": b_in}
        if not (type_name == "gru" and b.ndim == 1):  # gru without reset_after has no recurrent bias
            out["bias_hh_l0"] = b_rec
        return out
    # flax: the state paths below the adapter's nnx.RNN layer
    if type_name == "lstm":
        out = {}
        for (i, h), k, u, b in zip(_FLAX_LSTM, _split(w.kernel, 4), _split(w.recurrent_kernel, 4),
                                   _split(w.bias, 4)):
            out.update({f"cell/{i}/kernel": k, f"cell/{h}/kernel": u, f"cell/{h}/bias": b})
        return out
    if type_name == "simple_rnn":
        return {"cell/dense_i/kernel": w.kernel, "cell/dense_i/bias": w.bias,
                "cell/dense_h/kernel": w.recurrent_kernel}
    return {f"cell/{name}": a for name, a in arrays_of(w).items()}


def _from_family(type_name: str, arrays: dict[str, np.ndarray], family: str) -> RecurrentWeights:
    check_family(family)
    a = {k: np.asarray(v) for k, v in arrays.items()}
    if family == KERAS:
        return RecurrentWeights(a["kernel"], a["recurrent_kernel"], a["bias"])
    if family == TORCH:
        k, u, b_in = a["weight_ih_l0"].T, a["weight_hh_l0"].T, a["bias_ih_l0"]
        b_rec = a.get("bias_hh_l0")
        if type_name == "gru":
            k, u, b_in = (_gru_to_torch(v) for v in (k, u, b_in))
            bias = b_in if b_rec is None else np.stack([b_in, _gru_to_torch(b_rec)])
        else:  # one bias: the sum (a bias_hh_l0 held at zero, or left out of gradients, adds nothing)
            bias = b_in if b_rec is None else b_in + b_rec
        return RecurrentWeights(np.ascontiguousarray(k), np.ascontiguousarray(u), bias)
    # flax
    if type_name == "lstm":
        inputs, recurrent = [i for i, _ in _FLAX_LSTM], [h for _, h in _FLAX_LSTM]

        def gates(names: list[str], what: str) -> np.ndarray:
            return np.concatenate([a[f"cell/{name}/{what}"] for name in names], axis=-1)

        return RecurrentWeights(gates(inputs, "kernel"), gates(recurrent, "kernel"), gates(recurrent, "bias"))
    if type_name == "simple_rnn":
        return RecurrentWeights(a["cell/dense_i/kernel"], a["cell/dense_h/kernel"], a["cell/dense_i/bias"])
    return RecurrentWeights(a["cell/kernel"], a["cell/recurrent_kernel"], a["cell/bias"])


# ----------------------------------------------------------------------------- the three layer-type modules
def _declare(layer: type, fields: dict, examples: tuple) -> types.ModuleType:
    """The layer-type module of one recurrent cell (the protocol of :mod:`.base`)."""
    type_name = layer.type
    mod = types.ModuleType(f"{__name__}.{type_name}", f"``{type_name}``: see :mod:`{__name__}`.")
    mod.__dict__.update(TYPE=type_name, Layer=layer, FIELDS=fields, ACTIVATION="optional",
                        DEFAULT_ACTIVATION=DEFAULT_ACTIVATION, EXAMPLES=examples, Weights=RecurrentWeights,
                        GATES=GATES[type_name])
    for fn in (output_shape, param_count, saved_elements, init_weights, forward, backward):
        setattr(mod, fn.__name__, fn)
    mod.to_family = lambda w, family: _to_family(type_name, w, family)
    mod.from_family = lambda arrays, family: _from_family(type_name, arrays, family)
    return mod


def _example(type_name: str, units: int, act: dict, sequences: bool, **extra: Any) -> dict:
    return {"type": type_name, "units": units, "activation": act, "return_sequences": sequences, **extra}


_TANH, _SIG = {"name": "tanh"}, "sigmoid"
SIMPLE_RNN = _declare(SimpleRNNLayer, {"units": _UNITS, "return_sequences": _SEQUENCES}, (
    ((4, 3), _example("simple_rnn", 3, _TANH, False)),
    ((3, 2), _example("simple_rnn", 2, {"name": "elu", "alpha": 0.5}, True)),
))
LSTM = _declare(LSTMLayer, {"units": _UNITS, "return_sequences": _SEQUENCES, "recurrent_activation": _GATE}, (
    ((4, 3), _example("lstm", 2, _TANH, False, recurrent_activation=_SIG)),
    ((3, 2), _example("lstm", 3, _TANH, True, recurrent_activation=_SIG)),
    ((3, 2), _example("lstm", 2, {"name": "leaky_relu", "negative_slope": 0.2}, True, recurrent_activation="tanh")),
))
GRU = _declare(GRULayer, {"units": _UNITS, "return_sequences": _SEQUENCES, "recurrent_activation": _GATE,
                       "reset_after": _RESET_AFTER}, (
    ((4, 3), _example("gru", 2, _TANH, False, recurrent_activation=_SIG, reset_after=True)),
    ((3, 2), _example("gru", 3, _TANH, True, recurrent_activation=_SIG, reset_after=False)),
    ((3, 2), _example("gru", 2, {"name": "elu", "alpha": 0.7}, False, recurrent_activation="tanh",
                      reset_after=True)),
))
MODULES = (SIMPLE_RNN, LSTM, GRU)
