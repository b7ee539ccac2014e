"""The ``parity`` worker mode: what the framework computes, for :mod:`frameworkbench.analysis.parity`.

Forward output at initialisation (inference mode), first-step gradients by the framework's autodiff
(training mode; the adapter leaves the model as it was), the loss of
each of the first K steps (across epochs) and of every epoch, final weights, a repeat of the whole
training from the same start (determinism check), and the default values the framework objects
actually use. Arrays go to the ``.npz`` next to the result; the runner reads them back.
"""
from __future__ import annotations

import numpy as np

from .. import data, reference
from ..execution.records import ParityResult
from ..weights import array_key, arrays_of, same_weights

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


def _max_abs(w, name: str) -> float | None:
    a = getattr(w, name, None)
    return None if a is None else float(np.abs(a).max())


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
    adapter.predict(again, ds.x_val)  # the same calls as the first run: Keras on torch draws from torch's global
    repeat = _trajectory(ctx, again, steps)  # stream for predict as for its unseeded dropout (native policy)
    identical = (repeat["step_losses"] == traj["step_losses"] and repeat["epoch_losses"] == traj["epoch_losses"]
                 and same_weights(adapter.get_weights(again), final))
    defaults["init"] = spec.init
    defaults["init_kernel_max_abs"] = [_max_abs(w, "kernel") for w in init]
    defaults["init_bias_max_abs"] = [_max_abs(w, "bias") for w in init]
    arrays = {"output_at_init": out0}
    for prefix, ws in (("grad", grads), ("final", final), ("init", init)):
        for i, w in enumerate(ws):
            arrays.update({array_key(prefix, name, i): a for name, a in arrays_of(w).items()})
    np.savez(ctx.output_path(".npz"), **arrays)
    return ParityResult(parity={"steps": steps, "steps_in_run": steps_in_plan(ctx.plan, bs),
                                "step_losses": traj["step_losses"], "epoch_losses": traj["epoch_losses"],
                                "first_batch_loss": first_loss, "repeat_identical": bool(identical)},
                        history=traj["history"],
                        final={k: v for k, v in traj["history"][-1].items() if k != "epoch"},
                        defaults=defaults)
