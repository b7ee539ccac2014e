"""Minimal hand-written training scripts, one per framework: the baselines of the benchmarks.

Run as ``python -m benchmarks._handwritten JOB.json`` in a fresh process whose env already
holds the target's variables (``TF_USE_LEGACY_KERAS``, ``KERAS_BACKEND``) and the thread
counts (see ``_common.target_env``). Nothing here imports frameworkbench: this is the code a
user would write by hand, so that the benchmarks can compare frameworkbench against it.

- Keras (tf.keras and Keras 3 on any backend): ``Sequential`` + ``compile`` + one
  ``fit(x, y, batch_size, epochs=E, shuffle=False, verbose=0)`` call on the arrays; an
  epoch-level callback reads the clock at each epoch's start and end (after a host copy of
  the epoch's loss), which adds no per-step work.
- PyTorch: ``nn.Sequential`` + ``torch.optim.Adam`` + a plain loop over slices of the
  tensors, ``running += loss.item()`` every step.

Job kinds: ``train`` (one or more model configs; per-epoch wall times) and ``matmul``
(square float32 matmul rate of one library: numpy, tensorflow, jax or torch).
The result is one JSON line on stdout, prefixed with ``BENCH ``.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

PREFIX = "BENCH "


# --------------------------------------------------------------------------- data
def load_data(cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """The config's arrays: a prepared .npz (x_train, y_train) or seeded synthetic data."""
    if cfg.get("data"):
        with np.load(cfg["data"], allow_pickle=False) as z:
            return z["x_train"], z["y_train"]
    rng = np.random.default_rng(0)
    n, f = cfg["n_samples"], cfg["n_features"]
    x = rng.standard_normal((n, f), dtype=np.float32)
    if cfg["loss"] == "binary_crossentropy":
        y = (x[:, :1] > 0).astype(np.float32)
    elif cfg["loss"] == "sparse_categorical_crossentropy":
        y = rng.integers(0, cfg["layers"][-1][0], n).astype(np.int64)
    else:
        y = x[:, :cfg["layers"][-1][0]].copy()
    return x, y


# --------------------------------------------------------------------------- keras
def keras_module(target: str):
    if target == "tf.keras":  # TF_USE_LEGACY_KERAS=1 is in the env: tf.keras is tf_keras (Keras 2)
        import tensorflow as tf

        return tf.keras
    import keras  # KERAS_BACKEND is in the env

    return keras


def set_threads(target: str, threads: int) -> None:
    backend = "torch" if target == "torch" else ("tensorflow" if target == "tf.keras"
                                                   else os.environ.get("KERAS_BACKEND", "tensorflow"))
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass
    # jax: XLA's CPU pool follows the process's CPU affinity (set in main when threads < cores)


def epoch_clock(keras, epoch_s: list[float]):
    """An epoch-level callback appending each epoch's wall time to ``epoch_s`` (no per-step work)."""

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # host copy: the epoch's last step has finished
            epoch_s.append(time.perf_counter() - self.t0)

    return EpochClock()


def train_keras(target: str, cfg: dict, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    keras = keras_module(target)
    keras.backend.clear_session()
    variant = cfg.get("variant") or {}
    if variant.get("deterministic"):  # variant: what frameworkbench's aligned policy adds on TensorFlow
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    model = keras.Sequential([keras.Input(shape=(x.shape[1],))] +
                             [keras.layers.Dense(units, activation=act) for units, act in cfg["layers"]])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=cfg["lr"]), loss=cfg["loss"])
    if variant.get("step_clock") or variant.get("fit_per_epoch") or cfg.get("step_times"):
        return keras_variant(keras, model, cfg, x, y)
    epoch_s: list[float] = []
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=cfg["epochs"], shuffle=False, verbose=0,
              callbacks=[epoch_clock(keras, epoch_s)])
    return epoch_s, []


