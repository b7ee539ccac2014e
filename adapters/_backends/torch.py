"""PyTorch runtime (torch, keras:torch): see :mod:`.` for the functions."""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
import torch

from . import effective, float32_matmul


def configure(threads: int, policy: str, precision: str = "float32", compile: str = "default") -> dict[str, Any]:
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable before the first parallel work
        pass
    mode = float32_matmul(policy, precision)
    if mode is not None:  # exact float32 matmuls (TF32 off) or TF32 allowed
        torch.set_float32_matmul_precision("highest" if mode == "exact" else "high")
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        torch.backends.cudnn.allow_tf32 = mode == "tf32"
    if policy == "aligned":
        torch.use_deterministic_algorithms(True, warn_only=True)
    return {"torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
            "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled()}


def unavailable(device: str) -> str | None:
    if device == "gpu" and not torch.cuda.is_available():
        return "requires: torch.cuda.is_available() (no CUDA device visible)"
    if device == "tpu":
        return "requires: torch_xla (TPU support is not implemented for torch targets)"
    return None


def placement(device: str):
    return contextlib.nullcontext()


def devices(kind: str) -> list[str]:
    if kind == "cpu":
        return ["cpu"]
    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if kind == "gpu" else []


def array_device(value) -> str:
    return str(value.device)


def device_memory_peak(device: str) -> dict[str, Any] | None:
    if device == "cpu":
        return None
    return {"counter": "torch.cuda.max_memory_allocated", "peak_mb": torch.cuda.max_memory_allocated() / 2**20}


def tf32() -> Any:
    return bool(torch.backends.cuda.matmul.allow_tf32)


def matmul_precision(device: str, compute_dtype: str) -> dict[str, Any]:
    allow, mode = bool(torch.backends.cuda.matmul.allow_tf32), torch.get_float32_matmul_precision()
    reduced = allow or mode != "highest"
    if device == "gpu" and torch.cuda.is_available():
        reduced = reduced and torch.cuda.get_device_capability() >= (8, 0)
    return effective(device, compute_dtype, reduced,
                     f"torch.backends.cuda.matmul.allow_tf32={allow}, get_float32_matmul_precision()={mode!r}")


def value_and_derivative(fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.tensor(x, requires_grad=True)
    y = fn(xt)
    (g,) = torch.autograd.grad(y[:, 0].sum(), xt)
    return y.detach().cpu().numpy(), g.detach().cpu().numpy()[:, 0]


def forward_backward_timer(fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
    xt = torch.tensor(x, requires_grad=True)

    def run():
        (g,) = torch.autograd.grad(fn(xt).sum(), xt)
        g.sum().item()

    return run, "eager torch.autograd.grad, scalar host copy"


def is_eager_here(tensor: Any) -> bool:
    return not torch.compiler.is_compiling()
