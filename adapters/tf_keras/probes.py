"""tf.keras diagnostics: its export formats (SavedModel, TFLite, ONNX with tf2onnx, OpenVINO) and the GradientTape loop's variants."""
from __future__ import annotations

import contextlib
from pathlib import Path

from .._keras.probes import KerasProbes, attach_probe, recompiled
from .._probes import converter_reasons, host, litert_loader, openvino_from_onnx, sample_shape, tf2onnx_function


def _saved_model(adapter, model, workdir: Path, one):
    import tensorflow as tf

    path = workdir / "saved_model"
    tf.saved_model.save(model, str(path))

    def load():
        fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        key = next(iter(fn.structured_input_signature[1]))
        return lambda x: host(fn(**{key: tf.constant(x)}))

    return path, load


def _tflite(adapter, model, workdir: Path, one):
    import tensorflow as tf

    with converter_reasons("TFLiteConverter"):
        content = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = workdir / "model.tflite"
    path.write_bytes(content)
    return path, litert_loader(path, sample_shape(one), adapter.threads)


def _onnx(adapter, model, workdir: Path, one):
    return tf2onnx_function(lambda x: model(x, training=False), one, workdir, adapter.threads)


class TfKerasProbes(KerasProbes):
    def formats(self, adapter) -> dict:
        return {"savedmodel": _saved_model, "tflite": _tflite, "onnx": _onnx, "openvino": openvino_from_onnx(_onnx)}


class TapeProbes(TfKerasProbes):
    """The ``@tf.function`` step of the GradientTape loop; eager via ``run_functions_eagerly``."""

    def execution_variants(self, adapter) -> dict[str, dict]:
        import tensorflow as tf

        @contextlib.contextmanager
        def eager():
            tf.config.run_functions_eagerly(True)
            try:
                yield
            finally:
                tf.config.run_functions_eagerly(False)

        return {"default": {"is": "compiled", "how": "@tf.function train step", "setup": recompiled()},
                "eager": {"how": "tf.config.run_functions_eagerly(True)",
                          "setup": lambda m, p: (attach_probe(m, p), eager())},
                "compiled": {"how": "@tf.function train step", "setup": recompiled()}}


PROBES = TfKerasProbes()
TAPE_PROBES = TapeProbes()
