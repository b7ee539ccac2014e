"""Builders of batch_norm and dropout for the Keras family (tf.keras and Keras 3; see ``frameworkbench.layers``).

batch_norm: ``BatchNormalization`` (axis -1: every axis but the last). Aligned: the spec's momentum
and epsilon, and on tf.keras ``fused=False``: tf.keras' fused kernel (its default on 4-D inputs)
moves the moving variance with the unbiased batch variance, Keras 3 and the reference with the
biased one. Native: the layer's defaults. dropout: aligned, :func:`masked_dropout`'s layer applies
the run's mask bank (a constant) with a non-trainable int32 step counter, which ``fit``,
``GradientTape`` and the stateless JAX loop all carry like BatchNormalization's moving statistics;
native: ``Dropout(rate)`` (the backend's random stream).
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np

_CLASSES: dict[int, type] = {}  # id(keras module) -> its MaskedDropout class


def _is_tf_keras(K) -> bool:
    return not hasattr(K, "ops")  # tf_keras (Keras 2) has no keras.ops


def masked_dropout(K) -> type:
    """The ``MaskedDropout`` layer class of Keras module ``K``: training step ``k`` multiplies by
    ``bank[k % n][:rows] / (1 - rate)``; inference is the identity."""
    if id(K) in _CLASSES:
        return _CLASSES[id(K)]
    if _is_tf_keras(K):
        import tensorflow as tf

        constant, take, floormod, cast, shape = tf.constant, tf.gather, tf.math.floormod, tf.cast, tf.shape
    else:
        ops = K.ops
        constant, take, floormod, cast, shape = ops.convert_to_tensor, ops.take, ops.mod, ops.cast, ops.shape

    class MaskedDropout(K.layers.Layer):
        def __init__(self, rate: float, bank: np.ndarray | None = None, **kwargs) -> None:
            # bank None: a layer reloaded from a saved model (the bank is not saved): inference only
            super().__init__(**kwargs)
            self.rate = float(rate)
            self.bank_array = None if bank is None else np.ascontiguousarray(bank)

        def build(self, input_shape) -> None:
            if self.bank_array is None:
                self.bank_array = np.ones((1, 1, *input_shape[1:]), np.uint8)
                self.inference_only = True
            self.bank = constant(self.bank_array)
            self.step = self.add_weight(name="step", shape=(), dtype="int32", initializer="zeros", trainable=False)
            self.built = True

        def call(self, inputs, training=None):
            if not training:
                return inputs
            if getattr(self, "inference_only", False):
                raise RuntimeError("this aligned dropout layer was reloaded without its mask bank: inference only")
            mask = take(self.bank, floormod(self.step, self.bank_array.shape[0]), axis=0)[:shape(inputs)[0]]
            self.step.assign(self.step + 1)
            return inputs * cast(mask, inputs.dtype) / (1.0 - self.rate)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self) -> dict:
            return {**super().get_config(), "rate": self.rate}

    _CLASSES[id(K)] = MaskedDropout
    return MaskedDropout


def _batch_norm(adapter: Any, lay, input_shape) -> list:
    K = adapter.keras
    if adapter.policy == "native":
        return [K.layers.BatchNormalization()]
    fused = {"fused": False} if _is_tf_keras(K) else {}
    return [K.layers.BatchNormalization(momentum=lay.momentum, epsilon=lay.epsilon, **fused)]


def _dropout(adapter: Any, lay, input_shape) -> list:
    if adapter.policy == "native":
        return [adapter.keras.layers.Dropout(lay.rate)]
    return [masked_dropout(adapter.keras)(lay.rate, adapter.mask_bank())]


BUILDERS: dict[str, Any] = {"batch_norm": _batch_norm, "dropout": _dropout}
WEIGHTED: dict[str, Any] = {"BatchNormalization": "batch_norm"}


def running_variance(K) -> str:
    """Which batch variance ``BatchNormalization()`` moves its moving variance with, measured: momentum
    0 makes it the last batch's variance, on a 4-D input (where tf.keras fuses) and a 2-D one."""
    x = np.array([0.0, 1.0, 2.0, 5.0], np.float32)
    out = []
    for shape in ((4, 1, 1, 1), (4, 1)):
        bn = K.layers.BatchNormalization(momentum=0.0)
        bn(x.reshape(shape), training=True)
        got = float(np.asarray(bn.moving_variance.numpy()).ravel()[0])
        kind = ("unbiased (n/(n−1))" if abs(got - x.var(ddof=1)) < 1e-5 else
                "biased (1/n)" if abs(got - x.var()) < 1e-5 else f"other ({got:g})")
        out.append(f"{kind} on {len(shape)}-D input")
    kinds = [o.split(" on ")[0] for o in out]
    return kinds[0] if kinds[0] == kinds[1] else "; ".join(out)


def kept_scale(K) -> float:
    """What ``Dropout(0.5)`` multiplies a kept value by in training, measured (2: inverted dropout)."""
    return float(np.max(np.asarray(K.layers.Dropout(0.5, seed=0)(np.ones((1, 64), np.float32), training=True))))


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Keras' own BatchNormalization and Dropout defaults, read from Keras, and what the model uses."""
    K = adapter.keras
    sig = inspect.signature(K.layers.BatchNormalization.__init__).parameters
    bns = [lay for lay in model.layers if isinstance(lay, K.layers.BatchNormalization)]
    drops = [lay for lay in model.layers if isinstance(lay, (K.layers.Dropout, masked_dropout(K)))]
    used = None
    if bns:
        bn = bns[0]
        fused = getattr(bn, "fused", None)
        used = (f"momentum {bn.momentum:g} (weight of the old value), epsilon {bn.epsilon:g}"
                + (f", fused={fused}" if _is_tf_keras(K) else ""))
    return {
        "batch_norm_momentum": sig["momentum"].default,
        "batch_norm_momentum_form": "weight of the old value: running = momentum·running + (1−momentum)·batch",
        "batch_norm_epsilon": sig["epsilon"].default,
        "batch_norm_running_variance": running_variance(K),
        "batch_norm_in_model": used,
        "dropout_kept_scale": kept_scale(K),
        "dropout_in_model": (None if not drops else
                             "frameworkbench's masks from the training seed (x·mask/(1−rate))"
                             if isinstance(drops[0], masked_dropout(K)) else
                             f"{type(drops[0]).__module__}.Dropout(rate={drops[0].rate:g}): the backend's "
                             "random stream"),
    }
