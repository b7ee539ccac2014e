"""Facts of ``study:layers``: the output × loss × hidden activation grid and its rankings."""
from __future__ import annotations

import statistics
from typing import Any, Callable

from ...stats import median
from ..i18n import activation_name
from .facts import Facts, error_of, final, finite, ok, target_key

TASKS = ("binary", "multiclass", "regression")
METRIC_OF = {"binary": ("val_accuracy", True), "multiclass": ("val_accuracy", True), "regression": ("val_mse", False)}
LOSS_SHORT = {"binary_crossentropy": "BCE", "categorical_crossentropy": "CE", "sparse_categorical_crossentropy": "CE",
              "mse": "MSE"}
# The matched output × loss of each task (None: any cross-entropy).
MATCHED = {"binary": ("sigmoid", "binary_crossentropy"), "multiclass": ("softmax", None), "regression": ("linear", "mse")}


def _cell_key(r: dict) -> tuple:
    s = r["spec"]
    data = s["data"]
    dataset = data["name"] if data["source"] == "sklearn" else data["source"]
    return (s["task"], dataset, s["layers"][0]["activation"]["name"], s["layers"][-1]["activation"]["name"],
            s["loss"]["name"], r["target"])


def cells(f: Facts) -> list[dict]:
    """One cell per (task, dataset, hidden, output, loss, target): the metric values over seeds and their median."""
    found: dict[tuple, dict] = {}
    for group in f.study("layers"):
        for r in f.groups[group]:
            key = _cell_key(r)
            c = found.setdefault(key, dict(zip(("task", "dataset", "hidden", "output", "loss", "target"), key),
                                           values=[], runs=[], failed=[]))
            c["runs"].append(r["run_id"])
            v = final(r).get(METRIC_OF[key[0]][0])
            if ok(r) and finite(v):
                c["values"].append(v)
            else:
                c["failed"].append(error_of(r))
    out = []
    for key in sorted(found, key=lambda k: (TASKS.index(k[0]), k[1], k[2], k[3], k[4], target_key(k[5]))):
        c = found[key]
        c["median"] = median(c["values"])
        out.append(c)
    return out


def pair(c: dict) -> tuple[str, str]:
    """A cell's output activation and loss."""
    return c["output"], c["loss"]


def pair_label(p: tuple[str, str], lang: str = "en") -> str:
    """An output × loss pair as the document writes it: ``Sigmoid + BCE``."""
    return f"{activation_name(p[0], lang)} + {LOSS_SHORT[p[1]]}"


def rank(cs: list[dict], key: Callable[[dict], Any]) -> list[tuple[Any, float, float | None, int]]:
    """Mean rank of each key over the (dataset, target) contexts (ties share the mean rank), best first:
    [(key, mean rank, median metric over contexts, contexts)]."""
    if not cs:
        return []
    higher = METRIC_OF[cs[0]["task"]][1]
    contexts: dict[tuple, list[dict]] = {}
    for c in cs:
        if c["median"] is not None:
            contexts.setdefault((c["dataset"], c["target"]), []).append(c)
    ranks: dict[Any, list[float]] = {}
    values: dict[Any, list[float]] = {}
    for ctx in sorted(contexts):
        group = contexts[ctx]
        if len(group) < 2:  # nothing to rank against
            continue
        for c in group:
            better = sum(1 for o in group if (o["median"] > c["median"] if higher else o["median"] < c["median"]))
            same = sum(1 for o in group if o["median"] == c["median"])
            ranks.setdefault(key(c), []).append(better + (same + 1) / 2)
            values.setdefault(key(c), []).append(c["median"])
    out = [(k, statistics.mean(v), median(values[k]), len(v)) for k, v in ranks.items()]
    return sorted(out, key=lambda r: (r[1], str(r[0])))


def rank_pairs(cs: list[dict]) -> list[tuple]:
    return rank(cs, pair)


def matched_pair(task: str, ranked_pairs: list[tuple[str, str]]) -> tuple[str, str]:
    """The task's matched output × loss pair (the first pair the study lists with this output)."""
    want = MATCHED[task]
    for p in ranked_pairs:
        if p[0] == want[0] and (want[1] is None and p[1].endswith("crossentropy") or p[1] == want[1]):
            return p
    return ranked_pairs[0]


def hidden_rank(grid: list[dict]) -> list[tuple[str, float, int]]:
    """Hidden activations ranked with each task's matched output, all tasks pooled:
    [(activation, mean rank, contexts)], best first."""
    ranks: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for task in TASKS:
        task_cells = [c for c in grid if c["task"] == task]
        matched = rank_pairs([c for c in task_cells if c["hidden"] == "relu"])
        if not matched:
            continue
        best_pair = matched_pair(task, [m[0] for m in matched])
        for k, r, _, n in rank([c for c in task_cells if pair(c) == best_pair], lambda c: c["hidden"]):
            ranks.setdefault(k, []).append(r * n)
            counts[k] = counts.get(k, 0) + n
    return sorted(((k, sum(v) / counts[k], counts[k]) for k, v in ranks.items()), key=lambda x: (x[1], x[0]))


def output_cells(grid: list[dict], task: str) -> list[dict]:
    """The cells that rank output pairs: ReLU hidden layers."""
    return [c for c in grid if c["task"] == task and c["hidden"] == "relu"]


def margins(cs: list[dict], best: tuple[str, str]) -> list[tuple[str, float, tuple[str, str], float, float]]:
    """Per dataset: (dataset, the best pair's median, the best pair with another output, its median,
    the difference in the better direction)."""
    higher = METRIC_OF[cs[0]["task"]][1]
    out = []
    for dataset in sorted({c["dataset"] for c in cs}):
        dc = [c for c in cs if c["dataset"] == dataset and c["median"] is not None]
        win = median(c["median"] for c in dc if pair(c) == best)
        others: dict[tuple, list[float]] = {}
        for c in dc:
            if c["output"] != best[0]:
                others.setdefault(pair(c), []).append(c["median"])
        if win is None or not others:
            continue
        pick = max if higher else min
        runner = pick(others, key=lambda p: (median(others[p]), pair_label(p)))
        rv = median(others[runner])
        out.append((dataset, win, runner, rv, (win - rv) if higher else (rv - win)))
    return out


def layer_winner(grid: list[dict], task: str) -> tuple[str, float] | None:
    """(output activation of the best output×loss pair of a task, its median metric)."""
    ranked = rank_pairs(output_cells(grid, task))
    return (ranked[0][0][0], ranked[0][2]) if ranked else None


def architecture(f: Facts) -> dict | None:
    """The grid's model and training: hidden widths, optimizer, learning rate, epochs, batch size."""
    recs = next((f.groups[k] for k in f.study("layers")), [])
    if not recs:
        return None
    s = recs[0]["spec"]
    return {"widths": [lay["units"] for lay in s["layers"][:-1] if lay["type"] == "dense"],
            "opt": s["optimizer"]["name"], "lr": s["optimizer"]["learning_rate"],
            "epochs": s["training"]["epochs"], "bs": s["training"]["batch_size"]}


def datasets_by_task(grid: list[dict]) -> dict[str, list[str]]:
    """Per task, its datasets (sklearn ones first, synthetic last)."""
    return {task: sorted({c["dataset"] for c in grid if c["task"] == task}, key=lambda x: (x == "synthetic", x))
            for task in TASKS}
