"""Command-line parts of the rebuilt document: ``study``, ``codegen`` and ``report --lang``.

Kept apart from :mod:`frameworkbench.cli`, which adds these parsers and dispatches to the
``cmd_*`` functions here. Nothing here imports an ML framework.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .cli_options import add_executor_options

EXIT_OK, EXIT_FAILED = 0, 1
FAILED_STATUSES = ("failed", "timeout", "diverged")


def add_parsers(sub, db_arg) -> None:
    s = sub.add_parser("study", help="run a study from specs/studies (activations, layers, frameworks)",
                       description="Run the experiments of a study file (specs/studies/NAME.yaml or a path); every "
                                   "run is stored like `frameworkbench run` stores it. `frameworkbench report` then "
                                   "rebuilds the document's tables from the database.")
    s.add_argument("study", metavar="NAME|PATH", help="study name in specs/studies/ or a study YAML file")
    s.add_argument("--only", metavar="A,B", help="only these experiments of the study")
    s.add_argument("--seeds", type=int, metavar="N", help="override every experiment's seed count")
    add_executor_options(s, jobs_help="at most N runs at a time (default: each experiment's jobs)")
    s.add_argument("--list", action="store_true", help="list the experiments and their runs; run nothing")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    db_arg(s)

    c = sub.add_parser("codegen", help="print idiomatic, runnable code for a spec in one target's framework")
    c.add_argument("spec", metavar="SPEC", help="YAML or JSON spec file")
    c.add_argument("--target", required=True, metavar="T", help="target whose framework the code uses")
    c.add_argument("--out", metavar="FILE", help="write the script to FILE instead of stdout")
    c.add_argument("--count", action="store_true", help="print the line counts instead of the code")


def add_report_options(rep) -> None:
    rep.add_argument("--lang", choices=("en", "ru"), default="en",
                     help="language of the rebuilt document: labels, units and plots (default: en)")


def cmd_study(args) -> int:
    from .analysis import study as st
    from .spec import SpecError, problem

    for flag, value in (("--seeds", args.seeds), ("--jobs", args.jobs)):
        if value is not None and value < 1:
            raise SpecError([problem(flag, f"got {value}; expected an integer >= 1")])
    s = st.load(args.study)
    only = [o.strip() for o in args.only.split(",") if o.strip()] if args.only else None
    if args.list:
        for e in s.experiments:
            n = len(e.specs) * len(e.targets) * (args.seeds or e.seeds)
            print(f"{e.name:<12} mode {e.mode:<12} {len(e.specs):>3} specs × {len(e.targets)} targets × "
                  f"{args.seeds or e.seeds} seeds = {n} runs; targets {', '.join(e.targets)}")
        return EXIT_OK
    quiet = args.quiet

    def progress(ev: dict) -> None:
        if quiet:
            return
        if ev.get("event") == "experiment":
            print(f"{ev['study']}:{ev['experiment']} ({ev['mode']}): {ev['specs']} specs, {ev['runs']} runs",
                  file=sys.stderr, flush=True)
        elif ev.get("event") == "done":
            err = f" — {ev['error']}" if ev.get("error") else ""
            print(f"  {ev['spec']} {ev['target']} seed {ev['seed']}: {ev['status']}{err}", file=sys.stderr,
                  flush=True)

    try:
        result = st.run_study(s, db=args.db, only=only, seeds=args.seeds, jobs=args.jobs, on_event=progress,
                              executor=args.executor, ray_address=args.ray_address)
    except KeyboardInterrupt:
        print("\ninterrupted: completed runs are stored", file=sys.stderr)
        return 130
    counts = result["counts"]
    print(f"study {s.name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) +
          f" in {result['wall_s']:.0f} s; `frameworkbench report` renders the tables")
    return EXIT_FAILED if any(counts.get(k) for k in FAILED_STATUSES) else EXIT_OK


def cmd_codegen(args) -> int:
    from . import codegen
    from .spec import load_spec

    spec = load_spec(args.spec)
    code = codegen.generate(spec, args.target)
    if args.count:
        c = codegen.count_lines(code)
        print(f"{args.target}: {c['lines']} lines of model and training code, {c['total_lines']} in the script")
        return EXIT_OK
    if args.out:
        Path(args.out).write_text(code, encoding="utf-8")
        print(f"written: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(code)
    return EXIT_OK


def write_document(records: list[dict], args) -> list[Path]:
    """The rebuilt document tables for ``report`` (all records; study runs are found by name)."""
    from .report.document import write_document as write

    cmd = (f"frameworkbench report --out {shlex.quote(args.out)} --lang {args.lang}"
           + (f" --db {shlex.quote(args.db)}" if args.db else ""))
    return write(records, Path(args.out), args.lang, cmd, shlex.quote(args.db) if args.db else None)


def is_study_record(rec: dict) -> bool:
    from .analysis.study import is_study_spec

    return is_study_spec(rec["spec_name"])
