"""Keras 3 model trained by a hand-written JAX loop over Keras' stateless API: Keras' low-level level.

The model, optimiser and loss objects are the ``keras:jax`` target's (built by
:class:`~frameworkbench.adapters.keras3.adapter.Keras3Adapter`); the training step is the one in
Keras' guide "writing a training loop from scratch in JAX": ``model.stateless_call``
inside ``jax.value_and_grad``, ``optimizer.stateless_apply`` for the update, the whole
step under ``jax.jit``, and the variables written back into the model after each epoch.
"""
from __future__ import annotations

import weakref
from typing import Any

import jax
import numpy as np

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Spec

from .._keras.adapter import OwnLoop
from .adapter import Keras3Adapter
from .probes import STATELESS_PROBES


class KerasStatelessAdapter(OwnLoop, Keras3Adapter):
    """Keras 3 on JAX with a custom ``jax.jit`` training step built on the stateless API."""

    TRAINING_API = "Keras stateless API + jax.value_and_grad loop (jax.jit)"

    def probes(self):
        return STATELESS_PROBES

    def __init__(self, target, threads: int, *args, **kwargs) -> None:
        super().__init__(target, threads, *args, **kwargs)
        if self.backend != "jax":
            raise RuntimeError(f"the stateless-loop target needs the jax backend, Keras resolved to {self.backend!r}")
        self._steps: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()

    def _train_step(self, model: Any):
        if model not in self._steps:
            loss_fn, opt = model.loss, model.optimizer
            if isinstance(loss_fn, str):
                loss_fn = self.keras.losses.get(loss_fn)
            opt.build(model.trainable_variables)

            def compute_loss(trainable, non_trainable, x, y):
                y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
                return loss_fn(y, y_pred), non_trainable

            grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

            @jax.jit
            def step(state, x, y):
                trainable, non_trainable, opt_vars = state
                (loss, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)
                trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
                return loss, (trainable, non_trainable, opt_vars)

            self._steps[model] = step
        return self._steps[model]

    def train(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer, order: np.ndarray | None = None) -> float:
        step = self._train_step(model)
        opt = model.optimizer
        state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
                 [v.value for v in opt.variables])
        total, n = 0.0, 0
        for xb, yb in self.batches((x, y), order, batch_size, timer):
            timer.start()
            loss, state = step(state, xb, yb)
            value = float(loss)  # host copy: the step has finished
            timer.stop()
            total += value * len(xb)
            n += len(xb)
        trainable, non_trainable, opt_vars = state
        for var, value in zip(model.trainable_variables, trainable):
            var.assign(value)
        for var, value in zip(model.non_trainable_variables, non_trainable):
            var.assign(value)
        for var, value in zip(opt.variables, opt_vars):
            var.assign(value)
        return total / n
