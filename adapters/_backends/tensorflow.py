"""TensorFlow runtime (tf.keras, keras:tensorflow, tf:gradienttape): see :mod:`.` for the functions."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import tensorflow as tf

from . import effective, float32_matmul

_DEVICES = {"cpu": "CPU", "gpu": "GPU", "tpu": "TPU"}


def configure(threads: int, policy: str, precision: str = "float32", compile: str = "default") -> dict[str, Any]:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        for gpu in tf.config.list_physical_devices("GPU"):  # no preallocation: peak counters mean something
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:  # a reused worker: the runtime is initialised with these settings already
        pass
    mode = float32_matmul(policy, precision)
    if mode is not None:  # exact float32 matmuls (TF32 off) or TF32 allowed
        tf.config.experimental.enable_tensor_float_32_execution(mode == "tf32")
    if policy == "aligned" and compile != "jit":  # deterministic kernels (Keras refuses XLA with them on)
        tf.config.experimental.enable_op_determinism()
    return {"tensorflow_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tensorflow_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
            "op_determinism": _op_determinism()}


def _op_determinism() -> bool | None:
    try:
        from tensorflow.python.framework.config import is_op_determinism_enabled
    except ImportError:
        return None
    return bool(is_op_determinism_enabled())


def unavailable(device: str) -> str | None:
    kind = _DEVICES[device]
    if not tf.config.list_physical_devices(kind):
        return f"requires: tf.config.list_physical_devices('{kind}') to be non-empty (none found)"
    return None


def placement(device: str):
    return tf.device(f"/{_DEVICES[device]}:0")


def devices(kind: str) -> list[str]:
    return [d.name for d in tf.config.list_logical_devices(_DEVICES[kind])]


def array_device(value) -> str:
    return str(value.device)


def device_memory_peak(device: str) -> dict[str, Any] | None:
    if device == "cpu":
        return None
    info = tf.config.experimental.get_memory_info("GPU:0")
    return {"counter": "tf.config.experimental.get_memory_info['peak']", "peak_mb": info["peak"] / 2**20,
            "memory_growth": True}


def tf32() -> Any:
    return bool(tf.config.experimental.tensor_float_32_execution_enabled())


def matmul_precision(device: str, compute_dtype: str) -> dict[str, Any]:
    on = bool(tf.config.experimental.tensor_float_32_execution_enabled())
    capable = True  # TF32 needs compute capability >= 8.0 (Ampere)
    if device == "gpu":
        gpus = tf.config.list_physical_devices("GPU")
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") if gpus else None
        capable = cc is None or tuple(cc) >= (8, 0)
    return effective(device, compute_dtype, on and capable,
                     f"tf.config.experimental.tensor_float_32_execution_enabled()={on}")


def value_and_derivative(fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
        s = tf.reduce_sum(y[:, 0])
    g = tape.gradient(s, xt)
    return np.asarray(y), np.asarray(g)[:, 0]


def forward_backward_timer(fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
    xt = tf.constant(x)

    @tf.function
    def step(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            s = tf.reduce_sum(fn(v))
        return tf.reduce_sum(tape.gradient(s, v))

    return (lambda: step(xt).numpy()), "tf.function(GradientTape forward+backward), scalar host copy"


def is_eager_here(tensor: Any) -> bool:
    return bool(tf.executing_eagerly())
