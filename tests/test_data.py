"""Data preparation and the batch plan: deterministic, split once, hashed by content."""
import numpy as np
import pytest

from frameworkbench import data
from frameworkbench.spec import SpecError, validate


def test_synthetic_is_deterministic_and_standardised(spec_dict, tmp_path):
    s = validate(spec_dict)
    a, b = data.load_dataset(s), data.load_dataset(s)
    assert a.hash == b.hash
    assert a.x_train.dtype == np.float32 and a.y_train.shape == (160, 1)
    assert np.allclose(a.x_train.mean(0), 0, atol=1e-5) and np.allclose(a.x_train.std(0), 1, atol=1e-4)
    path, digest = data.save(a, tmp_path)
    assert digest == a.hash and data.load(path).hash == a.hash
    spec_dict["data"]["seed"] = 1
    assert data.load_dataset(validate(spec_dict)).hash != a.hash


def test_batch_plan_covers_every_row_once_per_epoch():
    plan = data.batch_plan(103, 3, seed=7)
    assert plan.shape == (3, 103)
    for epoch in plan:
        assert sorted(epoch) == list(range(103))
    assert not np.array_equal(plan[0], plan[1])
    assert np.array_equal(plan, data.batch_plan(103, 3, seed=7))
    assert not np.array_equal(plan, data.batch_plan(103, 3, seed=8))
    sizes = [len(b) for b in data.batches(plan[0], 32)]
    assert sizes == [32, 32, 32, 7]


def test_multiclass_encodings(spec_dict):
    spec_dict.update(task="multiclass", loss="sparse_categorical_crossentropy")
    spec_dict["layers"][1] = {"type": "dense", "units": 4, "activation": "softmax"}
    spec_dict["data"]["n_classes"] = 4
    ds = data.load_dataset(validate(spec_dict))
    assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) <= {0, 1, 2, 3}
    spec_dict["loss"] = "categorical_crossentropy"
    ds = data.load_dataset(validate(spec_dict))
    assert ds.y_train.shape == (160, 4) and np.allclose(ds.y_train.sum(1), 1)


def test_csv_file_source(tmp_path, spec_dict):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6))
    y = (x[:, 0] > 0).astype(int)
    p = tmp_path / "d.csv"
    p.write_text("a,b,c,d,e,f,label\n" + "\n".join(",".join(map(str, [*row, t])) for row, t in zip(x, y)))
    spec_dict["data"] = {"source": "file", "path": str(p), "target": "label"}
    spec_dict["training"]["batch_size"] = 8
    ds = data.load_dataset(validate(spec_dict))
    assert ds.x_train.shape == (40, 6)
    spec_dict["data"]["target"] = "lbl"
    with pytest.raises(SpecError, match="target column 'lbl' not in"):
        data.load_dataset(validate(spec_dict))


def test_npz_file_never_unpickles(tmp_path, spec_dict):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.array([object()] * 10, dtype=object), y=np.zeros(10))
    spec_dict["data"] = {"source": "file", "path": str(p), "target": "y"}
    spec_dict["training"]["batch_size"] = 2
    with pytest.raises(SpecError, match="cannot read NPZ"):
        data.load_dataset(validate(spec_dict))


def test_labels_must_fit_task(tmp_path, spec_dict):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.zeros((30, 6)), y=np.arange(30) % 3)
    spec_dict["data"] = {"source": "file", "path": str(p), "target": "y"}
    spec_dict["training"]["batch_size"] = 4
    with pytest.raises(SpecError, match="task 'binary' needs labels 0 and 1, got 3 classes"):
        data.load_dataset(validate(spec_dict))


def test_feature_count_must_match(spec_dict):
    spec_dict["data"] = {"source": "sklearn", "name": "breast_cancer"}
    with pytest.raises(SpecError, match=r"the data has 30 features but input_shape is \[6\]"):
        data.load_dataset(validate(spec_dict))


