"""GPU checks: every target places its parameters on the GPU, matches the reference there and
reports the framework's peak device-memory counter. Skipped, with the reason, without a GPU."""
import json
import shutil

import pytest

from conftest import SPECS, cli
from frameworkbench.targets import DEFAULT_TARGETS, TARGETS

pytestmark = [pytest.mark.gpu, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("nvidia-smi") is None,
                                 reason="requires: an NVIDIA GPU (nvidia-smi not found)")]


@pytest.fixture(scope="module")
def gpu_records(tmp_path_factory):
    db = tmp_path_factory.mktemp("gpu") / "gpu.db"
    p = cli("run", str(SPECS / "seed_tf_keras.yaml"), "--device", "gpu", "--epochs", "2", "--db", str(db),
            "--json", "--targets", ",".join(DEFAULT_TARGETS))
    return {r["target"]: r for r in json.loads(p.stdout)}


@pytest.mark.parametrize("name", DEFAULT_TARGETS)
def test_runs_on_the_gpu(gpu_records, name):
    if not TARGETS[name].is_installed():
        pytest.skip(f"requires: {', '.join(TARGETS[name].missing_modules())} installed")
    rec = gpu_records[name]
    if rec["status"] == "skipped":
        pytest.skip(rec["error"])  # e.g. a CPU-only wheel: "requires: torch.cuda.is_available() ..."
    assert rec["status"] == "ok", rec.get("error")
    assert rec["device"] == "gpu" and any(k in rec["param_device"].lower() for k in ("gpu", "cuda"))
    assert rec["device_memory"]["peak_mb"] > 0


def test_parity_on_the_gpu(tmp_path):
    p = cli("parity", str(SPECS / "seed_tf_keras.yaml"), "--device", "gpu", "--epochs", "2", "--steps", "10",
            "--db", str(tmp_path / "p.db"), "--out", str(tmp_path), "--json", "--targets", ",".join(DEFAULT_TARGETS))
    ok = [r for r in json.loads(p.stdout) if r["status"] == "ok"]
    if not ok:
        pytest.skip("no target could use the GPU (see the skipped records)")
    for r in ok:  # aligned mode turns TF32 off: float32 parity holds on the GPU too
        assert r["parity"]["verdict"] in ("same", "close"), (r["target"], r["parity"])
