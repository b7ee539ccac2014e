"""Conformance suite: every registered target must pass the same checks on the same spec.

Each target runs once in a worker in ``probe`` mode (build with the shared weights,
forward pass, one epoch of training, and a repeat of that epoch from the same start).
"""
import numpy as np
import pytest

from frameworkbench import data, reference, weights
from frameworkbench.runner import RunOptions, run
from frameworkbench.spec import validate
from frameworkbench.targets import TARGETS

pytestmark = pytest.mark.slow

SPEC = validate({
    "name": "conformance",
    "task": "multiclass",
    "input_shape": [7],
    "layers": [
        {"type": "dense", "units": 16, "activation": {"name": "leaky_relu", "negative_slope": 0.05}},
        {"type": "dense", "units": 12, "activation": {"name": "elu", "alpha": 0.7}},
        {"type": "activation", "activation": "tanh"},
        {"type": "dense", "units": 8, "activation": "sigmoid", "use_bias": False},
        {"type": "dense", "units": 8},
        {"type": "activation", "activation": "relu"},
        {"type": "dense", "units": 3, "activation": "softmax"},
    ],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 1, "batch_size": 24, "seed": 11},
    "data": {"source": "synthetic", "n_samples": 300, "n_features": 7, "n_classes": 3},
})
_cache: dict[str, dict] = {}


def probe(name: str) -> dict:
    target = TARGETS[name]
    if not target.is_installed():
        pytest.skip(f"requires: {', '.join(target.missing_modules())} installed")
    if name not in _cache:
        (_cache[name],) = run(SPEC, [target], RunOptions(mode="probe", store=False, timeout=300))
    rec = _cache[name]
    assert rec["status"] == "ok", rec.get("error") + "\n" + str(rec.get("stderr_tail"))
    return rec


@pytest.mark.parametrize("name", list(TARGETS))
def test_param_count_matches_spec(name):
    assert probe(name)["param_count"] == weights.param_count(SPEC) == 16 * 7 + 16 + 12 * 16 + 12 + 12 * 8 + 8 * 8 + 8 + 8 * 3 + 3


@pytest.mark.parametrize("name", list(TARGETS))
def test_forward_matches_reference(name):
    rec = probe(name)
    ds = data.load_dataset(SPEC)
    expected = reference.forward(SPEC, weights.initial_weights(SPEC, SPEC.training["seed"]), ds.x_val)
    got = rec["arrays"]["output_at_init"]
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-5


@pytest.mark.parametrize("name", list(TARGETS))
def test_one_epoch_lowers_the_loss(name):
    rec = probe(name)["probe"]
    assert rec["loss_after"] < rec["loss_before"]


@pytest.mark.parametrize("name", list(TARGETS))
def test_same_seed_same_result(name):
    assert probe(name)["probe"]["repeat_identical"] is True


@pytest.mark.parametrize("name", list(TARGETS))
def test_parameters_on_requested_device(name):
    rec = probe(name)
    assert rec["device"] == "cpu" and "cpu" in rec["param_device"].lower()


def test_targets_train_the_same_weights():
    """Same data, batches and start, one update rule (aligned): after one epoch every target's
    weights agree to float32 round-off."""
    names = [n for n in TARGETS if TARGETS[n].is_installed()]
    if len(names) < 2:
        pytest.skip("requires: two installed targets")
    ref = probe(names[0])["arrays"]["trained_kernel_0"]
    for n in names[1:]:
        assert np.max(np.abs(probe(n)["arrays"]["trained_kernel_0"] - ref)) < 1e-5, n
