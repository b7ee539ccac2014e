"""tf.keras: TensorFlow's own Keras 2 (the tf_keras package behind TF_USE_LEGACY_KERAS=1)."""
from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import tensorflow as tf  # noqa: E402

from .._keras.adapter import KerasAdapter  # noqa: E402
from .probes import PROBES  # noqa: E402


class TfKerasAdapter(KerasAdapter):
    """``tf.keras`` resolved through TensorFlow; checks it really is Keras 2."""

    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})
    SLOPE_ARG = "alpha"
    FIT_DEFAULT = "model.fit defaults (tf.function graph)"

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self.keras = tf.keras
        self.keras.backend.clear_session()  # a reused worker starts each run from a clean Keras state
        self.version = self._resolved_version()
        if not self.version.startswith("2."):
            raise RuntimeError(f"tf.keras resolved to Keras {self.version} ({self.keras.__name__}); "
                               "expected tf_keras (Keras 2): install tf-keras and set TF_USE_LEGACY_KERAS=1 "
                               "before importing tensorflow")

    def _resolved_version(self) -> str:
        import importlib

        root = importlib.import_module(self.keras.__name__.split(".")[0])  # tf_keras or keras
        return str(getattr(root, "__version__", getattr(self.keras, "__version__", "unknown")))

    def probes(self):
        return PROBES

    def infer(self, model: Any, x):
        # tf_keras' predict_on_batch builds a data handler per call (~20 ms); a tf.function around
        # the model call is TensorFlow's idiomatic low-latency path.
        serve = getattr(model, "_fb_serve", None)
        if serve is None:
            serve = model._fb_serve = tf.function(lambda v: model(v, training=False), reduce_retracing=True)
        return serve(x).numpy()

    def param_device(self, model: Any) -> str:
        return self.runtime.array_device(model.weights[0])

    def runtime_info(self, model: Any) -> dict[str, Any]:
        return {**super().runtime_info(model), "backend": "tensorflow", "eager_default": tf.executing_eagerly()}
