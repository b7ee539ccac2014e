"""The parity report: deviations from the numpy reference, verdicts, defaults that differ, and plots."""
from __future__ import annotations

from pathlib import Path

from ..analysis.parity import TOLERANCES
from ..stats import median
from .markdown import cell, table
from .summary import latest_records, runs_section

DEFAULT_KEYS = ("kernel_initializer", "bias_initializer", "optimizer", "adam_epsilon", "adam_epsilon_form",
                "leaky_relu_slope", "elu_alpha", "crossentropy_epsilon", "crossentropy_form", "bce_at_p0_y1", "tf32",
                "init_kernel_max_abs", "init_bias_max_abs")
DEFAULT_LABELS = {
    "kernel_initializer": "kernel initialiser",
    "bias_initializer": "bias initialiser",
    "optimizer": "optimizer class",
    "adam_epsilon": "Adam ε",
    "adam_epsilon_form": "Adam ε placement",
    "leaky_relu_slope": "LeakyReLU slope",
    "elu_alpha": "ELU α",
    "crossentropy_epsilon": "cross-entropy clipping ε",
    "crossentropy_form": "cross-entropy form",
    "bce_at_p0_y1": "BCE at p=0, y=1 (measured)",
    "tf32": "TF32 matmuls",
    "init_kernel_max_abs": "max |kernel| at init (measured)",
    "init_bias_max_abs": "max |bias| at init (measured)",
}


