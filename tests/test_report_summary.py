"""Per-spec reports and `results` from synthetic records (no ML framework)."""
from __future__ import annotations

import copy
import csv
import io
import json
import re
import shlex

import pytest

from frameworkbench import cli
from frameworkbench.report import spec_plots, summary
from frameworkbench.report.markdown import Seconds, cell
from frameworkbench.report.tables import RESULTS_COLUMNS, comparison_table, run_row, target_summary
from frameworkbench.store import Store

SPEC = {"name": "toy", "task": "binary", "input_shape": [4],
        "layers": [{"type": "dense", "units": 1, "activation": {"name": "sigmoid"}, "use_bias": True}],
        "loss": {"name": "binary_crossentropy"}, "optimizer": {"name": "adam", "learning_rate": 0.001},
        "metrics": ["accuracy"], "training": {"epochs": 2, "batch_size": 8, "seed": 0},
        "data": {"source": "synthetic", "standardize": True}, "init": "shared"}
_n = [0]


def unpadded(text: str) -> str:
    """Markdown with the table cells' padding removed: ``|  a   |`` becomes ``| a |``."""
    return re.sub(r"\| +", "| ", re.sub(r" +\|", " |", text))


def rec(target="torch", seed=0, repeat=0, loss=0.5, policy="aligned", epochs=2, step_s=0.001, status="ok",
        spec=None, **extra) -> dict:
    """One stored-like training record; each call is newer than the previous one."""
    _n[0] += 1
    spec = copy.deepcopy(spec or SPEC)
    spec["training"]["epochs"] = epochs
    return {"run_id": f"r{_n[0]:04d}", "batch_id": "b", "created_at": f"2026-01-01T00:00:{_n[0]:02d}.{_n[0]:06d}",
            "spec_name": spec["name"], "spec_hash": f"hash{epochs}{spec['task'][:3]}0123456789", "spec": spec,
            "dataset_hash": "d" * 16, "dataset": {"source": "synthetic-binary", "n_train": 80, "n_val": 20,
                                                 "n_features": 4},
            "target": target, "seed": seed, "repeat": repeat, "status": status, "mode": "train", "policy": policy,
            "device_requested": "cpu", "device": "cpu", "threads": 2, "run_key": f"k{target}{seed}{repeat}{policy}",
            "param_count": 5, "final": {"loss": loss, "val_loss": loss + 0.1, "val_accuracy": 0.9},
            "history": [{"epoch": e + 1, "loss": loss + 1 - e, "val_loss": loss + 1.1 - e} for e in range(epochs)],
            "timings": {"median_step_s": step_s, "step_iqr_s": step_s / 10, "median_epoch_s": 0.0123,
                        "first_epoch_s": 0.5, "import_s": 1.2437},
            "versions": {"frameworkbench": "0.1.0"}, "host": {"cpu": "x"}, "warnings": [], **extra}


def test_repeats_are_counted_and_their_median_taken():
    recs = [rec(repeat=i, loss=v, step_s=s) for i, (v, s) in enumerate([(0.9, 0.003), (0.1, 0.001), (0.2, 0.002)])]
    (row,) = target_summary(recs)
    assert row["runs"] == 3 and row["loss"] == 0.2 and row["median_step_ms"] == pytest.approx(2.0)
    text = unpadded(summary.render("toy", recs))
    assert "| torch | ok | 3 | cpu | 5 | 0.2 |" in text and "seeds [0] × 3 repeats" in text
    assert "| 2 ms |" in text  # median of the three step times, with its unit


def test_failed_runs_are_counted_apart_from_the_runs_in_the_median():
    recs = [rec(repeat=0), rec(repeat=1, status="failed", error="boom")]
    assert "| torch | failed/ok | 1 of 2 |" in unpadded(comparison_table(recs))


def test_aligned_and_native_runs_are_separate_comparisons():
    recs = [rec(target=t, policy="aligned") for t in ("torch", "keras:jax")] + [rec(policy="native", loss=0.7)]
    groups, superseded = summary.comparison_groups(recs)
    assert [g["key"]["policy"] for g in groups] == ["native", "aligned"] and superseded == 0
    text = unpadded(summary.render("toy", recs))
    assert "## Comparison 1: defaults native" in text and "## Comparison 2: defaults aligned" in text
    assert "| keras:jax | ok |" in text and "| 0.7 |" in text


def test_an_epochs_override_is_its_own_comparison_named_by_what_differs():
    text = summary.render("toy", [rec(epochs=5), rec(epochs=1)])
    assert "## Comparison 1: training.epochs 1 · spec hash1bin" in text
    assert "## Comparison 2: training.epochs 5 · spec hash5bin" in text


