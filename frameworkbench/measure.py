"""Timers, summary statistics, memory and environment capture."""
from __future__ import annotations

import os
import platform
import resource
import sys
import time

from . import stats


class StepTimer:
    """One epoch's clocks: per-step durations (adapters call start()/stop() around each synchronised
    step) and the input time (input_start()/input_stop() around each batch's gather and transfer).

    Input time spent inside a step's start()/stop() window (a framework that pulls its next batch
    inside the step) is moved out of that step's duration, so steps and input never overlap.
    ``instrumented`` is False for an epoch trained without per-step clocks (its durations stay empty).
    """

    def __init__(self, instrumented: bool = True) -> None:
        self.durations: list[float] = []
        self.input_s = 0.0
        self.instrumented = instrumented
        self._t0: float | None = None
        self._in0: float | None = None
        self._input_at_start = 0.0

    def start(self) -> None:
        self._input_at_start = self.input_s or 0.0
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self._t0 is not None:
            inside = (self.input_s or 0.0) - self._input_at_start
            self.durations.append(time.perf_counter() - self._t0 - inside)
            self._t0 = None

    def input_start(self) -> None:
        self._in0 = time.perf_counter()

    def input_stop(self) -> None:
        if self._in0 is not None:
            self.input_s += time.perf_counter() - self._in0
            self._in0 = None


INSTRUMENTED_EPOCHS = 2
"""Epochs timed step by step (the warm-up epoch and the first steady one); frameworks whose per-step
clock costs time (a Keras per-batch callback) train the later epochs without it."""

OUTSIDE_THRESHOLD = 0.05  # share of an epoch outside the steps above which a run is warned about


def instrumented(epoch: int) -> bool:
    """Whether 0-based ``epoch`` is timed step by step (see :data:`INSTRUMENTED_EPOCHS`)."""
    return epoch < INSTRUMENTED_EPOCHS


def epoch_split(epoch_s: float, timer: StepTimer) -> dict:
    """One epoch's time as steps + input + the rest (callbacks, metrics, loop overhead; what the two
    clocks did not see). ``step_s`` is None for an uninstrumented epoch, ``input_s`` None where the
    input runs outside this process's clocks (an overlapped tf.data pipeline)."""
    step = sum(timer.durations) if timer.instrumented else None
    inp = timer.input_s
    rest = epoch_s - step - (inp or 0.0) if step is not None else None
    return {"epoch_s": epoch_s, "steps": len(timer.durations) if timer.instrumented else None,
            "step_s": step, "input_s": inp, "other_s": rest}


def summary(values: list[float]) -> dict:
    """Median, IQR and p95 of a list of durations (empty dict if there are none)."""
    if not values:
        return {}
    return {"median": stats.median(values), "iqr": stats.iqr(values), "p95": stats.p95(values), "n": len(values)}


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


NOISE_THRESHOLD = 0.10  # IQR/median above this is reported as noisy


def noisy(stats: dict) -> bool:
    """True when a summary's IQR exceeds NOISE_THRESHOLD of its median."""
    return bool(stats) and stats.get("median", 0) > 0 and stats["iqr"] / stats["median"] > NOISE_THRESHOLD


def time_calls(fn, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls; ``fn`` must
    return only once its result is on the host."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def latency(fn, warmup: int, repeats: int) -> dict:
    """:func:`summary` of :func:`time_calls`."""
    return summary(time_calls(fn, warmup, repeats))


def current_rss_mb() -> float | None:
    """Resident set size of this process now (MiB), from /proc or psutil."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        try:
            import psutil

            return psutil.Process().memory_info().rss / 2**20
        except ImportError:
            return None


class RSSSampler:
    """Samples this process's RSS every ``interval`` seconds in a thread; ``peak_mb`` is the maximum seen."""

    def __init__(self, interval: float = 0.1) -> None:
        import threading

        self.interval = interval
        self.peak_mb = current_rss_mb() or 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            value = current_rss_mb()
            if value is not None:
                self.peak_mb = max(self.peak_mb, value)
                self.samples += 1

    def __enter__(self) -> "RSSSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        value = current_rss_mb()
        if value is not None:
            self.peak_mb = max(self.peak_mb, value)


def blas_info() -> list[dict]:
    """Native thread pools loaded in this process (BLAS, OpenMP, oneDNN via threadpoolctl), if available."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keep = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: info.get(k) for k in keep if info.get(k) is not None} | {"library": os.path.basename(info["filepath"])}
            for info in threadpool_info()]


def machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot (all cores), from /proc/stat or psutil."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        if fields and fields[0] == "cpu":
            ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest is in user)
            hz = os.sysconf("SC_CLK_TCK")
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
            return (sum(ticks) - idle) / hz, sum(ticks) / hz
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    total = sum(getattr(t, k) for k in ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
                if hasattr(t, k))
    return total - idle, total


def own_cpu_seconds() -> float:
    """CPU seconds used by this process (all threads) and its waited-for children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


class MachineLoad:
    """How busy the whole machine was while a block ran: 1-minute load average at start and end, and
    the share of all cores' time that this process and that other processes kept busy.

    ``result`` (after the block): ``{"loadavg_start", "loadavg_end", "cores", "cpu_busy_pct",
    "own_cpu_pct", "cpu_busy_other_pct"}``; the percentages are of the whole machine (every core),
    None where the platform does not tell.
    """

    def __init__(self) -> None:
        self.result: dict = {}

    def __enter__(self) -> "MachineLoad":
        self._la0, self._cpu0, self._own0 = _loadavg(), machine_cpu_seconds(), own_cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        cpu1, own1 = machine_cpu_seconds(), own_cpu_seconds()
        busy = own = other = None
        if self._cpu0 and cpu1 and cpu1[1] - self._cpu0[1] > 0:
            total = cpu1[1] - self._cpu0[1]
            busy = 100 * (cpu1[0] - self._cpu0[0]) / total
            own = min(100.0, 100 * (own1 - self._own0) / total)
            other = max(0.0, busy - own)
        rnd = lambda v: None if v is None else round(v, 1)  # noqa: E731
        self.result = {"loadavg_start": self._la0, "loadavg_end": _loadavg(), "cores": os.cpu_count(),
                       "cpu_busy_pct": rnd(busy), "own_cpu_pct": rnd(own), "cpu_busy_other_pct": rnd(other)}
