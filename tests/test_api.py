"""Python API: load_spec, compare, build."""
import pytest

import frameworkbench as fb
from conftest import SPECS, BASE_SPEC
from frameworkbench.targets import TARGETS


def test_load_spec_from_path_and_dict():
    assert fb.load_spec(SPECS / "seed_torch_net.yaml").name == "seed_torch_net"
    assert fb.load_spec(BASE_SPEC).task == "binary"
    with pytest.raises(fb.SpecError):
        fb.load_spec({**BASE_SPEC, "task": "nope"})


@pytest.mark.slow
def test_compare_and_to_pandas(db_path):
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    cmp = fb.compare(BASE_SPEC, targets=["torch"], seeds=2, db=str(db_path))
    assert [r["seed"] for r in cmp.records] == [3, 4] and cmp.ok
    df = cmp.to_pandas()
    assert list(df["target"]) == ["torch", "torch"] and (df["params"] == 65).all()
    assert cmp.records[0]["history"] != cmp.records[1]["history"]  # different seeds differ


@pytest.mark.slow
def test_build_returns_native_model_with_shared_weights():
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    import numpy as np
    import torch

    from frameworkbench import weights

    model = fb.build(BASE_SPEC, "torch")
    assert isinstance(model, torch.nn.Module)
    expected = weights.initial_weights(fb.load_spec(BASE_SPEC), 3)[0].kernel.T
    assert np.array_equal(model[0].weight.detach().numpy(), expected)


# ----------------------------------------------------------------------------- arguments (no framework runs)
@pytest.fixture
def captured(monkeypatch):
    """compare() with the runner replaced: records what it would run."""
    from frameworkbench import api

    calls = {}

    def fake_run(spec, targets, opts, on_event=None):
        calls.update(spec=spec, targets=[t.name for t in targets], opts=opts, on_event=on_event)
        return []

    monkeypatch.setattr(api, "run", fake_run)
    return calls


def test_compare_passes_the_cli_run_options(captured, tmp_path):
    fb.compare(BASE_SPEC, targets="torch,keras:jax", epochs=3, batch_size=8, seeds=2, repeats=3, device="auto",
               threads=1, timeout=60, defaults="native", isolate="target", force=True, db=tmp_path / "x.db",
               progress=False)
    o = captured["opts"]
    assert captured["targets"] == ["torch", "keras:jax"] and captured["on_event"] is None
    assert captured["spec"].training["epochs"] == 3 and captured["spec"].training["batch_size"] == 8
    assert (o.seeds, o.repeats, o.device, o.threads, o.timeout, o.policy, o.isolate, o.force, o.db) == \
        (2, 3, "auto", 1, 60, "native", "target", True, str(tmp_path / "x.db"))
    fb.compare(BASE_SPEC, policy="native", progress=False)
    assert captured["opts"].policy == "native" and captured["spec"].training["epochs"] == 2
    from frameworkbench.targets import DEFAULT_TARGETS

    assert captured["targets"] == list(DEFAULT_TARGETS)


def test_compare_errors_name_api_arguments_not_cli_flags(captured):
    with pytest.raises(fb.SpecError) as e:
        fb.compare(BASE_SPEC, targets=["jax"])
    assert str(e.value).startswith("targets: unknown target 'jax'") and "--" not in str(e.value)
    with pytest.raises(fb.SpecError) as e:
        fb.compare(BASE_SPEC, device="cuda", seeds=0, repeats=0, defaults="x", isolate="y", threads=0,
                   timeout=-1, epochs=0, batch_size="3")
    fields = [p.path for p in e.value.problems]
    assert fields == ["epochs", "batch_size", "device", "threads", "seeds", "isolate", "repeats", "policy",
                      "timeout"], fields
    assert "--" not in str(e.value)
    with pytest.raises(fb.SpecError, match="defaults: is an alias of policy"):
        fb.compare(BASE_SPEC, policy="native", defaults="aligned")
    with pytest.raises(fb.SpecError, match="targets: expected target names"):
        fb.compare(BASE_SPEC, targets=[1])
    with pytest.raises(fb.SpecError, match="progress: expected True, False, None or a callable"):
        fb.compare(BASE_SPEC, progress="yes")
    with pytest.raises(fb.SpecError, match="^target: unknown target 'jax'"):
        fb.build(BASE_SPEC, "jax")
    assert captured == {}  # nothing ran


