"""scaling: step time vs batch size and vs width, per target; where per-step overhead or compute dominates.

The model is an MLP 64 → w → w → 1 (relu, sigmoid, binary cross-entropy, Adam). Two sweeps:
batch size 32 … 4096 at width 256, and width 32 … 2048 at batch 256. Each target runs all its
configurations in one fresh process with the minimal hand-written script of
``benchmarks/_handwritten.py`` (the overhead benchmark compares that script with frameworkbench
itself), ``--rounds`` times with the order of the targets alternating. Every configuration
trains a new model for 1 warm-up epoch + 3 measured epochs of 10 steps. Every step is timed on
its own (Keras: a per-batch callback that copies the loss to the host before reading the clock;
torch: after ``loss.item()``), so per-epoch costs (a new data iterator each epoch) stay out; a
point is the median of the measured steps of all rounds, with their IQR.

Each sweep is summarised by a fit of t = a + c·x in relative error (x = batch size, or FLOPs per
step for the width sweep): a is the per-step overhead, c the cost per sample (per GFLOP), and
x* = a / c the point where compute starts to dominate. The log-log slope between the two
smallest and the two largest points shows the two regimes: ≈ 0 where overhead dominates,
≈ 1 (batch) or ≈ 2 (width: FLOPs grow as w²) where compute does.
Writes benchmarks/out/scaling.png (matplotlib, Agg).

    python -m benchmarks.scaling [--threads 1] [--batches 32,...,4096] [--widths 32,...,2048]
"""
from __future__ import annotations

import argparse
import math
import sys

from . import _common as C

IN_FEATURES = 64
STEPS_PER_EPOCH = 10
MEASURED_EPOCHS = 3


def layers(width: int) -> list[list]:
    return [[width, "relu"], [width, "relu"], [1, "sigmoid"]]


def train_flops(width: int, batch: int) -> float:
    dims = [IN_FEATURES, width, width, 1]
    return 6.0 * sum(a * b for a, b in zip(dims[:-1], dims[1:])) * batch


def configs(batches: list[int], widths: list[int], base_width: int, base_batch: int) -> list[dict]:
    want = [(base_width, b) for b in batches] + [(w, base_batch) for w in widths]
    seen, out = set(), []
    for w, b in want:
        if (w, b) in seen:
            continue
        seen.add((w, b))
        out.append({"name": f"w{w}-b{b}", "width": w, "n_samples": STEPS_PER_EPOCH * b, "n_features": IN_FEATURES,
                    "layers": layers(w), "loss": "binary_crossentropy", "lr": 1e-3, "batch_size": b,
                    "epochs": 1 + MEASURED_EPOCHS, "step_times": True})
    return out


def fit_overhead(xs: list[float], ts: list[float]) -> tuple[float, float]:
    """Least squares of t = a + c·x in relative error (weights 1/t²); returns (a, c), a clipped at 0."""
    w = [1.0 / t ** 2 for t in ts]
    sw, sx, sy = sum(w), sum(wi * x for wi, x in zip(w, xs)), sum(wi * t for wi, t in zip(w, ts))
    sxx = sum(wi * x * x for wi, x in zip(w, xs))
    sxy = sum(wi * x * t for wi, x, t in zip(w, xs, ts))
    det = sw * sxx - sx * sx
    if det == 0:
        return float("nan"), float("nan")
    a = (sxx * sy - sx * sxy) / det
    c = (sw * sxy - sx * sy) / det
    if a < 0:  # no measurable fixed cost: refit through the origin
        a, c = 0.0, sxy / sxx
    return a, c


def slope(x0: float, x1: float, t0: float, t1: float) -> float:
    return math.log(t1 / t0) / math.log(x1 / x0)


def sweep_table(res: dict, key: str, values: list[int], fixed: dict, warn: C.Warnings, unit: str) -> str:
    rows = []
    for t, by in res.items():
        pts = [by[(fixed["width"], v) if key == "batch" else (v, fixed["batch"])] for v in values]
        cells = []
        for v, p in zip(values, pts):
            mark = warn.flagged(f"{t} {key} {v}", p["per_step"])
            cells.append(C.fmt_time(p["step"]) + mark)
        xs = [float(v) if key == "batch" else train_flops(v, fixed["batch"]) / 1e9 for v in values]
        ts = [p["step"] for p in pts]
        a, c = fit_overhead(xs, ts)
        cross = a / c if c > 0 else float("nan")
        cross_s = (f"{cross:.0f}" if key == "batch" else f"{cross:.3g} GFLOP") if math.isfinite(cross) else "n/a"
        rows.append([t] + cells + [f"{slope(values[0], values[1], ts[0], ts[1]):.2f}",
                                   f"{slope(values[-2], values[-1], ts[-2], ts[-1]):.2f}",
                                   C.fmt_time(a), (C.fmt_time(c) if key == "batch" else C.fmt_time(c) + "/GFLOP"),
                                   cross_s])
    warn.summary(f"measured steps of a point ({key} sweep)")
    head = (["target"] + [f"{key} {v}" for v in values] +
            [f"slope {values[0]}→{values[1]}", f"slope {values[-2]}→{values[-1]}", "overhead a",
             "per " + unit, "compute = overhead at"])
    return C.table(head, rows)


