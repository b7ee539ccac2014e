"""tf.keras model trained by a hand-written ``tf.GradientTape`` loop: TensorFlow's low-level API.

The model, optimiser and loss objects are exactly the ``tf.keras`` target's (built by
:class:`~frameworkbench.adapters.tf_keras.adapter.TfKerasAdapter`); only the training step differs:
instead of ``model.fit`` every mini-batch runs through a ``tf.function``-compiled step that
records the forward pass on a ``tf.GradientTape`` and applies the gradients itself, the
way TensorFlow's "writing a training loop from scratch" guide does it.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Spec

from .._keras.adapter import OwnLoop
from .adapter import TfKerasAdapter, tf
from .probes import TAPE_PROBES


class TfGradientTapeAdapter(OwnLoop, TfKerasAdapter):
    """tf.keras layers, a custom ``tf.GradientTape`` training loop compiled with ``tf.function``."""

    TRAINING_API = "tf.GradientTape loop (tf.function)"

    def probes(self):
        return TAPE_PROBES

    def __init__(self, target, threads: int, *args, **kwargs) -> None:
        super().__init__(target, threads, *args, **kwargs)
        self._steps: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()

    def _train_step(self, model: Any, x: np.ndarray, y: np.ndarray):
        if model not in self._steps:
            loss_fn, opt = model.loss, model.optimizer
            if isinstance(loss_fn, str):  # compile() kept the name: resolve it the way Keras does
                loss_fn = self.keras.losses.get(loss_fn)
            signature = [tf.TensorSpec((None,) + x.shape[1:], tf.as_dtype(x.dtype)),
                         tf.TensorSpec((None,) + y.shape[1:], tf.as_dtype(y.dtype))]

            @tf.function(input_signature=signature)
            def step(xb, yb):
                with tf.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb, training=True))
                grads = tape.gradient(loss, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables))
                return loss

            self._steps[model] = step
        return self._steps[model]

    def train(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer, order: np.ndarray | None = None) -> float:
        step = self._train_step(model, x, y)
        total, n = 0.0, 0
        for xb, yb in self.batches((x, y), order, batch_size, timer):
            timer.start()
            value = float(step(tf.constant(xb), tf.constant(yb)))  # host copy: the step has finished
            timer.stop()
            total += value * len(xb)
            n += len(xb)
        return total / n