# ----------------------------------------------------------------------------- synthetic data (issue 12, item 5)
def test_synthetic_follows_make_classification_and_is_deterministic(spec_dict):
    from sklearn.datasets import make_classification

    spec_dict["data"].update(n_informative=3, n_redundant=1, class_sep=0.5, flip_y=0.2, seed=4)
    s = validate(spec_dict)
    assert data.synthetic_call(s.task, s.data) == ("make_classification", {
        "n_samples": 200, "n_features": 6, "n_informative": 3, "n_redundant": 1, "n_classes": 2,
        "n_clusters_per_class": 2, "class_sep": 0.5, "flip_y": 0.2, "random_state": 4})
    x, y = make_classification(200, 6, n_informative=3, n_redundant=1, class_sep=0.5, flip_y=0.2, random_state=4)
    ds = data.load_dataset(s)
    got = np.concatenate([ds.y_train, ds.y_val])[:, 0]
    assert sorted(got.tolist()) == sorted(y.astype(np.float32).tolist())  # the same labels, split and shuffled
    assert data.load_dataset(validate(spec_dict)).hash == ds.hash  # stable for a given spec
    for change in ({"class_sep": 0.6}, {"flip_y": 0.1}, {"n_informative": 2}):
        other = {**spec_dict, "data": {**spec_dict["data"], **change}}
        assert data.load_dataset(validate(other)).hash != ds.hash, change


def test_synthetic_defaults_resolve_into_the_spec(spec_dict):
    d = validate(spec_dict).data  # 6 features, binary
    assert (d["n_informative"], d["n_redundant"], d["n_clusters_per_class"], d["class_sep"], d["flip_y"]) == \
        (2, 2, 2, 2.0, 0.01)
    spec_dict.update(task="multiclass", loss="sparse_categorical_crossentropy", input_shape=[256])
    spec_dict["layers"][-1] = {"type": "dense", "units": 10, "activation": "softmax"}
    spec_dict["data"].update(n_features=256, n_classes=10)
    d = validate(spec_dict).data
    assert (d["n_informative"], d["n_redundant"], d["n_clusters_per_class"]) == (16, 2, 2)
    spec_dict.update(task="regression", loss="mse", metrics=["mae"], input_shape=[6])
    spec_dict["layers"][-1] = {"type": "dense", "units": 2}
    spec_dict["data"] = {"source": "synthetic", "n_samples": 200, "noise": 0.5}
    s = validate(spec_dict)
    assert data.synthetic_call(s.task, s.data, s.output_units)[1] == {
        "n_samples": 200, "n_features": 6, "n_informative": 6, "n_targets": 2, "noise": 0.5, "random_state": 0}
    assert data.load_dataset(s).y_train.shape == (160, 2)


@pytest.mark.parametrize("change, message", [
    ({"n_informative": 7}, "data.n_informative: got 7; expected at most n_features (6)"),
    ({"n_informative": 5, "n_redundant": 2}, "data.n_redundant: got 2; expected at most n_features - n_informative"),
    ({"n_informative": 1, "n_clusters_per_class": 2}, "data.n_informative: got 1; 2 classes x 2 clusters need at "
                                                       "least 2 informative features"),
    ({"class_sep": 0}, "data.class_sep: got 0.0; expected a finite number in (0.0, 100.0]"),
    ({"flip_y": 1.5}, "data.flip_y: got 1.5; expected"),
    ({"noise": 0.3}, "data.noise: not used with task 'binary'; synthetic binary data take: n_informative, "
                     "n_redundant, n_clusters_per_class, class_sep, flip_y"),
])
def test_synthetic_fields_are_validated(spec_dict, change, message):
    spec_dict["data"].update(change)
    with pytest.raises(SpecError) as exc:
        validate(spec_dict)
    assert any(f"{p.path}: {p.message}".startswith(message) for p in exc.value.problems), exc.value.problems


def test_regression_rejects_classification_fields(spec_dict):
    spec_dict.update(task="regression", loss="mse", metrics=["mae"])
    spec_dict["layers"][-1] = {"type": "dense", "units": 1}
    spec_dict["data"]["flip_y"] = 0.1
    with pytest.raises(SpecError, match="data.flip_y: not used with task 'regression'; synthetic regression data "
                                        "take: n_informative, noise"):
        validate(spec_dict)


