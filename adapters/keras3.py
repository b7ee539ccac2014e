"""Standalone Keras 3 on its tensorflow, jax or torch backend (KERAS_BACKEND set before import)."""
from __future__ import annotations

from typing import Any

import keras

from . import _runtime
from ._keras import KerasAdapter

_CHECKS = {"tensorflow": _runtime.tf_unavailable, "jax": _runtime.jax_unavailable,
           "torch": _runtime.torch_unavailable}
_CONFIGURE = {"tensorflow": _runtime.tf_configure, "jax": _runtime.jax_configure,
              "torch": _runtime.torch_configure}


class Keras3Adapter(KerasAdapter):
    """Keras 3; the backend is whatever ``keras.backend.backend()`` resolved to in this process."""

    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self.keras = keras
        keras.backend.clear_session()  # a reused worker starts each run from a clean Keras state
        self.backend = keras.backend.backend()
        if target.backend and self.backend != target.backend:
            raise RuntimeError(f"Keras resolved to backend {self.backend!r}, expected {target.backend!r}: "
                               "KERAS_BACKEND must be set before keras is first imported")

    def is_available(self, device: str) -> str | None:
        return _CHECKS[self.backend](device)

    def configure(self) -> dict[str, Any]:
        return _CONFIGURE[self.backend](self.threads, self.policy == "aligned")

    def _set_epsilon(self, eps: float) -> None:
        keras.config.set_epsilon(eps)

    def _epsilon(self) -> float:
        return float(keras.config.epsilon())

    def _placement(self):
        if self.backend == "tensorflow":
            return _runtime.tf_device(self.device)
        return super()._placement()

    def param_device(self, model: Any) -> str:
        value = model.weights[0].value
        if self.backend == "jax":
            return str(next(iter(value.devices())))
        return str(value.device)

    def runtime_info(self, model: Any) -> dict[str, Any]:
        return {**super().runtime_info(model), "backend": self.backend}
