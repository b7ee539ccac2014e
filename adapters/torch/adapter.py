"""PyTorch: an ``nn.Sequential`` model and an idiomatic hand-written training loop."""
from __future__ import annotations

import inspect
import math
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation, Spec
from frameworkbench.weights import DenseWeights

from ..base import Adapter
from . import attention, norm, recurrent, spatial
from .probes import PROBES

_PLAIN = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=-1)}


def _activation(act: Activation, native: bool) -> list[nn.Module]:
    """The module of ``act`` (none for linear); native leaves slope / alpha to torch's defaults."""
    if act.name == "linear":
        return []
    if act.name == "leaky_relu":
        return [nn.LeakyReLU() if native else nn.LeakyReLU(negative_slope=act.param("negative_slope"))]
    if act.name == "elu":
        return [nn.ELU() if native else nn.ELU(alpha=act.param("alpha"))]
    return [_PLAIN[act.name]()]


# ----------------------------------------------------------------------------- layer builders
def _dense(adapter: "TorchAdapter", lay, input_shape) -> list[nn.Module]:
    linear = nn.Linear(input_shape[-1], lay.units, bias=lay.use_bias)
    return [linear, *_activation(lay.activation, adapter.policy == "native")]


def _activation_layer(adapter: "TorchAdapter", lay, input_shape) -> list[nn.Module]:
    return _activation(lay.activation, adapter.policy == "native")


def _conv(adapter: "TorchAdapter", lay, input_shape) -> list[nn.Module]:
    return [spatial.conv(lay, input_shape), *_activation(lay.activation, adapter.policy == "native")]


def _pool(adapter: "TorchAdapter", lay, input_shape) -> list[nn.Module]:
    if lay.type.startswith("global_"):
        return [spatial.GlobalPool(lay.KIND, lay.RANK)]
    return [spatial.pool(lay, input_shape)]


BUILDERS = {"dense": _dense, "activation": _activation_layer, "conv1d": _conv, "conv2d": _conv,
            "flatten": lambda adapter, lay, input_shape: [nn.Flatten()],  # channels-last: Keras' order
            **{f"{g}{k}_pool{r}d": _pool for g in ("", "global_") for k in ("max", "avg") for r in (1, 2)},
            **norm.BUILDERS, **recurrent.BUILDERS, **attention.BUILDERS}
WEIGHTED = {nn.Linear: "dense", nn.Conv1d: "conv1d", nn.Conv2d: "conv2d",  # module -> spec layer type
            **norm.WEIGHTED, **recurrent.WEIGHTED, **attention.WEIGHTED}
LAYER_FAMILIES = (norm, recurrent, attention)  # builder modules with their own defaults audit


def module_state(module: nn.Module):
    """(name, tensor) of a weighted module's parameters and buffers (running statistics), the names
    its layer module's ``to_family(..., "torch")`` uses; batch counters left out."""
    yield from module.named_parameters()
    yield from ((n, b) for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))


def state_tensor(module: nn.Module, name: str) -> torch.Tensor:
    """The parameter or buffer ``name`` (dotted for a submodule's) of ``module``."""
    for part in name.split("."):
        module = getattr(module, part)
    return module


# native policy: what PyTorch users write -- the model ends in logits and the loss fuses the
# output activation (log-softmax / log-sigmoid, no clipping); ``predict`` applies the activation
NATIVE_LOSSES = {"binary_crossentropy": nn.BCEWithLogitsLoss, "sparse_categorical_crossentropy": nn.CrossEntropyLoss,
                 "categorical_crossentropy": nn.CrossEntropyLoss}  # CrossEntropyLoss takes one-hot targets too
_HEADS = (nn.Sigmoid, nn.Softmax)


def loss_function(loss: dict, native: bool = False):
    """Aligned: the spec's loss on probabilities, clipped like Keras (``loss.epsilon``); native:
    torch's idiomatic fused loss on logits (:data:`NATIVE_LOSSES`)."""
    name = loss["name"]
    if name == "mse":
        return F.mse_loss
    if native:
        return NATIVE_LOSSES[name]()
    eps = loss["epsilon"]
    if name == "binary_crossentropy":
        return lambda p, t: F.binary_cross_entropy(p.clamp(eps, 1 - eps), t)
    if name == "sparse_categorical_crossentropy":
        return lambda p, t: F.nll_loss(torch.log(p.clamp(eps, 1 - eps)), t)
    return lambda p, t: -(t * torch.log(p.clamp(eps, 1 - eps))).sum(dim=-1).mean()


