"""What tf.keras (Keras 2) and standalone Keras 3 adapters share: the Keras API itself.

Layers are built by :data:`BUILDERS` (one builder per layer type); backend-specific steps
(placement, matmul precision) go through ``self.runtime``, gradients through :data:`GRADIENTS`.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation, Spec
from frameworkbench.weights import DenseWeights

from ..base import Adapter, Unsupported

from . import LOSSES, attention, norm, recurrent

PREDICT_BATCH = 4096
PLAIN_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax"}


# ----------------------------------------------------------------------------- layer builders
def _dense(adapter: "KerasAdapter", lay, input_shape) -> list:
    plain = lay.activation.name in PLAIN_ACTIVATIONS
    out = [adapter.keras.layers.Dense(lay.units, activation=lay.activation.name if plain else None,
                                      use_bias=lay.use_bias)]
    return out if plain else out + [adapter.activation_layer(lay.activation)]


def _activation(adapter: "KerasAdapter", lay, input_shape) -> list:
    return [adapter.activation_layer(lay.activation)]


def _conv(adapter: "KerasAdapter", lay, input_shape) -> list:
    plain = lay.activation.name in PLAIN_ACTIVATIONS
    cls = getattr(adapter.keras.layers, f"Conv{lay.RANK}D")
    out = [cls(lay.filters, kernel_size=lay.window, strides=lay.steps, padding=lay.padding,
               activation=lay.activation.name if plain else None, use_bias=lay.use_bias)]
    return out if plain else out + [adapter.activation_layer(lay.activation)]


def _pool(adapter: "KerasAdapter", lay, input_shape) -> list:
    kind = {"max": "Max", "avg": "Average"}[lay.KIND]
    if lay.type.startswith("global_"):
        return [getattr(adapter.keras.layers, f"Global{kind}Pooling{lay.RANK}D")()]
    cls = getattr(adapter.keras.layers, f"{kind}Pooling{lay.RANK}D")
    return [cls(pool_size=lay.window, strides=lay.steps, padding=lay.padding)]


def _flatten(adapter: "KerasAdapter", lay, input_shape) -> list:
    return [adapter.keras.layers.Flatten()]


BUILDERS = {"dense": _dense, "activation": _activation, "conv1d": _conv, "conv2d": _conv, "flatten": _flatten,
            **{f"{g}{k}_pool{r}d": _pool for g in ("", "global_") for k in ("max", "avg") for r in (1, 2)},
            **norm.BUILDERS, **recurrent.BUILDERS, **attention.BUILDERS}
# Keras layer class name -> the spec layer type whose weights it holds
WEIGHTED = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d",
            **norm.WEIGHTED, **recurrent.WEIGHTED, **attention.WEIGHTED}
LAYER_FAMILIES = (norm, recurrent, attention)  # builder modules with their own defaults audit


def variable_names(layer: Any, variables: list) -> list[str]:
    """The names a layer module's ``to_family(..., "keras")`` uses for ``variables`` of ``layer``:
    the variable's path below the layer, shortened to its last part where that is unique
    (``kernel``, ``moving_mean``; ``query/kernel`` in a multi-head attention layer)."""
    full = []
    for v in variables:
        path = (getattr(v, "path", None) or v.name).split(":")[0]
        head, _, rest = path.partition(layer.name + "/")
        full.append(rest if rest else path)
    last = [p.rsplit("/", 1)[-1] for p in full]
    if len(set(last)) == len(last):
        return last
    return ["/".join(p.split("/")[-2:]) for p in full]


# ----------------------------------------------------------------------------- gradients per backend
def _tf_gradients(model, variables, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = model.loss(y, model(x, training=True))
    # an embedding's gradient comes back as tf.IndexedSlices (the rows the batch used): made dense
    return loss, [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]


def _jax_gradients(model, variables, x, y):
    import jax

    tv, ntv = model.trainable_variables, model.non_trainable_variables
    where = {id(v): i for i, v in enumerate(tv)}

    def f(values):
        out, _ = model.stateless_call(values, [v.value for v in ntv], x, training=True)
        return model.loss(y, out)

    loss, all_grads = jax.value_and_grad(f)([v.value for v in tv])
    return loss, [all_grads[where[id(v)]] for v in variables]


def _torch_gradients(model, variables, x, y):
    import torch

    with torch.random.fork_rng():  # Keras' unseeded dropout draws from torch's global stream: left as it was
        loss = model.loss(y, model(x, training=True))
    return loss, torch.autograd.grad(loss, [v.value for v in variables])


GRADIENTS = {"tensorflow": _tf_gradients, "jax": _jax_gradients, "torch": _torch_gradients}


# ----------------------------------------------------------------------------- adapter
class OwnLoop:
    """Mixin for Keras-model targets trained by their own loop (:meth:`train`) instead of ``model.fit``.

    Put it before the Keras adapter in the bases; set ``TRAINING_API`` to describe the loop.
    """

    TRAINING_API = ""
    SUPPORTED_COMPILE = frozenset({"default"})  # the loop compiles its own step (jax.jit / tf.function)
    SUPPORTED_PRECISIONS = frozenset({"float32", "tf32", "mixed_bfloat16", "bfloat16"})  # no loss scaling

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch) -> None:
        """Every epoch through this class's own loop, never the Keras adapter's ``model.fit``."""
        return Adapter.fit(self, model, spec, x, y, plan, batch_size, on_epoch)

    def runtime_info(self, model: Any) -> dict[str, Any]:
        return {**super().runtime_info(model), "training_api": self.TRAINING_API}


class KerasAdapter(Adapter):
    """Shared Keras implementation; subclasses set ``self.keras`` and ``self.backend``."""

    FAMILY = "keras"
    BUILDERS = BUILDERS
    keras: Any
    backend = "tensorflow"
    SLOPE_ARG = "negative_slope"  # LeakyReLU's slope argument (tf_keras calls it alpha)
    FIT_DEFAULT = "model.fit defaults (jit_compile='auto')"  # how fit runs its step (diagnostics)
    SUPPORTED_COMPILE = frozenset({"default", "eager", "jit"})
    # --compile -> model.compile arguments; jit: XLA on TensorFlow and JAX, torch.compile on the torch backend
    COMPILE_ARGS = {"default": {}, "eager": {"run_eagerly": True, "jit_compile": False}, "jit": {"jit_compile": True}}

    # -- model -------------------------------------------------------------------
    def activation_layer(self, act: Activation):
        K = self.keras
        native = self.policy == "native"  # native: the layer's own default slope / alpha
        if act.name == "leaky_relu":
            return K.layers.LeakyReLU(**({} if native else {self.SLOPE_ARG: act.param("negative_slope")}))
        if act.name == "elu":
            return K.layers.ELU(**({} if native else {"alpha": act.param("alpha")}))
        return K.layers.Activation(act.name)

    def _optimizer(self, opt: dict):
        K = self.keras
        if opt["name"] == "adam":
            eps = {} if self.policy == "native" else {"epsilon": opt["epsilon"]}
            return K.optimizers.Adam(learning_rate=opt["learning_rate"], beta_1=opt["beta_1"],
                                     beta_2=opt["beta_2"], **eps)
        return K.optimizers.SGD(learning_rate=opt["learning_rate"], momentum=opt["momentum"])

    def _set_epsilon(self, eps: float) -> None:
        self.keras.backend.set_epsilon(eps)

    def build(self, spec: Spec, seed: int) -> Any:
        K = self.keras
        if spec.init == "native":
            K.utils.set_random_seed(seed)
        if "epsilon" in spec.loss and self.policy == "aligned":
            self._set_epsilon(spec.loss["epsilon"])
        # the dtype policy: float32 (also for tf32), mixed_bfloat16 / mixed_float16 (float32 variables,
        # compile() wraps the optimizer in a LossScaleOptimizer for float16) or bfloat16 (everything)
        K.mixed_precision.set_global_policy("float32" if self.compute_dtype == "float32" else self.precision)
        layers = [K.Input(shape=tuple(spec.input_shape), dtype=spec.input_dtype), *self.build_layers(spec)]
        with self.runtime.placement(self.device):
            model = K.Sequential(layers)
            model.compile(optimizer=self._optimizer(spec.optimizer),
                          loss=getattr(K.losses, LOSSES[spec.loss["name"]])(), **self.COMPILE_ARGS[self.compile])
        if self.compile == "jit" and not getattr(model, "jit_compile", False):
            raise Unsupported(f"unsupported: --compile jit on target {self.target.name!r}: Keras turned "
                              "jit_compile off for this model (no silent fallback)")
        return model

    def _dense_layers(self, model: Any) -> list:
        return [lay for lay in model.layers if isinstance(lay, self.keras.layers.Dense)]

    def _weighted_layers(self, model: Any) -> list[tuple[Any, str]]:
        """(Keras layer, spec layer type) of every layer with weights, in order."""
        return [(lay, WEIGHTED[type(lay).__name__]) for lay in model.layers if type(lay).__name__ in WEIGHTED]

    def set_weights(self, model: Any, weights: list[DenseWeights]) -> None:
        for (layer, kind), w in zip(self._weighted_layers(model), weights, strict=True):
            arrays = self.to_native(w, kind)
            layer.set_weights([arrays[name] for name in variable_names(layer, layer.weights)])

    def get_weights(self, model: Any) -> list[DenseWeights]:
        out = []
        for layer, kind in self._weighted_layers(model):
            arrays = [np.asarray(a, dtype=np.float32) for a in layer.get_weights()]  # bfloat16 variables too
            out.append(self.from_native(dict(zip(variable_names(layer, layer.weights), arrays)), kind))
        return out

    def count_params(self, model: Any) -> int:
        """Trainable parameters (``model.count_params()`` also counts BatchNormalization's moving statistics)."""
        return int(sum(np.prod(v.shape) for v in model.trainable_weights))

    # -- training ----------------------------------------------------------------
    def _timer_callback(self, current: Callable[[], StepTimer]):
        K = self.keras

        class StepClock(K.callbacks.Callback):
            # Keras hands batch-end logs to a callback as host values, so the step has finished.
            def on_train_batch_begin(self, batch, logs=None):
                current().start()

            def on_train_batch_end(self, batch, logs=None):
                current().stop()

        return StepClock()

    def train(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer, order: np.ndarray | None = None) -> float:
        if order is not None:  # one epoch on its own (probes); full runs go through fit
            x, y = x[order], y[order]
        hist = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                         callbacks=[self._timer_callback(lambda: timer)])
        return float(hist.history["loss"][0])

    def fit(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray, plan: np.ndarray, batch_size: int,
            on_epoch) -> None:
        """Two ``fit`` calls over the plan's batches: the instrumented epochs
        (:func:`~frameworkbench.measure.instrumented`) with a per-batch timing callback, the rest
        without one (such a callback costs Keras its asynchronous dispatch, ~15 % of a small step on
        tf.keras). The batches come from a prefetching tf.data pipeline (``tf.gather``) on TensorFlow,
        from a generator gathering each batch from the plan's indices elsewhere; one ``fit`` call per
        epoch would add a call's setup (tens of milliseconds) to every epoch."""
        from frameworkbench.measure import INSTRUMENTED_EPOCHS, instrumented

        K, state = self.keras, {"timer": StepTimer(), "stop": False}
        data, tf_input = self.resident(x, y), self.backend == "tensorflow"

        class EpochHook(K.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                state["timer"] = StepTimer(instrumented(epoch))
                if tf_input:
                    state["timer"].input_s = None  # gathered by tf.data's own threads, overlapped
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds = time.perf_counter() - self.t0
                if not on_epoch(epoch, float(logs["loss"]), state["timer"], seconds):
                    self.model.stop_training = state["stop"] = True

        split = min(INSTRUMENTED_EPOCHS, len(plan))
        for first, last in ((0, split), (split, len(plan))):
            if first >= last or state["stop"]:
                continue
            clock = [self._timer_callback(lambda: state["timer"])] if first == 0 else []
            model.fit(self._plan_input(data, plan[first:last], batch_size, state), epochs=last, initial_epoch=first,
                      steps_per_epoch=math.ceil(len(x) / batch_size), verbose=0, callbacks=clock + [EpochHook()])

    def _plan_input(self, data, plan: np.ndarray, batch_size: int, state: dict):
        """Exactly the plan's batches, in order, for ``model.fit``."""
        if self.backend == "tensorflow":
            import tensorflow as tf

            xs, ys = tf.constant(data[0]), tf.constant(data[1])
            return (tf.data.Dataset.from_tensor_slices(plan)
                    .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
                    .map(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)))
                    .prefetch(tf.data.AUTOTUNE))

        class Current:  # the input clock of whichever epoch is running when Keras pulls a batch
            def input_start(self):
                state["timer"].input_start()

            def input_stop(self):
                state["timer"].input_stop()

        def generate():
            for order in plan:
                yield from self.batches(data, order, batch_size, Current())

        return generate()

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, batch_size=min(len(x), PREDICT_BATCH), verbose=0), dtype=np.float32)

    def infer(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_on_batch(x), dtype=np.float32)

    def runtime_info(self, model: Any) -> dict[str, Any]:
        K = self.keras
        return {"keras_version": getattr(self, "version", None) or K.__version__, "keras_module": K.__name__,
                "jit_compile": bool(getattr(model, "jit_compile", False)),
                "run_eagerly": bool(model.run_eagerly)}

    # -- parity ------------------------------------------------------------------
    def _to_numpy(self, value) -> np.ndarray:
        if hasattr(value, "numpy") and not hasattr(value, "detach"):
            return np.asarray(value.numpy())
        if hasattr(value, "detach"):
            return value.detach().cpu().numpy()
        return np.asarray(value)

    def loss_and_gradients(self, model: Any, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        gradients = GRADIENTS.get(self.backend)
        if gradients is None:
            raise Unsupported(f"unsupported: gradients on Keras backend {self.backend!r} "
                              f"(supported: {', '.join(GRADIENTS)})")
        weighted = self._weighted_layers(model)
        per_layer = [layer.trainable_weights for layer, _ in weighted]
        state = [(v, np.array(v.numpy())) for v in model.non_trainable_variables]
        try:  # a training-mode call moves running statistics and dropout steps: the model is left as it was
            loss, grads = gradients(model, [v for vs in per_layer for v in vs], x, y)
        finally:
            for v, value in state:
                v.assign(value)
        it = iter(self._to_numpy(g) for g in grads)
        out = [self.from_native({name: next(it) for name in variable_names(layer, vs)}, kind)
               for (layer, kind), vs in zip(weighted, per_layer)]
        return float(self._to_numpy(loss)), out

    def _epsilon(self) -> float:
        return float(self.keras.backend.epsilon())

    def _loss_audit(self) -> dict[str, Any]:
        """What a Keras user's ``BinaryCrossentropy()`` does, measured through Keras' own sigmoid at a
        saturated output (logit -1000, p = 0 in float32), y = 1: the TensorFlow backends recover the
        logits the activation cached on its output (fused, ~1000); the others clip at epsilon (-log(eps))."""
        K = self.keras
        bce = K.losses.BinaryCrossentropy()
        p = K.activations.sigmoid(np.array([[-1000.0]], np.float32))
        at_zero = float(self._to_numpy(bce(np.array([[1.0]], np.float32), p)))
        fused = at_zero > -math.log(self._epsilon()) * 1.5
        form = (f"from_logits={bce.get_config()['from_logits']} on probabilities: "
                + ("the backend recovers the logits cached by the sigmoid/softmax output (fused, no clipping)"
                   if fused else "clipped to [epsilon, 1-epsilon]"))
        return {"crossentropy_form": form, "bce_at_p0_y1": at_zero}

    def defaults_in_use(self, model: Any) -> dict[str, Any]:
        import inspect

        K = self.keras
        dense = self._dense_layers(model)
        leaky = [lay for lay in model.layers if isinstance(lay, K.layers.LeakyReLU)]
        elu = [lay for lay in model.layers if isinstance(lay, K.layers.ELU)]
        sig = inspect.signature
        opt = model.optimizer
        return {
            "kernel_initializer": type(dense[0].kernel_initializer).__name__,
            "bias_initializer": type(dense[0].bias_initializer).__name__,
            "optimizer": f"{type(opt).__module__}.{type(opt).__name__}",
            "adam_epsilon": float(opt.epsilon) if hasattr(opt, "epsilon") else None,
            "adam_epsilon_form": "epsilon-hat: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)",
            "leaky_relu_slope": float(getattr(leaky[0], self.SLOPE_ARG)) if leaky else
            sig(K.layers.LeakyReLU.__init__).parameters[self.SLOPE_ARG].default,
            "leaky_relu_slope_source": "layer in model" if leaky else "LeakyReLU default (not in model)",
            "elu_alpha": float(elu[0].alpha) if elu else sig(K.layers.ELU.__init__).parameters["alpha"].default,
            "crossentropy_epsilon": self._epsilon(),
            "padding_same": ("Keras' own: output ceil(n/stride), extra padding at the end (asymmetric for even "
                             "windows and strides > 1); average pooling divides by the unpadded count"
                             if any(getattr(lay, "padding", "") == "same" for lay in model.layers) else None),
            **self._loss_audit(),
            "tf32": self.runtime.tf32(),
            **{k: v for fam in LAYER_FAMILIES for k, v in fam.defaults(self, model).items()},
        }
