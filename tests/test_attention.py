"""embedding, self_attention and layer_norm beyond tests/test_layers.py: torch's packed layout computes the
reference's attention, the shared initial weights follow Keras 3, token ids are checked, and the validator
refuses the bad inputs (exit 2, the layer's index, the shapes and the fix)."""
import dataclasses
import json

import numpy as np
import pytest

from conftest import cli
from frameworkbench import layers
from frameworkbench.layers import attention, embedding, layer_norm
from frameworkbench.spec import SpecError, validate

T, V = 10, 12
TOKENS = {"source": "synthetic", "n_samples": 100, "sequence_length": T, "vocab_size": V, "n_classes": 3}


def _spec(middle: list, input_shape=(T,)) -> dict:
    return {"task": "multiclass", "input_shape": list(input_shape), "loss": "sparse_categorical_crossentropy",
            "layers": [{"type": "embedding", "input_dim": V, "output_dim": 8}, *middle,
                       {"type": "global_avg_pool1d"}, {"type": "dense", "units": 3, "activation": "softmax"}],
            "data": TOKENS}


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("use_bias", [True, False])
def test_torch_packed_layout_computes_the_reference(use_bias):
    """nn.MultiheadAttention's computation, written out in numpy on the torch family's arrays (packed q, k, v
    rows, heads as consecutive slices of the width), gives the reference's output."""
    d, h, t, b = 6, 2, 5, 4
    lay = layers.from_dict({"type": "self_attention", "num_heads": h, "key_dim": d // h, "use_bias": use_bias})
    rng = np.random.default_rng(0)
    w = attention.init_weights(lay, (t, d), rng)
    w = dataclasses.replace(w, **{k: rng.normal(size=a.shape) for k, a in vars(w).items()
                                  if a is not None and k.endswith("bias")})
    arrays = attention.to_family(w, "torch")
    x = rng.normal(size=(b, t, d))
    qkv = x @ arrays["in_proj_weight"].T + arrays.get("in_proj_bias", 0.0)
    q, k, v = (p.reshape(b, t, h, d // h) for p in np.split(qkv, 3, axis=-1))
    heads = np.einsum("bhts,bshk->bthk", _softmax(np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(d // h)), v)
    y = heads.reshape(b, t, d) @ arrays["out_proj.weight"].T + arrays.get("out_proj.bias", 0.0)
    np.testing.assert_allclose(y, attention.forward(lay, w, x)[0], rtol=1e-10, atol=1e-12)
    assert arrays["heads"].shape == (h, 0) and ("in_proj_bias" in arrays) == use_bias


def test_shared_attention_kernels_use_keras3_einsum_fans():
    """Glorot-uniform with EinsumDense's fans (fan_in = D, fan_out = heads·key_dim, Keras 3), not tf_keras'
    convolution rule (fan_in = D·heads, fan_out = D·key_dim), whose limit is several times smaller here."""
    d, h, k = 64, 4, 16
    w = attention.init_weights(layers.from_dict({"type": "self_attention", "num_heads": h, "key_dim": k,
                                                 "use_bias": True}), (T, d), np.random.default_rng(0))
    limit = np.sqrt(6 / (d + h * k))
    assert limit > 2 * np.sqrt(6 / (d * (h + k)))
    for name in ("query_kernel", "key_kernel", "value_kernel", "output_kernel"):
        top = np.abs(getattr(w, name)).max()
        assert 0.99 * limit < top <= limit, name
    assert w.query_kernel.shape == (d, h, k) and w.output_kernel.shape == (h, k, d)
    assert all(not getattr(w, f).any() for f in ("query_bias", "key_bias", "value_bias", "output_bias"))


def test_embedding_ids_and_initial_table():
    lay = layers.from_dict({"type": "embedding", "input_dim": V, "output_dim": 3})
    w = embedding.init_weights(lay, (T,), np.random.default_rng(0))
    assert np.abs(w.embeddings).max() <= embedding.INIT_LIMIT and w.embeddings.dtype == np.float32
    ids = np.array([[0, 3, 3, V - 1]])
    y, _ = embedding.forward(lay, w, ids.astype(np.float64) + 1e-7)  # float ids: rounded back
    np.testing.assert_array_equal(y[0], w.embeddings[ids[0]])
    for bad in (-1, V):
        with pytest.raises(ValueError, match=rf"must lie in \[0, {V}\).*raise input_dim"):
            embedding.forward(lay, w, np.array([[0, bad]]))


def test_layer_norm_uses_the_biased_variance_and_epsilon():
    lay = layers.from_dict({"type": "layer_norm", "epsilon": 0.5})
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    w = layer_norm.init_weights(lay, (3, 4), np.random.default_rng(0))
    y, _ = layer_norm.forward(lay, w, x)
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 0.5)
    np.testing.assert_allclose(y, want, rtol=1e-12)


@pytest.mark.parametrize("middle,input_shape,where,expect", [
    ([{"type": "self_attention", "num_heads": 3, "key_dim": 3}], (T,), "layers[1]",
     ["num_heads 3 does not divide the input width 8", "1, 2, 4, 8", "[10, 8]"]),
    ([{"type": "self_attention", "num_heads": 2, "key_dim": 8}], (T,), "layers[1]",
     ["key_dim 8 with num_heads 2", "use key_dim 4"]),
    ([{"type": "global_avg_pool1d"}, {"type": "self_attention", "num_heads": 2, "key_dim": 4}], (T,), "layers[2]",
     ["needs a sequence [T, D] (rank 2), got rank 1", "input shape [8]"]),
    ([], (T, 2), "input_shape", ["sequence_length 10 (vocab_size 12) have shape [10]"]),
])
def test_bad_inputs_name_the_layer_the_shapes_and_the_fix(middle, input_shape, where, expect):
    with pytest.raises(SpecError) as err:
        validate(_spec(middle, input_shape))
    text = str(err.value)
    assert where in text and all(e in text for e in expect), text


def test_embedding_on_a_sequence_of_features_is_refused():
    spec = _spec([])
    spec.update(input_shape=[T, 4], data={"source": "file", "path": "data.npz", "target": "y"})
    with pytest.raises(SpecError, match=r"layers\[0\]: embedding reads token ids of shape \[T\] \(rank 1\), got "
                                        r"rank 2; make embedding the first layer with input_shape: \[T\]"):
        validate(spec)


def test_cli_exits_2_before_any_worker(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_spec([{"type": "self_attention", "num_heads": 3, "key_dim": 3}])))
    p = cli("validate", str(path))
    assert p.returncode == 2 and "layers[1]" in p.stderr and "does not divide" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
