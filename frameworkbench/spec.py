"""Model specs: loading, validation and the normalised, fully explicit form.

A spec is validated once, when it is loaded; adapters never validate. Every
problem is collected and reported at once, each naming the field path, the
received value and what is allowed. All user-facing error messages of the
project are built by the helpers in this module.
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

TASKS = ("binary", "multiclass", "regression")
LAYER_TYPES = ("activation", "dense")
ACTIVATIONS = ("elu", "leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh")
# Parameters each activation takes, with the project's defaults (the seed
# document's values where it gives one: leaky ReLU slope 0.01).
ACTIVATION_PARAMS: dict[str, dict[str, float]] = {
    "leaky_relu": {"negative_slope": 0.01},
    "elu": {"alpha": 1.0},
}
LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse", "sparse_categorical_crossentropy")
OPTIMIZERS = ("adam", "sgd")
# Every optimiser parameter is explicit; defaults are Keras' (documented in README).
OPTIMIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "adam": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "sgd": {"learning_rate": 1e-2, "momentum": 0.0},
}
METRICS = ("accuracy", "mae", "mse")
INIT_MODES = ("native", "shared")
DATA_SOURCES = ("file", "sklearn", "synthetic")
SKLEARN_DATASETS = {  # name -> task it fits
    "breast_cancer": "binary",
    "diabetes": "regression",
    "digits": "multiclass",
    "iris": "multiclass",
    "wine": "multiclass",
}
FILE_FORMATS = ("csv", "npz", "parquet")
DEVICES = ("auto", "cpu", "gpu", "tpu")

# Which losses fit which task, and the output activation each loss needs.
TASK_LOSSES = {
    "binary": ("binary_crossentropy", "mse"),
    "multiclass": ("categorical_crossentropy", "sparse_categorical_crossentropy", "mse"),
    "regression": ("mse",),
}
LOSS_OUTPUT_ACTIVATION = {
    "binary_crossentropy": ("sigmoid",),
    "categorical_crossentropy": ("softmax",),
    "sparse_categorical_crossentropy": ("softmax",),
}
TASK_METRICS = {"binary": ("accuracy", "mae", "mse"), "multiclass": ("accuracy", "mae", "mse"),
                "regression": ("mae", "mse")}
DEFAULT_LOSS = {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy",
                "regression": "mse"}
DEFAULT_METRICS = {"binary": ["accuracy"], "multiclass": ["accuracy"], "regression": ["mae"]}

MAX_UNITS = 1 << 16
MAX_LAYERS = 256
MAX_EPOCHS = 100_000
MAX_BATCH = 1 << 20
MAX_SAMPLES = 10_000_000
MAX_FEATURES = 1 << 16
CROSSENTROPY_EPSILON = 1e-7  # probability clipping, Keras' value


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """Invalid user input (spec, data file, CLI value); carries every problem found."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found:"] if n > 1 else []
        lines += [("  " if n > 1 else head) + str(p) for p in self.problems]
        super().__init__("\n".join(lines))