def test_synthetic_needs_scikit_learn(spec_dict, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # the import fails as if not installed
    with pytest.raises(SpecError, match="source 'synthetic' needs scikit-learn installed"):
        data.load_dataset(validate(spec_dict))


# ----------------------------------------------------------------------------- synthetic sequences (issue 11, "Data")
def _sequence_spec(task="binary", kind="n_features", **data_fields):
    """A valid spec on synthetic sequences: float [12, 3] (LSTM) or token ids [12] (embedding)."""
    out = {"binary": {"type": "dense", "units": 1, "activation": "sigmoid"},
           "multiclass": {"type": "dense", "units": 4, "activation": "softmax"},
           "regression": {"type": "dense", "units": 1}}[task]
    first = ([{"type": "lstm", "units": 4}] if kind == "n_features" else
             [{"type": "embedding", "input_dim": 20, "output_dim": 4}, {"type": "global_avg_pool1d"}])
    d = {"source": "synthetic", "n_samples": 300, "sequence_length": 12, kind: 3 if kind == "n_features" else 20,
         **({"n_classes": 4} if task == "multiclass" else {}), **data_fields}
    return {"task": task, "input_shape": [12, 3] if kind == "n_features" else [12], "layers": [*first, out],
            "loss": {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy",
                     "regression": "mse"}[task], "metrics": ["mae"] if task == "regression" else ["accuracy"],
            "training": {"batch_size": 16}, "data": d}


def test_float_sequences_labels_follow_the_peak_of_the_running_sum():
    from frameworkbench import sequences

    x, y = sequences.float_sequences(400, 9, 3, seed=5, n_classes=4, flip_y=0.0)
    assert x.shape == (400, 9, 3) and x.dtype == np.float64
    w = np.random.default_rng(np.random.SeedSequence([5, 102]))  # the generator's own stream: x, then w
    w.standard_normal((400, 9, 3))
    w = w.standard_normal(3)
    peak = np.cumsum(x @ w, axis=1).max(axis=1)  # the rule, written out again (scaling does not move buckets)
    assert np.array_equal(np.argsort(np.argsort(peak)) * 4 // 400, y)  # quantile buckets: 100 rows per class
    assert not np.array_equal(y, np.argsort(np.argsort(np.cumsum(x @ w, axis=1)[:, -1])) * 4 // 400)  # not the end
    _, noisy = sequences.float_sequences(400, 9, 3, seed=5, n_classes=4, flip_y=0.5)
    assert 0.2 < np.mean(noisy != y) < 0.55  # half replaced by random classes: about 3/8 change
    _, target = sequences.float_sequences(400, 9, 3, seed=5)
    assert np.allclose(target, peak / np.linalg.norm(w) / 3)  # regression: the peak / sqrt(T), noise 0


def test_token_sequences_label_is_the_pair_of_markers():
    from frameworkbench import sequences

    k = 3
    x, y = sequences.token_sequences(500, 7, 11, seed=2, n_classes=k, flip_y=0.0)
    assert x.shape == (500, 7) and x.min() >= 0 and x.max() < 11
    a_markers, b_markers = (x < k), (x >= k) & (x < 2 * k)
    assert (a_markers.sum(1) == 1).all() and (b_markers.sum(1) == 1).all()  # one of each, the rest filler
    a, b = x[a_markers], x[b_markers] - k
    assert np.array_equal(y, (b - a) % k) and sorted(np.unique(y)) == [0, 1, 2]
    for token in range(2 * k):  # no single token tells the label: each occurs about equally often in every class
        rates = [np.mean((x[y == c] == token).any(1)) for c in range(k)]
        assert max(rates) - min(rates) < 0.2, (token, rates)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_float_sequence_datasets(task):
    s = validate(_sequence_spec(task, seed=1))
    ds = data.load_dataset(s)
    assert s.input_dtype == "float32" and ds.x_train.dtype == np.float32 and ds.x_train.shape == (240, 12, 3)
    assert np.allclose(ds.x_train.mean(0), 0, atol=1e-5)  # standardised per step and feature
    assert ds.summary()["input_shape"] == [12, 3] and "input_dtype" not in ds.summary()
    assert data.load_dataset(validate(_sequence_spec(task, seed=1))).hash == ds.hash
    assert data.load_dataset(validate(_sequence_spec(task, seed=2))).hash != ds.hash
    if task == "multiclass":
        assert sorted(np.unique(ds.y_train)) == [0, 1, 2, 3]


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_token_datasets_keep_int32_ids_unstandardised(task):
    s = validate(_sequence_spec(task, "vocab_size"))
    ds = data.load_dataset(s)
    assert s.input_dtype == "int32" and ds.x_train.dtype == ds.x_val.dtype == np.int32
    assert ds.x_train.shape == (240, 12) and ds.x_train.min() >= 0 and ds.x_train.max() < 20
    assert ds.summary()["input_dtype"] == "int32"
    raw = _sequence_spec(task, "vocab_size")
    raw["data"]["vocab_size"] = 19
    assert data.load_dataset(validate(raw)).hash != ds.hash


def _file_spec(path, input_dim=10):
    return {"task": "binary", "input_shape": [5], "loss": "binary_crossentropy", "training": {"batch_size": 4},
            "layers": [{"type": "embedding", "input_dim": input_dim, "output_dim": 2}, {"type": "flatten"},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}],
            "data": {"source": "file", "path": str(path), "target": "y"}}


def test_token_ids_from_files(tmp_path):
    rng = np.random.default_rng(0)
    ids, y = rng.integers(0, 10, (40, 5)), rng.integers(0, 2, 40)
    np.savez(tmp_path / "t.npz", x=ids.astype(np.int16), y=y)
    ds = data.load_dataset(validate(_file_spec(tmp_path / "t.npz")))
    assert ds.x_train.dtype == np.int32 and sorted(np.concatenate([ds.x_train, ds.x_val]).tolist()) == \
        sorted(ids.tolist())  # the ids, split, neither standardised nor cast through floats
    import pandas as pd

    pd.DataFrame({**{f"t{i}": ids[:, i] for i in range(5)}, "y": y}).to_csv(tmp_path / "t.csv", index=False)
    assert data.load_dataset(validate(_file_spec(tmp_path / "t.csv"))).hash == ds.hash
    np.savez(tmp_path / "f.npz", x=ids.astype(np.float64), y=y)
    with pytest.raises(SpecError, match=r"data.path: layers\[0\] \(embedding\) reads integer token ids, but the "
                                        r"features in .*f.npz are float64"):
        data.load_dataset(validate(_file_spec(tmp_path / "f.npz")))
    with pytest.raises(SpecError, match=r"layers\[0\].input_dim: token ids in .*t.npz go from 0 to 9, but input_dim "
                                        r"is 8: ids must lie in \[0, input_dim\); set input_dim to at least 10"):
        data.load_dataset(validate(_file_spec(tmp_path / "t.npz", input_dim=8)))
    np.savez(tmp_path / "n.npz", x=ids - 1, y=y)
    with pytest.raises(SpecError, match="go from -1 to 8.*remove the negative ids"):
        data.load_dataset(validate(_file_spec(tmp_path / "n.npz")))


def test_integer_npz_features_for_a_float_model_are_floats(tmp_path, spec_dict):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "i.npz", x=rng.integers(0, 50, (40, 6)), y=rng.integers(0, 2, 40))
    spec_dict["data"] = {"source": "file", "path": str(tmp_path / "i.npz"), "target": "y"}
    spec_dict["training"]["batch_size"] = 4
    ds = data.load_dataset(validate(spec_dict))
    assert ds.x_train.dtype == np.float32 and np.allclose(ds.x_train.mean(0), 0, atol=1e-5)


@pytest.mark.parametrize("raw", [_sequence_spec("binary"),
                                 {**_sequence_spec("multiclass"), "loss": "categorical_crossentropy"},
                                 _sequence_spec("regression", noise=0.3, standardize=False),
                                 _sequence_spec("multiclass", "vocab_size", seed=4, validation_split=0.3)],
                         ids=["float-binary", "float-multiclass-onehot", "float-regression-raw", "tokens-multiclass"])
def test_codegen_data_part_makes_the_same_arrays(raw):
    from frameworkbench import codegen

    s = validate(raw)
    ns: dict = {}
    exec(compile("\n".join(codegen.data_block(s)), "<data>", "exec"), ns)
    ds = data.load_dataset(s)
    for attr, var in (("x_train", "X_train"), ("y_train", "y_train"), ("x_val", "X_val"), ("y_val", "y_val")):
        got, want = ns[var], getattr(ds, attr)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), var


def test_one_npz_array_keeps_its_rank_and_several_are_flattened(tmp_path):
    rng = np.random.default_rng(0)
    seqs, y = rng.standard_normal((30, 4, 3)), rng.integers(0, 2, 30)
    np.savez(tmp_path / "s.npz", x=seqs, y=y)
    raw = {"task": "binary", "input_shape": [4, 3], "loss": "binary_crossentropy", "training": {"batch_size": 4},
           "layers": [{"type": "flatten"}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
           "data": {"source": "file", "path": str(tmp_path / "s.npz"), "target": "y", "standardize": False}}
    ds = data.load_dataset(validate(raw))
    assert ds.x_train.shape[1:] == (4, 3) and np.allclose(np.sort(np.concatenate([ds.x_train, ds.x_val]), axis=None),
                                                          np.sort(seqs.astype(np.float32), axis=None))
    np.savez(tmp_path / "two.npz", a=seqs[:, :2], b=seqs[:, 2:], y=y)
    raw["data"]["path"] = str(tmp_path / "two.npz")
    with pytest.raises(SpecError, match=r"the data has 12 features but input_shape is \[4, 3\]; give N-D samples as "
                                        r"one NPZ array"):
        data.load_dataset(validate(raw))
