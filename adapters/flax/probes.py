"""Flax diagnostics: the probe inside the jitted step's loss, eager under ``jax.disable_jit()``, and
export formats (SavedModel and TFLite through jax2tf, ONNX from it with tf2onnx, OpenVINO) and the
Orbax checkpoint of ``nnx.state`` as saved model."""
from __future__ import annotations

import contextlib
from typing import Callable

import jax
import numpy as np
from flax import nnx

from .._probes import (Probes, eager_load, host, needs, onnx_from_tflite, openvino_from_onnx, sample_shape,
                       tflite_from_saved_model)


class FlaxProbes(Probes):
    def activation_callable(self, adapter, model) -> Callable:
        return model.layers[-1]  # the activation module of a [dense(linear), activation] model

    def execution_variants(self, adapter) -> dict[str, dict]:
        """Compiled by default (jax.jit step); eager under ``jax.disable_jit()``."""
        def setup(eager: bool):
            def attach(model, probe):
                if probe is not None:
                    adapter.attach_probe(model, probe)
                return model, (jax.disable_jit() if eager else contextlib.nullcontext())

            return attach

        return {"default": {"is": "compiled", "how": "jax.jit train step", "setup": setup(False)},
                "eager": {"how": "jax.disable_jit()", "setup": setup(True)},
                "compiled": {"how": "jax.jit train step", "setup": setup(False)}}

    def export_formats(self, adapter) -> dict:
        no_torch = "unsupported: a Flax NNX module; torch formats take torch modules"
        return {"savedmodel": eager_load(_jax2tf_saved_model), "tflite": _tflite_from_jax2tf, "onnx": _onnx,
                "openvino": openvino_from_onnx(_onnx), "keras": "unsupported: a Flax NNX module, not a Keras model",
                "torchscript": no_torch, "torch.export": no_torch, "executorch": no_torch}

    def format_notes(self, adapter) -> dict:
        return {"savedmodel": "jax2tf; load time is inside the export time",
                "onnx": "tf2onnx from the TFLite flatbuffer (jax2onnx pins orbax-checkpoint<0.11.37; flax pins 0.12.8)"}

    def save_model(self, adapter, model, directory):
        import orbax.checkpoint as ocp

        path = (directory / "orbax_state").absolute()
        with ocp.StandardCheckpointer() as ckpt:
            ckpt.save(path, nnx.state(model))
            ckpt.wait_until_finished()
        return path

    def load_model(self, adapter, path, fresh):
        import orbax.checkpoint as ocp

        state = nnx.state(fresh)
        with ocp.StandardCheckpointer() as ckpt:
            nnx.update(fresh, ckpt.restore(path.absolute(), jax.tree.map(ocp.utils.to_shape_dtype_struct, state)))
        return fresh


PROBES = FlaxProbes()


# ----------------------------------------------------------------------------- export paths
def _pure_forward(model: nnx.Module):
    """The model as a function of x alone, in inference mode (running statistics, no dropout). Its Variables
    are rebuilt inside the trace from the arrays: the recurrent layers' nnx transforms refuse Variables of
    an outer trace level."""
    model.eval()  # the graph definition keeps the mode
    graphdef, state = nnx.split(model)
    leaves, treedef = jax.tree.flatten(state)
    return (lambda x: nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))(x)), state


def _jax2tf_saved_model(adapter, model, workdir, one):
    needs("tensorflow", "jax2tf SavedModel export")
    import tensorflow as tf
    from jax.experimental import jax2tf

    fwd, _ = _pure_forward(model)
    module = tf.Module()
    shape = sample_shape(one)
    polymorphic = "(b" + "".join(f", {d}" for d in shape) + ")"  # the batch symbolic, the sample shape fixed
    module.f = tf.function(jax2tf.convert(fwd, polymorphic_shapes=[polymorphic]), autograph=False,
                           input_signature=[tf.TensorSpec([None, *shape], tf.as_dtype(one.dtype))])
    path = workdir / "jax2tf_saved_model"
    tf.saved_model.save(module, str(path), signatures=module.f.get_concrete_function())
    loaded = tf.saved_model.load(str(path))
    return path, lambda x: host(loaded.f(tf.constant(np.asarray(x, one.dtype))))


def _saved_model_dir(adapter, model, workdir, one):
    path = workdir / "jax2tf_saved_model"
    if not path.exists():
        _jax2tf_saved_model(adapter, model, workdir, one)
    return path


def _tflite_from_jax2tf(adapter, model, workdir, one):
    return tflite_from_saved_model(_saved_model_dir(adapter, model, workdir, one), workdir, sample_shape(one),
                                   adapter.threads)


_onnx = onnx_from_tflite(_tflite_from_jax2tf)
