"""Builders of batch_norm and dropout for Flax NNX (see ``frameworkbench.layers``); channels-last arrays.

batch_norm: ``nnx.BatchNorm`` (axis -1; its momentum has Keras' meaning, running = momentum·running +
(1−momentum)·batch, with the biased batch variance). Aligned: the spec's momentum and epsilon and
``use_fast_variance=False`` (the variance as the mean of squared deviations, as tf.nn.moments, rather
than E[x²]−E[x]²). Native: its defaults (momentum 0.99, epsilon 1e-5, fast variance). dropout:
aligned, :class:`MaskedDropout` applies the run's mask bank (:class:`MaskBank`, not trained) with an
:class:`MaskStep` counter; native ``nnx.Dropout`` (its ``dropout`` random stream). The adapter switches
both between training (``model.train()``) and inference (``model.eval()``), which set their
``use_running_average`` / ``deterministic`` attributes.
"""
from __future__ import annotations

import inspect
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx


class MaskBank(nnx.Variable):
    """A dropout layer's mask bank (uint8 {0, 1}, ``(n, batch_size, *input_shape)``): state, never trained."""


class MaskStep(nnx.Variable):
    """The training steps a dropout layer has taken (int32 scalar)."""


class MaskedDropout(nnx.Module):
    """Dropout with the run's masks: training step ``k`` multiplies by ``bank[k % n][:rows] / (1 - rate)``;
    ``deterministic`` (``model.eval()``) is the identity."""

    def __init__(self, rate: float, bank: np.ndarray) -> None:
        self.rate = float(rate)
        self.bank = MaskBank(jnp.asarray(bank))
        self.step = MaskStep(jnp.zeros((), jnp.int32))
        self.deterministic = False

    def __call__(self, x):
        if self.deterministic:
            return x
        bank, step = self.bank.get_value(), self.step.get_value()
        mask = bank[step % bank.shape[0]][:x.shape[0]]
        self.step.set_value(step + 1)
        return x * mask.astype(x.dtype) / (1.0 - self.rate)


def _batch_norm(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    if adapter.native:
        return [nnx.BatchNorm(input_shape[-1], rngs=rngs)]
    return [nnx.BatchNorm(input_shape[-1], momentum=lay.momentum, epsilon=lay.epsilon, use_fast_variance=False,
                          rngs=rngs)]


def _dropout(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    if adapter.native:
        return [nnx.Dropout(lay.rate, rngs=rngs)]
    return [MaskedDropout(lay.rate, adapter.mask_bank())]


BUILDERS: dict[str, Any] = {"batch_norm": _batch_norm, "dropout": _dropout}
WEIGHTED: dict[Any, Any] = {nnx.BatchNorm: lambda lay: "batch_norm"}


def running_variance() -> str:
    """Which batch variance ``nnx.BatchNorm`` moves its running variance with, measured: momentum 0
    makes it the last batch's variance."""
    x = np.array([[0.0], [1.0], [2.0], [5.0]], np.float32)
    bn = nnx.BatchNorm(1, momentum=0.0, rngs=nnx.Rngs(0))
    bn(jnp.asarray(x))
    got = float(bn.var.get_value()[0])
    return ("unbiased (n/(n−1))" if abs(got - x.var(ddof=1)) < 1e-5 else
            "biased (1/n)" if abs(got - x.var()) < 1e-5 else f"other ({got:g})")


def kept_scale() -> float:
    """What ``nnx.Dropout(0.5)`` multiplies a kept value by in training, measured (2: inverted dropout)."""
    return float(nnx.Dropout(0.5, rngs=nnx.Rngs(0))(jnp.ones(64)).max())


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Flax's own BatchNorm and Dropout defaults, read from Flax, and what the model uses."""
    sig = inspect.signature(nnx.BatchNorm.__init__).parameters
    layers = getattr(model, "layers", [])
    bns = [lay for lay in layers if isinstance(lay, nnx.BatchNorm)]
    drops = [lay for lay in layers if isinstance(lay, (nnx.Dropout, MaskedDropout))]
    used = None
    if bns:
        bn = bns[0]
        used = (f"momentum {bn.momentum:g} (weight of the old value), epsilon {bn.epsilon:g}, "
                f"use_fast_variance={bn.use_fast_variance}")
    return {
        "batch_norm_momentum": sig["momentum"].default,
        "batch_norm_momentum_form": "weight of the old value: running = momentum·running + (1−momentum)·batch",
        "batch_norm_epsilon": sig["epsilon"].default,
        "batch_norm_running_variance": running_variance(),
        "batch_norm_use_fast_variance": sig["use_fast_variance"].default,
        "batch_norm_in_model": used,
        "dropout_kept_scale": kept_scale(),
        "dropout_in_model": (None if not drops else
                             "frameworkbench's masks from the training seed (x·mask/(1−rate))"
                             if isinstance(drops[0], MaskedDropout) else
                             f"nnx.Dropout(rate={drops[0].rate:g}): its 'dropout' random stream"),
    }
