"""Export stored runs to MLflow: one MLflow run per stored run, idempotent.

Each run gets the spec flattened into parameters (``spec.training.batch_size``), the run
settings, per-epoch metrics with their step, summary metrics, tags (versions, host, run
key and id, dataset hash) and the spec, the record and the spec's markdown report as
artifacts. A run already exported (tag ``frameworkbench.run_id`` plus the completion tag
``frameworkbench.exported``) is skipped; a half-written one is deleted and logged again.
mlflow is imported only here, on demand.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from ..spec import SpecError, problem

DEFAULT_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "frameworkbench"
RUN_ID_TAG = "frameworkbench.run_id"
DONE_TAG = "frameworkbench.exported"
INSTALL_HINT = "pip install 'frameworkbench[mlflow]'"
_DB_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
_MAX_VALUE = 500  # parameter values longer than this are cut (MLflow allows 6000; keep the UI readable)


def default_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def _mlflow():
    try:
        import mlflow  # noqa: F401
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise SpecError([problem("mlflow", f"mlflow is not installed; {INSTALL_HINT}")]) from None
    for name in ("mlflow", "alembic"):  # table-creation chatter on a new sqlite store
        logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient


def flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """``{"training": {"batch_size": 32}}`` → ``("spec.training.batch_size", "32")``; lists by index."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}")
    elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}.{i}")
    else:
        text = json.dumps(value) if isinstance(value, (list, tuple, bool)) or value is None else str(value)
        yield prefix, text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE - 1] + "…"


def _ms(stamp: str | None) -> int | None:
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000) if stamp else None
    except ValueError:
        return None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def params(rec: dict) -> dict[str, str]:
    """Spec fields flattened under ``spec.`` plus the run settings."""
    out = dict(flatten(rec.get("spec") or {}, "spec"))
    rt = rec.get("runtime") or {}
    settings = {"target": rec.get("target"), "family": rec.get("family"), "backend": rec.get("backend"),
                "mode": rec.get("mode", "train"), "policy": rec.get("policy"), "device": rec.get("device"),
                "threads": rec.get("threads"), "seed": rec.get("seed"), "repeat": rec.get("repeat"),
                "isolate": rec.get("isolate"), "init": rec.get("init"),
                "precision": rec.get("precision") or rt.get("matmul_precision"),
                "tf32": rt.get("tf32")}
    out.update({k: str(v) for k, v in settings.items() if v is not None})
    return out


def epoch_metrics(rec: dict) -> list[tuple[str, float, int]]:
    """(key, value, epoch) for every numeric value of the per-epoch history; ``seconds`` → ``epoch_seconds``."""
    out = []
    for h in rec.get("history") or []:
        step = h.get("epoch")
        for k, v in h.items():
            if k != "epoch" and _num(v) is not None and isinstance(step, int):
                out.append(("epoch_seconds" if k == "seconds" else k, float(v), step))
    return out


def summary_metrics(rec: dict) -> dict[str, float]:
    """Step, epoch, latency, memory and final figures of one run (those it has)."""
    t, inf = rec.get("timings") or {}, rec.get("inference") or {}
    vals = {k: t.get(k) for k in ("median_step_s", "step_iqr_s", "step_p95_s", "median_epoch_s", "first_epoch_s",
                                  "first_step_s", "import_s", "build_s", "samples_per_s")}
    for name, key in (("latency_b1", "batch_1"), ("latency_large", "batch_large")):
        b = inf.get(key) or {}
        vals[f"{name}_median_s"], vals[f"{name}_p95_s"] = b.get("median_s"), b.get("p95_s")
    vals.update(peak_rss_mb=rec.get("peak_rss_mb"), param_count=rec.get("param_count"),
                worker_wall_s=rec.get("worker_wall_s"))
    vals.update({f"final_{k}": v for k, v in (rec.get("final") or {}).items()})
    return {k: float(v) for k, v in vals.items() if _num(v) is not None}


def tags(rec: dict) -> dict[str, str]:
    host = rec.get("host") or {}
    out = {RUN_ID_TAG: rec["run_id"], "frameworkbench.run_key": rec.get("run_key"),
           "frameworkbench.batch_id": rec.get("batch_id"), "frameworkbench.spec_name": rec.get("spec_name"),
           "frameworkbench.spec_hash": rec.get("spec_hash"), "frameworkbench.dataset_hash": rec.get("dataset_hash"),
           "frameworkbench.status": rec.get("status"), "frameworkbench.error": rec.get("error"),
           "frameworkbench.warnings": "; ".join(rec.get("warnings") or []) or None,
           "mlflow.source.name": "frameworkbench"}
    out.update({f"version.{k}": v for k, v in (rec.get("versions") or {}).items()})
    out.update({f"host.{k}": v for k, v in host.items()})
    return {k: str(v)[:5000] for k, v in out.items() if v is not None}


def _exported(client, exp_id: str) -> dict[str, list]:
    """frameworkbench run id → the MLflow runs carrying it."""
    found: dict[str, list] = {}
    token = None
    while True:
        page = client.search_runs([exp_id], filter_string=f"tags.`{RUN_ID_TAG}` != ''", max_results=1000,
                                  page_token=token)
        for run in page:
            found.setdefault(run.data.tags[RUN_ID_TAG], []).append(run)
        token = page.token
        if not token:
            return found