def keras_variant(keras, model, cfg: dict, x: np.ndarray, y: np.ndarray):
    """The baseline with frameworkbench's pieces added (``overhead --explain``) or per-step times.

    ``step_clock``: a per-batch callback reading the clock around every step (the adapter's
    StepClock); ``fit_per_epoch``: one ``fit(epochs=1)`` call per epoch, timed around the call
    (what frameworkbench's worker does to feed each epoch's rows in the batch plan's order).
    ``cfg["step_times"]`` (scaling): the per-batch clock, stopped after a host copy of the loss.
    """
    variant = cfg.get("variant") or {}
    sync = bool(cfg.get("step_times"))
    callbacks = []
    steps: list[list[float]] = []
    if variant.get("step_clock") or sync:

        class StepClock(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                if batch == 0:
                    steps.append([])
                self.t0 = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                if sync:
                    float(logs["loss"])  # host copy: the step has finished
                steps[-1].append(time.perf_counter() - self.t0)

        callbacks.append(StepClock())
    epoch_s: list[float] = []
    if not variant.get("fit_per_epoch"):
        model.fit(x, y, batch_size=cfg["batch_size"], epochs=cfg["epochs"], shuffle=False, verbose=0,
                  callbacks=callbacks + [epoch_clock(keras, epoch_s)])
        return epoch_s, steps
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        hist = model.fit(x, y, batch_size=cfg["batch_size"], epochs=1, shuffle=False, verbose=0,
                         callbacks=callbacks)
        float(hist.history["loss"][0])
        epoch_s.append(time.perf_counter() - t0)
    return epoch_s, steps


# --------------------------------------------------------------------------- torch
def train_torch(cfg: dict, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    import torch
    from torch import nn

    variant = cfg.get("variant") or {}  # frameworkbench's pieces, only for ``overhead --explain``
    torch.use_deterministic_algorithms(bool(variant.get("deterministic")), warn_only=True)

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=-1)}
    mods, fan_in = [], x.shape[1]
    for units, act in cfg["layers"]:
        mods.append(nn.Linear(fan_in, units))
        if act in acts:
            mods.append(acts[act]())
        fan_in = units
    model = nn.Sequential(*mods).to("cuda" if cfg.get("device") == "gpu" else "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    nll = nn.NLLLoss()
    loss_fn = {"binary_crossentropy": nn.BCELoss(), "mse": nn.MSELoss(),
               "sparse_categorical_crossentropy": lambda p, t: nll(torch.log(p), t)}[cfg["loss"]]
    if variant.get("clamp"):  # variant: Keras-style probability clipping before the loss
        plain = loss_fn
        loss_fn = lambda p, t: plain(p.clamp(1e-7, 1 - 1e-7), t)  # noqa: E731
    step = 0
    dev = torch.device("cuda" if cfg.get("device") == "gpu" else "cpu")  # on a GPU the data goes there once
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
    bs = cfg["batch_size"]
    epoch_s, steps = [], []
    timed = bool(cfg.get("step_times"))  # scaling: also the time of every step
    model.train()
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        running = 0.0
        if timed:
            steps.append([])
        for i in range(0, len(xt), bs):
            ts = time.perf_counter()
            xb, yb = xt[i:i + bs], yt[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            step += 1
            if variant.get("eps_hat"):  # variant: Keras' epsilon-hat Adam, eps rescaled every step
                for group in opt.param_groups:
                    group["eps"] = 1e-7 / (1 - 0.999 ** step) ** 0.5
            opt.step()
            running += loss.item()  # host copy: the step has finished
            if timed:
                steps[-1].append(time.perf_counter() - ts)
        epoch_s.append(time.perf_counter() - t0)
    return epoch_s, steps


# --------------------------------------------------------------------------- matmul peak
def matmul_times(lib: str, n: int, warmup: int, reps: int) -> list[float]:
    """Seconds per (n×n)·(n×n) float32 matmul, each read after the result is on the host."""
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((n, n), dtype=np.float32)
    b_np = rng.standard_normal((n, n), dtype=np.float32)
    if lib == "numpy":
        def step():
            return float((a_np @ b_np)[0, 0])
    elif lib == "tensorflow":
        import tensorflow as tf

        a, b = tf.constant(a_np), tf.constant(b_np)

        def step():
            return float(tf.matmul(a, b)[0, 0].numpy())
    elif lib == "jax":
        import jax
        import jax.numpy as jnp

        a, b = jnp.asarray(a_np), jnp.asarray(b_np)
        mm = jax.jit(lambda p, q: jnp.matmul(p, q, precision="highest"))

        def step():
            return float(mm(a, b).block_until_ready()[0, 0])
    elif lib == "torch":
        import torch

        a, b = torch.from_numpy(a_np), torch.from_numpy(b_np)

        def step():
            return float(torch.mm(a, b)[0, 0].item())
    else:
        raise ValueError(f"unknown library {lib!r}")
    from frameworkbench.measure import time_calls

    return time_calls(step, warmup, reps)


# --------------------------------------------------------------------------- entry point
def main(argv: list[str]) -> int:
    t_start = time.perf_counter()
    job = json.loads(open(argv[0]).read())
    threads = int(job["threads"])
    if hasattr(os, "sched_setaffinity"):  # what the frameworkbench worker does: fewer threads, fewer cores
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
    if job["kind"] == "matmul":
        lib = job["lib"]
        if lib in ("tensorflow", "torch"):
            set_threads("tf.keras" if lib == "tensorflow" else "torch", threads)
        times = matmul_times(lib, job["n"], job.get("warmup", 3), job.get("reps", 10))
        print(PREFIX + json.dumps({"seconds": times, "n": job["n"]}), flush=True)
        return 0
    target = job["target"]
    t = time.perf_counter()
    if target == "torch":
        import torch  # noqa: F401
    else:
        keras_module(target)
    import_s = time.perf_counter() - t
    set_threads(target, threads)
    results = []
    for cfg in job["configs"]:
        cfg = {**cfg, "device": job.get("device", "cpu")}
        x, y = load_data(cfg)
        epoch_s, step_s = train_torch(cfg, x, y) if target == "torch" else train_keras(target, cfg, x, y)
        results.append({"name": cfg.get("name"), "epoch_s": epoch_s, "step_s": step_s, "n_train": int(len(x)),
                        "steps_per_epoch": -(-len(x) // cfg["batch_size"]),
                        "median_epoch_s": statistics.median(epoch_s[1:] or epoch_s)})
    print(PREFIX + json.dumps({"import_s": import_s, "configs": results,
                               "inside_s": time.perf_counter() - t_start}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
