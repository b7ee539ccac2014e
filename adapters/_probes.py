"""The diagnostics every family provides (:meth:`Adapter.probes`), and what the families share.

A family's :class:`Probes` subclass answers three questions about its models --
:meth:`~Probes.activation_callable`, :meth:`~Probes.execution_variants`,
:meth:`~Probes.export_paths` -- and the autodiff probes come from the target's backend
runtime (:mod:`._backends`). Every method takes the adapter first, as the worker modes
(``frameworkbench.analysis.diagnostics``) call them.
"""
from __future__ import annotations

import importlib.util
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable

import numpy as np

ExportFn = Callable  # (adapter, model, workdir, one row) -> (artifact path, predict(x) -> array)


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

    @abstractmethod
    def export_paths(self, adapter) -> list[tuple[str, str, ExportFn]]:
        """(name, kind, export function) for every export path tried for this target."""

    def value_and_derivative(self, adapter, fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``fn(x)`` for x of shape (n, k), and d(sum_i fn(x)[i, 0]) / dx[:, 0] by the framework's autodiff."""
        return adapter.runtime.value_and_derivative(fn, x)

    def forward_backward_timer(self, adapter, fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
        """A no-argument function running fn forward and backward on ``x`` once, finished on return,
        and a description of how (compiled or eager) it runs."""
        return adapter.runtime.forward_backward_timer(fn, x)

    def run_export(self, adapter, model, workdir: Path, sample: np.ndarray, reference_out: np.ndarray) -> list[dict]:
        """Try every export path: artifact size, export and load time, batch-1 latency, max |Δ| to the live model."""
        results = []
        one = sample[:1]
        for name, kind, fn in self.export_paths(adapter):
            res: dict = {"path": name, "kind": kind}
            try:
                t = time.perf_counter()
                artifact, predict = fn(adapter, model, workdir, one)
                res["export_and_load_s"] = time.perf_counter() - t
                res["artifact"] = Path(artifact).name
                res["size_bytes"] = _size(Path(artifact))
                got = np.asarray(predict(sample), dtype=np.float64)
                res["max_abs_diff"] = float(np.max(np.abs(got - reference_out)))
                res["latency_batch1"] = _latency(lambda: predict(one))
                res["status"] = "ok"
            except Exception as exc:  # every failure is a result: the path does not work here
                res["status"] = "failed"
                res["error"] = _first_line(exc)
            results.append(res)
        return results


# ----------------------------------------------------------------------------- export helpers
def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _latency(call: Callable[[], Any], repeats: int = 200, warmup: int = 10) -> dict:
    from frameworkbench.measure import latency

    s = latency(call, warmup, repeats)
    return {"median_s": s["median"], "p95_s": s["p95"], "n": s["n"]}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def unsupported_export(reason: str) -> ExportFn:
    """An export path that does not exist for this family: its result says why."""
    def fn(adapter, model, workdir, one):
        raise NotImplementedError(f"unsupported: {reason}")

    return fn


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


def tflite_interpreter(content: bytes, width: int):
    """predict(x) over a TFLite flatbuffer (resized to the batch on first use of each size)."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_content=content)
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    state = {"rows": None}

    def predict(x):
        if state["rows"] != len(x):
            interp.resize_tensor_input(inp["index"], [len(x), width])
            interp.allocate_tensors()
            state["rows"] = len(x)
        interp.set_tensor(inp["index"], np.ascontiguousarray(x, dtype=np.float32))
        interp.invoke()
        return interp.get_tensor(out["index"]).copy()

    return predict


def tflite_from_saved_model(saved_model: Path, workdir: Path, width: int, source: str):
    """Convert a SavedModel written by an earlier export path to TFLite; (artifact, predict)."""
    import tensorflow as tf

    if not saved_model.exists():
        raise RuntimeError(f"needs the {source} export, which failed")
    content = tf.lite.TFLiteConverter.from_saved_model(str(saved_model)).convert()
    out = workdir / "model.tflite"
    out.write_bytes(content)
    return out, tflite_interpreter(content, width)


def onnx_session(path: Path):
    """predict(x) over an ONNX file with onnxruntime on the CPU."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: np.asarray(x, np.float32)})[0]
