"""What tf.keras (Keras 2) and standalone Keras 3 adapters share: the Keras API itself."""
from __future__ import annotations

from typing import Any

import numpy as np

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation, Spec
from frameworkbench.weights import DenseWeights

from .base import Adapter

PREDICT_BATCH = 4096
# Losses by spec name; the probability clipping epsilon is Keras' global backend epsilon.
KERAS_LOSSES = {"binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
                "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "mse": "MeanSquaredError"}
PLAIN_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax"}


class KerasAdapter(Adapter):
    """Shared Keras implementation; subclasses set ``self.keras`` and device/thread handling."""

    keras: Any
    SLOPE_ARG = "negative_slope"  # LeakyReLU's slope argument (tf_keras calls it alpha)

    # -- model -------------------------------------------------------------------
    def _activation_layer(self, act: Activation):
        K = self.keras
        if act.name == "leaky_relu":
            return K.layers.LeakyReLU(**{self.SLOPE_ARG: act.param("negative_slope")})
        if act.name == "elu":
            return K.layers.ELU(alpha=act.param("alpha"))
        return K.layers.Activation(act.name)

    def _optimizer(self, opt: dict):
        K = self.keras
        if opt["name"] == "adam":
            return K.optimizers.Adam(learning_rate=opt["learning_rate"], beta_1=opt["beta_1"],
                                     beta_2=opt["beta_2"], epsilon=opt["epsilon"])
        return K.optimizers.SGD(learning_rate=opt["learning_rate"], momentum=opt["momentum"])

    def _set_epsilon(self, eps: float) -> None:
        self.keras.backend.set_epsilon(eps)

    def build(self, spec: Spec, seed: int) -> Any:
        K = self.keras
        if spec.init == "native":
            K.utils.set_random_seed(seed)
        if "epsilon" in spec.loss:
            self._set_epsilon(spec.loss["epsilon"])
        layers: list = [K.Input(shape=(spec.n_features,))]
        for lay in spec.layers:
            plain = lay.activation.name in PLAIN_ACTIVATIONS
            if lay.type == "dense":
                layers.append(K.layers.Dense(lay.units, activation=lay.activation.name if plain else None,
                                             use_bias=lay.use_bias))
                if not plain:
                    layers.append(self._activation_layer(lay.activation))
            else:
                layers.append(self._activation_layer(lay.activation))
        with self._placement():
            model = K.Sequential(layers)
            model.compile(optimizer=self._optimizer(spec.optimizer),
                          loss=getattr(K.losses, KERAS_LOSSES[spec.loss["name"]])())
        return model

    def _placement(self):
        """Context manager placing new variables on the selected device."""
        import contextlib

        return contextlib.nullcontext()

    def _dense_layers(self, model: Any) -> list:
        return [lay for lay in model.layers if isinstance(lay, self.keras.layers.Dense)]

    def set_weights(self, model: Any, weights: list[DenseWeights]) -> None:
        for layer, w in zip(self._dense_layers(model), weights, strict=True):
            layer.set_weights([w.kernel] + ([w.bias] if w.bias is not None else []))

    def get_weights(self, model: Any) -> list[DenseWeights]:
        out = []
        for layer in self._dense_layers(model):
            arrays = layer.get_weights()
            out.append(DenseWeights(np.asarray(arrays[0]), np.asarray(arrays[1]) if len(arrays) > 1 else None))
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

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, batch_size=min(len(x), PREDICT_BATCH), verbose=0))

    def runtime_info(self, model: Any) -> dict[str, Any]:
        K = self.keras
        return {"keras_version": getattr(self, "version", None) or K.__version__, "keras_module": K.__name__,
                "jit_compile": bool(getattr(model, "jit_compile", False)),
                "run_eagerly": bool(model.run_eagerly)}
