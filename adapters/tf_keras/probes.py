"""tf.keras diagnostics: its export paths (SavedModel, TFLite) and the GradientTape loop's variants."""
from __future__ import annotations

import contextlib
from pathlib import Path

from .._keras.probes import KerasProbes, attach_probe, recompiled
from .._probes import host, tflite_interpreter


def _saved_model(adapter, model, workdir: Path, one):
    import tensorflow as tf

    path = workdir / "saved_model"
    tf.saved_model.save(model, str(path))
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    key = next(iter(fn.structured_input_signature[1]))
    return path, lambda x: host(fn(**{key: tf.constant(x)}))


def _tflite(adapter, model, workdir: Path, one):
    import tensorflow as tf

    content = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = workdir / "model.tflite"
    path.write_bytes(content)
    return path, tflite_interpreter(content, one.shape[1])


class TfKerasProbes(KerasProbes):
    EXPORTS = (("SavedModel", "server", _saved_model), ("TFLite", "mobile", _tflite))


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