def _experiment(client, name: str, uri: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if uri.startswith("sqlite:///"):  # artifacts next to the database, not in the current directory
        db = Path(uri[len("sqlite:///"):])
        location = (db.parent.resolve() / "mlartifacts").as_uri()
    return client.create_experiment(name, artifact_location=location)


def _check_sqlite_path(path: Path, uri: str) -> None:
    """Fail fast where the sqlite file cannot be written (mlflow would retry for minutes)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):  # creates an empty file, which sqlite takes as an empty database
            pass
    except OSError as exc:
        raise SpecError([problem("--tracking-uri", f"cannot use {uri!r} as an MLflow tracking store: "
                                                   f"{exc.strerror or exc} ({exc.filename or path})")]) from None


def connect(uri: str, experiment: str):
    """(client, experiment id); SpecError naming --tracking-uri when the store cannot be used."""
    MlflowClient = _mlflow()
    scheme = uri.split(":", 1)[0].split("+", 1)[0] if "://" in uri else ""
    if scheme in ("", "file"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow 3: opt in to the file store
    if scheme in _DB_SCHEMES:
        import importlib.util

        if not (importlib.util.find_spec("sqlalchemy") and importlib.util.find_spec("alembic")):
            raise SpecError([problem("--tracking-uri", f"{uri!r} needs sqlalchemy and alembic next to "
                                                       f"mlflow-skinny; {INSTALL_HINT}")])
    if uri.startswith("sqlite:///") and len(uri) > len("sqlite:///"):
        _check_sqlite_path(Path(uri[len("sqlite:///"):].split("?", 1)[0]), uri)
    try:
        client = MlflowClient(tracking_uri=uri)
        return client, _experiment(client, experiment, uri)
    except Exception as exc:  # mlflow, sqlalchemy and OS errors alike: the store is not usable
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SpecError([problem("--tracking-uri", f"cannot use {uri!r} as an MLflow tracking store: "
                                                   f"{first[:300]}")]) from None


def _reports(records: list[dict], out: Path, db: str | None) -> dict[str, Path]:
    """Spec name → a folder holding that spec's markdown report (and its plots)."""
    import shlex

    from ..report.summary import write_reports

    folders = {}
    for name in sorted({r["spec_name"] for r in records}):
        cmd = f"frameworkbench report --spec {shlex.quote(name)}" + (f" --db {shlex.quote(db)}" if db else "")
        if write_reports([r for r in records if r["spec_name"] == name], out / name, cmd):
            folders[name] = out / name
    return folders


def _log_run(client, exp_id: str, rec: dict, report: Path | None, tmp: Path) -> str:
    import yaml
    from mlflow.entities import Metric, Param

    name = f"{rec['spec_name']}/{rec['target']}/seed{rec['seed']}" + (f"/r{rec['repeat']}" if rec.get("repeat") else "")
    start = _ms(rec.get("created_at"))
    run = client.create_run(exp_id, start_time=start, tags=tags(rec), run_name=name)
    rid, stamp = run.info.run_id, start or 0
    ps = [Param(k, v) for k, v in params(rec).items()]
    ms = [Metric(k, v, stamp, step) for k, v, step in epoch_metrics(rec)]
    ms += [Metric(k, v, stamp, 0) for k, v in summary_metrics(rec).items()]
    for i in range(0, max(len(ps), 1), 100):  # log_batch limits: 100 params, 1000 metrics per call
        client.log_batch(rid, params=ps[i:i + 100])
    for i in range(0, len(ms), 1000):
        client.log_batch(rid, metrics=ms[i:i + 1000])
    d = tmp / rec["run_id"]
    d.mkdir()
    (d / "spec.yaml").write_text(yaml.safe_dump(rec.get("spec") or {}, sort_keys=False), encoding="utf-8")
    (d / "record.json").write_text(json.dumps({k: v for k, v in rec.items() if k != "arrays"}, indent=2,
                                              default=str), encoding="utf-8")
    for f in ("spec.yaml", "record.json"):
        client.log_artifact(rid, str(d / f))
    if report is not None:
        client.log_artifacts(rid, str(report), "report")
    client.set_tag(rid, DONE_TAG, "1")  # last: marks the run complete
    client.set_terminated(rid, "FINISHED" if rec.get("status") == "ok" else "FAILED",
                          end_time=_ms(rec.get("finished_at")))
    return rid


def export(records: list[dict], uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
           db: str | None = None) -> dict:
    """Log every record not yet in ``experiment``; returns counts and the MLflow run ids created."""
    uri = uri or default_uri()
    client, exp_id = connect(uri, experiment)
    existing = _exported(client, exp_id)
    todo = [r for r in records if not any(m.data.tags.get(DONE_TAG) for m in existing.get(r["run_id"], []))]
    logged, replaced = [], 0
    with tempfile.TemporaryDirectory(prefix="fb-mlflow-") as tmp:
        names = {r["spec_name"] for r in todo}  # reports only for specs with runs to log
        reports = _reports([r for r in records if r["spec_name"] in names], Path(tmp) / "reports", db)
        for rec in todo:
            for r in existing.get(rec["run_id"], []):  # an export that stopped half-way: start that run again
                client.delete_run(r.info.run_id)
                replaced += 1
            logged.append(_log_run(client, exp_id, rec, reports.get(rec["spec_name"]), Path(tmp)))
    skipped = len(records) - len(todo)
    return {"tracking_uri": uri, "experiment": experiment, "experiment_id": exp_id, "logged": len(logged),
            "skipped": skipped, "replaced": replaced, "mlflow_run_ids": logged}
