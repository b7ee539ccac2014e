"""``self_attention``: multi-head self-attention over a sequence ``[T, D]`` (query = key = value =
the input), projected back to the width ``D``; no mask, no dropout. Keras' ``MultiHeadAttention``:

    q, k, v = x·Wq + bq, x·Wk + bk, x·Wv + bv         (per head: (T, key_dim))
    a = softmax(q·kᵀ / sqrt(key_dim)) over the keys;  y = Σ_heads (a·v)·Wo + bo

Canonical weights are Keras' (and Flax NNX ``MultiHeadAttention``'s): query/key/value kernels
``(D, num_heads, key_dim)``, biases ``(num_heads, key_dim)``, output kernel ``(num_heads, key_dim,
D)``, output bias ``(D,)``. torch's ``nn.MultiheadAttention`` packs the three input projections
in ``in_proj_weight`` ``(3·D, D)`` (rows q, k, v; row ``h·key_dim + j`` is head h's j-th unit) and
``in_proj_bias``, and holds ``out_proj.weight`` ``(D, D)`` / ``out_proj.bias``; its heads have
width ``D / num_heads``, so this layer requires ``key_dim · num_heads == D`` (a spec with another
key_dim fails validation, naming the fix). The packed arrays do not record the head split, so the
torch family adds ``heads``, a zero-element array of shape (num_heads, 0) (a parameter of the torch
module). Shared initial weights are Keras 3's defaults: glorot-uniform kernels with the fans of
``EinsumDense`` (its input and output axes: fan_in = D, fan_out = num_heads·key_dim for q/k/v, the
reverse for the output kernel; tf_keras uses the convolution rule, see the defaults audit), zero biases.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import FLAX, KERAS, TORCH, ShapeError, arrays_of, check_family, size
from .dense import FIELDS as DENSE_FIELDS

TYPE = "self_attention"
ACTIVATION = None
PROJECTIONS = ("query", "key", "value")
FAMILY_NAMES = {KERAS: {"query": "query", "key": "key", "value": "value", "output": "attention_output"},
                FLAX: {"query": "query", "key": "key", "value": "value", "output": "out"}}
FIELDS: dict[str, dict[str, Any]] = {
    "num_heads": {"kind": "integer", "doc": "attention heads; must divide the input width D", "lo": 1,
                  "hi": 1 << 12},
    "key_dim": {"kind": "integer", "doc": "width of each head's query, key and value: D / num_heads "
                                          "(torch's nn.MultiheadAttention allows no other)", "lo": 1, "hi": 1 << 16},
    "use_bias": DENSE_FIELDS["use_bias"],
}

EXAMPLES = (  # (input shape, normalised layer): what tests/test_layers.py checks this module on
    ((3, 4), {"type": TYPE, "num_heads": 2, "key_dim": 2, "use_bias": True}),
    ((3, 4), {"type": TYPE, "num_heads": 1, "key_dim": 4, "use_bias": False}),
    ((2, 4), {"type": TYPE, "num_heads": 4, "key_dim": 1, "use_bias": True}),
)


@dataclass(frozen=True)
class Layer:
    """A validated self-attention layer."""

    type: ClassVar[str] = TYPE
    num_heads: int
    key_dim: int
    use_bias: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"type": TYPE, "num_heads": self.num_heads, "key_dim": self.key_dim, "use_bias": self.use_bias}


@dataclass
class AttentionWeights:
    """A self-attention layer's weights in the canonical (Keras) layout."""

    query_kernel: np.ndarray  # (D, heads, key_dim)
    query_bias: np.ndarray | None  # (heads, key_dim)
    key_kernel: np.ndarray
    key_bias: np.ndarray | None
    value_kernel: np.ndarray
    value_bias: np.ndarray | None
    output_kernel: np.ndarray  # (heads, key_dim, D)
    output_bias: np.ndarray | None  # (D,)


Weights = AttentionWeights


