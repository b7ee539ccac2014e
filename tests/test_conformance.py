"""Conformance suite: every registered target must pass the same checks on the same spec, and on a
spec per layer type of the layer registry (``frameworkbench.layers.LAYERS``).

Each (target, spec) runs once in a worker in ``probe`` mode (build with the shared weights,
forward pass, one epoch of training, and a repeat of that epoch from the same start). A new
target or layer type is picked up by the parametrisation; a layer type without an entry in
:data:`LAYER_EXAMPLES` fails :func:`test_every_layer_type_has_an_example`.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from frameworkbench import data, reference, weights
from frameworkbench.layers import LAYERS
from frameworkbench.execution.runner import RunOptions, run
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
# Layers of each type the per-type spec puts between the input and a dense softmax output.
LAYER_EXAMPLES = {
    "dense": [{"type": "dense", "units": 9, "activation": {"name": "leaky_relu", "negative_slope": 0.1}},
              {"type": "dense", "units": 6, "activation": "tanh", "use_bias": False}],
    "activation": [{"type": "dense", "units": 9}, {"type": "activation", "activation": {"name": "elu", "alpha": 0.5}},
                   {"type": "activation", "activation": "sigmoid"}],
}
# N-D layer types: digits as 8x8x1 images or as 8 steps of 8 features; several types share one spec (one run per
# target), with Keras' asymmetric 'same' padding (even windows, strides > 1) in each.
_C2 = {"type": "conv2d", "filters": 3, "kernel_size": 2, "padding": "same", "activation": "tanh"}
_IMAGES = [_C2, {"type": "avg_pool2d", "pool_size": 3, "strides": 2, "padding": "same"},
           {"type": "max_pool2d", "pool_size": 2, "padding": "same"},
           {"type": "conv2d", "filters": 4, "kernel_size": [2, 1], "strides": [1, 2], "padding": "same"},
           {"type": "global_max_pool2d"}, {"type": "flatten"}]  # flatten: a no-op on vectors, Keras' order
_STEPS = [{"type": "conv1d", "filters": 4, "kernel_size": 2, "strides": 2, "padding": "same", "activation": "elu"},
          {"type": "max_pool1d", "pool_size": 2, "strides": 1, "padding": "same"},
          {"type": "avg_pool1d", "pool_size": 2}, {"type": "global_avg_pool1d"}]
# global_avg_pool2d and global_max_pool1d run the same builders as these two with the other KIND (reference:
# tests/test_layers.py); they share these specs' runs instead of two more specs per target.
N_D = {**{lay["type"]: ("images", _IMAGES) for lay in _IMAGES}, **{lay["type"]: ("steps", _STEPS) for lay in _STEPS},
       "global_max_pool1d": ("steps", _STEPS), "global_avg_pool2d": ("images", _IMAGES)}
# Recurrent types: digits rows as 8 steps of 8 features, each type with return_sequences or its last step.
_SEQUENCES = [{"type": "lstm", "units": 6, "return_sequences": True},
              {"type": "gru", "units": 5, "return_sequences": True},
              {"type": "simple_rnn", "units": 4, "activation": "relu"}]
N_D.update({lay["type"]: ("steps-recurrent", _SEQUENCES) for lay in _SEQUENCES})
# batch_norm after a convolution (normalised over batch, height and width) and dropout before the output: inference
# on the running statistics at init; one epoch with batch statistics and the run's dropout masks.
_NORMALISED = [{"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"},
               {"type": "batch_norm", "momentum": 0.9, "epsilon": 0.01}, {"type": "max_pool2d"}, {"type": "flatten"},
               {"type": "dropout", "rate": 0.3}]
N_D.update({"batch_norm": ("images-normalised", _NORMALISED), "dropout": ("images-normalised", _NORMALISED)})
# Token types: synthetic token ids (10 of a vocabulary of 24) through attention with and without biases (2 heads of
# 4, 4 heads of 2: torch's packed in_proj_weight against Keras' per-head kernels) and layer norms.
_TOKENS = [{"type": "embedding", "input_dim": 24, "output_dim": 8},
           {"type": "self_attention", "num_heads": 2, "key_dim": 4}, {"type": "layer_norm", "epsilon": 0.01},
           {"type": "self_attention", "num_heads": 4, "key_dim": 2, "use_bias": False}, {"type": "layer_norm"},
           {"type": "global_avg_pool1d"}]
N_D.update({t: ("tokens", _TOKENS) for t in ("embedding", "self_attention", "layer_norm")})
_TOKEN_DATA = {"source": "synthetic", "n_samples": 640, "sequence_length": 10, "vocab_size": 24, "n_classes": 10}
# The N-D types run on one target per weight family (~60 s in all): torch (channels-first kernels, explicit pads),
# Keras on TensorFlow, Flax; `frameworkbench parity specs/cnn_digits.yaml --targets all` covers every target.
N_D_TARGETS = ("torch", "keras:tensorflow", "flax")
_cache: dict[tuple[str, str], dict] = {}


def layer_spec(layer_type: str):
    raw = dict(SPEC.to_dict())
    out = {"type": "dense", "units": 3, "activation": "softmax"}
    if layer_type not in N_D:
        return validate({**raw, "name": f"conformance-{layer_type}", "layers": [*LAYER_EXAMPLES[layer_type], out]})
    name, layers = N_D[layer_type]
    shape = [8, 8] if "steps" in name else [8, 8, 1]
    data = {"source": "sklearn", "name": "digits", "reshape": shape}
    if name == "tokens":
        shape, data = [_TOKEN_DATA["sequence_length"]], _TOKEN_DATA
    return validate({**raw, "name": f"conformance-{name}", "task": "multiclass", "input_shape": shape,
                     "layers": [*layers, {**out, "units": 10}], "training": {**raw["training"], "batch_size": 64},
                     "data": data})


def probe(name: str, layer_type: str = "") -> dict:
    target = TARGETS[name]
    if not target.is_installed():
        pytest.skip(f"requires: {', '.join(target.missing_modules())} installed")
    spec = layer_spec(layer_type) if layer_type else SPEC
    if (name, spec.name) not in _cache:  # layer types that share a spec share its run
        (_cache[name, spec.name],) = run(spec, [target], RunOptions(mode="probe", store=False, timeout=300))
    rec = _cache[name, spec.name]
    assert rec["status"] == "ok", rec.get("error") + "\n" + str(rec.get("stderr_tail"))
    return rec


def test_every_layer_type_has_an_example():
    assert set(LAYER_EXAMPLES) | set(N_D) == set(LAYERS)
    shared = {"global_max_pool1d", "global_avg_pool2d"}  # the other KIND of a global pool in the spec
    assert all(layer_type in {lay["type"] for lay in layer_spec(layer_type).to_dict()["layers"]}
               for layer_type in set(LAYERS) - shared)
    assert {lay.type for lay in SPEC.layers} == set(LAYER_EXAMPLES)


@pytest.mark.parametrize("layer_type", sorted(LAYERS))
@pytest.mark.parametrize("name", list(TARGETS))
def test_layer_type_builds_and_matches_reference(name, layer_type):
    if layer_type in N_D and name not in N_D_TARGETS:
        pytest.skip(f"N-D layer types run on {', '.join(N_D_TARGETS)} (one target per weight family)")
    spec = layer_spec(layer_type)
    rec = probe(name, layer_type)
    assert rec["param_count"] == weights.param_count(spec)
    expected = reference.forward(spec, weights.initial_weights(spec, spec.training["seed"]),
                                 data.load_dataset(spec).x_val)
    assert np.max(np.abs(rec["arrays"]["output_at_init"] - expected)) < 1e-5
    assert rec["probe"]["loss_after"] < rec["probe"]["loss_before"]


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


_DEVICE_CHECK = """
import json, sys
from frameworkbench.spec import validate
from frameworkbench.targets import TARGETS
t = TARGETS[sys.argv[1]]
adapter = t.load_adapter()(t, 1)
adapter.select_device("cpu")
model = adapter.build(validate(json.loads(sys.argv[2])), 0)
print(json.dumps({"param_device": adapter.param_device(model), "kind": adapter.param_device_kind(model),
                  "framework_devices": adapter.runtime.devices("cpu")}))
