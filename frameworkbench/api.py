"""Python API for notebooks: compare targets side by side, or build one native model."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Mapping

from .execution.runner import RunOptions, run
from .spec import Problem, Spec, SpecError, fmt, load_spec, problem, wrong_type
from .targets import DEFAULT_TARGETS, get_target

# CLI flags whose API argument is not the flag's name with "-" -> "_".
_API_NAMES = {"--defaults": "policy"}
_RUN_COLUMNS = ["run_id", "target", "seed", "repeat", "policy", "device", "status"]


@dataclass
class Comparison:
    """The records of one comparison, one per target × seed × repeat."""

    spec: Spec
    records: list[dict]

    def to_pandas(self):
        """One row per run: target, seed, repeat, policy, device, status, params, final metrics, key
        timings; ``created_at`` as a timezone-aware datetime."""
        import pandas as pd

        from .report.tables import run_row

        rows = []
        for r in self.records:
            row = run_row(r)
            row["policy"] = r.get("policy")
            row["device"] = r.get("device") or r.get("device_requested")
            rows.append(row)
        df = pd.DataFrame(rows)
        if not df.empty:
            df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
            cols = list(df.columns)
            cols.remove("policy")
            cols.insert(cols.index("repeat") + 1, "policy")
            df = df[cols]
        return df

    def history_frame(self):
        """The per-epoch history: one row per run × epoch, with the run's target, seed, repeat,
        policy, device, status and run_id, then epoch, loss, val_loss, val_<metric>..., seconds.
        Runs without a history (skipped, failed before the first epoch) have no rows."""
        import pandas as pd

        rows = []
        for r in self.records:
            ids = {"run_id": r.get("run_id"), "target": r.get("target"), "seed": r.get("seed"),
                   "repeat": r.get("repeat", 0), "policy": r.get("policy"),
                   "device": r.get("device") or r.get("device_requested"), "status": r.get("status")}
            rows += [{**ids, **h} for h in r.get("history") or []]
        return pd.DataFrame(rows, columns=None if rows else [*_RUN_COLUMNS, "epoch", "loss", "val_loss", "seconds"])

    def by_target(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in self.records:
            out.setdefault(r["target"], []).append(r)
        return out

    @property
    def ok(self) -> bool:
        return all(r["status"] in ("ok", "skipped") for r in self.records)


def _api_problem(p: Problem, names: Mapping[str, str] | None = None) -> Problem:
    """A problem named by a CLI flag (``--batch-size``) renamed to the API argument (``batch_size``)."""
    if not p.path.startswith("--"):
        return p
    names = {**_API_NAMES, **(names or {})}
    return Problem(names.get(p.path, p.path[2:].replace("-", "_")), p.message)


def _api_errors(exc: SpecError, names: Mapping[str, str] | None = None) -> SpecError:
    return SpecError([_api_problem(p, names) for p in exc.problems], source=exc.source)


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    try:
        return ipython is not None and ipython.get_ipython() is not None
    except Exception:  # an IPython too old or half-imported: no notebook
        return False


def progress_printer(progress: bool | Callable[[dict], None] | None) -> Callable[[dict], None] | None:
    """The event handler for ``compare(progress=...)``: a callable as is; True: one line per event on
    stderr (the CLI's lines); False: none; None: True when stderr is a terminal or in IPython/Jupyter."""
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        progress = bool(isatty and isatty()) or _in_notebook()
    if callable(progress):
        return progress
    if not isinstance(progress, bool):
        raise SpecError([wrong_type("progress", progress, "True, False, None or a callable taking an event dict")])
    if not progress:
        return None
    from .cli import Progress

    return Progress(quiet=False)


def _run_inputs(spec, targets, *, epochs, batch_size, seeds, repeats, device, threads, timeout, policy,
                isolate, force, db, precision=None, compile="default"):
    """Spec (with overrides), targets and RunOptions through the CLI's own checks; problems name the
    API arguments."""
    from .cli import _load_run_inputs

    problems: list[Problem] = []
    overrides = {}
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(problem(name, f"expected a positive integer, got {fmt(value)}"))
            value = None
        overrides[name] = value
    if targets is not None and not isinstance(targets, str):
        try:
            targets = list(targets)
        except TypeError:
            problems.append(wrong_type("targets", targets, "a list of target names or a comma-separated string"))
            targets = None
        else:
            bad = [t for t in targets if not isinstance(t, str)]
            if bad:
                problems.append(wrong_type("targets", bad[0], "target names (strings)"))
                targets = None
            elif not targets:
                problems.append(problem("targets", "empty list; give target names or None for the defaults ("
                                                   + ", ".join(DEFAULT_TARGETS) + ")"))
                targets = None
            else:
                targets = ",".join(targets)
    args = SimpleNamespace(spec=spec, targets=targets, device=device, threads=threads, seeds=seeds,
                           timeout=timeout, db=None if db is None else os.fspath(db), precision=precision,
                           **overrides)
    try:
        loaded, parsed, (opts,) = _load_run_inputs(args, [dict(force=force, policy=policy, repeats=repeats,
                                                               isolate=isolate, compile=compile)])
    except SpecError as exc:
        raise SpecError(problems + [_api_problem(p) for p in exc.problems],
                        source=None if problems else exc.source) from None
    if problems:
        raise SpecError(problems)
    return loaded, parsed, opts


def compare(spec: str | os.PathLike | Mapping[str, Any] | Spec, targets: str | Iterable[str] | None = None, *,
            epochs: int | None = None, batch_size: int | None = None, seeds: int = 1, repeats: int = 1,
            device: str = "cpu", threads: int | None = None, timeout: float | None = None,
            policy: str | None = None, defaults: str | None = None, isolate: str = "run", force: bool = False,
            precision: str | None = None, compile: str = "default",
            executor: str = "local", ray_address: str | None = None, jobs: int | None = None,
            db: str | os.PathLike | None = None, store: bool = True,
            progress: bool | Callable[[dict], None] | None = None) -> Comparison:
    """Run ``spec`` on each target in its own worker, store the records and return them.

    The arguments are ``frameworkbench run``'s options, checked the same way:

    * ``targets``: names (list or comma-separated string), ``"all"``, or None for the defaults:
      tf.keras, keras:tensorflow, keras:jax, keras:torch, torch;
    * ``epochs``, ``batch_size``: override the spec's training values;
    * ``seeds``: number of seeds (seed, seed+1, ...); ``repeats``: runs per target and seed;
    * ``device`` (cpu, gpu, tpu, auto), ``threads`` (per framework), ``timeout`` (seconds per run);
    * ``policy`` (``defaults`` is an alias, as ``--defaults`` of ``--policy``): "aligned" (default) or "native";
    * ``isolate``: "run" (a fresh worker per run) or "target" (one worker per target);
    * ``precision``: overrides the spec's ``training.precision`` (float32, tf32, mixed_bfloat16,
      mixed_float16, bfloat16); ``compile``: "default", "eager" or "jit" (as ``--compile``);
    * ``executor``: "local" (worker processes here) or "ray" (Ray tasks; ``ray_address`` joins a
      cluster, None starts a local instance for this call); ``jobs``: runs at a time (default 1);
    * ``force``: rerun runs already stored as ok (default: reuse them); ``db``: the results
      database; ``store=False`` keeps the records out of it;
    * ``progress``: True prints one line per event on stderr, False prints nothing, a callable
      receives every runner event dict; None (default): True in a terminal or in Jupyter/IPython.
    """
    if defaults is not None and policy is not None and defaults != policy:
        raise SpecError([problem("defaults", f"is an alias of policy; got policy={fmt(policy)} and "
                                             f"defaults={fmt(defaults)}: give one")])
    policy = policy if policy is not None else defaults if defaults is not None else "aligned"
    on_event = progress_printer(progress)
    s, parsed, opts = _run_inputs(spec, targets, epochs=epochs, batch_size=batch_size, seeds=seeds,
                                  repeats=repeats, device=device, threads=threads, timeout=timeout, policy=policy,
                                  isolate=isolate, force=force, db=db, precision=precision, compile=compile)
    opts.store = store
    try:
        from .execution.executors import check_options, executors

        check_options(executor, jobs, ray_address, names={"executor": "executor", "jobs": "jobs",
                                                         "ray_address": "ray_address"})
        if executor == "local" and (jobs or 1) == 1:  # the runner's own default: one local worker at a time
            records = run(s, parsed, opts, on_event)
        else:
            with executors(executor, ray_address, names={"executor": "executor", "ray_address": "ray_address"}) as mk:
                records = run(s, parsed, opts, on_event, executor=mk(jobs or 1))
    except SpecError as exc:
        raise _api_errors(exc) from None
    return Comparison(s, records)


def build(spec: str | os.PathLike | Mapping[str, Any] | Spec, target: str, *, device: str = "cpu",
          threads: int | None = None, seed: int | None = None) -> Any:
    """Build the native model (Keras model or torch ``nn.Module``) for ``spec`` in this process.

    With ``init: shared`` the model gets the same initial weights every worker would load.
    The target's env vars (KERAS_BACKEND, TF_USE_LEGACY_KERAS) must not conflict with a
    framework already imported here; a conflict raises ``SpecError``.
    """
    from . import weights

    s = load_spec(spec)
    try:
        t = get_target(target)
        opts = RunOptions(device=device, threads=threads)
        opts.check()
    except SpecError as exc:
        raise _api_errors(exc, {"--targets": "target"}) from None
    for var, val in t.env.items():
        current = os.environ.get(var)
        if current is not None and current != val and any(m in sys.modules for m in t.modules):
            raise SpecError([problem("target", f"{target} needs {var}={val}, but this process already imported "
                                               f"a framework with {var}={current}; use a fresh process or compare()")])
        os.environ[var] = val
    adapter = t.load_adapter()(t, opts.resolved_threads())
    adapter.select_device(device)
    seed = s.training["seed"] if seed is None else seed
    model = adapter.build(s, seed)
    if s.init == "shared":
        adapter.set_weights(model, weights.initial_weights(s, seed))
    return model
