"""Step 1 of the document: which stored records feed which cell, and the figures read from them.

The one place that reads the worker modes' results (``train``, ``codegen``, ``export``, ``dynamic``,
``activations``, ``train_stats``) out of run records; the verdicts and the rendering read the small
fact objects built here. Targets are ordered as the registry lists them, grouped by family.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...analysis.language_models import SPEC_NAME as LM_CHECK  # `frameworkbench lm-check` records
from ...analysis.study import parse_name
from ...targets import TARGETS
from ...stats import median
from .fmt import short_error

ACTIVATION_ORDER = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax")
DEPLOYABLE = ("server", "mobile")  # export kinds that count as deployment formats


@lru_cache(maxsize=1)
def _registry_rank() -> dict[str, int]:
    """Registry order, grouped by family, then by backend within a family (families in registry order)."""
    targets = list(TARGETS.values())
    family = {t.family: i for i, t in reversed(list(enumerate(targets)))}
    backend = {(t.family, t.backend): i for i, t in reversed(list(enumerate(targets)))}
    ranked = sorted(range(len(targets)),
                    key=lambda i: (family[targets[i].family], backend[(targets[i].family, targets[i].backend)], i))
    return {targets[i].name: k for k, i in enumerate(ranked)}


def target_key(name: str) -> tuple:
    """Sort key of a target: registry order (see :func:`_registry_rank`), unknown targets last by name."""
    rank = _registry_rank()
    return (rank.get(name, len(rank)), name)


def api_of(rec: dict) -> str:
    """The API level a record's target trains with: ``fit`` or ``loop``."""
    if rec.get("api"):
        return rec["api"]
    t = TARGETS.get(rec["target"])
    return t.api if t else "fit"


def family_of(rec: dict) -> str:
    return rec.get("family") or rec["target"].split(":")[0]


def ok(rec: dict) -> bool:
    return rec["status"] == "ok"


def error_of(rec: dict) -> str:
    """A record's error (or status), shortened for a cell."""
    return short_error(rec.get("error") or rec.get("status"))


def timings(rec: dict) -> dict:
    return rec.get("timings") or {}


def final(rec: dict) -> dict:
    return rec.get("final") or {}


def finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


