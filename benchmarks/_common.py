"""What the four benchmarks share: process env, subprocess timing, statistics, tables, output.

No ML framework is imported here: every framework runs in a fresh subprocess, either a
frameworkbench worker (through ``frameworkbench.execution.runner.run``) or a hand-written baseline
(``python -m benchmarks._handwritten``), with the same env vars and thread count.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

from frameworkbench import stats
from frameworkbench.report import markdown

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
IQR_WARN = 0.10  # warn when IQR / median exceeds this (DESIGN.md, measurement rules)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
VERSION_PACKAGES = ("tensorflow", "tf-keras", "keras", "jax", "jaxlib", "torch", "numpy")


# --------------------------------------------------------------------------- statistics
def _finite(values: Iterable[float]) -> list[float]:
    return [x for x in values if x is not None and math.isfinite(x)]


def median(values: Iterable[float]) -> float:
    """Median of the finite values (nan when there are none); :func:`frameworkbench.stats.median`."""
    m = stats.median(_finite(values))
    return float("nan") if m is None else m


def iqr(values: Iterable[float]) -> float:
    """Interquartile range of the finite values (nan when there are none, 0 for one);
    :func:`frameworkbench.stats.iqr`, the same quartiles as frameworkbench.measure.summary."""
    q = stats.iqr(_finite(values))
    return float("nan") if q is None else q


def rel_iqr(values: Sequence[float]) -> float:
    m = median(values)
    return iqr(values) / m if m and math.isfinite(m) else float("nan")


def steady_step_s(epoch_s: Sequence[float], steps_per_epoch: int) -> float:
    """Steady-state seconds per step: the median epoch after the first (tracing) over its steps."""
    return median(epoch_s[1:] or epoch_s) / steps_per_epoch


class Warnings:
    """Collects 'IQR/median > 10 %' and other notes to print under a table."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._flagged: list[str] = []

    def spread(self, label: str, values: Sequence[float], what: str = "values") -> str:
        """'' or a '!' marker; records a warning when IQR/median > IQR_WARN."""
        r = rel_iqr(values)
        if math.isfinite(r) and r > IQR_WARN:
            self.lines.append(f"warning: {label}: IQR/median = {r:.0%} over {len(values)} {what} (> 10 %)")
            return "!"
        return ""

    def flagged(self, label: str, values: Sequence[float]) -> str:
        """Like ``spread`` but collected for one summary line (``summary``) instead of a line each."""
        r = rel_iqr(values)
        if math.isfinite(r) and r > IQR_WARN:
            self._flagged.append(f"{label} ({r:.0%})")
            return "!"
        return ""

    def summary(self, what: str) -> None:
        if self._flagged:
            self.lines.append(f"warning: IQR/median > 10 % over the {what} (marked !) for: " + ", ".join(self._flagged))
            self._flagged = []

    def note(self, line: str) -> None:
        self.lines.append(line)

    def render(self) -> str:
        return "\n".join(self.lines)


# --------------------------------------------------------------------------- formatting
def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps 3 significant digits (µs, ms or s)."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale or unit == "µs":
            v = seconds / scale
            return f"{v:.3g} {unit}" if abs(v) < 1000 else f"{v:.0f} {unit}"
    return f"{seconds:g} s"


