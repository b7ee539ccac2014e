"""End-to-end CLI runs with real frameworks in worker processes."""
import csv
import io
import json
import shlex

import pytest

from conftest import SPECS, cli
from test_report_summary import unpadded
from frameworkbench.targets import DEFAULT_TARGETS, TARGETS

pytestmark = pytest.mark.slow


def test_seed_sequential_on_all_targets(db_path, tmp_path):
    p = cli("run", str(SPECS / "seed_torch_sequential.yaml"), "--json", "--epochs", "2", "--db", str(db_path),
            "--out", str(tmp_path / "rep"))
    records = json.loads(p.stdout)
    installed = [n for n in DEFAULT_TARGETS if TARGETS[n].is_installed()]
    assert p.returncode == 0, p.stderr[-3000:]
    assert [r["target"] for r in records] == list(DEFAULT_TARGETS)
    ok = [r for r in records if r["status"] == "ok"]
    assert [r["target"] for r in ok] == installed
    assert {r["param_count"] for r in ok} == {241}
    assert len({r["dataset_hash"] for r in records}) == 1
    for r in ok:
        assert len(r["history"]) == 2 and r["timings"]["median_step_s"] > 0 and r["peak_rss_mb"] > 0
        assert r["versions"]["frameworkbench"] and r["spec"]["name"] == "seed_torch_sequential"
    # progress was shown per target and epoch
    assert "epoch 2/2" in p.stderr and "[5/5]" in p.stderr
    # same batches, same start: epoch losses agree across targets
    losses = [r["history"][-1]["loss"] for r in ok]
    assert max(losses) - min(losses) < 1e-3 * max(losses)

    res = cli("results", "--format", "csv", "--db", str(db_path))
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert res.returncode == 0 and len(rows) == 5 and {r["status"] for r in rows} >= {"ok"}
    rep = cli("report", "--out", str(tmp_path / "rep2"), "--db", str(db_path))
    assert rep.returncode == 0
    text = (tmp_path / "rep2" / "seed_torch_sequential.md").read_text()
    assert text == (tmp_path / "rep" / "seed_torch_sequential.md").read_text().replace(
        f"--out {tmp_path / 'rep'} ", f"--out {tmp_path / 'rep2'} ")
    assert "| keras:jax | ok |" in unpadded(text)


def test_report_counts_repeats_keeps_both_policies_and_its_command_rewrites_it(db_path, tmp_path):
    spec, out = str(SPECS / "seed_tf_keras.yaml"), tmp_path / "rep"
    common = ("--targets", "torch", "--epochs", "1", "--db", str(db_path), "--out", str(out), "--quiet")
    p = cli("run", spec, "--repeats", "3", *common)
    assert p.returncode == 0, p.stderr[-3000:]
    text = (out / "seed_tf_keras.md").read_text()
    assert "| torch | ok | 3 | cpu |" in unpadded(text) and "seeds [0] × 3 repeats" in text and "](plots/" in text
    p = cli("run", spec, "--defaults", "native", *common)
    assert p.returncode == 0, p.stderr[-3000:]
    text = (out / "seed_tf_keras.md").read_text()
    assert "## Comparison 1: defaults native" in text and "## Comparison 2: defaults aligned" in text
    assert "| torch | ok | 3 | cpu |" in unpadded(text) and "| torch | ok | 1 | cpu |" in unpadded(text)
    command = shlex.split(text.split("Regenerate with:\n\n    ")[1].splitlines()[0])
    assert command[:2] == ["frameworkbench", "report"] and str(db_path) in command
    (out / "seed_tf_keras.md").unlink()
    assert cli(*command[1:]).returncode == 0
    assert (out / "seed_tf_keras.md").read_text() == text


def test_failure_is_recorded_and_others_continue(db_path):
    p = cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch,keras:torch", "--epochs", "1",
            "--db", str(db_path), "--json", env={"FRAMEWORKBENCH_FAULT": "raise@torch"})
    assert p.returncode == 1
    recs = {r["target"]: r for r in json.loads(p.stdout)}
    assert recs["torch"]["status"] == "failed" and "injected fault" in recs["torch"]["error"]
    assert "RuntimeError: injected fault" in recs["torch"]["stderr_tail"]
    assert recs["keras:torch"]["status"] == "ok"


def test_crash_and_time_limit(db_path):
    p = cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch", "--epochs", "1", "--db", str(db_path),
            "--json", env={"FRAMEWORKBENCH_FAULT": "kill"})
    (rec,) = json.loads(p.stdout)
    assert p.returncode == 1 and rec["status"] == "failed" and "signal 9" in rec["error"]
    p = cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch", "--epochs", "1", "--db", str(db_path),
            "--json", "--timeout", "3", env={"FRAMEWORKBENCH_FAULT": "hang"})
    (rec,) = json.loads(p.stdout)
    assert p.returncode == 1 and rec["status"] == "timeout"


def test_unavailable_device_is_skipped_not_faked(db_path):
    p = cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch,keras:jax", "--device", "gpu",
            "--epochs", "1", "--db", str(db_path), "--json")
    recs = json.loads(p.stdout)
    if any(r["status"] == "ok" for r in recs):
        pytest.skip("a GPU is visible on this machine")
    assert p.returncode == 0
    assert [r["status"] for r in recs] == ["skipped", "skipped"]
    assert "torch.cuda.is_available()" in recs[0]["error"] and "jax.devices('gpu')" in recs[1]["error"]


def test_validate_reports_problems_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: binary\ninput_shape: [3]\nlayers:\n  - {type: dense, units: 1, activation: sigmiod}\n")
    p = cli("validate", str(bad))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "layers[0].activation.name: unknown activation 'sigmiod' (did you mean 'sigmoid'?)" in p.stderr
    assert cli("validate", str(SPECS / "seed_tf_keras.yaml")).returncode == 0
    assert cli("run", str(bad), "--targets", "nope").returncode == 2
