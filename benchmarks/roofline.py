"""roofline: each target's training GFLOP/s on a large MLP as a fraction of the machine's matmul peak.

The peak is measured, not looked up: a square float32 matmul (n = 2048 by default) timed in
numpy, TensorFlow, JAX and PyTorch, each in a fresh process with the benchmark's thread
count; every call is read back to the host before the clock stops. The machine's peak is the
highest of the four libraries' *median* rates (the best library, never the best run).

Each target then trains the large MLP (default 1024-2048-2048-10, softmax, sparse categorical
cross-entropy, Adam, 4096 training rows, batch 256) through frameworkbench
(``frameworkbench.execution.runner.run``). FLOPs per training step = 3 × 2 × Σ(in·out over the dense
layers) × batch: forward 2·in·out per sample per layer, backward twice that. Bias, activation,
loss and optimizer FLOPs are left out, so the figures are slight underestimates. Achieved
GFLOP/s = FLOPs per step / frameworkbench's median step time (warm-up epoch excluded).
Forward-only GFLOP/s comes from the worker's own inference measurement (batch 1024).

    python -m benchmarks.roofline [--threads N] [--n 2048] [--rounds 1]
"""
from __future__ import annotations

import argparse
import sys

from . import _common as C

LIBS = ("numpy", "tensorflow", "jax", "torch")
BACKEND_LIB = {"tf.keras": "tensorflow", "keras:tensorflow": "tensorflow", "keras:jax": "jax",
               "keras:torch": "torch", "torch": "torch"}


def mlp_spec(widths: list[int], batch: int, n_train: int, epochs: int) -> dict:
    """A frameworkbench spec for an MLP widths[0] → … → widths[-1] (relu hidden, softmax out)."""
    layers = [{"type": "dense", "units": w, "activation": "relu"} for w in widths[1:-1]]
    layers.append({"type": "dense", "units": widths[-1], "activation": "softmax"})
    n_samples = n_train * 5 // 4  # validation_split 0.2 leaves n_train rows for training
    return {"name": "roofline_mlp_" + "-".join(map(str, widths)), "task": "multiclass",
            "input_shape": [widths[0]], "layers": layers,
            "loss": {"name": "sparse_categorical_crossentropy"}, "optimizer": {"name": "adam"},
            "metrics": ["accuracy"], "training": {"epochs": epochs, "batch_size": batch, "seed": 0},
            "data": {"source": "synthetic", "n_samples": n_samples, "n_features": widths[0],
                     "n_classes": widths[-1], "validation_split": 0.2, "seed": 0},
            "init": "shared"}


def train_flops_per_sample(widths: list[int]) -> float:
    """3 × forward FLOPs: 2·in·out per dense layer forward, twice that backward."""
    return 3 * forward_flops_per_sample(widths)


def forward_flops_per_sample(widths: list[int]) -> float:
    return 2.0 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def matmul_peaks(libs, n: int, threads: int, reps: int, timeout: float) -> dict:
    out = {}
    env = C.target_env("torch", threads)  # no framework switches; thread counts and device hiding only
    for lib in libs:
        res = C.run_module("benchmarks._handwritten", {"kind": "matmul", "lib": lib, "n": n, "threads": threads,
                                                       "warmup": 3, "reps": reps}, env, timeout)
        rates = [2.0 * n ** 3 / s / 1e9 for s in res["seconds"]]
        out[lib] = {"gflops": rates, "median": C.median(rates), "seconds": res["seconds"]}
        C.progress(f"roofline matmul {lib}: {out[lib]['median']:.1f} GFLOP/s")
    return out


def peak_table(peaks: dict, n: int, warn: C.Warnings) -> str:
    rows = []
    for lib, p in peaks.items():
        secs = p["seconds"]
        mark = warn.spread(f"{lib} matmul time", secs, "calls")
        rows.append([lib, C.fmt_time(C.median(secs)) + mark, C.fmt_pct(C.rel_iqr(secs)), f"{p['median']:.1f}"])
    return C.table([f"library ({n}×{n} float32 matmul)", "median time", "IQR", "GFLOP/s"], rows)


