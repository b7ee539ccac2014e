"""Precision and compilation as comparison axes (issue 12 items 1-3, 7): spec field, options, run key,
tolerances per precision, the effective matmul precision and the report's flag, the GPU script's CPU path."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from frameworkbench.spec import SpecError, load_spec, validate
from frameworkbench.spec.fields import PRECISIONS

from conftest import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "specs" / "seed_tf_keras.yaml"


def _with_precision(spec, precision):
    raw = spec.to_dict()
    raw["training"]["precision"] = precision
    return validate(raw)


def test_precision_field_default_choices_and_hash():
    spec = load_spec(SEED)
    assert spec.training["precision"] == "float32"
    bf = _with_precision(spec, "mixed_bfloat16")
    assert bf.hash != spec.hash  # a precision is part of what the spec hash covers
    raw = spec.to_dict()
    raw["training"]["precision"] = "fp8"
    with pytest.raises(SpecError) as exc:
        validate(raw)
    msg = str(exc.value)
    assert "training.precision" in msg and "'fp8'" in msg and "mixed_bfloat16" in msg


def test_precision_and_compile_options_rejected_with_one_error_line(tmp_path):
    for args, name in ((["--precision", "fp8"], "--precision"), (["--compile", "xla"], "--compile")):
        proc = cli("run", str(SEED), *args, "--db", str(tmp_path / "x.db"))
        assert proc.returncode == 2
        err = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
        assert len(err) == 1 and name in err[0] and "choose from" in err[0], proc.stderr


def test_run_key_covers_precision_and_compile():
    from frameworkbench.execution.runner import RunOptions, run_key
    from frameworkbench.targets import get_target

    spec, t = load_spec(SEED), get_target("torch")
    base = run_key(spec, "d", t, "cpu", 0, {}, "train", "aligned", 0, "default")
    assert run_key(_with_precision(spec, "bfloat16"), "d", t, "cpu", 0, {}, "train", "aligned", 0) != base
    assert run_key(spec, "d", t, "cpu", 0, {}, "train", "aligned", 0, "jit") != base
    with pytest.raises(SpecError, match="--compile"):
        RunOptions(compile="xla").check()


def test_api_rejects_bad_precision_naming_the_argument():
    from frameworkbench.api import compare

    with pytest.raises(SpecError) as exc:
        compare(SEED, ["torch"], precision="fp8", store=False, progress=False)
    assert "precision" in str(exc.value) and "'fp8'" in str(exc.value)


def test_parity_tolerances_per_precision():
    from frameworkbench.analysis.parity import TOLERANCES, verdict

    assert set(TOLERANCES) == set(PRECISIONS)
    assert verdict(5e-3, 5e-3, 5e-3, "float32") == "different"
    assert verdict(5e-4, 5e-4, 5e-4, "float32") == "close"
    assert verdict(5e-3, 5e-3, 5e-3, "mixed_bfloat16") == "same"
    assert verdict(5e-3, 5e-3, 5e-3, "mixed_float16") == "close"
    for tol in TOLERANCES.values():  # "close" is looser than "same" everywhere
        assert all(tol["close"][k] > tol["same"][k] for k in tol["same"])


def test_effective_matmul_precision_rules():
    from frameworkbench.adapters import _backends as B

    assert B.float32_matmul("aligned", "float32") == "exact"
    assert B.float32_matmul("native", "float32") is None  # native: the framework's own default
    assert B.float32_matmul("native", "tf32") == "tf32"
    assert B.effective("gpu", "float32", True, "s")["effective"] == "tf32"
    assert B.effective("cpu", "float32", True, "s")["effective"] == "float32"  # no TF32 on a CPU
    assert B.effective("gpu", "bfloat16", False, "s")["effective"] == "bfloat16"


def test_report_flags_targets_at_different_precisions():
    from frameworkbench.report.summary import precision_flag

    def rec(target, eff):
        return {"target": target, "status": "ok", "runtime": {"matmul_precision": {"effective": eff}}}

    assert precision_flag([rec("torch", "float32"), rec("keras:jax", "float32")]) == []
    flag = "".join(precision_flag([rec("torch", "float32"), rec("keras:jax", "tf32")]))
    assert "different precisions" in flag and "keras:jax: tf32" in flag and "torch: float32" in flag


def test_gpu_benchmark_without_a_gpu_says_so_and_exits_0():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.gpu"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("no GPU:") and "torch.cuda.is_available()=False" in proc.stdout


@pytest.mark.slow
def test_mixed_bfloat16_trains_within_tolerance_of_float32(tmp_path):
    """torch at float32 and mixed_bfloat16 (autocast): ok, precision and matmul precision in each record,
    final loss within the mixed_bfloat16 'close' tolerance of the float32 run."""
    from frameworkbench.analysis.parity import TOLERANCES
    from frameworkbench.api import compare

    recs = {}
    for precision in ("float32", "mixed_bfloat16"):
        (r,) = compare(SEED, ["torch"], epochs=1, precision=precision, db=tmp_path / "p.db", progress=False).records
        assert r["status"] == "ok", r.get("error")
        assert r["precision"] == precision and r["compile"] == "default"
        assert r["runtime"]["matmul_precision"]["effective"] == PRECISIONS[precision][0]
        assert r["timings"]["compile_in"].startswith("first_step_s")
        recs[precision] = r
    a, b = recs["float32"]["final"]["loss"], recs["mixed_bfloat16"]["final"]["loss"]
    assert a != b  # the bfloat16 compute really ran
    assert abs(b - a) / a <= TOLERANCES["mixed_bfloat16"]["close"]["loss_rel"]
