"""PNG plots for the per-spec report (matplotlib, Agg backend, imported only when drawing):
loss curves and step times per target, medians over a comparison group's ok runs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..stats import median


def available() -> bool:
    """Whether matplotlib can be imported (plots are skipped, and the report says so, when not)."""
    return importlib.util.find_spec("matplotlib") is not None


def loss_curves(records: list[dict]) -> dict[str, dict[str, list[float | None]]]:
    """Per target: ``loss`` and ``val_loss`` per epoch, each the median over the ok runs."""
    per: dict[str, list[list[dict]]] = {}
    for r in records:
        if r["status"] == "ok" and r.get("history"):
            per.setdefault(r["target"], []).append(r["history"])
    out = {}
    for target, histories in per.items():
        n = max(len(h) for h in histories)
        curves = {}
        for key in ("loss", "val_loss"):
            curves[key] = [median([h[i].get(key) for h in histories if i < len(h)]) for i in range(n)]
        out[target] = curves
    return out


def step_times(records: list[dict]) -> dict[str, tuple[float, float]]:
    """Per target: (median step time, its IQR) in seconds, medians over the ok runs."""
    per: dict[str, list[dict]] = {}
    for r in records:
        t = r.get("timings") or {}
        if r["status"] == "ok" and t.get("median_step_s") is not None:
            per.setdefault(r["target"], []).append(t)
    return {target: (median([t["median_step_s"] for t in ts]), median([t.get("step_iqr_s") for t in ts]) or 0.0)
            for target, ts in per.items()}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def write(records: list[dict], out_dir: Path, stem: str) -> list[tuple[str, Path]]:
    """Draw ``<stem>_loss.png`` and ``<stem>_step_time.png`` in ``out_dir`` from one comparison group's
    records; return (title, path) for each file written (none without ok runs)."""
    curves, steps = loss_curves(records), step_times(records)
    files: list[tuple[str, Path]] = []
    if not curves and not steps:
        return files
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    if curves:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
        for ax, key, title in zip(axes, ("loss", "val_loss"), ("train loss", "validation loss")):
            for target, c in curves.items():
                pts = [(i + 1, v) for i, v in enumerate(c[key]) if v is not None]
                if pts:
                    ax.plot(*zip(*pts), marker="o", markersize=3, label=target)
            ax.set(title=f"{title} (median over runs)", xlabel="epoch", ylabel="loss")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        files.append(("loss per epoch, median over runs", _save(plt, fig, out_dir / f"{stem}_loss.png")))
    if steps:
        names = list(steps)
        med = [steps[n][0] * 1e3 for n in names]
        half_iqr = [steps[n][1] * 1e3 / 2 for n in names]
        fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(names) + 2), 3.6))
        ax.bar(range(len(names)), med, yerr=half_iqr, capsize=4, color="#1f77b4", alpha=0.8)
        ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        ax.set(title="median step time (whiskers: IQR width)", ylabel="ms per step")
        ax.grid(axis="y", alpha=0.3)
        files.append(("median step time per target, whiskers IQR",
                      _save(plt, fig, out_dir / f"{stem}_step_time.png")))
    return files
