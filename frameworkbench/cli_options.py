"""Option parsing shared by the command-line modules: argument types, the parser class and the
options of ``run``, ``parity`` and ``study``.

:mod:`frameworkbench.cli`, :mod:`frameworkbench.team_cli` and :mod:`frameworkbench.document_cli`
use these. Nothing here imports an ML framework or numpy at import time.
"""
from __future__ import annotations

import argparse
from typing import Callable


def _checked(text: str, convert: Callable, ok: Callable, expected: str):
    """``convert(text)`` when it converts and passes ``ok``; else an argparse error "<expected>, got '<text>'"."""
    try:
        v = convert(text)
    except ValueError:
        v = None
    if v is None or not ok(v):
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
    return v


def positive_int(text: str) -> int:
    return _checked(text, int, lambda v: v >= 1, "expected a positive integer")


def positive_float(text: str) -> float:
    return _checked(text, float, lambda v: v > 0 and v != float("inf"), "expected a positive number of seconds")


def min_effect(text: str) -> float:
    return _checked(text, float, lambda v: 0 <= v < 10, "expected a fraction such as 0.05 (0 <= x < 10)")


def resamples(text: str) -> int:
    return _checked(text, int, lambda v: 100 <= v <= 1_000_000, "expected an integer from 100 to 1000000")


class Parser(argparse.ArgumentParser):
    """argparse with a "did you mean" for every closed choice (commands, --format, --isolate, ...)."""

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            from .spec import suggest

            choices = [str(c) for c in action.choices]
            close = suggest(value, choices)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {', '.join(choices)})")


def db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="results database (default: $FRAMEWORKBENCH_DB or ./frameworkbench.db)")


def numeric_args(p: argparse.ArgumentParser, compile_option: bool = True) -> None:
    """--precision (overrides training.precision) and --compile."""
    from .execution.records import COMPILE
    from .spec.fields import PRECISIONS

    p.add_argument("--precision", choices=tuple(PRECISIONS), metavar="|".join(PRECISIONS),
                   help="override training.precision: float32 exact float32 matmuls; tf32 TF32 allowed on GPUs; "
                        "mixed_*: float32 variables, lower-precision compute; bfloat16: everything")
    if compile_option:
        p.add_argument("--compile", choices=COMPILE, default="default", metavar="|".join(COMPILE),
                       help="default: each target's own; eager: no graph compilation; jit: XLA (jit_compile=True) "
                            "on TensorFlow and JAX, torch.compile on torch (an unsupported target is skipped)")


def with_precision(spec, precision: str | None, problems: list):
    """``spec`` with training.precision replaced by ``--precision`` (a new spec hash, like --epochs)."""
    from .spec import unknown, validate
    from .spec.fields import PRECISIONS

    if precision is None:
        return spec
    if precision not in PRECISIONS:
        problems.append(unknown("--precision", "precision", precision, tuple(PRECISIONS)))
        return spec
    raw = spec.to_dict()
    raw["training"]["precision"] = precision
    return validate(raw, source=spec.source)


