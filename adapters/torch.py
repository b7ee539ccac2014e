"""PyTorch: an ``nn.Sequential`` model and an idiomatic hand-written training loop."""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from frameworkbench.measure import StepTimer
from frameworkbench.spec import Activation, Spec
from frameworkbench.weights import DenseWeights

from . import _runtime
from .base import Adapter


def _activation(act: Activation) -> nn.Module:
    if act.name == "leaky_relu":
        return nn.LeakyReLU(negative_slope=act.param("negative_slope"))
    if act.name == "elu":
        return nn.ELU(alpha=act.param("alpha"))
    return {"linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
            "softmax": lambda: nn.Softmax(dim=-1)}[act.name]()


def loss_function(loss: dict):
    """The spec's loss on probabilities, clipped like Keras (``loss.epsilon``)."""
    name = loss["name"]
    if name == "mse":
        return F.mse_loss
    eps = loss["epsilon"]
    if name == "binary_crossentropy":
        return lambda p, t: F.binary_cross_entropy(p.clamp(eps, 1 - eps), t)
    if name == "sparse_categorical_crossentropy":
        return lambda p, t: F.nll_loss(torch.log(p.clamp(eps, 1 - eps)), t)
    return lambda p, t: -(t * torch.log(p.clamp(eps, 1 - eps))).sum(dim=-1).mean()


def optimizer(opt: dict, params) -> torch.optim.Optimizer:
    if opt["name"] == "adam":
        return torch.optim.Adam(params, lr=opt["learning_rate"], betas=(opt["beta_1"], opt["beta_2"]),
                                eps=opt["epsilon"])
    return torch.optim.SGD(params, lr=opt["learning_rate"], momentum=opt["momentum"])


class TorchAdapter(Adapter):
    """Plain PyTorch on CPU or CUDA."""

    SUPPORTED_DEVICES = frozenset({"cpu", "gpu"})

    def __init__(self, target, threads: int) -> None:
        super().__init__(target, threads)
        self._state: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda" if self.device == "gpu" else "cpu")

    def is_available(self, device: str) -> str | None:
        return _runtime.torch_unavailable(device)

    def configure(self) -> dict[str, Any]:
        return _runtime.torch_configure(self.threads)

    def build(self, spec: Spec, seed: int) -> nn.Module:
        if spec.init == "native":
            torch.manual_seed(seed)
        mods: list[nn.Module] = []
        fan_in = spec.n_features
        for lay in spec.layers:
            if lay.type == "dense":
                mods.append(nn.Linear(fan_in, lay.units, bias=lay.use_bias))
                fan_in = lay.units
            if lay.activation.name != "linear":
                mods.append(_activation(lay.activation))
        return nn.Sequential(*mods).to(self.torch_device)

    def _linears(self, model: nn.Module) -> list[nn.Linear]:
        return [m for m in model.modules() if isinstance(m, nn.Linear)]

    def set_weights(self, model: nn.Module, weights: list[DenseWeights]) -> None:
        with torch.no_grad():
            for lin, w in zip(self._linears(model), weights, strict=True):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.kernel.T)))  # (out, in)
                if w.bias is not None:
                    lin.bias.copy_(torch.from_numpy(w.bias))

    def get_weights(self, model: nn.Module) -> list[DenseWeights]:
        return [DenseWeights(lin.weight.detach().cpu().numpy().T.copy(),
                             None if lin.bias is None else lin.bias.detach().cpu().numpy().copy())
                for lin in self._linears(model)]

    def count_params(self, model: nn.Module) -> int:
        return int(sum(p.numel() for p in model.parameters() if p.requires_grad))

    def _training_state(self, model: nn.Module, spec: Spec) -> tuple:
        if model not in self._state:
            self._state[model] = (optimizer(spec.optimizer, model.parameters()), loss_function(spec.loss))
        return self._state[model]

    def train(self, model: nn.Module, spec: Spec, x: np.ndarray, y: np.ndarray, batch_size: int,
              timer: StepTimer) -> float:
        opt, loss_fn = self._training_state(model, spec)
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
            opt.step()
            value = loss.item()  # host copy: the step has finished
            timer.stop()
            total += value * len(xb)
        return total / len(xt)

    def predict(self, model: nn.Module, x: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(x).to(self.torch_device)).cpu().numpy()

    def param_device(self, model: nn.Module) -> str:
        return str(next(model.parameters()).device)

    def runtime_info(self, model: nn.Module) -> dict[str, Any]:
        return {"backend": "torch", "eager_default": True,
                "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32)}
