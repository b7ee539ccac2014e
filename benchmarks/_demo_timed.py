"""The demo command, run in this process with timers around its phases (for ``benchmarks.wallclock``).

``python -m benchmarks._demo_timed OUT.json -- run SPEC [options]`` calls ``frameworkbench.cli.main``
with the arguments after ``--`` — the same code path as the ``frameworkbench`` console script —
after wrapping, without changing what they do, the functions that mark the phases: data
preparation (``runner.prepare_inputs``), each worker launch (``runner.launch``), storing
(``Store.save``) and reporting (``comparison_table``, ``write_reports``). Writes the phase times
to OUT.json; the records themselves (worker timings) are read from the run's database.
"""
from __future__ import annotations

import time

T_START = time.perf_counter()  # first statement after interpreter start-up

import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

PHASES: dict = {"data_preparation_s": 0.0, "store_s": 0.0, "table_s": 0.0, "report_files_s": 0.0, "launches": []}


def _timed(fn, key):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            PHASES[key] += time.perf_counter() - t
    return wrapper


def _timed_launch(fn):
    @functools.wraps(fn)
    def wrapper(job, *a, **k):
        t = time.perf_counter()
        result = fn(job, *a, **k)
        PHASES["launches"].append({"target": job.target, "run_id": job.run_id,
                                   "launch_s": time.perf_counter() - t,
                                   "worker_wall_s": result.get("worker_wall_s")})
        return result
    return wrapper


def main(argv: list[str]) -> int:
    out_path, rest = argv[0], argv[argv.index("--") + 1:]
    t = time.perf_counter()
    from frameworkbench import cli
    from frameworkbench.execution import runner
    from frameworkbench.report import summary, tables
    from frameworkbench.store import Store

    PHASES["cli_import_s"] = time.perf_counter() - t
    runner.prepare_inputs = _timed(runner.prepare_inputs, "data_preparation_s")
    runner.launch = _timed_launch(runner.launch)
    Store.save = _timed(Store.save, "store_s")
    tables.comparison_table = _timed(tables.comparison_table, "table_s")
    summary.write_reports = _timed(summary.write_reports, "report_files_s")
    t = time.perf_counter()
    code = cli.main(rest)
    PHASES["cli_main_s"] = time.perf_counter() - t
    PHASES["exit_code"] = code
    PHASES["inside_s"] = time.perf_counter() - T_START
    with open(out_path, "w") as f:
        json.dump(PHASES, f)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
