"""The benchmark scripts import without a framework and format their tables from fake numbers."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FRAMEWORKS = ("tensorflow", "keras", "torch", "jax", "tf_keras")


@pytest.mark.parametrize("name", ["_common", "_handwritten", "_demo_timed", "overhead", "roofline", "scaling",
                                  "wallclock", "layers", "_handwritten_layers"])
def test_imports_without_a_framework(name):
    before = {m for m in sys.modules if m.split(".")[0] in FRAMEWORKS}
    importlib.import_module(f"benchmarks.{name}")
    after = {m for m in sys.modules if m.split(".")[0] in FRAMEWORKS}
    assert after == before


def test_common_helpers():
    from benchmarks import _common as C

    assert C.fmt_time(0.000123) == "123 µs" and C.fmt_time(0.0456) == "45.6 ms" and C.fmt_time(2.5) == "2.5 s"
    assert C.median([3, 1, 2]) == 2 and C.iqr([1.0]) == 0.0 and C.iqr([1, 2, 3, 4, 5]) == 2
    assert C.steady_step_s([9.0, 1.0, 2.0, 3.0], 10) == pytest.approx(0.2)
    w = C.Warnings()
    assert w.spread("x", [1.0, 1.0, 1.0]) == "" and w.spread("y", [1.0, 2.0, 3.0]) == "!"
    assert len(w.lines) == 1 and "y" in w.lines[0]
    text = C.table(["a", "b"], [["x", "1"], ["yy", "22"]])
    assert text.splitlines()[1] == "|:----|----:|" and text.splitlines()[3] == "| yy  |  22 |"  # first left, rest right


def test_overhead_tables():
    from benchmarks import _common as C
    from benchmarks import overhead

    res = {"torch": {"hw": [1e-4, 1.1e-4, 1e-4], "fb": [1.02e-4, 1.1e-4, 1.03e-4], "fb_timer": [9e-5] * 3,
                     "ratio": [1.02, 1.0, 1.03]},
           "tf.keras": {"hw": [1e-3] * 3, "fb": [2e-3] * 3, "fb_timer": [1e-3] * 3, "ratio": [2.0] * 3}}
    text, verdict = overhead.overhead_table(res, C.Warnings())
    assert verdict == {"torch": True, "tf.keras": False}
    assert "MISSED (+100 %)" in text and "met" in text
    ex = {"tf.keras": {"pieces": ["plain", "+ x"], "rounds": [{"per_step": [1e-3, 2e-3, 1e-3], "ratios": [1.0, 2.0]}]}}
    assert "frameworkbench itself" in overhead.explain_table(ex, res)


def test_roofline_flops_and_tables():
    from benchmarks import _common as C
    from benchmarks import roofline

    assert roofline.forward_flops_per_sample([4, 3, 2]) == 2 * (12 + 6)
    assert roofline.train_flops_per_sample([4, 3, 2]) == 3 * 36
    spec = roofline.mlp_spec([8, 16, 3], batch=4, n_train=32, epochs=2)
    from frameworkbench.spec import load_spec

    s = load_spec(spec)  # a valid frameworkbench spec
    assert s.training["batch_size"] == 4 and s.n_features == 8
    peaks = {"numpy": {"median": 100.0, "seconds": [0.1, 0.1]}, "torch": {"median": 80.0, "seconds": [0.2, 0.1]}}
    assert "numpy" in roofline.peak_table(peaks, 2048, C.Warnings())
    rec = {"timings": {"median_step_s": 0.1, "step_iqr_s": 0.01},
           "inference": {"batch_large": {"median_s": 0.05}}}
    text = roofline.train_table({"torch": [rec]}, peaks, 100.0, 5e9, 1e6, C.Warnings())
    assert "50.0" in text and "50 %" in text  # 5 GFLOP / 0.1 s = 50 GFLOP/s = 50 % of 100


def test_scaling_fit_and_tables():
    from benchmarks import _common as C
    from benchmarks import scaling

    xs = [32.0, 64.0, 128.0, 256.0]
    a, c = scaling.fit_overhead(xs, [1e-3 + 1e-5 * x for x in xs])
    assert a == pytest.approx(1e-3) and c == pytest.approx(1e-5)
    assert scaling.slope(1, 2, 1.0, 2.0) == pytest.approx(1.0)
    batches, widths = [32, 64], [32, 64]
    by = {(256, b): {"step": 1e-3 * b / 32, "per_step": [1e-3 * b / 32] * 3} for b in batches}
    by.update({(w, 256): {"step": 1e-3 * (w / 32) ** 2, "per_step": [1e-3 * (w / 32) ** 2] * 3} for w in widths})
    res = {"torch": by}
    btab = scaling.sweep_table(res, "batch", batches, {"width": 256}, C.Warnings(), "sample")
    wtab = scaling.sweep_table(res, "width", widths, {"batch": 256}, C.Warnings(), "GFLOP")
    assert "1.00" in btab and "2.00" in wtab  # slopes: ∝ batch, ∝ width²
    assert len(scaling.configs(batches, widths, 256, 256)) == 4


def test_wallclock_breakdown_phases():
    from benchmarks import _common as C
    from benchmarks import wallclock

    ph = {"data_preparation_s": 0.1, "store_s": 0.05, "table_s": 0.01, "report_files_s": 0.04, "inside_s": 19.5,
          "cli_import_s": 0.2, "launches": [{"target": "torch", "run_id": "a", "launch_s": 9.0, "worker_wall_s": 8.5}]}
    recs = [{"status": "ok", "worker_wall_s": 8.5, "timings": {"import_s": 2.0, "build_s": 0.5, "epoch_s": [1.0, 0.5]},
             "inference": {"warmup": 1, "repeats": 9, "batch_1": {"median_s": 0.01}, "batch_large": {"median_s": 0.02}}}]
    d = wallclock.breakdown(20.0, ph, recs)
    # each phase from its own inputs (the rows then add up to the wall time by construction)
    assert (d["workers"], d["data_preparation"], d["reporting"]) == pytest.approx((8.5, 0.1, 0.1))
    assert d["orchestration_rest"] == pytest.approx(20.0 - 8.5 - 0.1 - 0.1)
    assert (d["imports"], d["build"], d["train_first"], d["train_later"]) == pytest.approx((2.0, 0.5, 1.0, 0.5))
    assert d["worker_rest"] == pytest.approx(8.5 - 2.0 - 0.5 - 1.0 - 0.5 - 0.3)
    assert d["cli_start"] == pytest.approx(0.5 + 0.2)
    assert d["inference"] == pytest.approx(0.3) and d["worker_exit"] == pytest.approx(0.5)
    assert d["orchestration"] == pytest.approx(11.5)
    text = wallclock.wall_table([d], C.Warnings())
    assert "100.0 %" in text and "exit" in wallclock.exit_table([d])


# --------------------------------------------------------------------------- benchmarks.layers
SOFTMAX = {"name": "softmax"}
CNN_LAYERS = [{"type": "conv2d", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
               "activation": {"name": "relu"}}, {"type": "batch_norm"},
              {"type": "max_pool2d", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"},
              {"type": "conv2d", "filters": 6, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid"},
              {"type": "flatten"}, {"type": "dropout", "rate": 0.25},
              {"type": "dense", "units": 5, "activation": SOFTMAX}]
RNN_LAYERS = [{"type": "lstm", "units": 6, "return_sequences": True}, {"type": "layer_norm"},
              {"type": "conv1d", "filters": 3, "kernel_size": [2], "strides": [1], "padding": "same"},
              {"type": "batch_norm"}, {"type": "gru", "units": 4, "return_sequences": True},
              {"type": "global_avg_pool1d"}, {"type": "dense", "units": 5, "activation": SOFTMAX}]


def test_handwritten_layers_helpers():
    from benchmarks import _handwritten_layers as H
    from benchmarks import layers

    assert H.unsupported_types(CNN_LAYERS + RNN_LAYERS) == []
    assert H.unsupported_types([{"type": "self_attention"}, {"type": "dense"}]) == ["self_attention"]
    head = H.logits_layers(CNN_LAYERS, "sparse_categorical_crossentropy")[-1]
    assert head["activation"] == {"name": "linear"} and head["units"] == 5  # torch / flax end in logits
    assert H.logits_layers(CNN_LAYERS, "mse") == CNN_LAYERS
    assert H.logits_layers([{"type": "activation", "activation": "sigmoid"}], "binary_crossentropy") == []
    cfg = {"name": "m", "layers": CNN_LAYERS}
    rnn = layers.rnn_configs((5, 3, 7), 2)
    assert [c["name"] for c in rnn] == ["lstm", "gru"] and rnn[0]["layers"][0] == {"type": "lstm", "units": 7}
    assert [c.get("loop") for c in layers.extra_configs("flax", cfg, rnn)] == [None, None, *H.FLAX_LOOPS[1:]]
    assert [c.get("input") for c in layers.extra_configs("keras:tensorflow", cfg, rnn)] == [None, None, "tf.data"]
    assert layers.extra_configs("torch", cfg, rnn) == rnn and layers.extra_configs("flax", cfg, []) == []
    assert layers.parse_shape("4,2,8") == (4, 2, 8)
    with pytest.raises(SystemExit):
        layers.parse_shape("4,2")


def test_layers_tables():
    from benchmarks import _common as C
    from benchmarks import layers

    res = {"torch": {"hw": [1e-3, 1.1e-3, 1e-3], "fb": [1.02e-3, 1.1e-3, 1.03e-3], "fb_timer": [9e-4] * 3,
                     "ratio": [1.02, 1.0, 1.03], "error": None, "kernels": {"lstm": "torch.nn.LSTM"}},
           "keras:torch": {"hw": [4e-3] * 3, "fb": [6e-3] * 3, "fb_timer": [5e-3] * 3, "ratio": [1.5] * 3,
                           "error": None, "kernels": {"lstm": "backend.lstm"}},
           "flax": {"hw": [], "fb": [], "fb_timer": [], "ratio": [], "error": "flax failed", "kernels": {}}}
    text, verdict = layers.ratio_table(res, C.Warnings())
    assert verdict == {"torch": True, "keras:torch": False, "flax": None}
    assert "MISSED (+50 %)" in text and "not measured: flax failed" in text and "1.020" in text
    assert "4.00" in layers.default_path_table(res)  # keras:torch: 4 ms over torch's 1 ms
    found = {"steps": {"torch": {"lstm": [2e-3], "gru": [1e-3]}, "keras:torch": {"lstm": [6e-3], "gru": [5e-3]},
                       "flax": {"loop:nnx_jit": [3e-3]}},
             "kernels": {"torch": {"lstm": "torch.nn.LSTM"}, "keras:torch": {"lstm": "backend.lstm"}, "flax": {}}}
    table = layers.rnn_table(found, (4, 2, 8))
    assert "3.00" in table and "5.00" in table and "backend.lstm" in table and "| flax" not in table
    res["flax"]["hw"] = [1e-3]
    variants = layers.variants_table("m", res, found["steps"])
    rows = [line for line in variants.splitlines() if line.startswith("| flax")]
    assert len(rows) == 2 and "loop:nnx_jit" in rows[1] and "3.00" in rows[1]  # 3 ms over the 1 ms baseline
    lines = "\n".join(layers.findings_lines({"m": res}, found, (4, 2, 8), {"m": verdict}))
    assert "m on keras:torch: frameworkbench 6 ms vs hand-written 4 ms per step" in lines and "ratios 1.500" in lines


@pytest.mark.slow
@pytest.mark.parametrize("family", ["torch", "flax"])
def test_handwritten_models_build(family):
    """The hand-written torch / flax models of a CNN and of a recurrent net with a layout change give
    one row of class scores per sample."""
    from benchmarks import _handwritten_layers as H

    for lays, shape in ((CNN_LAYERS, [8, 8, 1]), (RNN_LAYERS, [7, 3])):
        if family == "torch":
            import torch

            model, first = H.torch_model(lays, shape, False)
            x = torch.zeros((3, *shape))
            out = model(x.movedim(-1, 1) if first else x)
        else:
            import jax.numpy as jnp

            out = H.flax_model(lays, shape, False)(jnp.zeros((3, *shape)))
        assert tuple(out.shape) == (3, 5)


@pytest.mark.slow
def test_layers_benchmark_runs(tmp_path):
    """Tiny settings on torch: the table with a ratio, the findings, a spec that is not there named."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "benchmarks.layers", "--targets", "torch", "--rounds", "1",
                           "--epochs", "2", "--rnn-shape", "3,2,4", "--specs", "cnn_digits,no_such_spec",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "no_such_spec: not available (specs/no_such_spec.yaml does not exist)" in out
    row = next(line for line in out.splitlines() if line.startswith("| torch") and "goal" not in line)
    ratio = float(row.split("|")[7].strip().rstrip("!"))
    assert 0 < ratio < 100
    assert "### Findings" in out and "× torch nn.LSTM" in out
    assert (tmp_path / "layers.md").read_text().strip() == out.strip()
