"""Memory estimate of a run, checked against what the machine has before any worker starts.

The estimate is deliberately simple and on the high side: parameters times
(weights + gradients + optimiser slots) in float32, activations of one batch
(forward outputs, saved inputs and their gradients), a full-width forward pass
over the evaluation rows, and the prepared dataset. The core's own peak (data
generation in float64, initial weights) is counted separately; a run needs the
larger of the two. A spec whose estimate exceeds the available memory is refused
with a :class:`~frameworkbench.spec.SpecError` that shows the estimate.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from . import layers as layer_types
from .layers.base import size
from .spec import Problem, Spec, SpecError

FLOAT32 = 4
FLOAT64 = 8
ACTIVATION_COPIES = 3  # forward output, what backward saves, its gradient
CORE_DATA_COPIES = 4  # generated array, split copies, standardisation temporaries
OPTIMIZER_SLOTS = {"adam": 2, "sgd": 1}  # adam: two moments; sgd: momentum buffer (0 without momentum)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs, by part."""

    params: int
    state_bytes: int  # weights + gradients + optimiser slots
    activation_bytes: int  # one training batch
    eval_bytes: int  # forward pass over the evaluation rows
    data_bytes: int  # prepared float32 dataset in the worker
    core_bytes: int  # the core's own peak while preparing data and weights

    @property
    def worker_bytes(self) -> int:
        return self.state_bytes + self.activation_bytes + self.eval_bytes + self.data_bytes

    @property
    def total_bytes(self) -> int:
        """What one run needs at its peak (the worker and the core do not hold their peaks together)."""
        return max(self.worker_bytes, self.core_bytes)

    def describe(self) -> str:
        return (f"estimated {human(self.total_bytes)} ({self.params:,} parameters: {human(self.state_bytes)} for "
                f"weights, gradients and optimizer state; {human(self.activation_bytes)} activations per batch; "
                f"{human(self.eval_bytes)} evaluation; {human(self.data_bytes)} data in the worker, "
                f"{human(self.core_bytes)} while preparing it)")


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _rows(spec: Spec) -> int | None:
    d = spec.data
    if d["source"] == "synthetic":
        return int(d["n_samples"])
    if d["source"] == "sklearn":
        return 1797  # the largest bundled scikit-learn dataset (digits)
    return None  # a file: its size is checked as it loads


def estimate(spec: Spec) -> MemoryEstimate:
    """Estimate the memory a run of ``spec`` needs (all sizes are known after validation)."""
    params, widths = 0, [size(spec.input_shape)]  # widths: values per sample each layer keeps
    for layer, shape in zip(spec.layers, spec.shapes):
        mod = layer_types.get(layer.type)
        params += mod.param_count(layer, shape)
        widths.append(mod.saved_elements(layer, shape))
    opt = spec.optimizer
    slots = OPTIMIZER_SLOTS.get(opt["name"], 2)
    if opt["name"] == "sgd" and not opt.get("momentum"):
        slots = 0
    state = params * (2 + slots) * FLOAT32
    batch = int(spec.training["batch_size"])
    activations = batch * sum(widths) * FLOAT32 * ACTIVATION_COPIES
    rows = _rows(spec) or batch
    eval_bytes = rows * max(widths) * FLOAT32 * 2
    n_in, n_out = size(spec.input_shape), size(spec.shapes[-1])
    data_bytes = rows * (n_in + n_out) * FLOAT32
    core = rows * n_in * FLOAT64 * CORE_DATA_COPIES + params * FLOAT64
    return MemoryEstimate(params, state, activations, eval_bytes, data_bytes, core)


def available_memory() -> int | None:
    """Bytes this process may still use: the least of MemAvailable, the cgroup limit and RLIMIT_AS."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:  # cgroup v2: a container's own limit
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            limits.append(max(0, int(text) - used))
    except (OSError, ValueError):
        pass
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    except (ValueError, OSError):
        pass
    return min(limits) if limits else None


def check_memory(spec: Spec, available: int | None = None, source: str | None = None) -> MemoryEstimate:
    """Refuse (SpecError) a spec whose estimated memory exceeds ``available`` (default: what the machine has)."""
    est = estimate(spec)
    avail = available_memory() if available is None else available
    if avail is not None and est.total_bytes > avail:
        where = "data" if est.core_bytes >= est.worker_bytes or est.data_bytes > est.state_bytes else "layers"
        raise SpecError([Problem(where, f"model too large for this machine: {est.describe()}, but only "
                                           f"{human(avail)} of memory is available; use fewer or narrower layers, "
                                           f"a smaller batch_size or fewer samples")], source=source)
    return est
