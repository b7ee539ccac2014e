"""Convolutions and pooling on channels-last tensors, as the torch family builds them.

Layout choice: torch targets keep activations channels-last between layers, ``(batch, *spatial,
channels)`` as Keras does, so ``flatten`` gives Keras' order and the next dense layer's weights
line up with no permutation. Each convolution / pooling views its input as channels-first
(``movedim``: no copy; torch sees the ``channels_last`` memory format, which its CPU and cuDNN
kernels run natively) and its output back. ``padding: same`` is Keras' (extra padding at the
end): where that is asymmetric, or more than torch's own ``padding=`` allows, the module pads
explicitly with ``F.pad`` (zeros for convolutions, -inf for max pooling; average pooling then
divides by the unpadded count, as Keras does).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from frameworkbench.layers import spatial


def padding_of(lay, input_shape) -> tuple[list[int] | None, int | tuple]:
    """(explicit F.pad amounts or None, the ``padding=`` argument of torch's own layer)."""
    pads = spatial.pads(tuple(input_shape[:-1]), lay.window, lay.steps, lay.padding)
    if all(b == a and b <= k // 2 for (b, a), k in zip(pads, lay.window)):
        return None, tuple(b for b, _ in pads)  # symmetric: torch's own padding is Keras'
    return [n for b, a in reversed(pads) for n in (b, a)], 0  # F.pad order: last axis first


class ChannelsLast(nn.Module):
    """``op`` (a channels-first torch layer) on a channels-last tensor, after an explicit pad if any."""

    def __init__(self, op: nn.Module, pad: list[int] | None = None, value: float = 0.0,
                 divisor: torch.Tensor | None = None) -> None:
        super().__init__()
        self.op, self.pad, self.value = op, pad, value
        self.register_buffer("divisor", divisor)  # average pooling over padding: real values per window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(-1, 1)
        if self.pad is not None:
            x = F.pad(x, self.pad, value=self.value)
        y = self.op(x)
        if self.divisor is not None:
            y = y / self.divisor
        return y.movedim(1, -1)

    def extra_repr(self) -> str:
        return f"explicit_pad={self.pad}" if self.pad is not None else ""


def conv(lay, input_shape) -> ChannelsLast:
    pad, padding = padding_of(lay, input_shape)
    cls = nn.Conv1d if lay.RANK == 1 else nn.Conv2d
    op = cls(input_shape[-1], lay.filters, lay.window, stride=lay.steps, padding=padding, bias=lay.use_bias)
    return ChannelsLast(op, pad)


def pool(lay, input_shape) -> ChannelsLast:
    pad, padding = padding_of(lay, input_shape)
    if lay.KIND == "max":
        op = (nn.MaxPool1d if lay.RANK == 1 else nn.MaxPool2d)(lay.window, stride=lay.steps, padding=padding)
        return ChannelsLast(op, pad, value=-float("inf"))
    cls = nn.AvgPool1d if lay.RANK == 1 else nn.AvgPool2d
    op = cls(lay.window, stride=lay.steps, padding=padding, count_include_pad=False)
    divisor = None
    if pad is not None:  # mean over the padded window times window / real values = Keras' mean of real values
        ones = F.pad(torch.ones(1, 1, *input_shape[:-1]), pad)
        divisor = op(ones)
    return ChannelsLast(op, pad, divisor=divisor)


class GlobalPool(nn.Module):
    """Mean or max over every spatial position of a channels-last tensor."""

    def __init__(self, kind: str, rank: int) -> None:
        super().__init__()
        self.kind, self.dims = kind, tuple(range(1, rank + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dims) if self.kind == "avg" else x.amax(dim=self.dims)

    def extra_repr(self) -> str:
        return f"{self.kind}, dims={self.dims}"


def explicit_pads(model: nn.Module) -> list[str]:
    """Where the model pads explicitly (Keras' asymmetric 'same'), for the defaults audit."""
    return [f"{type(m.op).__name__} F.pad{tuple(m.pad)}" for m in model.modules()
            if isinstance(m, ChannelsLast) and m.pad is not None]
