"""tf.keras code for a spec: ``fit`` (target ``tf.keras``) and a ``tf.GradientTape`` loop
(``tf:gradienttape``). Plain text builders: import no framework."""
from __future__ import annotations

from frameworkbench.codegen import Code, loop_epochs, loop_final
from frameworkbench.spec import Spec

from .._keras import codegen as kc

_IMPORTS = ["import os", "", "os.environ[\"TF_USE_LEGACY_KERAS\"] = \"1\"  # tf.keras = Keras 2 (the tf_keras package)",
            "import tensorflow as tf", "from tensorflow.keras import layers", ""]


def _model(spec: Spec) -> list[str]:
    return [*_IMPORTS, *kc.epsilon_line(spec, "tf.keras.backend.set_epsilon"),
            *kc.model(spec, "tf.keras", "alpha", "tf.keras.utils.set_random_seed")]


def fit(spec: Spec, target) -> Code:
    return Code([*_model(spec), *kc.fit(spec, "tf.keras")], kc.fit_check(spec))


def gradient_tape(spec: Spec, target) -> Code:
    body = [*_model(spec), kc.loss_object(spec, "tf.keras"), f"optimizer = {kc.optimizer(spec, 'tf.keras')}", "", "",
            "@tf.function", "def train_step(x, y):", "    with tf.GradientTape() as tape:",
            "        loss = loss_fn(y, model(x, training=True))",
            "    grads = tape.gradient(loss, model.trainable_variables)",
            "    optimizer.apply_gradients(zip(grads, model.trainable_variables))", "    return loss", "", "",
            *loop_epochs(spec, "train_step(X_train[idx], y_train[idx])", "float(loss)"), *kc.val_loss(spec)]
    return Code(body, [loop_final(spec), kc.PARAMS])
