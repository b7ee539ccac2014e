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


BATCH_MAX = 1 << 20  # the dynamic batch dimension's upper bound in torch.export
# ExecuTorch plans its buffers for the largest batch (13.5 GB for lstm_sequence at 1 << 20, 13 MB at 1024):
# its programs take up to the largest batch the export command measures (export_mode.LARGE_BATCH)
EXECUTORCH_BATCH_MAX = 1024


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


def _exported(model, one, max_batch: int = BATCH_MAX):
    import torch

    batch = torch.export.Dim("batch", min=1, max=max_batch)
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
    batch = torch.export.Dim("batch", min=1, max=BATCH_MAX)
    two = np.repeat(one, 2, axis=0)
    torch.onnx.export(_module(model), (torch.from_numpy(two),), str(path), input_names=["x"],
                      dynamic_shapes=({0: batch},), dynamo=True, external_data=False, verbose=False)
    return path, onnx_loader(path, adapter.threads)


@contextlib.contextmanager
def _no_batch_guards():
    """oneDNN and NNPACK off while ExecuTorch re-traces: torch's fake conv kernel picks one of them by
    ``batch >= 16``, which, decided on the example's batch of 2, bounds the dynamic batch to [2, 15] (the
    runtime then refuses 16 rows). The lowered program runs on XNNPACK either way."""
    import torch

    with torch.backends.mkldnn.flags(enabled=False), torch.backends.nnpack.flags(enabled=False):
        yield


def _check_batch_range(program, max_batch: int) -> None:
    """A lowering that narrowed the dynamic batch fails here with the range (the runtime would only refuse
    larger batches with ``set_inputs() ... failed with error 0x10``)."""
    spec = next(s for s in program.graph_signature.input_specs if s.kind.name == "USER_INPUT")
    batch = next(n for n in program.graph.nodes if n.name == spec.arg.name).meta["val"].shape[0]
    rng = program.range_constraints.get(batch.node.expr) if hasattr(batch, "node") else None
    if rng is None or bool(rng.upper < max_batch):
        raise RuntimeError(f"ExecuTorch lowering bounded the batch dimension to {rng or batch} "
                           f"(exported as 1..{max_batch})")


def _executorch(adapter, model, workdir: Path, one):
    needs("executorch", "PyTorch's mobile/edge export (ExecuTorch)")
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    # _check_ir_validity off: ExecuTorch 1.5.1's dtype verifier takes the first tensor of an op returning
    # Tensor[] (split_with_sizes_copy of nn.LSTM/nn.GRU's gates) for the list, and its len() pins the batch
    # to the example's (2); the artifact's outputs are compared with the live model instead (max |Δ|)
    config = EdgeCompileConfig(_check_ir_validity=False)
    with _no_batch_guards():
        program = to_edge_transform_and_lower(_exported(model, one, EXECUTORCH_BATCH_MAX),
                                              partitioner=[XnnpackPartitioner()], compile_config=config).to_executorch()
    _check_batch_range(program.exported_program(), EXECUTORCH_BATCH_MAX)
    path = workdir / "model.pte"
    path.write_bytes(program.buffer)

    def load():
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(path)).load_method("forward")
        return lambda x: method.execute([torch.from_numpy(np.ascontiguousarray(x, one.dtype))])[0].numpy()

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

    def format_notes(self, adapter) -> dict:
        return {"executorch": f"XNNPACK; batches 1..{EXECUTORCH_BATCH_MAX} (buffers planned for the largest)"}

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
