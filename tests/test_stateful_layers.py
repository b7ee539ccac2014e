"""Training semantics of the reference for layers with state or per-step inputs: batch_norm's batch and
running statistics (Keras' update, biased variance), dropout's masks (the core's mask banks, step k uses
bank[k % n]), and the trainable / non-trainable split of the weights."""
import dataclasses

import numpy as np
import pytest

from frameworkbench import data, layers, reference, weights
from frameworkbench.layers import LAYERS
from frameworkbench.spec import validate
from conftest import numeric_gradient

STATEFUL = [(name, shape, ex) for name, mod in LAYERS.items() if hasattr(mod, "update") or hasattr(mod, "draw_masks")
            for shape, ex in mod.EXAMPLES]


def _spec(*hidden, input_shape=(4,), optimizer="adam", epochs=2, n=40):
    return validate({"task": "regression", "input_shape": list(input_shape), "loss": "mse", "metrics": [],
                     "layers": [*hidden, {"type": "flatten"}, {"type": "dense", "units": 2}], "optimizer": optimizer,
                     "training": {"batch_size": 8, "epochs": epochs, "seed": 3},
                     "data": ({"source": "synthetic", "n_samples": n, "n_features": input_shape[0]}
                              if len(input_shape) == 1 else {"source": "file", "path": "unused.npz", "target": "y"})})


def _random(w, rng):
    """``w`` with random arrays (variances kept positive)."""
    return dataclasses.replace(w, **{k: (np.abs(rng.normal(size=a.shape)) + 0.5 if np.all(a > 0)
                                         else rng.normal(size=a.shape))
                                     for k, a in weights.arrays_of(w).items()})


