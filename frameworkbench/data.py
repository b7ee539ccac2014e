"""Datasets, the train/validation split, and the batch plan.

The core prepares the data once (load, check, split, standardise, float32 -- or int32 token ids,
never standardised, when the model starts with an ``embedding``) into one ``.npz`` file named by
its content hash; every worker loads that
file. The batch plan -- the row order of every epoch -- is computed here from
the training seed, and every target trains on exactly those mini-batches in
that order.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import sequences
from .spec import (Problem, Spec, SpecError, fmt, problem, sourced, train_count)
from .weights import PLAN_STREAM, rng_for


@dataclass
class Dataset:
    """Prepared arrays (features in the spec's ``input_dtype``: float32, or int32 token ids; targets encoded
    for the spec's loss)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int | None
    source: str

    @property
    def hash(self) -> str:
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_val, self.y_val):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict:
        return {"source": self.source, "n_train": int(len(self.x_train)), "n_val": int(len(self.x_val)),
                "n_features": int(np.prod(self.x_train.shape[1:])), "n_classes": self.n_classes,
                **({"input_shape": list(self.x_train.shape[1:])} if self.x_train.ndim > 2 else {}),
                **({"input_dtype": str(self.x_train.dtype)} if self.x_train.dtype != np.float32 else {})}


# --------------------------------------------------------------------------- sources
def synthetic_call(task: str, d: dict, n_targets: int = 1) -> tuple[str, dict]:
    """The generator and its keyword arguments for synthetic data (codegen writes the same call):
    ``make_classification`` for binary/multiclass, ``make_regression`` for regression (scikit-learn,
    ``random_state`` is ``data.seed``); with ``sequence_length`` :mod:`.sequences`' ``float_sequences``
    (``n_features``) or ``token_sequences`` (``vocab_size``). Returns ``(function name, kwargs)``."""
    if d.get("sequence_length") is not None:
        kind = "n_features" if d.get("n_features") is not None else "vocab_size"
        name = "float_sequences" if kind == "n_features" else "token_sequences"
        labels = ({"noise": d["noise"]} if task == "regression" else
                  {"n_classes": d["n_classes"] if task == "multiclass" else 2, "flip_y": d["flip_y"]})
        return name, {"n_samples": d["n_samples"], "sequence_length": d["sequence_length"], kind: d[kind],
                      "seed": d["seed"], **labels}
    common = {"n_samples": d["n_samples"], "n_features": d["n_features"], "n_informative": d["n_informative"]}
    if task == "regression":
        return "make_regression", {**common, "n_targets": n_targets, "noise": d["noise"], "random_state": d["seed"]}
    return "make_classification", {**common, "n_redundant": d["n_redundant"],
                                   "n_classes": d["n_classes"] if task == "multiclass" else 2,
                                   "n_clusters_per_class": d["n_clusters_per_class"], "class_sep": d["class_sep"],
                                   "flip_y": d["flip_y"], "random_state": d["seed"]}


