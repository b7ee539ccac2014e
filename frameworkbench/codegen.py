"""Idiomatic, runnable code for a spec in one target's framework (``frameworkbench codegen``).

The generated script has three marked parts:

* ``# --- data``: plain numpy (and scikit-learn / pandas for those sources) that prepares the
  data exactly as frameworkbench does (the seeded generator or loader, the seeded split,
  standardisation with training-set statistics, float32, the targets encoded for the loss),
  draws the shared initial weights (``init: shared``: Glorot-uniform kernels, zero biases)
  and the batch plan (one seeded permutation of the training rows per epoch), as in
  :mod:`frameworkbench.data` and :mod:`frameworkbench.weights`; the same for every target;
* ``# --- model and training``: what a user of that framework writes for the spec, in the
  style of the seed document's examples: ``Sequential`` + ``compile`` + ``fit`` for Keras,
  ``nn.Sequential`` + a hand-written loop for PyTorch, a ``tf.GradientTape`` loop, Keras'
  stateless API under ``jax.jit``;
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

from typing import Callable

from .spec import OPTIMIZER_DEFAULTS, SpecError, Spec, unknown
from .weights import PLAN_STREAM, WEIGHTS_STREAM, dense_shapes

DATA_MARK = "# --- data"
MODEL_MARK = "# --- model and training"
CHECK_MARK = "# --- check"
PARAMS_PREFIX = "params:"
FINAL_PREFIX = "final:"
ALIGN_TAG = "# frameworkbench:"  # marks code that only makes the script match frameworkbench's run

KERAS_LOSS_CLASSES = {"binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
                      "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "mse": "MeanSquaredError"}
KERAS_EPSILON = 1e-7  # Keras' default probability clipping (backend epsilon)
TORCH_ADAM_EPS = 1e-8
SYNTHETIC_STREAM, SPLIT_STREAM = 100, 101  # frameworkbench.data's seed-sequence streams


# ----------------------------------------------------------------------------- data
def _load_lines(spec: Spec) -> tuple[list[str], list[str]]:
    """Imports, and the lines making ``X`` (float64, rows x features) and ``y`` from the data source."""
    d, task = spec.data, spec.task
    if d["source"] == "sklearn":
        return [f"from sklearn.datasets import load_{d['name']}"], [f"X, y = load_{d['name']}(return_X_y=True)"]
    if d["source"] == "file":
        if d["format"] == "npz":
            return [], [f"arrays = dict(np.load({d['path']!r}, allow_pickle=False))",
                        f"y = arrays.pop({d['target']!r})",
                        "X = np.concatenate([a.reshape(len(y), -1) for a in arrays.values()], axis=1)"
                        ".astype(np.float64)"]
        reader = "read_csv" if d["format"] == "csv" else "read_parquet"
        return ["import pandas as pd"], [f"frame = pd.{reader}({d['path']!r})",
                                         f"y = frame.pop({d['target']!r}).to_numpy()",
                                         "X = frame.to_numpy(dtype=np.float64)"]
    n, f, noise = d["n_samples"], d["n_features"], d["noise"]
    out = [f"r = rng({d['seed']}, {SYNTHETIC_STREAM})  # frameworkbench's synthetic {task} data",
           f"X = r.standard_normal(({n}, {f}))", f"w = r.standard_normal({f}) / np.sqrt({f})"]
    if task == "binary":
        out.append(f"y = (3 * (X @ w) + np.sin(2 * X[:, 0]) + {noise!r} * r.standard_normal({n}) > 0)"
                   ".astype(np.int64)")
    elif task == "multiclass":
        out += [f"centers = r.standard_normal(({d['n_classes']}, {f})) * 1.5",
                f"y = r.integers(0, {d['n_classes']}, {n})", "X = centers[y] + X"]
    else:
        out.append(f"y = (X @ w + 0.5 * np.sin(2 * X[:, 0]) + {noise!r} * r.standard_normal({n})).reshape(-1, 1)")
    return [], out


def data_block(spec: Spec) -> list[str]:
    """The shared part: data, split, standardisation, encoding, initial weights, batch plan."""
    d, t = spec.data, spec.training
    task, loss, units = spec.task, spec.loss["name"], spec.output_units
    imports, load = _load_lines(spec)
    out = [DATA_MARK + " (numpy: frameworkbench's data, initial weights and batch order; the same for every "
                       "framework)", "import numpy as np", *imports]
    out += ["", "", "def rng(seed, stream):  # frameworkbench draws each random stream from (seed, stream)",
            "    return np.random.default_rng(np.random.SeedSequence([seed, stream]))", "", "", *load]
    if d["source"] != "synthetic":  # labels as int class ids, regression targets as (rows, outputs)
        out.append("y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)" if task == "regression"
                   else "y = np.asarray(y).reshape(len(y)).astype(np.int64)")
    out += [f"n_train = len(X) - round(len(X) * {d['validation_split']!r})  # validation_split",
            f"order = rng({d['seed']}, {SPLIT_STREAM}).permutation(len(X))",
            "X_train, X_val, y_train, y_val = X[order[:n_train]], X[order[n_train:]], y[order[:n_train]], "
            "y[order[n_train:]]"]
    if d["standardize"]:
        out += ["mean, std = X_train.mean(axis=0), X_train.std(axis=0)  # training-set statistics",
                "std[std == 0] = 1.0", "X_train, X_val = (X_train - mean) / std, (X_val - mean) / std"]
        if task == "regression":
            out += ["y_mean, y_std = y_train.mean(axis=0), y_train.std(axis=0)", "y_std[y_std == 0] = 1.0",
                    "y_train, y_val = (y_train - y_mean) / y_std, (y_val - y_mean) / y_std"]
    out.append("X_train, X_val = X_train.astype(np.float32), X_val.astype(np.float32)")
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


def _has_val(spec: Spec) -> bool:
    return spec.data["validation_split"] > 0


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


def _seed_line(spec: Spec, call: str) -> list[str]:
    """``init: native``: seed the framework's own initialiser the way frameworkbench does."""
    return [f"{call}({spec.training['seed']})  # the framework's own initialiser, seeded"] if spec.init == "native" \
        else []


