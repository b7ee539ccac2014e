"""Constraints as data: the vocabularies and the field table that drives validation, the README and bad inputs.

Each :class:`Field` states a spec field's type, default and allowed values; the validator reads
it, :func:`fields_markdown` renders it, :func:`invalid_values` derives values it must reject
(scikit-learn's ``generate_invalid_param_val``). Layer fields come from the layer modules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..activations import ACTIVATION_PARAMS, ACTIVATIONS
from ..devices import DEVICES  # noqa: F401  (re-exported: what --device accepts)
from ..layers import LAYERS
from ..layers.dense import MAX_UNITS  # noqa: F401  (re-exported)

TASKS = ("binary", "multiclass", "regression")
LAYER_TYPES = tuple(LAYERS)
# layer types that read integer token ids (their module declares INTEGER_INPUT): as the first layer they make
# the model's input int32
TOKEN_INPUT_TYPES = tuple(t for t, m in LAYERS.items() if getattr(m, "INTEGER_INPUT", False))
LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse", "sparse_categorical_crossentropy")
OPTIMIZERS = ("adam", "sgd")
# Every optimiser parameter is explicit; defaults are Keras' (documented in README).
OPTIMIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "adam": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "sgd": {"learning_rate": 1e-2, "momentum": 0.0},
}
METRICS = ("accuracy", "mae", "mse")
INIT_MODES = ("native", "shared")
# precision -> (compute dtype, variable dtype); float32 and tf32 differ only in the float32 matmul mode
PRECISIONS: dict[str, tuple[str, str]] = {
    "float32": ("float32", "float32"),  # exact float32 matmuls: TF32 off, JAX "highest"
    "tf32": ("float32", "float32"),  # float32 values, TF32 matmuls allowed on GPUs that have them
    "mixed_bfloat16": ("bfloat16", "float32"),  # float32 variables, bfloat16 compute
    "mixed_float16": ("float16", "float32"),  # float32 variables, float16 compute, loss scaling
    "bfloat16": ("bfloat16", "bfloat16"),  # everything in bfloat16
}
DATA_SOURCES = ("file", "sklearn", "synthetic")
SKLEARN_FEATURES = {"breast_cancer": 30, "diabetes": 10, "digits": 64, "iris": 4, "wine": 13}
SKLEARN_DATASETS = {  # name -> task it fits
    "breast_cancer": "binary",
    "diabetes": "regression",
    "digits": "multiclass",
    "iris": "multiclass",
    "wine": "multiclass",
}
FILE_FORMATS = ("csv", "npz", "parquet")

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

MAX_LAYERS = 256
MAX_EPOCHS = 100_000
MAX_BATCH = 1 << 20
MAX_SAMPLES = 10_000_000
MAX_FEATURES = 1 << 16
MAX_VOCABULARY = 1 << 24  # synthetic token ids
CROSSENTROPY_EPSILON = 1e-7  # probability clipping, Keras' value
TOP_FIELDS = ("name", "description", "task", "input_shape", "layers", "loss", "optimizer", "metrics",
              "training", "data", "init")

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


def layer_fields() -> tuple[Field, ...]:
    """``layers[].<key>`` of every layer module's FIELDS; a key several types declare alike is listed once."""
    merged: dict[str, Field] = {}
    for type_name, mod in LAYERS.items():
        for key, kw in mod.FIELDS.items():
            f = Field(f"layers[].{key}", when=f"type: {type_name}", **kw)
            old = merged.get(f.path)
            if old is None:
                merged[f.path] = f
            elif {**old.__dict__, "when": ""} == {**f.__dict__, "when": ""}:
                merged[f.path] = Field(**{**old.__dict__, "when": f"{old.when}, {type_name}"})
            elif _same_but_default(old, f):  # e.g. strides: 1 for convolutions, pool_size for pools
                merged[f.path] = Field(**{**old.__dict__, "when": f"{old.when}, {type_name}",
                                          "default_doc": _default_doc(old, f, type_name)})
            else:
                raise TypeError(f"layer types {old.when[6:]} and {type_name} declare {f.path} differently")
    return tuple(merged.values())


def _same_but_default(a: Field, b: Field) -> bool:
    """Two declarations of one key that differ only in their default (each type's validator reads its own)."""
    skip = ("when", "default", "default_doc")
    return {k: v for k, v in a.__dict__.items() if k not in skip} == {k: v for k, v in b.__dict__.items()
                                                                      if k not in skip}


