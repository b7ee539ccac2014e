"""The numpy reference: activation derivatives and backprop gradients against finite differences."""
import numpy as np
import pytest

from frameworkbench import activations, reference, weights
from frameworkbench.spec import ACTIVATIONS, Activation, validate

PARAMS = {"leaky_relu": {"negative_slope": 0.05}, "elu": {"alpha": 0.7}}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_vjp_matches_finite_differences(name):
    act = Activation(name, PARAMS.get(name, {}))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks
    g = rng.normal(size=x.shape)
    analytic = activations.vjp(act, x, g)
    numeric = np.zeros_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = h
        numeric[idx] = ((activations.forward(act, x + d) - activations.forward(act, x - d)) * g).sum() / (2 * h)
    assert np.allclose(analytic, numeric, atol=1e-6, rtol=1e-5)


def test_known_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    assert np.allclose(activations.forward(Activation("leaky_relu", {"negative_slope": 0.01}), x), [-0.02, 0, 3])
    assert np.allclose(activations.forward(Activation("elu", {"alpha": 1.0}), x), [np.expm1(-2), 0, 3])
    assert np.allclose(activations.forward(Activation("sigmoid"), np.array([0.0, 800.0, -800.0])), [0.5, 1, 0])
    assert np.allclose(activations.forward(Activation("softmax"), np.array([[1.0, 1.0]])), [[0.5, 0.5]])


SPECS = {
    "binary": {"task": "binary", "loss": "binary_crossentropy", "out": ("sigmoid", 1), "n_classes": None},
    "sparse": {"task": "multiclass", "loss": "sparse_categorical_crossentropy", "out": ("softmax", 3),
               "n_classes": 3},
    "onehot": {"task": "multiclass", "loss": "categorical_crossentropy", "out": ("softmax", 3), "n_classes": 3},
    "mse": {"task": "regression", "loss": "mse", "out": ("linear", 2), "n_classes": None},
}


def _spec(kind: str):
    k = SPECS[kind]
    data = {"source": "synthetic", "n_samples": 40, "n_features": 4}
    if k["n_classes"]:
        data["n_classes"] = k["n_classes"]
    return validate({
        "task": k["task"], "input_shape": [4], "loss": k["loss"],
        "layers": [{"type": "dense", "units": 5, "activation": {"name": "leaky_relu", "negative_slope": 0.1}},
                   {"type": "dense", "units": 4, "activation": "elu", "use_bias": False},
                   {"type": "activation", "activation": "tanh"},
                   {"type": "dense", "units": 3, "activation": "sigmoid"},
                   {"type": "dense", "units": k["out"][1], "activation": k["out"][0]}],
        "training": {"batch_size": 8}, "data": data,
    })


def _targets(spec, n, rng):
    if spec.loss["name"] == "sparse_categorical_crossentropy":
        return rng.integers(0, 3, n)
    if spec.loss["name"] == "categorical_crossentropy":
        return np.eye(3)[rng.integers(0, 3, n)]
    if spec.task == "binary":
        return rng.integers(0, 2, (n, 1)).astype(float)
    return rng.normal(size=(n, 2))


@pytest.mark.parametrize("kind", list(SPECS))
def test_backprop_matches_finite_differences(kind):
    spec = _spec(kind)
    rng = np.random.default_rng(1)
    ws = [weights.DenseWeights(w.kernel.astype(np.float64), None if w.bias is None else
                               rng.normal(size=w.bias.shape) * 0.1) for w in weights.initial_weights(spec, 0)]
    x = rng.normal(size=(6, 4))
    y = _targets(spec, 6, rng)
    value, grads = reference.gradients(spec, ws, x, y)
    assert value == pytest.approx(reference.loss(spec, y, reference.forward(spec, ws, x)))
    h = 1e-6
    for li, (w, g) in enumerate(zip(ws, grads)):
        for arr, garr in ((w.kernel, g.kernel), (w.bias, g.bias)):
            if arr is None:
                assert garr is None
                continue
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + h
                up = reference.loss(spec, y, reference.forward(spec, ws, x))
                arr[idx] = old - h
                down = reference.loss(spec, y, reference.forward(spec, ws, x))
                arr[idx] = old
                assert garr[idx] == pytest.approx((up - down) / (2 * h), abs=1e-7, rel=1e-5), (li, idx)


def test_reference_training_lowers_loss_and_is_deterministic():
    from frameworkbench import data

    spec = _spec("binary")
    ds = data.load_dataset(spec)
    plan = data.batch_plan(len(ds.x_train), 3, seed=0)
    w0 = weights.initial_weights(spec, 0)
    a = reference.train(spec, w0, ds.x_train, ds.y_train, plan)
    b = reference.train(spec, w0, ds.x_train, ds.y_train, plan)
    assert a["step_losses"] == b["step_losses"] and len(a["step_losses"]) == 3 * 4
    assert a["epoch_losses"][-1] < a["epoch_losses"][0]
    assert np.array_equal(w0[0].kernel, weights.initial_weights(spec, 0)[0].kernel)  # inputs untouched


def test_adam_first_step_is_keras_epsilon_hat():
    spec = validate({"task": "regression", "input_shape": [1], "loss": "mse",
                     "layers": [{"type": "dense", "units": 1, "use_bias": False}],
                     "optimizer": {"name": "adam", "learning_rate": 0.1, "epsilon": 0.5},
                     "training": {"batch_size": 1}, "data": {"source": "synthetic", "n_samples": 10,
                                                             "n_features": 1}})
    p = [np.array([1.0])]
    reference.Optimizer(spec, p).step(p, [np.array([2.0])])
    # t=1: m=0.2, v=0.004, lr_t = 0.1*sqrt(0.001)/0.1 ; step = lr_t*m/(sqrt(v)+eps)
    lr_t = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    assert p[0][0] == pytest.approx(1.0 - lr_t * 0.2 / (np.sqrt(0.004) + 0.5))
