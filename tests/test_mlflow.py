"""`frameworkbench mlflow`: stored runs become MLflow runs (params, per-epoch metrics, tags, artifacts), once."""
import importlib.util

import pytest

from frameworkbench import cli
from frameworkbench.store import Store

needs_mlflow = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None,
                                  reason="requires mlflow: pip install 'frameworkbench[mlflow]'")
SPEC = {"name": "tiny", "task": "binary", "input_shape": [6], "init": "shared",
        "layers": [{"type": "dense", "units": 8, "activation": {"name": "relu"}, "use_bias": True},
                   {"type": "dense", "units": 1, "activation": {"name": "sigmoid"}, "use_bias": True}],
        "loss": {"name": "binary_crossentropy", "epsilon": 1e-7}, "metrics": ["accuracy"],
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 2, "batch_size": 16, "seed": 3},
        "data": {"source": "synthetic", "n_samples": 200, "n_features": 6}}


def rec(i, target):
    hist = [{"epoch": e, "loss": 0.7 - 0.1 * e - 0.01 * i, "val_loss": 0.72 - 0.1 * e, "val_accuracy": 0.5 + 0.1 * e,
             "seconds": 0.2 + 0.01 * e} for e in (1, 2)]
    return {"run_id": f"run{i}", "batch_id": "b1", "created_at": f"2026-01-01T00:00:0{i}+00:00",
            "finished_at": f"2026-01-01T00:00:0{i + 1}+00:00", "spec_name": "tiny", "spec_hash": "h1",
            "dataset_hash": "d1", "target": target, "status": "ok", "seed": 3, "repeat": 0, "device": "cpu",
            "threads": 2, "run_key": f"k{i}", "policy": "aligned", "mode": "train", "spec": SPEC, "init": "shared",
            "versions": {"frameworkbench": "0.1.0", "torch": "2.13.0"}, "host": {"hostname": "vm", "cores": 2},
            "history": hist, "final": {"loss": hist[-1]["loss"], "val_loss": hist[-1]["val_loss"]},
            "param_count": 65, "peak_rss_mb": 300.0 + i,
            "timings": {"median_step_s": 0.001 * (i + 1), "median_epoch_s": 0.21, "epoch_s": [0.21, 0.22]},
            "inference": {"batch_1": {"median_s": 5e-5, "p95_s": 6e-5}}}


@pytest.fixture
def db(db_path):
    with Store(db_path) as st:
        st.save(rec(1, "torch"))
        st.save(rec(2, "keras:jax"))
    return str(db_path)


@needs_mlflow
def test_export_reads_back_and_second_export_adds_nothing(db, tmp_path, capsys):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'ml.db'}"
    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri, "--experiment", "t"]) == 0
    assert "2 run(s) logged, 0 already exported" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("t")
    runs = {r.data.tags["frameworkbench.run_id"]: r for r in client.search_runs([exp.experiment_id])}
    assert sorted(runs) == ["run1", "run2"]
    r = runs["run1"]
    assert r.info.status == "FINISHED"
    p = r.data.params
    assert p["spec.training.batch_size"] == "16" and p["spec.layers.0.activation.name"] == "relu"
    assert p["spec.input_shape"] == "[6]" and p["spec.metrics"] == '["accuracy"]'
    assert (p["target"], p["policy"], p["device"], p["threads"], p["seed"], p["repeat"]) == \
        ("torch", "aligned", "cpu", "2", "3", "0")
    t = r.data.tags
    assert (t["frameworkbench.run_key"], t["frameworkbench.dataset_hash"], t["version.torch"], t["host.hostname"]) \
        == ("k1", "d1", "2.13.0", "vm")
    hist = client.get_metric_history(r.info.run_id, "loss")
    assert [(m.step, round(m.value, 6)) for m in sorted(hist, key=lambda m: m.step)] == [(1, 0.59), (2, 0.49)]
    assert [m.step for m in client.get_metric_history(r.info.run_id, "epoch_seconds")] == [1, 2]
    assert r.data.metrics["median_step_s"] == pytest.approx(0.002)
    assert r.data.metrics["latency_b1_median_s"] == pytest.approx(5e-5) and r.data.metrics["peak_rss_mb"] == 301
    arts = {a.path for a in client.list_artifacts(r.info.run_id)}
    assert {"spec.yaml", "record.json", "report"} <= arts
    report = [a.path for a in client.list_artifacts(r.info.run_id, "report")]
    assert "report/tiny.md" in report
    local = client.download_artifacts(r.info.run_id, "report/tiny.md", str(tmp_path))
    assert "tiny" in open(local, encoding="utf-8").read()

    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri, "--experiment", "t"]) == 0
    assert "0 run(s) logged, 2 already exported" in capsys.readouterr().out
    assert len(client.search_runs([exp.experiment_id])) == 2


@needs_mlflow
def test_half_written_run_is_replaced_and_spec_filter(db, tmp_path, capsys, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()  # the file store: a new sqlite store takes seconds of migrations
    client = MlflowClient(tracking_uri=uri)
    exp_id = client.create_experiment("t")
    client.create_run(exp_id, tags={"frameworkbench.run_id": "run1"})  # as if an export stopped half-way
    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri, "--experiment", "t", "--spec", "nope"]) == 1
    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri, "--experiment", "t", "--spec", "tiny"]) == 0
    assert "2 run(s) logged, 0 already exported, 1 incomplete run(s) replaced" in capsys.readouterr().out
    assert len(client.search_runs([exp_id])) == 2


@needs_mlflow
def test_file_store_uri_works(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "")  # registers the restore of the current value
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # the export opts in to mlflow 3's file store itself
    uri = (tmp_path / "mlruns").as_uri()
    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri]) == 0
    assert "2 run(s) logged" in capsys.readouterr().out and (tmp_path / "mlruns").is_dir()


@needs_mlflow
def test_unwritable_tracking_uri_exits_2(db, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    uri = f"sqlite:///{blocker / 'sub' / 'ml.db'}"  # a directory under a plain file cannot exist
    assert cli.main(["mlflow", "--db", db, "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --tracking-uri: cannot use {uri!r} as an MLflow tracking store: ")
    assert err.count("\n") == 1


def test_missing_database_exits_2(tmp_path, capsys):
    missing = tmp_path / "none.db"
    code = cli.main(["mlflow", "--db", str(missing), "--tracking-uri", f"sqlite:///{tmp_path / 'ml.db'}"])
    err = capsys.readouterr().err
    assert code == 2 and not missing.exists()
    assert err.startswith("error: --db: no results database") or err.startswith("error: mlflow: mlflow is not")


def test_mlflow_not_installed_is_a_clear_error(db, monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **kw):
        if name == "mlflow" or name.startswith("mlflow."):
            raise ImportError(name)
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    assert cli.main(["mlflow", "--db", db]) == 2
    assert capsys.readouterr().err == ("error: mlflow: mlflow is not installed; "
                                       "pip install 'frameworkbench[mlflow]'\n")


def test_flatten_params_without_mlflow():
    from frameworkbench.integrations.mlflow import flatten, params

    assert dict(flatten({"a": {"b": [1, 2]}, "l": [{"u": 3}]}, "spec")) == {"spec.a.b": "[1, 2]", "spec.l.0.u": "3"}
    p = params(rec(1, "torch"))
    assert p["spec.optimizer.learning_rate"] == "0.01" and p["mode"] == "train" and "precision" not in p
