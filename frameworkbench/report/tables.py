"""Tables built from run records: one row per run, and per-target summaries over seeds."""
from __future__ import annotations

import statistics
from typing import Any

from .markdown import table


def val_metric(rec: dict) -> tuple[str | None, float | None]:
    """The spec's first metric on the validation set (name, value)."""
    final = rec.get("final") or {}
    for m in (rec.get("spec") or {}).get("metrics", []):
        if f"val_{m}" in final:
            return m, final[f"val_{m}"]
    return None, None


def run_row(rec: dict) -> dict[str, Any]:
    """Flat summary of one record (used by results listings and to_pandas)."""
    final = rec.get("final") or {}
    t = rec.get("timings") or {}
    metric, value = val_metric(rec)
    inf = (rec.get("inference") or {}).get("batch_1") or {}
    return {"run_id": rec["run_id"], "spec": rec["spec_name"], "target": rec["target"], "seed": rec["seed"],
            "repeat": rec.get("repeat", 0),
            "status": rec["status"], "device": rec.get("device"), "threads": rec.get("threads"),
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


def _median(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def target_summary(records: list[dict]) -> list[dict]:
    """One row per target (in first-seen order): status counts and medians over its ok runs."""
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
        out.append({"target": target, "status": "/".join(statuses), "runs": len(recs),
                    "params": _median([row["params"] for row in rows]),
                    "loss": _median([row["loss"] for row in rows]),
                    "val_loss": _median([row["val_loss"] for row in rows]),
                    "metric": metric, "val_metric": _median([row["val_metric"] for row in rows]),
                    "median_epoch_s": _median([row["median_epoch_s"] for row in rows]),
                    "first_epoch_s": _median([row["first_epoch_s"] for row in rows]),
                    "median_step_ms": _median([row["median_step_ms"] for row in rows]),
                    "step_iqr_ms": _median([row["step_iqr_ms"] for row in rows]),
                    "latency_b1_ms": _median([row["latency_b1_ms"] for row in rows]),
                    "peak_rss_mb": _median([row["peak_rss_mb"] for row in rows]),
                    "import_s": _median([row["import_s"] for row in rows]),
                    "noisy": any(row["warnings"] for row in rows),
                    "device": "/".join(sorted({str(r.get("device")) for r in ok})) or None,
                    "reason": why or None})
    return out


def comparison_table(records: list[dict]) -> str:
    """Markdown: targets × status, params, final loss, val metric, epoch and step time (medians over seeds)."""
    rows = target_summary(records)
    metric = next((r["metric"] for r in rows if r["metric"]), "metric")
    body = [[r["target"], r["status"], r["runs"], r["device"], r["params"], r["loss"], r["val_loss"],
             r["val_metric"], r["import_s"], r["first_epoch_s"], r["median_epoch_s"], r["median_step_ms"],
             r["step_iqr_ms"], r["latency_b1_ms"], r["peak_rss_mb"],
             "; ".join(x for x in (r["reason"], "noisy timings (IQR/median > 10 %)" if r["noisy"] else None) if x)
             or None] for r in rows]
    return table(["target", "status", "runs", "device", "params", "final loss", "val loss", f"val {metric}",
                  "import s", "first epoch s", "median epoch s", "median step ms", "step IQR ms",
                  "latency b=1 ms", "peak RSS MB", "note"],
                 body, ["l", "l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
