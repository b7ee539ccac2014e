"""The diagnostics every family provides (:meth:`Adapter.probes`), and what the families share.

A family's :class:`Probes` subclass answers three questions about its models --
:meth:`~Probes.activation_callable`, :meth:`~Probes.execution_variants`,
:meth:`~Probes.export_formats` (with :meth:`~Probes.save_model` / :meth:`~Probes.load_model`) -- and the autodiff probes come from the target's backend
runtime (:mod:`._backends`). Every method takes the adapter first, as the worker modes
(``frameworkbench.analysis.diagnostics``) call them.
"""
from __future__ import annotations

import importlib.util
import re
import traceback
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import numpy as np

# (adapter, model, workdir, one row: shape (1, *sample shape), float32 or the spec's integer dtype)
#   -> (artifact path, load() -> predict(x) -> array)
ExportFn = Callable


class StepProbe:
    """Records, every time the training step's Python body runs, whether it runs eagerly."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.calls: list[bool] = []
        self.value_type: str | None = None

    def __call__(self, tensor: Any) -> None:
        self.calls.append(self.adapter.runtime.is_eager_here(tensor))
        while hasattr(tensor, "primal"):  # jax autodiff tracers: name the value they wrap
            tensor = tensor.primal
        self.value_type = f"{type(tensor).__module__}.{type(tensor).__name__}"

    def summary(self, steps: int) -> dict:
        """``eager``: the step's body ran eagerly at every step; ``traced``: it ran fewer times than
        there were steps (traced once or a few times, then replayed as a compiled graph)."""
        eager_calls = sum(self.calls)
        return {"step_body_calls": len(self.calls), "steps": steps, "eager_calls": eager_calls,
                "eager": eager_calls >= steps, "traced": len(self.calls) < steps, "value_type": self.value_type}


class Probes(ABC):
    """One family's diagnostics; the backend-specific probes delegate to ``adapter.runtime``."""

    StepProbe = StepProbe

    @abstractmethod
    def activation_callable(self, adapter, model) -> Callable:
        """The activation object of a model built from ``[dense(linear), activation]``: the code
        the family's models train with."""

    @abstractmethod
    def execution_variants(self, adapter) -> dict[str, dict]:
        """``{"default": {...}, "eager": {...}, "compiled": {...}}``: each entry has ``how`` (text) and
        ``setup(model, probe) -> (model, context manager)``; ``default`` names which of eager/compiled
        it is *claimed* to be (the probe checks it)."""

    def export_formats(self, adapter) -> dict[str, ExportFn | str]:
        """Format name (``frameworkbench.analysis.export.FORMATS``) -> export function, or the reason
        the format is unsupported for this target. A format not listed is unsupported too."""
        return {}

    def format_notes(self, adapter) -> dict[str, str]:
        """Format -> how this target's exporter differs from the usual one (shown with the result)."""
        return {}

    def save_model(self, adapter, model, directory: Path) -> Path:
        """Store the trained model in the framework's own format under ``directory``; its path."""
        raise NotImplementedError(f"unsupported: saving a {type(self).__name__} model is not implemented")

    def load_model(self, adapter, path: Path, fresh):
        """The model saved at ``path``, as ``fresh`` (a newly built model of the same spec) can hold it."""
        raise NotImplementedError(f"unsupported: loading a {type(self).__name__} model is not implemented")

    def value_and_derivative(self, adapter, fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``fn(x)`` for x of shape (n, k), and d(sum_i fn(x)[i, 0]) / dx[:, 0] by the framework's autodiff."""
        return adapter.runtime.value_and_derivative(fn, x)

    def forward_backward_timer(self, adapter, fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
        """A no-argument function running fn forward and backward on ``x`` once, finished on return,
        and a description of how (compiled or eager) it runs."""
        return adapter.runtime.forward_backward_timer(fn, x)


# ----------------------------------------------------------------------------- export helpers
def needs(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"'{module}' is not installed (needed for {what})")


def host(value) -> np.ndarray:
    """A framework output (tensor, array, dict of outputs) as a numpy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    if isinstance(value, dict):
        return host(next(iter(value.values())))
    return np.asarray(value)


def sample_shape(one: np.ndarray) -> list[int]:
    """The shape of one input row (``(8, 8, 1)`` images, ``(T, F)`` sequences, ``(T,)`` token ids)."""
    return [int(d) for d in one.shape[1:]]


def litert_loader(path: Path, shape: list[int], threads: int) -> Callable:
    """load() -> predict(x) through the LiteRT interpreter (``ai_edge_litert``), resized per batch size to
    ``(rows, *shape)``; inputs are cast to the interpreter's input dtype (token ids stay integers)."""
    def load():
        needs("ai_edge_litert", "running TFLite models (LiteRT)")
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=str(path), num_threads=threads)
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        state = {"rows": None}

        def predict(x):
            if state["rows"] != len(x):
                interp.resize_tensor_input(inp["index"], [len(x), *shape])
                interp.allocate_tensors()
                state["rows"] = len(x)
            interp.set_tensor(inp["index"], np.ascontiguousarray(x, dtype=inp["dtype"]))
            interp.invoke()
            return interp.get_tensor(out["index"]).copy()

        return predict

    return load


class ConversionFailed(RuntimeError):
    """A converter's error reduced to its reasons, on one line (the record shows the first line of an error)."""


def _reasons(text: str) -> list[str]:
    """The reasons in a converter's multi-line error: MLIR ``error:`` lines without their ``loc(...)``
    prefix (TFLite), the failed operations and their last message (OpenVINO's frontends), or the message
    after OpenVINO's chain of source locations."""
    found = []
    for m in re.finditer(r"^.*?error: (loc\(.*\)\): )?(.+)$", text, re.M):
        node = re.search(r'fused\["[^"]*", "([^"@]+)', m.group(1) or "")  # the graph node, e.g. .../gru_1/...
        found.append(m.group(2).strip() + (f" (at {node.group(1)})" if node else ""))
    if "Failed operations detailed log:" in text:
        log = text.split("Failed operations detailed log:", 1)[1].split("Summary:", 1)[0]
        lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
        ops = [ln[3:].split(" with a message:")[0] for ln in lines if ln.startswith("-- ")]
        found.append(f"cannot convert {', '.join(ops)}: {lines[-1]}" if ops else lines[-1])
    elif text.startswith("Exception from src/"):  # OpenVINO: a chain of source locations, then the message
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        found += [ln for ln in lines if not ln.startswith(("Exception from src/", "Check '"))][-1:]
    return list(dict.fromkeys(found))


def innermost_frame(exc: BaseException) -> str:
    """``file:function`` of the frame that raised ``exc`` (a converter's crash without a message of its own)."""
    tb = traceback.extract_tb(exc.__traceback__)
    return f"{Path(tb[-1].filename).name}:{tb[-1].name}" if tb else "?"


@contextmanager
def converter_reasons(what: str):
    """Re-raise a converter's multi-line error as :class:`ConversionFailed` naming ``what`` and its reasons."""
    try:
        yield
    except Exception as exc:
        reasons = _reasons(str(exc))
        if not reasons:
            raise
        raise ConversionFailed(f"{what} ({type(exc).__name__}): {'; '.join(reasons)}") from exc


def tflite_from_saved_model(saved_model: Path, workdir: Path, shape: list[int], threads: int):
    """Convert a SavedModel to TFLite with TensorFlow's converter (TFLite builtin ops, its default);
    (artifact, load)."""
    import tensorflow as tf

    with converter_reasons("TFLiteConverter"):
        content = tf.lite.TFLiteConverter.from_saved_model(str(saved_model)).convert()
    out = workdir / "model.tflite"
    out.write_bytes(content)
    return out, litert_loader(out, shape, threads)


# ONNX Runtime's input type names -> numpy dtypes (the model's input decides: float32, or integer ids)
ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int32)": np.int32,
              "tensor(int64)": np.int64}


