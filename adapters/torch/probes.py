"""PyTorch diagnostics: the probe as a forward hook, eager vs ``torch.compile``, export formats
(TorchScript, torch.export, ONNX, OpenVINO from it, ExecuTorch with XNNPACK) and the state_dict as saved model."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import numpy as np

from .._probes import Probes, needs, onnx_loader, openvino_from_onnx


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
    return path, lambda: _predictor(torch.jit.load(str(path)).eval())


def _exported(model, one):
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    two = np.repeat(one, 2, axis=0)  # a batch of 2 so the batch dimension is not specialised to 1
    return torch.export.export(_module(model), (torch.from_numpy(two),), dynamic_shapes=({0: batch},))


def _torch_export(adapter, model, workdir: Path, one):
    import torch

    path = workdir / "model.pt2"
    torch.export.save(_exported(model, one), str(path))
    return path, lambda: _predictor(torch.export.load(str(path)).module())


def _onnx(adapter, model, workdir: Path, one):
    needs("onnxscript", "torch.onnx.export")
    import torch

    path = workdir / "model.onnx"
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    two = np.repeat(one, 2, axis=0)
    torch.onnx.export(_module(model), (torch.from_numpy(two),), str(path), input_names=["x"],
                      dynamic_shapes=({0: batch},), dynamo=True, external_data=False, verbose=False)
    return path, onnx_loader(path, adapter.threads)


def _executorch(adapter, model, workdir: Path, one):
    needs("executorch", "PyTorch's mobile/edge export (ExecuTorch)")
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    program = to_edge_transform_and_lower(_exported(model, one), partitioner=[XnnpackPartitioner()]).to_executorch()
    path = workdir / "model.pte"
    path.write_bytes(program.buffer)

    def load():
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(path)).load_method("forward")
        return lambda x: method.execute([torch.from_numpy(np.ascontiguousarray(x, np.float32))])[0].numpy()

    return path, load


NOT_TF = "a torch module: {} needs TensorFlow's converter (ai-edge-torch / litert-torch, not used here)"


class TorchProbes(Probes):
    def activation_callable(self, adapter, model) -> Callable:
        return list(model.children())[-1]  # the nn module the adapter built

    def execution_variants(self, adapter) -> dict[str, dict]:
        return {"default": {"is": "eager", "how": "plain nn.Module calls", "setup": _hooked},
                "eager": {"how": "plain nn.Module calls", "setup": _hooked},
                "compiled": {"how": "torch.compile(model) (TorchInductor)", "setup": _compiled}}

    def export_formats(self, adapter) -> dict:
        return {"torchscript": _torchscript, "torch.export": _torch_export, "onnx": _onnx,
                "openvino": openvino_from_onnx(_onnx), "executorch": _executorch,
                "keras": "unsupported: a torch module, not a Keras model",
                "savedmodel": "unsupported: " + NOT_TF.format("SavedModel"),
                "tflite": "unsupported: " + NOT_TF.format("TFLite")}

    def save_model(self, adapter, model, directory: Path) -> Path:
        import torch

        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "state_dict.pt"
        torch.save(_module(model).state_dict(), path)
        return path

    def load_model(self, adapter, path: Path, fresh):
        import torch

        _module(fresh).load_state_dict(torch.load(path, weights_only=True))
        return fresh


PROBES = TorchProbes()
