"""The parity report: deviations from the numpy reference, verdicts, defaults that differ, and plots."""
from __future__ import annotations

import statistics
from pathlib import Path

from ..parity import TOLERANCES
from .markdown import cell, table
from .summary import latest_records, runs_section

DEFAULT_KEYS = ("kernel_initializer", "bias_initializer", "optimizer", "adam_epsilon", "adam_epsilon_form",
                "leaky_relu_slope", "elu_alpha", "crossentropy_epsilon", "bce_at_p0_y1", "tf32",
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


def _fmt_default(value) -> str:
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return cell(value)


def parity_table(aligned: list[dict]) -> str:
    rows = []
    for r in aligned:
        p = r.get("parity") or {}
        if r["status"] != "ok":
            rows.append([r["target"], r["seed"], r["status"], *["—"] * 8, r.get("error")])
            continue
        rows.append([r["target"], r["seed"], p.get("verdict"), p.get("forward_max_abs"), p.get("forward_max_rel"),
                     p.get("grad_max_abs"), p.get("step_loss_max_rel"), p.get("epoch_loss_max_rel"),
                     p.get("left_tolerance_at") or "—", p.get("final_weights_max_abs_vs_reference"),
                     p.get("repeat_identical"), ""])
    k = next((r["parity"]["steps"] for r in aligned if r.get("parity")), "K")
    return table(["target", "seed", "verdict", "forward max abs Δ", "forward max rel Δ", "grad max abs Δ",
                  f"loss max rel Δ (first {k} steps)", "epoch loss max rel Δ", "left tolerance at",
                  "final weights max abs Δ", "repeat identical", "note"], rows,
                 ["l", "r", "l", "r", "r", "r", "r", "r", "l", "r", "l", "l"])


def pairwise_table(aligned: list[dict]) -> str:
    seed = min((r["seed"] for r in aligned), default=0)
    recs = [r for r in aligned if r["seed"] == seed and r["status"] == "ok"]
    names = [r["target"] for r in recs]
    rows = [[r["target"], *[(r["parity"].get("final_weights_max_abs_vs") or {}).get(n) for n in names]]
            for r in recs]
    return table(["final weights max abs Δ", *names], rows, ["l", *["r"] * len(names)])


def defaults_table(native: list[dict]) -> str:
    seed = min((r["seed"] for r in native), default=0)
    recs = [r for r in native if r["seed"] == seed and r["status"] == "ok" and r.get("defaults")]
    rows = []
    for key in DEFAULT_KEYS:
        values = [_fmt_default(r["defaults"].get(key)) for r in recs]
        rows.append([DEFAULT_LABELS[key], *values, "yes" if len(set(values)) > 1 else "no"])
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
        med = lambda recs, f: statistics.median(f(r) for r in recs)  # noqa: E731
        am, nm = med(a, lambda r: r["final"][metric]), med(n, lambda r: r["final"][metric])
        al, nl = med(a, lambda r: r["final"]["loss"]), med(n, lambda r: r["final"]["loss"])
        curve = []
        for ra in a:
            rn = next((x for x in n if x["seed"] == ra["seed"]), None)
            if rn:
                curve.append(max(abs(x - y) / abs(y) for x, y in zip(rn["parity"]["epoch_losses"],
                                                                   ra["parity"]["epoch_losses"])))
        rows.append([target, am, nm, nm - am, al, nl, statistics.median(curve) if curve else None])
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

    seed = min(r["seed"] for r in recs)
    recs = [r for r in recs if r["seed"] == seed]
    ref = recs[0]["parity"]["reference"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    steps = range(1, len(ref["step_losses"]) + 1)
    ax1.plot(steps, ref["step_losses"], "k--", lw=2.5, label="numpy reference (float64)")
    for r in recs:
        p = r["parity"]
        ax1.plot(steps, p["step_losses"], lw=1, label=r["target"])
        dev = [max(abs(x - y) / abs(y), 1e-12) for x, y in zip(p["step_losses"], ref["step_losses"])]
        ax2.semilogy(steps, dev, lw=1, marker=".", label=r["target"])
    same = TOLERANCES["float32"]["same"]["loss_rel"]
    ax2.axhline(same, color="grey", ls=":", label=f"'same' tolerance ({same:g})")
    ax1.set(xlabel="training step", ylabel="batch loss", title=f"Loss per step, seed {seed}")
    ax2.set(xlabel="training step", ylabel="|loss − reference| / reference",
            title="Deviation from the reference (log scale)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def render(spec_name: str, records: list[dict], out_dir: Path, command: str | None = None) -> str:
    """Markdown of the parity report for one spec; writes its plot next to it."""
    aligned, native = split(records)
    tol = TOLERANCES["float32"]
    parts = [f"# Numerical parity: {spec_name}", "",
             "Every target starts from the same weights and trains on the same batch plan; the numpy reference "
             "runs the same steps in float64 with the same update rule (Adam in Keras' ε-hat form: "
             "w -= lr·√(1-β₂ᵗ)/(1-β₁ᵗ)·m/(√v+ε); torch reaches it by setting ε/√(1-β₂ᵗ) every step).", "",
             f"Verdicts (float32): `same` when forward |Δ| ≤ {tol['same']['forward_abs']:g}, gradient |Δ| ≤ "
             f"{tol['same']['grad_abs']:g} and loss relative Δ ≤ {tol['same']['loss_rel']:g}; `close` within "
             f"{tol['close']['forward_abs']:g} / {tol['close']['grad_abs']:g} / {tol['close']['loss_rel']:g}; "
             "otherwise `different`, with the first step that left the `same` tolerance.", ""]
    if aligned:
        parts += ["## Aligned mode: every target against the reference", "", parity_table(aligned), "",
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
        parts += ["No native-mode runs stored: run `frameworkbench parity SPEC --mode native` (or `--mode both`).", ""]
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
