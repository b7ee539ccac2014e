"""Generated scripts (`frameworkbench codegen`) reproduce frameworkbench's data, weights, batches and losses."""
import copy
import subprocess
import sys

import numpy as np
import pytest

from conftest import BASE_SPEC, SPECS
from frameworkbench import codegen, data, weights
from frameworkbench.spec import load_spec
from frameworkbench.targets import TARGETS


def _shared_part(spec) -> dict:
    """Run the script's data part (numpy only) and return its variables."""
    code = codegen.generate(spec, "torch")
    head = code[:code.index(codegen.MODEL_MARK)]
    ns: dict = {}
    exec(compile(head, "<data>", "exec"), ns)
    return ns


def _variant(**changes):
    raw = copy.deepcopy(BASE_SPEC)
    for key, value in changes.items():
        merge = isinstance(value, dict) and key in raw and "source" not in value  # a new source: its own fields
        raw[key] = {**raw[key], **value} if merge else value
    return raw


MULTI = dict(task="multiclass", layers=[{"type": "dense", "units": 8, "activation": "relu"},
                                        {"type": "dense", "units": 3, "activation": "softmax"}])
VARIANTS = {
    "binary": _variant(),
    "no_bias_mixed": _variant(layers=[{"type": "dense", "units": 8, "activation": "tanh", "use_bias": False},
                                      {"type": "dense", "units": 1, "activation": "sigmoid"}]),
    "multiclass_sparse": _variant(**MULTI, loss="sparse_categorical_crossentropy",
                                  data={"n_classes": 3, "seed": 5, "validation_split": 0.3}),
    "multiclass_onehot_raw": _variant(**MULTI, loss="categorical_crossentropy",
                                      data={"n_classes": 3, "standardize": False}),
    "regression": _variant(task="regression", loss="mse", metrics=["mae"],
                           layers=[{"type": "dense", "units": 4}, {"type": "dense", "units": 1}],
                           data={"noise": 0.3}),
    "native_init": _variant(init="native"),
    "sklearn_diabetes": _variant(task="regression", loss="mse", metrics=[], input_shape=[10],
                                 layers=[{"type": "dense", "units": 1}],
                                 data={"source": "sklearn", "name": "diabetes", "validation_split": 0.25}),
    "sklearn_iris": _variant(**{**MULTI, "layers": [MULTI["layers"][0], {"type": "dense", "units": 3,
                                                                          "activation": "softmax"}]},
                             input_shape=[4], loss="categorical_crossentropy",
                             data={"source": "sklearn", "name": "iris", "validation_split": 0.25}),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_data_part_matches_the_core(name):
    spec = load_spec(VARIANTS[name])
    ns = _shared_part(spec)
    ds = data.load_dataset(spec)
    for attr, var in (("x_train", "X_train"), ("y_train", "y_train"), ("x_val", "X_val"), ("y_val", "y_val")):
        got, want = ns[var], getattr(ds, attr)
        assert got.dtype == want.dtype and got.shape == want.shape, (var, got.dtype, got.shape, want.shape)
        assert np.array_equal(got, want), var
    seed = spec.training["seed"]
    assert np.array_equal(np.stack(ns["epoch_orders"]), data.batch_plan(len(ds.x_train), spec.training["epochs"], seed))
    if spec.init == "shared":
        assert len(ns["initial_weights"]) == len(weights.dense_shapes(spec))
        for got, want in zip(ns["initial_weights"], weights.initial_weights(spec, seed)):
            assert [a.dtype for a in got] == [np.float32] * len(got)
            assert all(np.array_equal(a, b) for a, b in zip(got, weights.flatten([want]), strict=True))
    else:
        assert "initial_weights" not in ns


@pytest.mark.parametrize("fmt", ["csv", "npz"])
def test_data_part_matches_the_core_for_files(tmp_path, fmt):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 3)) * [1, 10, 100], rng.integers(0, 2, 50)
    path = tmp_path / f"d.{fmt}"
    if fmt == "csv":
        import pandas as pd

        pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": y}).to_csv(path, index=False)
    else:
        np.savez(path, a=x[:, :1], bc=x[:, 1:], label=y)
    spec = load_spec(_variant(input_shape=[3], training={"batch_size": 8},
                              data={"source": "file", "path": str(path), "format": fmt, "target": "label"}))
    ns, ds = _shared_part(spec), data.load_dataset(spec)
    assert np.array_equal(ns["X_train"], ds.x_train) and np.array_equal(ns["y_val"], ds.y_val)


