"""The typed process boundary: the job a worker runs, each worker mode's result, the stored record.

Every class converts with ``to_dict``/``from_dict``; ``from_dict`` refuses unknown fields, so a
field is added here (one place) or nowhere. Records travel and are stored as dicts with the same
keys as these classes' fields; :data:`SCHEMA_VERSION` is the results database's schema version.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

SCHEMA_VERSION = 1
POLICIES = ("aligned", "native")  # aligned: the spec's values everywhere; native: each framework's defaults
# default: each target's own (jax.jit on JAX, tf.function graphs on TensorFlow, eager torch);
# eager: no graph compilation; jit: XLA on TensorFlow (jit_compile=True), torch.compile on torch
COMPILE = ("default", "eager", "jit")
_ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "<absent>"})()  # a field the dict does not have


class RecordError(ValueError):
    """A dict that does not fit its record class (unknown or missing fields)."""


def _names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


class _Record:
    """``to_dict``/``from_dict`` for a dataclass; fields left at ``_ABSENT`` are not in the dict."""

    def to_dict(self) -> dict:
        return {n: getattr(self, n) for n in _names(self) if getattr(self, n) is not _ABSENT}

    @classmethod
    def from_dict(cls, d: dict):
        names = _names(cls)
        unknown = [k for k in d if k not in names]
        if unknown:
            raise RecordError(f"{cls.__name__}: unknown field(s) {', '.join(map(repr, unknown))}")
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in d
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise RecordError(f"{cls.__name__}: missing field(s) {', '.join(map(repr, missing))}")
        return cls(**d)


# ----------------------------------------------------------------------------- runner -> worker
@dataclass
class Job(_Record):
    """One run for a worker: the target, the spec snapshot (already validated) and the prepared inputs."""

    run_id: str
    target: str
    spec: dict
    seed: int
    device: str
    threads: int
    mode: str
    policy: str
    data_path: str
    plan_path: str
    weights_path: str
    env: dict
    options: dict = field(default_factory=dict)  # what the mode reads (parity steps, codegen timeout, ...)
    compile: str = "default"  # COMPILE; the precision is the spec's training.precision
    record_path: str | None = None  # where the worker writes its result (set at launch)
    version: int = SCHEMA_VERSION

    @property
    def shared_init(self) -> bool:
        """Whether the model starts from the shared initial weights: the spec asks and the policy aligns."""
        return self.spec["init"] == "shared" and self.policy == "aligned"


def init_used(spec_init: str, policy: str) -> str:
    """The initialisation a run really uses: ``shared`` only when the policy is aligned."""
    return "shared" if spec_init == "shared" and policy == "aligned" else "native"


# ----------------------------------------------------------------------------- worker mode results
@dataclass
class ModeResult(_Record):
    """The record fields a worker mode adds (one subclass per mode)."""

    status: str = _ABSENT
    error: str | None = _ABSENT
    timings: dict = _ABSENT


@dataclass
class TrainResult(ModeResult):
    history: list = _ABSENT
    warnings: list = _ABSENT
    diverged_epoch: int | None = _ABSENT
    final: dict = _ABSENT
    inference: dict | None = _ABSENT
    saved_model: dict | None = _ABSENT  # run --save-models: path, sha256, size_bytes (or error)


@dataclass
class TrainStatsResult(TrainResult):
    train_stats: dict = _ABSENT


@dataclass
class ProbeResult(ModeResult):
    probe: dict = _ABSENT


@dataclass
class ParityResult(ModeResult):
    parity: dict = _ABSENT
    history: list = _ABSENT
    final: dict = _ABSENT
    defaults: dict = _ABSENT


@dataclass
class ActivationsResult(ModeResult):
    activations: dict = _ABSENT


@dataclass
class DynamicResult(ModeResult):
    dynamic: dict = _ABSENT


@dataclass
class ExportResult(ModeResult):
    export: dict = _ABSENT
    history: list = _ABSENT  # the training before the export (absent when it starts from a saved model)
    final: dict = _ABSENT
    saved_model: dict | None = _ABSENT


@dataclass
class CodegenResult(ModeResult):
    codegen: dict = _ABSENT


# ----------------------------------------------------------------------------- worker -> runner -> store
@dataclass
class RunRecord(_Record):
    """One run as stored: its context (set before the run), the worker's fields, the mode's fields.

    Only the fields the results database indexes are required. ``results`` holds the mode's own
    fields (a :class:`ModeResult` subclass' names); ``to_dict`` puts them at the top level, as
    every reader of stored records expects.
    """

    run_id: str
    batch_id: str
    created_at: str
    spec_name: str
    spec_hash: str
    target: str
    status: str  # pending, ok, skipped, failed, timeout, diverged
    seed: int
    run_key: str  # what makes two runs the same run (resume), see execution.runner.run_key
    # the context, set by the runner before the run
    family: str = _ABSENT
    backend: str | None = _ABSENT
    error: str | None = _ABSENT
    spec: dict = _ABSENT  # the spec snapshot (as given: the policy does not change it)
    init: str = _ABSENT  # the initialisation the run used (shared or native), see init_used
    dataset_hash: str | None = _ABSENT
    dataset: dict = _ABSENT
    device_requested: str = _ABSENT
    device: str | None = _ABSENT
    threads: int | None = _ABSENT
    versions: dict = _ABSENT
    host: dict = _ABSENT
    mode: str = _ABSENT
    policy: str = _ABSENT
    precision: str = _ABSENT  # the spec's training.precision (a top-level copy: tables group by it)
    compile: str = _ABSENT  # COMPILE
    repeat: int = _ABSENT
    isolate: str = _ABSENT
    # set by the worker
    param_count: int = _ABSENT
    param_device: str = _ABSENT
    runtime: dict = _ABSENT
    timings: dict = _ABSENT
    load: dict = _ABSENT
    peak_rss_mb: float = _ABSENT
    peak_rss_sampled_mb: float | None = _ABSENT
    device_memory: dict | None = _ABSENT
    worker: dict = _ABSENT
    warnings: list = _ABSENT
    traceback: str = _ABSENT
    # set by the runner
    worker_wall_s: float = _ABSENT
    stderr_tail: str = _ABSENT
    last_epoch: int | None = _ABSENT
    finished_at: str = _ABSENT
    cached: bool = _ABSENT
    outlier: dict = _ABSENT
    api: str = _ABSENT  # the API level the target trains with (studies)
    results: dict = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, ``default`` when the record does not have it."""
        value = getattr(self, name)
        return default if value is _ABSENT else value

    def to_dict(self) -> dict:
        out = super().to_dict()
        results = out.pop("results")
        return {**out, **results}

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        own = set(_names(cls)) - {"results"}
        results = {k: v for k, v in d.items() if k not in own}
        return super().from_dict({**{k: v for k, v in d.items() if k in own}, "results": results})


WORKER_FIELDS = ("status", "error", "device", "param_count", "param_device", "runtime", "timings", "load",
                 "peak_rss_mb", "peak_rss_sampled_mb", "device_memory", "worker", "warnings", "traceback")


def check_result(result: dict, result_cls: type[ModeResult]) -> dict:
    """A worker's result checked against its mode: only worker fields and the mode's own fields."""
    result_cls.from_dict({k: v for k, v in result.items() if k not in WORKER_FIELDS})
    return result
