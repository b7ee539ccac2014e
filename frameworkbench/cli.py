"""The ``frameworkbench`` command line."""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import shlex
import signal
import sys
import threading
from pathlib import Path

from ._version import __version__
from .cli_options import Parser, add_parity, add_run, db_arg, with_precision
from .spec import SpecError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe
FAILED_STATUSES = ("failed", "timeout", "diverged")


def parser() -> argparse.ArgumentParser:
    ap = Parser(prog="frameworkbench", description=(
        "Compare tf.keras, standalone Keras 3 (tensorflow/jax/torch backends) and PyTorch on one "
        "declarative model spec, with identical data, batches and initial weights."))
    ap.add_argument("--version", action="version", version=f"frameworkbench {__version__}")
    ap.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    add_run(sub)
    v = sub.add_parser("validate", help="check a spec and the data it names; list every problem (exit 2 if any)",
                       description="Check SPEC, its memory estimate and the data it names (loaded and checked "
                                   "as `run` does); exit 2 with every problem.")
    v.add_argument("spec", metavar="SPEC")
    v.add_argument("--no-data", dest="data", action="store_false", help="check the spec only, not its data")
    v.add_argument("--data", dest="data", action="store_true", help=argparse.SUPPRESS)  # the default; kept for old use

    sch = sub.add_parser("schema", help="print the JSON Schema of spec files (for editor completion)",
                         description="Print the JSON Schema of a spec, generated from the validator's field table.")
    sch.add_argument("--out", metavar="FILE", help="write it to FILE instead of stdout")

    t = sub.add_parser("targets", help="list targets, whether they are installed, and versions")
    t.add_argument("--json", action="store_true", help="print the list as JSON")

    res = sub.add_parser("results", help="list stored runs")
    res.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table",
                     metavar="table|json|csv|markdown", help="output format (default: table)")
    res.add_argument("--spec", metavar="NAME", help="only runs of this spec name")
    res.add_argument("--target", metavar="T", help="only runs of this target")
    db_arg(res)

    add_parity(sub)
    rep = sub.add_parser("report", help="write markdown reports from the stored runs")
    rep.add_argument("--out", metavar="DIR", default="reports", help="output directory (default: reports)")
    rep.add_argument("--spec", metavar="NAME", help="only this spec name")
    db_arg(rep)
    from .document_cli import add_parsers, add_report_options  # study, codegen, report --lang

    add_report_options(rep)
    add_parsers(sub, db_arg)
    from . import team_cli  # diff, mlflow

    team_cli.add_parsers(sub, db_arg)
    from .analysis import export as export_cli  # export

    export_cli.add_parser(sub, db_arg)
    from .analysis import language_models  # lm-check

    language_models.add_parser(sub, db_arg)
    return ap


# ----------------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    from .estimate import check_memory
    from .spec import load_spec

    spec = load_spec(args.spec)
    est = check_memory(spec, source=args.spec)
    if args.data:
        from .data import load_dataset

        ds = load_dataset(spec)
        print(f"data ok: {ds.summary()} hash {ds.hash}")
    print(f"memory: {est.describe()}")
    print(f"{args.spec}: ok ({spec.name}, {spec.task}, {len(spec.layers)} layers, spec hash {spec.hash})"
          + ("" if args.data else "; data not checked (--no-data)"))
    return EXIT_OK


def cmd_schema(args) -> int:
    from .spec.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"written: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_targets(args) -> int:
    from .targets import DEFAULT_TARGETS, TARGETS

    rows = []
    for t in TARGETS.values():
        missing = t.missing_modules()
        rows.append({"target": t.name, "default": t.name in DEFAULT_TARGETS, "installed": not missing,
                     "missing": missing, "install": t.install_hint(), "versions": t.versions(), "env": t.env})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    grid = [["target", "default", "status", "versions"]]
    for r in rows:
        state = "installed" if r["installed"] else f"not installed (missing {', '.join(r['missing'])}; {r['install']})"
        grid.append([r["target"], "*" if r["default"] else "", state,
                     ", ".join(f"{k} {v or '-'}" for k, v in r["versions"].items())])
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    for row in grid:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    print("* run without --targets; --targets all runs every target")
    return EXIT_OK


