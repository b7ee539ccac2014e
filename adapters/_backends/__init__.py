"""Same-shaped runtime modules per numeric backend (``tensorflow``, ``jax``, ``torch``), chosen once by name.

Like Keras 3's ``keras/src/backend/{jax,torch,tensorflow}/``: every module here defines the
same functions, and an adapter picks one with :func:`get` from its target's ``backend``:

- ``configure(threads, policy)``: thread counts and (``policy == "aligned"``) exact float32
  matmuls and deterministic kernels; returns what is in force;
- ``unavailable(device)``: None if cpu/gpu/tpu is usable, else the reason;
- ``placement(device)``: context manager placing new variables (a no-op where arrays follow jit);
- ``devices(kind)``: the framework's own names of its devices of that kind (cpu, gpu, tpu);
- ``array_device(value)``: where an array lives, as the framework names it;
- ``device_memory_peak(device)``: the framework's peak device-memory counter (None on the CPU);
- ``tf32()``: the matmul precision in force (the ``tf32`` value of the defaults audit);
- ``value_and_derivative(fn, x)``, ``forward_backward_timer(fn, x)``, ``is_eager_here(tensor)``:
  the autodiff probes of the diagnostics modes.

Importing this package imports no framework; each module imports its own.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import Unsupported

BACKENDS = ("tensorflow", "jax", "torch")


def get(name: str | None, target: str = "?") -> ModuleType:
    """The runtime module of backend ``name``; an unknown backend is an explicit "unsupported" error."""
    if name not in BACKENDS:
        raise Unsupported(f"unsupported: backend {name!r} on target {target!r}; expected one of: "
                          f"{', '.join(BACKENDS)}")
    return importlib.import_module(f"{__name__}.{name}")


def device_kind(name: str) -> str:
    """Map a framework device string (``/device:CPU:0``, ``cuda:0``, ``TFRT_CPU_0``) to cpu/gpu/tpu."""
    low = name.lower()
    if "tpu" in low:
        return "tpu"
    if "gpu" in low or "cuda" in low:
        return "gpu"
    return "cpu"
