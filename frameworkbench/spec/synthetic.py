"""The ``source: synthetic`` part of the validator: scikit-learn's make_classification /
make_regression parameters, their defaults resolved and checked against each other."""
from __future__ import annotations

import math
from typing import Any, Mapping

from .errors import Problem, fmt, out_of_range

SYNTHETIC_CLASSIFICATION = ("n_redundant", "n_clusters_per_class", "class_sep", "flip_y")


def synthetic(c: Any, m: Mapping, task: str | None, input_shape: list | None, common: list) -> dict:
    """``source: synthetic``: scikit-learn's make_classification / make_regression parameters, defaults resolved
    (``c``: the validator's problem collector, :class:`.validate._Checker`)."""
    c.extra(m, [*common, "n_samples", "n_features", "n_classes", "n_informative", *SYNTHETIC_CLASSIFICATION,
                "noise"], "data")
    out = c.group(m, "data", ("n_samples", "n_features"), n_features=input_shape[0] if input_shape else 10)
    if task == "multiclass":
        out["n_classes"] = c.field(m, "data.n_classes", "data")
    elif "n_classes" in m and task is not None:
        c.add(Problem("data.n_classes", f"only used with task 'multiclass', not {fmt(task)}"))
    own, other = ((SYNTHETIC_CLASSIFICATION, ("noise",)) if task != "regression"
                  else (("noise",), SYNTHETIC_CLASSIFICATION))
    for key in other:
        if key in m and task is not None:
            c.add(Problem(f"data.{key}", f"not used with task {fmt(task)}; synthetic {task} data take: "
                                         f"{', '.join(('n_informative', *own))}"))
    f, k = out["n_features"], out.get("n_classes", 2)
    if f is None or k is None or task is None:
        return out
    classify = task != "regression"
    inf = c.field(m, "data.n_informative", "data",
                  default=min(f, max(2, math.ceil(math.log2(2 * k)), math.ceil(f / 16))) if classify else min(f, 10))
    out["n_informative"] = inf
    if not classify:
        out["noise"] = c.field(m, "data.noise", "data")
        return out
    if inf is not None:
        out.update(c.group(m, "data", SYNTHETIC_CLASSIFICATION, n_redundant=max(0, min(2, f - inf)),
                          n_clusters_per_class=2 if 2 * k <= 2 ** min(inf, 64) else 1))
    if inf is not None and inf > f:
        c.add(out_of_range("data.n_informative", inf, f"at most n_features ({f})"))
    elif inf is not None and out["n_redundant"] is not None and inf + out["n_redundant"] > f:
        c.add(out_of_range("data.n_redundant", out["n_redundant"],
                           f"at most n_features - n_informative ({f} - {inf} = {f - inf})"))
    elif inf is not None and out["n_clusters_per_class"] and k * out["n_clusters_per_class"] > 2 ** min(inf, 64):
        c.add(Problem("data.n_informative", f"got {inf}; {k} classes x {out['n_clusters_per_class']} clusters "
                                            f"need at least {math.ceil(math.log2(k * out['n_clusters_per_class']))} "
                                            f"informative features (classes x clusters <= 2^n_informative)"))
    return out
