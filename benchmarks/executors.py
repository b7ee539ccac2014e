"""Executors: wall time of one study experiment on the local executor (1 and 2 jobs) and on Ray.

Each configuration runs ``frameworkbench study activations --only EXPERIMENT --seeds 1`` as its
own command (Ray's local instance is started and stopped inside the command, as a user sees it),
in rotating order over rounds. Printed: median wall time per configuration, per-run wall, and
Ray's overhead per run against the local executor with the same --jobs.

    python -m benchmarks.executors [--experiment probe] [--rounds 1]
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import available_cores, fmt_time, header, machine, median, progress, publish, table

CONFIGS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def measure(executor: str, jobs: int, experiment: str, db: Path) -> dict:
    cmd = [sys.executable, "-m", "frameworkbench.cli", "study", "activations", "--only", experiment, "--seeds", "1",
           "--executor", executor, "--jobs", str(jobs), "--db", str(db), "--quiet"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{executor} --jobs {jobs}: exit {p.returncode}: {p.stderr[-2000:]}")
    with sqlite3.connect(db) as con:
        runs = con.execute("select count(*) from runs").fetchone()[0]
    return {"wall_s": wall, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="probe", help="experiment of the activations study (default: probe)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds, configurations in rotating order (default 1)")
    args = ap.parse_args(argv)
    info = machine(available_cores())
    res: dict[str, list[dict]] = {f"{e} --jobs {j}": [] for e, j in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            order = CONFIGS[rnd % len(CONFIGS):] + CONFIGS[:rnd % len(CONFIGS)]
            for executor, jobs in order:
                progress(f"round {rnd + 1}: {executor} --jobs {jobs}")
                db = Path(tmp) / f"{executor}-{jobs}-{rnd}.db"
                res[f"{executor} --jobs {jobs}"].append(measure(executor, jobs, args.experiment, db))
    rows = []
    for (executor, jobs), (name, got) in zip(CONFIGS, res.items()):
        wall, runs = median(r["wall_s"] for r in got), got[0]["runs"]
        local = median(r["wall_s"] for r in res[f"local --jobs {jobs}"])
        over = "—" if executor == "local" else fmt_time((wall - local) / runs)
        rows.append([name, runs, fmt_time(wall), fmt_time(wall / runs), f"{wall / local:.2f}", over])
    lines = [header(f"Executors: `study activations --only {args.experiment} --seeds 1`, whole command "
                    f"(medians over {args.rounds} round(s))", info), "",
             table(["executor", "runs", "wall", "wall per run", "vs local, same jobs", "Ray overhead per run"], rows),
             "", "Ray's wall includes starting and stopping its local instance inside the command."]
    publish("executors", lines, {"machine": info, "results": res})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