def _keras_shared_weights(spec: Spec, keras_layers: str = "layers") -> list[str]:
    if spec.init != "shared":
        return []
    return [f"{ALIGN_TAG} start from its shared initial weights",
            f"for layer, weights in zip([lay for lay in model.layers if isinstance(lay, {keras_layers}.Dense)], "
            "initial_weights):", "    layer.set_weights(weights)", ""]


def keras_fit(spec: Spec, keras: str) -> list[str]:
    t = spec.training
    metrics = f", metrics={spec.metrics!r}" if spec.metrics else ""
    val = ", validation_data=(X_val, y_val)" if _has_val(spec) else ""
    return [f"model.compile(optimizer={keras_optimizer(spec, keras)}, loss={spec.loss['name']!r}{metrics})",
            f"for order in epoch_orders:  {ALIGN_TAG} its batch order, one fit call per epoch",
            f"    history = model.fit(X_train[order], y_train[order], batch_size={t['batch_size']}, epochs=1, "
            f"shuffle=False, verbose=2{val})"]


def keras_final(spec: Spec) -> str:
    val = ", \"val_loss\", history.history[\"val_loss\"][-1]" if _has_val(spec) else ""
    return f"print(\"{FINAL_PREFIX} loss\", history.history[\"loss\"][-1]{val})"


def _keras_model(spec: Spec, keras: str, slope_arg: str, seed_call: str) -> list[str]:
    return [*_seed_line(spec, seed_call), *keras_model(spec, keras, slope_arg), *_keras_shared_weights(spec)]


