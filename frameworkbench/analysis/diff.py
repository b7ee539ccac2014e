"""Compare two sets of stored runs: ratio of medians, bootstrap CI, Mann-Whitney p, verdict.

A set is a results database, or ``PATH:BATCH_ID`` for one batch in it. Runs are paired by
(spec name, target, policy); run settings such as threads may differ and are shown. numpy is
imported when comparing, scipy (p-values) only if installed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..spec import SpecError, problem


def _get(*path: str) -> Callable[[dict], float | None]:
    def read(rec: dict) -> float | None:
        v: Any = rec
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return read


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    read: Callable[[dict], float | None]
    unit: str  # "s", "MB" or ""
    words: tuple[str, str]  # verdict when the candidate is higher / lower


METRICS = {m.name: m for m in (
    Metric("median_step", "median step", _get("timings", "median_step_s"), "s", ("slower", "faster")),
    Metric("epoch_time", "epoch time", _get("timings", "median_epoch_s"), "s", ("slower", "faster")),
    Metric("latency_b1", "latency b=1", _get("inference", "batch_1", "median_s"), "s", ("slower", "faster")),
    Metric("peak_rss", "peak memory", _get("peak_rss_mb"), "MB", ("more memory", "less memory")),
    Metric("final_loss", "final loss", _get("final", "loss"), "", ("higher", "lower")),
)}
SAME = "same within noise"
TOO_FEW = "too few runs"
FAIL_IF_GRAMMAR = f"METRIC (>|<|>=|<=) NUMBER, e.g. 'median_step>1.10'; METRIC is one of: {', '.join(METRICS)}"
_FAIL_RE = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class FailIf:
    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"

    def tripped(self, ratio: float) -> bool:
        return {">": ratio > self.threshold, "<": ratio < self.threshold, ">=": ratio >= self.threshold,
                "<=": ratio <= self.threshold}[self.op]


def parse_fail_if(text: str) -> FailIf:
    """``METRIC (>|<|>=|<=) NUMBER``; anything else is a SpecError naming the grammar and metrics."""
    m = _FAIL_RE.match(text)
    if not m or m.group(1) not in METRICS:
        raise SpecError([problem("--fail-if", f"cannot parse {text!r}; expected {FAIL_IF_GRAMMAR}")])
    return FailIf(m.group(1), m.group(2), float(m.group(3)))


# ----------------------------------------------------------------------------- loading
def load_set(text: str, label: str) -> tuple[str, list[dict]]:
    """``PATH`` or ``PATH:BATCH_ID`` → (description, ok training records). Never creates a database."""
    from ..store import Store

    path, batch = Path(text), None
    if not path.exists() and ":" in text:
        head, tail = text.rsplit(":", 1)
        if head and tail:
            path, batch = Path(head), tail
    if not path.is_file():
        raise SpecError([problem(label, f"no results database at {str(path)!r}; expected an existing database "
                                        f"file, or PATH:BATCH_ID for one batch in it")])
    with Store(path) as st:
        recs = st.records(status="ok", batch_id=batch)
        if batch is not None and not recs:
            batches = sorted({r["batch_id"] for r in st.records(status="ok")})
            raise SpecError([problem(label, f"batch {batch!r} has no ok runs in {str(path)!r}; batches there: "
                                            f"{', '.join(batches) or 'none'}")])
    recs = [r for r in recs if r.get("mode", "train") == "train"]
    return text, recs


def pair_key(rec: dict) -> tuple[str, str, str]:
    return rec["spec_name"], rec["target"], rec.get("policy") or "aligned"


def _group(recs: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in recs:
        out.setdefault(pair_key(r), []).append(r)
    return out


# ----------------------------------------------------------------------------- statistics
def ratio_ci(base: list[float], cand: list[float], resamples: int = 2000, seed: int = 0,
             level: float = 0.95) -> tuple[float, float, float]:
    """Ratio of medians (candidate / baseline) and its percentile bootstrap CI, resampling each side."""
    import numpy as np

    a, b = np.asarray(base, float), np.asarray(cand, float)
    ratio = float(np.median(b) / np.median(a))
    rng = np.random.default_rng(seed)
    ma = np.median(a[rng.integers(0, len(a), (resamples, len(a)))], axis=1)
    mb = np.median(b[rng.integers(0, len(b), (resamples, len(b)))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = mb / ma
    boot = boot[np.isfinite(boot)]
    tail = (1 - level) / 2 * 100
    lo, hi = (np.percentile(boot, [tail, 100 - tail]) if boot.size else (float("nan"),) * 2)
    return ratio, float(lo), float(hi)


def mann_whitney_p(base: list[float], cand: list[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value; None with one run on a side or without scipy."""
    if len(base) < 2 or len(cand) < 2:
        return None
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        return None
    if len(set(base) | set(cand)) == 1:  # all equal: no evidence of a difference
        return 1.0
    return float(mannwhitneyu(cand, base, alternative="two-sided").pvalue)


