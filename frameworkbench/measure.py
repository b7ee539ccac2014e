"""Timers, summary statistics, memory and environment capture."""
from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time


class StepTimer:
    """Collects per-step durations; adapters call start()/stop() around each synchronised step."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self._t0 is not None:
            self.durations.append(time.perf_counter() - self._t0)
            self._t0 = None


def summary(values: list[float]) -> dict:
    """Median, IQR and p95 of a list of durations (empty dict if there are none)."""
    if not values:
        return {}
    v = sorted(values)
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    return {"median": statistics.median(v), "iqr": q[2] - q[0], "p95": p95, "n": len(v)}


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / (1024 * 1024)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def host_info() -> dict:
    """Host facts stored with every record."""
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    return {"hostname": platform.node(), "os": platform.platform(), "python": platform.python_version(),
            "cpu": cpu_model(), "cores": os.cpu_count(), "memory_gib": round(mem, 1) if mem else None}
