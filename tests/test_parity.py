"""Parity: verdict rules (unit) and the parity command on real targets (slow)."""
import json

import numpy as np
import pytest

from conftest import SPECS, cli
from test_report_summary import unpadded
from frameworkbench import data, reference, weights
from frameworkbench.analysis import parity, parity_mode
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
    steps[3] *= 1.005  # the fourth step drifts by 0.5 % (inside "close", 1e-2; 1 % sits on its edge)
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
    assert d["torch"]["bce_at_p0_y1"] == pytest.approx(1000.0)  # BCEWithLogitsLoss on logits: fused, unclipped
    report = (tmp_path / "parity-seed_torch_sequential.md").read_text()
    assert "## What differs by default" in report
    row = next(line for line in unpadded(report).splitlines() if line.startswith("| Adam ε |"))
    assert "1.000e-07" in row and "1.000e-08" in row and row.endswith("| yes |")
    assert (tmp_path / "parity-seed_torch_sequential.png").stat().st_size > 10_000


# ----------------------------------------------------------------------------- steps across epochs (issue 9)
FIVE_STEPS = {"training": {"epochs": 3, "batch_size": 16, "seed": 0},
              "data": {"source": "synthetic", "n_samples": 100, "n_features": 6, "validation_split": 0.2}}


class _NumpyAdapter:
    """A stand-in adapter that trains with the float64 reference (one optimizer step per batch)."""

    def __init__(self, spec):
        self.spec, self.calls = spec, []

    def train(self, model, spec, x, y, bs, timer):
        ws, params, opt = model
        total = 0.0
        for i in range(0, len(x), bs):
            value, grads = reference.gradients(spec, ws, x[i:i + bs], y[i:i + bs])
            opt.step(params, weights.flatten(grads))
            total += value * len(x[i:i + bs])
        self.calls.append(len(x))
        return total / len(x)

    def predict(self, model, x):
        return reference.forward(self.spec, model[0], x)


def _numpy_ctx(spec, seed=0):
    from types import SimpleNamespace

    ds = data.load_dataset(spec)
    ws = [weights.DenseWeights(w.kernel.astype(np.float64), None if w.bias is None else w.bias.astype(np.float64))
          for w in weights.initial_weights(spec, seed)]
    params = weights.flatten(ws)
    opt = reference.Optimizer(spec, params)
    plan = data.batch_plan(len(ds.x_train), spec.training["epochs"], seed)
    return SimpleNamespace(adapter=_NumpyAdapter(spec), spec=spec, ds=ds, plan=plan), (ws, params, opt)


def _five_step_spec(tmp_path, spec_dict, **extra):
    spec_dict.update(FIVE_STEPS, **extra)
    path = tmp_path / "five.json"
    path.write_text(json.dumps(spec_dict))
    return path


def test_worker_records_step_losses_across_epochs(tmp_path, spec_dict):
    spec = load_spec(_five_step_spec(tmp_path, spec_dict))
    ctx, model = _numpy_ctx(spec)
    traj = parity_mode._trajectory(ctx, model, parity.DEFAULT_STEPS)  # 50 asked, the run has 3 × 5
    assert len(traj["step_losses"]) == 15
    ref = parity.reference_run(spec, 0, parity.DEFAULT_STEPS)
    assert len(traj["step_losses"]) == len(ref["step_losses"]) == ref["steps_in_run"] == 15
    np.testing.assert_allclose(traj["step_losses"], ref["step_losses"], rtol=1e-12)
    assert parity_mode.steps_in_plan(ctx.plan, 16) == 15
    ctx, model = _numpy_ctx(spec)
    assert len(parity_mode._trajectory(ctx, model, 7)["step_losses"]) == 7
    assert ctx.adapter.calls == [16] * 5 + [16, 16, 48] + [80]  # 7 single steps, then the rest of the epoch


def _records(spec, worker_steps: int, ref_steps: int, asked: int = 50, optimizer: str = "adam") -> list[dict]:
    losses = [1.0 / (i + 1) for i in range(max(worker_steps, ref_steps))]
    par = {"steps": asked, "step_losses": losses[:worker_steps], "epoch_losses": [0.5, 0.4, 0.3],
           "verdict": "same", "repeat_identical": True,
           "reference": {"step_losses": losses[:ref_steps], "epoch_losses": [0.5, 0.4, 0.3], "steps_per_epoch": 5}}
    spec_d = {**spec.to_dict(), "optimizer": {"name": optimizer}}
    return [{"run_id": f"r{i}", "target": t, "seed": 0, "status": "ok", "mode": "parity", "policy": "aligned",
             "spec_name": spec.name, "spec_hash": spec.hash, "spec": spec_d, "created_at": "2026-01-01",
             "final": {"loss": 0.3, "val_loss": 0.3}, "parity": dict(par)} for i, t in enumerate(("torch", "keras:jax"))]


def test_report_survives_unequal_step_counts_and_uses_integer_ticks(tmp_path, spec_dict, monkeypatch):
    """Records stored before the fix: 5 worker steps, 15 reference steps — the plot raised ValueError."""
    from matplotlib.figure import Figure

    from frameworkbench.report import parity as report

    spec = load_spec(_five_step_spec(tmp_path, spec_dict))
    ticks = []
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (ticks.extend(
        t for ax in fig.axes for t in ax.get_xticks()), save(fig, *a, **k))[1])
    (path,) = report.write(_records(spec, 5, 15), tmp_path, "cmd")
    assert (tmp_path / f"parity-{spec.name}.png").stat().st_size > 1000
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert "first 5 steps (of 50 asked; the run has 5)" in path.read_text()


