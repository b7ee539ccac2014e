"""Hand-written idiomatic training scripts for a spec's layer list (CNNs, recurrent nets): the
baselines of ``benchmarks.layers``.

Run as ``python -m benchmarks._handwritten_layers JOB.json`` in a fresh process whose env already
holds the target's variables and thread counts (``_common.target_env``). Nothing here imports
frameworkbench: the model is built from plain layer dicts (a spec's ``layer.to_dict()``) the way a
user writes it, with each framework's own defaults (frameworkbench's ``--defaults native``):

- Keras (tf.keras, Keras 3 on any backend): ``Sequential`` of the matching Keras layers, ``compile``
  with Adam and the loss by name, one ``fit(x, y, batch_size, epochs=E, verbose=0)`` on the arrays
  (Keras' default ``shuffle=True``; a config's ``input: tf.data`` fits a ``from_tensor_slices →
  shuffle → batch → prefetch`` pipeline instead); an epoch-level callback reads the clock.
- PyTorch: ``nn.Sequential`` over channels-first tensors (the data is transposed once, before
  training), ``nn.LSTM``/``nn.GRU``/``nn.RNN`` with ``batch_first=True``, the model ends in logits and
  ``nn.CrossEntropyLoss`` / ``BCEWithLogitsLoss`` fuse the output activation; a loop over a
  ``torch.randperm`` of the rows each epoch, ``loss.item()`` every step.
- Flax NNX: ``nnx.Sequential`` of NNX layers and ``jax.nn`` functions (channels-last), ``nnx.RNN``
  over ``OptimizedLSTMCell`` / ``GRUCell`` / ``SimpleCell``, logits and optax's fused
  cross-entropies; the Flax performance guide's ``jax.jit`` step over ``nnx.split`` state (the
  fastest of its documented loop styles, see :func:`flax_step`; a config's ``loop`` picks another),
  numpy batches from a permutation each epoch, ``float(loss)`` every step.

Torch shapes of ``padding: same`` windows with stride > 1 can differ from Keras' by one row (the
script's own shapes are consistent; the timing is what counts here). The result is one JSON line
on stdout, prefixed with ``BENCH ``: per config its epoch wall times and the recurrent kernel each
recurrent layer ran (on Keras 3 observed while the model is traced: :func:`kernel_probe`).
"""
from __future__ import annotations

import json
import re
import sys
import time

import numpy as np

from ._handwritten import PREFIX, epoch_clock, keras_module, set_threads

RECURRENT = ("simple_rnn", "lstm", "gru")
POOL = re.compile(r"(global_)?(max|avg)_pool([12])d$")
SUPPORTED = ("dense", "activation", "conv1d", "conv2d", "flatten", "batch_norm", "layer_norm", "dropout",
             "embedding", *RECURRENT, *(f"{g}{k}_pool{r}d" for g in ("", "global_") for k in ("max", "avg")
                                        for r in (1, 2)))
FUSED_LOSSES = {"sparse_categorical_crossentropy": "softmax", "categorical_crossentropy": "softmax",
                "binary_crossentropy": "sigmoid"}  # torch / flax: the model ends in logits, the loss fuses this


class Unsupported(ValueError):
    """A layer type or setting this script does not build (the benchmark reports it, no fallback)."""


def unsupported_types(layers: list[dict]) -> list[str]:
    """The layer types of ``layers`` these scripts cannot build."""
    return sorted({lay["type"] for lay in layers} - set(SUPPORTED))


def act_name(lay: dict) -> str:
    act = lay.get("activation") or "linear"
    return act["name"] if isinstance(act, dict) else act


def logits_layers(layers: list[dict], loss: str) -> list[dict]:
    """``layers`` ending in logits where ``loss`` fuses the output activation (torch, flax idiom)."""
    head = FUSED_LOSSES.get(loss)
    if head is None or act_name(layers[-1]) != head:
        return layers
    if layers[-1]["type"] == "activation":
        return layers[:-1]
    return [*layers[:-1], {**layers[-1], "activation": {"name": "linear"}}]


