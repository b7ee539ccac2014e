"""Diagnostics shared by the Keras targets: the probe inside ``model.fit``'s step, ``fit``'s
execution variants per backend, and the ``.keras`` file (export and saved model). tf.keras and Keras 3 add
their own export formats (``tf_keras.probes``, ``keras3.probes``)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

from .._errors import Unsupported
from .._probes import Probes, host


def attach_probe(model, probe, *, run_eagerly: bool = False, jit_compile: Any = None):
    """Put ``probe`` inside the model's training step (a wrapper around the compiled loss); the
    model is recompiled, optionally eager or with ``jit_compile``. With ``probe`` None only the
    execution settings change (nothing extra runs in the step)."""
    if probe is None and not run_eagerly and jit_compile is None:
        return model
    loss = model.loss

    def probed_loss(y_true, y_pred):
        probe(y_pred)
        return loss(y_true, y_pred)

    kwargs: dict = {"run_eagerly": run_eagerly}
    if jit_compile is not None:
        kwargs["jit_compile"] = jit_compile
    model.compile(optimizer=model.optimizer, loss=loss if probe is None else probed_loss, **kwargs)
    return model


def recompiled(**kw) -> Callable:
    """A ``setup(model, probe)`` that recompiles the model with the probe and ``kw``."""
    return lambda m, p: (attach_probe(m, p, **kw), contextlib.nullcontext())


def _graph_fit(adapter) -> dict[str, dict]:
    """Keras ``fit`` on TensorFlow or JAX: a compiled step unless ``run_eagerly``."""
    how = adapter.FIT_DEFAULT
    return {"default": {"is": "compiled", "how": how, "setup": recompiled()},
            "eager": {"how": "compile(run_eagerly=True)", "setup": recompiled(run_eagerly=True)},
            "compiled": {"how": how, "setup": recompiled()}}


def _eager_fit(adapter) -> dict[str, dict]:
    """Keras 3 on torch: eager unless ``jit_compile=True`` (torch.compile)."""
    return {"default": {"is": "eager", "how": "model.fit defaults", "setup": recompiled()},
            "eager": {"how": "model.fit defaults", "setup": recompiled()},
            "compiled": {"how": "compile(jit_compile=True) (torch.compile)", "setup": recompiled(jit_compile=True)}}


FIT_VARIANTS = {"tensorflow": _graph_fit, "jax": _graph_fit, "torch": _eager_fit}


def own_classes(adapter, model) -> dict[str, type]:
    """The model's layer classes that the builders define (not Keras' own), by name: ``load_model`` needs them."""
    root = adapter.keras.__name__.split(".")[0]
    return {type(lay).__name__: type(lay) for lay in model.layers if not type(lay).__module__.startswith(root)}


def innermost(exc: BaseException) -> str:
    """Keras nests deserialisation errors (each adds the whole config); the last ``Exception encountered:``
    part is the cause."""
    text = str(exc)
    return text.rsplit("Exception encountered:", 1)[-1].strip() if "Exception encountered:" in text else text


def keras_file(adapter, model, workdir: Path, one):
    path = workdir / "model.keras"
    model.save(path)

    def load():
        try:
            loaded = adapter.keras.models.load_model(path, compile=False, custom_objects=own_classes(adapter, model))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"load_model: {innermost(exc)}") from exc
        return lambda x: host(loaded(x, training=False))

    return path, load


TORCH_FORMATS = ("unsupported: a Keras model: TorchScript, torch.export and ExecuTorch take torch modules "
                 "(Keras' own exports: model.export formats)")


class KerasProbes(Probes):
    """A Keras model's probes; subclasses add their export formats to the ``.keras`` file (:meth:`formats`)."""

    def activation_callable(self, adapter, model) -> Callable:
        return model.layers[-1]  # the Activation / LeakyReLU / ELU layer the adapter built

    def execution_variants(self, adapter) -> dict[str, dict]:
        variants = FIT_VARIANTS.get(adapter.backend)
        if variants is None:
            raise Unsupported(f"unsupported: execution variants on Keras backend {adapter.backend!r} "
                              f"(supported: {', '.join(FIT_VARIANTS)})")
        return variants(adapter)

    def export_formats(self, adapter) -> dict:
        return {"keras": keras_file, "torchscript": TORCH_FORMATS, "torch.export": TORCH_FORMATS,
                "executorch": TORCH_FORMATS, **self.formats(adapter)}

    def formats(self, adapter) -> dict:
        """The family's own formats besides the ``.keras`` file."""
        return {}

    def save_model(self, adapter, model, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "model.keras"
        model.save(path)
        return path

    def load_model(self, adapter, path: Path, fresh):
        """The saved weights into ``fresh`` (built and compiled by the adapter as every run's model is), read
        from the ``.keras`` file by ``load_weights``: no layer is deserialised from its config."""
        fresh.load_weights(path)
        return fresh
