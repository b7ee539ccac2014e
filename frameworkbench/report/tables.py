"""Tables built from run records: one row per run, and per-target summaries over seeds and repeats."""
from __future__ import annotations

from typing import Any

from ..stats import median
from .markdown import Seconds, table


def val_metric(rec: dict) -> tuple[str | None, float | None]:
    """The spec's first metric on the validation set (name, value)."""
    final = rec.get("final") or {}
    for m in (rec.get("spec") or {}).get("metrics", []):
        if f"val_{m}" in final:
            return m, final[f"val_{m}"]
    return None, None


def standardised_target(records: list[dict]) -> bool:
    """True when losses and metrics are in standardised target units (regression with data.standardize):
    the records keep no target mean/std, so they cannot be put back into the data's own units."""
    return any((r.get("spec") or {}).get("task") == "regression"
               and ((r.get("spec") or {}).get("data") or {}).get("standardize") for r in records)


def run_row(rec: dict) -> dict[str, Any]:
    """Flat summary of one record (used by results listings and to_pandas)."""
    final = rec.get("final") or {}
    t = rec.get("timings") or {}
    metric, value = val_metric(rec)
    inf = (rec.get("inference") or {}).get("batch_1") or {}
    spec = rec.get("spec") or {}
    return {"run_id": rec["run_id"], "spec": rec["spec_name"], "spec_hash": (rec.get("spec_hash") or "")[:8] or None,
            "policy": rec.get("policy", "aligned"), "epochs": (spec.get("training") or {}).get("epochs"),
            "target": rec["target"], "seed": rec["seed"], "repeat": rec.get("repeat", 0),
            "status": rec["status"], "device": rec.get("device") or rec.get("device_requested"),
            "precision": rec.get("precision"), "compile": rec.get("compile"), "threads": rec.get("threads"),
            "matmul_precision": ((rec.get("runtime") or {}).get("matmul_precision") or {}).get("effective"),
            "params": rec.get("param_count"), "loss": final.get("loss"), "val_loss": final.get("val_loss"),
            "metric": metric, "val_metric": value, "median_epoch_s": t.get("median_epoch_s"),
            "median_step_ms": None if t.get("median_step_s") is None else t["median_step_s"] * 1e3,
            "step_iqr_ms": None if t.get("step_iqr_s") is None else t["step_iqr_s"] * 1e3,
            "latency_b1_ms": None if inf.get("median_s") is None else inf["median_s"] * 1e3,
            "latency_b1_p95_ms": None if inf.get("p95_s") is None else inf["p95_s"] * 1e3,
            "build_s": t.get("build_s"), "samples_per_s": t.get("samples_per_s"),
            "warnings": "; ".join(rec.get("warnings") or []) or None,
            "first_epoch_s": t.get("first_epoch_s"), "import_s": t.get("import_s"),
            "peak_rss_mb": rec.get("peak_rss_mb"), "dataset_hash": rec.get("dataset_hash"),
            "created_at": rec["created_at"], "error": rec.get("error")}


RESULTS_COLUMNS = ["run_id", "spec", "spec_hash", "policy", "epochs", "device", "precision", "matmul_precision",
                   "target", "seed", "repeat", "status",
                   "params", "loss", "val_loss", "metric", "val_metric", "median_epoch_s", "median_step_ms",
                   "created_at"]
"""The columns of ``results --format table|markdown`` (json and csv carry every key of :func:`run_row`)."""

_TIME_SCALE = {"_s": 1.0, "_ms": 1e-3}


def display_value(column: str, value: Any) -> Any:
    """``value`` of a :func:`run_row` column as a table cell: times become :class:`Seconds`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and column != "samples_per_s":
        for suffix, scale in _TIME_SCALE.items():
            if column.endswith(suffix):
                return Seconds.of(value, scale)
    return value


def display_header(column: str) -> str:
    """A :func:`run_row` column's table header: time columns lose their unit suffix (cells carry units)."""
    for suffix in _TIME_SCALE:
        if column.endswith(suffix) and column != "samples_per_s":
            return column[: -len(suffix)]
    return column


