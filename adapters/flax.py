"""Flax NNX + Optax: JAX's own neural-network library, trained by a hand-written ``jax.jit`` loop.

The model is an ``nnx.Sequential`` of ``nnx.Linear`` layers and :class:`Activation` modules;
the optimiser an ``nnx.Optimizer`` over an optax transformation. The training step is the
functional pattern of Flax's performance guide: ``nnx.split`` the model and optimiser once per
``train`` call (state as a flat list of arrays), ``nnx.merge`` inside one ``jax.jit`` function
that runs ``nnx.value_and_grad`` and ``optimizer.update``, and ``nnx.update`` the objects with
the new state at the end of the call.

Aligned policy: Adam in Keras' epsilon-hat form and SGD momentum as Keras writes it (both
small custom optax transformations, :func:`keras_adam`, :func:`keras_sgd`), cross-entropies
clipped at the spec's epsilon, the spec's activation parameters. Native policy: ``optax.adam``
/ ``optax.sgd`` defaults (eps 1e-8 added to sqrt(v_hat)), unclipped logs of the probabilities,
``jax.nn`` activation defaults, nnx.Linear's own init (lecun_normal kernel, zero bias).
"""
from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation as SpecActivation
from frameworkbench.spec import Spec
from frameworkbench.weights import DenseWeights

from . import _runtime
from .base import Adapter

TRAINING_API = "Flax NNX model + optax optimizer, jax.jit train step (nnx.split/merge, nnx.value_and_grad)"


# ----------------------------------------------------------------------------- model
class Activation(nnx.Module):
    """One spec activation as an NNX module; its parameter (slope, alpha) is a static attribute."""

    def __init__(self, name: str, negative_slope: float | None = None, alpha: float | None = None) -> None:
        self.name = name
        self.negative_slope = negative_slope
        self.alpha = alpha

    def __call__(self, x):
        if self.name == "leaky_relu":
            return jax.nn.leaky_relu(x) if self.negative_slope is None else jax.nn.leaky_relu(x, self.negative_slope)
        if self.name == "elu":
            return jax.nn.elu(x) if self.alpha is None else jax.nn.elu(x, self.alpha)
        if self.name == "softmax":
            return jax.nn.softmax(x, axis=-1)
        return {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}[self.name](x)


def activation(act: SpecActivation, native: bool) -> Activation | None:
    """The module for ``act`` (None for linear); native leaves slope/alpha to jax.nn's defaults."""
    if act.name == "linear":
        return None
    if act.name == "leaky_relu":
        return Activation(act.name, negative_slope=None if native else act.param("negative_slope"))
    if act.name == "elu":
        return Activation(act.name, alpha=None if native else act.param("alpha"))
    return Activation(act.name)


# ----------------------------------------------------------------------------- losses
def loss_function(loss: dict, native: bool = False) -> Callable:
    """``f(probabilities, targets) -> mean loss``. Aligned: probabilities clipped to
    [eps, 1-eps] like Keras; native: plain logs (optax's cross-entropies take logits)."""
    name = loss["name"]
    if name == "mse":
        return lambda p, t: jnp.mean(jnp.square(p - t))
    eps = None if native else loss["epsilon"]

    def log(p):
        return jnp.log(p if eps is None else jnp.clip(p, eps, 1 - eps))

    def log1m(p):
        return jnp.log(1 - p if eps is None else 1 - jnp.clip(p, eps, 1 - eps))

    if name == "binary_crossentropy":
        return lambda p, t: -jnp.mean(t * log(p) + (1 - t) * log1m(p))
    if name == "sparse_categorical_crossentropy":
        return lambda p, t: -jnp.mean(jnp.take_along_axis(log(p), t.reshape(-1, 1).astype(jnp.int32), axis=-1))
    return lambda p, t: -jnp.mean(jnp.sum(t * log(p), axis=-1))


# ----------------------------------------------------------------------------- optimisers
class KerasAdamState(NamedTuple):
    count: jax.Array
    m: Any
    v: Any


