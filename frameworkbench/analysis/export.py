"""``frameworkbench export``: the parent side of the ``export`` worker mode (:mod:`.export_mode`).

Trains the spec on each target through the normal runner (one worker per run), or starts from a
stored run's saved model (``--run ID``, written by ``run --save-models``), exports the trained model
to every requested format in the worker, and renders one table -- rows = target × format, each
artifact's runtime beside the framework's own inference and beside the target's ONNX model in ONNX
Runtime -- as text, JSON and ``<out>/export-<spec>.md``. Imports no ML framework.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..spec import SpecError, unknown
from ..spec.errors import Problem
from .export_mode import FORMATS, LARGE_BATCH, MISMATCH

EXIT_OK, EXIT_FAILED = 0, 1
RED = '<span style="color:red">{}</span>'
HEADERS = ("target", "format", "runtime", "status", "size", "load", "b1 median", "b1 p95", f"b{LARGE_BATCH} median",
           f"b{LARGE_BATCH} p95", "max |Δ|", "framework b1", f"framework b{LARGE_BATCH}", "ONNX Runtime b1",
           f"ONNX Runtime b{LARGE_BATCH}", "note / error")


def artifacts_root(db: str | os.PathLike | None) -> Path:
    """``<db stem>-artifacts`` next to the results database (where ``run --save-models`` writes)."""
    from ..store import default_path

    path = Path(db) if db else default_path()
    return path.with_name(f"{path.stem}-artifacts")


def parse_formats(text: str | None) -> list[str]:
    if not text:
        return list(FORMATS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in FORMATS] or ([] if names else [text])
    if bad:
        raise SpecError([unknown("--formats", "format", bad[0], FORMATS)])
    return names


def add_parser(sub, db_arg) -> None:
    e = sub.add_parser("export", help="train a spec (or load a stored run's model) and export it to every format",
                       description="Train SPEC on each target (or start from a stored run's saved model, --run), "
                                   "export the trained model to ONNX, SavedModel, TFLite, .keras, TorchScript, "
                                   "torch.export, ExecuTorch and OpenVINO where the framework supports it, and "
                                   "measure each artifact: size, load time, latency at batch 1 and "
                                   f"{LARGE_BATCH} in its runtime, max |Δ| against the live model. Exit 1 when "
                                   f"an artifact's outputs are off by more than {MISMATCH:g} or a run fails.")
    e.add_argument("spec", metavar="SPEC", nargs="?", help="YAML or JSON spec file (or --run)")
    e.add_argument("--run", metavar="ID", help="start from this stored run's saved model (run --save-models)")
    e.add_argument("--targets", metavar="A,B", help="comma-separated targets or 'all' (default: the five defaults)")
    e.add_argument("--formats", metavar="A,B", help=f"comma-separated formats (default: all): {', '.join(FORMATS)}")
    e.add_argument("--threads", type=int, metavar="N", help="threads for the framework and every runtime "
                                                              "(default: all cores)")
    e.add_argument("--timeout", type=float, metavar="SECONDS", help="time limit per run")
    e.add_argument("--out", metavar="DIR", default="reports", help="report directory (default: reports)")
    db_arg(e)
    e.add_argument("--json", action="store_true", help="print the records' export results as JSON on stdout")
    e.add_argument("--quiet", action="store_true", help="no progress lines")


def _from_run(args) -> tuple:
    from ..spec.model import from_snapshot
    from ..store import Store
    from ..targets import TARGETS

    with Store(args.db, create=False) as st:
        found = st.records(run_ids=[args.run])
    if not found:
        raise SpecError([Problem("--run", f"no stored run {args.run!r} in the database")])
    rec = found[-1]
    saved = rec.get("saved_model") or {}
    if saved.get("status") != "ok" or not Path(saved.get("path", "")).exists():
        why = "its saved model file is missing" if saved.get("status") == "ok" else "it has no saved model"
        raise SpecError([Problem("--run", f"run {args.run!r} cannot be exported: {why} (store one with "
                                          f"`frameworkbench run SPEC --save-models`)")])
    return from_snapshot(rec["spec"]), [TARGETS[rec["target"]]], {"load_model": saved["path"]}


def _inputs(args) -> tuple:
    from ..spec import load_spec
    from ..targets import parse_targets

    if bool(args.spec) == bool(args.run):
        raise SpecError([Problem("SPEC/--run", "give a spec file or --run ID (exactly one)")])
    formats = parse_formats(args.formats)
    if args.run:
        spec, targets, options = _from_run(args)
    else:
        targets = parse_targets(args.targets)
        spec, options = load_spec(args.spec), {}
    return spec, targets, {**options, "formats": formats}


def cmd_export(args, progress) -> int:
    from ..execution.runner import RunOptions, run

    spec, targets, options = _inputs(args)
    opts = RunOptions(mode="export", threads=args.threads, timeout=args.timeout, db=args.db, job_options=options)
    records: list[dict] = []

    def on_event(ev: dict) -> None:
        if ev.get("event") == "done":
            records.append(ev["record"])
        progress(ev)

    run(spec, targets, opts, on_event)
    if args.json:
        print(json.dumps([{k: r.get(k) for k in ("run_id", "target", "status", "error", "threads", "export")}
                          for r in records], indent=2, default=str))
    else:
        print(render_table(records, markdown=False))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"export-{spec.name.replace(':', '-')}.md"
    path.write_text(report(spec.name, records, command=" ".join(["frameworkbench", *sys.argv[1:]])), encoding="utf-8")
    print(f"report written: {path}", file=sys.stderr)
    return exit_code(records)


# ----------------------------------------------------------------------------- table and report
def exit_code(records: list[dict]) -> int:
    """1 when a run did not finish ok or an artifact is a mismatch; ``failed``/``unsupported`` formats are results."""
    bad = any(r.get("status") != "ok" for r in records)
    mismatch = any(f.get("status") == "mismatch" for r in records for f in (r.get("export") or {}).get("formats", []))
    return EXIT_FAILED if bad or mismatch else EXIT_OK


def _ms(lat: dict | None, key: str = "median_s") -> str:
    return "—" if not lat or lat.get(key) is None else f"{lat[key] * 1e3:.3f} ms"


def _size(n: int | None) -> str:
    return "—" if n is None else (f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB")


def rows(records: list[dict], markdown: bool = True) -> list[list]:
    out = []
    for r in records:
        ex = r.get("export") or {}
        if r.get("status") != "ok" or not ex:
            out.append([r["target"], "—", "—", r.get("status"), *["—"] * 11, (r.get("error") or "")[:200]])
            continue
        fw = ex.get("framework_inference") or {}
        onnx = next((f for f in ex["formats"] if f["format"] == "onnx" and f["status"] == "ok"), {})
        ort = onnx.get("latency") or {}
        for f in ex["formats"]:
            lat = f.get("latency") or {}
            status = f["status"]
            if status == "mismatch" and markdown:
                status = RED.format("mismatch")
            diff = f.get("max_abs_diff")
            diff_text = "—" if diff is None else f"{diff:.1e}"
            if f["status"] == "mismatch" and markdown:
                diff_text = RED.format(diff_text)
            load = f.get("load_s")
            out.append([r["target"], f["format"], f["runtime"], status, _size(f.get("size_bytes")),
                        "—" if load is None else f"{load * 1e3:.1f} ms",
                        _ms(lat.get("batch_1")), _ms(lat.get("batch_1"), "p95_s"), _ms(lat.get("batch_large")),
                        _ms(lat.get("batch_large"), "p95_s"), diff_text, _ms(fw.get("batch_1")),
                        _ms(fw.get("batch_large")), _ms(ort.get("batch_1")), _ms(ort.get("batch_large")),
                        (f.get("error") or f.get("note") or "").replace("|", "/")[:400]])
    return out


def render_table(records: list[dict], markdown: bool = True) -> str:
    from ..report.markdown import table

    return table(HEADERS, rows(records, markdown), ["l", "l", "l", "l", *["r"] * 11, "l"])


def report(spec_name: str, records: list[dict], command: str) -> str:
    threads = sorted({r.get("threads") for r in records if r.get("threads")})
    counts: dict[str, int] = {}
    for r in records:
        for f in (r.get("export") or {}).get("formats", []):
            counts[f["status"]] = counts.get(f["status"], 0) + 1
    source = {(r.get("export") or {}).get("source") for r in records} - {None}
    return "\n".join([
        f"# Export: `{spec_name}`", "",
        f"Model: {', '.join(sorted(source)) or '—'} (the live model each artifact is compared with). "
        f"Threads: {', '.join(map(str, threads)) or '—'} for the framework and every runtime. Latency: median "
        f"and p95 after warm-up, batch 1 and {LARGE_BATCH}; max |Δ| over the validation rows; "
        f"`mismatch` = max |Δ| > {MISMATCH:g}. `framework` = the framework's own inference of the live model; "
        f"`ONNX Runtime` = the same target's ONNX artifact in ONNX Runtime (one runtime for every target).", "",
        "Statuses: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "—"), "",
        render_table(records, markdown=True), "",
        "Regenerate:", "", "```", command, "```", ""])