def train_table(runs: dict, peaks: dict, peak: float, flops_step: float, flops_fwd: float, warn: C.Warnings) -> str:
    rows = []
    for t, recs in runs.items():
        steps = [r["timings"]["median_step_s"] for r in recs]
        step = C.median(steps)
        step_iqr = C.median([r["timings"]["step_iqr_s"] / r["timings"]["median_step_s"] for r in recs])
        mark = "!" if step_iqr > C.IQR_WARN else ""
        if mark:
            warn.note(f"warning: {t} step time: IQR/median = {step_iqr:.0%} over the measured steps (> 10 %)")
        gf = flops_step / step / 1e9
        own = peaks[BACKEND_LIB[t]]["median"]
        inf = [r.get("inference", {}) or {} for r in recs]
        lat = C.median([(i.get("batch_large") or {}).get("median_s") for i in inf])
        fwd_gf = flops_fwd * 1024 / lat / 1e9 if lat == lat else float("nan")
        rows.append([t, C.fmt_time(step) + mark, C.fmt_pct(step_iqr), f"{gf:.1f}", C.fmt_pct(gf / peak),
                     C.fmt_pct(gf / own), f"{fwd_gf:.1f}", C.fmt_pct(fwd_gf / peak)])
    return C.table(["target", "train step", "IQR", "train GFLOP/s", "of machine peak", "of own backend's matmul",
                    "forward GFLOP/s", "of machine peak"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.roofline", description=__doc__.splitlines()[0])
    C.add_common_args(ap)
    ap.add_argument("--n", type=int, default=2048, help="matmul size for the peak (default 2048)")
    ap.add_argument("--reps", type=int, default=10, help="measured matmuls per library (default 10)")
    ap.add_argument("--widths", default="1024,2048,2048,10", help="MLP widths, input first (default 1024,2048,2048,10)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--train-rows", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=3, help="epochs; the first is warm-up (default 3)")
    ap.add_argument("--rounds", type=int, default=1, help="frameworkbench runs per target (default 1)")
    args = ap.parse_args(argv)
    clock = C.Stopwatch()
    threads = args.threads or C.available_cores()
    C.pin_cores(threads)
    targets = C.targets_from(args.targets)
    widths = [int(w) for w in args.widths.split(",")]
    info = C.machine(threads)

    from frameworkbench.spec import load_spec

    spec = load_spec(mlp_spec(widths, args.batch, args.train_rows, args.epochs))
    libs = sorted({BACKEND_LIB[t] for t in targets} | {"numpy"}, key=LIBS.index)
    peaks = matmul_peaks(libs, args.n, threads, args.reps, args.timeout)
    peak_lib = max(peaks, key=lambda k: peaks[k]["median"])
    peak = peaks[peak_lib]["median"]
    flops_step = train_flops_per_sample(widths) * args.batch
    runs: dict[str, list[dict]] = {t: [] for t in targets}
    for r in range(args.rounds):
        for t in targets:
            rec = C.frameworkbench_run(spec, t, threads, args.timeout)
            runs[t].append(rec)
            C.progress(f"roofline round {r + 1}/{args.rounds} {t}: step {C.fmt_time(rec['timings']['median_step_s'])}"
                       f" = {flops_step / rec['timings']['median_step_s'] / 1e9:.1f} GFLOP/s")
    warn = C.Warnings()
    ptab = peak_table(peaks, args.n, warn)
    ttab = train_table(runs, peaks, peak, flops_step, forward_flops_per_sample(widths), warn)
    lines = [C.header("roofline: training GFLOP/s vs the measured matmul peak", info), "", ptab, "",
             f"machine peak: {peak:.1f} GFLOP/s ({peak_lib}, median of {args.reps} calls)", "",
             f"MLP {'-'.join(map(str, widths))} (relu, softmax), Adam, batch {args.batch}, {args.train_rows} training "
             f"rows, {args.epochs} epochs (first = warm-up), through frameworkbench; "
             f"{flops_step / 1e9:.2f} GFLOP per training step (3 × 2 × Σ in·out × batch); "
             f"step = frameworkbench's median step time (timings.median_step_s), median over {args.rounds} run(s); "
             "forward = the worker's inference measurement at batch 1024.", "", ttab]
    if warn.lines:
        lines += ["", warn.render()]
    lines += ["", f"roofline benchmark wall time: {clock.elapsed():.0f} s"]
    C.publish("roofline", lines, {
        "machine": info, "matmul_n": args.n, "peaks": peaks, "machine_peak_gflops": peak, "machine_peak_library": peak_lib,
        "widths": widths, "batch": args.batch, "train_flops_per_step": flops_step,
        "targets": {t: {"median_step_s": [r["timings"]["median_step_s"] for r in recs],
                        "step_iqr_s": [r["timings"]["step_iqr_s"] for r in recs],
                        "train_gflops": flops_step / C.median([r["timings"]["median_step_s"] for r in recs]) / 1e9,
                        "fraction_of_peak": flops_step / C.median([r["timings"]["median_step_s"] for r in recs])
                        / 1e9 / peak,
                        "inference": [r.get("inference") for r in recs]}
                    for t, recs in runs.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