def onnx_loader(path: Path, threads: int) -> Callable:
    """load() -> predict(x) over an ONNX file in ONNX Runtime (CPU), with ``threads`` intra-op threads;
    inputs are cast to the model's input type."""
    def load():
        needs("onnxruntime", "running ONNX models")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        dtype = ORT_DTYPES.get(inp.type)
        if dtype is None:
            raise NotImplementedError(f"unsupported: ONNX input type {inp.type} (known: {', '.join(ORT_DTYPES)})")
        return lambda x: sess.run(None, {inp.name: np.asarray(x, dtype)})[0]

    return load


def tf2onnx_function(fn, one: np.ndarray, workdir: Path, threads: int):
    """ONNX from a TensorFlow function of one ``(batch, *sample shape)`` input in ``one``'s dtype (float32, or
    int32 token ids) with tf2onnx; (artifact, load)."""
    needs("tf2onnx", "ONNX from TensorFlow")
    import tensorflow as tf
    import tf2onnx

    path = workdir / "model.onnx"
    spec = tf.TensorSpec([None, *sample_shape(one)], tf.as_dtype(one.dtype), name="x")
    tf2onnx.convert.from_function(tf.function(fn), input_signature=[spec], opset=17, output_path=str(path))
    return path, onnx_loader(path, threads)


