"""Idiomatic, runnable code for a spec in one target's framework (``frameworkbench codegen``).

The generated script has three marked parts:

* ``# --- data``: plain numpy / scikit-learn code that makes ``X_train, y_train, X_val,
  y_val`` of the spec's shapes (the same for every target; an illustration of the data,
  not the benchmark's exact arrays);
* ``# --- model and training``: what a user of that framework writes for the spec, in the
  style of the seed document's examples: ``Sequential`` + ``compile`` + ``fit`` for Keras,
  ``nn.Sequential`` + a hand-written loop for PyTorch, a ``tf.GradientTape`` loop, Keras'
  stateless API under ``jax.jit``;
* ``# --- check``: one line printing the parameter count (``params: N``).

:func:`count_lines` counts the non-blank, non-comment lines of the middle part: the
"lines of idiomatic code needed for the spec" of the report's ease-of-use row.
"""
from __future__ import annotations

from typing import Callable

from .spec import OPTIMIZER_DEFAULTS, SpecError, Spec, unknown

DATA_MARK = "# --- data"
MODEL_MARK = "# --- model and training"
CHECK_MARK = "# --- check"
PARAMS_PREFIX = "params:"

KERAS_LOSS_CLASSES = {"binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
                      "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "mse": "MeanSquaredError"}
KERAS_EPSILON = 1e-7  # Keras' default probability clipping (backend epsilon)
TORCH_ADAM_EPS = 1e-8


# ----------------------------------------------------------------------------- data
def data_block(spec: Spec) -> list[str]:
    d = spec.data
    out = [DATA_MARK + " (plain numpy / scikit-learn, the same for every framework)", "import numpy as np"]
    task, units = spec.task, spec.output_units
    if d["source"] == "sklearn":
        out += [f"from sklearn.datasets import load_{d['name']}",
                "from sklearn.model_selection import train_test_split",
                "from sklearn.preprocessing import StandardScaler", "",
                f"X, y = load_{d['name']}(return_X_y=True)"]
    elif d["source"] == "file":
        if d["format"] == "npz":
            out += ["", f"arrays = dict(np.load({d['path']!r}, allow_pickle=False))",
                    f"y = arrays.pop({d['target']!r})",
                    "X = np.concatenate([a.reshape(len(y), -1) for a in arrays.values()], axis=1)"]
        else:
            reader = "read_csv" if d["format"] == "csv" else "read_parquet"
            out += ["import pandas as pd", "", f"frame = pd.{reader}({d['path']!r})",
                    f"y = frame.pop({d['target']!r}).to_numpy()", "X = frame.to_numpy()"]
        out.insert(2, "from sklearn.model_selection import train_test_split")
        out.insert(3, "from sklearn.preprocessing import StandardScaler")
    else:
        n, f = d["n_samples"], d["n_features"]
        k = d.get("n_classes", 2) if task == "multiclass" else units
        out += ["from sklearn.model_selection import train_test_split",
                "from sklearn.preprocessing import StandardScaler", "",
                f"rng = np.random.default_rng({d['seed']})",
                f"X = rng.standard_normal(({n}, {f}))",
                f"w = rng.standard_normal(({f}, {k}))"]
        if task == "binary":
            out.append("y = (X @ w[:, 0] > 0).astype(int)")
        elif task == "multiclass":
            out.append("y = (X @ w).argmax(axis=1)")
        else:
            out.append(f"y = X @ w + {d['noise']!r} * rng.standard_normal((len(X), {k}))")
    strat = ", stratify=y" if task != "regression" else ""
    out += [f"X_train, X_val, y_train, y_val = train_test_split(X, y, test_size={d['validation_split']!r}, "
            f"random_state={d['seed']}{strat})"]
    if d.get("standardize", True):
        out += ["scaler = StandardScaler().fit(X_train)",
                "X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)"]
    out += ["X_train, X_val = X_train.astype(np.float32), X_val.astype(np.float32)"]
    loss = spec.loss["name"]
    if task == "binary":
        out.append("y_train, y_val = (v.reshape(-1, 1).astype(np.float32) for v in (y_train, y_val))")
    elif task == "multiclass" and loss == "sparse_categorical_crossentropy":
        out.append("y_train, y_val = y_train.astype(np.int64), y_val.astype(np.int64)")
    elif task == "multiclass":
        out.append(f"y_train, y_val = (np.eye({units}, dtype=np.float32)[v] for v in (y_train, y_val))")
    else:
        out.append(f"y_train, y_val = (v.reshape(len(v), {units}).astype(np.float32) for v in (y_train, y_val))")
    return out


# ----------------------------------------------------------------------------- keras
def _keras_activation_layer(act, slope_arg: str) -> str:
    if act.name == "leaky_relu":
        return f"layers.LeakyReLU({slope_arg}={act.param('negative_slope')!r})"
    if act.name == "elu":
        return f"layers.ELU(alpha={act.param('alpha')!r})"
    return f"layers.Activation({act.name!r})"


def keras_model(spec: Spec, keras: str, slope_arg: str) -> list[str]:
    lines = [f"model = {keras}.Sequential([", f"    {keras}.Input(shape=({spec.n_features},)),"]
    for lay in spec.layers:
        act = lay.activation
        if lay.type == "dense":
            args = [str(lay.units)]
            plain = act.name not in ("leaky_relu", "elu")
            if plain and act.name != "linear":
                args.append(f"activation={act.name!r}")
            if not lay.use_bias:
                args.append("use_bias=False")
            lines.append(f"    layers.Dense({', '.join(args)}),")
            if not plain:
                lines.append(f"    {_keras_activation_layer(act, slope_arg)},")
        elif act.name != "linear":
            lines.append(f"    {_keras_activation_layer(act, slope_arg)},")
    lines.append("])")
    return lines


def keras_optimizer(spec: Spec, keras: str) -> str:
    opt = spec.optimizer
    name = opt["name"]
    cls = "Adam" if name == "adam" else "SGD"
    args = [f"learning_rate={opt['learning_rate']!r}"]
    args += [f"{k}={v!r}" for k, v in opt.items() if k not in ("name", "learning_rate")
             and v != OPTIMIZER_DEFAULTS[name][k]]
    return f"{keras}.optimizers.{cls}({', '.join(args)})"


def _epsilon_line(spec: Spec, setter: str) -> list[str]:
    eps = spec.loss.get("epsilon")
    return [f"{setter}({eps!r})  # cross-entropy probability clipping"] if eps is not None and eps != KERAS_EPSILON \
        else []


def keras_fit(spec: Spec, keras: str) -> list[str]:
    t = spec.training
    metrics = f", metrics={spec.metrics!r}" if spec.metrics else ""
    return [f"model.compile(optimizer={keras_optimizer(spec, keras)}, loss={spec.loss['name']!r}{metrics})",
            f"model.fit(X_train, y_train, epochs={t['epochs']}, batch_size={t['batch_size']}, "
            "validation_data=(X_val, y_val))"]


def gen_tf_keras(spec: Spec) -> list[str]:
    return ["import os", "", "os.environ[\"TF_USE_LEGACY_KERAS\"] = \"1\"  # tf.keras = Keras 2 (the tf_keras package)",
            "import tensorflow as tf", "from tensorflow.keras import layers", "",
            *_epsilon_line(spec, "tf.keras.backend.set_epsilon"),
            *keras_model(spec, "tf.keras", "alpha"), *keras_fit(spec, "tf.keras")]


def _keras3_imports(backend: str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["import os", "", f"os.environ[\"KERAS_BACKEND\"] = {backend!r}", *extra, "import keras",
            "from keras import layers", ""]


def gen_keras3(backend: str) -> Callable[[Spec], list[str]]:
    def gen(spec: Spec) -> list[str]:
        return [*_keras3_imports(backend), *_epsilon_line(spec, "keras.config.set_epsilon"),
                *keras_model(spec, "keras", "negative_slope"), *keras_fit(spec, "keras")]

    return gen


def gen_tf_gradienttape(spec: Spec) -> list[str]:
    t = spec.training
    return ["import os", "", "os.environ[\"TF_USE_LEGACY_KERAS\"] = \"1\"  # tf.keras = Keras 2 (the tf_keras package)",
            "import tensorflow as tf", "from tensorflow.keras import layers", "",
            *_epsilon_line(spec, "tf.keras.backend.set_epsilon"),
            *keras_model(spec, "tf.keras", "alpha"),
            f"loss_fn = tf.keras.losses.{KERAS_LOSS_CLASSES[spec.loss['name']]}()",
            f"optimizer = {keras_optimizer(spec, 'tf.keras')}",
            "dataset = tf.data.Dataset.from_tensor_slices((X_train, y_train))"
            f".shuffle(len(X_train)).batch({t['batch_size']})", "",
            "", "@tf.function", "def train_step(x, y):", "    with tf.GradientTape() as tape:",
            "        loss = loss_fn(y, model(x, training=True))",
            "    grads = tape.gradient(loss, model.trainable_variables)",
            "    optimizer.apply_gradients(zip(grads, model.trainable_variables))", "    return loss", "", "",
            f"for epoch in range({t['epochs']}):", "    for x, y in dataset:", "        loss = train_step(x, y)",
            "    print(f\"epoch {epoch + 1}: loss {float(loss):.4f}\")"]


def gen_keras_stateless(spec: Spec) -> list[str]:
    t = spec.training
    return [*_keras3_imports("jax", ("import jax",)), *_epsilon_line(spec, "keras.config.set_epsilon"),
            *keras_model(spec, "keras", "negative_slope"),
            f"loss_fn = keras.losses.{KERAS_LOSS_CLASSES[spec.loss['name']]}()",
            f"optimizer = {keras_optimizer(spec, 'keras')}",
            "optimizer.build(model.trainable_variables)", "", "",
            "def compute_loss(trainable, non_trainable, x, y):",
            "    y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)",
            "    return loss_fn(y, y_pred), non_trainable", "", "",
            "grad_fn = jax.value_and_grad(compute_loss, has_aux=True)", "", "",
            "@jax.jit", "def train_step(state, x, y):", "    trainable, non_trainable, opt_vars = state",
            "    (loss, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)",
            "    trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)",
            "    return loss, (trainable, non_trainable, opt_vars)", "", "",
            "state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],",
            "         [v.value for v in optimizer.variables])",
            f"rng = np.random.default_rng({t['seed']})",
            f"for epoch in range({t['epochs']}):", "    order = rng.permutation(len(X_train))",
            f"    for i in range(0, len(order), {t['batch_size']}):",
            f"        idx = order[i:i + {t['batch_size']}]",
            "        loss, state = train_step(state, X_train[idx], y_train[idx])",
            "    print(f\"epoch {epoch + 1}: loss {float(loss):.4f}\")",
            "for variable, value in zip(model.trainable_variables, state[0]):", "    variable.assign(value)"]


# ----------------------------------------------------------------------------- torch
_TORCH_ACT = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "softmax": "nn.Softmax(dim=1)"}


def _torch_act(act) -> str | None:
    if act.name == "linear":
        return None
    if act.name == "leaky_relu":
        return f"nn.LeakyReLU(negative_slope={act.param('negative_slope')!r})"
    if act.name == "elu":
        return f"nn.ELU(alpha={act.param('alpha')!r})"
    return _TORCH_ACT[act.name]


def gen_torch(spec: Spec) -> list[str]:
    t, loss = spec.training, spec.loss["name"]
    # Idiomatic torch folds a final softmax into nn.CrossEntropyLoss (which takes logits).
    fold_softmax = loss in ("sparse_categorical_crossentropy", "categorical_crossentropy")
    mods, fan_in = [], spec.n_features
    layers = spec.layers
    for i, lay in enumerate(layers):
        if lay.type == "dense":
            bias = "" if lay.use_bias else ", bias=False"
            mods.append(f"nn.Linear({fan_in}, {lay.units}{bias})")
            fan_in = lay.units
        act = _torch_act(lay.activation)
        if act and not (fold_softmax and i == len(layers) - 1 and lay.activation.name == "softmax"):
            mods.append(act)
    criterion = {"binary_crossentropy": "nn.BCELoss()", "mse": "nn.MSELoss()"}.get(loss, "nn.CrossEntropyLoss()")
    opt = spec.optimizer
    if opt["name"] == "adam":
        args = [f"lr={opt['learning_rate']!r}"]
        if (opt["beta_1"], opt["beta_2"]) != (0.9, 0.999):
            args.append(f"betas=({opt['beta_1']!r}, {opt['beta_2']!r})")
        if opt["epsilon"] != TORCH_ADAM_EPS:
            args.append(f"eps={opt['epsilon']!r}")
        optimizer = f"torch.optim.Adam(model.parameters(), {', '.join(args)})"
    else:
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        optimizer = f"torch.optim.SGD(model.parameters(), lr={opt['learning_rate']!r}{mom})"
    lines = ["import torch", "from torch import nn", "", "model = nn.Sequential("]
    lines += [f"    {m}," for m in mods]
    lines += [")"]
    if fold_softmax:
        lines += ["criterion = nn.CrossEntropyLoss()  # takes logits: the output softmax is folded into the loss"]
    else:
        lines += [f"criterion = {criterion}"]
    lines += [f"optimizer = {optimizer}", "",
              "X_t, y_t = torch.from_numpy(X_train), torch.from_numpy(y_train)",
              f"for epoch in range({t['epochs']}):",
              f"    for idx in torch.randperm(len(X_t)).split({t['batch_size']}):",
              "        optimizer.zero_grad()", "        loss = criterion(model(X_t[idx]), y_t[idx])",
              "        loss.backward()", "        optimizer.step()",
              "    print(f\"epoch {epoch + 1}: loss {loss.item():.4f}\")"]
    return lines


# ----------------------------------------------------------------------------- registry
GENERATORS: dict[str, Callable[[Spec], list[str]]] = {
    "tf.keras": gen_tf_keras,
    "keras:tensorflow": gen_keras3("tensorflow"),
    "keras:jax": gen_keras3("jax"),
    "keras:torch": gen_keras3("torch"),
    "torch": gen_torch,
    "tf:gradienttape": gen_tf_gradienttape,
    "keras:jax:stateless": gen_keras_stateless,
}
PARAM_LINE = {"torch": "print(\"params:\", sum(p.numel() for p in model.parameters()))"}


def generate(spec: Spec, target: str) -> str:
    """The runnable script for ``spec`` in ``target``'s framework."""
    if target not in GENERATORS:
        raise SpecError([unknown("--target", "codegen target", target, GENERATORS)])
    family_torch = target == "torch"
    lines = [f"# {spec.name}: generated by `frameworkbench codegen` for target {target}", *data_block(spec), "", "",
             f"{MODEL_MARK} ({target})", *GENERATORS[target](spec), "", CHECK_MARK,
             PARAM_LINE["torch"] if family_torch else "print(\"params:\", model.count_params())"]
    return "\n".join(lines) + "\n"


def model_section(code: str) -> list[str]:
    lines = code.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(MODEL_MARK))
    end = next(i for i, ln in enumerate(lines) if ln.startswith(CHECK_MARK))
    return lines[start + 1:end]


def count_lines(code: str) -> dict:
    """Non-blank, non-comment lines: of the model-and-training part (``lines``) and of the whole script."""
    def code_lines(lines):
        return [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]

    return {"lines": len(code_lines(model_section(code))), "total_lines": len(code_lines(code.splitlines()))}


def parse_params(stdout: str) -> int | None:
    """The parameter count a generated script printed, if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(PARAMS_PREFIX):
            try:
                return int(line[len(PARAMS_PREFIX):].strip())
            except ValueError:
                return None
    return None