def _default_doc(old: Field, new: Field, type_name: str) -> str:
    """The merged row's default: ``text (types); text (types)``, one part per distinct default."""
    parts = [p[:-1].rsplit(" (", 1) for p in old.default_doc.split("; ")] if old.default_doc and "(" in \
        old.default_doc and old.default_doc.endswith(")") else [[old.default_text(), old.when[6:]]]
    for part in parts:
        if part[0] == new.default_text():
            part[1] += f", {type_name}"
            break
    else:
        parts.append([new.default_text(), type_name])
    return "; ".join(f"{text} ({types_})" for text, types_ in parts)


def layer_field(type_name: str, key: str) -> Field:
    """Layer type ``type_name``'s own declaration of field ``key`` (its default, not the merged row's)."""
    return Field(f"layers[].{key}", when=f"type: {type_name}", **LAYERS[type_name].FIELDS[key])


def _model_fields() -> tuple[Field, ...]:
    """The model: name, task, input, layers, loss, optimizer, metrics."""
    F = Field
    return (
        F("name", "string", "run name; records and reports use it", default_doc="the file name without suffix"),
        F("description", "string", "free text, not part of the spec hash", default=""),
        F("task", "choice", "what the model predicts; decides the default loss and metrics", choices=TASKS,
          what="task"),
        F("input_shape", "list", "the shape of one sample: `[features]` (an integer N is read as `[N]`), "
          "`[steps, features]` or `[height, width, channels]` (channels-last)", lo=1, hi=MAX_FEATURES),
        F("layers", "list", f"the layers in order: at least one dense, not starting with an activation, at most "
                            f"{MAX_LAYERS}; the output must be one vector per sample"),
        F("layers[].type", "choice", "layer type", choices=LAYER_TYPES, what="layer type"),
        *layer_fields(),
        F("layers[].activation", "mapping", "a name or `{name: ..., <parameter>: ...}`", default="linear",
          default_doc="`tanh` (simple_rnn, lstm, gru); `linear` (dense, conv1d, conv2d); required (activation)"),
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
    )


