"""Keras 3 diagnostics: ``model.export`` formats per backend (SavedModel, TFLite from it, ONNX, OpenVINO
from the ONNX file) and the stateless loop's variants."""
from __future__ import annotations

from pathlib import Path

from .._keras.probes import KerasProbes, attach_probe, recompiled
from .._probes import (host, needs, onnx_from_tflite, onnx_loader, openvino_from_onnx, sample_shape,
                       tflite_from_saved_model)

# Keras 3.15 on torch: model.export(format="tf_saved_model") builds dynamic_shapes=({0: batch},) while
# Layer.forward(*args) makes torch.export see the inputs as (args,), which needs (({0: batch},),);
# even with that structure the next step is torch_xla.stablehlo, and torch_xla's newest release (2.9.0)
# is built for torch 2.9, not 2.13.
TORCH_SAVED_MODEL = (
    "unsupported: Keras 3 on torch exports SavedModel through torch.export + torch_xla: Keras passes "
    "dynamic_shapes=({0: batch},) for forward(*args), whose inputs are (args,) (torch.export needs "
    "(({0: batch},),)); repro: keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)]) called once, then "
    "model.export(p, format='tf_saved_model') -> 'Detected mismatch between the structure of `inputs` and "
    "`dynamic_shapes`'; and torch_xla (StableHLO, next step) has no release for torch 2.13 (newest 2.9.0)")
TORCH_TFLITE = "unsupported: TFLite is converted from the SavedModel, which Keras 3 cannot export on torch (see savedmodel)"
JAX_ONNX = ("model.export(format='onnx') on JAX needs jax2onnx, whose releases pin orbax-checkpoint<0.11.37 "
            "(flax pins 0.12.8), and tf2onnx cannot read the jax2tf SavedModel (XlaCallModule); ONNX here is tf2onnx "
            "from the TFLite flatbuffer")


def _saved_model_dir(model, workdir: Path) -> Path:
    path = workdir / "export_saved_model"
    if not path.exists():
        model.export(str(path), format="tf_saved_model", verbose=False)
    return path


def _saved_model(adapter, model, workdir: Path, one):
    needs("tensorflow", "model.export(format='tf_saved_model')")
    path = _saved_model_dir(model, workdir)

    def load():
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        return lambda x: host(loaded.serve(tf.constant(x)))

    return path, load


def _tflite(adapter, model, workdir: Path, one):
    return tflite_from_saved_model(_saved_model_dir(model, workdir), workdir, sample_shape(one), adapter.threads)


def _onnx(adapter, model, workdir: Path, one):
    needs("onnx", "ONNX export")
    path = workdir / "model.onnx"
    model.export(str(path), format="onnx", verbose=False)
    return path, onnx_loader(path, adapter.threads)


class Keras3Probes(KerasProbes):
    def formats(self, adapter) -> dict:
        if adapter.backend == "torch":
            return {"savedmodel": TORCH_SAVED_MODEL, "tflite": TORCH_TFLITE, "onnx": _onnx,
                    "openvino": openvino_from_onnx(_onnx)}
        onnx = onnx_from_tflite(_tflite) if adapter.backend == "jax" else _onnx
        return {"savedmodel": _saved_model, "tflite": _tflite, "onnx": onnx, "openvino": openvino_from_onnx(onnx)}

    def format_notes(self, adapter) -> dict:
        return {"onnx": JAX_ONNX} if adapter.backend == "jax" else {}


class StatelessProbes(Keras3Probes):
    """The ``jax.jit`` step of the stateless loop; eager under ``jax.disable_jit()``."""

    def execution_variants(self, adapter) -> dict[str, dict]:
        import jax

        return {"default": {"is": "compiled", "how": "jax.jit train step", "setup": recompiled()},
                "eager": {"how": "jax.disable_jit()", "setup": lambda m, p: (attach_probe(m, p), jax.disable_jit())},
                "compiled": {"how": "jax.jit train step", "setup": recompiled()}}


PROBES = Keras3Probes()
STATELESS_PROBES = StatelessProbes()
