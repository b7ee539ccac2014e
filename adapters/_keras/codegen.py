"""Keras code for a spec, shared by the tf.keras and Keras 3 generators: the ``Sequential`` model
(one line builder per layer type), the optimiser, ``compile`` + ``fit`` over the batch plan."""
from __future__ import annotations

from frameworkbench.codegen import ALIGN_TAG, FINAL_PREFIX, has_val, seed_line
from frameworkbench.spec import OPTIMIZER_DEFAULTS, Spec

from .._errors import Unsupported
from . import LOSSES

KERAS_EPSILON = 1e-7  # Keras' default probability clipping (backend epsilon)


def activation_layer(act, slope_arg: str) -> str:
    if act.name == "leaky_relu":
        return f"layers.LeakyReLU({slope_arg}={act.param('negative_slope')!r})"
    if act.name == "elu":
        return f"layers.ELU(alpha={act.param('alpha')!r})"
    return f"layers.Activation({act.name!r})"


def _dense(lay, slope_arg: str) -> list[str]:
    act = lay.activation
    args = [str(lay.units)]
    plain = act.name not in ("leaky_relu", "elu")
    if plain and act.name != "linear":
        args.append(f"activation={act.name!r}")
    if not lay.use_bias:
        args.append("use_bias=False")
    return [f"layers.Dense({', '.join(args)})", *([] if plain else [activation_layer(act, slope_arg)])]


def _activation(lay, slope_arg: str) -> list[str]:
    return [] if lay.activation.name == "linear" else [activation_layer(lay.activation, slope_arg)]


LINES = {"dense": _dense, "activation": _activation}  # layer type -> the layer expressions it adds


def model_lines(spec: Spec, keras: str, slope_arg: str) -> list[str]:
    lines = [f"model = {keras}.Sequential([", f"    {keras}.Input(shape=({spec.n_features},)),"]
    for lay in spec.layers:
        if lay.type not in LINES:
            raise Unsupported(f"unsupported: layer type {lay.type!r} in Keras codegen")
        lines += [f"    {expr}," for expr in LINES[lay.type](lay, slope_arg)]
    return lines + ["])"]


def optimizer(spec: Spec, keras: str) -> str:
    opt = spec.optimizer
    name = opt["name"]
    cls = "Adam" if name == "adam" else "SGD"
    args = [f"learning_rate={opt['learning_rate']!r}"]
    args += [f"{k}={v!r}" for k, v in opt.items() if k not in ("name", "learning_rate")
             and v != OPTIMIZER_DEFAULTS[name][k]]
    return f"{keras}.optimizers.{cls}({', '.join(args)})"


def epsilon_line(spec: Spec, setter: str) -> list[str]:
    eps = spec.loss.get("epsilon")
    return [f"{setter}({eps!r})  # cross-entropy probability clipping"] if eps is not None and eps != KERAS_EPSILON \
        else []


def model(spec: Spec, keras: str, slope_arg: str, seed_call: str) -> list[str]:
    """The seeded model, and (``init: shared``) the shared initial weights loaded into it."""
    shared = [] if spec.init != "shared" else [
        f"{ALIGN_TAG} start from its shared initial weights",
        "for layer, weights in zip([lay for lay in model.layers if isinstance(lay, layers.Dense)], "
        "initial_weights):", "    layer.set_weights(weights)", ""]
    return [*seed_line(spec, seed_call), *model_lines(spec, keras, slope_arg), *shared]


def fit(spec: Spec, keras: str) -> list[str]:
    t = spec.training
    metrics = f", metrics={spec.metrics!r}" if spec.metrics else ""
    val = ", validation_data=(X_val, y_val)" if has_val(spec) else ""
    return [f"model.compile(optimizer={optimizer(spec, keras)}, loss={spec.loss['name']!r}{metrics})",
            f"for order in epoch_orders:  {ALIGN_TAG} its batch order, one fit call per epoch",
            f"    history = model.fit(X_train[order], y_train[order], batch_size={t['batch_size']}, epochs=1, "
            f"shuffle=False, verbose=2{val})"]


def fit_check(spec: Spec) -> list[str]:
    """``final:`` from fit's history, ``params:`` from ``count_params``."""
    val = ", \"val_loss\", history.history[\"val_loss\"][-1]" if has_val(spec) else ""
    return [f"print(\"{FINAL_PREFIX} loss\", history.history[\"loss\"][-1]{val})", PARAMS]


PARAMS = "print(\"params:\", model.count_params())"


def loss_object(spec: Spec, keras: str) -> str:
    return f"loss_fn = {keras}.losses.{LOSSES[spec.loss['name']]}()"


def val_loss(spec: Spec) -> list[str]:
    return ["val_loss = float(loss_fn(y_val, model(X_val, training=False)))"] if has_val(spec) else []
