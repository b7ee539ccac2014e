"""Parity: verdict rules (unit) and the parity command on real targets (slow)."""
import json

import numpy as np
import pytest

from conftest import SPECS, cli
from frameworkbench import parity
from frameworkbench.spec import load_spec
from frameworkbench.targets import TARGETS


def test_verdict_thresholds():
    assert parity.verdict(1e-7, 1e-8, 1e-6) == "same"
    assert parity.verdict(1e-4, 1e-8, 1e-6) == "close"
    assert parity.verdict(1e-7, 1e-8, 5e-3) == "close"
    assert parity.verdict(1e-7, 1e-2, 1e-6) == "different"


def test_analyze_names_first_step_out_of_tolerance():
    spec = load_spec(SPECS / "seed_torch_net.yaml").with_overrides(epochs=2)
    ref = parity.reference_run(spec, 0, steps=5)
    arrays = {"output_at_init": ref["forward"].astype(np.float32)}
    for name, ws in (("grad", ref["grads"]), ("final", ref["final"])):
        for i, w in enumerate(ws):
            arrays[f"{name}_kernel_{i}"] = w.kernel
            arrays[f"{name}_bias_{i}"] = w.bias
    steps = list(ref["step_losses"])
    steps[3] *= 1.01  # the fourth step drifts by 1 %
    rec = {"arrays": arrays, "parity": {"step_losses": steps, "epoch_losses": ref["epoch_losses"],
                                        "first_batch_loss": ref["first_batch_loss"]}}
    out = parity.analyze(rec, ref)
    assert out["verdict"] == "close" and out["left_tolerance_at"] == "step 4"
    assert out["forward_max_abs"] < 1e-6 and out["grad_max_abs"] == 0


@pytest.mark.slow
def test_parity_command_aligned_and_native(db_path, tmp_path):
    names = [n for n in ("torch", "keras:jax") if TARGETS[n].is_installed()]
    if len(names) < 2:
        pytest.skip("requires: torch and keras+jax installed")
    p = cli("parity", str(SPECS / "seed_torch_sequential.yaml"), "--targets", ",".join(names), "--mode", "both",
            "--epochs", "2", "--seeds", "2", "--steps", "10", "--db", str(db_path), "--out", str(tmp_path), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    recs = json.loads(p.stdout)
    aligned = [r for r in recs if r["policy"] == "aligned"]
    native = [r for r in recs if r["policy"] == "native"]
    assert len(aligned) == len(native) == 4
    for r in aligned:
        par = r["parity"]
        assert par["verdict"] == "same", par
        assert par["forward_max_abs"] < 1e-5 and par["grad_max_abs"] < 1e-5 and par["epoch_loss_max_rel"] < 1e-3
        assert par["repeat_identical"] is True and len(par["step_losses"]) == 10
    for t in names:  # different seeds differ
        curves = [r["parity"]["step_losses"] for r in aligned if r["target"] == t]
        assert curves[0] != curves[1]
    d = {r["target"]: r["defaults"] for r in native if r["seed"] == 0}
    assert d["torch"]["adam_epsilon"] == 1e-8 and d["keras:jax"]["adam_epsilon"] == 1e-7
    assert d["torch"]["leaky_relu_slope"] == 0.01 and d["keras:jax"]["leaky_relu_slope"] == 0.3
    assert d["torch"]["bce_at_p0_y1"] == pytest.approx(100.0)
    report = (tmp_path / "parity-seed_torch_sequential.md").read_text()
    assert "## What differs by default" in report
    row = next(line for line in report.splitlines() if line.startswith("| Adam ε |"))
    assert "1.000e-07" in row and "1.000e-08" in row and row.endswith("| yes |")
    assert (tmp_path / "parity-seed_torch_sequential.png").stat().st_size > 10_000
