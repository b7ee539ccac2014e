"""Builders of batch_norm and dropout for PyTorch (see ``frameworkbench.layers``); channels-last tensors.

batch_norm: :class:`BatchNorm`, an ``nn.BatchNorm1d`` on the input viewed as ``(rows, channels)``, so
it normalises over every axis but the last, as Keras. Aligned policy: the spec's epsilon, torch
momentum ``1 - momentum`` (the weight of the new value), and the running variance moved with the
*biased* batch variance as Keras does: the output is ``F.batch_norm`` on batch statistics and the
running statistics are updated by :class:`BatchNorm` itself (torch's own update would use the
unbiased variance). Native: ``nn.BatchNorm1d`` defaults (momentum 0.1, eps 1e-5, unbiased running
variance). dropout: aligned :class:`MaskedDropout` applies the run's mask bank; native ``nn.Dropout``.
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class BatchNorm(nn.BatchNorm1d):
    """Batch normalisation of a channels-last tensor over every axis but the last.

    ``keras_momentum`` set (aligned): running statistics move as Keras moves them,
    ``running = m·running + (1−m)·batch`` with the biased batch variance; None: torch's own update."""

    def __init__(self, channels: int, keras_momentum: float | None = None, **kwargs) -> None:
        super().__init__(channels, **kwargs)
        self.keras_momentum = keras_momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])
        if not (self.training and self.keras_momentum is not None):
            return super().forward(rows).reshape(x.shape)
        y = F.batch_norm(rows, None, None, self.weight, self.bias, True, 0.0, self.eps)
        with torch.no_grad():
            var, mean = torch.var_mean(rows.float(), dim=0, correction=0)
            m = self.keras_momentum
            self.running_mean.copy_(self.running_mean * m + mean * (1.0 - m))
            self.running_var.copy_(self.running_var * m + var * (1.0 - m))
            self.num_batches_tracked.add_(1)
        return y.reshape(x.shape)


class MaskedDropout(nn.Module):
    """Dropout with the run's masks: training step ``k`` multiplies by ``bank[k % n][:rows] / (1 - rate)``.

    The bank is a non-persistent buffer (moves with the module, never saved); ``step`` a persistent one
    (in ``state_dict``, so a saved and restored state restores the position too)."""

    def __init__(self, rate: float, bank: np.ndarray) -> None:
        super().__init__()
        self.rate = rate
        self.register_buffer("bank", torch.from_numpy(np.ascontiguousarray(bank)), persistent=False)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        mask = self.bank[self.step % self.bank.shape[0]][:x.shape[0]]
        with torch.no_grad():
            self.step.add_(1)
        return x * mask.to(x.dtype) / (1.0 - self.rate)

    def extra_repr(self) -> str:
        return f"rate={self.rate}, bank={tuple(self.bank.shape)}"


def _batch_norm(adapter: Any, lay, input_shape) -> list[nn.Module]:
    if adapter.policy == "native":
        return [BatchNorm(input_shape[-1])]
    return [BatchNorm(input_shape[-1], keras_momentum=lay.momentum, eps=lay.epsilon, momentum=1.0 - lay.momentum)]


def _dropout(adapter: Any, lay, input_shape) -> list[nn.Module]:
    if adapter.policy == "native":
        return [nn.Dropout(lay.rate)]
    return [MaskedDropout(lay.rate, adapter.mask_bank())]


BUILDERS: dict[str, Any] = {"batch_norm": _batch_norm, "dropout": _dropout}
WEIGHTED: dict[Any, Any] = {BatchNorm: "batch_norm"}


def running_variance() -> str:
    """Which batch variance ``nn.BatchNorm1d`` moves its running variance with, measured: momentum 1
    on a batch of 4 rows makes the running variance that batch's variance."""
    bn = nn.BatchNorm1d(1, momentum=1.0)
    x = torch.tensor([[0.0], [1.0], [2.0], [5.0]])
    bn.train()(x)
    got = float(bn.running_var[0])
    return ("unbiased (n/(n−1), Bessel-corrected)" if abs(got - float(x.var(correction=1))) < 1e-6
            else "biased (1/n)" if abs(got - float(x.var(correction=0))) < 1e-6 else f"other ({got:g})")


def kept_scale() -> float:
    """What ``nn.Dropout(0.5)`` multiplies a kept value by in training, measured (2: inverted dropout)."""
    return float(nn.Dropout(0.5).train()(torch.ones(64)).max())


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """torch's own BatchNorm and Dropout defaults, read from torch, and what the model uses."""
    sig = inspect.signature(nn.BatchNorm1d.__init__).parameters
    bns = [m for m in model.modules() if isinstance(m, BatchNorm)]
    drops = [m for m in model.modules() if isinstance(m, (MaskedDropout, nn.Dropout))]
    used = None
    if bns:
        bn = bns[0]
        used = (f"momentum {bn.momentum:g} (torch's: weight of the new value = Keras' {1 - bn.momentum:g}), "
                f"eps {bn.eps:g}, running variance "
                + ("biased (Keras' update, written out)" if bn.keras_momentum is not None else running_variance()))
    return {
        "batch_norm_momentum": sig["momentum"].default,
        "batch_norm_momentum_form": "weight of the new value: running = (1−momentum)·running + momentum·batch "
                                    "(Keras' momentum = 1 − torch's)",
        "batch_norm_epsilon": sig["eps"].default,
        "batch_norm_running_variance": running_variance(),
        "batch_norm_in_model": used,
        "dropout_kept_scale": kept_scale(),
        "dropout_in_model": (None if not drops else
                             "frameworkbench's masks from the training seed (x·mask/(1−rate))"
                             if isinstance(drops[0], MaskedDropout) else
                             f"nn.Dropout(p={drops[0].p:g}): torch's global generator"),
    }