def _loss_audit(native: bool, eps: float | None) -> dict[str, Any]:
    """The cross-entropy form in use, and its BCE measured at a saturated output (logit -1000,
    whose sigmoid is 0 in float32), y = 1: ~1000 when fused on logits, -log(eps) when clipped."""
    logit, one = torch.full((1, 1), -1000.0), torch.ones(1, 1)
    if native:
        cls = NATIVE_LOSSES["binary_crossentropy"]
        form = (f"{cls.__module__}.{cls.__name__} / {NATIVE_LOSSES['categorical_crossentropy'].__name__} on logits "
                "(fused log-sigmoid / log-softmax, no clipping; the model ends in logits, predict applies the "
                "activation)")
        at_zero = cls()(logit, one)
    else:
        form = "on probabilities, clipped to [eps, 1-eps] (Keras' form)"
        at_zero = loss_function({"name": "binary_crossentropy", "epsilon": eps or 1e-7})(torch.sigmoid(logit), one)
    return {"crossentropy_form": form, "bce_at_p0_y1": float(at_zero)}


def optimizer(opt: dict, params, native: bool = False) -> torch.optim.Optimizer:
    """torch.optim.Adam / SGD. Aligned Adam gets the spec's epsilon, rescaled every step by
    :func:`epsilon_hat` so the update equals Keras' epsilon-hat form; native keeps torch's eps."""
    if opt["name"] == "adam":
        eps = {} if native else {"eps": opt["epsilon"]}
        return torch.optim.Adam(params, lr=opt["learning_rate"], betas=(opt["beta_1"], opt["beta_2"]), **eps)
    return torch.optim.SGD(params, lr=opt["learning_rate"], momentum=opt["momentum"])


def epsilon_hat(opt: torch.optim.Optimizer, spec_opt: dict, step: int) -> None:
    """Set Adam's eps for 1-based ``step`` so torch's w -= lr/(1-b1^t)·m/(√v/√(1-b2^t) + eps')
    equals Keras' w -= lr·√(1-b2^t)/(1-b1^t)·m/(√v + eps): eps' = eps/√(1-b2^t)."""
    eps = spec_opt["epsilon"] / math.sqrt(1 - spec_opt["beta_2"] ** step)
    for group in opt.param_groups:
        group["eps"] = eps


