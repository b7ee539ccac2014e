"""Python API for notebooks: compare targets side by side, or build one native model."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .runner import RunOptions, run
from .spec import Spec, SpecError, load_spec, problem
from .targets import get_target, parse_targets


@dataclass
class Comparison:
    """The records of one comparison, one per target × seed."""

    spec: Spec
    records: list[dict]

    def to_pandas(self):
        """One row per run: target, seed, status, params, final metrics and key timings."""
        import pandas as pd

        from .report.tables import run_row

        return pd.DataFrame([run_row(r) for r in self.records])

    def by_target(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in self.records:
            out.setdefault(r["target"], []).append(r)
        return out

    @property
    def ok(self) -> bool:
        return all(r["status"] in ("ok", "skipped") for r in self.records)


def compare(spec: str | os.PathLike | Mapping[str, Any] | Spec, targets: str | Iterable[str] | None = None,
            **options: Any) -> Comparison:
    """Run ``spec`` on each target (default: all) in its own worker and return the records.

    ``options`` are :class:`~frameworkbench.runner.RunOptions` fields: device, threads,
    seeds, timeout, db, store.
    """
    s = load_spec(spec)
    if targets is not None and not isinstance(targets, str):
        targets = ",".join(targets)
    return Comparison(s, run(s, parse_targets(targets), RunOptions(**options)))


def build(spec: str | os.PathLike | Mapping[str, Any] | Spec, target: str, *, device: str = "cpu",
          threads: int | None = None, seed: int | None = None) -> Any:
    """Build the native model (Keras model or torch ``nn.Module``) for ``spec`` in this process.

    With ``init: shared`` the model gets the same initial weights every worker would load.
    The target's env vars (KERAS_BACKEND, TF_USE_LEGACY_KERAS) must not conflict with a
    framework already imported here; a conflict raises ``SpecError``.
    """
    from . import weights

    s = load_spec(spec)
    t = get_target(target)
    for var, val in t.env.items():
        current = os.environ.get(var)
        if current is not None and current != val and any(m in sys.modules for m in ("keras", "tensorflow")):
            raise SpecError([problem("target", f"{target} needs {var}={val}, but this process already imported "
                                               f"a framework with {var}={current}; use a fresh process or compare()")])
        os.environ[var] = val
    opts = RunOptions(device=device, threads=threads)
    adapter = t.load_adapter()(t, opts.resolved_threads())
    adapter.select_device(device)
    seed = s.training["seed"] if seed is None else seed
    model = adapter.build(s, seed)
    if s.init == "shared":
        adapter.set_weights(model, weights.initial_weights(s, seed))
    return model