def load_data(cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """The config's arrays: a prepared .npz (x_train, y_train) or seeded random data
    (``synthetic``: rows, input shape, classes) for the findings' shape-only models."""
    if cfg.get("data"):
        with np.load(cfg["data"], allow_pickle=False) as z:
            return z["x_train"], z["y_train"]
    syn, rng = cfg["synthetic"], np.random.default_rng(0)
    x = rng.standard_normal((syn["rows"], *cfg["input_shape"]), dtype=np.float32)
    return x, rng.integers(0, syn["classes"], syn["rows"]).astype(np.int64)


# --------------------------------------------------------------------------- keras
def keras_layer(K, lay: dict):
    t, act = lay["type"], act_name(lay)
    if t == "dense":
        return K.layers.Dense(lay["units"], activation=act, use_bias=lay.get("use_bias", True))
    if t == "activation":
        return K.layers.Activation(act)
    if t in ("conv1d", "conv2d"):
        return getattr(K.layers, f"Conv{t[4]}D")(lay["filters"], tuple(lay["kernel_size"]),
                                                 strides=tuple(lay.get("strides") or [1] * int(t[4])),
                                                 padding=lay["padding"],
                                                 activation=act, use_bias=lay.get("use_bias", True))
    if (m := POOL.match(t)):
        kind = {"max": "Max", "avg": "Average"}[m[2]]
        if m[1]:
            return getattr(K.layers, f"Global{kind}Pooling{m[3]}D")()
        return getattr(K.layers, f"{kind}Pooling{m[3]}D")(tuple(lay["pool_size"]), strides=tuple(lay["strides"]),
                                                          padding=lay["padding"])
    if t in RECURRENT:
        cls = {"simple_rnn": K.layers.SimpleRNN, "lstm": K.layers.LSTM, "gru": K.layers.GRU}[t]
        kw = {k: act_name({"activation": lay[k]}) for k in ("activation", "recurrent_activation") if lay.get(k)}
        if t == "gru" and "reset_after" in lay:
            kw["reset_after"] = lay["reset_after"]
        return cls(lay["units"], return_sequences=lay.get("return_sequences", False), **kw)
    simple = {"flatten": lambda: K.layers.Flatten(), "batch_norm": lambda: K.layers.BatchNormalization(),
              "layer_norm": lambda: K.layers.LayerNormalization(), "dropout": lambda: K.layers.Dropout(lay["rate"]),
              "embedding": lambda: K.layers.Embedding(lay["input_dim"], lay["output_dim"])}
    if t in simple:
        return simple[t]()
    raise Unsupported(f"hand-written Keras script: no layer for type {t!r}")


def kernel_probe() -> dict:
    """Keras 3: which recurrent kernel each ``lstm`` / ``gru`` layer ran, recorded while it is traced.

    The layer first tries ``backend.lstm`` / ``backend.gru`` (the backend's own op); where that raises
    NotImplementedError Keras runs its generic RNN loop. Inside the backend's op, the helper it called
    is recorded too (``_cudnn_lstm``, or ``_fallback_lstm``: on the torch backend a Python loop over the
    time steps). Returns the dict that fills in as the model runs."""
    import importlib

    from keras.src import backend

    seen: dict = {}
    rnn = importlib.import_module(f"keras.src.backend.{backend.backend()}.rnn")
    helpers: list[str] = []
    for name in [n for n in vars(rnn) if n.startswith(("_cudnn_", "_fallback_"))]:
        def helper(*a, _fn=getattr(rnn, name), _name=name, **kw):
            helpers.append(_name)
            return _fn(*a, **kw)

        setattr(rnn, name, helper)
    for name in ("lstm", "gru"):
        def op(*a, _fn=getattr(backend, name), _name=name, **kw):
            helpers.clear()
            try:
                out = _fn(*a, **kw)
            except NotImplementedError:
                seen[_name] = f"Keras' generic RNN loop (backend.{_name}: NotImplementedError)"
                raise
            seen[_name] = f"backend.{_name}" + (f" → {', '.join(dict.fromkeys(helpers))}" if helpers else "")
            return out

        setattr(backend, name, op)
    return seen


def train_keras(target: str, cfg: dict, x: np.ndarray, y: np.ndarray) -> tuple[list, dict]:
    K = keras_module(target)
    K.backend.clear_session()
    kernels = kernel_probe() if target != "tf.keras" else {}
    model = K.Sequential([K.Input(shape=tuple(cfg["input_shape"]), dtype="int32" if x.dtype.kind == "i" else None)]
                         + [keras_layer(K, lay) for lay in cfg["layers"]])
    model.compile(optimizer=K.optimizers.Adam(learning_rate=cfg["lr"]), loss=cfg["loss"])
    epoch_s: list[float] = []
    data = {"x": x, "y": y, "batch_size": cfg["batch_size"]}
    if cfg.get("input") == "tf.data":  # the tf.data guide's pipeline, reshuffled every epoch
        import tensorflow as tf

        data = {"x": tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(cfg["batch_size"])
                .prefetch(tf.data.AUTOTUNE)}
    model.fit(**data, epochs=cfg["epochs"], verbose=0, callbacks=[epoch_clock(K, epoch_s)])
    if target == "tf.keras":  # tf_keras picks cuDNN or its standard loop inside the graph: not observable here
        kernels = {t: "tf_keras (not observable)" for t in {lay["type"] for lay in cfg["layers"]} & {"lstm", "gru"}}
    return epoch_s, {"recurrent_kernel": dict(kernels)}


# --------------------------------------------------------------------------- torch
def torch_model(layers: list[dict], input_shape: list[int], int_input: bool):
    """(nn.Sequential, whether the data goes channels-first): channels-first between convolutions,
    batch-first (time, features) around recurrent layers; a permute module where that changes."""
    import torch
    from torch import nn

    class Recurrent(nn.Module):
        def __init__(self, rnn: nn.Module, return_sequences: bool) -> None:
            super().__init__()
            self.rnn, self.return_sequences = rnn, return_sequences

        def forward(self, x):
            out, _ = self.rnn(x)
            return out if self.return_sequences else out[:, -1]

    class Permute(nn.Module):
        def __init__(self, to_first: bool) -> None:
            super().__init__()
            self.to_first = to_first

        def forward(self, x):
            return x.movedim(-1, 1) if self.to_first else x.movedim(1, -1)

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=-1),
            "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU}

    def act(name: str) -> list:
        if name == "linear":
            return []
        if name not in acts:
            raise Unsupported(f"hand-written torch script: no activation {name!r}")
        return [acts[name]()]

    def wants_first(lay: dict, rank: int) -> bool | None:  # True: channels-first, False: last, None: either
        t = lay["type"]
        if rank <= 2:
            return None
        if t.startswith(("conv", "max_pool", "avg_pool", "global_", "batch_norm")):
            return True
        return False if t in (*RECURRENT, "layer_norm", "dense", "embedding") else None

    first = next((w for lay in layers if (w := wants_first(lay, len(input_shape) + 1)) is not None), False)
    probe = torch.zeros((2, *input_shape), dtype=torch.long if int_input else torch.float32)
    if first:
        probe = probe.movedim(-1, 1)
    mods: list = []
    cf = first

    def add(*new) -> None:
        nonlocal probe
        for m in new:
            m.eval()
            with torch.no_grad():
                probe = m(probe)
            m.train()
            mods.append(m)

    for lay in layers:
        t, rank = lay["type"], probe.dim()
        w = wants_first(lay, rank)
        if w is not None and w != cf:
            add(Permute(w))
            cf = w
        ch = probe.shape[1] if (cf and rank > 2) else probe.shape[-1]
        if t == "dense":
            add(nn.Linear(ch, lay["units"], bias=lay.get("use_bias", True)), *act(act_name(lay)))
        elif t == "activation":
            add(*act(act_name(lay)))
        elif t in ("conv1d", "conv2d"):
            k, s = tuple(lay["kernel_size"]), tuple(lay.get("strides") or [1] * len(lay["kernel_size"]))
            pad = ("same" if all(v == 1 for v in s) else tuple(v // 2 for v in k)) if lay["padding"] == "same" else 0
            conv = (nn.Conv1d if t == "conv1d" else nn.Conv2d)(ch, lay["filters"], k, stride=s, padding=pad,
                                                                bias=lay.get("use_bias", True))
            add(conv, *act(act_name(lay)))
        elif (m := POOL.match(t)):
            r = int(m[3])
            if m[1]:
                add(getattr(nn, f"Adaptive{'Max' if m[2] == 'max' else 'Avg'}Pool{r}d")(1), nn.Flatten())
            else:
                k, same = tuple(lay["pool_size"]), lay["padding"] == "same"
                cls = getattr(nn, f"{'Max' if m[2] == 'max' else 'Avg'}Pool{r}d")
                add(cls(k, stride=tuple(lay["strides"]), padding=tuple((v - 1) // 2 for v in k) if same else 0,
                        ceil_mode=same))
        elif t == "flatten":
            add(nn.Flatten())
        elif t == "batch_norm":
            add(nn.BatchNorm2d(ch) if rank == 4 else nn.BatchNorm1d(ch))
        elif t == "layer_norm":
            add(nn.LayerNorm(ch))
        elif t == "dropout":
            add(nn.Dropout(lay["rate"]))
        elif t == "embedding":
            add(nn.Embedding(lay["input_dim"], lay["output_dim"]))
        elif t in RECURRENT:
            a = act_name({"activation": lay.get("activation") or "tanh"})
            ra = act_name({"activation": lay.get("recurrent_activation") or "sigmoid"})
            if t == "simple_rnn" and a in ("tanh", "relu"):
                rnn = nn.RNN(ch, lay["units"], nonlinearity=a, batch_first=True)
            elif t != "simple_rnn" and (a, ra) == ("tanh", "sigmoid") and lay.get("reset_after", True):
                rnn = (nn.LSTM if t == "lstm" else nn.GRU)(ch, lay["units"], batch_first=True)
            else:
                raise Unsupported(f"hand-written torch script: torch's {t} has no activation {a!r} / "
                                  f"recurrent_activation {ra!r} / reset_after=False")
            add(Recurrent(rnn, lay.get("return_sequences", False)))
        else:
            raise Unsupported(f"hand-written torch script: no module for layer type {t!r}")
    return nn.Sequential(*mods), first


def train_torch(cfg: dict, x: np.ndarray, y: np.ndarray) -> tuple[list, dict]:
    import torch
    from torch import nn

    model, first = torch_model(logits_layers(cfg["layers"], cfg["loss"]), cfg["input_shape"], x.dtype.kind == "i")
    xt = torch.from_numpy(x)
    if first:  # channels-first once, before training (what a torch user's data pipeline gives)
        xt = xt.movedim(-1, 1).contiguous()
    loss_fn = {"sparse_categorical_crossentropy": nn.CrossEntropyLoss, "categorical_crossentropy": nn.CrossEntropyLoss,
               "binary_crossentropy": nn.BCEWithLogitsLoss, "mse": nn.MSELoss}[cfg["loss"]]()
    yt = torch.from_numpy(y).long() if cfg["loss"] == "sparse_categorical_crossentropy" else torch.from_numpy(y).float()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    bs, n = cfg["batch_size"], len(xt)
    epoch_s = []
    model.train()
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        running = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            running += loss.item()  # host copy: the step has finished
        epoch_s.append(time.perf_counter() - t0)
    names = {"simple_rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
    return epoch_s, {"recurrent_kernel": {t: f"torch.nn.{names[t]} (ATen kernel)"
                                          for t in {lay["type"] for lay in cfg["layers"]} & set(RECURRENT)}}


# --------------------------------------------------------------------------- flax
def flax_model(layers: list[dict], input_shape: list[int], int_input: bool, seed: int = 0):
    """An nnx.Sequential of NNX layers and jax.nn functions, channels-last (Flax's layout)."""
    from functools import partial

    import jax
    import jax.numpy as jnp
    from flax import nnx

    rngs = nnx.Rngs(seed)
    fns = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "elu": jax.nn.elu,
           "leaky_relu": jax.nn.leaky_relu, "gelu": jax.nn.gelu, "softmax": jax.nn.softmax}

    def act(name: str) -> list:
        if name == "linear":
            return []
        if name not in fns:
            raise Unsupported(f"hand-written Flax script: no activation {name!r}")
        return [fns[name]]

    probe = jnp.zeros((2, *input_shape), jnp.int32 if int_input else jnp.float32)
    mods: list = []

    def add(*new) -> None:
        nonlocal probe
        for m in new:
            probe = m(probe)
            mods.append(m)

    for lay in layers:
        t, ch = lay["type"], probe.shape[-1]
        if t == "dense":
            add(nnx.Linear(ch, lay["units"], use_bias=lay.get("use_bias", True), rngs=rngs), *act(act_name(lay)))
        elif t == "activation":
            add(*act(act_name(lay)))
        elif t in ("conv1d", "conv2d"):
            strides = tuple(lay.get("strides") or [1] * (probe.ndim - 2))
            add(nnx.Conv(ch, lay["filters"], tuple(lay["kernel_size"]), strides=strides,
                         padding=lay["padding"].upper(), use_bias=lay.get("use_bias", True), rngs=rngs),
                *act(act_name(lay)))
        elif (m := POOL.match(t)):
            if m[1]:
                axes = tuple(range(1, probe.ndim - 1))
                add(partial(jnp.max if m[2] == "max" else jnp.mean, axis=axes))
            else:
                add(partial(nnx.max_pool if m[2] == "max" else nnx.avg_pool, window_shape=tuple(lay["pool_size"]),
                            strides=tuple(lay["strides"]), padding=lay["padding"].upper()))
        elif t == "flatten":
            add(lambda v: v.reshape(v.shape[0], -1))
        elif t == "batch_norm":
            add(nnx.BatchNorm(ch, rngs=rngs))
        elif t == "layer_norm":
            add(nnx.LayerNorm(ch, rngs=rngs))
        elif t == "dropout":
            add(nnx.Dropout(lay["rate"], rngs=rngs))
        elif t == "embedding":
            add(nnx.Embed(lay["input_dim"], lay["output_dim"], rngs=rngs))
        elif t in RECURRENT:
            kw = {}
            if lay.get("activation"):
                kw["activation_fn"] = act(act_name({"activation": lay["activation"]}))[0]
            if t != "simple_rnn" and lay.get("recurrent_activation"):
                kw["gate_fn"] = act(act_name({"activation": lay["recurrent_activation"]}))[0]
            if t == "gru" and lay.get("reset_after") is False:
                raise Unsupported("hand-written Flax script: nnx.GRUCell has no reset_after=False form")
            cell = {"simple_rnn": nnx.SimpleCell, "lstm": nnx.OptimizedLSTMCell, "gru": nnx.GRUCell}[t]
            add(nnx.RNN(cell(ch, lay["units"], rngs=rngs, **kw)))
            if not lay.get("return_sequences", False):
                add(lambda v: v[:, -1])
        else:
            raise Unsupported(f"hand-written Flax script: no layer for type {t!r}")
    return nnx.Sequential(*mods)


FLAX_LOOPS = ("split_merge", "cached_partial", "nnx_jit")


def flax_step(loop: str, model, optimizer, loss_fn):
    """``step(xb, yb) -> loss`` in one of Flax's documented loop styles: ``split_merge`` (the performance
    guide's functional pattern: ``nnx.split`` once, ``nnx.merge`` inside ``jax.jit``, state as a flat
    list of arrays; the baseline), ``cached_partial`` (``nnx.jit`` through ``nnx.cached_partial``) or
    ``nnx_jit`` (the tutorials' ``nnx.jit`` step called with the objects every step)."""
    import jax
    from flax import nnx

    if loop not in FLAX_LOOPS:
        raise Unsupported(f"hand-written Flax script: no loop style {loop!r} (expected one of {FLAX_LOOPS})")
    if loop == "split_merge":
        graphdef, state = nnx.split((model, optimizer))
        treedef, leaves = jax.tree.structure(state), [jax.tree.leaves(state)]

        @jax.jit
        def pure_step(flat, xb, yb):
            m, opt = nnx.merge(graphdef, jax.tree.unflatten(treedef, flat))
            loss, grads = nnx.value_and_grad(loss_fn)(m, xb, yb)
            opt.update(m, grads)
            return loss, jax.tree.leaves(nnx.split((m, opt))[1])

        def step(xb, yb):
            loss, leaves[0] = pure_step(leaves[0], xb, yb)
            return loss

        return step

    @nnx.jit
    def train_step(m, opt, xb, yb):
        loss, grads = nnx.value_and_grad(loss_fn)(m, xb, yb)
        opt.update(m, grads)
        return loss

    if loop == "cached_partial":
        return nnx.cached_partial(train_step, model, optimizer)
    return lambda xb, yb: train_step(model, optimizer, xb, yb)


def train_flax(cfg: dict, x: np.ndarray, y: np.ndarray) -> tuple[list, dict]:
    import jax.numpy as jnp
    import optax
    from flax import nnx

    model = flax_model(logits_layers(cfg["layers"], cfg["loss"]), cfg["input_shape"], x.dtype.kind == "i")
    optimizer = nnx.Optimizer(model, optax.adam(cfg["lr"]), wrt=nnx.Param)
    losses = {"sparse_categorical_crossentropy": optax.softmax_cross_entropy_with_integer_labels,
              "categorical_crossentropy": optax.softmax_cross_entropy,
              "binary_crossentropy": optax.sigmoid_binary_cross_entropy,
              "mse": lambda p, t: jnp.square(p - t)}
    per_sample = losses[cfg["loss"]]

    def loss_fn(m, xb, yb):
        return per_sample(m(xb), yb).mean()

    step = flax_step(cfg.get("loop", "split_merge"), model, optimizer, loss_fn)
    rng, bs, n = np.random.default_rng(0), cfg["batch_size"], len(x)
    epoch_s = []
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        running = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            running += float(step(x[idx], y[idx]))  # host copy: the step has finished
        epoch_s.append(time.perf_counter() - t0)
    return epoch_s, {"recurrent_kernel": {t: "nnx.RNN (jax.lax.scan over the cell)"
                                          for t in {lay["type"] for lay in cfg["layers"]} & set(RECURRENT)}}


# --------------------------------------------------------------------------- entry point
TRAIN = {"torch": lambda target, cfg, x, y: train_torch(cfg, x, y),
         "flax": lambda target, cfg, x, y: train_flax(cfg, x, y)}


def main(argv: list[str]) -> int:
    import os

    t_start = time.perf_counter()
    job = json.loads(open(argv[0]).read())
    target, threads = job["target"], int(job["threads"])
    if hasattr(os, "sched_setaffinity"):  # as the frameworkbench worker: fewer threads, fewer cores
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
    if target != "flax":  # jax / flax: XLA's CPU pool follows the process's CPU affinity
        set_threads(target, threads)
    results = []
    for cfg in job["configs"]:
        x, y = load_data(cfg)
        epoch_s, info = TRAIN.get(target, train_keras)(target, cfg, x, y)
        results.append({"name": cfg.get("name"), "epoch_s": epoch_s, "n_train": int(len(x)),
                        "steps_per_epoch": -(-len(x) // cfg["batch_size"]), **info})
    print(PREFIX + json.dumps({"configs": results, "inside_s": time.perf_counter() - t_start}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
