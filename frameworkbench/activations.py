"""Numpy reference math for every supported activation: value and derivative.

These are the ground truth the adapters are checked against. ``derivative``
returns the elementwise derivative dy/dx; for softmax (not elementwise) it
returns the diagonal of the Jacobian, and ``softmax_vjp`` gives the exact
vector-Jacobian product used in backprop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

ACTIVATIONS = ("elu", "leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh")
# Parameters each activation takes, with the project's defaults (the seed
# document's values where it gives one: leaky ReLU slope 0.01).
ACTIVATION_PARAMS: dict[str, dict[str, float]] = {
    "leaky_relu": {"negative_slope": 0.01},
    "elu": {"alpha": 1.0},
}


@dataclass(frozen=True)
class Activation:
    """An activation function of a layer: its name and its parameters (every default explicit)."""

    name: str
    params: Mapping[str, float] = field(default_factory=dict)

    def param(self, key: str) -> float:
        return float(self.params[key])

    def to_dict(self) -> dict[str, Any]:
        """The spec form: ``{"name": ..., <parameter>: ...}``."""
        return {"name": self.name, **self.params}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Activation":
        return cls(d["name"], {k: v for k, v in d.items() if k != "name"})


def forward(act: Activation, x: np.ndarray) -> np.ndarray:
    """Apply the activation to ``x`` (any float dtype, computed in that dtype)."""
    name = act.name
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x >= 0, x, act.param("negative_slope") * x)
    if name == "elu":
        return np.where(x > 0, x, act.param("alpha") * np.expm1(np.minimum(x, 0)))
    if name == "sigmoid":
        # stable for large |x|
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        z = x - x.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"no reference for activation {name!r}")


def derivative(act: Activation, x: np.ndarray) -> np.ndarray:
    """Elementwise derivative at ``x`` (diagonal of the Jacobian for softmax)."""
    name = act.name
    if name == "linear":
        return np.ones_like(x)
    if name == "relu":
        return (x > 0).astype(x.dtype)
    if name == "leaky_relu":
        return np.where(x >= 0, 1.0, act.param("negative_slope")).astype(x.dtype)
    if name == "elu":
        return np.where(x > 0, 1.0, act.param("alpha") * np.exp(np.minimum(x, 0))).astype(x.dtype)
    if name in ("sigmoid", "softmax"):
        y = forward(act, x)
        return y * (1 - y)
    if name == "tanh":
        return 1 - np.tanh(x) ** 2
    raise ValueError(f"no reference derivative for activation {name!r}")


def vjp(act: Activation, x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """Backprop ``grad_out`` (dL/dy) through the activation at ``x``: dL/dx."""
    if act.name == "softmax":
        y = forward(act, x)
        return y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True))
    return grad_out * derivative(act, x)