def keras_adam(learning_rate: float, beta_1: float, beta_2: float, epsilon: float) -> optax.GradientTransformation:
    """Adam exactly as Keras computes it (epsilon-hat form), as an optax transformation:
    alpha = lr·sqrt(1-b2^t)/(1-b1^t); m += (g-m)(1-b1); v += (g²-v)(1-b2); w -= m·alpha/(sqrt(v)+eps).

    ``optax.adam`` divides by sqrt(v_hat) + eps instead, and its ``eps_root`` goes under the
    root, so neither reproduces Keras' update."""

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return KerasAdamState(jnp.zeros([], jnp.int32), zeros, jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        del params
        t = (state.count + 1).astype(jnp.float32)
        alpha = learning_rate * jnp.sqrt(1 - jnp.power(jnp.float32(beta_2), t)) / (1 - jnp.power(jnp.float32(beta_1), t))
        m = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1), state.m, grads)
        v = jax.tree.map(lambda v, g: v + (jnp.square(g) - v) * (1 - beta_2), state.v, grads)
        updates = jax.tree.map(lambda m, v: -((m * alpha) / (jnp.sqrt(v) + epsilon)), m, v)
        return updates, KerasAdamState(state.count + 1, m, v)

    return optax.GradientTransformation(init, update)


def keras_sgd(learning_rate: float, momentum: float) -> optax.GradientTransformation:
    """SGD as Keras computes it: m = m·momentum - g·lr; w += m (plain w -= g·lr without momentum).
    ``optax.sgd`` keeps t = g + momentum·t and applies -lr·t: equal in exact arithmetic."""
    if not momentum:
        return optax.GradientTransformation(
            lambda params: optax.EmptyState(),
            lambda g, state, params=None: (jax.tree.map(lambda x: -(x * learning_rate), g), state))

    def init(params):
        return optax.TraceState(trace=jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        m = jax.tree.map(lambda m, g: m * momentum - g * learning_rate, state.trace, grads)
        return m, optax.TraceState(trace=m)

    return optax.GradientTransformation(init, update)


def transformation(opt: dict, native: bool = False) -> optax.GradientTransformation:
    """The optax transformation for the spec's optimiser (see module docstring for the policies)."""
    if opt["name"] == "adam":
        if native:
            return optax.adam(opt["learning_rate"], b1=opt["beta_1"], b2=opt["beta_2"])
        return keras_adam(opt["learning_rate"], opt["beta_1"], opt["beta_2"], opt["epsilon"])
    if native:
        return optax.sgd(opt["learning_rate"], momentum=opt["momentum"] or None)
    return keras_sgd(opt["learning_rate"], opt["momentum"])


# ----------------------------------------------------------------------------- adapter
class _Training:
    """Per-model training objects: optimiser, loss, the jitted step and its graph definition."""

    def __init__(self, model: nnx.Module, spec: Spec, native: bool, probe: Callable | None) -> None:
        self.optimizer = nnx.Optimizer(model, transformation(spec.optimizer, native), wrt=nnx.Param)
        self.loss_fn = loss_function(spec.loss, native)
        # The step takes and returns the state as a flat list of arrays: flattening a list costs
        # the jitted call less than flattening nnx.State (about a third less per step on the CPU).
        graphdef, state = nnx.split((model, self.optimizer))
        self.treedef = jax.tree.structure(state)
        treedef, loss_fn = self.treedef, self.loss_fn

        def loss_of(m, x, y):
            pred = m(x)
            if probe is not None:
                probe(pred)
            return loss_fn(pred, y)

        @jax.jit
        def step(leaves, x, y):
            m, opt = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
            loss, grads = nnx.value_and_grad(loss_of)(m, x, y)
            opt.update(m, grads)
            return loss, jax.tree.leaves(nnx.split((m, opt))[1])

        self.step = step

    def leaves(self, model: nnx.Module) -> list:
        return jax.tree.leaves(nnx.split((model, self.optimizer))[1])

    def write_back(self, model: nnx.Module, leaves: list) -> None:
        nnx.update((model, self.optimizer), jax.tree.unflatten(self.treedef, leaves))


class FlaxAdapter(Adapter):
    """Flax NNX on CPU or GPU (whatever ``jax.devices(kind)`` offers)."""

    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})
    TRAINING_API = TRAINING_API

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self._training: "weakref.WeakKeyDictionary[nnx.Module, _Training]" = weakref.WeakKeyDictionary()
        self._forward: "weakref.WeakKeyDictionary[nnx.Module, tuple]" = weakref.WeakKeyDictionary()
        self._probes: "weakref.WeakKeyDictionary[nnx.Module, Callable]" = weakref.WeakKeyDictionary()
        self._spec_loss: dict | None = None
        self._spec_opt: dict | None = None

    @property
    def native(self) -> bool:
        return self.policy == "native"

    @property
    def jax_device(self):
        return jax.devices(self.device)[0]

    def is_available(self, device: str) -> str | None:
        return _runtime.jax_unavailable(device)

    def configure(self) -> dict[str, Any]:
        return _runtime.jax_configure(self.threads, not self.native)

    # -- model -------------------------------------------------------------------
    def build(self, spec: Spec, seed: int) -> nnx.Sequential:
        self._spec_loss, self._spec_opt = spec.loss, spec.optimizer
        layers: list = []
        fan_in = spec.n_features
        with jax.default_device(self.jax_device):
            rngs = nnx.Rngs(seed)  # native init: nnx.Linear's own initialisers from the run seed
            for lay in spec.layers:
                if lay.type == "dense":
                    layers.append(nnx.Linear(fan_in, lay.units, use_bias=lay.use_bias, rngs=rngs))
                    fan_in = lay.units
                act = activation(lay.activation, self.native)
                if act is not None:
                    layers.append(act)
            return nnx.Sequential(*layers)

    def _linears(self, model: nnx.Sequential) -> list[nnx.Linear]:
        return [lay for lay in model.layers if isinstance(lay, nnx.Linear)]

    def _changed(self, model: nnx.Module) -> None:
        self._forward.pop(model, None)

    def set_weights(self, model: nnx.Sequential, weights: list[DenseWeights]) -> None:
        dev = self.jax_device
        for lin, w in zip(self._linears(model), weights, strict=True):
            lin.kernel.set_value(jax.device_put(np.asarray(w.kernel, np.float32), dev))  # (in, out) like Keras
            if w.bias is not None:
                lin.bias.set_value(jax.device_put(np.asarray(w.bias, np.float32), dev))
        self._changed(model)

    def get_weights(self, model: nnx.Sequential) -> list[DenseWeights]:
        return [DenseWeights(np.array(lin.kernel.get_value()),
                             None if lin.bias is None else np.array(lin.bias.get_value()))
                for lin in self._linears(model)]

    def count_params(self, model: nnx.Sequential) -> int:
        return int(sum(leaf.size for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))))

    # -- training ----------------------------------------------------------------
    def _state_for(self, model: nnx.Module, spec: Spec) -> _Training:
        if model not in self._training:
            self._training[model] = _Training(model, spec, self.native, self._probes.get(model))
        return self._training[model]

    def train(self, model: nnx.Sequential, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer) -> float:
        tr = self._state_for(model, spec)
        dev = self.jax_device
        xs, ys = jax.device_put(x, dev), jax.device_put(y, dev)
        state = tr.leaves(model)
        total = 0.0
        try:
            for i in range(0, len(x), batch_size):
                timer.start()
                loss, state = tr.step(state, xs[i:i + batch_size], ys[i:i + batch_size])
                value = float(loss)  # host copy: the step has finished
                timer.stop()
                total += value * min(batch_size, len(x) - i)
        finally:  # the objects get the state the last finished step left
            tr.write_back(model, state)
            self._changed(model)
        return total / len(x)

    def _forward_fn(self, model: nnx.Module):
        if model not in self._forward:
            graphdef, state = nnx.split(model)
            leaves, treedef = jax.tree.flatten(state)
            fn = jax.jit(lambda s, x: nnx.merge(graphdef, jax.tree.unflatten(treedef, s))(x))
            self._forward[model] = (fn, leaves)
        return self._forward[model]

    def predict(self, model: nnx.Sequential, x: np.ndarray) -> np.ndarray:
        fn, state = self._forward_fn(model)
        return np.asarray(fn(state, jax.device_put(x, self.jax_device)))

    def infer(self, model: nnx.Sequential, x: np.ndarray) -> np.ndarray:
        fn, state = self._forward_fn(model)
        return np.asarray(fn(state, x))  # the host copy is the synchronisation

    def device_memory(self) -> dict[str, Any] | None:
        return _runtime.device_memory_peak("jax", self.device)

    def param_device(self, model: nnx.Sequential) -> str:
        return str(next(iter(self._linears(model)[0].kernel.get_value().devices())))

    def runtime_info(self, model: nnx.Sequential) -> dict[str, Any]:
        import flax

        return {"backend": "jax", "flax_version": flax.__version__, "optax_version": optax.__version__,
                "training_api": TRAINING_API, "jit": True,
                "jax_default_matmul_precision": str(jax.config.jax_default_matmul_precision)}

    # -- parity ------------------------------------------------------------------
    def loss_and_gradients(self, model: nnx.Sequential, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        loss_fn = loss_function(spec.loss, self.native)
        dev = self.jax_device
        loss, grads = nnx.value_and_grad(lambda m: loss_fn(m(jax.device_put(x, dev)), jax.device_put(y, dev)))(model)
        out = []
        for i, lay in enumerate(model.layers):
            if isinstance(lay, nnx.Linear):
                g = grads["layers"][i]
                out.append(DenseWeights(np.array(g["kernel"].get_value()),
                                        None if lay.bias is None else np.array(g["bias"].get_value())))
        return float(loss), out

    def defaults_in_use(self, model: nnx.Sequential) -> dict[str, Any]:
        acts = [lay for lay in model.layers if isinstance(lay, Activation)]
        leaky = [a for a in acts if a.name == "leaky_relu"]
        elu = [a for a in acts if a.name == "elu"]
        sig = inspect.signature
        try:  # the initialiser nnx.Linear really uses, read from flax itself
            from flax.nnx.nn import linear

            src = inspect.getsource(linear)
            init = ("lecun_normal (variance_scaling 1, fan_in, truncated normal)"
                    if "default_kernel_init = initializers.lecun_normal()" in src else "see flax.nnx.nn.linear")
            bias_init = "zeros" if "default_bias_init = initializers.zeros_init()" in src else "see flax.nnx.nn.linear"
        except (OSError, TypeError):
            init = bias_init = "nnx.Linear defaults"
        opt = self._spec_opt or {}
        adam = opt.get("name") == "adam"
        eps = (self._spec_loss or {}).get("epsilon")
        fn = loss_function({"name": "binary_crossentropy", "epsilon": eps or 1e-7}, self.native)
        leaky_default = sig(jax.nn.leaky_relu).parameters["negative_slope"].default
        elu_default = sig(jax.nn.elu).parameters["alpha"].default
        if self.native:
            optimizer = f"optax.{opt.get('name', 'adam')}"
            form = "added to sqrt(v_hat): w -= lr * m_hat/(sqrt(v_hat)+eps)"
            adam_eps = sig(optax.adam).parameters["eps"].default if adam else None
        else:
            optimizer = f"{__name__}.keras_{opt.get('name', 'adam')} (custom optax.GradientTransformation)"
            form = "epsilon-hat: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)"
            adam_eps = opt.get("epsilon") if adam else None
        return {
            "kernel_initializer": init,
            "bias_initializer": bias_init,
            "optimizer": optimizer,
            "adam_epsilon": adam_eps,
            "adam_epsilon_form": form if adam else None,
            "leaky_relu_slope": float(leaky[0].negative_slope if leaky[0].negative_slope is not None
                                      else leaky_default) if leaky else leaky_default,
            "leaky_relu_slope_source": "layer in model" if leaky else "jax.nn.leaky_relu default (not in model)",
            "elu_alpha": float(elu[0].alpha if elu[0].alpha is not None else elu_default) if elu else elu_default,
            "crossentropy_epsilon": None if self.native else eps,
            "bce_at_p0_y1": float(fn(jnp.zeros((1, 1)), jnp.ones((1, 1)))),
            "tf32": str(jax.config.jax_default_matmul_precision or "default (TF32 on GPU)"),
        }

    # -- diagnostics (read by adapters._diagnostics) --------------------------------
    def activation_callable(self, model: nnx.Sequential) -> Callable:
        """The activation module of a ``[dense(linear), activation]`` model: its last layer."""
        return model.layers[-1]

    def execution_variants(self) -> dict[str, dict]:
        """Compiled by default (jax.jit step); eager under ``jax.disable_jit()``. A probe is called
        on the prediction inside the step's loss."""
        import contextlib

        def setup(eager: bool):
            def attach(model, probe):
                if probe is not None:
                    self._probes[model] = probe
                return model, (jax.disable_jit() if eager else contextlib.nullcontext())

            return attach

        return {"default": {"is": "compiled", "how": "jax.jit train step", "setup": setup(False)},
                "eager": {"how": "jax.disable_jit()", "setup": setup(True)},
                "compiled": {"how": "jax.jit train step", "setup": setup(False)}}

    def export_paths(self) -> list[tuple[str, str, Callable]]:
        """(name, kind, function) per export path; see :mod:`._diagnostics` for the function contract."""
        return [("Orbax checkpoint (nnx.state)", "framework", _orbax_checkpoint),
                ("jax.export (serialized StableHLO)", "server", _jax_export),
                ("SavedModel (jax2tf)", "server", _jax2tf_saved_model),
                ("TFLite (from jax2tf SavedModel)", "mobile", _tflite_from_jax2tf),
                ("ONNX", "server", _unsupported("ONNX: JAX has no ONNX exporter of its own (jax2onnx not used)"))]


# ----------------------------------------------------------------------------- export paths
def _unsupported(reason: str) -> Callable:
    def fn(adapter, model, workdir, one):
        raise NotImplementedError(f"unsupported: {reason}")

    return fn


def _pure_forward(model: nnx.Module):
    graphdef, state = nnx.split(model)
    return (lambda x: nnx.merge(graphdef, state)(x)), state


def _orbax_checkpoint(adapter, model, workdir, one):
    import orbax.checkpoint as ocp

    path = (workdir / "orbax").absolute()
    graphdef, state = nnx.split(model)
    with ocp.StandardCheckpointer() as ckpt:
        ckpt.save(path / "state", state)
        ckpt.wait_until_finished()
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
        restored = ckpt.restore(path / "state", abstract)
    fn = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))
    return path, lambda x: np.asarray(fn(restored, x))


