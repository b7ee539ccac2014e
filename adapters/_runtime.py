"""Per-framework runtime settings shared by several adapters: threads and device checks.

Each function imports its framework when called, so a module importing this
one pulls in only the frameworks it actually uses.
"""
from __future__ import annotations

from typing import Any


def tf_configure(threads: int, aligned: bool = True) -> dict[str, Any]:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        for gpu in tf.config.list_physical_devices("GPU"):  # no preallocation: peak counters mean something
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:  # a reused worker: the runtime is initialised with these settings already
        pass
    if aligned:  # one numeric regime everywhere: full float32 matmuls, deterministic kernels
        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.config.experimental.enable_op_determinism()
    return {"tensorflow_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tensorflow_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled())}


def tf_unavailable(device: str) -> str | None:
    import tensorflow as tf

    kind = {"cpu": "CPU", "gpu": "GPU", "tpu": "TPU"}[device]
    if not tf.config.list_physical_devices(kind):
        return f"requires: tf.config.list_physical_devices('{kind}') to be non-empty (none found)"
    return None


def tf_device(device: str):
    import tensorflow as tf

    return tf.device({"cpu": "/CPU:0", "gpu": "/GPU:0", "tpu": "/TPU:0"}[device])


def torch_configure(threads: int, aligned: bool = True) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable before the first parallel work
        pass
    if aligned:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    return {"torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
            "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled()}


def torch_unavailable(device: str) -> str | None:
    import torch

    if device == "gpu" and not torch.cuda.is_available():
        return "requires: torch.cuda.is_available() (no CUDA device visible)"
    if device == "tpu":
        return "requires: torch_xla (TPU support is not implemented for torch targets)"
    return None


def jax_unavailable(device: str) -> str | None:
    import jax

    try:
        jax.devices(device)
    except RuntimeError as exc:
        return f"requires: jax.devices('{device}') ({str(exc).splitlines()[0]})"
    return None


def jax_configure(threads: int, aligned: bool = True) -> dict[str, Any]:
    import jax

    if aligned:  # TF32-free matmuls on GPU (no effect on CPU)
        jax.config.update("jax_default_matmul_precision", "highest")
    # XLA's CPU thread pool has no runtime setter; the worker limits the process to
    # `threads` cores by CPU affinity, which XLA honours when sizing its pool.
    return {"jax_default_backend": jax.default_backend(), "jax_device_count": jax.device_count(),
            "jax_default_matmul_precision": str(jax.config.jax_default_matmul_precision)}


def device_memory_peak(backend: str, device: str) -> dict[str, Any] | None:
    """Peak device memory by the framework's own counter (None on the CPU)."""
    if device == "cpu":
        return None
    if backend == "torch":
        import torch

        return {"counter": "torch.cuda.max_memory_allocated", "peak_mb": torch.cuda.max_memory_allocated() / 2**20}
    if backend == "tensorflow":
        import tensorflow as tf

        info = tf.config.experimental.get_memory_info("GPU:0")
        return {"counter": "tf.config.experimental.get_memory_info['peak']", "peak_mb": info["peak"] / 2**20,
                "memory_growth": True}
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return {"counter": "jax memory_stats['peak_bytes_in_use']",
            "peak_mb": stats.get("peak_bytes_in_use", 0) / 2**20,
            "preallocate": __import__("os").environ.get("XLA_PYTHON_CLIENT_PREALLOCATE")}


def device_kind(name: str) -> str:
    """Map a framework device string (``/device:CPU:0``, ``cuda:0``, ``TFRT_CPU_0``) to cpu/gpu/tpu."""
    low = name.lower()
    if "tpu" in low:
        return "tpu"
    if "gpu" in low or "cuda" in low:
        return "gpu"
    return "cpu"
