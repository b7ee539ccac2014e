"""Executors: local worker processes N at a time, and Ray tasks that start the same workers.

Unit tests use a stand-in launch; the slow ones start a real Ray on loopback only (the command's
own local instance, or ``ray start --head`` on 127.0.0.1 started and stopped by the fixture).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import yaml

from conftest import cli
from frameworkbench import cli as cli_module
from frameworkbench.execution import runner
from frameworkbench.execution.runner import RunOptions, run
from frameworkbench.spec import SpecError, validate
from frameworkbench.store import Store
from frameworkbench.targets import TARGETS

TINY = {"name": "tiny", "task": "multiclass", "input_shape": [4],
        "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                   {"type": "dense", "units": 3, "activation": "softmax"}],
        "loss": "sparse_categorical_crossentropy", "optimizer": {"name": "adam", "learning_rate": 0.01},
        "metrics": ["accuracy"], "training": {"epochs": 1, "batch_size": 16, "seed": 0},
        "data": {"source": "synthetic", "n_samples": 64, "n_features": 4, "n_classes": 3}}


def _spec_file(tmp_path: Path, **training) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "training": {**TINY["training"], **training}}))
    return path


# --------------------------------------------------------------------------- local executor, stand-in worker
def test_local_jobs_run_that_many_workers_at_once_and_keep_plan_order(monkeypatch, tmp_path):
    from frameworkbench.execution.executors import Executor

    both_running = threading.Barrier(2, timeout=20)  # passes only if two workers run at the same time
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def launch(job, workdir, timeout, on_event=None, extra_env=None):
        job.record_path = str(workdir / f"record-{job.run_id}.json")
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        both_running.wait()
        with lock:
            state["now"] -= 1
        return {"status": "ok", "error": None, "history": [{"epoch": 1, "loss": float(job.seed)}]}

    monkeypatch.setattr(runner, "launch", launch)
    recs = run(validate(TINY), [TARGETS["torch"]], RunOptions(seeds=4, store=False), executor=Executor(2))
    assert state["max"] == 2
    assert [r["seed"] for r in recs] == [0, 1, 2, 3] and {r["status"] for r in recs} == {"ok"}


def test_executor_options_are_checked_before_anything_runs(tmp_path):
    from frameworkbench.execution.executors import check_options

    with pytest.raises(SpecError, match=r"--executor: unknown executor 'dask'; expected one of: local, ray"):
        check_options("dask", None, None)
    with pytest.raises(SpecError, match=r"--jobs: got 0"):
        check_options("local", 0, None)
    db = tmp_path / "x.db"
    argv = ["run", str(_spec_file(tmp_path)), "--targets", "torch", "--ray-address", "127.0.0.1:1", "--db", str(db)]
    assert cli_module.main(argv) == 2 and not db.exists()


def test_ray_executor_without_ray_installed_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    db = tmp_path / "x.db"
    argv = ["run", str(_spec_file(tmp_path)), "--targets", "torch", "--executor", "ray", "--db", str(db)]
    assert cli_module.main(argv) == 2 and not db.exists()
    assert "error: --executor: ray is not installed; install it with pip install 'frameworkbench[ray]'" \
        in capsys.readouterr().err


def test_unreachable_ray_address_fails_fast_and_writes_nothing(tmp_path, capsys):
    pytest.importorskip("ray")
    db = tmp_path / "x.db"
    argv = ["run", str(_spec_file(tmp_path)), "--targets", "torch", "--executor", "ray",
            "--ray-address", "127.0.0.1:1", "--db", str(db)]  # loopback, nothing listens on port 1
    assert cli_module.main(argv) == 2 and not db.exists()
    err = capsys.readouterr().err
    assert "error: --ray-address: cannot reach a Ray cluster at '127.0.0.1:1' within 10 s" in err
    assert "nothing was run or written" in err


# --------------------------------------------------------------------------- real Ray (slow)
def _curves(db: Path) -> dict[str, list]:
    with Store(db) as st:
        return {r["run_key"]: [(h["epoch"], h["loss"], h.get("val_loss")) for h in r["history"]]
                for r in st.records()}


@pytest.mark.slow
def test_ray_run_stores_the_same_run_keys_and_identical_loss_curves(tmp_path):
    pytest.importorskip("ray")
    spec = str(_spec_file(tmp_path))
    common = ["run", spec, "--targets", "torch", "--seeds", "2", "--threads", "1", "--jobs", "2"]
    local = cli(*common, "--db", str(tmp_path / "local.db"))
    assert local.returncode == 0, local.stderr[-3000:]
    remote = cli(*common, "--executor", "ray", "--db", str(tmp_path / "ray.db"))
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert "[2/2] torch seed 1: epoch 1/1 loss" in remote.stderr  # progress as with local workers
    a, b = _curves(tmp_path / "local.db"), _curves(tmp_path / "ray.db")
    assert len(a) == 2 and set(a) == set(b)
    assert all(a[k] == b[k] and a[k] for k in a)  # bit-identical: the same floats, epoch by epoch


RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0", "RAY_AUTH_MODE": "disabled"}  # loopback only


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head(tmp_path):
    """A one-node Ray cluster on loopback (``ray start --head``), stopped after the test."""
    pytest.importorskip("ray")
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    port = _free_port()
    env = {**os.environ, **RAY_ENV}
    temp = tempfile.mkdtemp(prefix="fbray", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
    start = subprocess.run([ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                            "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats",
                            "--temp-dir", temp], capture_output=True, text=True, env=env, timeout=180)
    assert start.returncode == 0, start.stderr[-3000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_a_worker_killed_on_ray_is_recorded_as_failed_and_the_study_goes_on(tmp_path, ray_head):
    study = tmp_path / "tiny_study.yaml"
    study.write_text(yaml.safe_dump({"name": "tiny", "experiments": [
        {"name": "hidden", "targets": ["torch"], "seeds": 2, "threads": 1, "jobs": 2, "hidden": ["relu", "tanh"],
         "spec": {k: v for k, v in TINY.items() if k != "name"}}]}))
    db = tmp_path / "study.db"
    p = cli("study", str(study), "--executor", "ray", "--ray-address", ray_head, "--db", str(db),
            env={"FRAMEWORKBENCH_FAULT": "kill@torch#1", **RAY_ENV})
    assert p.returncode == 1, p.stderr[-3000:]  # a failed run: exit 1, after every run ended
    with Store(db) as st:
        recs = st.records()
    by = {(r["spec_name"].rsplit(":", 1)[-1], r["seed"]): r for r in recs}
    assert sorted(by) == [("relu", 0), ("relu", 1), ("tanh", 0), ("tanh", 1)]
    for hidden in ("relu", "tanh"):
        assert by[(hidden, 0)]["status"] == "ok" and by[(hidden, 0)]["history"]
        assert by[(hidden, 1)]["status"] == "failed" and "signal 9" in by[(hidden, 1)]["error"]
    assert "study tiny: failed 2, ok 2" in p.stdout
    json.dumps(recs, default=str)  # stored records are plain data
