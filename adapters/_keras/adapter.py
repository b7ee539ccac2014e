"""What tf.keras (Keras 2) and standalone Keras 3 adapters share: the Keras API itself.

Layers are built by :data:`BUILDERS` (one builder per layer type); backend-specific steps
(placement, matmul precision) go through ``self.runtime``, gradients through :data:`GRADIENTS`.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation, Spec
from frameworkbench.weights import DenseWeights

from ..base import Adapter, Unsupported

from . import LOSSES

PREDICT_BATCH = 4096
PLAIN_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax"}


# ----------------------------------------------------------------------------- layer builders
def _dense(adapter: "KerasAdapter", lay, input_shape) -> list:
    plain = lay.activation.name in PLAIN_ACTIVATIONS
    out = [adapter.keras.layers.Dense(lay.units, activation=lay.activation.name if plain else None,
                                      use_bias=lay.use_bias)]
    return out if plain else out + [adapter.activation_layer(lay.activation)]


def _activation(adapter: "KerasAdapter", lay, input_shape) -> list:
    return [adapter.activation_layer(lay.activation)]


BUILDERS = {"dense": _dense, "activation": _activation}


# ----------------------------------------------------------------------------- gradients per backend
def _tf_gradients(model, variables, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = model.loss(y, model(x, training=True))
    return loss, tape.gradient(loss, variables)


def _jax_gradients(model, variables, x, y):
    import jax

    tv, ntv = model.trainable_variables, model.non_trainable_variables
    where = {id(v): i for i, v in enumerate(tv)}

    def f(values):
        out, _ = model.stateless_call(values, [v.value for v in ntv], x, training=True)
        return model.loss(y, out)

    loss, all_grads = jax.value_and_grad(f)([v.value for v in tv])
    return loss, [all_grads[where[id(v)]] for v in variables]


def _torch_gradients(model, variables, x, y):
    import torch

    loss = model.loss(y, model(x, training=True))
    return loss, torch.autograd.grad(loss, [v.value for v in variables])


GRADIENTS = {"tensorflow": _tf_gradients, "jax": _jax_gradients, "torch": _torch_gradients}


# ----------------------------------------------------------------------------- adapter
class OwnLoop:
    """Mixin for Keras-model targets trained by their own loop (:meth:`train`) instead of ``model.fit``.

    Put it before the Keras adapter in the bases; set ``TRAINING_API`` to describe the loop.
    """

    TRAINING_API = ""

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch) -> None:
        """Every epoch through this class's own loop, never the Keras adapter's ``model.fit``."""
        return Adapter.fit(self, model, spec, x, y, plan, batch_size, on_epoch)

    def runtime_info(self, model: Any) -> dict[str, Any]:
        return {**super().runtime_info(model), "training_api": self.TRAINING_API}


class KerasAdapter(Adapter):
    """Shared Keras implementation; subclasses set ``self.keras`` and ``self.backend``."""

    FAMILY = "keras"
    BUILDERS = BUILDERS
    keras: Any
    backend = "tensorflow"
    SLOPE_ARG = "negative_slope"  # LeakyReLU's slope argument (tf_keras calls it alpha)
    FIT_DEFAULT = "model.fit defaults (jit_compile='auto')"  # how fit runs its step (diagnostics)

    # -- model -------------------------------------------------------------------
    def activation_layer(self, act: Activation):
        K = self.keras
        native = self.policy == "native"  # native: the layer's own default slope / alpha
        if act.name == "leaky_relu":
            return K.layers.LeakyReLU(**({} if native else {self.SLOPE_ARG: act.param("negative_slope")}))
        if act.name == "elu":
            return K.layers.ELU(**({} if native else {"alpha": act.param("alpha")}))
        return K.layers.Activation(act.name)

    def _optimizer(self, opt: dict):
        K = self.keras
        if opt["name"] == "adam":
            eps = {} if self.policy == "native" else {"epsilon": opt["epsilon"]}
            return K.optimizers.Adam(learning_rate=opt["learning_rate"], beta_1=opt["beta_1"],
                                     beta_2=opt["beta_2"], **eps)
        return K.optimizers.SGD(learning_rate=opt["learning_rate"], momentum=opt["momentum"])

    def _set_epsilon(self, eps: float) -> None:
        self.keras.backend.set_epsilon(eps)

    def build(self, spec: Spec, seed: int) -> Any:
        K = self.keras
        if spec.init == "native":
            K.utils.set_random_seed(seed)
        if "epsilon" in spec.loss and self.policy == "aligned":
            self._set_epsilon(spec.loss["epsilon"])
        layers = [K.Input(shape=(spec.n_features,)), *self.build_layers(spec)]
        with self.runtime.placement(self.device):
            model = K.Sequential(layers)
            model.compile(optimizer=self._optimizer(spec.optimizer),
                          loss=getattr(K.losses, LOSSES[spec.loss["name"]])())
        return model

    def _dense_layers(self, model: Any) -> list:
        return [lay for lay in model.layers if isinstance(lay, self.keras.layers.Dense)]

    def set_weights(self, model: Any, weights: list[DenseWeights]) -> None:
        for layer, w in zip(self._dense_layers(model), weights, strict=True):
            layer.set_weights(list(self.to_native(w).values()))  # kernel, bias: Keras' own order

    def get_weights(self, model: Any) -> list[DenseWeights]:
        out = []
        for layer in self._dense_layers(model):
            arrays = [np.asarray(a) for a in layer.get_weights()]
            out.append(self.from_native(dict(zip(("kernel", "bias"), arrays))))
        return out

    def count_params(self, model: Any) -> int:
        return int(model.count_params())

    # -- training ----------------------------------------------------------------
    def _timer_callback(self, timer: StepTimer):
        K = self.keras

        class StepClock(K.callbacks.Callback):
            # Keras hands batch-end logs to a callback as host values, so the step has finished.
            def on_train_batch_begin(self, batch, logs=None):
                timer.start()

            def on_train_batch_end(self, batch, logs=None):
                timer.stop()

        return StepClock()

    def train(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer) -> float:
        hist = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                         callbacks=[self._timer_callback(timer)])
        return float(hist.history["loss"][0])

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch) -> None:
        """On TensorFlow: one ``fit`` call for all epochs over a tf.data pipeline that yields exactly
        the plan's batches (each ``fit`` call costs tens of milliseconds of setup, which one call
        per epoch would add to every epoch). Other backends: one ``fit`` per epoch (base class)."""
        if self.backend != "tensorflow":
            return super().fit(model, spec, x, y, plan, batch_size, on_epoch)
        import tensorflow as tf

        K = self.keras
        xs, ys = tf.constant(x), tf.constant(y)
        data = (tf.data.Dataset.from_tensor_slices(plan)
                .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
                .map(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)))
                .prefetch(tf.data.AUTOTUNE))
        timer = StepTimer()

        class EpochHook(K.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                timer.durations = []
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds = time.perf_counter() - self.t0
                if not on_epoch(epoch, float(logs["loss"]), timer.durations, seconds):
                    self.model.stop_training = True

        model.fit(data, epochs=len(plan), steps_per_epoch=math.ceil(len(x) / batch_size), verbose=0,
                  callbacks=[self._timer_callback(timer), EpochHook()])

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, batch_size=min(len(x), PREDICT_BATCH), verbose=0))

    def infer(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_on_batch(x))

    def runtime_info(self, model: Any) -> dict[str, Any]:
        K = self.keras
        return {"keras_version": getattr(self, "version", None) or K.__version__, "keras_module": K.__name__,
                "jit_compile": bool(getattr(model, "jit_compile", False)),
                "run_eagerly": bool(model.run_eagerly)}

    # -- parity ------------------------------------------------------------------
    def _to_numpy(self, value) -> np.ndarray:
        if hasattr(value, "numpy") and not hasattr(value, "detach"):
            return np.asarray(value.numpy())
        if hasattr(value, "detach"):
            return value.detach().cpu().numpy()
        return np.asarray(value)

    def loss_and_gradients(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        gradients = GRADIENTS.get(self.backend)
        if gradients is None:
            raise Unsupported(f"unsupported: gradients on Keras backend {self.backend!r} "
                              f"(supported: {', '.join(GRADIENTS)})")
        dense = self._dense_layers(model)
        variables = [v for layer in dense for v in ([layer.kernel] + ([layer.bias] if layer.use_bias else []))]
        loss, grads = gradients(model, variables, x, y)
        it = iter(self._to_numpy(g) for g in grads)
        out = [self.from_native({"kernel": next(it), **({"bias": next(it)} if layer.use_bias else {})})
               for layer in dense]
        return float(self._to_numpy(loss)), out

    def _epsilon(self) -> float:
        return float(self.keras.backend.epsilon())

    def defaults_in_use(self, model: Any) -> dict[str, Any]:
        import inspect

        K = self.keras
        dense = self._dense_layers(model)
        leaky = [lay for lay in model.layers if isinstance(lay, K.layers.LeakyReLU)]
        elu = [lay for lay in model.layers if isinstance(lay, K.layers.ELU)]
        sig = inspect.signature
        opt = model.optimizer
        bce = K.losses.BinaryCrossentropy()
        at_zero = float(self._to_numpy(bce(np.array([[1.0]], np.float32), np.array([[0.0]], np.float32))))
        return {
            "kernel_initializer": type(dense[0].kernel_initializer).__name__,
            "bias_initializer": type(dense[0].bias_initializer).__name__,
            "optimizer": f"{type(opt).__module__}.{type(opt).__name__}",
            "adam_epsilon": float(opt.epsilon) if hasattr(opt, "epsilon") else None,
            "adam_epsilon_form": "epsilon-hat: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)",
            "leaky_relu_slope": float(getattr(leaky[0], self.SLOPE_ARG)) if leaky else
            sig(K.layers.LeakyReLU.__init__).parameters[self.SLOPE_ARG].default,
            "leaky_relu_slope_source": "layer in model" if leaky else "LeakyReLU default (not in model)",
            "elu_alpha": float(elu[0].alpha) if elu else sig(K.layers.ELU.__init__).parameters["alpha"].default,
            "crossentropy_epsilon": self._epsilon(),
            "bce_at_p0_y1": at_zero,
            "tf32": self.runtime.tf32(),
        }