def add_run(sub) -> None:
    from .devices import DEVICES
    from .execution.records import POLICIES
    from .targets import DEFAULT_TARGETS, TARGETS

    r = sub.add_parser("run", help="train a spec on several targets and store the results",
                       description="Train SPEC on each target in its own worker process; store every run.")
    r.add_argument("spec", metavar="SPEC", help="YAML or JSON spec file")
    r.add_argument("--targets", metavar="A,B", help=f"comma-separated targets or 'all' (default: "
                                                    f"{', '.join(DEFAULT_TARGETS)}); known: {', '.join(TARGETS)}")
    r.add_argument("--device", default="cpu", metavar="|".join(DEVICES),
                   help=f"one of {', '.join(DEVICES)} (default: cpu); an unavailable "
                                                    "device gives a skipped record, never a CPU fallback")
    r.add_argument("--epochs", type=positive_int, metavar="N", help="override training.epochs")
    r.add_argument("--batch-size", type=positive_int, metavar="N", help="override training.batch_size")
    r.add_argument("--seeds", type=positive_int, default=1, metavar="N",
                   help="number of seeds (seed, seed+1, ...; default 1)")
    r.add_argument("--threads", type=positive_int, metavar="N", help="threads per framework (default: all cores)")
    r.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="time limit per run")
    r.add_argument("--repeats", type=positive_int, default=1, metavar="N",
                   help="runs per target and seed (default 1); "
                                                                     "medians and IQR across them are reported")
    r.add_argument("--isolate", choices=("run", "target"), default="run", metavar="run|target",
                   help="run: a fresh worker process per run (default); target: one worker per target runs all its "
                        "seeds and repeats (saves imports; recorded in each run)")
    r.add_argument("--policy", "--defaults", dest="policy", choices=POLICIES, default="aligned",
                   metavar="aligned|native",
                   help="defaults policy; aligned: the spec's values and one update rule in every framework "
                        "(default); native: each framework's own defaults (initialiser, Adam ε, clipping, slopes). "
                        "--defaults is an older name for it")
    numeric_args(r)
    r.add_argument("--force", action="store_true", help="rerun runs already stored as ok with the same run key "
                                                        "(default: resume, skip them)")
    r.add_argument("--save-models", action="store_true", help="keep each run's trained model in the framework's own "
                   "format under <db stem>-artifacts/<run_id>/ (path, sha256, size in the record; implies --force)")
    db_arg(r)
    add_executor_options(r)
    r.add_argument("--out", metavar="DIR", help="also write the markdown report to DIR")
    r.add_argument("--json", action="store_true", help="print the records as JSON on stdout")
    r.add_argument("--quiet", action="store_true", help="no progress lines")


def add_parity(sub) -> None:
    from .devices import DEVICES
    from .execution.records import POLICIES

    par = sub.add_parser("parity", help="numerical parity of the targets against the numpy reference",
                         description="Train SPEC on each target from the same weights and batches, compare forward "
                                     "outputs, first-step gradients, per-step and per-epoch losses and final weights "
                                     "with a float64 numpy reference; store the runs and write a parity report.")
    par.add_argument("spec", metavar="SPEC", help="YAML or JSON spec file")
    par.add_argument("--targets", metavar="A,B", help="comma-separated targets (default: the five default targets; "
                                                      "'all' adds the low-level loop variants)")
    par.add_argument("--steps", type=positive_int, default=50, metavar="K",
                     help="first steps (across epochs) whose loss is compared one by one (default 50; a shorter run "
                          "compares all its steps)")
    par.add_argument("--policy", "--mode", dest="policy", choices=(*POLICIES, "both"), default="aligned",
                     metavar="aligned|native|both",
                     help="defaults policy (as for `run`); aligned: spec values and one update rule everywhere "
                          "(default); native: each framework's own defaults; both: run both (needed for the 'what "
                          "differs by default' section). --mode is an older name for it")
    par.add_argument("--epochs", type=positive_int, metavar="N", help="override training.epochs")
    numeric_args(par, compile_option=False)
    par.add_argument("--seeds", type=positive_int, default=1, metavar="N", help="number of seeds (default 1)")
    par.add_argument("--device", default="cpu", metavar="|".join(DEVICES), help=f"one of {', '.join(DEVICES)} "
                                                                                 "(default: cpu)")
    par.add_argument("--threads", type=positive_int, metavar="N", help="threads per framework (default: all cores)")
    par.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="time limit per run")
    db_arg(par)
    par.add_argument("--out", metavar="DIR", default="reports", help="report directory (default: reports)")
    par.add_argument("--json", action="store_true", help="print the records as JSON on stdout")
    par.add_argument("--quiet", action="store_true", help="no progress lines")


def add_executor_options(p, jobs_help: str = "at most N runs at a time (default 1)") -> None:
    """--executor, --ray-address, --jobs (``run`` and ``study``)."""
    p.add_argument("--executor", choices=("local", "ray"), default="local", metavar="local|ray",
                   help="local: worker processes on this machine (default); ray: each run is a Ray task that "
                        "starts the same worker process on a cluster node (needs frameworkbench[ray])")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to join (HOST:PORT, ray://HOST:PORT or auto; "
                                                        "default: a local Ray instance started and stopped here)")
    p.add_argument("--jobs", type=int, metavar="N", help=jobs_help)
