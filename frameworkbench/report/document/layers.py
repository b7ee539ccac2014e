"""Table 4, "Activations by layer": the document's recommendation per layer against the grid's rankings,
then the whole grid per task and a plot of the output pairs."""
from __future__ import annotations

from ...stats import median
from .. import plots
from ..markdown import table
from . import grid as G
from . import verdicts
from .claims import value
from .doc import Doc
from .fmt import fnum

WHERE = ("hidden", *G.TASKS)


def _header(d: Doc) -> list[str]:
    t = d.t
    return [t("col_where"), f"{t('doc_says')}: {t('col_which')}", t("measured"), t("margin"), t("agreement")]


def _row(d: Doc, where: str, measured: str, margin: str, flag: str) -> list[str]:
    return [d.t(f"where_{where}"), d.claim("layers", where), measured, margin, d.flag(flag)]


def _hidden_row(d: Doc, grid: list[dict]) -> list[str]:
    t = d.t
    ranked = G.hidden_rank(grid)
    if not ranked:
        return _row(d, "hidden", d.missing("layers", "grid"), "—", "unknown")
    measured = "; ".join(f"{i}. {d.act(h)} ({t('mean_rank', rank=f'{r:.2f}', n=n)})"
                         for i, (h, r, n) in enumerate(ranked, 1))
    margin = f"{ranked[1][1] - ranked[0][1]:.2f} {t('rank')}" if len(ranked) > 1 else "—"
    return _row(d, "hidden", measured, margin, verdicts.hidden_layers([h for h, _, _ in ranked],
                                                                      value("layers", "hidden")))


def _output_row(d: Doc, grid: list[dict], task: str) -> list[str]:
    t = d.t
    cells = G.output_cells(grid, task)
    ranked = G.rank_pairs(cells)
    if not ranked:
        return _row(d, task, d.missing("layers", "grid"), "—", "unknown")
    metric = G.METRIC_OF[task][0]
    name = t(f"metric_{metric.removeprefix('val_')}")
    measured = "; ".join(f"{i}. {d.pair(k)} ({t('rank')} {r:.2f}, {name} {fnum(v, 4)})"
                         for i, (k, r, v, _) in enumerate(ranked, 1))
    margins = []
    for dataset, win, runner, rv, diff in G.margins(cells, ranked[0][0]):
        gap = f"{100 * diff:+.1f} {t('pp')}" if metric == "val_accuracy" else f"{diff:+.3g} MSE"
        margins.append(f"{d.dataset(dataset)}: {fnum(win, 4)} {t('vs')} {d.pair(runner)} {fnum(rv, 4)} ({gap})")
    flag = verdicts.output_layer([(k, r) for k, r, _, _ in ranked], value("layers", task))
    return _row(d, task, measured, "<br>".join(margins) or "—", flag)


def _task_table(d: Doc, cells: list[dict], task: str, targets: list[str]) -> list[str]:
    """Every cell of one task: validation metric, median over seeds (runs), per target."""
    t = d.t
    metric = G.METRIC_OF[task][0].removeprefix("val_")
    lookup = {(c["dataset"], c["hidden"], c["output"], c["loss"], c["target"]): c for c in cells}
    keys = sorted({(c["dataset"], c["hidden"], c["output"], c["loss"]) for c in cells},
                  key=lambda k: (k[0], k[1] != "relu", k[1], k[2], k[3]))
    rows = []
    for k in keys:
        vals = []
        for tg in targets:
            c = lookup.get((*k, tg))
            if c is None:
                vals.append("—")
            elif c["median"] is None:
                vals.append(t("failed", error=c["failed"][0] if c["failed"] else "?"))
            else:
                vals.append(f"{fnum(c['median'], 4)} ({len(c['values'])})")
        rows.append([d.dataset(k[0]), d.act(k[1]), d.pair((k[2], k[3])), *vals])
    return [f"**{t('task')}: {t('task_' + task)}** — {t('grid_table', metric=t('metric_' + metric))}", "",
            table([t("dataset"), t("hidden"), t("output_loss"), *(f"`{x}`" for x in targets)], rows,
                  ["l", "l", "l"] + ["r"] * len(targets)), ""]


def _panels(d: Doc, grid: list[dict]) -> dict[str, tuple[str, dict[str, float]]]:
    """Plot panels, row by row: per task and dataset, the median metric of each output pair (ReLU hidden)."""
    by_task = G.datasets_by_task(grid)
    panels = {}
    for row in range(max((len(v) for v in by_task.values()), default=0)):
        for task in (task for task in G.TASKS if row < len(by_task[task])):
            dataset = by_task[task][row]
            vals: dict[str, list[float]] = {}
            for c in G.output_cells(grid, task):
                if c["dataset"] == dataset and c["median"] is not None:
                    vals.setdefault(d.pair(G.pair(c)), []).append(c["median"])
            if vals:
                panels[f"{d.t('task_' + task)} / {d.dataset(dataset)}"] = (G.METRIC_OF[task][0],
                                                                           {k: median(v) for k, v in vals.items()})
    return panels


def _architecture(d: Doc) -> str:
    arch = G.architecture(d.f)
    return d.t("architecture", **arch) if arch else "—"


def layers(d: Doc) -> list[str]:
    t = d.t
    grid = G.cells(d.f)
    if not grid:
        return [table(_header(d), [_row(d, w, d.missing("layers", "grid"), "—", "unknown") for w in WHERE]), ""]
    rows = [_hidden_row(d, grid), *(_output_row(d, grid, task) for task in G.TASKS)]
    out = [table(_header(d), rows), ""]
    targets = sorted({c["target"] for c in grid}, key=G.target_key)
    for task in G.TASKS:
        cells = [c for c in grid if c["task"] == task]
        if cells:
            out += _task_table(d, cells, task, targets)
    panels = _panels(d, grid)
    if panels:
        out += [d.plot("layers_outputs", lambda p: plots.grid_bars(p, panels, lang=d.lang), t("grid_plot")), ""]
    return out + d.notes([t.note("lay_grid", arch=_architecture(d), targets=", ".join(f"`{x}`" for x in targets)),
                          t.note("lay_rank"), t.note("lay_flags")])