@pytest.mark.parametrize("name,shape,ex", STATEFUL, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(STATEFUL)])
def test_training_mode_backward_matches_central_differences(name, shape, ex):
    mod, lay = layers.get(name), layers.from_dict(ex)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, *shape))
    w = mod.init_weights(lay, shape, rng)
    w = _random(w, rng) if w is not None else mod.draw_masks(lay, x.shape, rng)  # dropout: the step's mask
    r = rng.normal(size=(4, *mod.output_shape(lay, shape)))

    def loss() -> float:
        return float(np.sum(mod.forward(lay, w, x, training=True)[0] * r))

    gx, gw = mod.backward(lay, w, mod.forward(lay, w, x, training=True)[1], r)
    trained = {} if gw is None else weights.trainable_arrays(w)
    for got, arr in [(gx, x), *((getattr(gw, k), a) for k, a in trained.items())]:
        num = numeric_gradient(loss, arr)
        np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def test_batch_norm_modes_and_keras_running_update():
    mod = LAYERS["batch_norm"]
    lay = layers.from_dict({"type": "batch_norm", "momentum": 0.9, "epsilon": 1e-3})
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(6, 2, 3))
    w = _random(mod.init_weights(lay, (2, 3), rng), rng)
    old_mean, old_var = w.moving_mean.copy(), w.moving_variance.copy()
    y, cache = mod.forward(lay, w, x, training=True)
    flat = x.reshape(-1, 3)
    np.testing.assert_allclose(y, w.gamma * (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3) + w.beta, rtol=1e-12)
    mod.update(lay, w, cache)
    np.testing.assert_allclose(w.moving_mean, 0.9 * old_mean + 0.1 * flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(w.moving_variance, 0.9 * old_var + 0.1 * flat.var(0), rtol=1e-12)  # biased (1/n)
    assert not np.allclose(w.moving_variance, 0.9 * old_var + 0.1 * flat.var(0, ddof=1))
    y_inf, inf_cache = mod.forward(lay, w, x)  # inference: the running statistics
    np.testing.assert_allclose(y_inf, w.gamma * (x - w.moving_mean) / np.sqrt(w.moving_variance + 1e-3) + w.beta)
    with pytest.raises(ValueError, match="only after a training-mode forward"):
        mod.update(lay, w, inf_cache)


def test_batch_norm_weights_split_and_round_trip(tmp_path):
    spec = _spec({"type": "batch_norm"})
    w = weights.initial_weights(spec, 0)
    bn = w[0]
    assert [a.tolist() for a in weights.arrays_of(bn).values()] == [[1] * 4, [0] * 4, [0] * 4, [1] * 4]
    assert list(weights.trainable_arrays(bn)) == ["gamma", "beta"]
    assert weights.param_count(spec) == 2 * 4 + 4 * 2 + 2  # the running statistics are not trained
    assert [a.shape for a in weights.flatten(w)] == [(4,), (4,), (4, 2), (2,)]
    bn.moving_variance[:] = 7.0
    weights.save(w, tmp_path / "w.npz")
    assert weights.same_weights(weights.load(tmp_path / "w.npz"), w)
    for family in ("keras", "torch", "flax"):  # a gradient has the trained arrays only
        grad = {k: v for k, v in LAYERS["batch_norm"].to_family(bn, family).items()
                if k in ("gamma", "beta", "weight", "bias", "scale")}
        back = LAYERS["batch_norm"].from_family(grad, family)
        assert back.moving_mean is None and back.moving_variance is None and back.gamma is bn.gamma


def test_reference_moves_running_statistics_as_keras_after_every_step():
    """batch_norm first: its input is the data, so the running mean after training is a fold over the plan's
    batches that needs no model: running = 0.99·running + 0.01·batch mean, step by step."""
    spec = _spec({"type": "batch_norm"})
    ds = data.load_dataset(spec)
    plan = data.batch_plan(len(ds.x_train), 2, 3)
    out = reference.train(spec, weights.initial_weights(spec, 3), ds.x_train, ds.y_train, plan)
    mean, var = np.zeros(4), np.ones(4)
    for order in plan:
        for idx in data.batches(order, 8):
            xb = ds.x_train[idx].astype(np.float64)
            mean, var = 0.99 * mean + 0.01 * xb.mean(0), 0.99 * var + 0.01 * xb.var(0)
    np.testing.assert_allclose(out["weights"][0].moving_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(out["weights"][0].moving_variance, var, rtol=1e-12)
    assert not np.allclose(out["weights"][0].gamma, 1.0)  # gamma trained, by gradients of the training mode


def test_model_training_gradients_match_central_differences():
    """reference.gradients in training mode (batch statistics, the step's masks) on conv → batch_norm → dropout."""
    spec = _spec({"type": "conv2d", "filters": 2, "kernel_size": 2, "activation": "tanh"}, {"type": "batch_norm"},
                 {"type": "dropout", "rate": 0.4}, input_shape=(3, 3, 1))
    rng = np.random.default_rng(1)
    ws = [_random(w, rng) for w in weights.initial_weights(spec, 0)]
    x, y = rng.normal(size=(5, 3, 3, 1)), rng.normal(size=(5, 2))
    masks = weights.step_masks(weights.mask_banks(spec, 0, np.arange(40)[None]), 0, 5)
    assert set(masks) == {2} and masks[2].shape == (5, 2, 2, 2) and 0 < masks[2].mean() < 1
    value, grads = reference.gradients(spec, ws, x, y, masks)
    assert [weights.arrays_of(g).keys() for g in grads] == [weights.trainable_arrays(w).keys() for w in ws]
    for w, g in zip(ws, grads):
        for name, arr in weights.trainable_arrays(w).items():
            got = getattr(g, name)
            for i in np.ndindex(arr.shape):
                old = arr[i]
                arr[i] = old + 1e-6
                up = reference.gradients(spec, ws, x, y, masks)[0]
                arr[i] = old - 1e-6
                down = reference.gradients(spec, ws, x, y, masks)[0]
                arr[i] = old
                assert got[i] == pytest.approx((up - down) / 2e-6, abs=1e-7, rel=1e-5), (name, i)
    with pytest.raises(ValueError, match="needs the step's mask"):
        reference.gradients(spec, ws, x, y)


def test_mask_banks_are_seeded_capped_and_cycle(monkeypatch):
    spec = _spec({"type": "dropout", "rate": 0.25}, input_shape=(6,))
    plan = data.batch_plan(32, 2, 3)  # 2 epochs × 4 steps of 8
    banks = weights.mask_banks(spec, 3, plan)
    assert list(banks) == [0] and banks[0].shape == (8, 8, 6) and banks[0].dtype == np.uint8
    assert set(np.unique(banks[0])) == {0, 1} and abs(banks[0].mean() - 0.75) < 0.1
    assert np.array_equal(weights.mask_banks(spec, 3, plan)[0], banks[0])  # the seed decides
    assert not np.array_equal(weights.mask_banks(spec, 4, plan)[0], banks[0])
    assert weights.mask_banks(_spec(), 3, plan) == {}
    assert np.array_equal(weights.step_masks(banks, 11, 5)[0], banks[0][3][:5])  # step 11 of 8: bank[3], 5 rows
    monkeypatch.setattr(weights, "MASK_BANK_BYTES", 3 * 8 * 6)  # room for 3 steps: the run cycles
    small = weights.mask_banks(spec, 3, plan)[0]
    assert small.shape == (3, 8, 6) and np.array_equal(small, banks[0][:3])


def test_reference_dropout_uses_step_k_mask_bank_k_mod_n():
    spec = _spec({"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dropout", "rate": 0.5}, epochs=3)
    ds = data.load_dataset(spec)
    plan = data.batch_plan(len(ds.x_train), 3, 3)
    w0 = weights.initial_weights(spec, 3)
    banks = weights.mask_banks(spec, 3, plan)
    with pytest.raises(ValueError, match="needs the step's mask"):
        reference.train(spec, w0, ds.x_train, ds.y_train, plan)
    full = reference.train(spec, w0, ds.x_train, ds.y_train, plan, banks)
    assert full["step_losses"] == reference.train(spec, w0, ds.x_train, ds.y_train, plan, banks)["step_losses"]
    two = {1: banks[1][:2]}
    tiled = {1: np.concatenate([two[1]] * (len(banks[1]) // 2 + 1))}  # the same two masks, written out
    cycled = reference.train(spec, w0, ds.x_train, ds.y_train, plan, two)
    assert cycled["step_losses"] == reference.train(spec, w0, ds.x_train, ds.y_train, plan, tiled)["step_losses"]
    assert cycled["step_losses"][2:] != full["step_losses"][2:] and cycled["step_losses"][:1] == full["step_losses"][:1]
    zero = _spec({"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dropout", "rate": 0.0}, epochs=3)
    plain = _spec({"type": "dense", "units": 5, "activation": "tanh"}, epochs=3)
    kept = reference.train(zero, w0, ds.x_train, ds.y_train, plan, weights.mask_banks(zero, 3, plan))
    assert kept["step_losses"] == reference.train(plain, w0, ds.x_train, ds.y_train, plan)["step_losses"]
