"""The input pipeline and time accounting (issue 15): batches gathered from the plan's indices, the
epoch split into steps + input + other, and the instrumented epochs of the Keras targets."""
import json

import numpy as np
import pytest

from conftest import SPECS, cli
from frameworkbench import measure
from frameworkbench.adapters.base import Adapter, fits_on_device
from frameworkbench.execution.training import _timings
from frameworkbench.targets import TARGETS


class _Gather(Adapter):
    """The base class's input path only (no framework)."""

    def __init__(self):  # noqa: D107 - no target, no backend
        self.device = "cpu"

    build = set_weights = get_weights = train = predict = param_device = None
    loss_and_gradients = defaults_in_use = probes = None


def test_batches_gather_the_plans_rows_batch_by_batch():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    order = np.random.default_rng(0).permutation(10)
    timer = measure.StepTimer()
    got = list(_Gather().batches((x, y), order, 4, timer))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), x[order])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), y[order])
    assert timer.input_s > 0 and timer.durations == []
    sliced = list(_Gather().batches((x, y), None, 4, measure.StepTimer()))  # no order: slices, same as before
    np.testing.assert_array_equal(np.concatenate([b[0] for b in sliced]), x)


def test_input_inside_a_step_window_is_not_counted_twice():
    timer = measure.StepTimer()
    timer.start()
    timer.input_start()
    sum(range(200_000))
    timer.input_stop()
    timer.stop()
    assert timer.input_s > 0 and 0 <= timer.durations[0] < timer.input_s


def test_split_adds_up_and_uninstrumented_epochs_carry_no_steps():
    timer = measure.StepTimer()
    timer.durations, timer.input_s = [0.1, 0.1], 0.02
    sp = measure.epoch_split(0.25, timer)
    assert sp["step_s"] == pytest.approx(0.2) and sp["other_s"] == pytest.approx(0.03)
    assert sp["step_s"] + sp["input_s"] + sp["other_s"] == pytest.approx(sp["epoch_s"])
    plain = measure.epoch_split(0.2, measure.StepTimer(instrumented=False))
    assert plain["step_s"] is None and plain["other_s"] is None
    assert [measure.instrumented(e) for e in range(4)] == [True, True, False, False]


def test_headline_epoch_comes_from_uninstrumented_epochs_and_outside_share_warns():
    steps = [[0.02] * 10, [0.01] * 10, [], []]
    epochs = [0.5, 0.13, 0.1, 0.1]
    splits = [{"epoch": i + 1, "step_s": sum(s) if s else None} for i, s in enumerate(steps)]
    t = _timings(epochs, steps, 100, splits)
    assert t["median_epoch_s"] == 0.1 and t["headline_epochs"] == "uninstrumented"
    assert t["instrumented_epochs"] == [1, 2] and t["epoch_step_ratio"] == pytest.approx(1.0)
    slow = _timings([0.5, 0.13, 0.2, 0.2], steps, 100, splits)
    assert slow["outside_steps_share"] == pytest.approx(0.5)
    from frameworkbench.execution.training import _noise_warnings

    assert any("outside the steps" in w for w in _noise_warnings(steps, slow))
    assert not any("outside the steps" in w for w in _noise_warnings(steps, t))


def test_resident_only_under_a_quarter_of_device_memory():
    assert fits_on_device(100, 400) and not fits_on_device(101, 400) and not fits_on_device(1, None)


def test_report_shows_the_split():
    from frameworkbench.report.tables import time_split_table

    split = {"epoch": 2, "epoch_s": 1.0, "steps": 10, "step_s": 0.9, "input_s": 0.04, "other_s": 0.06}
    rec = {"target": "torch", "status": "ok",
           "timings": {"steady_split": split, "steps_per_epoch": 10, "epoch_per_step_s": 0.1,
                       "median_step_s": 0.09, "epoch_step_ratio": 1.1, "instrumented_epochs": [1, 2]}}
    text = time_split_table([rec])
    assert "90.0 %" in text and "4.0 %" in text and "6.0 %" in text and "1.1" in text
    assert time_split_table([{"target": "torch", "status": "ok", "timings": {}}]) is None


@pytest.mark.slow
def test_keras_records_the_split_with_one_instrumented_steady_epoch(db_path):
    """tf.keras (per-batch callback only in epochs 1-2) and torch (every epoch): the split adds up."""
    targets = [t for t in ("tf.keras", "torch") if TARGETS[t].is_installed()]
    if not targets:
        pytest.skip("requires: tensorflow or torch installed")
    recs = json.loads(cli("run", str(SPECS / "seed_tf_keras.yaml"), "--targets", ",".join(targets), "--epochs", "3",
                          "--db", str(db_path), "--json", "--threads", "1").stdout)
    for r in recs:
        t = r["timings"]
        assert r["status"] == "ok", r.get("error")
        want = [1, 2] if r["target"] == "tf.keras" else [1, 2, 3]
        assert t["instrumented_epochs"] == want and t["steps_per_epoch"] == 103
        assert t["headline_epochs"] == ("uninstrumented" if r["target"] == "tf.keras" else "instrumented")
        sp = t["steady_split"]
        assert sp["epoch"] == 2 and sp["steps"] == 103 and sp["step_s"] > 0
        parts = sp["step_s"] + (sp["input_s"] or 0) + sp["other_s"]
        assert parts == pytest.approx(sp["epoch_s"], rel=0.01) and sp["other_s"] >= -0.01 * sp["epoch_s"]
        assert (sp["input_s"] is None) == (r["target"] == "tf.keras")
        third = t["epoch_split"][2]["step_s"]
        assert third is None if r["target"] == "tf.keras" else third > 0
