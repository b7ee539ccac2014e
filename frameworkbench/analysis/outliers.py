"""Timing outliers across runs: a run's median step and epoch against earlier ok runs of the same setup.

The within-run noise check (IQR/median of one run's steps) cannot see a run that was slow from
start to end, e.g. because other processes held the cores: a keras:torch run once gave a 119 ms
median step where the same command gave 3.8 ms later. When a run is stored, :func:`flag_outlier`
compares it with the ok runs already in the database that share its target, spec hash, policy,
mode, device, thread count and CPU model, and appends a warning naming the ratio, the reference
median, how many runs it came from and, if it was high, the machine load the worker recorded
(``record["load"]``, see :class:`frameworkbench.measure.MachineLoad`). Pure logic apart from
:func:`flag_outlier`; no framework imports.
"""
from __future__ import annotations

import statistics

# A run whose median is beyond 3x (or below 1/3) of its peers' is an outlier. Medians of repeated
# runs on a quiet machine agree within ~10-30 % (the spread check warns beyond 10 % IQR/median);
# CPU frequency scaling, thread placement and a fresh vs reused worker move a median by up to
# ~2x. A 3x gap is beyond all of these: it comes from contention or a changed environment.
OUTLIER_FACTOR = 3.0
# With a single earlier run it is unknown which of the two is off: ask for a clearer gap.
SINGLE_PEER_FACTOR = 10.0
MIN_PEERS = 2  # below this, only SINGLE_PEER_FACTOR applies
METRICS = (("median_step_s", "median step"), ("median_epoch_s", "median epoch"))


def setup_key(rec: dict) -> tuple:
    """What must match for two runs' timings to be comparable."""
    return (rec.get("target"), rec.get("spec_hash"), rec.get("policy", "aligned"), rec.get("mode", "train"),
            rec.get("device"), rec.get("threads"), (rec.get("host") or {}).get("cpu"))


def peers(rec: dict, candidates: list[dict]) -> list[dict]:
    """The ok runs among ``candidates`` with ``rec``'s setup (``rec`` itself and cached copies excluded)."""
    key = setup_key(rec)
    seen, out = {rec.get("run_id")}, []
    for c in candidates:
        if c.get("status") == "ok" and c.get("run_id") not in seen and setup_key(c) == key:
            seen.add(c.get("run_id"))
            out.append(c)
    return out


def compare(rec: dict, others: list[dict]) -> dict:
    """Per timing metric beyond the threshold: ``{metric: {"value", "reference", "ratio", "runs"}}``.

    The reference is the lower median of the peers' values, so that one slow run among two
    earlier ones does not become the reference (contention slows runs down, never speeds them up).
    """
    out = {}
    for metric, _ in METRICS:
        value = (rec.get("timings") or {}).get(metric)
        vals = sorted(v for v in ((o.get("timings") or {}).get(metric) for o in others) if v and v > 0)
        if not value or value <= 0 or not vals:
            continue
        ref = statistics.median_low(vals)
        ratio = value / ref
        factor = OUTLIER_FACTOR if len(vals) >= MIN_PEERS else SINGLE_PEER_FACTOR
        if ratio > factor or ratio < 1 / factor:
            out[metric] = {"value": value, "reference": ref, "ratio": ratio, "runs": len(vals)}
    return out


def high_load(load: dict | None, threads: int | None) -> str | None:
    """A description of the machine load if it was high enough to slow the run, else None.

    High: other processes kept more cores busy than the run's threads left free, or the 1-minute
    load average exceeded the core count.
    """
    if not load or not load.get("cores"):
        return None
    cores = load["cores"]
    other = load.get("cpu_busy_other_pct")
    la = [v for v in (load.get("loadavg_start"), load.get("loadavg_end")) if v is not None]
    busy_other = other is not None and other / 100 * cores > cores - min(threads or 1, cores)
    if not busy_other and not (la and max(la) > cores):
        return None
    parts = []
    if la:
        parts.append(f"load average {load.get('loadavg_start')} → {load.get('loadavg_end')} on {cores} cores")
    if other is not None:
        parts.append(f"other processes kept {other:.0f} % of all cores busy")
    return "machine load was high: " + ", ".join(parts)


def _seconds(v: float) -> str:
    return f"{v:.3g} s" if v >= 1 else f"{v * 1e3:.3g} ms" if v >= 1e-3 else f"{v * 1e6:.3g} µs"


def warning(rec: dict, found: dict) -> str:
    """The warning text for :func:`compare`'s result (non-empty)."""
    parts = []
    for metric, label in METRICS:
        if metric not in found:
            continue
        f = found[metric]
        how = f"{f['ratio']:.3g}× above" if f["ratio"] > 1 else f"{1 / f['ratio']:.3g}× below"
        if f["runs"] == 1:
            ref = f"the one earlier run ({_seconds(f['reference'])}; one of the two is off)"
        else:
            ref = f"their median ({_seconds(f['reference'])}, {f['runs']} runs)"
        parts.append(f"{label} {_seconds(f['value'])} is {how} {ref}")
    text = "timing outlier against earlier ok runs of the same target, spec, policy, device and threads: " + \
        "; ".join(parts)
    load = high_load(rec.get("load"), rec.get("threads"))
    return text + (f"; {load}" if load else "")


def check(rec: dict, candidates: list[dict]) -> str | None:
    """Compare ``rec`` with its peers among ``candidates``; on an outlier, record it in
    ``rec["outlier"]`` and ``rec["warnings"]`` and return the warning, else None."""
    if rec.get("status") != "ok":
        return None
    found = compare(rec, peers(rec, candidates))
    if not found:
        return None
    msg = warning(rec, found)
    rec["outlier"] = found
    rec["warnings"] = [*(rec.get("warnings") or []), msg]
    return msg


def flag_outlier(rec: dict, store) -> str | None:
    """:func:`check` ``rec`` against the ok records of its spec name and target in ``store``."""
    if rec.get("status") != "ok" or not any((rec.get("timings") or {}).get(m) for m, _ in METRICS):
        return None
    return check(rec, store.records(spec_name=rec["spec_name"], target=rec["target"], status="ok"))
