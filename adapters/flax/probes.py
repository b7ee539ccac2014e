"""Flax diagnostics: the probe inside the jitted step's loss, eager under ``jax.disable_jit()``, and
export paths (Orbax checkpoint, jax.export, SavedModel and TFLite through jax2tf)."""
from __future__ import annotations

import contextlib
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from .._probes import Probes, host, needs, tflite_from_saved_model, unsupported_export


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

    def export_paths(self, adapter) -> list[tuple[str, str, Callable]]:
        return [("Orbax checkpoint (nnx.state)", "framework", _orbax_checkpoint),
                ("jax.export (serialized StableHLO)", "server", _jax_export),
                ("SavedModel (jax2tf)", "server", _jax2tf_saved_model),
                ("TFLite (from jax2tf SavedModel)", "mobile", _tflite_from_jax2tf),
                ("ONNX", "server", unsupported_export("ONNX: JAX has no ONNX exporter of its own (jax2onnx not used)"))]


PROBES = FlaxProbes()


# ----------------------------------------------------------------------------- export paths
def _pure_forward(model: nnx.Module):
    graphdef, state = nnx.split(model)
    return (lambda x: nnx.merge(graphdef, state)(x)), state


def _orbax_checkpoint(adapter, model, workdir, one):
    import orbax.checkpoint as ocp

    path = (workdir / "orbax").absolute()
    graphdef, state = nnx.split(model)
    with ocp.StandardCheckpointer() as ckpt:
        ckpt.save(path / "state", state)
        ckpt.wait_until_finished()
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
        restored = ckpt.restore(path / "state", abstract)
    fn = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))
    return path, lambda x: np.asarray(fn(restored, x))


def _jax_export(adapter, model, workdir, one):
    from jax import export

    fwd, _ = _pure_forward(model)
    shape = export.symbolic_shape(f"b, {one.shape[1]}")
    exported = export.export(jax.jit(fwd))(jax.ShapeDtypeStruct(shape, jnp.float32))
    path = workdir / "model.stablehlo.bin"
    path.write_bytes(exported.serialize())
    loaded = export.deserialize(bytearray(path.read_bytes()))
    call = jax.jit(loaded.call)
    return path, lambda x: np.asarray(call(np.asarray(x, np.float32)))


def _jax2tf_saved_model(adapter, model, workdir, one):
    needs("tensorflow", "jax2tf SavedModel export")
    import tensorflow as tf
    from jax.experimental import jax2tf

    fwd, _ = _pure_forward(model)
    module = tf.Module()
    module.f = tf.function(jax2tf.convert(fwd, polymorphic_shapes=[f"(b, {one.shape[1]})"]), autograph=False,
                           input_signature=[tf.TensorSpec([None, one.shape[1]], tf.float32)])
    path = workdir / "jax2tf_saved_model"
    tf.saved_model.save(module, str(path), signatures=module.f.get_concrete_function())
    loaded = tf.saved_model.load(str(path))
    return path, lambda x: host(loaded.f(tf.constant(np.asarray(x, np.float32))))


def _tflite_from_jax2tf(adapter, model, workdir, one):
    return tflite_from_saved_model(workdir / "jax2tf_saved_model", workdir, one.shape[1], "jax2tf SavedModel")