class TorchAdapter(Adapter):
    """Plain PyTorch on CPU or CUDA."""

    FAMILY = "torch"
    BUILDERS = BUILDERS
    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})
    SUPPORTED_COMPILE = frozenset({"default", "eager", "jit"})  # default is eager; jit: torch.compile

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self._state: "weakref.WeakKeyDictionary[nn.Module, list]" = weakref.WeakKeyDictionary()
        self._scalers: "weakref.WeakKeyDictionary[nn.Module, Any]" = weakref.WeakKeyDictionary()
        self._clip_epsilon: float | None = None
        self._heads: "weakref.WeakKeyDictionary[nn.Module, nn.Module]" = weakref.WeakKeyDictionary()

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda" if self.device == "gpu" else "cpu")

    def probes(self):
        return PROBES

    def build(self, spec: Spec, seed: int) -> nn.Module:
        if spec.init == "native":
            torch.manual_seed(seed)
        self._clip_epsilon = spec.loss.get("epsilon")
        layers, head = self._split_head(self.build_layers(spec), spec)
        model = nn.Sequential(*layers).to(self.torch_device, getattr(torch, self.variable_dtype))
        if self.compile == "jit":
            model = torch.compile(model)  # compiles on the first call (inside the first step's time)
        if head is not None:
            self._heads[model] = head
        # mixed_float16: dynamic loss scaling, as torch's AMP recipe; a disabled scaler is a no-op
        self._scalers[model] = torch.amp.GradScaler(self.torch_device.type, enabled=self.precision == "mixed_float16")
        return model

    def _autocast(self):
        """torch.autocast to the compute dtype for the mixed precisions (off otherwise)."""
        mixed = self.precision.startswith("mixed_")
        return torch.autocast(self.torch_device.type, dtype=getattr(torch, self.compute_dtype), enabled=mixed)

    def _features(self, x) -> torch.Tensor:
        """Features on the device, in the variables' dtype (bfloat16 for precision bfloat16); integer token
        ids (``Spec.input_dtype`` int32) keep their dtype."""
        t = torch.from_numpy(x) if not torch.is_tensor(x) else x
        if not t.is_floating_point():
            return t.to(self.torch_device)
        return t.to(self.torch_device, getattr(torch, self.variable_dtype))

    def _split_head(self, layers: list[nn.Module], spec: Spec) -> tuple[list[nn.Module], nn.Module | None]:
        """Native cross-entropy: the model ends in logits (the loss fuses the output activation)."""
        if self.policy == "native" and spec.loss["name"] in NATIVE_LOSSES and isinstance(layers[-1], _HEADS):
            return layers[:-1], layers[-1]
        return layers, None

    def _output(self, model: nn.Module, out: torch.Tensor) -> torch.Tensor:
        """Probabilities from the model's output (applies the activation a logits model leaves out)."""
        head = self._heads.get(model)
        return out if head is None else head(out)

    def _linears(self, model: nn.Module) -> list[nn.Module]:
        """Every module with weights (:data:`WEIGHTED`), in order; a weighted module's own
        submodules (a multi-head attention's output projection) belong to it."""
        def walk(m: nn.Module):
            for child in m.children():
                if type(child) in WEIGHTED:
                    yield child
                else:
                    yield from walk(child)
        return list(walk(model))

    def set_weights(self, model: nn.Module, weights: list[DenseWeights]) -> None:
        with torch.no_grad():
            for lin, w in zip(self._linears(model), weights, strict=True):
                for name, array in self.to_native(w, WEIGHTED[type(lin)]).items():  # weight (out, in, ...), bias
                    state_tensor(lin, name).copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def get_weights(self, model: nn.Module) -> list[DenseWeights]:
        return [self.from_native({name: t.detach().float().cpu().numpy().copy() for name, t in module_state(lin)},
                                 WEIGHTED[type(lin)])
                for lin in self._linears(model)]

    def count_params(self, model: nn.Module) -> int:
        return int(sum(p.numel() for p in model.parameters() if p.requires_grad))

    def _training_state(self, model: nn.Module, spec: Spec) -> list:
        """[optimizer, loss function, steps taken] for this model."""
        if model not in self._state:
            native = self.policy == "native"
            self._state[model] = [optimizer(spec.optimizer, model.parameters(), native),
                                  loss_function(spec.loss, native), 0]
        return self._state[model]

    def train(self, model: nn.Module, spec: Spec, x, y, batch_size: int, timer: StepTimer,
              order: np.ndarray | None = None) -> float:
        state = self._training_state(model, spec)
        opt, loss_fn = state[0], state[1]
        eps_hat = spec.optimizer["name"] == "adam" and self.policy == "aligned"
        dev, scaler = self.torch_device, self._scalers[model]
        model.train()
        total, n = 0.0, 0
        for xb, yb in self.batches((x, y), order, batch_size, timer):
            timer.start()
            if not torch.is_tensor(xb):  # host batches: zero-copy on the CPU
                xb, yb = torch.from_numpy(xb).to(dev), torch.from_numpy(yb).to(dev)
            opt.zero_grad(set_to_none=True)
            with self._autocast():
                out = model(self._features(xb))
            loss = loss_fn(out.float(), yb)  # the loss in float32 (AMP recipe)
            scaler.scale(loss).backward()
            state[2] += 1
            if eps_hat:
                epsilon_hat(opt, spec.optimizer, state[2])
            scaler.step(opt)
            scaler.update()
            value = loss.item()  # host copy: the step has finished
            timer.stop()
            total += value * len(xb)
            n += len(xb)
        return total / n

    # -- input on a GPU: the arrays on the device when they fit, else pinned and copied one batch ahead
    def resident(self, x: np.ndarray, y: np.ndarray):
        if self.device != "gpu":
            return x, y
        from ..base import fits_on_device

        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        if fits_on_device(x.nbytes + y.nbytes, torch.cuda.mem_get_info()[1]):
            return xt.to(self.torch_device), yt.to(self.torch_device)
        return xt.pin_memory(), yt.pin_memory()

    def take(self, array, idx: np.ndarray):
        if not torch.is_tensor(array):
            return array[idx]
        index = torch.from_numpy(idx)
        if array.is_cuda:
            return array.index_select(0, index.to(array.device, non_blocking=True))
        return array.index_select(0, index).pin_memory()

    def put(self, batch):
        xb, yb = batch
        if torch.is_tensor(xb) and not xb.is_cuda and self.device == "gpu":
            return xb.to(self.torch_device, non_blocking=True), yb.to(self.torch_device, non_blocking=True)
        return batch

    def predict(self, model: nn.Module, x: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad(), self._autocast():
            return self._output(model, model(self._features(x)).float()).cpu().numpy()

    def infer(self, model: nn.Module, x: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.inference_mode(), self._autocast():
            return self._output(model, model(self._features(x)).float()).cpu().numpy()

    def param_device(self, model: nn.Module) -> str:
        return self.runtime.array_device(next(model.parameters()))

    def runtime_info(self, model: nn.Module) -> dict[str, Any]:
        return {"backend": "torch", "eager_default": True, "torch_compile": self.compile == "jit",
                "autocast": self.compute_dtype if self.precision.startswith("mixed_") else None,
                "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32)}

    def loss_and_gradients(self, model: nn.Module, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        loss_fn = loss_function(spec.loss, self.policy == "native")
        dev = self.torch_device
        buffers = {k: b.clone() for k, b in model.named_buffers()}
        model.train()
        with torch.random.fork_rng():  # a training-mode call: torch's own dropout draws from the global stream
            with self._autocast():
                out = model(self._features(x))
        loss = loss_fn(out.float(), torch.from_numpy(y).to(dev))
        linears = self._linears(model)
        named = [list(lin.named_parameters()) for lin in linears]
        grads = torch.autograd.grad(loss, [p for ps in named for _, p in ps])
        with torch.no_grad():  # the call moved running statistics and dropout steps: undone
            for k, b in model.named_buffers():
                b.copy_(buffers[k])
        it = iter(g.float().cpu().numpy() for g in grads)
        out = [self.from_native({name: next(it) for name, _ in ps}, WEIGHTED[type(lin)])
               for lin, ps in zip(linears, named)]
        return float(loss.item()), out

    def defaults_in_use(self, model: nn.Module) -> dict[str, Any]:
        leaky = [m for m in model.modules() if isinstance(m, nn.LeakyReLU)]
        elu = [m for m in model.modules() if isinstance(m, nn.ELU)]
        sig = inspect.signature
        state = self._state.get(model)
        opt = state[0] if state else None
        native = self.policy == "native"
        try:  # the initialiser nn.Linear really calls, read from torch itself
            src = inspect.getsource(nn.Linear.reset_parameters)
            init = "kaiming_uniform_(a=sqrt(5)) → U(±1/sqrt(fan_in))" if "kaiming_uniform_" in src else "see source"
        except (OSError, TypeError):
            init = "nn.Linear.reset_parameters"
        eps = self._clip_epsilon
        return {
            "kernel_initializer": init,
            "bias_initializer": init,
            "optimizer": f"{type(opt).__module__}.{type(opt).__name__}" if opt else None,
            "adam_epsilon": float(opt.defaults["eps"]) if opt is not None and "eps" in opt.defaults else None,
            "adam_epsilon_form": ("added to sqrt(v_hat): w -= lr/(1-b1^t) * m/(sqrt(v)/sqrt(1-b2^t)+eps)" if native
                                  else "epsilon-hat (torch Adam with eps/sqrt(1-b2^t) each step)"),
            "leaky_relu_slope": float(leaky[0].negative_slope) if leaky else
            sig(nn.LeakyReLU.__init__).parameters["negative_slope"].default,
            "leaky_relu_slope_source": "layer in model" if leaky else "nn.LeakyReLU default (not in model)",
            "elu_alpha": float(elu[0].alpha) if elu else sig(nn.ELU.__init__).parameters["alpha"].default,
            "crossentropy_epsilon": None if native else eps,
            "padding_same": (f"Keras' padding written out: {', '.join(spatial.explicit_pads(model))}; torch's own "
                             "padding= is symmetric" if spatial.explicit_pads(model) else None),
            **_loss_audit(native, eps),
            "tf32": self.runtime.tf32(),
            **{k: v for fam in LAYER_FAMILIES for k, v in fam.defaults(self, model).items()},
        }
