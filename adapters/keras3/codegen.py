"""Keras 3 code for a spec: ``fit`` on the target's backend, and the stateless API under ``jax.jit``
(``keras:jax:stateless``). Plain text builders: import no framework."""
from __future__ import annotations

from frameworkbench.codegen import Code, loop_epochs, loop_final
from frameworkbench.spec import Spec

from .._keras import codegen as kc


def _model(spec: Spec, backend: str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["import os", "", f"os.environ[\"KERAS_BACKEND\"] = {backend!r}", *extra, "import keras",
            "from keras import layers", "", *kc.epsilon_line(spec, "keras.config.set_epsilon"),
            *kc.model(spec, "keras", "negative_slope", "keras.utils.set_random_seed")]


def fit(spec: Spec, target) -> Code:
    return Code([*_model(spec, target.backend), *kc.fit(spec, "keras")], kc.fit_check(spec))


def stateless(spec: Spec, target) -> Code:
    body = [*_model(spec, "jax", ("import jax",)), kc.loss_object(spec, "keras"),
            f"optimizer = {kc.optimizer(spec, 'keras')}",
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
            *loop_epochs(spec, "train_step(state, X_train[idx], y_train[idx])", "float(loss)"),
            "for variable, value in zip(model.trainable_variables, state[0]):", "    variable.assign(value)",
            *kc.val_loss(spec)]
    return Code(body, [loop_final(spec), kc.PARAMS])
