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


BUILDERS = {"dense": _dense, "activation": _activation_layer}


def loss_function(loss: dict, native: bool = False):
    """The spec's loss on probabilities: clipped like Keras (``loss.epsilon``) when aligned,
    torch's own behaviour (BCE clamps the log at -100, no clipping) when native."""
    name = loss["name"]
    if name == "mse":
        return F.mse_loss
    if native:
        if name == "binary_crossentropy":
            return F.binary_cross_entropy
        if name == "sparse_categorical_crossentropy":
            return lambda p, t: F.nll_loss(torch.log(p), t)
        return lambda p, t: -(t * torch.log(p)).sum(dim=-1).mean()
    eps = loss["epsilon"]
    if name == "binary_crossentropy":
        return lambda p, t: F.binary_cross_entropy(p.clamp(eps, 1 - eps), t)
    if name == "sparse_categorical_crossentropy":
        return lambda p, t: F.nll_loss(torch.log(p.clamp(eps, 1 - eps)), t)
    return lambda p, t: -(t * torch.log(p.clamp(eps, 1 - eps))).sum(dim=-1).mean()


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

    def __init__(self, target, threads: int, policy: str = "aligned") -> None:
        super().__init__(target, threads, policy)
        self._state: "weakref.WeakKeyDictionary[nn.Module, list]" = weakref.WeakKeyDictionary()
        self._clip_epsilon: float | None = None

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda" if self.device == "gpu" else "cpu")

    def probes(self):
        return PROBES

    def build(self, spec: Spec, seed: int) -> nn.Module:
        if spec.init == "native":
            torch.manual_seed(seed)
        self._clip_epsilon = spec.loss.get("epsilon")
        return nn.Sequential(*self.build_layers(spec)).to(self.torch_device)

    def _linears(self, model: nn.Module) -> list[nn.Linear]:
        return [m for m in model.modules() if isinstance(m, nn.Linear)]

    def set_weights(self, model: nn.Module, weights: list[DenseWeights]) -> None:
        with torch.no_grad():
            for lin, w in zip(self._linears(model), weights, strict=True):
                for name, array in self.to_native(w).items():  # weight (out, in), bias
                    getattr(lin, name).copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def get_weights(self, model: nn.Module) -> list[DenseWeights]:
        return [self.from_native({name: p.detach().cpu().numpy().copy() for name, p in lin.named_parameters()})
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

    def train(self, model: nn.Module, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer) -> float:
        state = self._training_state(model, spec)
        opt, loss_fn = state[0], state[1]
        eps_hat = spec.optimizer["name"] == "adam" and self.policy == "aligned"
        dev = self.torch_device
        xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
        model.train()
        total = 0.0
        for i in range(0, len(xt), batch_size):
            timer.start()
            xb, yb = xt[i:i + batch_size], yt[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            state[2] += 1
            if eps_hat:
                epsilon_hat(opt, spec.optimizer, state[2])
            opt.step()
            value = loss.item()  # host copy: the step has finished
            timer.stop()
            total += value * len(xb)
        return total / len(xt)

    def predict(self, model: nn.Module, x: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(x).to(self.torch_device)).cpu().numpy()

    def infer(self, model: nn.Module, x: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.inference_mode():
            return model(torch.from_numpy(x).to(self.torch_device)).cpu().numpy()

    def param_device(self, model: nn.Module) -> str:
        return self.runtime.array_device(next(model.parameters()))

    def runtime_info(self, model: nn.Module) -> dict[str, Any]:
        return {"backend": "torch", "eager_default": True,
                "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32)}

    def loss_and_gradients(self, model: nn.Module, spec: Spec, x: np.ndarray, y: np.ndarray
                           ) -> tuple[float, list[DenseWeights]]:
        loss_fn = loss_function(spec.loss, self.policy == "native")
        dev = self.torch_device
        model.train()
        loss = loss_fn(model(torch.from_numpy(x).to(dev)), torch.from_numpy(y).to(dev))
        linears = self._linears(model)
        params = [p for lin in linears for p in ([lin.weight] + ([lin.bias] if lin.bias is not None else []))]
        it = iter(g.cpu().numpy() for g in torch.autograd.grad(loss, params))
        out = [self.from_native({"weight": next(it), **({"bias": next(it)} if lin.bias is not None else {})})
               for lin in linears]
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
        fn = loss_function({"name": "binary_crossentropy", "epsilon": eps or 1e-7}, native)
        at_zero = float(fn(torch.zeros(1, 1), torch.ones(1, 1)))
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
            "bce_at_p0_y1": at_zero,
            "tf32": self.runtime.tf32(),
        }
