"""The ``source: synthetic`` part of the validator: scikit-learn's make_classification /
make_regression parameters, or (``sequence_length``) the sequence generators' of
:mod:`frameworkbench.sequences`, their defaults resolved and checked against each other."""
from __future__ import annotations

import math
from typing import Any, Mapping

from .errors import Problem, fmt, out_of_range

SYNTHETIC_CLASSIFICATION = ("n_redundant", "n_clusters_per_class", "class_sep", "flip_y")


def synthetic(c: Any, m: Mapping, task: str | None, input_shape: list | None, common: list) -> dict:
    """``source: synthetic``: scikit-learn's make_classification / make_regression parameters, defaults resolved
    (``c``: the validator's problem collector, :class:`.validate._Checker`)."""
    if m.get("sequence_length") is not None:
        return _sequences(c, m, task, input_shape, common)
    c.extra(m, [*common, "n_samples", "n_features", "n_classes", "n_informative", *SYNTHETIC_CLASSIFICATION,
                "noise", "sequence_length", "vocab_size"], "data")
    if m.get("vocab_size") is not None and c.field(m, "data.vocab_size", "data") is not None:
        c.add(Problem("data.vocab_size", "token ids need data.sequence_length (tokens per sample; input_shape "
                                         "is [sequence_length])"))
    if input_shape is not None and len(input_shape) > 1:
        c.add(Problem("input_shape", f"got {input_shape}, but synthetic data without data.sequence_length are "
                                     f"vectors [n_features]; for sequences set data.sequence_length with "
                                     f"data.n_features (float sequences, input_shape [T, F]) or data.vocab_size "
                                     f"(token ids, input_shape [T])"))
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


SEQUENCE_KINDS = {"n_features": "float sequences", "vocab_size": "token ids"}  # the field that picks the generator


def _sequences(c: Any, m: Mapping, task: str | None, input_shape: list | None, common: list) -> dict:
    """``sequence_length`` with ``n_features`` (float sequences [T, F]) or ``vocab_size`` (token ids [T])."""
    not_used = [k for k in ("n_informative", *SYNTHETIC_CLASSIFICATION) if k != "flip_y" and k in m]
    for key in not_used:
        c.add(Problem(f"data.{key}", "not used with synthetic sequences (data.sequence_length); they take: "
                                     "n_features or vocab_size, n_classes (multiclass), flip_y (binary, "
                                     "multiclass) or noise (regression)"))
    c.extra({k: v for k, v in m.items() if k not in not_used},
            [*common, "n_samples", "sequence_length", *SEQUENCE_KINDS, "n_classes", "flip_y", "noise"], "data")
    out = c.group(m, "data", ("n_samples", "sequence_length"))
    given = [k for k in SEQUENCE_KINDS if m.get(k) is not None]
    if len(given) != 1:
        c.add(Problem("data.sequence_length", f"{'got both n_features and vocab_size; ' if given else ''}set "
                                              f"exactly one of data.n_features (float sequences, input_shape "
                                              f"[T, F]) or data.vocab_size (token ids, input_shape [T])"))
    for key in given:
        out[key] = c.field(m, f"data.{key}", "data")
    if task == "multiclass":
        out["n_classes"] = c.field(m, "data.n_classes", "data")
    elif "n_classes" in m and task is not None:
        c.add(Problem("data.n_classes", f"only used with task 'multiclass', not {fmt(task)}"))
    own, other = ("flip_y", "noise") if task != "regression" else ("noise", "flip_y")
    if other in m and task is not None:
        c.add(Problem(f"data.{other}", f"not used with task {fmt(task)}; synthetic {task} sequences take: {own}"))
    if task is not None:
        out[own] = c.field(m, f"data.{own}", "data")
    t, kind = out["sequence_length"], given[0] if len(given) == 1 else None
    if t is None or kind is None or out[kind] is None:
        return out
    if kind == "vocab_size":
        k = out.get("n_classes", 2)
        if task == "regression":
            c.add(Problem("data.vocab_size", "token sequences are generated for binary and multiclass tasks (the "
                                             "label is a pair of tokens); for regression use data.n_features "
                                             "(float sequences)"))
        elif k is not None and out["vocab_size"] < 2 * k + 1:
            c.add(out_of_range("data.vocab_size", out["vocab_size"],
                               f"at least {2 * k + 1} for {k} classes: {k} 'a' marker ids, {k} 'b' marker ids and "
                               f"at least one filler id"))
        if t < 2:
            c.add(out_of_range("data.sequence_length", t, "at least 2 for token ids (each sequence holds two "
                                                          "marker tokens)"))
    want = [t, out[kind]] if kind == "n_features" else [t]
    if input_shape is not None and input_shape != want:
        what = f"n_features {out[kind]}" if kind == "n_features" else f"vocab_size {out[kind]}"
        c.add(Problem("input_shape", f"got {input_shape}, but synthetic {SEQUENCE_KINDS[kind]} of sequence_length "
                                     f"{t} ({what}) have shape {want}; set input_shape: {want}"))
    return out


def cross_check(c: Any, s: Mapping, out_units: int) -> None:
    """Checks of synthetic data against the model (run once every field is valid on its own)."""
    d = s["data"]
    if "sequence_length" not in d and d["n_features"] != s["input_shape"][0]:
        c.add(Problem("data.n_features", f"got {d['n_features']}, but input_shape is {s['input_shape']}"))
    if "sequence_length" in d and s["task"] == "regression" and out_units != 1:
        c.add(Problem("layers", f"synthetic sequences have one regression target, but the output layer has "
                                f"{out_units} units; use 1 output unit"))