"""


@pytest.mark.parametrize("name", list(TARGETS))
def test_parameters_on_a_device_the_framework_lists(name):
    """The device the adapter reports for the parameters is one the framework itself lists as a CPU
    device (its own device query, not the adapter's), and maps to the kind ``cpu``."""
    target = TARGETS[name]
    if not target.is_installed():
        pytest.skip(f"requires: {', '.join(target.missing_modules())} installed")
    p = subprocess.run([sys.executable, "-c", _DEVICE_CHECK, name, json.dumps(dict(SPEC.to_dict()))], capture_output=True,
                       text=True, timeout=300, env={**os.environ, **target.env})
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["kind"] == "cpu" and got["framework_devices"], got
    assert any(got["param_device"].endswith(d) for d in got["framework_devices"]), got  # TF adds /job:...


def test_targets_train_the_same_weights():
    """Same data, batches and start, one update rule (aligned): after one epoch every target's
    weights agree to float32 round-off."""
    names = [n for n in TARGETS if TARGETS[n].is_installed()]
    if len(names) < 2:
        pytest.skip("requires: two installed targets")
    ref = probe(names[0])["arrays"]["trained_kernel_0"]
    for n in names[1:]:
        assert np.max(np.abs(probe(n)["arrays"]["trained_kernel_0"] - ref)) < 1e-5, n
