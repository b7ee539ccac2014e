"""Keras 3 diagnostics: ``model.export`` paths (SavedModel, TFLite from it, ONNX) and the stateless
loop's variants."""
from __future__ import annotations

from pathlib import Path

from .._keras.probes import KerasProbes, attach_probe, recompiled
from .._probes import host, needs, onnx_session, tflite_from_saved_model


def _saved_model(adapter, model, workdir: Path, one):
    needs("tensorflow", "model.export(format='tf_saved_model')")
    import tensorflow as tf

    path = workdir / "export_saved_model"
    model.export(str(path), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(path))
    return path, lambda x: host(loaded.serve(tf.constant(x)))


def _tflite(adapter, model, workdir: Path, one):
    return tflite_from_saved_model(workdir / "export_saved_model", workdir, one.shape[1], "SavedModel")


def _onnx(adapter, model, workdir: Path, one):
    needs("onnx", "ONNX export")
    needs("onnxruntime", "running the ONNX model")
    path = workdir / "model.onnx"
    model.export(str(path), format="onnx", verbose=False)
    return path, onnx_session(path)


class Keras3Probes(KerasProbes):
    EXPORTS = (("SavedModel (model.export)", "server", _saved_model), ("TFLite", "mobile", _tflite),
               ("ONNX (model.export)", "server", _onnx))


class StatelessProbes(Keras3Probes):
    """The ``jax.jit`` step of the stateless loop; eager under ``jax.disable_jit()``."""

    def execution_variants(self, adapter) -> dict[str, dict]:
        import jax

        return {"default": {"is": "compiled", "how": "jax.jit train step", "setup": recompiled()},
                "eager": {"how": "jax.disable_jit()", "setup": lambda m, p: (attach_probe(m, p), jax.disable_jit())},
                "compiled": {"how": "jax.jit train step", "setup": recompiled()}}


PROBES = Keras3Probes()
STATELESS_PROBES = StatelessProbes()