def test_aligned_lines_are_marked_and_not_counted():
    spec = load_spec(SPECS / "seed_torch_sequential.yaml")
    code = codegen.generate(spec, "torch")
    assert "epsilon-hat" in code and any("initial_weights" in ln for ln in codegen.model_section(code))
    counted = codegen.user_lines(codegen.model_section(code))
    assert not any(w in ln for ln in counted for w in ("initial_weights", "copy_", "param_groups", "step = 0",
                                                         "step += 1"))
    assert any("optimizer.step()" in ln for ln in counted)
    native = codegen.generate(load_spec({**BASE_SPEC, "init": "native"}), "keras:jax")
    assert "keras.utils.set_random_seed(3)" in native and "initial_weights" not in native
    # the same user lines with and without the shared weights: loading them is not the user's code
    shared = codegen.generate(load_spec(BASE_SPEC), "keras:jax")
    assert codegen.count_lines(shared)["lines"] == codegen.count_lines(native)["lines"] - 1  # minus the seed call
    lines = code.rstrip().splitlines()
    assert lines[-2].startswith('print("final: loss"') and lines[-1].startswith('print("params:"')


def test_no_validation_rows_prints_the_training_loss_only():
    spec = load_spec(_variant(data={"validation_split": 0.0}))
    for target in codegen.GENERATORS:
        code = codegen.generate(spec, target)
        compile(code, target, "exec")
        assert "X_val, y_val)" not in code.split(codegen.MODEL_MARK)[1] and "val_loss" not in code, target


def test_parse_final():
    out = "epoch 1: loss 0.7\nfinal: loss 0.5312 val_loss 0.25\nparams: 65\n"
    assert codegen.parse_final(out) == {"loss": 0.5312, "val_loss": 0.25} and codegen.parse_params(out) == 65
    assert codegen.parse_final("final: loss 0.5\n") == {"loss": 0.5}
    assert codegen.parse_final("nothing") is None and codegen.parse_final("final: loss nan_x") is None


@pytest.mark.slow
@pytest.mark.parametrize("target", ["torch", "keras:jax"])
def test_generated_script_reproduces_the_stored_run(target, tmp_path, db_path):
    if not TARGETS[target].is_installed():
        pytest.skip(f"requires: {target} installed")
    import frameworkbench as fb

    spec = load_spec(SPECS / "seed_tf_keras.yaml").with_overrides(epochs=2)
    (rec,) = fb.compare(spec, targets=[target], db=db_path, threads=1, progress=False).records
    assert rec["status"] == "ok", rec.get("error")
    path = tmp_path / "generated.py"
    path.write_text(codegen.generate(spec, target))
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    final = codegen.parse_final(run.stdout)
    assert final["loss"] == pytest.approx(rec["final"]["loss"], abs=1e-4)
    assert final["val_loss"] == pytest.approx(rec["final"]["val_loss"], abs=1e-4)
    assert codegen.parse_params(run.stdout) == rec["param_count"] == 769


def test_data_part_matches_the_core_for_every_study_spec():
    from conftest import ROOT
    from frameworkbench.analysis import study

    for name in ("frameworks", "activations", "layers"):
        for exp in study.load(name, root=ROOT).experiments:
            for spec in exp.specs:
                ns, ds = _shared_part(spec), data.load_dataset(spec)
                for var, want in (("X_train", ds.x_train), ("y_train", ds.y_train), ("X_val", ds.x_val),
                                  ("y_val", ds.y_val)):
                    assert np.array_equal(ns[var], want), (spec.name, var)
