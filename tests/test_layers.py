"""Every registered layer type, checked from its module's own declarations (new types are picked up here)."""
import numpy as np
import pytest

from frameworkbench import layers
from frameworkbench.layers import FAMILIES, LAYERS
from frameworkbench.weights import trainable_arrays
from frameworkbench.spec import FIELDS, validate
from conftest import numeric_gradient

CASES = [(name, shape, ex) for name, mod in LAYERS.items() for shape, ex in mod.EXAMPLES]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]
PROTOCOL = ("TYPE", "FIELDS", "ACTIVATION", "EXAMPLES", "Layer", "output_shape", "param_count", "saved_elements",
            "init_weights", "forward", "backward", "to_family", "from_family")


def _build(shape, ex, seed=0):
    mod = layers.get(ex["type"])
    lay = layers.from_dict(ex)
    w = mod.init_weights(lay, shape, np.random.default_rng(seed))
    if w is not None:  # random biases too, so the bias gradient is checked away from zero; arrays that start
        # positive (a running variance) stay positive
        w = type(w)(**{k: None if a is None else _positive_if(np.all(a > 0),
                                                             np.random.default_rng(seed + 1).normal(size=a.shape))
                       for k, a in vars(w).items()})
    return mod, lay, w


def _positive_if(positive: bool, a: np.ndarray) -> np.ndarray:
    return np.abs(a) + 0.5 if positive else a


def _arrays(w) -> dict:
    return {} if w is None else {k: a for k, a in vars(w).items() if a is not None}


def _input(mod, lay, shape, rng) -> np.ndarray:
    """A batch of 3 random samples: token ids (as floats) for a layer that reads them (INTEGER_INPUT)."""
    if getattr(mod, "INTEGER_INPUT", False):
        return rng.integers(0, lay.input_dim, size=(3, *shape)).astype(np.float64)
    return rng.normal(size=(3, *shape))


def test_registry_lookup_and_protocol():
    assert list(LAYERS) == sorted(LAYERS) and all(mod.TYPE == name for name, mod in LAYERS.items())
    for mod in LAYERS.values():
        assert [a for a in PROTOCOL if not hasattr(mod, a)] == [] and mod.EXAMPLES
        assert mod.ACTIVATION in ("optional", "required", None)
        assert all(f"layers[].{key}" in FIELDS for key in mod.FIELDS)
    with pytest.raises(ValueError, match="unknown layer type 'conv9d'; expected one of: activation, avg_pool1d, "):
        layers.get("conv9d")


@pytest.mark.parametrize("name,shape,ex", CASES, ids=IDS)
def test_shape_params_and_spec_round_trip(name, shape, ex):
    mod, lay, w = _build(shape, ex)
    assert lay.to_dict() == ex
    y, _ = mod.forward(lay, w, _input(mod, lay, shape, np.random.default_rng(2)))
    out = mod.output_shape(lay, shape)
    assert y.shape == (3, *out)
    assert mod.param_count(lay, shape) == (0 if w is None else sum(a.size for a in trainable_arrays(w).values()))
    assert mod.saved_elements(lay, shape) >= 1
    # the validator reads the layer from a spec and infers the same shape
    first = [] if getattr(mod, "INTEGER_INPUT", False) else [{"type": "dense", "units": shape[-1]}]  # ids: first
    spec = validate({"task": "regression", "input_shape": list(shape), "loss": "mse", "metrics": [],
                     "layers": [*first, ex,  # then a vector output
                                *([{"type": "flatten"}, {"type": "dense", "units": 1}] if len(out) > 1 else [])],
                     "data": {"source": "file", "path": "data.npz", "target": "y"}})
    i = len(first)
    assert spec.layers[i].to_dict() == ex and spec.shapes[i + 1] == out


@pytest.mark.parametrize("name,shape,ex", CASES, ids=IDS)
def test_backward_matches_central_differences(name, shape, ex):
    mod, lay, w = _build(shape, ex)
    rng = np.random.default_rng(4)
    x = _input(mod, lay, shape, rng)
    r = rng.normal(size=(3, *mod.output_shape(lay, shape)))

    def loss() -> float:
        return float(np.sum(mod.forward(lay, w, x)[0] * r))

    _, cache = mod.forward(lay, w, x)
    gx, gw = mod.backward(lay, w, cache, r)
    trained = {} if w is None else trainable_arrays(w)
    assert all(getattr(gw, k) is None for k in _arrays(w).keys() - trained.keys())  # no gradient: not trained
    for got, arr in [(gx, x), *((getattr(gw, k), a) for k, a in trained.items())]:
        num = numeric_gradient(loss, arr)
        assert got.shape == arr.shape
        np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name,shape,ex", CASES, ids=IDS)
def test_weight_layout_round_trip(name, shape, ex, family):
    mod, lay, w = _build(shape, ex)
    arrays = mod.to_family(w, family)
    back = _arrays(mod.from_family(arrays, family))
    assert back.keys() == _arrays(w).keys()
    assert all(np.array_equal(back[k], a) for k, a in _arrays(w).items())
    with pytest.raises(ValueError, match="unknown framework family 'jax'"):
        mod.to_family(w, "jax")


def test_dense_layouts_per_family():
    mod, lay, w = _build((4,), LAYERS["dense"].EXAMPLES[0][1])
    torch = mod.to_family(w, "torch")
    assert torch["weight"].shape == (3, 4) and np.array_equal(torch["weight"], w.kernel.T)
    assert np.array_equal(mod.to_family(w, "keras")["kernel"], w.kernel) and "bias" in torch
    assert np.array_equal(mod.to_family(w, "flax")["kernel"], w.kernel)
