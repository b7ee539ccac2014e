"""TensorFlow runtime (tf.keras, keras:tensorflow, tf:gradienttape): see :mod:`.` for the functions."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import tensorflow as tf

_DEVICES = {"cpu": "CPU", "gpu": "GPU", "tpu": "TPU"}


def configure(threads: int, policy: str) -> dict[str, Any]:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        for gpu in tf.config.list_physical_devices("GPU"):  # no preallocation: peak counters mean something
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:  # a reused worker: the runtime is initialised with these settings already
        pass
    if policy == "aligned":  # one numeric regime everywhere: full float32 matmuls, deterministic kernels
        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.config.experimental.enable_op_determinism()
    return {"tensorflow_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tensorflow_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled())}


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
