"""Idiomatic, runnable code for a spec in one target's framework (``frameworkbench codegen``).

The generated script has three marked parts:

* ``# --- data``: plain numpy (and scikit-learn for the synthetic and sklearn sources, pandas for files) that prepares the
  data exactly as frameworkbench does (the seeded generator or loader -- for synthetic sequences the
  source of :mod:`frameworkbench.sequences`' generator --, the seeded split, standardisation with
  training-set statistics, float32 or int32 token ids, the targets encoded for the loss),
  draws the shared initial weights (``init: shared``: Glorot-uniform kernels, zero biases)
  and the batch plan (one seeded permutation of the training rows per epoch), as in
  :mod:`frameworkbench.data` and :mod:`frameworkbench.weights`; the same for every target;
* ``# --- model and training``: what a user of that framework writes for the spec, in the
  style of the seed document's examples (``Sequential`` + ``compile`` + ``fit`` for Keras,
  ``nn.Sequential`` + a hand-written loop for PyTorch, ...), written by the generator the target
  declares (``Target.codegen``, a "module:function" in its adapter package:
  ``generate(spec, target) -> Code``; plain text builders that import no framework);
* ``# --- check``: ``final: loss L val_loss V`` (the last epoch's mean training loss and the
  validation loss, as frameworkbench records them) and ``params: N`` as the last line.

So the script reproduces frameworkbench's run of that target (aligned policy, the spec's seed)
up to float32 rounding. The lines that exist only for that (loading the shared weights,
following the batch plan, torch's Adam epsilon in Keras' form) carry a ``# frameworkbench:``
comment -- on the line, or heading a paragraph -- and are not counted.

:func:`count_lines` counts the non-blank, non-comment lines of the middle part: the
"lines of idiomatic code needed for the spec" of the report's ease-of-use row.
"""
from __future__ import annotations

import importlib
from typing import Callable, NamedTuple

from . import sequences
from .data import synthetic_call
from .spec import SpecError, Spec, unknown
from .weights import PLAN_STREAM, WEIGHTS_STREAM, dense_shapes

DATA_MARK = "# --- data"
MODEL_MARK = "# --- model and training"
CHECK_MARK = "# --- check"
PARAMS_PREFIX = "params:"
FINAL_PREFIX = "final:"
ALIGN_TAG = "# frameworkbench:"  # marks code that only makes the script match frameworkbench's run

SPLIT_STREAM = 101  # frameworkbench.data's seed-sequence stream of the split


# ----------------------------------------------------------------------------- data
def _load_lines(spec: Spec) -> tuple[list[str], list[str]]:
    """Imports, and the lines making ``X`` (rows x ``input_shape``: float64, or integer token ids) and ``y``
    from the data source."""
    d, task = spec.data, spec.task
    tokens = spec.input_dtype == "int32"
    shape = "" if len(spec.input_shape) == 1 else f"X = X.reshape(len(X), *{list(spec.input_shape)})  # input_shape"
    if d["source"] == "sklearn":
        return [f"from sklearn.datasets import load_{d['name']}"], [f"X, y = load_{d['name']}(return_X_y=True)",
                                                                     *filter(None, [shape])]
    if d["source"] == "file":
        if d["format"] == "npz":
            return [], [f"arrays = dict(np.load({d['path']!r}, allow_pickle=False))",
                        f"y = arrays.pop({d['target']!r})",
                        "X = np.concatenate([a.reshape(len(y), -1) for a in arrays.values()], axis=1)"
                        + ("  # integer token ids" if tokens else ".astype(np.float64)"), *filter(None, [shape])]
        reader = "read_csv" if d["format"] == "csv" else "read_parquet"
        return ["import pandas as pd"], [f"frame = pd.{reader}({d['path']!r})",
                                         f"y = frame.pop({d['target']!r}).to_numpy()",
                                         "X = frame.to_numpy()  # integer token ids" if tokens
                                         else "X = frame.to_numpy(dtype=np.float64)", *filter(None, [shape])]
    name, kwargs = synthetic_call(task, d, spec.output_units)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    call = f"X, y = {name}({args})  # frameworkbench's synthetic {task} data"
    if name in sequences.GENERATORS:  # frameworkbench's own generator, written out
        return [], [*sequences.source(name), "", "", call]
    return [f"from sklearn.datasets import {name}"], [call]


