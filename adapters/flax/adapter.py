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
/ ``optax.sgd`` defaults (eps 1e-8 added to sqrt(v_hat)), optax's fused cross-entropies on logits
(the model ends in logits; ``predict`` applies the output activation), ``jax.nn`` activation defaults, nnx.Linear's own init (lecun_normal kernel, zero bias).
"""
from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation as SpecActivation
from frameworkbench.spec import Spec
from frameworkbench.weights import DenseWeights

from ..base import Adapter
from . import attention, norm, recurrent
from .optim import NATIVE_LOSSES, loss_function, transformation
from .probes import PROBES

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


def activation(act: SpecActivation, native: bool) -> list[Activation]:
    """The module for ``act`` (none for linear); native leaves slope/alpha to jax.nn's defaults."""
    if act.name == "linear":
        return []
    if act.name == "leaky_relu":
        return [Activation(act.name, negative_slope=None if native else act.param("negative_slope"))]
    if act.name == "elu":
        return [Activation(act.name, alpha=None if native else act.param("alpha"))]
    return [Activation(act.name)]


# ----------------------------------------------------------------------------- layer builders
def _dense(adapter: "FlaxAdapter", lay, input_shape, rngs: nnx.Rngs) -> list:
    linear = nnx.Linear(input_shape[-1], lay.units, use_bias=lay.use_bias, rngs=rngs)
    return [linear, *activation(lay.activation, adapter.native)]


def _activation_layer(adapter: "FlaxAdapter", lay, input_shape, rngs: nnx.Rngs) -> list:
    return activation(lay.activation, adapter.native)


class Pool(nnx.Module):
    """Window or global pooling of a channels-last array (Flax's layout, as Keras'); static attributes.

    ``padding: same`` is XLA's SAME, which is Keras' (extra padding at the end); average pooling
    divides by the unpadded count (``count_include_pad=False``), as Keras does."""

    def __init__(self, kind: str, rank: int, window: tuple | None = None, strides: tuple | None = None,
                 padding: str = "valid") -> None:
        self.kind, self.rank, self.window, self.strides, self.padding = kind, rank, window, strides, padding.upper()

    def __call__(self, x):
        if self.window is None:  # global
            axes = tuple(range(1, self.rank + 1))
            return x.mean(axis=axes) if self.kind == "avg" else x.max(axis=axes)
        if self.kind == "max":
            return nnx.max_pool(x, self.window, strides=self.strides, padding=self.padding)
        return nnx.avg_pool(x, self.window, strides=self.strides, padding=self.padding, count_include_pad=False)


class Flatten(nnx.Module):
    """Every value of a sample in one axis, channels-last (Keras') order."""

    def __call__(self, x):
        return x.reshape(x.shape[0], -1)


def _conv(adapter: "FlaxAdapter", lay, input_shape, rngs: nnx.Rngs) -> list:
    conv = nnx.Conv(input_shape[-1], lay.filters, lay.window, strides=lay.steps, padding=lay.padding.upper(),
                    use_bias=lay.use_bias, rngs=rngs)
    return [conv, *activation(lay.activation, adapter.native)]


def _pool(adapter: "FlaxAdapter", lay, input_shape, rngs: nnx.Rngs) -> list:
    if lay.type.startswith("global_"):
        return [Pool(lay.KIND, lay.RANK)]
    return [Pool(lay.KIND, lay.RANK, lay.window, lay.steps, lay.padding)]


BUILDERS = {"dense": _dense, "activation": _activation_layer, "conv1d": _conv, "conv2d": _conv,
            "flatten": lambda adapter, lay, input_shape, rngs: [Flatten()],
            **{f"{g}{k}_pool{r}d": _pool for g in ("", "global_") for k in ("max", "avg") for r in (1, 2)},
            **norm.BUILDERS, **recurrent.BUILDERS, **attention.BUILDERS}
LAYER_FAMILIES = (norm, recurrent, attention)  # builder modules with their own defaults audit