def plot(res: dict, batches: list[int], widths: list[int], base_width: int, base_batch: int, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for t, by in res.items():
        tb = [by[(base_width, b)]["step"] * 1e3 for b in batches]
        tw = [by[(w, base_batch)]["step"] * 1e3 for w in widths]
        axes[0].plot(batches, tb, marker="o", label=t)
        axes[1].plot(widths, tw, marker="o", label=t)
    for ax, xs, power, label in ((axes[0], batches, 1, "∝ batch"), (axes[1], widths, 2, "∝ width²")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        # reference line of the compute regime, anchored at the largest point of the slowest target
        top = max(max(by[(base_width, xs[-1])]["step"] if ax is axes[0] else by[(xs[-1], base_batch)]["step"]
                      for by in res.values()) * 1e3, 1e-9)
        ax.plot(xs, [top * (x / xs[-1]) ** power for x in xs], "k--", lw=1, alpha=0.5, label=label)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylabel("time per training step (ms)")
    axes[0].set_xlabel(f"batch size (width {base_width})")
    axes[1].set_xlabel(f"hidden width (batch {base_batch})")
    axes[0].set_title("step time vs batch size")
    axes[1].set_title("step time vs width")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"MLP {IN_FEATURES}→w→w→1, Adam; hand-written script per target; flat = per-step overhead, "
                 "parallel to the dashed line = compute", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.splitlines()[0])
    C.add_common_args(ap)
    ap.add_argument("--batches", default="32,64,128,256,512,1024,2048,4096")
    ap.add_argument("--widths", default="32,64,128,256,512,1024,2048")
    ap.add_argument("--base-width", type=int, default=256, help="width of the batch sweep (default 256)")
    ap.add_argument("--base-batch", type=int, default=256, help="batch size of the width sweep (default 256)")
    ap.add_argument("--rounds", type=int, default=2, help="processes per target, order alternating (default 2)")
    args = ap.parse_args(argv)
    clock = C.Stopwatch()
    threads = args.threads or 1
    C.pin_cores(threads)
    targets = C.targets_from(args.targets)
    batches = [int(b) for b in args.batches.split(",")]
    widths = [int(w) for w in args.widths.split(",")]
    info = C.machine(threads)
    cfgs = configs(batches, widths, args.base_width, args.base_batch)
    res: dict[str, dict] = {t: {} for t in targets}
    for r in range(args.rounds):
        for t in (targets if r % 2 == 0 else targets[::-1]):  # alternate the order: drift hits all alike
            out = C.handwritten(t, {"kind": "train", "configs": cfgs}, threads, args.timeout)
            for cfg, c in zip(cfgs, out["configs"]):
                point = res[t].setdefault((cfg["width"], cfg["batch_size"]), {"per_step": [], "epoch_s": []})
                point["per_step"] += [d for epoch in c["step_s"][1:] for d in epoch]  # warm-up epoch left out
                point["epoch_s"].append(c["epoch_s"])
            C.progress(f"scaling round {r + 1}/{args.rounds} {t}: {len(cfgs)} configurations in {out['wall_s']:.0f} s")
    for by in res.values():
        for point in by.values():
            point["step"] = C.median(point["per_step"])  # median over the pooled steps of every round
    warn = C.Warnings()
    btab = sweep_table(res, "batch", batches, {"width": args.base_width}, warn, "sample")
    wtab = sweep_table(res, "width", widths, {"batch": args.base_batch}, warn, "GFLOP")
    png = C.OUT / "scaling.png"
    C.OUT.mkdir(parents=True, exist_ok=True)
    plot(res, batches, widths, args.base_width, args.base_batch, png)
    lines = [C.header("scaling: step time vs batch size and width", info), "",
             f"MLP {IN_FEATURES} → w → w → 1, Adam, hand-written script per target (one process per target); "
             f"{STEPS_PER_EPOCH} steps per epoch, 1 warm-up + {MEASURED_EPOCHS} measured epochs per point, "
             f"{args.rounds} rounds (one process per target and round, order alternating); step = median of the "
             f"{args.rounds * STEPS_PER_EPOCH * MEASURED_EPOCHS} measured steps, each timed after a host copy of "
             "its loss; '!' = IQR/median > 10 %. Fit t = a + c·x (relative error): a = per-step overhead, "
             "c = cost per sample (batch sweep) or per GFLOP of training work (width sweep).", "",
             f"Batch sweep (width {args.base_width}):", "", btab, "",
             f"Width sweep (batch {args.base_batch}; training work "
             f"{train_flops(widths[0], args.base_batch) / 1e9:.3g} … "
             f"{train_flops(widths[-1], args.base_batch) / 1e9:.3g} GFLOP per step):", "", wtab]
    if warn.lines:
        lines += ["", warn.render()]
    lines += ["", f"plot: {png.relative_to(C.REPO)}", f"scaling benchmark wall time: {clock.elapsed():.0f} s"]
    C.publish("scaling", lines, {"machine": info, "batches": batches, "widths": widths,
                                 "base_width": args.base_width, "base_batch": args.base_batch,
                                 "steps_per_epoch": STEPS_PER_EPOCH,
                                 "results": {t: {f"w{w}-b{b}": v for (w, b), v in by.items()}
                                             for t, by in res.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