def data_block(spec: Spec) -> list[str]:
    """The shared part: data, split, standardisation, encoding, initial weights, batch plan."""
    d, t = spec.data, spec.training
    task, loss, units = spec.task, spec.loss["name"], spec.output_units
    imports, load = _load_lines(spec)
    out = [DATA_MARK + " (numpy: frameworkbench's data, initial weights and batch order; the same for every "
                       "framework)", "import numpy as np", *imports]
    out += ["", "", "def rng(seed, stream):  # frameworkbench draws each random stream from (seed, stream)",
            "    return np.random.default_rng(np.random.SeedSequence([seed, stream]))", "", "", *load]
    out.append("y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)" if task == "regression"  # (rows, outputs)
               else "y = np.asarray(y).reshape(len(y)).astype(np.int64)")  # int class ids
    out += [f"n_train = len(X) - round(len(X) * {d['validation_split']!r})  # validation_split",
            f"order = rng({d['seed']}, {SPLIT_STREAM}).permutation(len(X))",
            "X_train, X_val, y_train, y_val = X[order[:n_train]], X[order[n_train:]], y[order[:n_train]], "
            "y[order[n_train:]]"]
    tokens = spec.input_dtype == "int32"
    if d["standardize"]:
        if not tokens:  # token ids are never standardised
            out += ["mean, std = X_train.mean(axis=0), X_train.std(axis=0)  # training-set statistics",
                    "std[std == 0] = 1.0", "X_train, X_val = (X_train - mean) / std, (X_val - mean) / std"]
        if task == "regression":
            out += ["y_mean, y_std = y_train.mean(axis=0), y_train.std(axis=0)", "y_std[y_std == 0] = 1.0",
                    "y_train, y_val = (y_train - y_mean) / y_std, (y_val - y_mean) / y_std"]
    out.append(f"X_train, X_val = X_train.astype(np.{spec.input_dtype}), X_val.astype(np.{spec.input_dtype})"
               + ("  # token ids" if tokens else ""))
    if task == "binary":
        out.append("y_train, y_val = (v.reshape(-1, 1).astype(np.float32) for v in (y_train, y_val))")
    elif task == "multiclass" and loss == "sparse_categorical_crossentropy":
        out.append("# labels stay int64 class ids")
    elif task == "multiclass":
        out.append(f"y_train, y_val = (np.eye({units}, dtype=np.float32)[v] for v in (y_train, y_val))  # one-hot")
    else:
        out.append("y_train, y_val = y_train.astype(np.float32), y_val.astype(np.float32)")
    seed = t["seed"]
    if spec.init == "shared":
        shapes = dense_shapes(spec)
        biases = {b for _, _, b in shapes}
        out += ["", f"r = rng({seed}, {WEIGHTS_STREAM})  # initial weights: Glorot-uniform kernels (in, out), "
                    "zero biases", "initial_weights = []"]
        if biases == {True}:
            out += [f"for fan_in, fan_out in {[(i, o) for i, o, _ in shapes]}:"]
        else:
            out += [f"for fan_in, fan_out, use_bias in {[(i, o, b) for i, o, b in shapes]}:"]
        out += ["    limit = np.sqrt(6.0 / (fan_in + fan_out))",
                "    kernel = r.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)"]
        if biases == {True}:
            out.append("    initial_weights.append([kernel, np.zeros(fan_out, np.float32)])")
        elif biases == {False}:
            out.append("    initial_weights.append([kernel])")
        else:
            out.append("    initial_weights.append([kernel, np.zeros(fan_out, np.float32)] if use_bias "
                       "else [kernel])")
    out += [f"r = rng({seed}, {PLAN_STREAM})  # batch order: one permutation of the training rows per epoch",
            f"epoch_orders = [r.permutation(len(X_train)) for _ in range({t['epochs']})]"]
    return out


# ----------------------------------------------------------------------------- for the generators
class Code(NamedTuple):
    """What a target's generator returns: the model-and-training lines and the check lines
    (``final: ...`` then ``params: N``)."""

    body: list[str]
    check: list[str]


