"""Idiomatic Flax NNX + Optax code for a spec (the ``flax`` target's generator, :func:`generate`).

Plain text builders: import no framework. :func:`gen_flax` returns the lines of the "model and
training" part; the check part is codegen's loop ``final:`` line and :data:`PARAM_LINE`.
Idiomatic Flax folds a final sigmoid / softmax into optax's logit losses
(``sigmoid_binary_cross_entropy``, ``softmax_cross_entropy[_with_integer_labels]``), as the
torch generator folds softmax into ``nn.CrossEntropyLoss``.
"""
from __future__ import annotations

from frameworkbench.codegen import ALIGN_TAG, Code, loop_final
from frameworkbench.spec import Spec

from .._errors import Unsupported

# spec key: (optax.adam argument, its default)
OPTAX_ADAM = {"beta_1": ("b1", 0.9), "beta_2": ("b2", 0.999), "epsilon": ("eps", 1e-8)}
PARAM_LINE = "print(\"params:\", sum(p.size for p in jax.tree.leaves(nnx.state(model, nnx.Param))))"
_PLAIN = {"relu": "nnx.relu", "sigmoid": "nnx.sigmoid", "tanh": "nnx.tanh", "softmax": "nnx.softmax"}
# loss name -> (final activation folded into it, optax loss on logits)
_LOGIT_LOSSES = {"binary_crossentropy": ("sigmoid", "optax.sigmoid_binary_cross_entropy(logits, y)"),
                 "categorical_crossentropy": ("softmax", "optax.softmax_cross_entropy(logits, y)"),
                 "sparse_categorical_crossentropy": ("softmax",
                                                     "optax.softmax_cross_entropy_with_integer_labels(logits, y)")}


def _activation(act) -> list[str]:
    if act.name == "linear":
        return []
    if act.name == "leaky_relu":
        return [f"partial(nnx.leaky_relu, negative_slope={act.param('negative_slope')!r})"]
    if act.name == "elu":
        return [f"partial(nnx.elu, alpha={act.param('alpha')!r})"]
    return [_PLAIN[act.name]]


def _dense(lay, input_shape) -> list[str]:
    bias = "" if lay.use_bias else ", use_bias=False"
    return [f"nnx.Linear({input_shape[-1]}, {lay.units}{bias}, rngs=rngs)", *_activation(lay.activation)]


LINES = {"dense": _dense, "activation": lambda lay, input_shape: _activation(lay.activation)}


def _modules(spec: Spec, folded: bool) -> list[str]:
    mods = []
    for i, (lay, shape) in enumerate(zip(spec.layers, spec.shapes)):
        if lay.type not in LINES:
            raise Unsupported(f"unsupported: layer type {lay.type!r} in Flax codegen")
        exprs = LINES[lay.type](lay, shape)
        if folded and i == len(spec.layers) - 1 and lay.activation.name != "linear":
            exprs = exprs[:-1]  # the output activation is folded into optax's logit loss
        mods += exprs
    return mods


def _loss_lines(spec: Spec, folded: bool) -> list[str]:
    name = spec.loss["name"]
    if name == "mse":
        return ["    return optax.squared_error(model(x), y).mean()"]
    if folded:
        return ["    logits = model(x)", f"    return {_LOGIT_LOSSES[name][1]}.mean()"]
    eps = spec.loss["epsilon"]  # no optax loss on probabilities: write the clipped log out
    lines = [f"    p = jnp.clip(model(x), {eps!r}, 1 - {eps!r})"]
    if name == "binary_crossentropy":
        return lines + ["    return -(y * jnp.log(p) + (1 - y) * jnp.log(1 - p)).mean()"]
    if name == "sparse_categorical_crossentropy":
        return lines + ["    return -jnp.take_along_axis(jnp.log(p), y[:, None], axis=-1).mean()"]
    return lines + ["    return -(y * jnp.log(p)).sum(axis=-1).mean()"]


def _optimizer(spec: Spec) -> list[str]:
    """``tx = ...``: the idiomatic optax call, then (Adam) the same with Keras' epsilon-hat, tagged."""
    opt = spec.optimizer
    if opt["name"] != "adam":
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        return [f"tx = optax.sgd({opt['learning_rate']!r}{mom})"]
    args = [repr(opt["learning_rate"])]
    args += [f"{arg}={opt[key]!r}" for key, (arg, default) in OPTAX_ADAM.items() if key != "epsilon" and
             opt[key] != default]
    plain = args + ([f"eps={opt['epsilon']!r}"] if opt["epsilon"] != OPTAX_ADAM["epsilon"][1] else [])
    eps_hat = f"eps=lambda count: {opt['epsilon']!r} / (1 - {opt['beta_2']!r} ** (count + 1)) ** 0.5"
    return [f"tx = optax.adam({', '.join(plain)})",
            f"tx = optax.inject_hyperparams(optax.adam)({', '.join(args + [eps_hat])})  "
            f"{ALIGN_TAG} Adam's epsilon in Keras' form (epsilon-hat), set every step"]


def gen_flax(spec: Spec) -> list[str]:
    """The model-and-training lines for ``spec`` in Flax NNX + Optax (codegen's contract: reads
    ``initial_weights`` and ``epoch_orders`` from the data part, leaves ``train_loss`` and
    ``val_loss`` for the check part)."""
    t, layers = spec.training, spec.layers
    last = layers[-1].activation.name
    folded = spec.loss["name"] in _LOGIT_LOSSES and last == _LOGIT_LOSSES[spec.loss["name"]][0]
    mods = _modules(spec, folded)
    uses_partial = any(m.startswith("partial(") for m in mods)
    bs = t["batch_size"]
    uses_jnp = not folded and spec.loss["name"] != "mse"
    lines = [*(["from functools import partial", ""] if uses_partial else []),
             "import jax", *(["import jax.numpy as jnp"] if uses_jnp else []), "import optax",
             "from flax import nnx", "",
             f"rngs = nnx.Rngs({t['seed']})", "model = nnx.Sequential("]
    lines += [f"    {m}," for m in mods]
    lines += [")"]
    if spec.init == "shared":
        lines += [f"{ALIGN_TAG} start from its shared initial weights (kernels are (in, out) in Flax too)",
                  "for linear, weights in zip([m for m in model.layers if isinstance(m, nnx.Linear)], "
                  "initial_weights):", "    linear.kernel[...] = weights[0]",
                  "    if linear.bias is not None:", "        linear.bias[...] = weights[1]", ""]
    lines += [*_optimizer(spec), "optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)", "", ""]
    if folded:
        lines += [f"# the output {last} is folded into the loss (optax's cross-entropies take logits)"]
    lines += ["def loss_fn(model, x, y):", *_loss_lines(spec, folded), "", "",
              "@nnx.jit", "def train_step(model, optimizer, x, y):",
              "    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)",
              "    optimizer.update(model, grads)", "    return loss", "", "",
              "for epoch, order in enumerate(epoch_orders):  # frameworkbench's batch order", "    total = 0.0",
              f"    for i in range(0, len(order), {bs}):", f"        idx = order[i:i + {bs}]",
              "        loss = train_step(model, optimizer, X_train[idx], y_train[idx])",
              "        total += float(loss) * len(idx)", "    train_loss = total / len(X_train)",
              "    print(f\"epoch {epoch + 1}: loss {train_loss:.4f}\")"]
    if spec.data["validation_split"] > 0:
        lines += ["val_loss = float(loss_fn(model, X_val, y_val))"]
    return lines


def generate(spec: Spec, target) -> Code:
    return Code(gen_flax(spec), [loop_final(spec), PARAM_LINE])