# Flax layer class -> the spec layer type whose weights it holds (a function of the layer where
# one class serves several types); the array names are the variables' paths below the layer
WEIGHTED: dict[type, Callable[[Any], str]] = {nnx.Linear: lambda lay: "dense",
                                              nnx.Conv: lambda lay: f"conv{lay.kernel.get_value().ndim - 2}d",
                                              **norm.WEIGHTED, **recurrent.WEIGHTED, **attention.WEIGHTED}


def _kind(lay) -> str:
    """The spec layer type whose weights a Flax layer holds."""
    for cls, kind in WEIGHTED.items():
        if isinstance(lay, cls):
            return kind(lay)
    raise TypeError(f"{type(lay).__name__} holds no spec layer's weights")


def named_arrays(state) -> dict[str, np.ndarray]:
    """Every array of a layer's state (or gradient state) by its path below the layer
    (``kernel``, ``bias``, ``mean``; ``ii/kernel`` in a recurrent cell)."""
    return {"/".join(map(str, path)): np.array(v.get_value()) for path, v in nnx.to_flat_state(state)}


def variable(layer, name: str):
    """The nnx.Variable at path ``name`` of :func:`named_arrays` below ``layer``."""
    for part in name.split("/"):
        layer = layer[int(part)] if part.isdigit() else getattr(layer, part)
    return layer




# ----------------------------------------------------------------------------- adapter
class _Training:
    """Per-model training objects: optimiser, loss, the jitted step and its graph definition."""

    def __init__(self, model: nnx.Module, spec: Spec, native: bool, probe: Callable | None) -> None:
        self.optimizer = nnx.Optimizer(model, transformation(spec.optimizer, native), wrt=nnx.Param)
        self.loss_fn = loss_function(spec.loss, native)
        # The step takes and returns the state as a flat list of arrays: flattening a list costs
        # the jitted call less than flattening nnx.State (about a third less per step on the CPU).
        # Read-only state (dropout mask banks) goes in apart and never comes back out: jit copies
        # every output, even one returned unchanged (up to MASK_BANK_BYTES per step).
        model.train()  # the graph definition keeps the mode: batch statistics, dropout on
        graphdef, self.constants, state = nnx.split((model, self.optimizer), norm.MaskBank, ...)
        self.treedef = jax.tree.structure(state)
        treedef, loss_fn = self.treedef, self.loss_fn

        def loss_of(m, x, y):
            pred = m(x)
            if probe is not None:
                probe(pred)
            return loss_fn(pred, y)

        @jax.jit
        def step(leaves, constants, x, y):
            m, opt = nnx.merge(graphdef, constants, jax.tree.unflatten(treedef, leaves))
            loss, grads = nnx.value_and_grad(loss_of)(m, x, y)
            opt.update(m, grads)
            return loss, jax.tree.leaves(nnx.split((m, opt), norm.MaskBank, ...)[2])

        self.step = step

    def leaves(self, model: nnx.Module) -> list:
        """The state the step updates, as a flat list (everything but :attr:`constants`)."""
        return jax.tree.leaves(nnx.split((model, self.optimizer), norm.MaskBank, ...)[2])

    def write_back(self, model: nnx.Module, leaves: list) -> None:
        nnx.update((model, self.optimizer), jax.tree.unflatten(self.treedef, leaves))


def _loss_audit(native: bool, eps: float | None) -> dict[str, Any]:
    """The cross-entropy form in use, and its BCE measured at a saturated output (logit -1000,
    whose sigmoid is 0 in float32), y = 1: ~1000 when fused on logits, -log(eps) when clipped."""
    logit, one = jnp.full((1, 1), -1000.0), jnp.ones((1, 1))
    if native:
        fn, out = NATIVE_LOSSES["binary_crossentropy"], logit
        form = ("optax.sigmoid_binary_cross_entropy / softmax_cross_entropy(_with_integer_labels) on logits "
                "(fused log-sigmoid / log-softmax, no clipping; the model ends in logits, predict applies the "
                "activation)")
    else:
        fn, out = loss_function({"name": "binary_crossentropy", "epsilon": eps or 1e-7}), jax.nn.sigmoid(logit)
        form = "on probabilities, clipped to [eps, 1-eps] (Keras' form)"
    return {"crossentropy_form": form, "bce_at_p0_y1": float(fn(out, one))}