def target_summary(records: list[dict]) -> list[dict]:
    """One row per target (in first-seen order): status counts and medians over its ok runs.

    ``runs`` is the number of runs the medians use (ok runs: seeds × repeats), ``of`` all runs."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["target"], []).append(r)
    out = []
    for target, recs in groups.items():
        ok = [r for r in recs if r["status"] == "ok"]
        rows = [run_row(r) for r in ok]
        statuses = sorted({r["status"] for r in recs})
        why = "; ".join(sorted({str(r.get("error")) for r in recs if r["status"] != "ok" and r.get("error")}))
        metric = next((row["metric"] for row in rows if row["metric"]), None)
        out.append({"target": target, "status": "/".join(statuses), "runs": len(ok), "of": len(recs),
                    "seeds": len({r["seed"] for r in ok}), "repeats": len({r.get("repeat", 0) for r in ok}),
                    "params": median([row["params"] for row in rows]),
                    "loss": median([row["loss"] for row in rows]),
                    "val_loss": median([row["val_loss"] for row in rows]),
                    "metric": metric, "val_metric": median([row["val_metric"] for row in rows]),
                    "median_epoch_s": median([row["median_epoch_s"] for row in rows]),
                    "first_epoch_s": median([row["first_epoch_s"] for row in rows]),
                    "median_step_ms": median([row["median_step_ms"] for row in rows]),
                    "step_iqr_ms": median([row["step_iqr_ms"] for row in rows]),
                    "latency_b1_ms": median([row["latency_b1_ms"] for row in rows]),
                    "peak_rss_mb": median([row["peak_rss_mb"] for row in rows]),
                    "import_s": median([row["import_s"] for row in rows]),
                    "noisy": any(row["warnings"] for row in rows),
                    "device": "/".join(sorted({str(r.get("device")) for r in ok})) or None,
                    "reason": why or None})
    return out


def comparison_table(records: list[dict]) -> str:
    """Markdown: targets × status, runs used, params, final loss, val metric, times (medians over the ok
    runs: seeds × repeats); losses and metrics are labelled when in standardised target units."""
    rows = target_summary(records)
    metric = next((r["metric"] for r in rows if r["metric"]), "metric")
    units = " (standardised target)" if standardised_target(records) else ""
    body = [[r["target"], r["status"], r["runs"] if r["runs"] == r["of"] else f"{r['runs']} of {r['of']}",
             r["device"], r["params"], r["loss"], r["val_loss"], r["val_metric"],
             *(display_value(k, r[k]) for k in ("import_s", "first_epoch_s", "median_epoch_s", "median_step_ms",
                                                "step_iqr_ms", "latency_b1_ms")),
             r["peak_rss_mb"],
             "; ".join(x for x in (r["reason"], "noisy timings (IQR/median > 10 %)" if r["noisy"] else None) if x)
             or None] for r in rows]
    return table(["target", "status", "runs", "device", "params", f"final loss{units}", f"val loss{units}",
                  f"val {metric}{units}", "import", "first epoch", "median epoch", "median step", "step IQR",
                  "latency b=1", "peak RSS MB", "note"],
                 body, ["l", "l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"])


def _share(part: float | None, whole: float | None) -> str | None:
    return None if part is None or not whole else f"{100 * part / whole:.1f} %"


def time_split_table(records: list[dict]) -> str | None:
    """Markdown: per target, where a steady epoch's time went (medians over the ok runs): the steps,
    the input (gather + transfer), the rest (callbacks, metrics, loop), from the instrumented epoch
    after the warm-up (``timings.steady_split``); and the headline epoch time over steps against the
    median step. None when no record carries the split (older records)."""
    by_target: dict[str, list[dict]] = {}
    for r in records:
        t = r.get("timings") or {}
        if r["status"] == "ok" and t.get("steady_split"):
            by_target.setdefault(r["target"], []).append(t)
    if not by_target:
        return None
    rows = []
    for target, ts in by_target.items():
        sp = [t["steady_split"] for t in ts]
        med = {k: median([s.get(k) for s in sp]) for k in ("epoch_s", "step_s", "input_s", "other_s")}
        inputs = [s.get("input_s") for s in sp]
        rows.append([target, median([t.get("steps_per_epoch") for t in ts]), Seconds.of(med["epoch_s"]),
                     _share(med["step_s"], med["epoch_s"]),
                     "overlapped (tf.data)" if all(v is None for v in inputs) else _share(med["input_s"],
                                                                                          med["epoch_s"]),
                     _share(med["other_s"], med["epoch_s"]),
                     Seconds.of(median([t.get("epoch_per_step_s") for t in ts])),
                     Seconds.of(median([s["step_s"] / s["steps"] for s in sp if s.get("steps")])),
                     Seconds.of(median([t.get("median_step_s") for t in ts])),
                     median([t.get("epoch_step_ratio") for t in ts]),
                     ", ".join(str(e) for e in ts[-1].get("instrumented_epochs") or [])])
    return table(["target", "steps/epoch", "instrumented epoch", "steps", "input", "other", "epoch / steps",
                  "mean step", "median step", "ratio", "instrumented epochs"], rows,
                 ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