def verdict(metric: Metric, ratio: float, lo: float, hi: float, n_base: int, n_cand: int,
            min_effect: float) -> str:
    """Higher when the CI lies entirely above 1 and ratio > 1 + min_effect; lower when it lies entirely
    below 1 and ratio < 1 / (1 + min_effect); else same within noise. Needs 2+ runs on each side."""
    if n_base < 2 or n_cand < 2:
        return TOO_FEW
    if lo > 1 and ratio > 1 + min_effect:
        return metric.words[0]
    if hi < 1 and ratio < 1 / (1 + min_effect):
        return metric.words[1]
    return SAME


def _settings(recs: list[dict]) -> dict:
    def vals(f):
        return sorted({str(f(r)) for r in recs})

    return {"runs": len(recs), "seeds": sorted({r["seed"] for r in recs}),
            "threads": vals(lambda r: r.get("threads")), "device": vals(lambda r: r.get("device")),
            "spec_hash": vals(lambda r: r.get("spec_hash")),
            "batch_size": vals(lambda r: ((r.get("spec") or {}).get("training") or {}).get("batch_size"))}


def compare(base_recs: list[dict], cand_recs: list[dict], *, base_label: str = "baseline",
            cand_label: str = "candidate", min_effect: float = 0.05, resamples: int = 2000,
            seed: int = 0) -> dict:
    """The comparison as a JSON-ready dict; SpecError when the sets share no pair or no metric."""
    import numpy as np

    ga, gb = _group(base_recs), _group(cand_recs)
    common = sorted(set(ga) & set(gb))

    def has(g):
        return ", ".join("/".join(k) + f" ({len(v)} runs)" for k, v in sorted(g.items())) or "no ok runs"

    if not common:
        raise SpecError([problem("diff", f"the two sets share no (spec, target, policy) pair; "
                                         f"baseline {base_label!r} has: {has(ga)}; candidate {cand_label!r} "
                                         f"has: {has(gb)}")])
    pairs = []
    for key in common:
        a, b = ga[key], gb[key]
        rows = []
        for m in METRICS.values():
            va = [v for v in map(m.read, a) if v is not None]
            vb = [v for v in map(m.read, b) if v is not None]
            if not va or not vb:
                continue
            med_a, med_b = float(np.median(va)), float(np.median(vb))
            if med_a == 0:
                continue
            ratio, lo, hi = ratio_ci(va, vb, resamples, seed)
            rows.append({"metric": m.name, "label": m.label, "unit": m.unit, "baseline": med_a,
                         "candidate": med_b, "ratio": ratio, "ci_low": lo, "ci_high": hi,
                         "p_value": mann_whitney_p(va, vb), "n_baseline": len(va), "n_candidate": len(vb),
                         "verdict": verdict(m, ratio, lo, hi, len(va), len(vb), min_effect)})
        if rows:
            pairs.append({"spec": key[0], "target": key[1], "policy": key[2], "baseline": _settings(a),
                          "candidate": _settings(b), "metrics": rows})
    if not pairs:
        raise SpecError([problem("diff", f"the shared pairs have no metric measured in both sets "
                                         f"(metrics: {', '.join(METRICS)}); shared: "
                                         f"{', '.join('/'.join(k) for k in common)}")])
    return {"baseline": base_label, "candidate": cand_label, "min_effect": min_effect, "resamples": resamples,
            "bootstrap_seed": seed, "pairs": pairs,
            "only_in_baseline": ["/".join(k) for k in sorted(set(ga) - set(gb))],
            "only_in_candidate": ["/".join(k) for k in sorted(set(gb) - set(ga))]}