def gen_tf_keras(spec: Spec) -> list[str]:
    return ["import os", "", "os.environ[\"TF_USE_LEGACY_KERAS\"] = \"1\"  # tf.keras = Keras 2 (the tf_keras package)",
            "import tensorflow as tf", "from tensorflow.keras import layers", "",
            *_epsilon_line(spec, "tf.keras.backend.set_epsilon"),
            *_keras_model(spec, "tf.keras", "alpha", "tf.keras.utils.set_random_seed"), *keras_fit(spec, "tf.keras")]


def _keras3_imports(backend: str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["import os", "", f"os.environ[\"KERAS_BACKEND\"] = {backend!r}", *extra, "import keras",
            "from keras import layers", ""]


def gen_keras3(backend: str) -> Callable[[Spec], list[str]]:
    def gen(spec: Spec) -> list[str]:
        return [*_keras3_imports(backend), *_epsilon_line(spec, "keras.config.set_epsilon"),
                *_keras_model(spec, "keras", "negative_slope", "keras.utils.set_random_seed"),
                *keras_fit(spec, "keras")]

    return gen


def _loop_epochs(spec: Spec, step_call: str, loss_value: str) -> list[str]:
    """A plain loop over the batch plan; the epoch's loss is the mean over its rows."""
    bs = spec.training["batch_size"]
    return ["for epoch, order in enumerate(epoch_orders):  # frameworkbench's batch order", "    total = 0.0",
            f"    for i in range(0, len(order), {bs}):", f"        idx = order[i:i + {bs}]",
            f"        loss{', state' if 'state' in step_call else ''} = {step_call}",
            f"        total += {loss_value} * len(idx)", "    train_loss = total / len(X_train)",
            "    print(f\"epoch {epoch + 1}: loss {train_loss:.4f}\")"]


def _loop_final(spec: Spec, val_loss: str) -> str:
    val = f", \"val_loss\", {val_loss}" if _has_val(spec) else ""
    return f"print(\"{FINAL_PREFIX} loss\", train_loss{val})"


def _keras_val(spec: Spec) -> list[str]:
    return ["val_loss = float(loss_fn(y_val, model(X_val, training=False)))"] if _has_val(spec) else []


def gen_tf_gradienttape(spec: Spec) -> list[str]:
    return ["import os", "", "os.environ[\"TF_USE_LEGACY_KERAS\"] = \"1\"  # tf.keras = Keras 2 (the tf_keras package)",
            "import tensorflow as tf", "from tensorflow.keras import layers", "",
            *_epsilon_line(spec, "tf.keras.backend.set_epsilon"),
            *_keras_model(spec, "tf.keras", "alpha", "tf.keras.utils.set_random_seed"),
            f"loss_fn = tf.keras.losses.{KERAS_LOSS_CLASSES[spec.loss['name']]}()",
            f"optimizer = {keras_optimizer(spec, 'tf.keras')}", "", "",
            "@tf.function", "def train_step(x, y):", "    with tf.GradientTape() as tape:",
            "        loss = loss_fn(y, model(x, training=True))",
            "    grads = tape.gradient(loss, model.trainable_variables)",
            "    optimizer.apply_gradients(zip(grads, model.trainable_variables))", "    return loss", "", "",
            *_loop_epochs(spec, "train_step(X_train[idx], y_train[idx])", "float(loss)"), *_keras_val(spec)]


def gen_keras_stateless(spec: Spec) -> list[str]:
    return [*_keras3_imports("jax", ("import jax",)), *_epsilon_line(spec, "keras.config.set_epsilon"),
            *_keras_model(spec, "keras", "negative_slope", "keras.utils.set_random_seed"),
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
            *_loop_epochs(spec, "train_step(state, X_train[idx], y_train[idx])", "float(loss)"),
            "for variable, value in zip(model.trainable_variables, state[0]):", "    variable.assign(value)",
            *_keras_val(spec)]


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
    adam = opt["name"] == "adam"
    if adam:
        args = [f"lr={opt['learning_rate']!r}"]
        if (opt["beta_1"], opt["beta_2"]) != (0.9, 0.999):
            args.append(f"betas=({opt['beta_1']!r}, {opt['beta_2']!r})")
        if opt["epsilon"] != TORCH_ADAM_EPS:
            args.append(f"eps={opt['epsilon']!r}")
        optimizer = f"torch.optim.Adam(model.parameters(), {', '.join(args)})"
    else:
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        optimizer = f"torch.optim.SGD(model.parameters(), lr={opt['learning_rate']!r}{mom})"
    lines = ["import torch", "from torch import nn", "", *_seed_line(spec, "torch.manual_seed"),
             "model = nn.Sequential("]
    lines += [f"    {m}," for m in mods]
    lines += [")"]
    if spec.init == "shared":
        biases = {lay.use_bias for lay in spec.dense_layers}
        lines += [f"{ALIGN_TAG} start from its shared initial weights (kernels are (in, out): transpose)",
                  "with torch.no_grad():",
                  "    for linear, weights in zip([m for m in model if isinstance(m, nn.Linear)], initial_weights):",
                  "        linear.weight.copy_(torch.from_numpy(weights[0].T))"]
        if biases == {True}:
            lines += ["        linear.bias.copy_(torch.from_numpy(weights[1]))"]
        elif True in biases:
            lines += ["        if linear.bias is not None:",
                      "            linear.bias.copy_(torch.from_numpy(weights[1]))"]
        lines += [""]
    if fold_softmax:
        lines += ["criterion = nn.CrossEntropyLoss()  # takes logits: the output softmax is folded into the loss"]
    else:
        lines += [f"criterion = {criterion}"]
    lines += [f"optimizer = {optimizer}"]
    eps_hat = []
    if adam:  # frameworkbench's aligned Adam is Keras' (epsilon added to sqrt(v), not to its bias-corrected value)
        lines += [f"step = 0  {ALIGN_TAG} Adam's epsilon in Keras' form (epsilon-hat), set every step"]
        eps_hat = [f"        step += 1  {ALIGN_TAG} epsilon-hat",
                   f"        optimizer.param_groups[0][\"eps\"] = {opt['epsilon']!r} / "
                   f"(1 - {opt['beta_2']!r} ** step) ** 0.5  {ALIGN_TAG} epsilon-hat"]
    lines += ["", "X_t, y_t = torch.from_numpy(X_train), torch.from_numpy(y_train)",
              "for epoch, order in enumerate(epoch_orders):  # frameworkbench's batch order", "    total = 0.0",
              f"    for idx in torch.from_numpy(order).split({t['batch_size']}):",
              "        optimizer.zero_grad()", "        loss = criterion(model(X_t[idx]), y_t[idx])",
              "        loss.backward()", *eps_hat, "        optimizer.step()",
              "        total += loss.item() * len(idx)",
              "    train_loss = total / len(X_t)", "    print(f\"epoch {epoch + 1}: loss {train_loss:.4f}\")"]
    if _has_val(spec):
        lines += ["model.eval()", "with torch.no_grad():",
                  "    val_loss = criterion(model(torch.from_numpy(X_val)), torch.from_numpy(y_val)).item()"]
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
FIT_TARGETS = ("tf.keras", "keras:tensorflow", "keras:jax", "keras:torch")  # final losses from fit's history
PARAM_LINE = {"torch": "print(\"params:\", sum(p.numel() for p in model.parameters()))"}


def generate(spec: Spec, target: str) -> str:
    """The runnable script for ``spec`` in ``target``'s framework."""
    if target not in GENERATORS:
        raise SpecError([unknown("--target", "codegen target", target, GENERATORS)])
    final = keras_final(spec) if target in FIT_TARGETS else _loop_final(spec, "val_loss")
    lines = [f"# {spec.name}: generated by `frameworkbench codegen` for target {target}", *data_block(spec), "", "",
             f"{MODEL_MARK} ({target})", *GENERATORS[target](spec), "", CHECK_MARK, final,
             PARAM_LINE.get(target, "print(\"params:\", model.count_params())")]
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
