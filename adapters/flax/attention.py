"""Builders of embedding, self_attention and layer_norm for the Flax family (see ``frameworkbench.layers``).

``embedding`` is ``nnx.Embed`` reading ids of any dtype (cast to int32; ``nnx.Embed`` itself refuses
floats), ``self_attention`` Flax's own ``nnx.MultiHeadAttention`` called with one input (self-attention;
``decode=False``, no dropout), whose kernels have Keras' layout, and ``layer_norm`` ``nnx.LayerNorm``:
aligned with the spec's epsilon and the two-pass variance (``use_fast_variance=False``), native with
Flax's own defaults (epsilon 1e-6, E[x²] - E[x]²).
"""
from __future__ import annotations

import inspect
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx


class Embed(nnx.Embed):
    """``nnx.Embed`` on token ids of any dtype (the model's input may arrive as floats)."""

    def __call__(self, ids):
        return super().__call__(jnp.asarray(ids).astype(jnp.int32))


def _embedding(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    return [Embed(lay.input_dim, lay.output_dim, rngs=rngs)]


def _self_attention(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    d = input_shape[-1]
    return [nnx.MultiHeadAttention(num_heads=lay.num_heads, in_features=d, qkv_features=lay.num_heads * lay.key_dim,
                                   out_features=d, use_bias=lay.use_bias, decode=False, deterministic=True,
                                   rngs=rngs)]


def _layer_norm(adapter: Any, lay, input_shape, rngs: nnx.Rngs) -> list:
    kw = {} if adapter.native else {"epsilon": lay.epsilon, "use_fast_variance": False}
    return [nnx.LayerNorm(input_shape[-1], rngs=rngs, **kw)]


BUILDERS: dict[str, Any] = {"embedding": _embedding, "self_attention": _self_attention, "layer_norm": _layer_norm}
WEIGHTED: dict[Any, Any] = {nnx.Embed: lambda lay: "embedding", nnx.MultiHeadAttention: lambda lay: "self_attention",
                            nnx.LayerNorm: lambda lay: "layer_norm"}


def _measured(init) -> str:
    """A Flax initialiser's draw for a (1000, 16) array: its standard deviation and the fan that gives it."""
    import jax

    std = float(np.std(np.asarray(init(jax.random.key(0), (1000, 16), jnp.float32))))
    return f"std {std:.4g} on a (1000, 16) array, variance 1/{1 / std ** 2:.0f}"


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Flax's defaults for these layer types, read from flax (signature defaults, initialisers measured)."""
    embed = inspect.signature(nnx.Embed.__init__).parameters
    mha = inspect.signature(nnx.MultiHeadAttention.__init__).parameters
    norm = inspect.signature(nnx.LayerNorm.__init__).parameters
    in_model = [float(lay.epsilon) for lay in getattr(model, "layers", []) if isinstance(lay, nnx.LayerNorm)]
    return {
        "embedding_initializer": f"nnx.Embed default: {_measured(embed['embedding_init'].default)}",
        "self_attention_kernel_initializer": f"nnx.MultiHeadAttention default (kernels flattened to "
                                             f"(D, heads·head_dim)): {_measured(mha['kernel_init'].default)}",
        "self_attention_bias_initializer": getattr(mha["bias_init"].default, "__name__", str(mha["bias_init"].default)),
        "layer_norm_epsilon": norm["epsilon"].default,
        "layer_norm_use_fast_variance": norm["use_fast_variance"].default,
        "layer_norm_epsilon_in_model": in_model or None,
    }