def onnx_from_tflite(tflite_fn: ExportFn) -> ExportFn:
    """ONNX converted by tf2onnx from this target's TFLite artifact (exported first when missing). For
    jax2tf SavedModels, whose XlaCallModule graphs tf2onnx cannot read, the TFLite flatbuffer is plain ops."""
    def export(adapter, model, workdir: Path, one):
        needs("tf2onnx", "ONNX from TFLite")
        import tf2onnx

        src = workdir / "model.tflite"
        if not src.exists():
            tflite_fn(adapter, model, workdir, one)
        path = workdir / "model.onnx"
        try:
            tf2onnx.convert.from_tflite(str(src), opset=17, output_path=str(path))
        except (IndexError, KeyError, AttributeError) as exc:  # a parser crash: name where it happened
            raise ConversionFailed(f"tf2onnx.from_tflite ({type(exc).__name__}): {exc} in {innermost_frame(exc)}") \
                from exc
        return path, onnx_loader(path, adapter.threads)

    return export


def openvino_from_onnx(onnx_fn: ExportFn) -> ExportFn:
    """OpenVINO IR converted from this target's ONNX artifact (exported first when missing); run on CPU."""
    def export(adapter, model, workdir: Path, one):
        needs("openvino", "OpenVINO conversion and runtime")
        import openvino as ov

        src = workdir / "model.onnx"
        if not src.exists():
            onnx_fn(adapter, model, workdir, one)
        path = workdir / "openvino" / "model.xml"
        with converter_reasons("OpenVINO convert_model"):
            converted = ov.convert_model(str(src))
        # f32 weights: save_model compresses them to f16 by default (max |Δ| 1.8e-4 on cnn_digits)
        ov.save_model(converted, str(path), compress_to_fp16=False)

        def load():
            # f32 explicitly: OpenVINO's CPU plugin otherwise runs bf16 on CPUs that have it (max |Δ| ~2e-3)
            with converter_reasons("OpenVINO compile_model"):
                compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": adapter.threads,
                                                                      "INFERENCE_PRECISION_HINT": "f32"})
            dtype = compiled.inputs[0].get_element_type().to_dtype()  # float32, or integer token ids
            return lambda x: np.asarray(compiled(np.asarray(x, dtype))[0])

        return path, load

    return export


def eager_load(export: Callable) -> ExportFn:
    """An export function returning (artifact, predict) with the reload already done: load() is free."""
    def fn(adapter, model, workdir, one):
        path, predict = export(adapter, model, workdir, one)
        return path, lambda: predict

    return fn
