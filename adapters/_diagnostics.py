"""Framework-side helpers for the diagnostic worker modes (frameworkbench.diagnostics).

Activation probes (value and derivative by the framework's own autodiff), the check of
whether a training step runs eagerly, switching a target between eager and compiled
execution, and export paths. Like :mod:`._runtime`, every function imports its framework
when called and dispatches on the target's backend: ``tensorflow`` (tf.keras,
keras:tensorflow, tf:gradienttape), ``jax`` (keras:jax, keras:jax:stateless) or ``torch``
(keras:torch, torch). Nothing here is imported by the core.
"""
from __future__ import annotations

import contextlib
import importlib.util
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np


def backend(adapter) -> str:
    return adapter.target.backend


def is_torch_model(adapter) -> bool:
    return adapter.target.family == "torch"


# ----------------------------------------------------------------------------- activations
def activation_callable(adapter, model) -> Callable:
    """The activation object of a model built from ``[dense(linear), activation]``: its last layer.

    For Keras that is the ``Activation`` / ``LeakyReLU`` / ``ELU`` layer the adapter built,
    for torch the ``nn`` module, so the probe runs exactly the code the models train with.
    An adapter with its own ``activation_callable(model)`` (flax) answers for itself."""
    if hasattr(adapter, "activation_callable"):
        return adapter.activation_callable(model)
    if is_torch_model(adapter):
        return list(model.children())[-1]
    return model.layers[-1]


def value_and_derivative(adapter, fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fn(x)`` for x of shape (n, k), and d(sum_i fn(x)[i, 0]) / dx[:, 0] by the framework's autodiff.

    For an elementwise activation that is f'(x[:, 0]); for softmax, the diagonal ∂y₀/∂x₀."""
    b = backend(adapter)
    if b == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fn(xt)
            s = tf.reduce_sum(y[:, 0])
        g = tape.gradient(s, xt)
        return np.asarray(y), np.asarray(g)[:, 0]
    if b == "jax":
        import jax
        import jax.numpy as jnp

        def f(v):
            y = fn(v)
            return jnp.sum(y[:, 0]), y

        (_, y), g = jax.value_and_grad(f, has_aux=True)(jnp.asarray(x))
        return np.asarray(y), np.asarray(g)[:, 0]
    import torch

    xt = torch.tensor(x, requires_grad=True)
    y = fn(xt)
    (g,) = torch.autograd.grad(y[:, 0].sum(), xt)
    return y.detach().cpu().numpy(), g.detach().cpu().numpy()[:, 0]


def forward_backward_timer(adapter, fn: Callable, x: np.ndarray) -> tuple[Callable[[], None], str]:
    """A no-argument function running fn forward and backward on ``x`` once, finished on return,
    and a description of how (compiled or eager) it runs."""
    b = backend(adapter)
    if b == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)

        @tf.function
        def step(v):
            with tf.GradientTape() as tape:
                tape.watch(v)
                s = tf.reduce_sum(fn(v))
            return tf.reduce_sum(tape.gradient(s, v))

        return (lambda: step(xt).numpy()), "tf.function(GradientTape forward+backward), scalar host copy"
    if b == "jax":
        import jax
        import jax.numpy as jnp

        xj = jnp.asarray(x)
        grad = jax.jit(lambda v: jnp.sum(jax.grad(lambda u: jnp.sum(fn(u)))(v)))
        return (lambda: grad(xj).block_until_ready()), "jax.jit(jax.grad), block_until_ready"
    import torch

    xt = torch.tensor(x, requires_grad=True)

    def run():
        (g,) = torch.autograd.grad(fn(xt).sum(), xt)
        g.sum().item()

    return run, "eager torch.autograd.grad, scalar host copy"


# ----------------------------------------------------------------------------- eager or compiled
def is_eager_here(adapter, tensor: Any) -> bool:
    """Whether the code calling this runs eagerly (op by op) rather than being traced for a graph."""
    b = backend(adapter)
    if b == "tensorflow":
        import tensorflow as tf

        return bool(tf.executing_eagerly())
    if b == "jax":
        import jax

        # Autodiff wraps values in tracers even when eager (jax.grad's LinearizeTracer around a
        # concrete array); only a staging tracer (jit's DynamicJaxprTracer) at the core means compiled.
        t = tensor
        while isinstance(t, jax.core.Tracer) and hasattr(t, "primal"):
            t = t.primal
        return not isinstance(t, jax.core.Tracer)
    import torch

    return not torch.compiler.is_compiling()


