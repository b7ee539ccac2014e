"""The ``parity`` worker mode: what the framework computes, for :mod:`frameworkbench.analysis.parity`.

Forward output at initialisation, first-step gradients by the framework's autodiff, the loss of
each of the first K steps (across epochs) and of every epoch, final weights, a repeat of the whole
training from the same start (determinism check), and the default values the framework objects
actually use. Arrays go to the ``.npz`` next to the result; the runner reads them back.
"""
from __future__ import annotations

import numpy as np

from .. import data, reference
from ..execution.records import ParityResult

DEFAULT_STEPS = 50


def _trajectory(ctx, model, steps: int) -> dict:
    """Train on the plan: one call per batch for the first ``steps`` steps (across epochs), then whole epochs."""
    from ..measure import StepTimer

    adapter, spec, ds = ctx.adapter, ctx.spec, ctx.ds
    bs = spec.training["batch_size"]
    step_losses, epoch_losses, history = [], [], []
    for e, order in enumerate(ctx.plan):
        left = steps - len(step_losses)
        if left > 0:
            first = data.batches(order, bs)[:left]
            total = 0.0
            for b in first:
                value = adapter.train(model, spec, ds.x_train[b], ds.y_train[b], bs, StepTimer())
                step_losses.append(value)
                total += value * len(b)
            rest = order[sum(len(b) for b in first):]
            if len(rest):
                total += adapter.train(model, spec, ds.x_train[rest], ds.y_train[rest], bs, StepTimer()) * len(rest)
            epoch_loss = total / len(order)
        else:
            epoch_loss = adapter.train(model, spec, ds.x_train[order], ds.y_train[order], bs, StepTimer())
        epoch_losses.append(epoch_loss)
        pred = adapter.predict(model, ds.x_val)
        history.append({"epoch": e + 1, "loss": epoch_loss, **reference.evaluate(spec, ds.y_val, pred)})
    return {"step_losses": step_losses, "epoch_losses": epoch_losses, "history": history}


def steps_in_plan(plan, batch_size: int) -> int:
    """Number of training steps (mini-batches) in a batch plan, all epochs together."""
    return sum(len(data.batches(order, batch_size)) for order in plan)


def _same_weights(a: list, b: list) -> bool:
    return all(np.array_equal(x.kernel, y.kernel) and (x.bias is None or np.array_equal(x.bias, y.bias))
               for x, y in zip(a, b))


def parity_mode(ctx, model) -> ParityResult:
    """Worker mode ``parity`` (see the module docstring)."""
    adapter, spec, ds = ctx.adapter, ctx.spec, ctx.ds
    steps = int(ctx.job.options.get("steps", DEFAULT_STEPS))
    bs = spec.training["batch_size"]
    init = adapter.get_weights(model)
    out0 = adapter.predict(model, ds.x_val)
    first = ctx.plan[0][:bs]
    first_loss, grads = adapter.loss_and_gradients(model, spec, ds.x_train[first], ds.y_train[first])
    traj = _trajectory(ctx, model, steps)
    final = adapter.get_weights(model)
    defaults = adapter.defaults_in_use(model)
    again = ctx.fresh_model()
    repeat = _trajectory(ctx, again, steps)
    identical = (repeat["step_losses"] == traj["step_losses"] and repeat["epoch_losses"] == traj["epoch_losses"]
                 and _same_weights(adapter.get_weights(again), final))
    defaults["init"] = spec.init
    defaults["init_kernel_max_abs"] = [float(np.abs(w.kernel).max()) for w in init]
    defaults["init_bias_max_abs"] = [None if w.bias is None else float(np.abs(w.bias).max()) for w in init]
    arrays = {"output_at_init": out0}
    for name, ws in (("grad", grads), ("final", final), ("init", init)):
        for i, w in enumerate(ws):
            arrays[f"{name}_kernel_{i}"] = w.kernel
            if w.bias is not None:
                arrays[f"{name}_bias_{i}"] = w.bias
    np.savez(ctx.output_path(".npz"), **arrays)
    return ParityResult(parity={"steps": steps, "steps_in_run": steps_in_plan(ctx.plan, bs),
                                "step_losses": traj["step_losses"], "epoch_losses": traj["epoch_losses"],
                                "first_batch_loss": first_loss, "repeat_identical": bool(identical)},
                        history=traj["history"],
                        final={k: v for k, v in traj["history"][-1].items() if k != "epoch"},
                        defaults=defaults)
