"""Same-shaped runtime modules per numeric backend (``tensorflow``, ``jax``, ``torch``), chosen once by name.

Like Keras 3's ``keras/src/backend/{jax,torch,tensorflow}/``: every module here defines the
same functions, and an adapter picks one with :func:`get` from its target's ``backend``:

- ``configure(threads, policy, precision, compile)``: thread counts, the float32 matmul mode of
  :func:`float32_matmul` and (``policy == "aligned"``) deterministic kernels; returns what is in force;
- ``matmul_precision(device, compute_dtype)``: the effective matmul precision read back from the
  framework at run time (``runtime.matmul_precision`` of every record, see :func:`effective`);
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


def float32_matmul(policy: str, precision: str) -> str | None:
    """The float32 matmul mode a run sets: ``tf32`` (TF32 allowed), ``exact`` (TF32 off, JAX
    ``highest``), or None (leave the framework's default: the native policy at precision float32)."""
    if precision == "tf32":
        return "tf32"
    return None if policy == "native" and precision == "float32" else "exact"


def effective(device: str, compute_dtype: str, reduced: bool, setting: str) -> dict:
    """The ``runtime.matmul_precision`` record: ``effective`` is the precision the matmuls compute at
    (the compute dtype when below float32; ``tf32`` when float32 matmuls may use TF32 on this GPU;
    else ``float32``), ``setting`` the framework values it was read from."""
    if compute_dtype != "float32":
        value = compute_dtype
    else:
        value = "tf32" if reduced and device == "gpu" else "float32"
    return {"effective": value, "device": device, "compute_dtype": compute_dtype, "setting": setting}


def device_kind(name: str) -> str:
    """Map a framework device string (``/device:CPU:0``, ``cuda:0``, ``TFRT_CPU_0``) to cpu/gpu/tpu."""
    low = name.lower()
    if "tpu" in low:
        return "tpu"
    if "gpu" in low or "cuda" in low:
        return "gpu"
    return "cpu"
