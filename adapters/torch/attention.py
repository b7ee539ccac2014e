"""Builders of embedding, self_attention and layer_norm for the torch family (see ``frameworkbench.layers``).

Tensors stay ``(batch, steps, features)`` (Keras' layout, ``batch_first=True``). ``embedding`` reads
token ids as ``long`` (ids that arrive as floats are cast). ``self_attention`` is torch's own
``nn.MultiheadAttention`` (packed ``in_proj_weight``, ``out_proj``) called as self-attention; it adds
one zero-element parameter, ``heads`` of shape (num_heads, 0), because torch's packed arrays do not
record how the units split into heads and the canonical (Keras) layout needs it (it adds no value,
no parameter count and no computation beyond a sum of nothing). ``layer_norm`` is ``nn.LayerNorm``
with the spec's epsilon (aligned) or torch's own (native).
"""
from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn


class Embedding(nn.Embedding):
    """``nn.Embedding`` on token ids of any dtype (the model's input may arrive as floats)."""

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return super().forward(ids.long())


class SelfAttention(nn.MultiheadAttention):
    """``nn.MultiheadAttention`` as self-attention (query = key = value = the input), no mask, no dropout."""

    def __init__(self, width: int, num_heads: int, bias: bool) -> None:
        super().__init__(width, num_heads, bias=bias, batch_first=True)
        self.heads = nn.Parameter(torch.zeros(num_heads, 0))  # the head split, for the canonical layout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x, x, x, need_weights=False)[0]
        return out + self.heads.sum()  # in the graph, so its (empty) gradient exists like every parameter's


def _embedding(adapter: Any, lay, input_shape) -> list[nn.Module]:
    return [Embedding(lay.input_dim, lay.output_dim)]


def _self_attention(adapter: Any, lay, input_shape) -> list[nn.Module]:
    return [SelfAttention(input_shape[-1], lay.num_heads, lay.use_bias)]


def _layer_norm(adapter: Any, lay, input_shape) -> list[nn.Module]:
    eps = {} if adapter.policy == "native" else {"eps": lay.epsilon}
    return [nn.LayerNorm(input_shape[-1], **eps)]


BUILDERS: dict[str, Any] = {"embedding": _embedding, "self_attention": _self_attention, "layer_norm": _layer_norm}
WEIGHTED: dict[Any, Any] = {Embedding: "embedding", SelfAttention: "self_attention", nn.LayerNorm: "layer_norm"}


def _source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """torch's defaults for these layer types, read from torch (initialisers from the reset methods' source)."""
    mha = _source(nn.MultiheadAttention._reset_parameters)
    linear = _source(nn.Linear.reset_parameters)
    norms = [m.eps for m in model.modules() if isinstance(m, nn.LayerNorm)]
    return {
        "embedding_initializer": ("normal(0, 1) (nn.Embedding: init.normal_)"
                                  if "init.normal_(self.weight)" in _source(nn.Embedding.reset_parameters)
                                  else "see nn.Embedding.reset_parameters"),
        "self_attention_kernel_initializer": (
            ("in_proj_weight: xavier_uniform_ over the packed (3·D, D) matrix, limit sqrt(6/(4·D)); "
             if "xavier_uniform_(self.in_proj_weight)" in mha else "in_proj_weight: see _reset_parameters; ")
            + ("out_proj.weight: nn.Linear's kaiming_uniform_(a=sqrt(5)) → U(±1/sqrt(D))"
               if "kaiming_uniform_" in linear else "out_proj.weight: nn.Linear.reset_parameters")),
        "self_attention_bias_initializer": ("zeros (in_proj_bias, out_proj.bias)"
                                            if "constant_(self.in_proj_bias, 0.0)" in mha else "see _reset_parameters"),
        "layer_norm_epsilon": inspect.signature(nn.LayerNorm).parameters["eps"].default,
        "layer_norm_epsilon_in_model": norms or None,
    }
