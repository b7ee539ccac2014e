"""Shared initial weights: seeded glorot kernels, canonical layout, parameter counts."""
import numpy as np

from frameworkbench import reference, weights
from frameworkbench.spec import load_spec, validate


def test_param_counts_of_seed_specs():
    from conftest import SPECS

    counts = {n: weights.param_count(load_spec(SPECS / f"{n}.yaml"))
              for n in ("seed_tf_keras", "seed_torch_net", "seed_torch_sequential")}
    assert counts == {"seed_tf_keras": 769, "seed_torch_net": 11, "seed_torch_sequential": 241}


def test_glorot_layout_and_determinism(spec_dict, tmp_path):
    s = validate(spec_dict)
    w = weights.initial_weights(s, 5)
    assert [x.kernel.shape for x in w] == [(6, 8), (8, 1)]
    assert all(x.kernel.dtype == np.float32 and not x.bias.any() for x in w)
    limit = np.sqrt(6 / (6 + 8))
    assert np.abs(w[0].kernel).max() <= limit
    again = weights.initial_weights(s, 5)
    assert all(np.array_equal(a.kernel, b.kernel) for a, b in zip(w, again))
    assert not np.array_equal(w[0].kernel, weights.initial_weights(s, 6)[0].kernel)
    weights.save(w, tmp_path / "w.npz")
    assert sorted(np.load(tmp_path / "w.npz").files) == ["bias_0", "bias_1", "class_0", "class_1", "kernel_0", "kernel_1"]
    loaded = weights.load(tmp_path / "w.npz")
    assert all(np.array_equal(a.kernel, b.kernel) and np.array_equal(a.bias, b.bias) for a, b in zip(w, loaded))


def test_no_bias_layers_round_trip(spec_dict):
    spec_dict["layers"][0]["use_bias"] = False
    s = validate(spec_dict)
    assert weights.param_count(s) == 6 * 8 + 8 * 1 + 1
    w = weights.initial_weights(s, 0)
    assert w[0].bias is None and w[1].bias is not None
    assert [a.shape for a in weights.flatten(w)] == [(6, 8), (8, 1), (1,)]


def test_reference_forward_matches_manual(spec_dict):
    s = validate(spec_dict)
    w = weights.initial_weights(s, 0)
    x = np.random.default_rng(0).normal(size=(5, 6))
    h = np.maximum(x @ w[0].kernel + w[0].bias, 0)
    expected = 1 / (1 + np.exp(-(h @ w[1].kernel + w[1].bias)))
    assert np.allclose(reference.forward(s, w, x), expected, atol=1e-12)


def test_save_and_load_keep_every_layer_type(tmp_path):
    """Convolution and dense weights come back of their own class, in layer order (a file the worker reads)."""
    s = validate({"task": "multiclass", "input_shape": [6, 6, 1], "loss": "sparse_categorical_crossentropy",
                  "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "use_bias": False},
                             {"type": "max_pool2d"}, {"type": "flatten"},
                             {"type": "dense", "units": 3, "activation": "softmax"}],
                  "data": {"source": "file", "path": "d.npz", "target": "y"}})
    w = weights.initial_weights(s, 1)
    weights.save(w, tmp_path / "w.npz")
    back = weights.load(tmp_path / "w.npz")
    assert [type(b).__name__ for b in back] == ["ConvWeights", "DenseWeights"]
    assert back[0].kernel.shape == (3, 3, 1, 2) and back[0].bias is None
    assert all(np.array_equal(a, b) for x, y in zip(w, back) for a, b in zip(weights.flatten([x]), weights.flatten([y])))