def test_progress_default_follows_terminal_and_notebook(monkeypatch):
    import sys
    import types

    from frameworkbench.api import progress_printer
    from frameworkbench.cli import Progress

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys, "stderr", Stream(True))
    assert isinstance(progress_printer(None), Progress)
    monkeypatch.setattr(sys, "stderr", Stream(False))
    assert progress_printer(None) is None and progress_printer(False) is None
    assert isinstance(progress_printer(True), Progress)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: object()))
    assert isinstance(progress_printer(None), Progress)  # Jupyter: stderr is no terminal, progress still shows
    seen = []
    assert progress_printer(seen.append) == seen.append


def test_progress_callable_gets_the_runner_events(captured):
    seen = []
    fb.compare(BASE_SPEC, targets=["torch"], progress=seen.append)
    captured["on_event"]({"event": "plan", "runs": 1})
    assert seen == [{"event": "plan", "runs": 1}]


def _record(run_id, seed, epochs, status="ok"):
    return {"run_id": run_id, "spec_name": "tiny", "target": "torch", "seed": seed, "repeat": 0, "status": status,
            "policy": "aligned", "device": "cpu", "created_at": "2026-01-02T03:04:05.000006+00:00",
            "final": {"loss": 0.5, "val_loss": 0.6},
            "history": [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.1 / e, "val_accuracy": 0.5, "seconds": 0.1}
                        for e in range(1, epochs + 1)]}


def test_history_frame_and_to_pandas_columns():
    import pandas as pd

    cmp = fb.Comparison(fb.load_spec(BASE_SPEC), [_record("a", 3, 2), _record("b", 4, 2),
                                                 {**_record("c", 5, 0, "skipped"), "device": None,
                                                  "device_requested": "gpu"}])
    h = cmp.history_frame()
    assert h.shape == (4, 12)
    assert list(h.columns) == ["run_id", "target", "seed", "repeat", "policy", "device", "status", "epoch", "loss",
                               "val_loss", "val_accuracy", "seconds"]
    assert list(h["seed"]) == [3, 3, 4, 4] and list(h["epoch"]) == [1, 2, 1, 2]
    df = cmp.to_pandas()
    assert {"policy", "device"} <= set(df.columns) and list(df["device"]) == ["cpu", "cpu", "gpu"]
    assert pd.api.types.is_datetime64_any_dtype(df["created_at"]) and df["created_at"][0].year == 2026
    empty = fb.Comparison(cmp.spec, []).history_frame()
    assert empty.empty and "epoch" in empty.columns


@pytest.mark.slow
def test_compare_with_run_overrides_and_history_frame(db_path, capsys):
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    cmp = fb.compare(BASE_SPEC, targets=["torch"], epochs=1, repeats=2, db=db_path, progress=True)
    assert cmp.ok and [r["repeat"] for r in cmp.records] == [0, 1]
    assert [len(r["history"]) for r in cmp.records] == [1, 1]
    h = cmp.history_frame()
    assert h.shape[0] == 2 and {"loss", "val_loss", "val_accuracy", "policy", "device"} <= set(h.columns)
    assert set(h["device"]) == {"cpu"} and set(h["policy"]) == {"aligned"}
    assert "[1/2] torch seed 3: epoch 1/1 loss" in capsys.readouterr().err


def test_compare_docstring_names_the_default_targets():
    from frameworkbench.targets import DEFAULT_TARGETS

    doc = " ".join(fb.compare.__doc__.split())
    assert "None for the defaults: " + ", ".join(DEFAULT_TARGETS) + ";" in doc