class Facts:
    """The study records of a database, newest per (spec name, target, seed), grouped by experiment;
    ``named`` keeps the records of :data:`NAMED_SPECS` (oldest first), which are not study runs."""

    def __init__(self, records: list[dict]) -> None:
        newest_hash: dict[str, str] = {}
        ordered = sorted(records, key=lambda r: (r["created_at"], r["run_id"]))
        self.named = [r for r in ordered if r["spec_name"] in NAMED_SPECS]
        for r in ordered:
            if parse_name(r["spec_name"]):
                newest_hash[r["spec_name"]] = r["spec_hash"]
        latest: dict[tuple, dict] = {}
        for r in ordered:
            if parse_name(r["spec_name"]) and r["spec_hash"] == newest_hash[r["spec_name"]]:
                latest[(r["spec_name"], r["target"], r["seed"])] = r
        self.groups: dict[str, list[dict]] = {}
        for key in sorted(latest, key=lambda k: (k[0], target_key(k[1]), k[2])):
            study, exp, _ = parse_name(key[0])
            self.groups.setdefault(f"{study}:{exp}", []).append(latest[key])

    def exp(self, study: str, experiment: str) -> list[dict]:
        return self.groups.get(f"{study}:{experiment}", [])

    def all(self) -> list[dict]:
        return [r for k in sorted(self.groups) for r in self.groups[k]]

    def study(self, study: str) -> list[str]:
        """The group keys (``study:experiment``) of one study, sorted."""
        return sorted(k for k in self.groups if k.startswith(f"{study}:"))

    @staticmethod
    def by_target(recs: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in sorted(recs, key=lambda r: (target_key(r["target"]), r["seed"])):
            out.setdefault(r["target"], []).append(r)
        return out


# ----------------------------------------------------------------------------- language models
TRANSFORMER_SPEC = "tiny_transformer"  # specs/tiny_transformer.yaml: `frameworkbench run` and `parity` records
NAMED_SPECS = (LM_CHECK, TRANSFORMER_SPEC)
VERDICT_ORDER = ("same", "close", "different")  # parity verdicts, best first


@dataclass(frozen=True)
class LibraryCheck:
    """A target's newest ``lm-check`` record: its language-model library trained a tiny BERT one step, or why not."""

    target: str
    family: str
    status: str
    library: str | None
    version: str | None
    model: str | None
    params: int | None
    step_s: float | None  # the one training step (the first call: tracing / compilation included)
    loss_before: float | None
    loss_after: float | None
    error: str


def _newest_version(recs: list[dict]) -> list[dict]:
    """The newest record per (target, seed) among those of the newest spec version (records oldest first)."""
    if not recs:
        return []
    newest_hash = recs[-1]["spec_hash"]
    latest = {(r["target"], r["seed"]): r for r in recs if r["spec_hash"] == newest_hash}
    return [latest[k] for k in sorted(latest, key=lambda k: (target_key(k[0]), k[1]))]


def named_groups(f: "Facts") -> dict[str, list[dict]]:
    """The records the language-model row counts: ``lm-check`` (the newest per target) and
    ``tiny_transformer:train`` / ``:parity`` (aligned policy, newest spec version, newest per target and seed)."""
    checks = {r["target"]: r for r in f.named if r["spec_name"] == LM_CHECK}
    mine = [r for r in f.named if r["spec_name"] == TRANSFORMER_SPEC and (r.get("policy") or "aligned") == "aligned"]
    out = {LM_CHECK: [checks[t] for t in sorted(checks, key=target_key)],
           f"{TRANSFORMER_SPEC}:train": _newest_version([r for r in mine if r.get("mode", "train") == "train"]),
           f"{TRANSFORMER_SPEC}:parity": _newest_version([r for r in mine if r.get("mode") == "parity"])}
    return {k: v for k, v in out.items() if v}


def library_checks(f: "Facts") -> dict[str, LibraryCheck]:
    """The newest ``lm-check`` record per target, in target order."""
    out = {}
    for r in named_groups(f).get(LM_CHECK, []):
        target = r["target"]
        lm = r.get("language_model") or {}
        out[target] = LibraryCheck(target, family_of(r), r["status"], lm.get("library"), lm.get("library_version"),
                                   lm.get("model"), r.get("param_count"), timings(r).get("step_s"),
                                   lm.get("loss_before"), lm.get("loss_after"), "" if ok(r) else error_of(r))
    return out


@dataclass(frozen=True)
class TransformerRuns:
    """A target's runs of the tiny transformer spec: ``train`` figures and the aligned ``parity`` verdict."""

    target: str
    family: str
    runs: int
    ok_runs: int
    median_step_s: float | None  # medians over the ok train runs (seeds)
    peak_rss_mb: float | None
    device_peak_mb: float | None  # the framework's own device counter (GPU runs), None on the CPU
    params: int | None
    error: str  # of its newest train run that failed
    parity: str | None  # the worst verdict over seeds; None without an ok parity run
    parity_error: str = ""  # of its newest parity run that failed


def transformer_runs(f: "Facts") -> dict[str, TransformerRuns]:
    """Per target, the :data:`TRANSFORMER_SPEC` runs of the aligned policy, in target order."""
    groups = named_groups(f)
    train = Facts.by_target(groups.get(f"{TRANSFORMER_SPEC}:train", []))
    parity = Facts.by_target(groups.get(f"{TRANSFORMER_SPEC}:parity", []))
    out = {}
    for target in sorted(set(train) | set(parity), key=target_key):
        recs, par = train.get(target, []), parity.get(target, [])
        done = [r for r in recs if ok(r)]
        verdicts = [(r.get("parity") or {}).get("verdict") for r in par if ok(r)]
        known = [v for v in verdicts if v in VERDICT_ORDER]
        bad_par = [r for r in par if not ok(r)]
        out[target] = TransformerRuns(
            target, family_of((recs or par)[0]), len(recs), len(done),
            median(timings(r).get("median_step_s") for r in done), median(r.get("peak_rss_mb") for r in done),
            median((r.get("device_memory") or {}).get("peak_mb") for r in done),
            next((r.get("param_count") for r in done if r.get("param_count") is not None), None),
            error_of(recs[-1]) if recs and not ok(recs[-1]) else "",
            max(known, key=VERDICT_ORDER.index) if known else None,
            error_of(bad_par[-1]) if bad_par else "")
    return out


# ----------------------------------------------------------------------------- study:frameworks
@dataclass(frozen=True)
class Training:
    """One target's ``train`` runs: medians over its ok runs (seeds)."""

    target: str
    family: str
    api: str
    runs: int
    ok_runs: int
    error: str  # of its newest run
    first_result: float | None  # import + build + first epoch
    medians: dict[str, float | None]  # import_s, build_s, first_epoch_s, median_step_s, step_iqr_s, val_loss, ...
    curve: tuple[list[int], list, list] | None  # epochs, loss, val_loss (runs with a history)
    bar: tuple[float | None, float | None] | None  # median step and IQR of the runs with a history

    @property
    def trained(self) -> bool:
        return self.ok_runs > 0


def _first_result(recs: list[dict]) -> float | None:
    vals = []
    for r in recs:
        tm = timings(r)
        if ok(r) and None not in (tm.get("import_s"), tm.get("build_s"), tm.get("first_epoch_s")):
            vals.append(tm["import_s"] + tm["build_s"] + tm["first_epoch_s"])
    return median(vals)


def _curve(recs: list[dict]) -> tuple[tuple | None, tuple | None]:
    done = [r for r in recs if ok(r) and r.get("history")]
    if not done:
        return None, None
    n = min(len(r["history"]) for r in done)
    curve = (list(range(1, n + 1)), [median(r["history"][i]["loss"] for r in done) for i in range(n)],
             [median(r["history"][i].get("val_loss") for r in done) for i in range(n)])
    tm = [timings(r) for r in done]
    return curve, (median(x.get("median_step_s") for x in tm), median(x.get("step_iqr_s") for x in tm))


def training(f: Facts) -> dict[str, Training]:
    """``study:frameworks:train`` per target, in target order."""
    out = {}
    for target, recs in Facts.by_target(f.exp("frameworks", "train")).items():
        done = [r for r in recs if ok(r)]
        tm, fin = [timings(r) for r in done], [final(r) for r in done]
        meds = {k: median(x.get(k) for x in tm) for k in ("import_s", "build_s", "first_epoch_s", "median_step_s",
                                                         "step_iqr_s")}
        meds.update({k: median(x.get(k) for x in fin) for k in ("val_loss", "val_accuracy")})
        curve, bar = _curve(recs)
        out[target] = Training(target, family_of(recs[0]), api_of(recs[0]), len(recs), len(done), error_of(recs[-1]),
                               _first_result(recs), meds, curve, bar)
    return out


@dataclass(frozen=True)
class Codegen:
    """The idiomatic script ``codegen`` wrote for a target: did it run, its lines, its parameter count."""

    target: str
    family: str
    ran: bool
    lines: int | None
    params_ok: bool
    params_printed: Any
    error: str

    @property
    def usable(self) -> bool:
        return self.ran and self.params_ok


def codegen(f: Facts) -> dict[str, Codegen]:
    out = {}
    for target, recs in Facts.by_target(f.exp("frameworks", "codegen")).items():
        rec = recs[-1]
        cg = rec.get("codegen") or {}
        out[target] = Codegen(target, family_of(rec), ok(rec) and bool(cg.get("ran")), cg.get("lines"),
                              cg.get("params_printed") == cg.get("params_expected"), cg.get("params_printed"),
                              short_error(cg.get("error")) or error_of(rec))
    return out


@dataclass(frozen=True)
class ExportPath:
    name: str
    kind: str | None
    ok: bool
    size_bytes: int | None
    latency_s: float | None  # median, batch of one, through the reloaded artifact
    error: str
    max_abs_diff: float | None = None  # against the live (trained) model on the validation rows
    runtime: str | None = None  # what ran the artifact (ONNX Runtime, LiteRT, OpenVINO, ...)


@dataclass(frozen=True)
class Export:
    """The export paths tried for a target's model."""

    target: str
    family: str
    ok: bool
    error: str
    paths: list[ExportPath]

    @property
    def deployable(self) -> list[str]:
        return [p.name for p in self.paths if p.ok and p.kind in DEPLOYABLE]

    @property
    def mobile(self) -> bool:
        return any(p.ok and p.kind == "mobile" for p in self.paths)

    @property
    def mobile_formats(self) -> list[str]:
        return [p.name for p in self.paths if p.ok and p.kind == "mobile"]

    @property
    def worst_diff(self) -> float | None:
        """The largest max |Δ| of the formats that worked (the export's fidelity)."""
        diffs = [p.max_abs_diff for p in self.paths if p.ok and p.max_abs_diff is not None]
        return max(diffs) if diffs else None


def exports(f: Facts) -> dict[str, Export]:
    out = {}
    for target, recs in Facts.by_target(f.exp("frameworks", "export")).items():
        rec = recs[-1]
        ex = rec.get("export") or {}
        runtimes = {f.get("path"): f.get("runtime") for f in ex.get("formats") or []}
        paths = [ExportPath(p["path"], p.get("kind"), p.get("status") == "ok", p.get("size_bytes"),
                            (p.get("latency_batch1") or {}).get("median_s"), short_error(p.get("error")),
                            p.get("max_abs_diff"), runtimes.get(p["path"]))
                 for p in ex.get("paths") or []]
        out[target] = Export(target, family_of(rec), ok(rec), error_of(rec), paths)
    return out


@dataclass(frozen=True)
class Dynamic:
    """What the ``dynamic`` mode observed: eager by default, and the other execution variant."""

    target: str
    family: str
    ok: bool
    error: str
    eager_by_default: bool | None = None
    calls: int | None = None  # step-body calls of the default variant ...
    steps: int | None = None  # ... for this many steps
    ratio: float | None = None  # eager step / compiled step
    other_how: str | None = None
    other_ok: bool = False
    other_error: str = ""
    eager_works: bool = False  # the eager variant ran
    eager_step_s: float | None = None
    compiled_step_s: float | None = None


def _dynamic(rec: dict) -> Dynamic:
    if not ok(rec):
        return Dynamic(rec["target"], family_of(rec), False, error_of(rec))
    dy = rec["dynamic"]
    variants = dy["variants"]
    probe = variants[dy["default_is"]].get("probe") or {}
    other = variants["compiled" if dy["default_is"] == "eager" else "eager"]
    return Dynamic(rec["target"], family_of(rec), True, "", dy.get("eager_by_default"), probe.get("step_body_calls"),
                   probe.get("steps"), dy.get("eager_over_compiled"), other["how"], other.get("status") == "ok",
                   short_error(other.get("error")), variants["eager"].get("status") == "ok",
                   variants["eager"].get("median_step_s"), variants["compiled"].get("median_step_s"))


def dynamics(f: Facts) -> dict[str, Dynamic]:
    return {t: _dynamic(rs[-1]) for t, rs in Facts.by_target(f.exp("frameworks", "dynamic")).items()}


def train_spec(f: Facts) -> dict | None:
    """The spec and dataset of ``study:frameworks:train`` for the document's spec line."""
    train = f.exp("frameworks", "train")
    spec = next((r["spec"] for r in train), None)
    if not spec:
        return None
    ds = next((r.get("dataset") for r in train if r.get("dataset")), None) or {}
    dense = [(lay["units"], lay["activation"]["name"]) for lay in spec["layers"] if lay["type"] == "dense"]
    return {"inp": spec["input_shape"], "dense": dense, "loss": spec["loss"]["name"], "opt": spec["optimizer"]["name"],
            "lr": spec["optimizer"]["learning_rate"], "bs": spec["training"]["batch_size"],
            "epochs": spec["training"]["epochs"], "source": ds.get("source", "?"), "n_train": ds.get("n_train", "?"),
            "n_val": ds.get("n_val", "?")}


# ----------------------------------------------------------------------------- study:activations
def probes(f: Facts) -> dict[str, dict]:
    """Per target, the ``activations`` payload of its newest ok probe."""
    out = {}
    for target, recs in Facts.by_target(f.exp("activations", "probe")).items():
        rec = recs[-1]
        if ok(rec) and rec.get("activations"):
            out[target] = rec["activations"]
    return out


def probe_x(probe: dict[str, dict]) -> list[float]:
    return next(iter(probe.values()))["x"]


def cost_s(payload: dict, name: str) -> float:
    """Median forward+backward seconds of an activation in one framework's probe."""
    return payload["by_name"][name]["cost"]["median_s"]


def curves(probe: dict[str, dict], name: str) -> dict[str, tuple[list, list]]:
    """Per target: an activation's f and f′ on the probe's x."""
    return {tg: (p["by_name"][name]["y"], p["by_name"][name]["dy"]) for tg, p in probe.items() if name in p["by_name"]}


def params(probe: dict[str, dict], name: str) -> dict:
    return next(iter(probe.values()))["by_name"][name].get("params") or {}


def relu_cheapest(probe: dict[str, dict]) -> list[str]:
    """The targets where ReLU costs no more than any other activation probed."""
    return [tg for tg, p in probe.items()
            if all(cost_s(p, "relu") <= cost_s(p, b) for b in ACTIVATION_ORDER if b in p["by_name"])]


def _spread(curves: list[list[float]], at: list[int]) -> float:
    return max((abs(a[i] - b[i]) for a in curves for b in curves for i in at), default=0.0)


def activation_summary(probe: dict[str, dict], name: str) -> dict | None:
    """One activation's probe figures, medians over frameworks (None when no framework probed it)."""
    vals = [p["by_name"][name] for p in probe.values() if name in p["by_name"]]
    if not vals:
        return None
    cost = {tg: cost_s(p, name) / cost_s(p, "relu") for tg, p in probe.items()
            if name in p["by_name"] and "relu" in p["by_name"]}
    x = probe_x(probe)
    return {
        "range": (median(v["range"][0] for v in vals), median(v["range"][1] for v in vals)),
        "max_d": median(v["max_derivative"] for v in vals), "max_d_at": median(v["max_derivative_at"] for v in vals),
        "d_m5": median(v["derivative_at"]["-5"] for v in vals), "d_5": median(v["derivative_at"]["5"] for v in vals),
        "jump": median(v["derivative_jump_at_0"] for v in vals),
        "mean": median(v["mean_on_normal"] for v in vals), "sem": median(v["sem_on_normal"] for v in vals),
        "cost": cost, "cost_median": median(cost.values()),
        "y_between": _spread([v["y"] for v in vals], list(range(len(x)))),
        "dy_between": _spread([v["dy"] for v in vals], [i for i, xv in enumerate(x) if xv != 0]),
        "ref_y": max(v["reference"]["forward_max_abs"] for v in vals),
        "ref_dy": max(v["reference"]["derivative_max_abs"] for v in vals),
        "d0": {tg: p["by_name"][name]["derivative_at"]["0"] for tg, p in probe.items() if name in p["by_name"]},
        "d0_ref": vals[0]["reference"]["derivative_at_0"],
        "sum1": max((v.get("sum_minus_one_max") or 0.0) for v in vals),
        "frameworks": len(vals),
    }


def _dead_share(r: dict, when: str) -> float:
    units = r["train_stats"][when]["units"]
    return sum(u["dead"] for u in units) / max(1, sum(u["units"] for u in units))


def _norms(r: dict, when: str) -> list[float]:
    return r["train_stats"][when]["gradients"]["kernel_norms"]


def _deep_one(recs: list[dict]) -> dict:
    n_layers = min(len(_norms(r, "init")) for r in recs)
    metric = next((k for k in ("val_accuracy", "val_mse") if k in final(recs[0])), "val_loss")
    init = recs[0]["train_stats"]["init"]
    return {
        "n": len(recs), "targets": sorted({r["target"] for r in recs}, key=target_key),
        "metric": metric, "value": median(final(r).get(metric) for r in recs),
        "dead_init": median(_dead_share(r, "init") for r in recs),
        "dead_final": median(_dead_share(r, "final") for r in recs),
        "g1_init": median(_norms(r, "init")[0] for r in recs), "g1_final": median(_norms(r, "final")[0] for r in recs),
        "glast_init": median(_norms(r, "init")[n_layers - 1] for r in recs),
        "per_layer_init": [median(_norms(r, "init")[i] for r in recs) for i in range(n_layers)],
        "method": init["gradients"]["method"], "dataset": (recs[0].get("dataset") or {}).get("source"),
        "hidden_layers": len(init["units"]),
    }


def deep(f: Facts) -> dict[str, dict]:
    """Per hidden activation: medians over targets and seeds of the deep-MLP ``train_stats``."""
    groups: dict[str, list[dict]] = {}
    for r in f.exp("activations", "deep"):
        if ok(r) and r.get("train_stats"):
            groups.setdefault(r["spec"]["layers"][0]["activation"]["name"], []).append(r)
    return {act: _deep_one(groups[act]) for act in ACTIVATION_ORDER if act in groups}
