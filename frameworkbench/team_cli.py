"""Command-line parts for ``diff`` (compare two result sets) and ``mlflow`` (export runs).

:mod:`frameworkbench.cli` adds these parsers and dispatches through :data:`COMMANDS`.
Nothing here imports an ML framework, numpy, scipy or mlflow at import time.
"""
from __future__ import annotations

import json
import sys

from .cli_options import min_effect, resamples

EXIT_OK, EXIT_FAILED = 0, 1


def add_parsers(sub, db_arg) -> None:
    from .analysis.diff import FAIL_IF_GRAMMAR

    d = sub.add_parser("diff", help="compare two sets of stored runs (ratio, bootstrap CI, p-value, verdict)",
                       description="Compare CANDIDATE with BASELINE, paired by spec name, target and policy: per "
                                   "metric the ratio candidate/baseline of the medians over runs, its bootstrap "
                                   "95% CI, a Mann-Whitney U p-value and a verdict.")
    d.add_argument("baseline", metavar="BASELINE", help="results database, or PATH:BATCH_ID for one batch in it")
    d.add_argument("candidate", metavar="CANDIDATE", help="results database, or PATH:BATCH_ID")
    d.add_argument("--json", action="store_true", help="print the comparison as JSON instead of markdown")
    d.add_argument("--fail-if", action="append", default=[], metavar="RULE",
                   help=f"exit 1 when any pair's ratio meets RULE (repeatable); RULE: {FAIL_IF_GRAMMAR}")
    d.add_argument("--min-effect", type=min_effect, default=0.05, metavar="FRACTION",
                   help="smallest change a verdict reports (default 0.05: 5%%)")
    d.add_argument("--resamples", type=resamples, default=2000, metavar="N", help="bootstrap resamples (default 2000)")

    m = sub.add_parser("mlflow", help="log every stored run as an MLflow run (idempotent)",
                       description="Log each stored run as an MLflow run: spec parameters, per-epoch and summary "
                                   "metrics, tags, the spec and its report as artifacts. Runs already exported "
                                   "(tag frameworkbench.run_id) are skipped. Needs: pip install "
                                   "'frameworkbench[mlflow]'.")
    db_arg(m)
    m.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or "
                                                          "sqlite:///mlflow.db)")
    m.add_argument("--experiment", metavar="NAME", default="frameworkbench",
                   help="MLflow experiment, created if missing (default: frameworkbench)")
    m.add_argument("--spec", metavar="NAME", help="only runs of this spec name")
    m.add_argument("--json", action="store_true", help="print the export summary as JSON")


def cmd_diff(args) -> int:
    from .analysis import diff

    rules = [diff.parse_fail_if(t) for t in args.fail_if]  # grammar errors before any database is opened
    base_label, base = diff.load_set(args.baseline, "BASELINE")
    cand_label, cand = diff.load_set(args.candidate, "CANDIDATE")
    result = diff.compare(base, cand, base_label=base_label, cand_label=cand_label, min_effect=args.min_effect,
                          resamples=args.resamples)
    tripped = diff.check_fail_if(result, rules)
    result["fail_if"] = {"rules": [str(r) for r in rules], "tripped": tripped}
    print(diff.render_json(result) if args.json else diff.render_markdown(result))
    for line in tripped:
        print(f"failed: {line}", file=sys.stderr)
    return EXIT_FAILED if tripped else EXIT_OK


def cmd_mlflow(args) -> int:
    from pathlib import Path

    from .integrations.mlflow import _mlflow, default_uri, export
    from .spec import SpecError, problem
    from .store import Store, default_path

    _mlflow()  # a missing mlflow is reported before anything else
    path = Path(args.db) if args.db else default_path()
    if not path.is_file():
        raise SpecError([problem("--db", f"no results database at {str(path)!r}")])
    with Store(path) as st:
        records = st.records(spec_name=args.spec)
    if not records:
        print("no runs stored" + (f" for spec {args.spec!r}" if args.spec else "") + f" in {path}", file=sys.stderr)
        return EXIT_FAILED
    out = export(records, args.tracking_uri or default_uri(), args.experiment, str(path))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"mlflow: {out['logged']} run(s) logged, {out['skipped']} already exported"
              + (f", {out['replaced']} incomplete run(s) replaced" if out["replaced"] else "")
              + f"; experiment {out['experiment']!r} ({out['experiment_id']}) at {out['tracking_uri']}")
    return EXIT_OK


COMMANDS = {"diff": cmd_diff, "mlflow": cmd_mlflow}