def fmt_pct(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


def fmt_num(x: float, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A markdown table (:func:`frameworkbench.report.markdown.table`); ``align`` is one 'l'/'r' per column
    (default: first left, rest right)."""
    return markdown.table([str(h) for h in headers], [[str(c) for c in r] for r in rows],
                          list(align or "l" + "r" * (len(headers) - 1)))


# --------------------------------------------------------------------------- machine
def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def package_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in VERSION_PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def machine(threads: int) -> dict:
    from frameworkbench.measure import cpu_model

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "cpu": cpu_model(),
            "cores": os.cpu_count(), "cpus_used": cpus, "threads": threads, "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in load] if load else None, "versions": package_versions()}


def header(title: str, info: dict) -> str:
    vers = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    load = info.get("load_avg_at_start")
    cpus = info.get("cpus_used")
    on = f" on core{'s' if cpus and len(cpus) > 1 else ''} {','.join(map(str, cpus))}" if cpus else ""
    return (f"## {title}\n\n{info['date']} · {info['cpu']}, {info['cores']} cores · {info['threads']} thread(s) "
            f"per run{on}, every target · load average at start {load[0] if load else '?'} · "
            f"Python {info['python']}\n{vers}")


def add_common_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--threads", type=int, default=None, help="threads for every target (default: all cores)")
    ap.add_argument("--targets", default=None, help="comma-separated targets (default: the five default targets)")
    ap.add_argument("--timeout", type=float, default=600, help="time limit per subprocess, seconds")


def targets_from(arg: str | None) -> list[str]:
    from frameworkbench.targets import DEFAULT_TARGETS, TARGETS

    names = [t.strip() for t in arg.split(",")] if arg else list(DEFAULT_TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        raise SystemExit(f"error: unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    return names


def progress(msg: str) -> None:
    print(f"  · {msg}", file=sys.stderr, flush=True)


def save_json(name: str, payload: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def save_text(name: str, text: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(text)
    return path


def publish(name: str, lines: Sequence[str], payload: dict) -> None:
    """Print a benchmark's text and keep it (``NAME.md``) with its raw figures (``NAME.json``) in OUT."""
    text = "\n".join(lines)
    print(text)
    save_text(f"{name}.md", text + "\n")
    save_json(name, payload)


# --------------------------------------------------------------------------- subprocesses
def target_env(target: str, threads: int, device: str = "cpu") -> dict[str, str]:
    """The env a frameworkbench worker runs with (frameworkbench.execution.worker.apply_process_settings)."""
    from frameworkbench.targets import TARGETS

    env = {**os.environ, **TARGETS[target].env}
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"  # --device cpu: accelerators hidden
        env["JAX_PLATFORMS"] = "cpu"
    return env


def gpu_missing() -> str | None:
    """None when an NVIDIA GPU is visible (``nvidia-smi -L`` lists one), else why not; imports no framework."""
    import shutil

    if not shutil.which("nvidia-smi"):
        return "no GPU: nvidia-smi is not installed"
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no GPU: nvidia-smi failed ({exc})"
    return None if out.returncode == 0 and "GPU" in out.stdout else "no GPU: nvidia-smi lists none"


def bench_env(threads: int) -> dict[str, str]:
    """Env vars both sides get from the benchmark (the worker adds the target's own)."""
    return {var: str(threads) for var in THREAD_VARS}


def run_module(module: str, job: dict, env: dict[str, str], timeout: float) -> dict:
    """Run ``python -m MODULE JOB.json`` in a fresh process; return its ``BENCH`` JSON plus ``wall_s``."""
    with tempfile.TemporaryDirectory(prefix="fb-bench-") as tmp:
        path = Path(tmp) / "job.json"
        path.write_text(json.dumps(job))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", module, str(path)], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-12:])
        raise RuntimeError(f"{module} failed (exit {proc.returncode}) for job {json.dumps(job)[:200]}:\n{tail}")
    out = json.loads(lines[-1][len("BENCH "):])
    out["wall_s"] = wall
    return out


def handwritten(target: str, job: dict, threads: int, timeout: float = 600, device: str = "cpu") -> dict:
    """A hand-written baseline job in a fresh process with ``target``'s env and thread count."""
    return run_module("benchmarks._handwritten", {**job, "target": target, "threads": threads, "device": device},
                      target_env(target, threads, device), timeout)


def frameworkbench_run(spec, target: str, threads: int, timeout: float = 600, **opts) -> dict:
    """One frameworkbench run (its own worker process) through the public runner; the record."""
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.targets import get_target

    options = RunOptions(threads=threads, store=False, timeout=timeout, extra_env=bench_env(threads), **opts)
    rec = run(spec, [get_target(target)], options)[0]
    if rec["status"] != "ok":
        raise RuntimeError(f"frameworkbench run of {target} ended {rec['status']}: {rec.get('error')}\n"
                           f"{rec.get('stderr_tail', '')}")
    return rec


HANDWRITTEN_LAYERS = ("dense",)  # the layer types the hand-written baseline scripts build


def layers_of(spec) -> list[list]:
    """The spec's layers as [units, activation] pairs (what the hand-written scripts build)."""
    unsupported = sorted({lay.type for lay in spec.layers} - set(HANDWRITTEN_LAYERS))
    if unsupported:
        raise ValueError(f"unsupported: the hand-written baselines build only {', '.join(HANDWRITTEN_LAYERS)} "
                         f"layers, not {', '.join(unsupported)}")
    return [[lay.units, lay.activation.name] for lay in spec.layers]


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def pin_cores(threads: int) -> list[int]:
    """Restrict this process (and so every worker and baseline it starts) to the last ``threads`` cores.

    Both sides of every comparison then run on the same cores. A frameworkbench worker with
    fewer threads than the cores it may use pins itself to the *first* ones of the set it
    inherits, so taking the last cores keeps the benchmarks off the core where other
    frameworkbench runs on this machine (which pin to core 0) are working.
    """
    if not hasattr(os, "sched_setaffinity"):
        return []
    cpus = sorted(os.sched_getaffinity(0))
    if threads > len(cpus):
        raise SystemExit(f"error: --threads {threads} is more than the {len(cpus)} cores this process may use")
    chosen = cpus[-threads:]
    os.sched_setaffinity(0, chosen)
    return chosen