def fmt(value: Any) -> str:
    """Render a received value the way messages show it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        text = json.dumps(value, default=str) if not isinstance(value, (int, float)) else repr(value)
    except (TypeError, ValueError, RecursionError):  # odd keys, ints too long to print, deep nesting
        text = (f"an integer of {value.bit_length()} bits" if isinstance(value, int)
                else f"a {type(value).__name__}")
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(value: Any, allowed: Iterable[str]) -> str | None:
    """The allowed name closest to ``value`` (case-insensitive), or None."""
    if not isinstance(value, str):
        return None
    by_lower = {a.lower(): a for a in allowed if isinstance(a, str)}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def unknown(path: str, what: str, value: Any, allowed: Iterable[str]) -> Problem:
    allowed = sorted(allowed)
    close = suggest(value, allowed)
    hint = f" (did you mean '{close}'?)" if close else ""
    return Problem(path, f"unknown {what} {fmt(value)}{hint}; expected one of: {', '.join(allowed)}")


def wrong_type(path: str, value: Any, expected: str) -> Problem:
    hint = ""
    if isinstance(value, str) and ("integer" in expected or "number" in expected):
        try:
            float(value)
            hint = "; write the number without quotes"
        except ValueError:
            pass
    return Problem(path, f"expected {expected}, got {fmt(value)} ({type(value).__name__}){hint}")


def missing(path: str, what: str = "required field") -> Problem:
    return Problem(path, f"missing {what}")


def out_of_range(path: str, value: Any, allowed: str) -> Problem:
    return Problem(path, f"got {fmt(value)}; expected {allowed}")


def problem(path: str, message: str) -> Problem:
    return Problem(path, message)


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Activation:
    name: str
    params: Mapping[str, float] = field(default_factory=dict)

    def param(self, key: str) -> float:
        return float(self.params[key])


@dataclass(frozen=True)
class Layer:
    type: str
    activation: Activation
    units: int | None = None
    use_bias: bool = True


@dataclass(frozen=True)
class Spec:
    """A validated spec. ``raw`` is the normalised dict with every default explicit."""

    raw: Mapping[str, Any]
    source: str | None = field(default=None, compare=False)  # the spec file, named in every later message

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def task(self) -> str:
        return self.raw["task"]

    @property
    def n_features(self) -> int:
        return int(self.raw["input_shape"][0])

    @property
    def layers(self) -> list[Layer]:
        out = []
        for lay in self.raw["layers"]:
            act = Activation(lay["activation"]["name"],
                             {k: v for k, v in lay["activation"].items() if k != "name"})
            out.append(Layer(lay["type"], act, lay.get("units"), lay.get("use_bias", True)))
        return out

    @property
    def dense_layers(self) -> list[Layer]:
        return [lay for lay in self.layers if lay.type == "dense"]

    @property
    def output_units(self) -> int:
        return int(self.dense_layers[-1].units)

    @property
    def output_activation(self) -> Activation:
        return self.layers[-1].activation

    @property
    def loss(self) -> dict:
        return dict(self.raw["loss"])

    @property
    def optimizer(self) -> dict:
        return dict(self.raw["optimizer"])

    @property
    def metrics(self) -> list[str]:
        return list(self.raw["metrics"])

    @property
    def training(self) -> dict:
        return dict(self.raw["training"])

    @property
    def data(self) -> dict:
        return dict(self.raw["data"])

    @property
    def init(self) -> str:
        return self.raw["init"]

    @property
    def hash(self) -> str:
        """Content hash of everything that affects results (not name/description)."""
        body = {k: v for k, v in self.raw.items() if k not in ("name", "description")}
        blob = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return copy.deepcopy(dict(self.raw))

    def with_overrides(self, *, epochs: int | None = None, batch_size: int | None = None,
                       seed: int | None = None, init: str | None = None) -> "Spec":
        """A new validated spec with training values replaced (CLI overrides)."""
        raw = self.to_dict()
        if epochs is not None:
            raw["training"]["epochs"] = epochs
        if batch_size is not None:
            raw["training"]["batch_size"] = batch_size
        if seed is not None:
            raw["training"]["seed"] = seed
        if init is not None:
            raw["init"] = init
        return validate(raw, source=self.source)


# --------------------------------------------------------------------------- loading
def load_spec(source: "str | os.PathLike | Mapping[str, Any] | Spec") -> Spec:
    """Load and validate a spec from a YAML/JSON path, a dict, or return a Spec as is."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return validate(source)
    path = Path(source)
    label = str(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:  # e.g. an embedded NUL byte, a name too long
        raise SpecError([Problem("", f"cannot use spec path {label!r}: {exc}")]) from None
    if not exists:
        raise SpecError([Problem("", f"spec file not found: {label}")])
    if is_dir:
        raise SpecError([Problem("", f"spec path is a directory, expected a YAML or JSON file: {label}")])
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SpecError([Problem("", f"cannot read spec file {label}: {exc.strerror or exc}")]) from None
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            raw = read_yaml(text)
    except Exception as exc:  # parse errors of either format
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif hasattr(exc, "lineno"):
            where = f" at line {exc.lineno}, column {exc.colno}"
        reason = getattr(exc, "problem", None) or getattr(exc, "msg", None) or str(exc).splitlines()[0]
        if "constructor for the tag" in str(reason):
            reason = f"{reason} (specs are read with a safe loader: plain YAML values only)"
        raise SpecError([Problem("", f"malformed {'JSON' if path.suffix.lower() == '.json' else 'YAML'}"
                                     f"{where}: {reason}")], source=label) from None
    if raw is None:
        raise SpecError([Problem("", "the spec file is empty; expected a mapping of spec fields "
                                     f"({', '.join(TOP_FIELDS)})")], source=label)
    if not isinstance(raw, Mapping):
        raise SpecError([wrong_type("", raw, "a mapping of spec fields")], source=label)
    if "name" not in raw:
        raw = {**raw, "name": path.stem}
    return validate(raw, source=label)


def read_yaml(text: str) -> Any:
    """YAML through a safe loader (plain values only) that also reads ``1e-3`` as a number (YAML 1.2)."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(  # PyYAML's YAML 1.1 float needs a dot: "1e-3" would be a string
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


@contextlib.contextmanager
def sourced(spec: "Spec"):
    """Name the spec file in SpecErrors raised inside (data-stage errors know only the data file)."""
    try:
        yield
    except SpecError as exc:
        if not spec.source or exc.source == spec.source:
            raise
        source = spec.source if exc.source is None else f"{spec.source}, data file {exc.source}"
        raise SpecError(exc.problems, source=source) from None


# --------------------------------------------------------------------------- the field table
REQUIRED = ...  # a Field default: the field must be given


@dataclass(frozen=True)
class Field:
    """One spec field: the validator reads its type, default and allowed values; the README renders it."""

    path: str  # "training.epochs"; list items as "layers[]"
    kind: str  # integer | number | boolean | string | choice | list | mapping
    doc: str
    default: Any = REQUIRED
    choices: tuple = ()
    what: str = ""  # the noun in "unknown <what> 'x'"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    default_doc: str | None = None  # when the default depends on other fields
    when: str = ""  # the variant it applies to, e.g. "source: synthetic"

    @property
    def key(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def allowed(self) -> str:
        if self.choices:
            return ", ".join(f"`{c}`" for c in sorted(self.choices))
        if self.lo is not None or self.hi is not None:
            lo = "-inf" if self.lo is None else _num(self.lo)
            hi = "inf" if self.hi is None else _num(self.hi)
            return f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"
        return ""

    def default_text(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        if self.default is REQUIRED:
            return "required"
        if isinstance(self.default, bool):
            return f"`{str(self.default).lower()}`"
        if isinstance(self.default, float):
            return f"`{_num(self.default)}`"
        return f"`{self.default}`" if self.default != "" else "empty"


def _num(v: float) -> str:
    """1e-07 -> 1e-7, 1.0 -> 1."""
    return f"{v:g}".replace("e-0", "e-").replace("e+0", "e+") if isinstance(v, float) else str(v)


def _fields() -> tuple[Field, ...]:
    F = Field
    syn, skl, fil = "source: synthetic", "source: sklearn", "source: file"
    return (
        F("name", "string", "run name; records and reports use it", default_doc="the file name without suffix"),
        F("description", "string", "free text, not part of the spec hash", default=""),
        F("task", "choice", "what the model predicts; decides the default loss and metrics", choices=TASKS,
          what="task"),
        F("input_shape", "list", "`[number of features]` (an integer N is read as `[N]`)",
          lo=1, hi=MAX_FEATURES),
        F("layers", "list", f"the layers in order: at least one, the first dense, at most {MAX_LAYERS}"),
        F("layers[].type", "choice", "layer type", choices=LAYER_TYPES, what="layer type"),
        F("layers[].units", "integer", "output units", lo=1, hi=MAX_UNITS, when="type: dense"),
        F("layers[].use_bias", "boolean", "add a bias vector", default=True, when="type: dense"),
        F("layers[].activation", "mapping", "a name or `{name: ..., <parameter>: ...}`", default="linear",
          default_doc="`linear` (dense); required (activation)"),
        F("layers[].activation.name", "choice", "activation function", choices=ACTIVATIONS, what="activation"),
        F("layers[].activation.negative_slope", "number", "slope for x < 0 (the seed document's value)",
          default=ACTIVATION_PARAMS["leaky_relu"]["negative_slope"], lo=0.0, hi=1.0, when="name: leaky_relu"),
        F("layers[].activation.alpha", "number", "scale for x < 0", default=ACTIVATION_PARAMS["elu"]["alpha"],
          lo=0.0, lo_open=True, hi=100.0, when="name: elu"),
        F("loss", "mapping", "a name or `{name: ..., epsilon: ...}`; must fit the task and the output activation "
          "(cross-entropies need `sigmoid`/`softmax` outputs)",
          default_doc=", ".join(f"{t}: `{DEFAULT_LOSS[t]}`" for t in TASKS)),
        F("loss.name", "choice", "loss function", choices=LOSSES, what="loss"),
        F("loss.epsilon", "number", "probability clipping (Keras' value, applied in every framework)",
          default=CROSSENTROPY_EPSILON, lo=0.0, hi=0.1, when="name: *_crossentropy"),
        F("optimizer", "mapping", "a name or `{name: ..., <parameter>: ...}`", default="adam"),
        F("optimizer.name", "choice", "optimizer", default="adam", choices=OPTIMIZERS, what="optimizer"),
        F("optimizer.learning_rate", "number", "step size", lo=0.0, lo_open=True, hi=10.0,
          default_doc=", ".join(f"{o}: `{_num(OPTIMIZER_DEFAULTS[o]['learning_rate'])}`" for o in OPTIMIZERS)),
        F("optimizer.beta_1", "number", "first-moment decay", default=OPTIMIZER_DEFAULTS["adam"]["beta_1"],
          lo=0.0, hi=1.0, hi_open=True, when="name: adam"),
        F("optimizer.beta_2", "number", "second-moment decay", default=OPTIMIZER_DEFAULTS["adam"]["beta_2"],
          lo=0.0, hi=1.0, hi_open=True, when="name: adam"),
        F("optimizer.epsilon", "number", "added to the root of the second moment (Keras' ε-hat form)",
          default=OPTIMIZER_DEFAULTS["adam"]["epsilon"], lo=0.0, lo_open=True, hi=1.0, when="name: adam"),
        F("optimizer.momentum", "number", "momentum", default=OPTIMIZER_DEFAULTS["sgd"]["momentum"],
          lo=0.0, hi=1.0, hi_open=True, when="name: sgd"),
        F("metrics", "list", "metric names (a single name is read as a list); must fit the task", choices=METRICS,
          what="metric", default_doc=", ".join(f"{t}: `{DEFAULT_METRICS[t]}`".replace("'", "") for t in TASKS)),
        F("training.epochs", "integer", "passes over the training set", default=5, lo=1, hi=MAX_EPOCHS),
        F("training.batch_size", "integer", "rows per step; at most the training set size", default=32, lo=1,
          hi=MAX_BATCH),
        F("training.seed", "integer", "batch order and shared initial weights; `--seeds N` uses seed … seed+N−1",
          default=0, lo=0, hi=2**31 - 1),
        F("data.source", "choice", "where the data comes from", default="synthetic", choices=DATA_SOURCES,
          what="data source"),
        F("data.validation_split", "number", "share of rows held out for validation (seeded split)", default=0.2,
          lo=0.0, hi=0.9, hi_open=True),
        F("data.standardize", "boolean", "scale each feature to mean 0, std 1 with training-set statistics",
          default=True),
        F("data.seed", "integer", "seed of the split (and of the synthetic data)", default=0, lo=0, hi=2**31 - 1),
        F("data.n_samples", "integer", "rows generated", default=4096, lo=4, hi=MAX_SAMPLES, when=syn),
        F("data.n_features", "integer", "features generated; must equal `input_shape[0]`", lo=1, hi=MAX_FEATURES,
          default_doc="`input_shape[0]`", when=syn),
        F("data.n_classes", "integer", "classes generated; must equal the output units", default=3, lo=2,
          hi=1000, when=syn + ", task: multiclass"),
        F("data.noise", "number", "scale of the noise in the generated labels", default=0.1, lo=0.0, hi=10.0, when=syn),
        F("data.name", "choice", "a dataset shipped inside scikit-learn (no download); must fit the task ("
          + ", ".join(f"{n}: {t}" for n, t in SKLEARN_DATASETS.items()) + ")", choices=tuple(SKLEARN_DATASETS),
          what="scikit-learn dataset", when=skl),
        F("data.path", "string", "data file, relative to the working directory", when=fil),
        F("data.target", "string", "label column (CSV, Parquet) or array (NPZ); every other one is a feature",
          when=fil),
        F("data.format", "choice", "file format (NPZ is read with `allow_pickle=False`)", choices=FILE_FORMATS,
          what="file format", default_doc="from the file suffix", when=fil),
        F("init", "choice", "`shared`: the same numpy-drawn glorot-uniform weights in every framework; `native`: "
          "each framework's initialiser", default="shared", choices=INIT_MODES, what="init mode"),
    )


FIELDS: dict[str, Field] = {f.path: f for f in _fields()}


def fields_markdown() -> str:
    """The spec reference table (README) rendered from FIELDS."""
    rows = ["| field | type | default | allowed | applies when | meaning |", "|---|---|---|---|---|---|"]
    for f in FIELDS.values():
        cells = [f"`{f.path}`", f.kind, f.default_text(), f.allowed() or "—", f.when or "—", f.doc]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- validation
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

    def integer(self, raw: Mapping, key: str, path: str, default: Any = ..., lo: int = 1,
                hi: int | None = None) -> int | None:
        p = f"{path}.{key}" if path else key
        if key not in raw or raw[key] is None:
            if default is ...:
                self.add(missing(p))
                return None
            return default
        v = raw[key]
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
        p = f"{path}.{key}" if path else key
        if key not in raw or raw[key] is None:
            if default is ...:
                self.add(missing(p))
                return None
            return default
        v = raw[key]
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
        p = f"{path}.{key}" if path else key
        if key not in raw or raw[key] is None:
            if default is ...:
                self.add(missing(p))
                return None
            return default
        v = raw[key]
        if not isinstance(v, str) or v not in allowed:
            self.add(unknown(p, what, v, allowed))
            return None
        return v

    def field(self, raw: Mapping, table_path: str, path: str, default: Any = None) -> Any:
        """Read the field ``table_path`` of FIELDS from ``raw`` (at ``path``) by its type, range and default."""
        f = FIELDS[table_path]
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
        raise TypeError(f"field {table_path} of kind {f.kind} is read by its own function")

    def boolean(self, raw: Mapping, key: str, path: str, default: bool) -> bool | None:
        p = f"{path}.{key}" if path else key
        v = default if raw.get(key) is None else raw[key]
        if not isinstance(v, bool):
            self.add(wrong_type(p, v, "true or false"))
            return None
        return v

    def string(self, raw: Mapping, key: str, path: str, default: Any = ..., allow_empty: bool = False) -> str | None:
        p = f"{path}.{key}" if path else key
        if key not in raw or raw[key] is None:
            if default is ...:
                self.add(missing(p))
                return None
            return default
        v = raw[key]
        if not isinstance(v, str) or not (v.strip() or allow_empty):
            self.add(wrong_type(p, v, "a string" if allow_empty else "a non-empty string"))
            return None
        return v


TOP_FIELDS = ("name", "description", "task", "input_shape", "layers", "loss", "optimizer", "metrics",
              "training", "data", "init")


def validate(raw: Mapping[str, Any], source: str | None = None) -> Spec:
    """Validate a raw spec mapping; return the normalised Spec or raise SpecError with every problem."""
    c = _Checker()
    if not isinstance(raw, Mapping):
        raise SpecError([wrong_type("", raw, "a mapping of spec fields")], source=source)
    c.extra(raw, TOP_FIELDS, "")
    out: dict[str, Any] = {}
    out["name"] = c.field(raw, "name", "", default="unnamed")
    out["description"] = c.field(raw, "description", "")
    task = c.field(raw, "task", "")
    out["task"] = task

    shape = raw.get("input_shape")
    if shape is None:
        c.add(missing("input_shape"))
    else:
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = [shape]
        if not isinstance(shape, (list, tuple)) or len(shape) != 1:
            c.add(wrong_type("input_shape", shape, "a list with one positive integer (the feature count)"))
        else:
            f = FIELDS["input_shape"]
            n = c.integer({"input_shape[0]": shape[0]}, "input_shape[0]", "", lo=int(f.lo), hi=int(f.hi))
            if n is not None:
                out["input_shape"] = [n]

    out["layers"] = _layers(c, raw.get("layers"))
    loss_given = raw.get("loss") is not None
    out["loss"] = _loss(c, raw.get("loss") if loss_given else DEFAULT_LOSS.get(task or ""), task)
    out["optimizer"] = _optimizer(c, raw.get("optimizer", FIELDS["optimizer"].default))
    out["metrics"] = _metrics(c, raw.get("metrics", DEFAULT_METRICS.get(task or "", [])), task)
    out["training"] = _training(c, raw.get("training"))
    out["data"] = _data(c, raw.get("data"), task, out.get("input_shape"))
    out["init"] = c.field(raw, "init", "")

    if not c.problems:
        _cross_checks(c, out, loss_given)
    if c.problems:
        raise SpecError(c.problems, source=source)
    return Spec(out, source=source)


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
        c.add(problem("layers", "expected at least one layer, got an empty list"))
        return []
    if len(raw) > MAX_LAYERS:
        c.add(out_of_range("layers", f"{len(raw)} layers", f"at most {MAX_LAYERS} layers"))
        return []
    layers = []
    for i, lay in enumerate(raw):
        path = f"layers[{i}]"
        m = c.mapping(lay, path)
        if m is None:
            continue
        kind = c.field(m, "layers[].type", path)
        if kind == "dense":
            c.extra(m, ["type", "units", "activation", "use_bias"], path)
            units = c.field(m, "layers[].units", path)
            act = _activation(c, m.get("activation"), f"{path}.activation")
            bias = c.field(m, "layers[].use_bias", path)
            layers.append({"type": "dense", "units": units, "activation": act, "use_bias": bias})
        elif kind == "activation":
            c.extra(m, ["type", "activation"], path)
            if "activation" not in m:
                c.add(missing(f"{path}.activation"))
                continue
            act = _activation(c, m.get("activation"), f"{path}.activation")
            layers.append({"type": "activation", "activation": act})
    if layers and not any(lay["type"] == "dense" for lay in layers):
        c.add(problem("layers", "expected at least one dense layer"))
    return layers


def _loss(c: _Checker, raw: Any, task: str | None) -> dict | None:
    if raw is None:  # no loss and no valid task to take the default from: the task's problem says why
        if task is not None:
            c.add(problem("loss", f"missing required field; expected one of: {', '.join(LOSSES)}"))
        return None
    if isinstance(raw, str):
        raw = {"name": raw}
    m = c.mapping(raw, "loss")
    if m is None:
        return None
    name = c.field(m, "loss.name", "loss")
    if name is None:
        return None
    out: dict[str, Any] = {"name": name}
    if name.endswith("crossentropy"):
        c.extra(m, ["name", "epsilon"], "loss")
        out["epsilon"] = c.field(m, "loss.epsilon", "loss")
    else:
        c.extra(m, ["name"], "loss")
    return out


def _optimizer(c: _Checker, raw: Any) -> dict | None:
    if isinstance(raw, str):
        raw = {"name": raw}
    m = c.mapping(raw, "optimizer")
    if m is None:
        return None
    name = c.field(m, "optimizer.name", "optimizer")
    if name is None:
        return None
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
            c.add(problem(f"metrics[{i}]", f"metric {fmt(m)} does not fit task {fmt(task)}; expected one of: "
                                           f"{', '.join(TASK_METRICS[task])}"))
        elif m not in out:
            out.append(m)
    return out


def _group(c: _Checker, raw: Mapping, group: str, keys: Iterable[str], **defaults: Any) -> dict:
    """Read the FIELDS ``group.key`` of each key from ``raw``."""
    return {k: c.field(raw, f"{group}.{k}", group, default=defaults.get(k)) for k in keys}


def _training(c: _Checker, raw: Any) -> dict:
    m = c.mapping(raw, "training")
    if m is None:
        return {}
    keys = ("epochs", "batch_size", "seed")
    c.extra(m, keys, "training")
    return _group(c, m, "training", keys)


def _data(c: _Checker, raw: Any, task: str | None, input_shape: list | None) -> dict:
    m = c.mapping(raw, "data")
    if m is None:
        return {}
    source = c.field(m, "data.source", "data")
    common = ["source", "validation_split", "standardize", "seed"]
    out: dict[str, Any] = {"source": source}
    if source == "synthetic":
        c.extra(m, [*common, "n_samples", "n_features", "n_classes", "noise"], "data")
        n_feat = input_shape[0] if input_shape else 10
        out.update(_group(c, m, "data", ("n_samples", "n_features"), n_features=n_feat))
        if task == "multiclass":
            out["n_classes"] = c.field(m, "data.n_classes", "data")
        elif "n_classes" in m and task is not None:
            c.add(problem("data.n_classes", f"only used with task 'multiclass', not {fmt(task)}"))
        out["noise"] = c.field(m, "data.noise", "data")
    elif source == "sklearn":
        c.extra(m, [*common, "name"], "data")
        name = c.field(m, "data.name", "data")
        out["name"] = name
        if name and task and SKLEARN_DATASETS[name] != task:
            c.add(problem("data.name", f"dataset {fmt(name)} is a {SKLEARN_DATASETS[name]} dataset, "
                                       f"but task is {fmt(task)}"))
    elif source == "file":
        c.extra(m, [*common, "path", "target", "format"], "data")
        out.update(_group(c, m, "data", ("path", "target")))
        fmt_default = None
        if isinstance(out["path"], str):
            suffix = Path(out["path"]).suffix.lower().lstrip(".")
            fmt_default = suffix if suffix in FILE_FORMATS else None
        if fmt_default is None and m.get("format") is None and isinstance(out["path"], str):
            c.add(problem("data.format", f"cannot tell the file format from the name {fmt(out['path'])}; set "
                                         f"data.format to one of: {', '.join(FILE_FORMATS)}"))
            out["format"] = None
        else:
            out["format"] = c.field(m, "data.format", "data", default=fmt_default if fmt_default else ...)
    out.update(_group(c, m, "data", ("validation_split", "standardize", "seed")))
    return out


def _cross_checks(c: _Checker, s: dict, loss_given: bool = True) -> None:
    """Checks that relate several fields (run only when every field is valid on its own)."""
    task, loss = s["task"], s["loss"]["name"]
    needs, out_act = LOSS_OUTPUT_ACTIVATION.get(loss), s["layers"][-1]["activation"]["name"]
    if not loss_given and needs and out_act not in needs:  # the default loss: say it was never written
        fits = [n for n in TASK_LOSSES[task] if out_act in LOSS_OUTPUT_ACTIVATION.get(n, (out_act,))]
        c.add(problem("loss", f"missing; the default for task {fmt(task)}, {fmt(loss)}, needs output activation "
                              f"{' or '.join(map(repr, needs))}, but the output activation is {fmt(out_act)}; "
                              f"set loss to one of: {', '.join(fits or TASK_LOSSES[task])}"))
        return
    if loss not in TASK_LOSSES[task]:
        c.add(problem("loss.name", f"loss {fmt(loss)} does not fit task {fmt(task)}; expected one of: "
                                   f"{', '.join(TASK_LOSSES[task])}"))
    layers = s["layers"]
    if layers[0]["type"] != "dense":
        c.add(problem("layers[0]", "the first layer must be a dense layer"))
    out_act = layers[-1]["activation"]["name"]
    needs = LOSS_OUTPUT_ACTIVATION.get(loss)
    if needs and out_act not in needs:
        c.add(problem(f"layers[{len(layers) - 1}].activation",
                      f"loss {fmt(loss)} needs output activation {' or '.join(map(repr, needs))}, got {fmt(out_act)}"))
    units = [lay["units"] for lay in layers if lay["type"] == "dense"]
    last = max(i for i, lay in enumerate(layers) if lay["type"] == "dense")
    if task == "binary" and units[-1] != 1:
        c.add(problem(f"layers[{last}].units", f"a binary task needs 1 output unit, got {units[-1]}"))
    if task == "multiclass" and s["data"].get("source") == "synthetic" and units[-1] != s["data"]["n_classes"]:
        c.add(problem(f"layers[{last}].units", f"a multiclass task needs one output unit per class "
                                               f"({s['data']['n_classes']}), got {units[-1]}"))
    if task == "multiclass" and units[-1] < 2:
        c.add(problem(f"layers[{last}].units", f"a multiclass task needs at least 2 output units, got {units[-1]}"))
    for i, lay in enumerate(layers):
        if lay["activation"]["name"] == "softmax" and i != len(layers) - 1 and not (
                i == last and all(x["type"] == "activation" and x["activation"]["name"] == "linear"
                                  for x in layers[i + 1:])):
            c.add(problem(f"layers[{i}].activation", "softmax is only supported on the output layer"))
    data = s["data"]
    if data.get("source") == "synthetic" and data["n_features"] != s["input_shape"][0]:
        c.add(problem("data.n_features", f"got {data['n_features']}, but input_shape is {s['input_shape']}"))
    n_train = _train_count(data)
    bs = s["training"]["batch_size"]
    if n_train is not None and bs > n_train:
        c.add(out_of_range("training.batch_size", bs, f"at most the training set size ({n_train})"))


def _train_count(data: dict) -> int | None:
    if data.get("source") != "synthetic":
        return None
    return train_count(data["n_samples"], data["validation_split"])


def train_count(n_samples: int, validation_split: float) -> int:
    """Number of training rows a split leaves (the one formula the data module uses)."""
    return n_samples - int(round(n_samples * validation_split))
