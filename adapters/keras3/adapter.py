"""Standalone Keras 3 on its tensorflow, jax or torch backend (KERAS_BACKEND set before import)."""
from __future__ import annotations

from typing import Any

import keras

from .._keras.adapter import KerasAdapter
from .probes import PROBES


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

    def probes(self):
        return PROBES

    def _set_epsilon(self, eps: float) -> None:
        keras.config.set_epsilon(eps)

    def _epsilon(self) -> float:
        return float(keras.config.epsilon())

    def param_device(self, model: Any) -> str:
        return self.runtime.array_device(model.weights[0].value)

    def runtime_info(self, model: Any) -> dict[str, Any]:
        return {**super().runtime_info(model), "backend": self.backend}