class FlaxAdapter(Adapter):
    """Flax NNX on CPU or GPU (whatever ``jax.devices(kind)`` offers)."""

    FAMILY = "flax"
    BUILDERS = BUILDERS
    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})
    TRAINING_API = TRAINING_API
    SUPPORTED_PRECISIONS = frozenset({"float32", "tf32"})  # bfloat16 dtypes in nnx.Linear: not built yet
    SUPPORTED_COMPILE = frozenset({"default"})  # the step is jax.jit-compiled by design

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self._training: "weakref.WeakKeyDictionary[nnx.Module, _Training]" = weakref.WeakKeyDictionary()
        self._forward: "weakref.WeakKeyDictionary[nnx.Module, tuple]" = weakref.WeakKeyDictionary()
        self._probes: "weakref.WeakKeyDictionary[nnx.Module, Callable]" = weakref.WeakKeyDictionary()
        self._spec_loss: dict | None = None
        self._spec_opt: dict | None = None
        self._heads: "weakref.WeakKeyDictionary[nnx.Module, Activation]" = weakref.WeakKeyDictionary()

    @property
    def native(self) -> bool:
        return self.policy == "native"

    @property
    def jax_device(self):
        return jax.devices(self.device)[0]

    def probes(self):
        return PROBES

    def attach_probe(self, model: nnx.Module, probe: Callable) -> None:
        """Call ``probe`` on the prediction inside the training step's loss (diagnostics)."""
        self._probes[model] = probe

    # -- model -------------------------------------------------------------------
    def build(self, spec: Spec, seed: int) -> nnx.Sequential:
        self._spec_loss, self._spec_opt = spec.loss, spec.optimizer
        with jax.default_device(self.jax_device):
            # native init: nnx.Linear's own initialisers from the run seed
            layers = self.build_layers(spec, rngs=nnx.Rngs(seed))
            head = None
            if self.native and spec.loss["name"] in NATIVE_LOSSES and isinstance(layers[-1], Activation):
                layers, head = layers[:-1], layers[-1]  # optax's cross-entropies take logits
            model = nnx.Sequential(*layers)
        if head is not None:
            self._heads[model] = head
        return model

    def _linears(self, model: nnx.Sequential) -> list:
        """Every layer with weights (:data:`WEIGHTED`), in order."""
        return [lay for lay in model.layers if isinstance(lay, tuple(WEIGHTED))]

    def _changed(self, model: nnx.Module) -> None:
        self._forward.pop(model, None)

    def set_weights(self, model: nnx.Sequential, weights: list[DenseWeights]) -> None:
        dev = self.jax_device
        for lin, w in zip(self._linears(model), weights, strict=True):
            for name, array in self.to_native(w, _kind(lin)).items():  # kernel (in, out) / (*k, in, out), bias
                variable(lin, name).set_value(jax.device_put(np.asarray(array, np.float32), dev))
        self._changed(model)

    def get_weights(self, model: nnx.Sequential) -> list[DenseWeights]:
        return [self.from_native(named_arrays(nnx.state(lin)), _kind(lin)) for lin in self._linears(model)]

    def count_params(self, model: nnx.Sequential) -> int:
        return int(sum(leaf.size for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))))

    # -- training ----------------------------------------------------------------
    def _state_for(self, model: nnx.Module, spec: Spec) -> _Training:
        if model not in self._training:
            self._training[model] = _Training(model, spec, self.native, self._probes.get(model))
        return self._training[model]

    def train(self, model: nnx.Sequential, spec: Spec, x, y, batch_size: int, timer: StepTimer,
              order: np.ndarray | None = None) -> float:
        tr = self._state_for(model, spec)
        state = tr.leaves(model)
        total, n = 0.0, 0
        try:
            # numpy batches on the CPU, as a Flax user feeds them: jit copies them to the device the
            # state is committed to (slicing a device array instead costs an extra dispatch per array)
            for xb, yb in self.batches((x, y), order, batch_size, timer):
                timer.start()
                loss, state = tr.step(state, tr.constants, xb, yb)
                value = float(loss)  # host copy: the step has finished
                timer.stop()
                total += value * len(xb)
                n += len(xb)
        finally:  # the objects get the state the last finished step left
            tr.write_back(model, state)
            self._changed(model)
        return total / n

    # -- input on a GPU: the arrays on the device when they fit (jnp.take per batch), else put ahead
    def resident(self, x: np.ndarray, y: np.ndarray):
        if self.device == "cpu":
            return x, y
        from ..base import fits_on_device

        limit = (self.jax_device.memory_stats() or {}).get("bytes_limit")
        if fits_on_device(x.nbytes + y.nbytes, limit):
            return jax.device_put(x, self.jax_device), jax.device_put(y, self.jax_device)
        return x, y

    def take(self, array, idx: np.ndarray):
        return array[idx] if isinstance(array, np.ndarray) else jnp.take(array, jnp.asarray(idx), axis=0)

    def put(self, batch):
        if self.device == "cpu" or not isinstance(batch[0], np.ndarray):
            return batch
        return jax.device_put(batch, self.jax_device)  # asynchronous: the copy overlaps the running step

    def _forward_fn(self, model: nnx.Module):
        if model not in self._forward:
            model.eval()  # the graph definition keeps the mode: running statistics, no dropout
            graphdef, state = nnx.split(model)
            leaves, treedef = jax.tree.flatten(state)
            head = self._heads.get(model, lambda out: out)  # probabilities from a logits model
            fn = jax.jit(lambda s, x: head(nnx.merge(graphdef, jax.tree.unflatten(treedef, s))(x)))
            self._forward[model] = (fn, leaves)
        return self._forward[model]

    def predict(self, model: nnx.Sequential, x: np.ndarray) -> np.ndarray:
        fn, state = self._forward_fn(model)
        return np.asarray(fn(state, jax.device_put(x, self.jax_device)))

    def infer(self, model: nnx.Sequential, x: np.ndarray) -> np.ndarray:
        fn, state = self._forward_fn(model)
        return np.asarray(fn(state, x))  # the host copy is the synchronisation

    def param_device(self, model: nnx.Sequential) -> str:
        return self.runtime.array_device(jax.tree.leaves(nnx.state(model, nnx.Param))[0])

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
        state = nnx.state(model)
        leaves, treedef = jax.tree.leaves(state), jax.tree.structure(state)
        model.train()
        try:  # a training step's gradients; the step's running statistics and dropout step are undone
            loss, grads = nnx.value_and_grad(lambda m: loss_fn(m(jax.device_put(x, dev)),
                                                                jax.device_put(y, dev)))(model)
        finally:
            nnx.update(model, jax.tree.unflatten(treedef, leaves))
        out = [self.from_native(named_arrays(grads["layers"][i]), _kind(lay))
               for i, lay in enumerate(model.layers) if isinstance(lay, tuple(WEIGHTED))]
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
        leaky_default = sig(jax.nn.leaky_relu).parameters["negative_slope"].default
        elu_default = sig(jax.nn.elu).parameters["alpha"].default
        if self.native:
            optimizer = f"optax.{opt.get('name', 'adam')}"
            form = "added to sqrt(v_hat): w -= lr * m_hat/(sqrt(v_hat)+eps)"
            adam_eps = sig(optax.adam).parameters["eps"].default if adam else None
        else:
            optimizer = f"{transformation.__module__}.keras_{opt.get('name', 'adam')} (custom optax.GradientTransformation)"
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
            **_loss_audit(self.native, eps),
            "tf32": self.runtime.tf32(),
            **{k: v for fam in LAYER_FAMILIES for k, v in fam.defaults(self, model).items()},
        }
