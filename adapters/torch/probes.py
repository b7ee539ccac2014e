"""PyTorch diagnostics: the probe as a forward hook, eager vs ``torch.compile``, and export paths
(TorchScript, torch.export, ONNX, ExecuTorch)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import numpy as np

from .._probes import Probes, needs, onnx_session


def _hooked(model, probe):
    """``setup(model, probe)`` of the eager variants: the probe as a forward hook on the model."""
    if probe is not None:
        model.register_forward_hook(lambda module, args, out: probe(out))
    return model, contextlib.nullcontext()


def _compiled(model, probe):
    import torch

    _hooked(model, probe)
    return torch.compile(model), contextlib.nullcontext()


def _module(model):
    return getattr(model, "_orig_mod", model).eval()


def _predictor(module) -> Callable:
    import torch

    def predict(x):
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return predict


def _torchscript(adapter, model, workdir: Path, one):
    import torch

    path = workdir / "model.torchscript.pt"
    with torch.no_grad():
        traced = torch.jit.trace(_module(model), torch.from_numpy(one))
    traced.save(str(path))
    loaded = torch.jit.load(str(path))
    loaded.eval()
    return path, _predictor(loaded)


def _torch_export(adapter, model, workdir: Path, one):
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    two = np.repeat(one, 2, axis=0)  # a batch of 2 so the batch dimension is not specialised to 1
    prog = torch.export.export(_module(model), (torch.from_numpy(two),), dynamic_shapes=({0: batch},))
    path = workdir / "model.pt2"
    torch.export.save(prog, str(path))
    return path, _predictor(torch.export.load(str(path)).module())


def _onnx(adapter, model, workdir: Path, one):
    needs("onnx", "torch.onnx.export")
    needs("onnxruntime", "running the ONNX model")
    import torch

    path = workdir / "model.onnx"
    torch.onnx.export(_module(model), (torch.from_numpy(one),), str(path), input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    return path, onnx_session(path)


def _executorch(adapter, model, workdir: Path, one):
    needs("executorch", "PyTorch's mobile/edge export (ExecuTorch)")
    raise NotImplementedError("ExecuTorch export is not implemented by frameworkbench")


class TorchProbes(Probes):
    def activation_callable(self, adapter, model) -> Callable:
        return list(model.children())[-1]  # the nn module the adapter built

    def execution_variants(self, adapter) -> dict[str, dict]:
        return {"default": {"is": "eager", "how": "plain nn.Module calls", "setup": _hooked},
                "eager": {"how": "plain nn.Module calls", "setup": _hooked},
                "compiled": {"how": "torch.compile(model) (TorchInductor)", "setup": _compiled}}

    def export_paths(self, adapter) -> list[tuple[str, str, Callable]]:
        return [("TorchScript", "server", _torchscript), ("torch.export (.pt2)", "server", _torch_export),
                ("ONNX", "server", _onnx), ("ExecuTorch (.pte)", "mobile", _executorch)]


PROBES = TorchProbes()
