"""The flax target (Flax NNX + Optax): registration, packaging and its code generator (unit),
parity with the float64 reference and its native defaults (slow, real workers)."""
import json
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT, SPECS, cli
from frameworkbench.spec import load_spec, validate
from frameworkbench.targets import DEFAULT_TARGETS, TARGETS, parse_targets


def test_flax_is_registered_but_not_a_default_target():
    t = TARGETS["flax"]
    assert (t.family, t.backend, t.api) == ("flax", "jax", "loop")
    assert t.adapter == "frameworkbench.adapters.flax.adapter:FlaxAdapter"
    assert t.codegen == "frameworkbench.adapters.flax.codegen:generate"
    assert set(t.modules) == {"flax", "optax", "jax"} and {"flax", "optax", "jaxlib"} <= set(t.packages)
    assert "flax" not in DEFAULT_TARGETS
    assert "flax" in [x.name for x in parse_targets("all")] and [x.name for x in parse_targets("flax")] == ["flax"]
    assert t.extras == ("flax",)


def test_flax_extra_and_pins():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(r.startswith("flax") for r in extras["flax"]) and any(r.startswith("optax") for r in extras["flax"])
    assert "flax" in extras["all"][0].split("[", 1)[1]
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["flax"] == "0.12.8" and pins["jax"] == pins["jaxlib"] == "0.10.2" and "optax" in pins


def test_flax_codegen_imports_no_framework():
    code = ("import sys, frameworkbench.adapters.flax, frameworkbench.adapters.flax.codegen\n"
            "print([m for m in ('flax', 'optax', 'jax', 'torch', 'tensorflow', 'keras') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _spec(**over):
    raw = {"name": "fx", "task": "multiclass", "input_shape": [5],
           "layers": [{"type": "dense", "units": 6, "activation": {"name": "leaky_relu", "negative_slope": 0.05}},
                      {"type": "dense", "units": 4, "activation": {"name": "elu", "alpha": 0.7}, "use_bias": False},
                      {"type": "dense", "units": 3, "activation": "softmax"}],
           "loss": "sparse_categorical_crossentropy",
           "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
           "training": {"epochs": 2, "batch_size": 8, "seed": 1},
           "data": {"source": "synthetic", "n_samples": 64, "n_features": 5, "n_classes": 3}}
    raw.update(over)
    return validate(raw)


def test_flax_codegen_idioms():
    from frameworkbench.adapters.flax.codegen import PARAM_LINE, gen_flax
    from frameworkbench.codegen import ALIGN_TAG

    seed = "\n".join(gen_flax(load_spec(SPECS / "seed_tf_keras.yaml")))
    compile(seed, "<flax>", "exec")
    assert "nnx.Linear(10, 64, rngs=rngs)" in seed and "nnx.sigmoid" not in seed  # folded into the logit loss
    assert "optax.sigmoid_binary_cross_entropy(logits, y)" in seed
    eps_hat = next(line for line in seed.splitlines() if "inject_hyperparams" in line)
    assert ALIGN_TAG in eps_hat and "0.999 ** (count + 1)" in eps_hat
    assert "initial_weights" in seed and "epoch_orders" in seed and "val_loss = " in seed
    multi = "\n".join(gen_flax(_spec()))
    compile(multi, "<flax>", "exec")
    assert "partial(nnx.leaky_relu, negative_slope=0.05)" in multi and "partial(nnx.elu, alpha=0.7)" in multi
    assert "nnx.Linear(6, 4, use_bias=False, rngs=rngs)" in multi
    assert "softmax_cross_entropy_with_integer_labels" in multi and "tx = optax.sgd(0.1, momentum=0.9)" in multi
    mse = "\n".join(gen_flax(_spec(task="regression", loss="mse", metrics=[],
                                   layers=[{"type": "dense", "units": 2, "activation": "tanh"}],
                                   data={"source": "synthetic", "n_samples": 64, "n_features": 5})))
    assert "optax.squared_error(model(x), y)" in mse and "nnx.tanh" in mse
    compile(PARAM_LINE, "<params>", "exec")


@pytest.mark.slow
def test_flax_parity_aligned_and_native(db_path, tmp_path):
    if not TARGETS["flax"].is_installed():
        pytest.skip(f"requires: {', '.join(TARGETS['flax'].missing_modules())} installed")
    spec = tmp_path / "fx.json"
    spec.write_text(json.dumps(dict(_spec().to_dict())))
    p = cli("parity", str(spec), "--targets", "flax", "--mode", "both", "--steps", "10", "--db", str(db_path),
            "--out", str(tmp_path), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    recs = {r["policy"]: r for r in json.loads(p.stdout)}
    par = recs["aligned"]["parity"]  # Keras' SGD momentum, leaky/elu parameters, no-bias layer, clipped CE
    assert par["verdict"] == "same" and par["repeat_identical"] is True, par
    d = recs["native"]["defaults"]
    assert d["leaky_relu_slope"] == 0.01 and d["crossentropy_epsilon"] is None
    assert d["optimizer"] == "optax.sgd" and d["kernel_initializer"].startswith("lecun_normal")
    d = recs["aligned"]["defaults"]
    assert d["leaky_relu_slope"] == 0.05 and d["elu_alpha"] == 0.7 and d["crossentropy_epsilon"] == 1e-7
