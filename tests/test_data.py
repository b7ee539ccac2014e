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