def _run_fields() -> tuple[Field, ...]:
    """The run: training budget, data, initial weights."""
    F = Field
    syn, skl, fil = "source: synthetic", "source: sklearn", "source: file"
    return (
        F("training.epochs", "integer", "passes over the training set", default=5, lo=1, hi=MAX_EPOCHS),
        F("training.batch_size", "integer", "rows per step; at most the training set size", default=32, lo=1,
          hi=MAX_BATCH),
        F("training.seed", "integer", "batch order and shared initial weights; `--seeds N` uses seed … seed+N−1",
          default=0, lo=0, hi=2**31 - 1),
        F("training.precision", "choice", "numeric precision: `float32` exact float32 matmuls (TF32 off, JAX "
          "`highest`); `tf32` TF32 matmuls allowed on GPUs; `mixed_*` float32 variables with lower-precision "
          "compute; `bfloat16` everything in bfloat16 (`--precision` overrides)", default="float32",
          choices=tuple(PRECISIONS), what="precision"),
        F("data.source", "choice", "where the data comes from", default="synthetic", choices=DATA_SOURCES,
          what="data source"),
        F("data.validation_split", "number", "share of rows held out for validation (seeded split)", default=0.2,
          lo=0.0, hi=0.9, hi_open=True),
        F("data.standardize", "boolean", "scale each feature to mean 0, std 1 with training-set statistics",
          default=True),
        F("data.seed", "integer", "seed of the split (and of the synthetic data: scikit-learn's `random_state`)",
          default=0, lo=0, hi=2**31 - 1),
        F("data.n_samples", "integer", "rows generated", default=4096, lo=4, hi=MAX_SAMPLES, when=syn),
        F("data.n_features", "integer", "features generated (per time step with `sequence_length`: float sequences "
          "`[T, F]`); must equal the last entry of `input_shape`", lo=1, hi=MAX_FEATURES,
          default_doc="`input_shape[0]`; with `sequence_length` one of `n_features`, `vocab_size` is required",
          when=syn),
        F("data.sequence_length", "integer", "steps per sample T: synthetic sequences instead of vectors, float "
          "(`n_features`: `input_shape: [T, F]`, target from the peak of a random walk over the steps) or token ids "
          "(`vocab_size`: `input_shape: [T]`, label from which pair of marker tokens occurs together)", lo=1,
          hi=MAX_FEATURES, default=None, default_doc="absent: vectors", when=syn),
        F("data.vocab_size", "integer", "token ids 0 … vocab_size − 1 (int32); needs `sequence_length`, an "
          "`embedding` first layer with `input_dim` ≥ vocab_size, a binary or multiclass task, and at least "
          "2·classes + 1 ids (the marker pairs and a filler)", lo=2, hi=MAX_VOCABULARY, default=None,
          default_doc="absent: float features", when=syn),
        F("data.n_classes", "integer", "classes generated; must equal the output units", default=3, lo=2,
          hi=1000, when=syn + ", task: multiclass"),
        F("data.n_informative", "integer", "informative features (scikit-learn's `make_classification` / "
          "`make_regression`); the other features are redundant combinations of them or pure noise", lo=1,
          hi=MAX_FEATURES, default_doc="classification: min(n_features, max(2, ⌈log2(2·classes)⌉, ⌈n_features/16⌉)); regression: "
          "min(n_features, 10)", when=syn),
        F("data.n_redundant", "integer", "random linear combinations of the informative features", lo=0,
          hi=MAX_FEATURES, default_doc="min(2, n_features − n_informative)", when=syn + ", task: binary or multiclass"),
        F("data.n_clusters_per_class", "integer", "Gaussian clusters per class, on the vertices of a hypercube "
          "in the informative subspace; classes × clusters must be at most 2^n_informative", lo=1, hi=64,
          default_doc="2, or 1 where 2·classes > 2^n_informative", when=syn + ", task: binary or multiclass"),
        F("data.class_sep", "number", "half the side of the hypercube (larger: easier; scikit-learn's default is 1, "
          "under which a 512-512 MLP reaches 0.28 validation accuracy on 256 features, 10 classes)", default=2.0, lo=0.0,
          lo_open=True, hi=100.0, when=syn + ", task: binary or multiclass"),
        F("data.flip_y", "number", "share of rows whose label is replaced by a random class (label noise)",
          default=0.01, lo=0.0, hi=1.0, when=syn + ", task: binary or multiclass"),
        F("data.noise", "number", "standard deviation of the Gaussian noise added to the targets", default=0.1,
          lo=0.0, hi=100.0, when=syn + ", task: regression"),
        F("data.name", "choice", "a dataset shipped inside scikit-learn (no download); must fit the task ("
          + ", ".join(f"{n}: {t}" for n, t in SKLEARN_DATASETS.items()) + ")", choices=tuple(SKLEARN_DATASETS),
          what="scikit-learn dataset", when=skl),
        F("data.reshape", "list", "the shape each sample's features take (row-major), e.g. `[8, 8, 1]` for "
          "digits as images; must equal `input_shape`", lo=1, hi=MAX_FEATURES, default=None, default_doc="the features as "
          "a vector", when=skl),
        F("data.path", "string", "data file, relative to the working directory", when=fil),
        F("data.target", "string", "label column (CSV, Parquet) or array (NPZ); every other one is a feature",
          when=fil),
        F("data.format", "choice", "file format (NPZ is read with `allow_pickle=False`)", choices=FILE_FORMATS,
          what="file format", default_doc="from the file suffix", when=fil),
        F("init", "choice", "`shared`: the same numpy-drawn glorot-uniform weights in every framework; `native`: "
          "each framework's initialiser", default="shared", choices=INIT_MODES, what="init mode"),
    )


FIELDS: dict[str, Field] = {f.path: f for f in (*_model_fields(), *_run_fields())}


def fields_markdown() -> str:
    """The spec reference table (README) rendered from FIELDS."""
    rows = ["| field | type | default | allowed | applies when | meaning |", "|---|---|---|---|---|---|"]
    for f in FIELDS.values():
        cells = [f"`{f.path}`", f.kind, f.default_text(), f.allowed() or "—", f.when or "—", f.doc]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def invalid_values(f: Field) -> list[Any]:
    """Values the validator must reject for field ``f``, derived from its constraints alone."""
    if f.kind == "choice":
        return [f"not-a-{f.key}", 7]
    if f.kind == "boolean":
        return ["yes", 1]
    if f.kind == "string":
        return [5] if f.default == "" else [5, ""]
    if f.kind == "mapping":
        return [5]
    if f.kind == "list":
        out: list[Any] = ["x"] if not f.choices else [5, [f"not-a-{f.key}"]]
        return out + [[v] for v in _out_of_range(f, integer=True)]
    wrong = ["1", True] if f.kind == "integer" else ["0.5", True, math.nan, math.inf]
    if f.kind == "integer":
        wrong.append(2.5)
    return wrong + _out_of_range(f, integer=f.kind == "integer")


def _out_of_range(f: Field, integer: bool) -> list[Any]:
    out = []
    if f.lo is not None:
        out.append(f.lo if f.lo_open else (int(f.lo) - 1 if integer else f.lo - 1.0))
    if f.hi is not None:
        out.append(f.hi if f.hi_open else (int(f.hi) + 1 if integer else f.hi + 1.0))
    return out
