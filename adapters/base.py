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
from frameworkbench.spec.fields import PRECISIONS
from frameworkbench.targets import Target
from frameworkbench.weights import DenseWeights

from . import _backends
from ._errors import Unsupported

RESIDENT_FRACTION = 0.25
"""Training arrays up to this share of the device's memory are copied to it once per run."""


def fits_on_device(nbytes: int, device_bytes: int | None) -> bool:
    """Whether arrays of ``nbytes`` are kept on a device of ``device_bytes`` (unknown: no)."""
    return bool(device_bytes) and nbytes <= RESIDENT_FRACTION * device_bytes


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
    SUPPORTED_PRECISIONS = frozenset(PRECISIONS)  # training.precision values this adapter implements
    SUPPORTED_COMPILE = frozenset({"default"})  # --compile values (execution.records.COMPILE) it implements
    precision = "float32"  # the run's training.precision and --compile: set by the worker before configure()
    compile = "default"

    def __init__(self, target: Target, threads: int, policy: str = "aligned") -> None:
        self.target = target
        self.threads = threads
        self.device = "cpu"
        # "aligned": the spec's values and one formulation everywhere (see README, parity);
        # "native": the framework's own defaults for every value frameworks default differently.
        self.policy = policy
        self.runtime = _backends.get(target.backend, target.name)
        # aligned policy: layer index -> the run's dropout mask bank (frameworkbench.weights.mask_banks),
        # set by the worker before any build, like ``precision``; builders read theirs by :meth:`mask_bank`
        self.mask_banks: dict[int, np.ndarray] = {}
        self.layer_index = -1  # the spec layer being built (build_layers)

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

    def unsupported(self) -> str | None:
        """Why this run's precision or compilation cannot run on this target (None: it can)."""
        for what, value, allowed in (("precision", self.precision, self.SUPPORTED_PRECISIONS),
                                     ("--compile", self.compile, self.SUPPORTED_COMPILE)):
            if value not in allowed:
                return (f"unsupported: {what} {value!r} on target {self.target.name!r} "
                        f"(supported: {', '.join(sorted(allowed))})")
        return None

    @property
    def compute_dtype(self) -> str:
        """The dtype the run computes in (bfloat16, float16 or float32), from its precision."""
        return PRECISIONS[self.precision][0]

    @property
    def variable_dtype(self) -> str:
        return PRECISIONS[self.precision][1]

    # -- lifecycle ---------------------------------------------------------------
    def configure(self) -> dict[str, Any]:
        """Apply thread counts and numeric settings (the policy's and precision's); return what is in
        force, with the effective matmul precision read back from the framework (``matmul_precision``)."""
        out = self.runtime.configure(self.threads, self.policy, self.precision, self.compile)
        return {**out, "precision": self.precision, "compile": self.compile,
                "matmul_precision": self.runtime.matmul_precision(self.device, self.compute_dtype)}

    @abstractmethod
    def build(self, spec: Spec, seed: int) -> Any:
        """The native model for ``spec`` on the selected device, ready to train (seeded native init)."""

    def build_layers(self, spec: Spec, **context) -> list:
        """The native layers of every spec layer, in order, by this family's ``BUILDERS``."""
        out: list = []
        for i, (lay, shape) in enumerate(zip(spec.layers, spec.shapes)):
            build = self.BUILDERS.get(lay.type)
            if build is None:
                raise Unsupported(f"unsupported: layer type {lay.type!r} on target {self.target.name!r} "
                                  f"(supported: {', '.join(sorted(self.BUILDERS))})")
            self.layer_index = i
            out += build(self, lay, shape, **context)
        return out

    def mask_bank(self) -> np.ndarray:
        """The mask bank of the layer being built: ``(n, batch_size, *input_shape)`` uint8, step ``k`` of
        the run uses ``bank[k % n][:rows]`` (:func:`frameworkbench.weights.step_masks`)."""
        bank = self.mask_banks.get(self.layer_index)
        if bank is None:
            raise RuntimeError(f"layers[{self.layer_index}]: aligned dropout needs the run's mask bank; set "
                               "adapter.mask_banks = frameworkbench.weights.mask_banks(spec, seed, plan) before "
                               "build (the worker does)")
        return bank

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
    def train(self, model: Any, spec: Spec, x: Any, y: Any, batch_size: int, timer: StepTimer,
              order: np.ndarray | None = None) -> float:
        """One pass over ``x``/``y`` in consecutive mini-batches of ``batch_size`` (the last may be
        smaller), one optimiser step each, taken by :meth:`batches`: the rows in the given order, or,
        with ``order``, the rows ``order`` names, gathered batch by batch (``x``/``y`` then come from
        :meth:`resident`). Calls ``timer.start()``/``timer.stop()`` around every step, stopping only
        once the step's result is on the host. Returns the epoch's mean loss as the framework reports it."""

    # -- input -------------------------------------------------------------------
    def resident(self, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        """The training arrays where the batches are gathered from, placed once per run. Default: the
        host arrays (on the CPU the host memory is the device's: nothing moves). A GPU adapter copies
        them to the device when they fit (:func:`fits_on_device`) and keeps them in pinned host memory
        otherwise."""
        return x, y

    def take(self, array: Any, idx: np.ndarray) -> Any:
        """Rows ``idx`` of a :meth:`resident` array (numpy fancy indexing; a device gather on GPUs)."""
        return array[idx]

    def put(self, batch: tuple[Any, Any]) -> tuple[Any, Any]:
        """Start moving one gathered batch to the device (asynchronously where the framework can);
        default: nothing to move."""
        return batch

    def batches(self, data: tuple[Any, Any], order: np.ndarray | None, batch_size: int, timer: StepTimer):
        """(x, y) per step: slices of ``data`` in its order, or the rows ``order`` names, gathered per
        batch (never a whole epoch at once). The next batch is gathered and put before the current one
        is handed out, so its copy overlaps the step; gather and put count as ``timer``'s input time."""
        x, y = data
        n = len(x) if order is None else len(order)

        def fetch(i: int):
            timer.input_start()
            if order is None:
                batch = (x[i:i + batch_size], y[i:i + batch_size])
            else:
                idx = order[i:i + batch_size]
                batch = (self.take(x, idx), self.take(y, idx))
            batch = self.put(batch)
            timer.input_stop()
            return batch

        nxt = fetch(0)
        for i in range(0, n, batch_size):
            cur = nxt
            if i + batch_size < n:
                nxt = fetch(i + batch_size)
            yield cur

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch: Callable[[int, float, StepTimer, float], bool]) -> None:
        """Train on every epoch of ``plan`` (one row order per epoch), in the plan's batches.

        After each epoch calls ``on_epoch(index, loss, timer, epoch_seconds)`` (its own time is not
        part of the epoch's; ``timer`` holds the step durations and input time) and stops when it
        returns False. The default places the arrays once (:meth:`resident`) and runs :meth:`train`
        once per epoch with the epoch's order; an adapter overrides this when one call for all
        epochs is the framework's idiomatic (and cheaper) way.
        """
        data = self.resident(x, y)
        for e, order in enumerate(plan):
            timer = StepTimer()
            t0 = time.perf_counter()
            loss = self.train(model, spec, *data, batch_size, timer, order=order)
            if not on_epoch(e, loss, timer, time.perf_counter() - t0):
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
