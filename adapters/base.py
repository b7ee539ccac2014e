"""The Adapter contract every framework adapter implements.

An adapter turns a validated :class:`~frameworkbench.spec.Spec` into a native
model and trains it on the batches it is handed, in the order given. It never
validates the spec, shuffles data or computes metrics: the core does those
once for every target. Weights cross the boundary in the canonical layout of
:mod:`frameworkbench.weights` (kernel (in, out), bias (out,)).
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np

from frameworkbench import layers as layer_types
from frameworkbench.devices import DeviceUnavailable  # noqa: F401  (adapters raise it)
from frameworkbench.measure import StepTimer
from frameworkbench.spec import ACTIVATIONS, LOSSES, OPTIMIZERS, Spec
from frameworkbench.targets import Target
from frameworkbench.weights import DenseWeights

from . import _backends
from ._errors import Unsupported


class Adapter(ABC):
    """Base class of all adapters. Capability constants are read by tests and the report.

    A family sets ``FAMILY`` (the weight layout of :mod:`frameworkbench.layers`) and ``BUILDERS``
    (layer type -> ``builder(adapter, layer, input_shape, **context) -> [native layers]``);
    ``self.runtime`` is the backend's runtime module (:mod:`._backends`), chosen once.
    """

    FAMILY = ""
    BUILDERS: dict = {}
    SUPPORTED_LAYERS = frozenset()  # set per family from BUILDERS
    SUPPORTED_ACTIVATIONS = frozenset(ACTIVATIONS)
    SUPPORTED_LOSSES = frozenset(LOSSES)
    SUPPORTED_OPTIMIZERS = frozenset(OPTIMIZERS)
    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})

    def __init__(self, target: Target, threads: int, policy: str = "aligned") -> None:
        self.target = target
        self.threads = threads
        self.device = "cpu"
        # "aligned": the spec's values and one formulation everywhere (see README, parity);
        # "native": the framework's own defaults for every value frameworks default differently.
        self.policy = policy
        self.runtime = _backends.get(target.backend, target.name)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "BUILDERS" in cls.__dict__:
            cls.SUPPORTED_LAYERS = frozenset(cls.BUILDERS)

    # -- device ------------------------------------------------------------------
    def is_available(self, device: str) -> str | None:
        """None if ``device`` (cpu, gpu or tpu) is usable from this process, else the reason it is not
        (the backend's answer)."""
        return self.runtime.unavailable(device)

    def select_device(self, requested: str) -> str:
        """Resolve ``auto`` and check the device; raise DeviceUnavailable with the reason."""
        if requested == "auto":
            for kind in ("gpu", "tpu"):
                if kind in self.SUPPORTED_DEVICES and self.is_available(kind) is None:
                    requested = kind
                    break
            else:
                requested = "cpu"
        if requested not in self.SUPPORTED_DEVICES:
            raise DeviceUnavailable(f"device {requested!r} is not supported by the {self.target.name} adapter "
                                    f"(supported: {', '.join(sorted(self.SUPPORTED_DEVICES))})")
        reason = self.is_available(requested)
        if reason:
            raise DeviceUnavailable(reason)
        self.device = requested
        return requested

    # -- lifecycle ---------------------------------------------------------------
    def configure(self) -> dict[str, Any]:
        """Apply thread counts and numeric settings (the policy's); return what is actually in force."""
        return self.runtime.configure(self.threads, self.policy)

    @abstractmethod
    def build(self, spec: Spec, seed: int) -> Any:
        """The native model for ``spec`` on the selected device, ready to train (seeded native init)."""

    def build_layers(self, spec: Spec, **context) -> list:
        """The native layers of every spec layer, in order, by this family's ``BUILDERS``."""
        out: list = []
        for lay, shape in zip(spec.layers, spec.shapes):
            build = self.BUILDERS.get(lay.type)
            if build is None:
                raise Unsupported(f"unsupported: layer type {lay.type!r} on target {self.target.name!r} "
                                  f"(supported: {', '.join(sorted(self.BUILDERS))})")
            out += build(self, lay, shape, **context)
        return out

    def to_native(self, weights: DenseWeights, layer_type: str = "dense") -> dict[str, np.ndarray]:
        """Canonical weights as this family's named arrays (the layer module's ``to_family``)."""
        return layer_types.get(layer_type).to_family(weights, self.FAMILY)

    def from_native(self, arrays: dict[str, np.ndarray], layer_type: str = "dense") -> DenseWeights:
        """This family's named arrays as canonical weights (the layer module's ``from_family``)."""
        return layer_types.get(layer_type).from_family(arrays, self.FAMILY)

    @abstractmethod
    def set_weights(self, model: Any, weights: list[DenseWeights]) -> None:
        """Load canonical-layout weights into the model."""

    @abstractmethod
    def get_weights(self, model: Any) -> list[DenseWeights]:
        """The model's dense weights in canonical layout (numpy, float32)."""

    @abstractmethod
    def train(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer) -> float:
        """One pass over ``x``/``y`` in the given row order, in consecutive mini-batches of
        ``batch_size`` (the last may be smaller), one optimiser step each. Calls
        ``timer.start()``/``timer.stop()`` around every step, stopping only once the step's
        result is on the host. Returns the epoch's mean loss as the framework reports it."""

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch: Callable[[int, float, list[float], float], bool]) -> None:
        """Train on every epoch of ``plan`` (one row order per epoch), in the plan's batches.

        After each epoch calls ``on_epoch(index, loss, step_seconds, epoch_seconds)`` (its own
        time is not part of the epoch's) and stops when it returns False. The default runs
        :meth:`train` once per epoch; an adapter overrides this when one call for all epochs is
        the framework's idiomatic (and cheaper) way.
        """
        for e, order in enumerate(plan):
            timer = StepTimer()
            t0 = time.perf_counter()
            loss = self.train(model, spec, x[order], y[order], batch_size, timer)
            if not on_epoch(e, loss, timer.durations, time.perf_counter() - t0):
                break

    @abstractmethod
    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Model outputs for ``x`` (inference mode) as a numpy array."""

    @abstractmethod
    def param_device(self, model: Any) -> str:
        """Where the parameters actually live, as the framework names it."""

    @abstractmethod
    def loss_and_gradients(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        """The training loss on (x, y) and its gradient for every dense kernel and bias, by the
        framework's own autodiff, in canonical layout. Does not change the model."""

    @abstractmethod
    def defaults_in_use(self, model: Any) -> dict[str, Any]:
        """Values this model actually uses where frameworks default differently (read from the
        framework objects or measured on them): init, Adam epsilon, clipping, slopes, TF32."""

    def infer(self, model: Any, x: np.ndarray) -> np.ndarray:
        """One forward pass on ``x`` by the framework's lowest-overhead idiomatic call, returned on
        the host (the host copy is the device synchronisation). Used for latency."""
        return self.predict(model, x)

    def device_memory(self) -> dict[str, Any] | None:
        """The framework's own peak device-memory counter (GPU/TPU runs), or None on the CPU."""
        return self.runtime.device_memory_peak(self.device)

    def count_params(self, model: Any) -> int:
        """Trainable parameter count of the native model."""
        return int(sum(w.kernel.size + (w.bias.size if w.bias is not None else 0)
                       for w in self.get_weights(model)))

    def param_device_kind(self, model: Any) -> str:
        """Where the parameters live as one of cpu, gpu, tpu (read from :meth:`param_device`)."""
        return _backends.device_kind(self.param_device(model))

    @abstractmethod
    def probes(self):
        """The diagnostics this adapter's family provides to the worker modes (activation probes,
        execution variants, export paths): a :class:`~._probes.Probes` whose methods take the adapter first."""

    def runtime_info(self, model: Any) -> dict[str, Any]:
        """What the framework resolved to for this model (backend, compile mode, ...)."""
        return {}