def has_val(spec: Spec) -> bool:
    return spec.data["validation_split"] > 0


def seed_line(spec: Spec, call: str) -> list[str]:
    """``init: native``: seed the framework's own initialiser the way frameworkbench does."""
    return [f"{call}({spec.training['seed']})  # the framework's own initialiser, seeded"] if spec.init == "native" \
        else []


def loop_epochs(spec: Spec, step_call: str, loss_value: str) -> list[str]:
    """A plain loop over the batch plan; the epoch's loss is the mean over its rows."""
    bs = spec.training["batch_size"]
    return ["for epoch, order in enumerate(epoch_orders):  # frameworkbench's batch order", "    total = 0.0",
            f"    for i in range(0, len(order), {bs}):", f"        idx = order[i:i + {bs}]",
            f"        loss{', state' if 'state' in step_call else ''} = {step_call}",
            f"        total += {loss_value} * len(idx)", "    train_loss = total / len(X_train)",
            "    print(f\"epoch {epoch + 1}: loss {train_loss:.4f}\")"]


def loop_final(spec: Spec, val_loss: str = "val_loss") -> str:
    """The ``final:`` line of a hand-written loop (``train_loss`` and ``val_loss`` variables)."""
    val = f", \"val_loss\", {val_loss}" if has_val(spec) else ""
    return f"print(\"{FINAL_PREFIX} loss\", train_loss{val})"


# ----------------------------------------------------------------------------- registry
def generators() -> dict[str, Callable[[Spec, object], Code]]:
    """Target name -> its generator, as the targets declare them (``Target.codegen``, "module:function";
    the modules are plain text builders that import no framework)."""
    from .targets import TARGETS

    out = {}
    for name, t in TARGETS.items():
        if t.codegen:
            module, _, fn = t.codegen.partition(":")
            out[name] = getattr(importlib.import_module(module), fn)
    return out


def __getattr__(name: str):
    if name == "GENERATORS":  # computed on use: the adapter packages' generators import this module
        return generators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def generate(spec: Spec, target: str) -> str:
    """The runnable script for ``spec`` in ``target``'s framework."""
    from .targets import TARGETS

    gens = generators()
    if target not in gens:
        raise SpecError([unknown("--target", "codegen target", target, gens)])
    code = gens[target](spec, TARGETS[target])
    lines = [f"# {spec.name}: generated by `frameworkbench codegen` for target {target}", *data_block(spec), "", "",
             f"{MODEL_MARK} ({target})", *code.body, "", CHECK_MARK, *code.check]
    return "\n".join(lines) + "\n"


def model_section(code: str) -> list[str]:
    lines = code.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(MODEL_MARK))
    end = next(i for i, ln in enumerate(lines) if ln.startswith(CHECK_MARK))
    return lines[start + 1:end]


def user_lines(lines: list[str]) -> list[str]:
    """The non-blank, non-comment lines a user writes: without the ``# frameworkbench:`` lines and
    paragraphs (those only make the script match frameworkbench's run)."""
    out, aligned = [], False
    for ln in lines:
        code = ln.strip()
        if not code:
            aligned = False
        elif code.startswith(ALIGN_TAG):
            aligned = True
        elif not aligned and not code.startswith("#") and ALIGN_TAG not in ln:
            out.append(ln)
    return out


def count_lines(code: str) -> dict:
    """Non-blank, non-comment lines a user writes: of the model-and-training part (``lines``) and of
    the whole script (``total_lines``)."""
    return {"lines": len(user_lines(model_section(code))), "total_lines": len(user_lines(code.splitlines()))}


def parse_params(stdout: str) -> int | None:
    """The parameter count a generated script printed, if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(PARAMS_PREFIX):
            try:
                return int(line[len(PARAMS_PREFIX):].strip())
            except ValueError:
                return None
    return None


def parse_final(stdout: str) -> dict[str, float] | None:
    """The final losses a generated script printed (``final: loss L val_loss V``), if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(FINAL_PREFIX):
            words = line[len(FINAL_PREFIX):].split()
            try:
                return {k: float(v) for k, v in zip(words[::2], words[1::2], strict=True)}
            except ValueError:
                return None
    return None
