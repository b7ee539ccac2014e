"""simple_rnn, lstm, gru: what tests/test_layers.py does not check from the modules' declarations alone."""
import numpy as np
import pytest

from frameworkbench import layers
from frameworkbench.spec import SpecError, validate

BASE = {"task": "multiclass", "input_shape": [8, 8], "loss": "sparse_categorical_crossentropy",
        "data": {"source": "sklearn", "name": "digits", "reshape": [8, 8]}}
OUT = {"type": "dense", "units": 10, "activation": "softmax"}


def _layer(**d):
    return layers.from_dict(validate({**BASE, "layers": [d, OUT]}).to_dict()["layers"][0])


def test_defaults_are_keras():
    lstm = validate({**BASE, "layers": [{"type": "lstm", "units": 4}, OUT]}).to_dict()["layers"][0]
    assert lstm == {"type": "lstm", "units": 4, "activation": {"name": "tanh"}, "return_sequences": False,
                    "recurrent_activation": "sigmoid"}
    gru = validate({**BASE, "layers": [{"type": "gru", "units": 4}, OUT]}).to_dict()["layers"][0]
    assert gru["reset_after"] is True and gru["activation"] == {"name": "tanh"}


@pytest.mark.parametrize("type_name,gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_shared_initial_weights_are_keras_defaults(type_name, gates):
    lay, units, features = _layer(type=type_name, units=5), 5, 8
    w = layers.get(type_name).init_weights(lay, (8, features), np.random.default_rng(0))
    limit = np.sqrt(6 / (features + gates * units))
    assert w.kernel.shape == (features, gates * units) and np.abs(w.kernel).max() <= limit
    # orthogonal: the (units, G·units) recurrent kernel has orthonormal rows
    np.testing.assert_allclose(w.recurrent_kernel @ w.recurrent_kernel.T, np.eye(units), atol=1e-6)
    expected = np.zeros((2, 3 * units) if type_name == "gru" else gates * units, np.float32)
    if type_name == "lstm":
        expected[units:2 * units] = 1  # unit_forget_bias
    np.testing.assert_array_equal(w.bias, expected)


def test_torch_gru_layout_reorders_gates_and_splits_biases():
    lay = _layer(type="gru", units=2)
    mod = layers.get("gru")
    w = mod.init_weights(lay, (8, 8), np.random.default_rng(1))
    w.bias = np.random.default_rng(2).normal(size=w.bias.shape)
    t = mod.to_family(w, "torch")
    z, r, h = np.split(w.kernel, 3, axis=1)  # Keras z, r, h -> torch r, z, n, transposed
    np.testing.assert_array_equal(t["weight_ih_l0"], np.concatenate([r, z, h], axis=1).T)
    bz, br, bh = np.split(w.bias[1], 3)
    np.testing.assert_array_equal(t["bias_hh_l0"], np.concatenate([br, bz, bh]))


def test_torch_one_bias_cells_sum_their_biases():
    mod = layers.get("lstm")
    w = mod.init_weights(_layer(type="lstm", units=2), (8, 8), np.random.default_rng(0))
    t = mod.to_family(w, "torch")
    assert not t["bias_hh_l0"].any()
    trained = {**t, "bias_ih_l0": t["bias_ih_l0"] + 1, "bias_hh_l0": t["bias_hh_l0"] + 2}
    np.testing.assert_array_equal(mod.from_family(trained, "torch").bias, w.bias + 3)
    grads = {k: v for k, v in t.items() if k != "bias_hh_l0"}  # a frozen bias_hh_l0 has no gradient
    np.testing.assert_array_equal(mod.from_family(grads, "torch").bias, w.bias)


@pytest.mark.parametrize("before", [[{"type": "flatten"}], [{"type": "lstm", "units": 3}]])
def test_a_recurrent_layer_needs_a_sequence(before):
    with pytest.raises(SpecError, match=r"layers\[1\]: gru needs a sequence input of rank 2 \[steps, features\].*"
                                        r"return_sequences: true"):
        validate({**BASE, "layers": [*before, {"type": "gru", "units": 4}, OUT]})