def check_fail_if(result: dict, rules: list[FailIf]) -> list[str]:
    """Lines describing every pair whose ratio trips a rule (empty: the gate passes). A rule whose
    metric no pair has is a SpecError, so a gate never passes silently."""
    out = []
    for rule in rules:
        seen = False
        for p in result["pairs"]:
            for m in p["metrics"]:
                if m["metric"] != rule.metric:
                    continue
                seen = True
                if rule.tripped(m["ratio"]):
                    out.append(f"--fail-if {rule}: {p['spec']}/{p['target']}/{p['policy']} ratio {m['ratio']:.3f}")
        if not seen:
            raise SpecError([problem("--fail-if", f"{str(rule)!r}: no compared pair has {rule.metric} in both sets")])
    return out


# ----------------------------------------------------------------------------- rendering
def _value(v: float, unit: str) -> str:
    from ..report.markdown import Seconds, cell

    if unit == "s":
        return cell(Seconds(v))
    return cell(v) + (f" {unit}" if unit else "")


def _side(s: dict) -> str:
    one = {k: (v[0] if len(v) == 1 else "/".join(v)) for k, v in s.items() if isinstance(v, list) and k != "seeds"}
    runs = f"{s['runs']} run" + ("s" if s["runs"] != 1 else "")
    return (f"{runs} (seeds {', '.join(map(str, s['seeds']))}), threads {one['threads']}, {one['device']}, "
            f"batch {one['batch_size']}, spec {one['spec_hash']}")


def render_markdown(result: dict) -> str:
    """One section per (spec, target, policy): the settings of each side, then a row per metric."""
    from ..report.markdown import table

    lines = [f"# frameworkbench diff", "",
             f"Baseline `{result['baseline']}`, candidate `{result['candidate']}`. Ratio = candidate / baseline "
             f"of the medians over runs (seeds × repeats); 95 % CI from {result['resamples']} bootstrap resamples; "
             f"p from a two-sided Mann-Whitney U test; a verdict needs the CI to exclude 1 and an effect above "
             f"{result['min_effect']:.0%}.", ""]
    for p in result["pairs"]:
        differ = [k for k in ("threads", "device", "batch_size", "spec_hash") if p["baseline"][k] != p["candidate"][k]]
        lines += [f"## {p['spec']} · {p['target']} · {p['policy']}", "",
                  f"- baseline: {_side(p['baseline'])}", f"- candidate: {_side(p['candidate'])}"]
        if differ:
            lines.append(f"- settings that differ: {', '.join(d.replace('_', ' ') for d in differ)}")
        rows = [[m["label"], _value(m["baseline"], m["unit"]), _value(m["candidate"], m["unit"]),
                 f"{m['ratio']:.3f}", f"[{m['ci_low']:.3f}, {m['ci_high']:.3f}]",
                 "n/a" if m["p_value"] is None else f"{m['p_value']:.3g}",
                 f"{m['n_baseline']}/{m['n_candidate']}", m["verdict"]] for m in p["metrics"]]
        lines += ["", table(["metric", "baseline", "candidate", "ratio", "95% CI", "p", "runs", "verdict"], rows,
                            ["l", "r", "r", "r", "r", "r", "r", "l"]), ""]
    for side in ("baseline", "candidate"):
        if result[f"only_in_{side}"]:
            lines += [f"Only in the {side} (not compared): {', '.join(result[f'only_in_{side}'])}", ""]
    if any(m["p_value"] is None for p in result["pairs"] for m in p["metrics"]):
        lines += ["p n/a: one run on a side (or scipy not installed).", ""]
    return "\n".join(lines)


def render_json(result: dict) -> str:
    return json.dumps(result, indent=2)