def output_shape(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(input_shape) != 2:
        raise ShapeError(f"self_attention needs a sequence [T, D] (rank 2), got rank {len(input_shape)}; put it "
                         f"after an embedding (input_shape [T]) or on float sequences (input_shape [T, F]), "
                         f"before any flatten or global pooling layer")
    d, h, k = input_shape[-1], int(layer.num_heads), int(layer.key_dim)
    if d % h:
        raise ShapeError(f"self_attention.num_heads {h} does not divide the input width {d}; use a num_heads "
                         f"that divides {d} (e.g. {_divisors(d)}) or change the width before it")
    if h * k != d:
        raise ShapeError(f"self_attention.key_dim {k} with num_heads {h} gives {h * k} units, but torch's "
                         f"nn.MultiheadAttention needs key_dim · num_heads == the input width {d}; use key_dim "
                         f"{d // h}")
    return tuple(input_shape)


def _divisors(n: int) -> str:
    return ", ".join(str(i) for i in range(1, n + 1) if n % i == 0)


def param_count(layer: Layer, input_shape: tuple[int, ...]) -> int:
    d, units = input_shape[-1], int(layer.num_heads) * int(layer.key_dim)
    return 4 * d * units + ((3 * units + d) if layer.use_bias else 0)


def saved_elements(layer: Layer, input_shape: tuple[int, ...]) -> int:
    """q, k, v and the heads' outputs, the attention weights, the input."""
    t, units = input_shape[0], int(layer.num_heads) * int(layer.key_dim)
    return 4 * t * units + int(layer.num_heads) * t * t + size(input_shape)


def init_weights(layer: Layer, input_shape: tuple[int, ...], rng: np.random.Generator) -> AttentionWeights:
    """Glorot-uniform kernels (Keras 3 EinsumDense fans: D and heads·key_dim), zero biases, float32."""
    d, h, k = input_shape[-1], int(layer.num_heads), int(layer.key_dim)
    limit = np.sqrt(6.0 / (d + h * k))

    def kernel(shape):
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    def bias(shape):
        return np.zeros(shape, np.float32) if layer.use_bias else None

    q, k_, v = (kernel((d, h, k)) for _ in PROJECTIONS)
    return AttentionWeights(q, bias((h, k)), k_, bias((h, k)), v, bias((h, k)), kernel((h, k, d)), bias((d,)))


def _project(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    p = np.einsum("btd,dhk->bthk", x, kernel.astype(x.dtype))
    return p if bias is None else p + bias.astype(x.dtype)


def forward(layer: Layer, w: AttentionWeights, x: np.ndarray,
            training: bool = False) -> tuple[np.ndarray, tuple]:
    q, k, v = (_project(x, getattr(w, f"{p}_kernel"), getattr(w, f"{p}_bias")) for p in PROJECTIONS)
    scores = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(layer.key_dim)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    c = np.einsum("bhts,bshk->bthk", a, v)
    y = np.einsum("bthk,hkd->btd", c, w.output_kernel.astype(x.dtype))
    if w.output_bias is not None:
        y = y + w.output_bias.astype(x.dtype)
    return y, (x, q, k, v, a, c)


def backward(layer: Layer, w: AttentionWeights, cache: tuple, grad_y: np.ndarray
             ) -> tuple[np.ndarray, AttentionWeights]:
    x, q, k, v, a, c = cache
    dt = grad_y.dtype
    g_out_kernel = np.einsum("bthk,btd->hkd", c, grad_y)
    gc = np.einsum("btd,hkd->bthk", grad_y, w.output_kernel.astype(dt))
    ga = np.einsum("bthk,bshk->bhts", gc, v)
    gv = np.einsum("bhts,bthk->bshk", a, gc)
    gs = a * (ga - (ga * a).sum(axis=-1, keepdims=True)) / np.sqrt(layer.key_dim)  # softmax, then the scale
    gq = np.einsum("bhts,bshk->bthk", gs, k)
    gk = np.einsum("bhts,bthk->bshk", gs, q)
    grads: dict[str, np.ndarray | None] = {}
    gx = np.zeros_like(x, dtype=dt)
    for name, g in zip(PROJECTIONS, (gq, gk, gv)):
        grads[f"{name}_kernel"] = np.einsum("btd,bthk->dhk", x, g)
        grads[f"{name}_bias"] = g.sum(axis=(0, 1)) if w.query_bias is not None else None
        gx += np.einsum("bthk,dhk->btd", g, getattr(w, f"{name}_kernel").astype(dt))
    grads["output_bias"] = grad_y.sum(axis=(0, 1)) if w.output_bias is not None else None
    return gx, AttentionWeights(output_kernel=g_out_kernel, **grads)


def to_family(w: AttentionWeights, family: str) -> dict[str, np.ndarray]:
    """Keras ``query/kernel`` ... ``attention_output/bias`` and Flax ``query/kernel`` ... ``out/bias``: the
    canonical arrays. torch: ``in_proj_weight`` (3·D, D), ``in_proj_bias`` (3·D,), ``out_proj.weight``
    (D, D), ``out_proj.bias``, and ``heads``, a zero-element array of shape (num_heads, 0): torch's
    packed arrays do not say how the units split into heads, the canonical layout needs it."""
    if check_family(family) != TORCH:
        names = FAMILY_NAMES[family]
        return {f"{names[canon.rsplit('_', 1)[0]]}/{canon.rsplit('_', 1)[1]}": a for canon, a in arrays_of(w).items()}
    d, h = w.query_kernel.shape[:2]
    out = {"in_proj_weight": np.concatenate([getattr(w, f"{p}_kernel").reshape(d, -1).T for p in PROJECTIONS])}
    if w.query_bias is not None:
        out["in_proj_bias"] = np.concatenate([getattr(w, f"{p}_bias").reshape(-1) for p in PROJECTIONS])
    out["out_proj.weight"] = np.ascontiguousarray(w.output_kernel.reshape(-1, w.output_kernel.shape[-1]).T)
    if w.output_bias is not None:
        out["out_proj.bias"] = w.output_bias
    out["heads"] = np.zeros((h, 0), w.query_kernel.dtype)
    return out


def from_family(arrays: dict[str, np.ndarray], family: str) -> AttentionWeights:
    """Inverse of :func:`to_family`."""
    if check_family(family) != TORCH:
        back = {f"{fam}/{part}": f"{canon}_{part}" for canon, fam in FAMILY_NAMES[family].items()
                for part in ("kernel", "bias")}
        canonical = {back[name]: np.asarray(a) for name, a in arrays.items()}
        return AttentionWeights(**{f: canonical.get(f) for f in AttentionWeights.__dataclass_fields__})
    h = np.shape(arrays["heads"])[0]
    packed, out_w = np.asarray(arrays["in_proj_weight"]), np.asarray(arrays["out_proj.weight"])
    d = packed.shape[1]
    kernels = {f"{p}_kernel": np.ascontiguousarray(part.T).reshape(d, h, -1)
               for p, part in zip(PROJECTIONS, np.split(packed, 3))}
    biases = {f"{p}_bias": None for p in PROJECTIONS}
    if arrays.get("in_proj_bias") is not None:
        biases = {f"{p}_bias": part.reshape(h, -1)
                  for p, part in zip(PROJECTIONS, np.split(np.asarray(arrays["in_proj_bias"]), 3))}
    bias = arrays.get("out_proj.bias")
    return AttentionWeights(**kernels, **biases, output_kernel=np.ascontiguousarray(out_w.T).reshape(h, -1, d),
                            output_bias=None if bias is None else np.asarray(bias))