def _jax_export(adapter, model, workdir, one):
    from jax import export

    fwd, _ = _pure_forward(model)
    shape = export.symbolic_shape(f"b, {one.shape[1]}")
    exported = export.export(jax.jit(fwd))(jax.ShapeDtypeStruct(shape, jnp.float32))
    path = workdir / "model.stablehlo.bin"
    path.write_bytes(exported.serialize())
    loaded = export.deserialize(bytearray(path.read_bytes()))
    call = jax.jit(loaded.call)
    return path, lambda x: np.asarray(call(np.asarray(x, np.float32)))


def _jax2tf_saved_model(adapter, model, workdir, one):
    from ._diagnostics import _host, _needs

    _needs("tensorflow", "jax2tf SavedModel export")
    import tensorflow as tf
    from jax.experimental import jax2tf

    fwd, _ = _pure_forward(model)
    module = tf.Module()
    module.f = tf.function(jax2tf.convert(fwd, polymorphic_shapes=[f"(b, {one.shape[1]})"]), autograph=False,
                           input_signature=[tf.TensorSpec([None, one.shape[1]], tf.float32)])
    path = workdir / "jax2tf_saved_model"
    tf.saved_model.save(module, str(path), signatures=module.f.get_concrete_function())
    loaded = tf.saved_model.load(str(path))
    return path, lambda x: _host(loaded.f(tf.constant(np.asarray(x, np.float32))))


def _tflite_from_jax2tf(adapter, model, workdir, one):
    from ._diagnostics import _tflite_interpreter

    import tensorflow as tf

    path = workdir / "jax2tf_saved_model"
    if not path.exists():
        raise RuntimeError("needs the jax2tf SavedModel export, which failed")
    content = tf.lite.TFLiteConverter.from_saved_model(str(path)).convert()
    out = workdir / "model.tflite"
    out.write_bytes(content)
    return out, _tflite_interpreter(content, one.shape[1])
