"""Builders of simple_rnn, lstm and gru for this framework family (see ``frameworkbench.layers``).

Keras' own ``SimpleRNN`` / ``LSTM`` / ``GRU``: the canonical layout and computation are theirs.
"""
from __future__ import annotations

import inspect
from typing import Any

CLASSES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}  # spec layer type -> Keras layer class
_BY_NAME = {"linear", "relu", "sigmoid", "tanh", "softmax"}  # Keras activation names meaning the spec's function


def _rnn(adapter: Any, lay, input_shape) -> list:
    act = lay.activation
    # leaky_relu / elu: Keras' activation layer with the spec's parameter, called as the cell's function
    kw = {"activation": act.name if act.name in _BY_NAME else adapter.activation_layer(act),
          "return_sequences": lay.return_sequences}
    if lay.type != "simple_rnn":
        kw["recurrent_activation"] = lay.recurrent_activation
    if lay.type == "gru":
        kw["reset_after"] = lay.reset_after
    return [getattr(adapter.keras.layers, CLASSES[lay.type])(lay.units, **kw)]


BUILDERS: dict[str, Any] = dict.fromkeys(CLASSES, _rnn)
WEIGHTED: dict[Any, Any] = {cls: type_name for type_name, cls in CLASSES.items()}


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Keras' defaults for the recurrent layers, read from each class's signature."""
    out: dict[str, Any] = {}
    for type_name, cls in CLASSES.items():
        params = inspect.signature(getattr(adapter.keras.layers, cls).__init__).parameters
        for name in ("kernel_initializer", "recurrent_initializer", "bias_initializer", "activation",
                     "recurrent_activation", "unit_forget_bias", "reset_after", "use_cudnn"):
            if name in params:
                out[f"{type_name}_{name}"] = params[name].default
        reset_after = params["reset_after"].default if "reset_after" in params else False
        out[f"{type_name}_biases"] = ("input and recurrent bias (2 per gate)" if reset_after
                                      else "one bias per gate")
    return out
