"""wallclock: the demo comparison end to end, its wall time split into phases.

Runs the command ``make demo`` runs (``frameworkbench run specs/seed_tf_keras.yaml --out DIR``,
all five targets, default threads) in a fresh process, with a fresh database and report
folder each repeat, through ``benchmarks/_demo_timed.py`` (timers around the phases, nothing
else changed). The wall time is split into what the workers report (framework import, model
build, first epoch, later epochs, the rest of the worker's life) and what happens outside them
(data preparation, reporting = storing + comparison table + markdown report, and the rest:
orchestration).

Goal (issue 4): orchestration — wall time minus the workers' own time (``worker_wall_s``,
measured by the runner from spawning a worker to its record) — ≤ 5 % of the wall time.

    python -m benchmarks.wallclock [--repeats 2] [--spec specs/seed_tf_keras.yaml]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import _common as C

GOAL = 0.05


def one_run(spec: str, extra: list[str], timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="fb-wallclock-") as tmp:
        phases_path, db, out = Path(tmp) / "phases.json", Path(tmp) / "fb.db", Path(tmp) / "reports"
        cmd = [sys.executable, "-m", "benchmarks._demo_timed", str(phases_path), "--",
               "run", spec, "--db", str(db), "--out", str(out), *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=C.REPO, env=dict(os.environ), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not phases_path.exists():
            raise RuntimeError(f"demo run failed (exit {proc.returncode}):\n" + "\n".join(proc.stderr.splitlines()[-15:]))
        phases = json.loads(phases_path.read_text())
        from frameworkbench.store import Store

        with Store(db) as store:
            records = store.records()
    return breakdown(wall, phases, records)


def breakdown(wall: float, ph: dict, records: list[dict]) -> dict:
    """Seconds per phase for one demo run; the rows add up to ``wall``."""
    tim = [r.get("timings") or {} for r in records]
    workers = sum(r.get("worker_wall_s") or 0.0 for r in records)
    imports = sum(t.get("import_s") or 0.0 for t in tim)
    build = sum(t.get("build_s") or 0.0 for t in tim)
    first = sum((t.get("epoch_s") or [0.0])[0] for t in tim)
    later = sum(sum((t.get("epoch_s") or [0.0])[1:]) for t in tim)
    reporting = ph["store_s"] + ph["table_s"] + ph["report_files_s"]
    inference = 0.0  # the worker's inference-latency measurement: (warm-up + repeats) calls per batch size
    for r in records:
        inf = r.get("inference") or {}
        calls = (inf.get("warmup") or 0) + (inf.get("repeats") or 0)
        inference += sum(calls * ((inf.get(k) or {}).get("median_s") or 0.0) for k in ("batch_1", "batch_large"))
    launch_total = sum(x["launch_s"] for x in ph["launches"])
    d = {
        "wall": wall,
        "workers": workers,
        "imports": imports,
        "build": build,
        "train_first": first,
        "train_later": later,
        "inference": inference,
        "worker_rest": workers - imports - build - first - later - inference,
        "data_preparation": ph["data_preparation_s"],
        "reporting": reporting,
        "orchestration_rest": wall - workers - ph["data_preparation_s"] - reporting,
        "worker_exit": launch_total - sum(x["worker_wall_s"] or 0.0 for x in ph["launches"]),
        "cli_start": (wall - ph["inside_s"]) + ph["cli_import_s"],
        "orchestration": wall - workers,
        "runs": len(records), "statuses": sorted({r["status"] for r in records}),
        "per_target": {x["target"]: {"worker_wall_s": x["worker_wall_s"], "exit_s": x["launch_s"] - (x["worker_wall_s"] or 0.0)}
                       for x in ph["launches"]},
    }
    return d


ROWS = [
    ("wall", "total wall time (command start to exit)", 0),
    ("workers", "inside the workers (Σ worker_wall_s)", 0),
    ("imports", "framework imports (Σ timings.import_s)", 1),
    ("build", "model build (Σ timings.build_s)", 1),
    ("train_first", "training, first epoch incl. tracing (Σ)", 1),
    ("train_later", "training, later epochs (Σ)", 1),
    ("inference", "inference-latency measurement (≈ (warm-up + repeats) × median, 2 batch sizes)", 1),
    ("worker_rest", "rest: interpreter start, data load, validation each epoch, record", 1),
    ("data_preparation", "data preparation (load, split, standardise, plan, weights)", 0),
    ("reporting", "reporting (store records, comparison table, markdown report)", 0),
    ("orchestration_rest", "orchestration, the rest (CLI start, planning, spawning, waiting)", 0),
    ("worker_exit", "of which: worker exit after its record (outside worker_wall_s)", 1),
    ("cli_start", "of which: CLI interpreter start + frameworkbench import", 1),
]


def wall_table(runs: list[dict], warn: C.Warnings) -> str:
    rows = []
    wall = C.median([r["wall"] for r in runs])
    for key, label, depth in ROWS:
        vals = [r[key] for r in runs]
        mark = warn.spread(label, vals, "repeats") if key in ("wall", "workers", "orchestration_rest") else ""
        rows.append([("  " * depth) + ("└ " if depth else "") + label, f"{C.median(vals):.2f}" + mark,
                     C.fmt_pct(C.rel_iqr(vals)), C.fmt_pct(C.median(vals) / wall, 1)])
    return C.table(["phase", "seconds", "IQR", "share of wall"], rows)


def exit_table(runs: list[dict]) -> str:
    rows = []
    for t in runs[0]["per_target"]:
        ww = [r["per_target"][t]["worker_wall_s"] for r in runs if t in r["per_target"]]
        ex = [r["per_target"][t]["exit_s"] for r in runs if t in r["per_target"]]
        rows.append([t, f"{C.median(ww):.2f}", f"{C.median(ex):.2f}"])
    return C.table(["target", "worker_wall_s (spawn → record)", "worker exit after its record (s)"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.wallclock", description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/seed_tf_keras.yaml")
    ap.add_argument("--repeats", type=int, default=2, help="demo runs (default 2)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("extra", nargs="*", help="extra arguments for `frameworkbench run` (after --)")
    args = ap.parse_args(argv)
    clock = C.Stopwatch()
    info = C.machine(C.available_cores())
    runs = []
    for r in range(args.repeats):
        runs.append(one_run(args.spec, args.extra, args.timeout))
        C.progress(f"wallclock repeat {r + 1}/{args.repeats}: {runs[-1]['wall']:.1f} s, orchestration "
                   f"{runs[-1]['orchestration']:.2f} s ({runs[-1]['orchestration'] / runs[-1]['wall']:.1%})")
    warn = C.Warnings()
    tab = wall_table(runs, warn)
    shares = [r["orchestration"] / r["wall"] for r in runs]
    share = C.median(shares)
    ok = share <= GOAL
    lines = [C.header("wallclock: the demo comparison end to end", info), "",
             f"`frameworkbench run {args.spec} --out DIR` ({' '.join(args.extra) or 'default options'}: every "
             f"default target, all cores), fresh database each time; {runs[0]['runs']} runs per demo, statuses "
             f"{', '.join(runs[0]['statuses'])}; medians over {args.repeats} repeats.", "", tab, "",
             "Per worker (parent's view):", "", exit_table(runs), "",
             f"orchestration = wall − Σ worker_wall_s = data preparation + reporting + the rest: "
             f"{C.median([r['orchestration'] for r in runs]):.2f} s = {share:.1%} of wall "
             f"(IQR {C.fmt_pct(C.iqr(shares), 1)}); goal ≤ {GOAL:.0%}: {'met' if ok else 'MISSED'}"]
    if warn.lines:
        lines += ["", warn.render()]
    lines += ["", f"wallclock benchmark wall time: {clock.elapsed():.0f} s"]
    C.publish("wallclock", lines, {"machine": info, "spec": args.spec, "runs": runs,
                                   "orchestration_share": share, "goal": GOAL, "met": ok})
    return 0


if __name__ == "__main__":
    sys.exit(main())