def test_newest_rerun_of_a_run_wins_and_the_dropped_ones_are_counted():
    recs = [rec(loss=0.9), rec(loss=0.3)]
    groups, superseded = summary.comparison_groups(recs)
    assert [r["final"]["loss"] for r in groups[0]["records"]] == [0.3] and superseded == 1
    assert "1 older rerun of the same runs left out" in summary.render("toy", recs)


def test_latest_records_keeps_every_repeat():
    recs = [rec(repeat=i) for i in range(3)]
    assert len(summary.latest_records(recs)["toy"]) == 3


def test_results_rows_and_columns_name_policy_epochs_device_and_spec_hash():
    row = run_row(rec(policy="native", epochs=3))
    assert (row["policy"], row["epochs"], row["device"], row["spec_hash"]) == ("native", 3, "cpu", "hash3bin")
    assert {"policy", "epochs", "device", "spec_hash"} <= set(RESULTS_COLUMNS)


@pytest.mark.parametrize("seconds, text", [(0.01335, "13.4 ms"), (0.00085, "850 µs"), (1.2437, "1.24 s"),
                                           (0.0009996, "1 ms"), (0, "0 s"), (4.2e-8, "42 ns"), (1234.5, "1234 s")])
def test_durations_are_formatted_with_units(seconds, text):
    assert cell(Seconds(seconds)) == text


def test_standardised_regression_losses_are_labelled():
    spec = {**copy.deepcopy(SPEC), "task": "regression", "metrics": ["mae"]}
    r = rec(spec=spec)
    r["final"] = {"loss": 0.4, "val_loss": 0.5, "val_mae": 0.3}
    assert "| val loss (standardised target) | val mae (standardised target) |" in unpadded(comparison_table([r]))
    assert "standardised" not in comparison_table([rec()])


def test_plots_are_linked_or_their_absence_said(tmp_path, monkeypatch):
    recs = [rec(repeat=i) for i in range(2)]
    curves = spec_plots.loss_curves(recs)
    assert curves["torch"]["loss"] == [1.5, 0.5]
    monkeypatch.setattr(spec_plots, "available", lambda: False)
    assert "Plots skipped: matplotlib is not installed" in summary.render("toy", recs, plots_dir=tmp_path / "plots")
    assert not (tmp_path / "plots").exists()


def test_plots_are_written_next_to_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    (path,) = summary.write_reports([rec(), rec(target="keras:jax")], tmp_path)
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert len(pngs) == 2 and pngs[0].endswith("_loss.png") and pngs[1].endswith("_step_time.png")
    for name in pngs:
        assert f"](plots/{name})" in path.read_text()


def _cli(*argv: str) -> int:
    return cli.main(list(argv))


def test_regenerate_command_rewrites_the_identical_report(tmp_path, monkeypatch, capsys):
    db, out = tmp_path / "my results.db", tmp_path / "out dir"
    with Store(db) as st:
        for r in [rec(repeat=i) for i in range(3)] + [rec(policy="native")]:
            st.save(r)
    monkeypatch.setattr(spec_plots, "available", lambda: False)  # plots are covered above; keep this fast
    assert _cli("report", "--out", str(out), "--db", str(db)) == 0
    text = (out / "toy.md").read_text()
    command = text.split("Regenerate with:\n\n    ", 1)[1].splitlines()[0]
    assert command == f"frameworkbench report --out {shlex.quote(str(out))} --spec toy --db {shlex.quote(str(db))}"
    (out / "toy.md").unlink()
    assert _cli(*shlex.split(command)[1:]) == 0
    assert (out / "toy.md").read_text() == text


def test_results_formats_show_policy_and_spec_hash(tmp_path, capsys):
    db = tmp_path / "r.db"
    with Store(db) as st:
        st.save(rec(policy="native", epochs=3))
    for fmt in ("table", "markdown", "csv", "json"):
        capsys.readouterr()
        assert _cli("results", "--db", str(db), "--format", fmt) == 0
        out = capsys.readouterr().out
        if fmt == "csv":
            (row,) = csv.DictReader(io.StringIO(out))
        elif fmt == "json":
            (row,) = json.loads(out)
        else:
            assert "spec_hash" in out and "hash3bin" in out and "native" in out and "1.2 ms" not in out
            continue
        assert (row["policy"], str(row["epochs"]), row["spec_hash"], row["device"]) == ("native", "3", "hash3bin",
                                                                                          "cpu")
