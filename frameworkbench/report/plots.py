"""PNG plots for the rebuilt document (matplotlib, Agg backend), drawn from figures the report
already extracted from stored records. Every function writes one file and returns its path; its
titles, axes and legends are in ``lang`` (labels in :data:`frameworkbench.report.i18n.PLOT`)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .i18n import plot_text as _t

STYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    _plt().close(fig)
    return path


def activation(path: Path, title: str, x: Sequence[float], curves: Mapping[str, tuple], reference: tuple,
               lang: str = "en") -> Path:
    """Top: f and f' of one activation, one line per framework (they overlap) over the numpy reference
    (thin black). Bottom: each framework's absolute difference to the reference (log scale; 0 shown at 1e-12)."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
    xs = np.asarray(x)
    ry, rdy = (np.asarray(v, dtype=float) for v in reference)
    for j, (label, (y, dy)) in enumerate(curves.items()):
        style = dict(color=COLORS[j % len(COLORS)], linestyle=STYLES[j % len(STYLES)], linewidth=1.8, alpha=0.8,
                     label=label)
        axes[0, 0].plot(xs, y, **style)
        axes[0, 1].plot(xs, dy, **style)
        axes[1, 0].plot(xs, np.maximum(np.abs(np.asarray(y) - ry), 1e-12), **style)
        axes[1, 1].plot(xs, np.maximum(np.abs(np.asarray(dy) - rdy), 1e-12), **style)
    axes[0, 0].plot(xs, ry, color="black", linewidth=0.8, linestyle=":", label=_t("numpy_reference", lang))
    axes[0, 1].plot(xs, rdy, color="black", linewidth=0.8, linestyle=":", label=_t("numpy_reference", lang))
    axes[0, 0].set_title(_t("f_of_x", lang, title=title), fontsize=10)
    axes[0, 1].set_title(_t("f_autodiff", lang, title=title), fontsize=10)
    axes[1, 0].set_title(_t("diff_f", lang))
    axes[1, 1].set_title(_t("diff_df", lang))
    for ax in axes[1]:
        ax.set_yscale("log")
        ax.set_ylim(5e-13, 10)
        ax.set_xlabel("x")
    for ax in axes.flat:
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.grid(alpha=0.3)
    axes[0, 1].legend(fontsize=7, loc="best")
    return _save(fig, path)


def loss_curves(path: Path, curves: Mapping[str, tuple], lang: str = "en") -> Path:
    """``curves[target] = (epochs, train loss, validation loss)``."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for j, (label, (ep, loss, val)) in enumerate(curves.items()):
        style = dict(color=COLORS[j % len(COLORS)], linestyle=STYLES[j % len(STYLES)], marker="o", markersize=3,
                     label=label)
        axes[0].plot(ep, loss, **style)
        axes[1].plot(ep, val, **style)
    axes[0].set_title(_t("train_loss", lang))
    axes[1].set_title(_t("val_loss", lang))
    for ax in axes:
        ax.set_xlabel(_t("epoch", lang))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    return _save(fig, path)


def step_bars(path: Path, items: Sequence[tuple[str, float, float]], lang: str = "en") -> Path:
    """``items = [(target, median step s, IQR s)]``: bars in ms, error bar of total length IQR."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    labels = [i[0] for i in items]
    med = np.array([i[1] for i in items]) * 1e3
    iqr = np.array([i[2] for i in items]) * 1e3
    ax.bar(range(len(items)), med, yerr=iqr / 2, capsize=4, color=[COLORS[k % len(COLORS)] for k in range(len(items))])
    for k, (m, q) in enumerate(zip(med, iqr)):
        ax.annotate(f"{m:.3g}", (k, m + q / 2), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(range(len(items)), labels, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel(_t("step_ms_iqr", lang))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def eager_bars(path: Path, items: Sequence[tuple[str, float | None, float | None]], lang: str = "en") -> Path:
    """``items = [(target, eager step s, compiled step s)]`` on a log scale."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    idx = np.arange(len(items))
    eager = [i[1] * 1e3 if i[1] else np.nan for i in items]
    comp = [i[2] * 1e3 if i[2] else np.nan for i in items]
    ax.bar(idx - 0.2, eager, width=0.4, label=_t("eager", lang), color=COLORS[3])
    ax.bar(idx + 0.2, comp, width=0.4, label=_t("compiled", lang), color=COLORS[0])
    ax.set_yscale("log")
    ax.set_xticks(idx, [i[0] for i in items], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel(_t("step_ms_log", lang))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def gradient_norms(path: Path, norms: Mapping[str, Sequence[float]], lang: str = "en") -> Path:
    """``norms[activation] = [kernel gradient norm of layer 1, 2, ...]`` (log scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for j, (label, vals) in enumerate(norms.items()):
        v = np.maximum(np.asarray(vals, dtype=float), 1e-12)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", color=COLORS[j % len(COLORS)],
                linestyle=STYLES[j % len(STYLES)], label=label)
    ax.set_yscale("log")
    ax.set_xlabel(_t("dense_layer", lang))
    ax.set_ylabel(_t("grad_at_init", lang))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def dead_units(path: Path, shares: Mapping[str, tuple[float, float]], lang: str = "en") -> Path:
    """``shares[activation] = (share at init, share after training)`` of hidden units negative on every row."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    idx = np.arange(len(shares))
    for off, j, label, color in ((-0.2, 0, _t("at_init", lang), COLORS[7]), (0.2, 1, _t("after_training", lang),
                                                                             COLORS[3])):
        vals = [100 * s[j] for s in shares.values()]
        ax.bar(idx + off, vals, width=0.4, label=label, color=color)
        for k, v in enumerate(vals):
            ax.annotate(f"{v:.1f} %", (k + off, v), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
    ax.set_xticks(idx, list(shares), fontsize=9)
    ax.set_ylabel(_t("units_negative", lang))
    ax.set_title(_t("dead_title", lang), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def grid_bars(path: Path, panels: Mapping[str, tuple[str, Mapping[str, float]]], columns: int = 3,
              lang: str = "en") -> Path:
    """``panels[title] = (metric, {pair label: value})`` with metric ``val_accuracy`` or ``val_mse``: one bar
    chart each, ``columns`` per row. Every axis starts at 0 (accuracy on its whole 0-1 scale), so bar
    heights compare honestly; the values are written on the bars."""
    plt = _plt()
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for ax, (title, (metric, values)) in zip(axes.flat, panels.items()):
        labels = list(values)
        vals = [values[k] for k in labels]
        ax.bar(range(len(labels)), vals, color=[COLORS[k % len(COLORS)] for k in range(len(labels))])
        for k, v in enumerate(vals):
            ax.annotate(f"{v:.3g}", (k, v), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
        if "accuracy" in metric:
            ax.set_ylim(0.0, 1.1)  # room for the values above bars near 1
            ax.set_yticks(np.linspace(0, 1, 6))
        else:
            ax.set_ylim(bottom=0.0)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(_t(metric, lang) if metric in ("val_accuracy", "val_mse") else metric, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    return _save(fig, path)
