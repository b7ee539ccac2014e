"""The spec validator: reads a raw mapping field by field as the table in :mod:`.fields` says.

Every problem is collected and reported at once (:class:`~.errors.SpecError`), each naming the
field path, the received value and what is allowed. Layer fields and shapes come from the
layer modules (:mod:`frameworkbench.layers`).
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import layers as layer_types
from .errors import Problem, SpecError, fmt, missing, out_of_range, unknown, wrong_type
from .fields import REQUIRED, SKLEARN_FEATURES, Field, layer_field
from .fields import (ACTIVATION_PARAMS, DEFAULT_LOSS, DEFAULT_METRICS, FIELDS, FILE_FORMATS, LOSS_OUTPUT_ACTIVATION,
                     MAX_LAYERS, METRICS, OPTIMIZER_DEFAULTS, SKLEARN_DATASETS, TASK_LOSSES, TASK_METRICS,
                     TOKEN_INPUT_TYPES, TOP_FIELDS)
from .synthetic import cross_check as synthetic_cross_check
from .synthetic import synthetic


class _Checker:
    """Collects problems while reading fields of a raw mapping."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, p: Problem) -> None:
        self.problems.append(p)

    def mapping(self, raw: Any, path: str) -> dict | None:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.add(wrong_type(path, raw, "a mapping"))
            return None
        return dict(raw)

    def extra(self, raw: Mapping, allowed: Iterable[str], path: str) -> None:
        allowed = list(allowed)
        for key in raw:
            if key not in allowed:
                name = key if isinstance(key, str) else fmt(key)
                self.add(unknown(f"{path}.{name}" if path else name, "field", key, allowed))

    def _absent(self, p: str, default: Any) -> Any:
        """An absent or null field at ``p``: ``default``, or None and a problem when it has none (``...``)."""
        if default is ...:
            self.add(missing(p))
            return None
        return default

    def integer(self, raw: Mapping, key: str, path: str, default: Any = ..., lo: int = 1,
                hi: int | None = None) -> int | None:
        p, v = f"{path}.{key}" if path else key, raw.get(key)
        if v is None:
            return self._absent(p, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            self.add(wrong_type(p, v, "an integer"))
            return None
        v = int(v)
        if v < lo or (hi is not None and v > hi):
            self.add(out_of_range(p, v, f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"))
            return None
        return v

    def number(self, raw: Mapping, key: str, path: str, default: Any = ..., lo: float | None = None,
               hi: float | None = None, lo_open: bool = False, hi_open: bool = False) -> float | None:
        p, v = f"{path}.{key}" if path else key, raw.get(key)
        if v is None:
            return self._absent(p, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):  # no strings, no bools (the loader reads 1e-3)
            self.add(wrong_type(p, v, "a number"))
            return None
        try:
            v = float(v)
        except OverflowError:  # an integer beyond float range
            v = math.inf if v > 0 else -math.inf
        bad = not math.isfinite(v)
        bad = bad or (lo is not None and (v <= lo if lo_open else v < lo))
        bad = bad or (hi is not None and (v >= hi if hi_open else v > hi))
        if bad:
            lb = "(" if lo_open else "["
            rb = ")" if hi_open else "]"
            rng = f"a finite number in {lb}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}{rb}"
            self.add(out_of_range(p, v, rng))
            return None
        return v

    def choice(self, raw: Mapping, key: str, path: str, allowed: Iterable[str], what: str,
               default: Any = ...) -> str | None:
        p, v = f"{path}.{key}" if path else key, raw.get(key)
        if v is None:
            return self._absent(p, default)
        if not isinstance(v, str) or v not in allowed:
            self.add(unknown(p, what, v, allowed))
            return None
        return v

    def field(self, raw: Mapping, table_path: str, path: str, default: Any = None) -> Any:
        """Read the field ``table_path`` of FIELDS from ``raw`` (at ``path``) by its type, range and default."""
        return self.read(FIELDS[table_path], raw, path, default)

    def group(self, raw: Mapping, group: str, keys: Iterable[str], **defaults: Any) -> dict:
        """Read the FIELDS ``group.key`` of each key from ``raw``."""
        return {k: self.field(raw, f"{group}.{k}", group, default=defaults.get(k)) for k in keys}

    def read(self, f: Field, raw: Mapping, path: str, default: Any = None) -> Any:
        """Read field ``f`` from ``raw`` (at ``path``) by its type, range and default."""
        dflt = f.default if default is None else default
        if f.kind == "integer":
            return self.integer(raw, f.key, path, dflt, lo=int(f.lo), hi=None if f.hi is None else int(f.hi))
        if f.kind == "number":
            return self.number(raw, f.key, path, dflt, lo=f.lo, hi=f.hi, lo_open=f.lo_open, hi_open=f.hi_open)
        if f.kind == "choice":
            return self.choice(raw, f.key, path, f.choices, f.what, dflt)
        if f.kind == "boolean":
            return self.boolean(raw, f.key, path, dflt)
        if f.kind == "string":
            return self.string(raw, f.key, path, dflt, allow_empty=f.default == "")
        if f.kind == "list" and f.lo is not None and not f.choices:
            return self.sizes(raw, f, path, dflt)
        raise TypeError(f"field {table_path} of kind {f.kind} is read by its own function")

    def sizes(self, raw: Mapping, f: Field, path: str, default: Any) -> int | list | None:
        """An integer or a non-empty list of integers in the field's range (window sizes, shapes)."""
        p = f"{path}.{f.key}" if path else f.key
        if raw.get(f.key) is None:
            if default is REQUIRED:
                self.add(missing(p))
            return None if default is REQUIRED else default
        v = raw[f.key]
        items = v if isinstance(v, list) else [v]
        if not items or any(isinstance(n, bool) or not isinstance(n, int) for n in items):
            self.add(wrong_type(p, v, "an integer or a list of integers"))
            return None
        if any(not f.lo <= n <= f.hi for n in items):
            self.add(out_of_range(p, v, f"integers in [{int(f.lo)}, {int(f.hi)}]"))
            return None
        return v

    def boolean(self, raw: Mapping, key: str, path: str, default: bool) -> bool | None:
        p = f"{path}.{key}" if path else key
        v = default if raw.get(key) is None else raw[key]
        if not isinstance(v, bool):
            self.add(wrong_type(p, v, "true or false"))
            return None
        return v

    def string(self, raw: Mapping, key: str, path: str, default: Any = ..., allow_empty: bool = False) -> str | None:
        p, v = f"{path}.{key}" if path else key, raw.get(key)
        if v is None:
            return self._absent(p, default)
        if not isinstance(v, str) or not (v.strip() or allow_empty):
            self.add(wrong_type(p, v, "a string" if allow_empty else "a non-empty string"))
            return None
        return v


def normalise(raw: Mapping[str, Any], source: str | None = None) -> dict:
    """The normalised snapshot of a raw spec (every default explicit), or SpecError with every problem."""
    c = _Checker()
    if not isinstance(raw, Mapping):
        raise SpecError([wrong_type("", raw, "a mapping of spec fields")], source=source)
    c.extra(raw, TOP_FIELDS, "")
    out: dict[str, Any] = {}
    out["name"] = c.field(raw, "name", "", default="unnamed")
    out["description"] = c.field(raw, "description", "")
    task = c.field(raw, "task", "")
    out["task"] = task
    shape = _input_shape(c, raw.get("input_shape"))
    if shape is not None:
        out["input_shape"] = shape
    out["layers"] = _layers(c, raw.get("layers"))
    loss_given = raw.get("loss") is not None
    out["loss"] = _loss(c, raw.get("loss") if loss_given else DEFAULT_LOSS.get(task or ""), task)
    out["optimizer"] = _optimizer(c, raw.get("optimizer", FIELDS["optimizer"].default))
    out["metrics"] = _metrics(c, raw.get("metrics", DEFAULT_METRICS.get(task or "", [])), task)
    out["training"] = _training(c, raw.get("training"))
    out["data"] = _data(c, raw.get("data"), task, out.get("input_shape"))
    out["init"] = c.field(raw, "init", "")
    if not c.problems:
        _shapes(c, out)
    if not c.problems:
        _cross_checks(c, out, loss_given)
    if c.problems:
        raise SpecError(c.problems, source=source)
    return out


def _input_shape(c: _Checker, shape: Any) -> list | None:
    if shape is None:
        c.add(missing("input_shape"))
        return None
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, (list, tuple)) or not 1 <= len(shape) <= MAX_INPUT_RANK:
        c.add(wrong_type("input_shape", shape, f"a list of 1 to {MAX_INPUT_RANK} positive integers: [features], "
                                               "[steps, features] or [height, width, channels]"))
        return None
    f = FIELDS["input_shape"]
    dims = [c.integer({f"input_shape[{i}]": n}, f"input_shape[{i}]", "", lo=int(f.lo), hi=int(f.hi))
            for i, n in enumerate(shape)]
    if None in dims:
        return None
    if math.prod(dims) > MAX_INPUT_SIZE:
        c.add(out_of_range("input_shape", list(dims), f"at most {MAX_INPUT_SIZE} values per sample"))
        return None
    return dims


MAX_INPUT_RANK = 3  # [features], [steps, features], [height, width, channels]
MAX_INPUT_SIZE = 1 << 24  # values per sample


def _shapes(c: _Checker, s: dict) -> None:
    """Shape inference through every layer; a layer whose input does not fit is reported at its index."""
    shape = tuple(s["input_shape"])
    for i, d in enumerate(s["layers"]):
        try:
            shape = layer_types.get(d["type"]).output_shape(layer_types.from_dict(d), shape)
        except layer_types.ShapeError as exc:
            c.add(Problem(f"layers[{i}]", f"{exc} (input shape {list(shape)})"))
            return
    if len(shape) != 1:
        c.add(Problem("layers", f"the model's output has shape {list(shape)} per sample, but losses need one vector "
                                f"per sample; add a flatten or global pooling layer before the output dense layer"))


def _activation(c: _Checker, raw: Any, path: str) -> dict | None:
    if raw is None:
        raw = FIELDS["layers[].activation"].default
    if isinstance(raw, str):
        raw = {"name": raw}
    m = c.mapping(raw, path)
    if m is None:
        return None
    name = c.field(m, "layers[].activation.name", path)
    if name is None:
        return None
    defaults = ACTIVATION_PARAMS.get(name, {})
    c.extra(m, ["name", *defaults], path)
    act: dict[str, Any] = {"name": name}
    for key in defaults:
        act[key] = c.field(m, f"layers[].activation.{key}", path)
    return act


def _layers(c: _Checker, raw: Any) -> list:
    if raw is None:
        c.add(missing("layers"))
        return []
    if not isinstance(raw, list):
        c.add(wrong_type("layers", raw, "a list of layers"))
        return []
    if not raw:
        c.add(Problem("layers", "expected at least one layer, got an empty list"))
        return []
    if len(raw) > MAX_LAYERS:
        c.add(out_of_range("layers", f"{len(raw)} layers", f"at most {MAX_LAYERS} layers"))
        return []
    layers = []
    for i, lay in enumerate(raw):
        m = c.mapping(lay, f"layers[{i}]")
        kind = None if m is None else c.field(m, "layers[].type", f"layers[{i}]")
        if kind is not None:
            d = _layer(c, m, layer_types.get(kind), f"layers[{i}]")
            if d is not None:
                layers.append(d)
    if layers and not any(lay["type"] == "dense" for lay in layers):
        c.add(Problem("layers", "expected at least one dense layer"))
    return layers


def _layer(c: _Checker, m: Mapping, mod: Any, path: str) -> dict | None:
    """One layer of module ``mod``: its own fields (in the typed layer's order) and its activation."""
    keys = [f.name for f in dataclasses.fields(mod.Layer)]
    c.extra(m, ["type", *keys], path)
    if mod.ACTIVATION == "required" and "activation" not in m:
        c.add(missing(f"{path}.activation"))
        return None
    out: dict[str, Any] = {"type": mod.TYPE}
    for key in keys:
        out[key] = (_activation(c, m.get(key, getattr(mod, "DEFAULT_ACTIVATION", None)), f"{path}.{key}")
                    if key == "activation"
                    else c.read(layer_field(mod.TYPE, key), m, path))
    return out


def _named(c: _Checker, raw: Any, group: str) -> tuple[dict, str] | None:
    """``raw`` (a name, or a mapping with ``name``) as its mapping and its valid name; None after a problem."""
    m = c.mapping({"name": raw} if isinstance(raw, str) else raw, group)
    name = None if m is None else c.field(m, f"{group}.name", group)
    return None if name is None else (m, name)


def _loss(c: _Checker, raw: Any, task: str | None) -> dict | None:
    if raw is None:  # no loss and no valid task to take the default from: the task's problem says why
        if task is not None:
            c.add(Problem("loss", f"missing required field; expected one of: {', '.join(LOSSES)}"))
        return None
    named = _named(c, raw, "loss")
    if named is None:
        return None
    m, name = named
    out: dict[str, Any] = {"name": name}
    if name.endswith("crossentropy"):
        c.extra(m, ["name", "epsilon"], "loss")
        out["epsilon"] = c.field(m, "loss.epsilon", "loss")
    else:
        c.extra(m, ["name"], "loss")
    return out


def _optimizer(c: _Checker, raw: Any) -> dict | None:
    named = _named(c, raw, "optimizer")
    if named is None:
        return None
    m, name = named
    defaults = OPTIMIZER_DEFAULTS[name]
    c.extra(m, ["name", *defaults], "optimizer")
    out: dict[str, Any] = {"name": name}
    for key, dflt in defaults.items():
        out[key] = c.field(m, f"optimizer.{key}", "optimizer", default=dflt)
    return out


def _metrics(c: _Checker, raw: Any, task: str | None) -> list:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        c.add(wrong_type("metrics", raw, "a list of metric names"))
        return []
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, str) or m not in METRICS:
            c.add(unknown(f"metrics[{i}]", FIELDS["metrics"].what, m, METRICS))
        elif task and m not in TASK_METRICS[task]:
            c.add(Problem(f"metrics[{i}]", f"metric {fmt(m)} does not fit task {fmt(task)}; expected one of: "
                                           f"{', '.join(TASK_METRICS[task])}"))
        elif m not in out:
            out.append(m)
    return out


def _training(c: _Checker, raw: Any) -> dict:
    m = c.mapping(raw, "training")
    if m is None:
        return {}
    keys = ("epochs", "batch_size", "seed", "precision")
    c.extra(m, keys, "training")
    return c.group(m, "training", keys)


def _data(c: _Checker, raw: Any, task: str | None, input_shape: list | None) -> dict:
    m = c.mapping(raw, "data")
    if m is None:
        return {}
    source = c.field(m, "data.source", "data")
    common = ["source", "validation_split", "standardize", "seed"]
    out: dict[str, Any] = {"source": source}
    if source == "synthetic":
        out.update(synthetic(c, m, task, input_shape, common))
    elif source == "sklearn":
        c.extra(m, [*common, "name", "reshape"], "data")
        name = c.field(m, "data.name", "data")
        out["name"] = name
        reshape = _reshape(c, m, name, input_shape)
        if reshape is not None:  # absent, not null: specs without it keep their hash
            out["reshape"] = reshape
        if name and task and SKLEARN_DATASETS[name] != task:
            c.add(Problem("data.name", f"dataset {fmt(name)} is a {SKLEARN_DATASETS[name]} dataset, "
                                       f"but task is {fmt(task)}"))
    elif source == "file":
        c.extra(m, [*common, "path", "target", "format"], "data")
        out.update(c.group(m, "data", ("path", "target")))
        fmt_default = None
        if isinstance(out["path"], str):
            suffix = Path(out["path"]).suffix.lower().lstrip(".")
            fmt_default = suffix if suffix in FILE_FORMATS else None
        if fmt_default is None and m.get("format") is None and isinstance(out["path"], str):
            c.add(Problem("data.format", f"cannot tell the file format from the name {fmt(out['path'])}; set "
                                         f"data.format to one of: {', '.join(FILE_FORMATS)}"))
            out["format"] = None
        else:
            out["format"] = c.field(m, "data.format", "data", default=fmt_default if fmt_default else ...)
    out.update(c.group(m, "data", ("validation_split", "standardize", "seed")))
    return out


def _reshape(c: _Checker, m: Mapping, name: str | None, input_shape: list | None) -> list | None:
    """``data.reshape`` of a scikit-learn dataset: the features as ``input_shape``, their count unchanged."""
    shape = c.field(m, "data.reshape", "data")
    shape = None if shape is None else ([shape] if isinstance(shape, int) else list(shape))
    n = SKLEARN_FEATURES.get(name or "")
    if shape is not None and n is not None and math.prod(shape) != n:
        c.add(Problem("data.reshape", f"got {shape} ({math.prod(shape)} values), but dataset {fmt(name)} has {n} "
                                      f"features per sample; use a shape with {n} values, e.g. [{n}]"))
    elif input_shape is not None and n is not None and shape != input_shape and (shape or len(input_shape) > 1):
        have = f"data.reshape is {shape}" if shape else f"dataset {fmt(name)} gives vectors of {n} features"
        c.add(Problem("data.reshape" if shape else "input_shape", f"input_shape is {input_shape}, but {have}; set "
                                                                 f"data.reshape and input_shape to the same shape"))
    return shape


def _act(layer: dict) -> str:
    """A normalised layer's activation name (``linear`` for types without one)."""
    return layer.get("activation", {"name": "linear"})["name"]


def _cross_checks(c: _Checker, s: dict, loss_given: bool = True) -> None:
    """Checks that relate several fields (run only when every field is valid on its own)."""
    task, loss = s["task"], s["loss"]["name"]
    needs, out_act = LOSS_OUTPUT_ACTIVATION.get(loss), _act(s["layers"][-1])
    if not loss_given and needs and out_act not in needs:  # the default loss: say it was never written
        fits = [n for n in TASK_LOSSES[task] if out_act in LOSS_OUTPUT_ACTIVATION.get(n, (out_act,))]
        c.add(Problem("loss", f"missing; the default for task {fmt(task)}, {fmt(loss)}, needs output activation "
                              f"{' or '.join(map(repr, needs))}, but the output activation is {fmt(out_act)}; "
                              f"set loss to one of: {', '.join(fits or TASK_LOSSES[task])}"))
        return
    if loss not in TASK_LOSSES[task]:
        c.add(Problem("loss.name", f"loss {fmt(loss)} does not fit task {fmt(task)}; expected one of: "
                                   f"{', '.join(TASK_LOSSES[task])}"))
    layers = s["layers"]
    if layers[0]["type"] == "activation":
        c.add(Problem("layers[0]", "the first layer must not be an activation layer; put the activation on the "
                                   "layer before it"))
    out_act = _act(layers[-1])
    needs = LOSS_OUTPUT_ACTIVATION.get(loss)
    if needs and out_act not in needs:
        c.add(Problem(f"layers[{len(layers) - 1}].activation",
                      f"loss {fmt(loss)} needs output activation {' or '.join(map(repr, needs))}, got {fmt(out_act)}"))
    units = [lay["units"] for lay in layers if lay["type"] == "dense"]
    last = max(i for i, lay in enumerate(layers) if lay["type"] == "dense")
    if task == "binary" and units[-1] != 1:
        c.add(Problem(f"layers[{last}].units", f"a binary task needs 1 output unit, got {units[-1]}"))
    if task == "multiclass" and s["data"].get("source") == "synthetic" and units[-1] != s["data"]["n_classes"]:
        c.add(Problem(f"layers[{last}].units", f"a multiclass task needs one output unit per class "
                                               f"({s['data']['n_classes']}), got {units[-1]}"))
    if task == "multiclass" and units[-1] < 2:
        c.add(Problem(f"layers[{last}].units", f"a multiclass task needs at least 2 output units, got {units[-1]}"))
    for i, lay in enumerate(layers):
        if _act(lay) == "softmax" and i != len(layers) - 1 and not (
                i == last and all(x["type"] == "activation" and _act(x) == "linear"
                                  for x in layers[i + 1:])):
            c.add(Problem(f"layers[{i}].activation", "softmax is only supported on the output layer"))
    data = s["data"]
    if data.get("source") == "synthetic":
        synthetic_cross_check(c, s, units[-1])
    _token_input(c, s)
    n_train = _train_count(data)
    bs = s["training"]["batch_size"]
    if n_train is not None and bs > n_train:
        c.add(out_of_range("training.batch_size", bs, f"at most the training set size ({n_train})"))


def _token_input(c: _Checker, s: dict) -> None:
    """A layer that reads integer token ids (``embedding``) comes first, on integer data within its ``input_dim``;
    token data (``vocab_size``) need such a first layer. Files are checked when loaded (:mod:`frameworkbench.data`)."""
    layers, data = s["layers"], s["data"]
    for i, lay in enumerate(layers[1:], 1):
        if lay["type"] in TOKEN_INPUT_TYPES:
            c.add(Problem(f"layers[{i}]", f"{lay['type']} reads integer token ids, but here it gets the float output "
                                          f"of layers[{i - 1}] ({layers[i - 1]['type']}); make it the first layer"))
    first, vocab = layers[0], data.get("vocab_size")
    if first["type"] not in TOKEN_INPUT_TYPES:
        if vocab is not None:
            c.add(Problem("data.vocab_size", f"token ids need an embedding first layer (e.g. {{type: embedding, "
                                             f"input_dim: {vocab}, output_dim: 16}}), but layers[0] is "
                                             f"{fmt(first['type'])}"))
        return
    floats = {"synthetic": "synthetic data without data.vocab_size are float features",
              "sklearn": f"scikit-learn dataset {fmt(data.get('name'))} holds float features"}.get(data.get("source"))
    if floats and vocab is None:
        c.add(Problem("layers[0]", f"{first['type']} reads integer token ids, but {floats}; use synthetic token ids "
                                   f"(data.sequence_length with data.vocab_size) or a file of integer ids, or start "
                                   f"with a layer that takes floats"))
    elif vocab is not None and first.get("input_dim") is not None and vocab > first["input_dim"]:
        c.add(Problem("layers[0].input_dim", f"got {first['input_dim']}, but data.vocab_size is {vocab}: token ids "
                                             f"go up to {vocab - 1}; set input_dim to at least {vocab}"))


def _train_count(data: dict) -> int | None:
    if data.get("source") != "synthetic":
        return None
    return train_count(data["n_samples"], data["validation_split"])


def train_count(n_samples: int, validation_split: float) -> int:
    """Number of training rows a split leaves (the one formula the data module uses)."""
    return n_samples - int(round(n_samples * validation_split))
