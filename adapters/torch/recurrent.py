"""Builders of simple_rnn, lstm and gru for this framework family (see ``frameworkbench.layers``).

torch's own ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``batch_first``), subclassed so the forward
returns the whole sequence or the last step, as the spec's ``return_sequences`` says; their
parameter names stay flat (``weight_ih_l0``, ``bias_hh_l0``, ...). torch has two biases per gate
where Keras' LSTM and SimpleRNN have one: in the aligned policy ``bias_hh_l0`` of those two is a
frozen zero (``requires_grad`` off, left out of the module's ``named_parameters``; not a buffer, which
the adapter restores in place after a training-mode forward while the LSTM's backward still holds it),
so the trainable parameters, their count and each update are Keras'; in the native policy both
biases train, as torch users have them. ``nn.GRU`` computes Keras'
``reset_after`` form only and the fixed activations tanh / sigmoid, ``nn.RNN`` tanh or relu:
other settings are unsupported on torch (the record says why).
"""
from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from .._errors import Unsupported


class _Recurrent:
    """Mixin over a torch recurrent module: batch-first input, the last step unless ``return_sequences``."""

    def _setup(self, return_sequences: bool, one_bias: bool) -> None:
        self.return_sequences = return_sequences
        if one_bias:  # Keras' single bias: bias_hh_l0 a frozen zero, the same name for set_weights
            with torch.no_grad():
                self.bias_hh_l0.zero_()
            self.bias_hh_l0.requires_grad_(False)

    def named_parameters(self, *args, **kwargs):
        """The trained parameters: a frozen zero ``bias_hh_l0`` is left out (no gradient, not a weight to read)."""
        return ((n, p) for n, p in super().named_parameters(*args, **kwargs) if p.requires_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = super().forward(x)
        return y if self.return_sequences else y[:, -1]

    def extra_repr(self) -> str:
        fixed = ", bias_hh_l0 fixed at zero" if not self.bias_hh_l0.requires_grad else ""
        return f"{super().extra_repr()}, return_sequences={self.return_sequences}{fixed}"


class RNN(_Recurrent, nn.RNN):
    pass


class LSTM(_Recurrent, nn.LSTM):
    pass


class GRU(_Recurrent, nn.GRU):
    pass


CLASSES = {"simple_rnn": RNN, "lstm": LSTM, "gru": GRU}


def _unsupported(adapter: Any, lay, what: str) -> Unsupported:
    base = CLASSES[lay.type].__bases__[-1].__name__  # nn.RNN, nn.LSTM, nn.GRU
    return Unsupported(f"unsupported: {lay.type} with {what} on target {adapter.target.name!r}: torch's "
                       f"nn.{base} does not compute it")


def _rnn(adapter: Any, lay, input_shape) -> list[nn.Module]:
    act = lay.activation.name
    kw: dict[str, Any] = {}
    if lay.type == "simple_rnn":
        if act not in ("tanh", "relu"):
            raise _unsupported(adapter, lay, f"activation {act!r} (nn.RNN: tanh or relu)")
        kw["nonlinearity"] = act
    else:
        if act != "tanh" or lay.recurrent_activation != "sigmoid":
            raise _unsupported(adapter, lay, f"activation {act!r} / recurrent_activation "
                                             f"{lay.recurrent_activation!r} (only tanh / sigmoid)")
        if lay.type == "gru" and not lay.reset_after:
            raise _unsupported(adapter, lay, "reset_after: false (nn.GRU applies the reset gate after the "
                                             "recurrent matmul, Keras' reset_after: true)")
    module = CLASSES[lay.type](input_shape[-1], lay.units, batch_first=True, **kw)
    module._setup(lay.return_sequences, one_bias=lay.type != "gru" and adapter.policy == "aligned")
    return [module]


BUILDERS: dict[str, Any] = dict.fromkeys(CLASSES, _rnn)
WEIGHTED: dict[Any, Any] = {cls: type_name for type_name, cls in CLASSES.items()}


def _init_text() -> str:
    """The initialiser torch's recurrent modules really call, read from ``nn.RNNBase.reset_parameters``."""
    try:
        src = inspect.getsource(nn.RNNBase.reset_parameters)
    except (OSError, TypeError):
        return "nn.RNNBase.reset_parameters"
    if "uniform_" in src and "1.0 / math.sqrt(self.hidden_size)" in src:
        return "uniform(±1/sqrt(units)) (every weight and bias)"
    return "see nn.RNNBase.reset_parameters"


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """torch's defaults for the recurrent modules: initialisers, activations, biases, the GRU form."""
    init = _init_text()
    rnn = nn.RNN(1, 1)
    gru_doc = nn.GRU.__doc__ or ""
    aligned = adapter.policy == "aligned"
    out: dict[str, Any] = {}
    for type_name in CLASSES:
        out.update({f"{type_name}_kernel_initializer": init, f"{type_name}_recurrent_initializer": init,
                    f"{type_name}_bias_initializer": init})
        if type_name == "simple_rnn":
            out["simple_rnn_activation"] = rnn.nonlinearity
        else:
            out[f"{type_name}_activation"] = "tanh (fixed)"
            out[f"{type_name}_recurrent_activation"] = "sigmoid (fixed)"
        out[f"{type_name}_biases"] = ("two biases per gate (b_ih, b_hh), both trained" if type_name == "gru"
                                      or not aligned else "two biases per gate (b_ih, b_hh); aligned: b_hh a "
                                      "frozen zero (Keras' one bias)")
    out["lstm_unit_forget_bias"] = False  # no such option: the forget-gate bias is drawn like the others
    # reset_after: torch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), read from nn.GRU's documented formula
    out["gru_reset_after"] = "r_t \\odot (W_{hn} h_{(t-1)}+ b_{hn})" in gru_doc or None
    return out
