"""Worker reuse: wall time saved by ``--isolate target`` and whether reused workers time the same.

For every target, the same spec with N seeds runs twice through frameworkbench, once with a
fresh worker per run (``--isolate run``) and once with one worker per target (``--isolate
target``), alternating over rounds. Printed: total wall time of each, the saving, and the
median steady-state step time of fresh vs reused runs with their ratio (1.00 = agreement).

    python -m benchmarks.worker_reuse [--seeds 3] [--rounds 2] [--targets a,b] [--threads N]
"""
from __future__ import annotations

import argparse
import time

from benchmarks._common import (Warnings, add_common_args, available_cores, fmt_num, fmt_pct, fmt_time, header,
                                machine, median, progress, publish, table, targets_from)

SPEC = "specs/seed_tf_keras.yaml"


def measure(target: str, isolate: str, seeds: int, threads: int, timeout: float) -> dict:
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.spec import load_spec
    from frameworkbench.targets import get_target

    opts = RunOptions(threads=threads, seeds=seeds, isolate=isolate, store=False, timeout=timeout)
    t0 = time.perf_counter()
    recs = run(load_spec(SPEC), [get_target(target)], opts)
    wall = time.perf_counter() - t0
    bad = [r for r in recs if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"{target} ({isolate}): {bad[0]['status']}: {bad[0].get('error')}")
    steps = [r["timings"]["median_step_s"] for r in recs]
    reused = [r["timings"]["median_step_s"] for r in recs if r["worker"]["reused"]]
    return {"wall_s": wall, "step_s": steps, "reused_step_s": reused}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(ap)
    ap.add_argument("--seeds", type=int, default=3, help="runs per target (default 3)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    args = ap.parse_args(argv)
    threads = args.threads or available_cores()
    targets = targets_from(args.targets)
    info = machine(threads)
    warn = Warnings()
    rows, raw = [], {}
    for target in targets:
        res: dict[str, list[dict]] = {"run": [], "target": []}
        for rnd in range(args.rounds):
            for isolate in (("run", "target") if rnd % 2 == 0 else ("target", "run")):
                progress(f"{target}: round {rnd + 1}, --isolate {isolate}")
                res[isolate].append(measure(target, isolate, args.seeds, threads, args.timeout))
        fresh_wall = median(r["wall_s"] for r in res["run"])
        reuse_wall = median(r["wall_s"] for r in res["target"])
        fresh_step = [s for r in res["run"] for s in r["step_s"]]
        reused_step = [s for r in res["target"] for s in r["reused_step_s"]]
        ratio = median(reused_step) / median(fresh_step)
        warn.spread(f"{target} fresh step times", fresh_step, "runs")
        warn.spread(f"{target} reused step times", reused_step, "runs")
        rows.append([target, fmt_time(fresh_wall), fmt_time(reuse_wall), fmt_pct(1 - reuse_wall / fresh_wall),
                     fmt_time(median(fresh_step)), fmt_time(median(reused_step)), fmt_num(ratio)])
        raw[target] = res
    lines = [header(f"Worker reuse: {args.seeds} seeds per target, --isolate run vs target "
                    f"(medians over {args.rounds} alternating rounds)", info), "",
             table(["target", "wall, fresh workers", "wall, one reused worker", "saved", "step, fresh",
                    "step, reused", "reused / fresh"], rows)]
    if warn.lines:
        lines += ["", warn.render()]
    publish("worker_reuse", lines, {"machine": info, "results": raw})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