class StepProbe:
    """Records, every time the training step's Python body runs, whether it runs eagerly."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.calls: list[bool] = []
        self.value_type: str | None = None

    def __call__(self, tensor: Any) -> None:
        self.calls.append(is_eager_here(self.adapter, tensor))
        while hasattr(tensor, "primal"):  # jax autodiff tracers: name the value they wrap
            tensor = tensor.primal
        self.value_type = f"{type(tensor).__module__}.{type(tensor).__name__}"

    def summary(self, steps: int) -> dict:
        """``eager``: the step's body ran eagerly at every step; ``traced``: it ran fewer times than
        there were steps (traced once or a few times, then replayed as a compiled graph)."""
        eager_calls = sum(self.calls)
        return {"step_body_calls": len(self.calls), "steps": steps, "eager_calls": eager_calls,
                "eager": eager_calls >= steps, "traced": len(self.calls) < steps, "value_type": self.value_type}


def attach_probe(adapter, model, probe: StepProbe | None, *, run_eagerly: bool = False, jit_compile: Any = None):
    """Put ``probe`` inside the model's training step: a wrapper around the compiled loss (Keras)
    or a forward hook (torch). Keras models are recompiled, optionally eager or with ``jit_compile``.
    With ``probe`` None only the execution settings change (nothing extra runs in the step)."""
    if is_torch_model(adapter):
        if probe is not None:
            model.register_forward_hook(lambda module, args, out: probe(out))
        return model
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


def execution_variants(adapter) -> dict[str, dict]:
    """How this target runs its training step by default, and how to switch to the other way.

    Returns ``{"default": {...}, "eager": {...}, "compiled": {...}}`` where each entry has
    ``how`` (text) and ``setup(model, probe) -> (model, context manager)``; ``default``
    names which of eager/compiled it is *claimed* to be (the probe checks it). An adapter with
    its own ``execution_variants()`` (flax) answers for itself."""
    if hasattr(adapter, "execution_variants"):
        return adapter.execution_variants()
    name, api, b = adapter.target.name, adapter.target.api, backend(adapter)
    null = contextlib.nullcontext

    def keras(**kw):
        return lambda m, p: (attach_probe(adapter, m, p, **kw), null())

    if is_torch_model(adapter):
        import torch

        def compiled(m, p):
            attach_probe(adapter, m, p)
            return torch.compile(m), null()

        return {"default": {"is": "eager", "how": "plain nn.Module calls", "setup": keras()},
                "eager": {"how": "plain nn.Module calls", "setup": keras()},
                "compiled": {"how": "torch.compile(model) (TorchInductor)", "setup": compiled}}
    if api == "loop" and b == "tensorflow":
        import tensorflow as tf

        @contextlib.contextmanager
        def eager():
            tf.config.run_functions_eagerly(True)
            try:
                yield
            finally:
                tf.config.run_functions_eagerly(False)

        return {"default": {"is": "compiled", "how": "@tf.function train step", "setup": keras()},
                "eager": {"how": "tf.config.run_functions_eagerly(True)",
                          "setup": lambda m, p: (attach_probe(adapter, m, p), eager())},
                "compiled": {"how": "@tf.function train step", "setup": keras()}}
    if api == "loop" and b == "jax":
        import jax

        return {"default": {"is": "compiled", "how": "jax.jit train step", "setup": keras()},
                "eager": {"how": "jax.disable_jit()",
                          "setup": lambda m, p: (attach_probe(adapter, m, p), jax.disable_jit())},
                "compiled": {"how": "jax.jit train step", "setup": keras()}}
    if b == "torch":  # Keras 3 on torch: eager unless jit_compile=True (torch.compile)
        return {"default": {"is": "eager", "how": "model.fit defaults", "setup": keras()},
                "eager": {"how": "model.fit defaults", "setup": keras()},
                "compiled": {"how": "compile(jit_compile=True) (torch.compile)", "setup": keras(jit_compile=True)}}
    how = "model.fit defaults (tf.function graph)" if name == "tf.keras" else "model.fit defaults (jit_compile='auto')"
    return {"default": {"is": "compiled", "how": how, "setup": keras()},
            "eager": {"how": "compile(run_eagerly=True)", "setup": keras(run_eagerly=True)},
            "compiled": {"how": how, "setup": keras()}}


# ----------------------------------------------------------------------------- export
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


def export_paths(adapter) -> list[tuple[str, str, Callable]]:
    """(name, kind, export function) for every path tried for this target.

    An export function takes (adapter, model, workdir, one row) and returns (artifact path, predict(x) -> array).
    An adapter with its own ``export_paths()`` (flax) answers for itself."""
    if hasattr(adapter, "export_paths"):
        return adapter.export_paths()
    fam = adapter.target.family
    if fam == "torch":
        return [("TorchScript", "server", _torchscript), ("torch.export (.pt2)", "server", _torch_export),
                ("ONNX", "server", _torch_onnx), ("ExecuTorch (.pte)", "mobile", _executorch)]
    out = [(".keras file", "framework", _keras_file)]
    if fam == "tf.keras":
        out += [("SavedModel", "server", _tf_saved_model), ("TFLite", "mobile", _tflite_from_keras)]
    else:
        out += [("SavedModel (model.export)", "server", _keras_export_saved_model),
                ("TFLite", "mobile", _tflite_from_export), ("ONNX (model.export)", "server", _keras_export_onnx)]
    return out


def run_export(adapter, model, workdir: Path, sample: np.ndarray, reference_out: np.ndarray) -> list[dict]:
    """Try every export path: artifact size, export and load time, batch-1 latency, max |Δ| to the live model."""
    results = []
    one = sample[:1]
    for name, kind, fn in export_paths(adapter):
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


def _needs(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"'{module}' is not installed (needed for {what})")


def _keras_file(adapter, model, workdir: Path, one):
    path = workdir / "model.keras"
    model.save(path)
    K = adapter.keras
    loaded = K.models.load_model(path, compile=False)
    return path, lambda x: _host(loaded(x, training=False))


def _host(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    if isinstance(value, dict):
        return _host(next(iter(value.values())))
    return np.asarray(value)


def _tf_saved_model(adapter, model, workdir: Path, one):
    import tensorflow as tf

    path = workdir / "saved_model"
    tf.saved_model.save(model, str(path))
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    key = next(iter(fn.structured_input_signature[1]))
    return path, lambda x: _host(fn(**{key: tf.constant(x)}))


def _tflite_interpreter(content: bytes, width: int):
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


def _tflite_from_keras(adapter, model, workdir: Path, one):
    import tensorflow as tf

    content = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = workdir / "model.tflite"
    path.write_bytes(content)
    return path, _tflite_interpreter(content, one.shape[1])


def _keras_export_saved_model(adapter, model, workdir: Path, one):
    _needs("tensorflow", "model.export(format='tf_saved_model')")
    import tensorflow as tf

    path = workdir / "export_saved_model"
    model.export(str(path), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(path))
    return path, lambda x: _host(loaded.serve(tf.constant(x)))


def _tflite_from_export(adapter, model, workdir: Path, one):
    import tensorflow as tf

    path = workdir / "export_saved_model"
    if not path.exists():
        raise RuntimeError("needs the SavedModel export, which failed")
    content = tf.lite.TFLiteConverter.from_saved_model(str(path)).convert()
    out = workdir / "model.tflite"
    out.write_bytes(content)
    return out, _tflite_interpreter(content, one.shape[1])


def _keras_export_onnx(adapter, model, workdir: Path, one):
    _needs("onnx", "ONNX export")
    _needs("onnxruntime", "running the ONNX model")
    import onnxruntime as ort

    path = workdir / "model.onnx"
    model.export(str(path), format="onnx", verbose=False)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return path, lambda x: sess.run(None, {name: np.asarray(x, np.float32)})[0]


def _torch_module(model):
    return getattr(model, "_orig_mod", model).eval()


def _torchscript(adapter, model, workdir: Path, one):
    import torch

    path = workdir / "model.torchscript.pt"
    with torch.no_grad():
        traced = torch.jit.trace(_torch_module(model), torch.from_numpy(one))
    traced.save(str(path))
    loaded = torch.jit.load(str(path))
    loaded.eval()

    def predict(x):
        with torch.no_grad():
            return loaded(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return path, predict


def _torch_export(adapter, model, workdir: Path, one):
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    two = np.repeat(one, 2, axis=0)  # a batch of 2 so the batch dimension is not specialised to 1
    prog = torch.export.export(_torch_module(model), (torch.from_numpy(two),), dynamic_shapes=({0: batch},))
    path = workdir / "model.pt2"
    torch.export.save(prog, str(path))
    loaded = torch.export.load(str(path)).module()

    def predict(x):
        with torch.no_grad():
            return loaded(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return path, predict


def _torch_onnx(adapter, model, workdir: Path, one):
    _needs("onnx", "torch.onnx.export")
    _needs("onnxruntime", "running the ONNX model")
    import onnxruntime as ort
    import torch

    path = workdir / "model.onnx"
    torch.onnx.export(_torch_module(model), (torch.from_numpy(one),), str(path), input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return path, lambda x: sess.run(None, {"x": np.asarray(x, np.float32)})[0]


def _executorch(adapter, model, workdir: Path, one):
    _needs("executorch", "PyTorch's mobile/edge export (ExecuTorch)")
    raise NotImplementedError("ExecuTorch export is not implemented by frameworkbench")