class Progress:
    """Prints one line per run start, epoch and finish on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, ev: dict) -> None:
        if self.quiet:
            return
        kind = ev.get("event")
        tag = f"[{ev.get('index')}/{ev.get('runs')}] {ev.get('target')} seed {ev.get('seed')}"
        if ev.get("repeat"):
            tag += f" repeat {ev['repeat']}"
        if kind == "plan":
            line = f"{ev['runs']} runs; dataset {ev['dataset_hash']} {ev['dataset']}"
            if ev.get("cached"):
                line += f"; resuming: {ev['cached']} already stored (--force reruns them)"
        elif kind == "start":
            line = f"{tag}: starting worker" + (f" (reused for {ev['reused_worker_runs']} runs)"
                                                 if ev.get("reused_worker_runs", 1) > 1 else "")
        elif kind == "warning":
            line = f"warning: {ev['target']}: {ev['message']}"
        elif kind == "imported":
            line = f"{tag}: framework imported in {ev['seconds']:.1f} s"
        elif kind == "epoch":
            vals = " ".join(f"{k} {v:.4f}" for k, v in ev.items() if k.startswith("val_"))
            line = f"{tag}: epoch {ev['epoch']}/{ev['epochs']} loss {ev['loss']:.4f} {vals} ({ev['seconds']:.2f} s)"
        elif kind == "done" and ev.get("cached"):
            line = f"{tag}: {ev['status']} (stored run {ev['record'].get('run_id')}, not repeated)"
        elif kind == "done":
            line = f"{tag}: {ev['status']}" + (f" — {ev['error']}" if ev.get("error") else "")
            for w in (ev.get("record") or {}).get("warnings") or []:
                line += f"\n  warning: {w}"
        else:
            return
        print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM like Ctrl-C while runs are going: workers stopped, completed records kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _load_run_inputs(args, variants: list[dict]):
    """Spec (with CLI overrides), targets and one RunOptions per variant; every problem with the
    options is reported together with those of the spec."""
    from .execution.runner import RunOptions
    from .spec import load_spec
    from .targets import parse_targets

    problems, targets = [], []
    try:
        targets = parse_targets(args.targets)
    except SpecError as exc:
        problems += exc.problems
    common = dict(device=args.device, threads=args.threads, seeds=args.seeds, timeout=args.timeout, db=args.db)
    options = [RunOptions(**common, **v) for v in variants]
    for opts in options:
        try:
            opts.check()
        except SpecError as exc:
            problems += [p for p in exc.problems if p not in problems]
    try:
        spec = load_spec(args.spec)
        overrides = {k: getattr(args, k, None) for k in ("epochs", "batch_size")}
        if any(overrides.values()):
            spec = spec.with_overrides(**overrides)
        spec = with_precision(spec, getattr(args, "precision", None), problems)
    except SpecError as exc:
        raise SpecError(exc.problems + problems, source=exc.source) from None
    if problems:
        raise SpecError(problems)
    return spec, targets, options


def cmd_run(args) -> int:
    from .report.summary import write_reports
    from .report.tables import comparison_table
    from .execution.runner import run

    spec, targets, (opts,) = _load_run_inputs(args, [dict(force=args.force, policy=args.policy, repeats=args.repeats,
                                                          isolate=args.isolate, compile=args.compile)])
    if args.save_models:  # a resumed run has no model to save: every run trains again
        from .analysis.export import artifacts_root

        opts.force, opts.job_options["save_models"] = True, str(artifacts_root(args.db).absolute())
    records = []

    def on_event(ev: dict) -> None:
        if ev.get("event") == "done":
            records.append(ev["record"])
        progress(ev)

    progress = Progress(args.quiet)
    from .execution.executors import check_options, executors

    check_options(args.executor, args.jobs, args.ray_address)
    try:
        with _sigterm_as_interrupt(), executors(args.executor, args.ray_address) as make:
            run(spec, targets, opts, on_event, executor=make(args.jobs or 1))
    except KeyboardInterrupt:
        print(f"\ninterrupted: workers stopped; {len(records)} completed run(s) are stored; run the same command "
              f"again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(records, indent=2, default=str))
    else:
        print(comparison_table(records))
    if args.out:  # rendered from the stored runs, as `report` does, so its regenerate command reproduces it
        from .report.summary import report_command
        from .store import Store

        with Store(args.db) as st:
            stored = st.records(spec_name=spec.name)
        cmd = lambda name: report_command(args.out, name, _db_for_command(args))  # noqa: E731 - per spec
        for p in write_reports(stored, Path(args.out), cmd):
            print(f"report written: {p}", file=sys.stderr)
    bad = [r for r in records if r["status"] in FAILED_STATUSES]
    return EXIT_FAILED if bad else EXIT_OK


def _parity_command(args) -> str:
    """The shell command that reruns ``parity`` with every option that affects its report, shell-quoted."""
    import os

    from .store import ENV_DB

    db = args.db or os.environ.get(ENV_DB)
    opts = [("--targets", args.targets), ("--policy", args.policy), ("--steps", args.steps),
            ("--epochs", args.epochs), ("--precision", args.precision), ("--seeds", args.seeds), ("--device", args.device),
            ("--threads", args.threads), ("--timeout", args.timeout), ("--db", db), ("--out", args.out)]
    return " ".join(["frameworkbench parity", shlex.quote(args.spec)]
                    + [f"{name} {shlex.quote(str(value))}" for name, value in opts if value is not None])


def cmd_parity(args) -> int:
    from .analysis.parity import run_parity
    from .report import parity as parity_report
    from .store import Store

    policies = ["aligned", "native"] if args.policy == "both" else [args.policy]
    spec, targets, options = _load_run_inputs(args, [dict(policy=p, force=True) for p in policies])
    progress = Progress(args.quiet)
    records: list[dict] = []
    try:
        with _sigterm_as_interrupt():
            for opts in options:
                records += run_parity(spec, targets, opts, steps=args.steps, on_event=progress)
    except KeyboardInterrupt:
        print("\ninterrupted: workers stopped; completed runs are stored", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "arrays"} for r in records], indent=2, default=str))
    else:
        aligned = [r for r in records if r.get("policy") == "aligned"]
        if aligned:
            print(parity_report.parity_table(aligned))
    with Store(args.db) as st:  # the report also shows stored runs of the other policy
        stored = st.records(spec_name=spec.name)
    for p in parity_report.write(stored, Path(args.out), _parity_command(args)):
        print(f"report written: {p}", file=sys.stderr)
    bad = [r for r in records if r["status"] in FAILED_STATUSES]
    return EXIT_FAILED if bad else EXIT_OK


def _db_for_command(args) -> str | None:
    """The database a printed command must name: --db, else $FRAMEWORKBENCH_DB when set."""
    import os

    from .store import ENV_DB

    return args.db or os.environ.get(ENV_DB) or None


def cmd_results(args) -> int:
    from .report.markdown import cell, table
    from .report.tables import RESULTS_COLUMNS, display_header, display_value, run_row
    from .store import Store

    with Store(args.db, create=False) as st:
        rows = [run_row(r) for r in st.records(spec_name=args.spec, target=args.target)]
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK
    cols = RESULTS_COLUMNS
    if args.format == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        sys.stdout.write(buf.getvalue())
    elif args.format == "markdown":
        print(table([display_header(c) for c in cols], [[display_value(c, r[c]) for c in cols] for r in rows]))
    else:
        grid = [[display_header(c) for c in cols]] + [[cell(display_value(c, r[c])) for c in cols] for r in rows]
        widths = [max(len(row[i]) for row in grid) for i in range(len(cols))]
        for row in grid:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if not rows:
            print("(no runs stored)", file=sys.stderr)
    return EXIT_OK


def cmd_report(args) -> int:
    from .report.summary import write_reports
    from .store import Store

    with Store(args.db, create=False) as st:
        records = st.records(spec_name=args.spec)
    if not records:
        print("no runs stored" + (f" for spec {args.spec!r}" if args.spec else "") + "; run `frameworkbench run SPEC` "
              "first", file=sys.stderr)
        return EXIT_FAILED
    from .document_cli import is_study_record, write_document
    from .report.summary import report_command

    cmd = lambda name: report_command(args.out, name, _db_for_command(args))  # noqa: E731 - per spec
    for p in write_reports([r for r in records if not is_study_record(r)], Path(args.out), cmd):
        print(f"report written: {p}")
    if not args.spec:  # the seed document's tables, rebuilt from the study runs
        for p in write_document(records, args):
            print(f"report written: {p}")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "schema": cmd_schema, "targets": cmd_targets, "results": cmd_results,
            "report": cmd_report, "parity": cmd_parity, "study": lambda a: _doc_cli().cmd_study(a),
            "codegen": lambda a: _doc_cli().cmd_codegen(a)}
from .team_cli import COMMANDS as _TEAM_COMMANDS  # noqa: E402  (diff, mlflow)

COMMANDS.update(_TEAM_COMMANDS)
COMMANDS["export"] = lambda a: __import__("frameworkbench.analysis.export", fromlist=["cmd_export"]).cmd_export(
    a, Progress(a.quiet))
COMMANDS["lm-check"] = lambda a: __import__("frameworkbench.analysis.language_models",
                                            fromlist=["cmd_lm_check"]).cmd_lm_check(a)


def _doc_cli():
    from . import document_cli

    return document_cli


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if not args.command:
        ap.print_help()
        return EXIT_USAGE
    try:
        try:
            code = COMMANDS[args.command](args)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return code
        except SpecError as exc:
            if args.debug:
                raise
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    except BrokenPipeError:  # `frameworkbench results | head`: stop quietly, as command-line tools do
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot fail again (the Python docs' recipe)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # stdout without a file descriptor
        pass


def synopsis(width: int = 110) -> str:
    """Each command's usage line, as ``--help`` shows it (the README's synopsis block is this text)."""
    ap = parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for p in [ap, *dict.fromkeys(sub.choices.values())]:
        fmt = argparse.HelpFormatter(p.prog, width=width)
        actions = [a for a in p._actions if not isinstance(a, argparse._HelpAction)]
        fmt.add_usage(None, actions, p._mutually_exclusive_groups, prefix="")
        out.append(fmt.format_help().strip())
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