def test_analyze_compares_the_same_steps_and_report_states_the_count(tmp_path, spec_dict):
    from frameworkbench.report import parity as report

    spec = load_spec(_five_step_spec(tmp_path, spec_dict))
    ref = parity.reference_run(spec, 0, parity.DEFAULT_STEPS)
    arrays = {"output_at_init": ref["forward"]}
    for name, ws in (("grad", ref["grads"]), ("final", ref["final"])):
        for i, w in enumerate(ws):
            arrays[f"{name}_kernel_{i}"], arrays[f"{name}_bias_{i}"] = w.kernel, w.bias
    rec = {"arrays": arrays, "parity": {"steps": 50, "step_losses": ref["step_losses"][:12],
                                        "epoch_losses": ref["epoch_losses"], "first_batch_loss": ref["first_batch_loss"]}}
    out = parity.analyze(rec, ref)
    assert out["steps_compared"] == 12 and out["steps_in_run"] == 15 and len(out["reference"]["step_losses"]) == 12
    assert out["verdict"] == "same" and out["reference"]["steps_per_epoch"] == 5
    recs = _records(spec, 15, 15)
    for r in recs:
        r["parity"].update(steps_compared=15, steps_in_run=15)
    table = unpadded(report.parity_table(recs))
    assert "| loss max rel Δ, first 15 steps (of 50 asked; the run has 15) |" in table
    recs[0]["parity"]["steps"] = 10
    recs[0]["parity"]["steps_compared"] = 10
    assert "per row" in report.parity_table(recs) and "| first 10 steps |" in unpadded(report.parity_table(recs))


def test_report_explains_only_the_spec_optimizer(tmp_path, spec_dict):
    from frameworkbench.report import parity as report

    spec = load_spec(_five_step_spec(tmp_path, spec_dict))
    native = [{**r, "policy": "native", "defaults": {"optimizer": "SGD", "adam_epsilon": None,
                                                     "adam_epsilon_form": "epsilon-hat"}}
              for r in _records(spec, 5, 5, optimizer="sgd")]
    sgd = report.render(spec.name, _records(spec, 5, 5, optimizer="sgd") + native, tmp_path)
    assert "ε-hat" not in sgd and "Adam" not in sgd and "SGD in Keras' momentum form" in sgd
    adam = report.render(spec.name, _records(spec, 5, 5), tmp_path)
    assert "Adam in Keras' ε-hat form" in adam and "SGD" not in adam


# ----------------------------------------------------------------------------- CLI: options and reproduce command
def test_parity_policy_option_and_mode_alias():
    from frameworkbench.cli import parser

    assert parser().parse_args(["parity", "s.yaml"]).policy == "aligned"
    assert parser().parse_args(["parity", "s.yaml", "--policy", "both"]).policy == "both"
    assert parser().parse_args(["parity", "s.yaml", "--mode", "native"]).policy == "native"


def test_parity_regenerate_command_keeps_every_option(monkeypatch):
    import shlex

    from frameworkbench.cli import _parity_command, parser

    monkeypatch.delenv("FRAMEWORKBENCH_DB", raising=False)
    argv = ["parity", "my specs/s.yaml", "--targets", "torch,keras:jax", "--mode", "both", "--steps", "7",
            "--epochs", "3", "--seeds", "2", "--device", "cpu", "--threads", "1", "--timeout", "90",
            "--db", "/tmp/a b.db", "--out", "out dir", "--json", "--quiet"]
    args = parser().parse_args(argv)
    cmd = _parity_command(args)
    assert cmd.startswith("frameworkbench parity 'my specs/s.yaml' ")
    for part in ("--policy both", "--steps 7", "--epochs 3", "--seeds 2", "--device cpu", "--threads 1",
                 "--timeout 90.0", "--db '/tmp/a b.db'", "--out 'out dir'", "--targets torch,keras:jax"):
        assert part in cmd
    again = parser().parse_args(shlex.split(cmd)[1:])
    keep = ("spec", "targets", "policy", "steps", "epochs", "seeds", "device", "threads", "timeout", "db", "out")
    assert {k: getattr(again, k) for k in keep} == {k: getattr(args, k) for k in keep}
    monkeypatch.setenv("FRAMEWORKBENCH_DB", "/tmp/env.db")  # a database named by the environment is kept too
    assert "--db /tmp/env.db" in _parity_command(parser().parse_args(["parity", "s.yaml"]))


@pytest.mark.slow
def test_parity_default_steps_span_epochs_and_regenerate_reproduces(tmp_path, spec_dict):
    import re
    import shlex

    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    _five_step_spec(tmp_path, spec_dict)
    p = cli("parity", "five.json", "--targets", "torch", "--db", "p.db", "--out", "rep", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "first 15 steps (of 50 asked; the run has 15)" in p.stdout
    report = (tmp_path / "rep" / "parity-tiny.md").read_text()
    assert "first 15 steps (of 50 asked; the run has 15)" in report and "| same |" in unpadded(report)
    cmd = report.split("Regenerate with:")[1].strip().splitlines()[0].strip()
    assert "--db p.db" in cmd and "--out rep" in cmd
    argv = shlex.split(cmd)
    assert argv[:2] == ["frameworkbench", "parity"]
    first = report
    again = cli(*argv[1:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    mask = lambda text: re.sub(r"^\| \w{12} \|.*$", "RUN", text, flags=re.M)  # noqa: E731  run ids and times
    assert mask((tmp_path / "rep" / "parity-tiny.md").read_text()) == mask(first)
