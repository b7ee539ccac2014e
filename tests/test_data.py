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
