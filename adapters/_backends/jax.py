"""JAX runtime (keras:jax, keras:jax:stateless, flax): see :mod:`.` for the functions."""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import effective, float32_matmul

EXACT = ("highest", "float32")  # jax_default_matmul_precision values that keep float32 matmuls exact


def configure(threads: int, policy: str, precision: str = "float32", compile: str = "default") -> dict[str, Any]:
    mode = float32_matmul(policy, precision)
    if mode is not None:  # "highest": TF32-free matmuls on GPU; "tensorfloat32": TF32 allowed (CPU: no effect)
        jax.config.update("jax_default_matmul_precision", "highest" if mode == "exact" else "tensorfloat32")
    # XLA's CPU thread pool has no runtime setter; the worker limits the process to
    # `threads` cores by CPU affinity, which XLA honours when sizing its pool.
    return {"jax_default_backend": jax.default_backend(), "jax_device_count": jax.device_count(),
            "jax_default_matmul_precision": str(jax.config.jax_default_matmul_precision)}


def unavailable(device: str) -> str | None:
    try:
        jax.devices(device)
    except RuntimeError as exc:
        return f"requires: jax.devices('{device}') ({str(exc).splitlines()[0]})"
    return None


def placement(device: str):
    return contextlib.nullcontext()


def devices(kind: str) -> list[str]:
    try:
        return [str(d) for d in jax.devices(kind)]
    except RuntimeError:  # no such platform in this process
        return []


def array_device(value) -> str:
    return str(next(iter(value.devices())))


def device_memory_peak(device: str) -> dict[str, Any] | None:
    if device == "cpu":
        return None
    stats = jax.devices()[0].memory_stats() or {}
    return {"counter": "jax memory_stats['peak_bytes_in_use']",
            "peak_mb": stats.get("peak_bytes_in_use", 0) / 2**20,
            "preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE")}


def tf32() -> Any:
    return str(jax.config.jax_default_matmul_precision or "default (TF32 on GPU)")


def matmul_precision(device: str, compute_dtype: str) -> dict[str, Any]:
    # None/"default"/"high"/"tensorfloat32"/"bfloat16": XLA may use TF32 (GPU) or bfloat16 passes (TPU)
    value = jax.config.jax_default_matmul_precision
    reduced = str(value) not in EXACT
    dev = jax.devices()[0]
    if device == "gpu":
        cc = getattr(dev, "compute_capability", None)
        reduced = reduced and (cc is None or float(cc) >= 8.0)
    if device == "tpu" and reduced and compute_dtype == "float32":
        compute_dtype = "bfloat16"  # TPU's default float32 matmul runs in bfloat16 passes
    return effective(device, compute_dtype, reduced,
                     f"jax_default_matmul_precision={value!r} on {dev.platform}")


def value_and_derivative(fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    def f(v):
        y = fn(v)
        return jnp.sum(y[:, 0]), y

    (_, y), g = jax.value_and_grad(f, has_aux=True)(jnp.asarray(x))
    return np.asarray(y), np.asarray(g)[:, 0]


def forward_backward_timer(fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
    xj = jnp.asarray(x)
    grad = jax.jit(lambda v: jnp.sum(jax.grad(lambda u: jnp.sum(fn(u)))(v)))
    return (lambda: grad(xj).block_until_ready()), "jax.jit(jax.grad), block_until_ready"


def is_eager_here(tensor: Any) -> bool:
    # Autodiff wraps values in tracers even when eager (jax.grad's LinearizeTracer around a
    # concrete array); only a staging tracer (jit's DynamicJaxprTracer) at the core means compiled.
    t = tensor
    while isinstance(t, jax.core.Tracer) and hasattr(t, "primal"):
        t = t.primal
    return not isinstance(t, jax.core.Tracer)