def split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Parity records of the newest spec version: (aligned, native), newest per (target, seed)."""
    par = [r for r in records if r.get("mode") == "parity"]
    out = []
    for policy in ("aligned", "native"):
        recs = [r for r in par if r.get("policy", "aligned") == policy]
        latest = latest_records(recs)
        out.append([r for rs in latest.values() for r in rs])
    return out[0], out[1]


def _optimizer(record: dict) -> str | None:
    return ((record.get("spec") or {}).get("optimizer") or {}).get("name")


def _fmt_default(value) -> str:
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return cell(value)


def steps_phrase(p: dict) -> str:
    """How many per-step losses one record compared, e.g. "first 15 steps (of 50 asked; the run has 15)"."""
    asked = p.get("steps")
    compared = p.get("steps_compared", len(p.get("step_losses") or []))
    in_run = p.get("steps_in_run")
    if asked is not None and compared < asked:
        return f"first {compared} steps (of {asked} asked; the run has {in_run if in_run is not None else compared})"
    return f"first {compared} steps"


def parity_table(aligned: list[dict]) -> str:
    phrases = list(dict.fromkeys(steps_phrase(r["parity"]) for r in aligned
                                 if r["status"] == "ok" and r.get("parity")))
    per_row = len(phrases) > 1
    rows = []
    for r in aligned:
        p = r.get("parity") or {}
        if r["status"] != "ok":
            rows.append([r["target"], r["seed"], r["status"], *["—"] * 9, r.get("error")])
            continue
        rows.append([r["target"], r["seed"], p.get("verdict"), p.get("dtype") or "float32",
                     p.get("forward_max_abs"), p.get("forward_max_rel"),
                     p.get("grad_max_abs"), p.get("step_loss_max_rel"), p.get("epoch_loss_max_rel"),
                     p.get("left_tolerance_at") or "—", p.get("final_weights_max_abs_vs_reference"),
                     p.get("repeat_identical"), steps_phrase(p) if per_row else ""])
    steps = "per row: see note" if per_row else phrases[0] if phrases else "first K steps"
    return table(["target", "seed", "verdict", "tolerance of", "forward max abs Δ", "forward max rel Δ",
                  "grad max abs Δ", f"loss max rel Δ, {steps}", "epoch loss max rel Δ", "left tolerance at",
                  "final weights max abs Δ", "repeat identical", "note"], rows,
                 ["l", "r", "l", "l", "r", "r", "r", "r", "r", "l", "r", "l", "l"])


def pairwise_table(aligned: list[dict]) -> str:
    seed = min((r["seed"] for r in aligned), default=0)
    recs = [r for r in aligned if r["seed"] == seed and r["status"] == "ok"]
    names = [r["target"] for r in recs]
    rows = [[r["target"], *[(r["parity"].get("final_weights_max_abs_vs") or {}).get(n) for n in names]]
            for r in recs]
    return table(["final weights max abs Δ", *names], rows, ["l", *["r"] * len(names)])


def layer_default_keys(recs: list[dict]) -> tuple[str, ...]:
    """The defaults-audit keys of the layer types in the runs' spec (keys prefixed with a layer type,
    e.g. ``batch_norm_momentum``), in the order the adapters report them."""
    types = {lay["type"] for r in recs for lay in (r.get("spec") or {}).get("layers", [])}
    keys = dict.fromkeys(k for r in recs for k in r["defaults"] if any(k.startswith(f"{t}_") for t in types))
    return tuple(k for k in keys if k not in DEFAULT_KEYS)


def defaults_table(native: list[dict]) -> str:
    seed = min((r["seed"] for r in native), default=0)
    recs = [r for r in native if r["seed"] == seed and r["status"] == "ok" and r.get("defaults")]
    rows = []
    adam = any(_optimizer(r) == "adam" for r in recs)
    for key in DEFAULT_KEYS + layer_default_keys(recs):
        if key.startswith("adam_") and not adam:
            continue
        values = [_fmt_default(r["defaults"].get(key)) for r in recs]
        label = DEFAULT_LABELS.get(key) or key.replace("_", " ")
        rows.append([label, *values, "yes" if len(set(values)) > 1 else "no"])
    return table(["value (native run)", *[r["target"] for r in recs], "differs"], rows,
                 ["l", *["l"] * len(recs), "l"])


def effect_table(aligned: list[dict], native: list[dict]) -> str:
    """Native vs aligned runs of the same spec: final metric and loss-curve differences (medians over seeds)."""
    rows = []
    metric = None
    for target in dict.fromkeys(r["target"] for r in aligned + native):
        a = [r for r in aligned if r["target"] == target and r["status"] == "ok"]
        n = [r for r in native if r["target"] == target and r["status"] == "ok"]
        if not a or not n:
            rows.append([target, "—", "—", "—", "—", "—", "needs both an aligned and a native run"])
            continue
        metric = metric or next((k for k in a[0]["final"] if k.startswith("val_") and k != "val_loss"), "val_loss")
        med = lambda recs, f: median(f(r) for r in recs)  # noqa: E731
        am, nm = med(a, lambda r: r["final"][metric]), med(n, lambda r: r["final"][metric])
        al, nl = med(a, lambda r: r["final"]["loss"]), med(n, lambda r: r["final"]["loss"])
        curve = []
        for ra in a:
            rn = next((x for x in n if x["seed"] == ra["seed"]), None)
            if rn:
                curve.append(max(abs(x - y) / abs(y) for x, y in zip(rn["parity"]["epoch_losses"],
                                                                   ra["parity"]["epoch_losses"])))
        rows.append([target, am, nm, nm - am, al, nl, median(curve)])
    return table(["target", f"aligned {metric}", f"native {metric}", "Δ metric", "aligned final loss",
                  "native final loss", "max epoch-loss rel Δ"], rows, ["l", "r", "r", "r", "r", "r", "r"])


def plot(aligned: list[dict], path: Path) -> Path | None:
    """Per-step loss of every target over the reference, and each target's deviation (log scale)."""
    recs = [r for r in aligned if r["status"] == "ok" and (r.get("parity") or {}).get("reference")]
    if not recs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    seed = min(r["seed"] for r in recs)
    recs = [r for r in recs if r["seed"] == seed]
    ref = recs[0]["parity"]["reference"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    n = min(len(ref["step_losses"]), *(len(r["parity"]["step_losses"]) for r in recs))
    steps = range(1, n + 1)
    ax1.plot(steps, ref["step_losses"][:n], "k--", lw=2.5, label="numpy reference (float64)")
    for r in recs:
        p = r["parity"]
        ax1.plot(steps, p["step_losses"][:n], lw=1, label=r["target"])
        dev = [max(abs(x - y) / abs(y), 1e-12) for x, y in zip(p["step_losses"][:n], ref["step_losses"][:n])]
        ax2.semilogy(steps, dev, lw=1, marker=".", label=r["target"])
    per_epoch = ref.get("steps_per_epoch")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for b in range(per_epoch or n, n, per_epoch or n):  # epoch boundaries
            ax.axvline(b + 0.5, color="lightgrey", lw=0.8)
    same = TOLERANCES[_precisions(recs)[0]]["same"]["loss_rel"]
    ax2.axhline(same, color="grey", ls=":", label=f"'same' tolerance ({same:g})")
    xlabel = "training step" + (" (grey lines: epoch boundaries)" if per_epoch and per_epoch < n else "")
    ax1.set(xlabel=xlabel, ylabel="batch loss", title=f"Loss per step, seed {seed}")
    ax2.set(xlabel=xlabel, ylabel="|loss − reference| / reference",
            title="Deviation from the reference (log scale)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


UPDATE_RULES = {
    "adam": "Adam in Keras' ε-hat form: w -= lr·√(1-β₂ᵗ)/(1-β₁ᵗ)·m/(√v+ε); torch reaches it by setting "
            "ε/√(1-β₂ᵗ) every step",
    "sgd": "SGD in Keras' momentum form: v = μ·v - lr·g, w += v; torch's form gives the same steps at a "
           "constant learning rate",
}


def _update_rule(records: list[dict]) -> str:
    """The update rule of the optimizer(s) in the records' spec, as a parenthesis ("" if unknown)."""
    rules = [UPDATE_RULES[o] for o in dict.fromkeys(_optimizer(r) for r in records) if o in UPDATE_RULES]
    return f" ({'; '.join(rules)})" if rules else ""


def _precisions(records: list[dict]) -> list[str]:
    """The precisions of the records (training.precision; float32 for records that predate it)."""
    return list(dict.fromkeys(r.get("precision") or "float32" for r in records)) or ["float32"]


def render(spec_name: str, records: list[dict], out_dir: Path, command: str | None = None) -> str:
    """Markdown of the parity report for one spec; writes its plot next to it."""
    aligned, native = split(records)
    parts = [f"# Numerical parity: {spec_name}", "",
             "Every target starts from the same weights and trains on the same batch plan; the numpy reference "
             "runs the same steps in float64 with the same update rule" + _update_rule(records) + ".", ""]
    for precision in _precisions(records):
        tol = TOLERANCES[precision]
        parts += [f"Verdicts ({precision} tolerances): `same` when forward |Δ| ≤ {tol['same']['forward_abs']:g}, "
                  f"gradient |Δ| ≤ {tol['same']['grad_abs']:g} and loss relative Δ ≤ {tol['same']['loss_rel']:g}; "
                  f"`close` within {tol['close']['forward_abs']:g} / {tol['close']['grad_abs']:g} / "
                  f"{tol['close']['loss_rel']:g}; otherwise `different`, with the first step that left the `same` "
                  "tolerance.", ""]
    if aligned:
        ok = [r["parity"] for r in aligned if r["status"] == "ok" and r.get("parity")]
        parts += ["## Aligned mode: every target against the reference", ""]
        phrases = list(dict.fromkeys(steps_phrase(p) for p in ok))
        if len(phrases) == 1:
            per_epoch = (ok[0].get("reference") or {}).get("steps_per_epoch")
            split_note = f", {per_epoch} per epoch" if per_epoch else ""
            parts += [f"Per-step losses compared: the {phrases[0]}{split_note}; every epoch's mean loss "
                      "is compared too.", ""]
        parts += [parity_table(aligned), "",
                  "Pairwise, after training (same seed):", "", pairwise_table(aligned), ""]
        png = plot(aligned, out_dir / f"parity-{spec_name}.png")
        if png:
            parts += [f"![loss per step and deviation from the reference]({png.name})", ""]
        seeds = sorted({r["seed"] for r in aligned})
        if len(seeds) > 1:
            differ = []
            for t in dict.fromkeys(r["target"] for r in aligned):
                curves = {tuple(r["parity"]["step_losses"]) for r in aligned if r["target"] == t and r["status"] == "ok"}
                differ.append(f"{t}: {'yes' if len(curves) == len(seeds) else 'NO'}")
            parts += [f"Different seeds ({seeds}) give different loss curves — " + "; ".join(differ), ""]
    else:
        parts += ["No aligned parity runs stored: run `frameworkbench parity SPEC`.", ""]
    parts += ["## What differs by default", ""]
    if native:
        parts += ["Values read from the framework objects in native-mode runs (each framework's own defaults; "
                  "rows marked *measured* are computed on the framework at run time).", "", defaults_table(native), "",
                  "Measured effect of the defaults (native run vs aligned run of the same spec; native runs also "
                  "use each framework's own initialiser, so part of the gap is a different random start):", "",
                  effect_table(aligned, native), ""]
    else:
        parts += ["No native-mode runs stored: run `frameworkbench parity SPEC --policy native` "
                  "(or `--policy both`).", ""]
    return "\n".join(parts + runs_section(aligned + native, command, ("target", "policy", "seed")))


def write(records: list[dict], out_dir: Path, command: str | None = None) -> list[Path]:
    """Write ``parity-<spec>.md`` (and its PNG) for every spec with parity records."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    by_name: dict[str, list[dict]] = {}
    for r in records:
        if r.get("mode") == "parity":
            by_name.setdefault(r["spec_name"], []).append(r)
    for name, recs in sorted(by_name.items()):
        path = out_dir / f"parity-{name}.md"
        path.write_text(render(name, recs, out_dir, command), encoding="utf-8")
        paths.append(path)
    return paths