def _synthetic(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ImportError:
        raise SpecError([problem("data.source", "source 'synthetic' needs scikit-learn installed "
                                                "(pip install scikit-learn, or frameworkbench[data])")]) from None
    name, kwargs = synthetic_call(spec.task, spec.data, spec.output_units)
    x, y = getattr(datasets, name)(**kwargs)
    return x, y


def _generated(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic data: scikit-learn's generators, or :mod:`.sequences`' (no scikit-learn needed)."""
    name, kwargs = synthetic_call(spec.task, spec.data, spec.output_units)
    return sequences.GENERATORS[name](**kwargs) if name in sequences.GENERATORS else _synthetic(spec)


def _sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ImportError:
        raise SpecError([problem("data.source", "source 'sklearn' needs scikit-learn installed "
                                                "(pip install scikit-learn)")]) from None
    loader = getattr(datasets, f"load_{name}")
    bunch = loader()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)


def _from_file(d: dict) -> tuple[np.ndarray, np.ndarray]:
    path = Path(d["path"])
    target = d["target"]
    try:
        exists, is_file = path.exists(), path.is_file()
        size = path.stat().st_size if is_file else 0
    except (OSError, ValueError) as exc:  # an embedded NUL byte, a name too long, no permission
        raise SpecError([problem("data.path", f"cannot use data path {fmt(str(path))}: {exc}")]) from None
    if not exists:
        raise SpecError([problem("data.path", f"data file not found: {path}")])
    if not is_file or size == 0:
        raise SpecError([problem("data.path", f"data file is empty or not a file: {path}")])
    kind = d["format"]
    problems: list[Problem] = []
    if kind == "npz":
        try:
            with np.load(path, allow_pickle=False) as z:  # never unpickle user files
                cols = {k: z[k] for k in z.files}
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "pickle" in reason.lower():
                reason = ("it holds pickled Python objects, which are never loaded; save plain numeric arrays "
                          "(numpy.savez)")
            raise SpecError([problem("data.path", f"cannot read NPZ file {path}: {reason}")]) from None
        if target not in cols:
            raise SpecError([problem("data.target", f"target {fmt(target)} not in {path}; "
                                                    f"arrays present: {', '.join(sorted(cols)) or 'none'}")])
        y = cols.pop(target)
        if np.ndim(y) == 0 or len(y) == 0:
            raise SpecError([problem("data.target", f"target array {fmt(target)} in {path} needs one value per "
                                                    f"row, got shape {tuple(np.shape(y))}")])
        if not cols:
            raise SpecError([problem("data.path", f"no feature arrays in {path} besides the target {fmt(target)}")])
        bad_rows = [k for k, v in cols.items() if np.ndim(v) == 0 or len(v) != len(y)]
        if bad_rows:
            problems.append(problem("data.path", f"NPZ {path} needs feature arrays with one row per target value "
                                                 f"({len(y)}); these do not fit: {', '.join(sorted(bad_rows))}"))
        bad = [k for k, v in cols.items() if v.dtype.kind not in "biuf"]
        if bad:
            problems.append(problem("data.path", f"non-numeric feature arrays in {path}: "
                                                 + ", ".join(f"{k} ({cols[k].dtype})" for k in bad)))
        if problems:
            raise SpecError(problems, source=_source(problems, path))
        feats = [v.reshape(len(y), int(np.prod(v.shape[1:], dtype=np.int64))) for v in cols.values()]
        x = np.concatenate(feats, axis=1)  # integer arrays stay integers (token ids), the rest is read as floats
        x = x if x.dtype.kind in "iu" else x.astype(np.float64)
        names = [f"{k}[{j}]" if f.shape[1] > 1 else k for k, f in zip(cols, feats) for j in range(f.shape[1])]
        sample_shape = next(iter(cols.values())).shape[1:] if len(cols) == 1 else x.shape[1:]
    else:
        try:
            import pandas as pd
        except ImportError:
            raise SpecError([problem("data.format", f"reading {kind} files needs pandas installed")]) from None
        try:
            frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SpecError([problem("data.path", f"cannot read {kind.upper()} file {path}: {reason}")]) from None
        if frame.empty:
            raise SpecError([problem("data.path", f"data file has no rows: {path}")])
        y = None
        if target in frame.columns:
            y = frame[target].to_numpy()
            if y.ndim > 1:  # a duplicated column name
                problems.append(problem("data.target", f"target column {fmt(target)} appears more than once in "
                                                       f"{path}"))
            feats = frame.drop(columns=[target])
        else:
            problems.append(problem("data.target", f"target column {fmt(target)} not in {path}; columns: "
                                                   f"{', '.join(map(str, frame.columns))}"))
            feats = frame
        bad = [str(c) for c in feats.columns if not pd.api.types.is_numeric_dtype(feats[c])]
        if bad:
            problems.append(problem("data.path", f"non-numeric feature columns in {path}: {', '.join(bad)}"))
            feats = feats[[c for c in feats.columns if str(c) not in bad]]
        try:  # integer columns only (token ids): integers, else floats
            ints = len(feats.columns) > 0 and all(pd.api.types.is_integer_dtype(feats[c]) for c in feats.columns)
            x = feats.to_numpy() if ints else feats.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            problems.append(problem("data.path", f"non-numeric features in {path}: {exc}"))
            raise SpecError(problems, source=_source(problems, path)) from None
        names = list(map(str, feats.columns))
        sample_shape = x.shape[1:]
    if x.ndim != 2 or x.shape[1] == 0:
        problems.append(problem("data.path", f"no numeric feature columns in {path}"))
    elif not np.isfinite(x).all():
        rows, cols_ = np.nonzero(~np.isfinite(x))
        problems.append(problem("data.path", f"{len(rows)} NaN/inf feature values in {path} "
                                             f"(first in data row {rows[0] + 1}, column {names[cols_[0]]!r})"))
    if problems:
        raise SpecError(problems, source=_source(problems, path))
    return x.reshape(len(x), *sample_shape), y  # one NPZ feature array keeps its rank (images, sequences)


def _token_problems(spec: Spec, x: np.ndarray, d: dict) -> list[Problem]:
    """Token ids for a first layer that reads them (``spec.input_dtype`` int32): integers in ``[0, input_dim)``."""
    if spec.input_dtype != "int32":
        return []
    first, where = spec.layers[0], "data.path" if d["source"] == "file" else "data"
    origin = f" in {d['path']}" if d["source"] == "file" else ""
    if x.dtype.kind not in "iu":
        return [problem(where, f"layers[0] ({first.type}) reads integer token ids, but the features{origin} are "
                               f"{x.dtype}; save the ids as an integer array (NPZ) or integer columns")]
    low, high = (int(x.min()), int(x.max())) if x.size else (0, 0)
    if low < 0 or high >= first.input_dim:
        return [problem("layers[0].input_dim", f"token ids{origin} go from {low} to {high}, but input_dim is "
                                               f"{first.input_dim}: ids must lie in [0, input_dim); "
                                               + ("remove the negative ids" if low < 0 else
                                                  f"set input_dim to at least {high + 1}"))]
    return []


def _source(problems: list[Problem], path: Path) -> str | None:
    """Several problems with one data file: the error's first line names the file."""
    return str(path) if len(problems) > 1 else None


# --------------------------------------------------------------------------- checks and encoding
def _labels(task: str, y: np.ndarray, spec: Spec, where: str) -> tuple[np.ndarray, int | None]:
    """Check the targets fit the task; return them as int class ids or float values."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 and task != "regression":
        raise SpecError([problem(where, f"expected one label per row, got shape {y.shape}")])
    if y.dtype.kind not in "biuf":  # bool, integers, floats (not complex, strings or objects)
        raise SpecError([problem(where, f"non-numeric target values (dtype {y.dtype})")])
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise SpecError([problem(where, f"{int((~np.isfinite(y)).sum())} NaN/inf target values")])
    if task == "regression":
        return y.reshape(len(y), -1), None
    if not np.all(y == np.round(y)) or y.min() < 0:
        raise SpecError([problem(where, f"task {fmt(task)} needs integer class labels >= 0, got values like "
                                        f"{fmt(float(y[np.argmax((y != np.round(y)) | (y < 0))]))}")])
    classes = np.unique(y)  # still float: huge labels must not wrap around in an int cast
    if task == "binary" and not set(classes.tolist()) <= {0.0, 1.0}:
        raise SpecError([problem(where, f"task 'binary' needs labels 0 and 1, got {len(classes)} classes: "
                                        f"{fmt([int(c) if abs(c) < 2**53 else c for c in classes[:10].tolist()])}")])
    n_classes = 2 if task == "binary" else int(classes.max()) + 1
    if task == "multiclass" and n_classes != spec.output_units:
        raise SpecError([problem(where, f"the data has {n_classes} classes but the output layer has "
                                        f"{spec.output_units} units")])
    return y.astype(np.int64), n_classes


def _encode(spec: Spec, y: np.ndarray, n_classes: int | None) -> np.ndarray:
    if spec.task == "regression":
        return y.astype(np.float32)
    if spec.task == "binary":
        return y.reshape(-1, 1).astype(np.float32)
    if spec.loss["name"] == "sparse_categorical_crossentropy":
        return y.astype(np.int64)
    return np.eye(n_classes, dtype=np.float32)[y]


def load_dataset(spec: Spec) -> Dataset:
    """Load, check, split (seeded) and standardise the spec's data; errors name the spec file."""
    with sourced(spec):
        return _load_dataset(spec)


def _load_dataset(spec: Spec) -> Dataset:
    d = spec.data
    if d["source"] == "synthetic":
        x, y = _generated(spec)
        label = f"synthetic-{spec.task}"
    elif d["source"] == "sklearn":
        x, y = _sklearn(d["name"])
        if d.get("reshape"):  # the validator checked the size: each row as an image / a sequence
            x = x.reshape(len(x), *d["reshape"])
        label = f"sklearn:{d['name']}"
    else:
        x, y = _from_file(d)
        label = f"file:{Path(d['path']).name}"
    where = "data.target" if d["source"] == "file" else "data"
    problems: list[Problem] = []
    if x.shape[1:] != tuple(spec.input_shape):
        fix = "" if x.ndim > 2 or len(spec.input_shape) == 1 else (
            "; give N-D samples as one NPZ array of shape (rows, *input_shape), or data.reshape for scikit-learn "
            "datasets")
        what = f"{x.shape[1]} features" if x.ndim == 2 else f"samples of shape {list(x.shape[1:])}"
        problems.append(problem("input_shape", f"the data has {what} but input_shape is "
                                               f"{list(spec.input_shape)}{fix}"))
    if spec.task == "regression" and np.asarray(y).reshape(len(y), -1).shape[1] != spec.output_units:
        problems.append(problem("layers", f"the data has {np.asarray(y).reshape(len(y), -1).shape[1]} target "
                                          f"columns but the output layer has {spec.output_units} units"))
    problems += _token_problems(spec, x, d)
    try:  # label problems are reported together with the shape problems above
        y, n_classes = _labels(spec.task, y, spec, where)
    except SpecError as exc:
        problems += exc.problems
    if problems:
        raise SpecError(problems, source=_source(problems, Path(d["path"])) if d["source"] == "file" else None)
    n = len(x)
    n_train = train_count(n, d["validation_split"])
    if n_train < 1 or (d["validation_split"] > 0 and n - n_train < 1):
        raise SpecError([problem("data", f"{n} rows are too few for validation_split {d['validation_split']}")])
    bs = spec.training["batch_size"]
    if bs > n_train:
        raise SpecError([problem("training.batch_size", f"got {bs}; expected at most the training set size "
                                                        f"({n_train})")])
    order = np.random.default_rng(np.random.SeedSequence([d["seed"], 101])).permutation(n)
    tr, va = order[:n_train], order[n_train:]
    tokens = spec.input_dtype == "int32"
    x_train, x_val = x[tr], x[va]
    if not tokens:  # features in float64 until the float32 cast below
        x_train, x_val = x_train.astype(np.float64, copy=False), x_val.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values are reported below, not warned about
        if d["standardize"]:  # per feature: per position of the sample shape (per pixel and channel for images)
            if not tokens:  # token ids are never standardised
                mean, std = x_train.mean(0), x_train.std(0)
                std[std == 0] = 1.0
                x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
            if spec.task == "regression":
                ym, ys = y[tr].mean(0), y[tr].std(0)
                ys[ys == 0] = 1.0
                y = (y - ym) / ys
        enc = _encode(spec, y, n_classes)
        x_train, x_val = x_train.astype(spec.input_dtype), x_val.astype(spec.input_dtype)
    for name, arr in (("feature", x_train), ("feature", x_val), ("target", enc)):
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise SpecError([problem("data.path" if d["source"] == "file" else "data",
                                     f"{name} values{' in ' + str(d['path']) if d['source'] == 'file' else ''} "
                                     f"too large to standardise or to hold in float32 (|value| up to about "
                                     f"1e38 works)")])
    return Dataset(x_train, enc[tr], x_val, enc[va], n_classes, label)


# --------------------------------------------------------------------------- files
def save(ds: Dataset, directory: Path) -> tuple[Path, str]:
    """Write the dataset as ``<hash>.npz`` in ``directory`` (once); return path and hash."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = ds.hash
    path = directory / f"data-{digest}.npz"
    if not path.exists():
        tmp = directory / f".data-{digest}.{id(ds)}.tmp.npz"
        np.savez(tmp, x_train=ds.x_train, y_train=ds.y_train, x_val=ds.x_val, y_val=ds.y_val,
                 n_classes=np.int64(ds.n_classes or 0))
        tmp.replace(path)
    return path, digest


def load(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        nc = int(z["n_classes"])
        return Dataset(z["x_train"], z["y_train"], z["x_val"], z["y_val"], nc or None, str(path))


# --------------------------------------------------------------------------- batch plan
def batch_plan(n_train: int, epochs: int, seed: int) -> np.ndarray:
    """Row order of every epoch, shape (epochs, n_train): one seeded permutation per epoch."""
    rng = rng_for(seed, PLAN_STREAM)
    return np.stack([rng.permutation(n_train) for _ in range(epochs)]).astype(np.int64)


def batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Split one epoch's order into consecutive mini-batches (the last may be smaller)."""
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
