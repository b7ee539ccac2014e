"""Losses and optax transformations of the flax target, per policy (see :mod:`.adapter`).

Aligned: Adam in Keras' epsilon-hat form and SGD momentum as Keras writes it (small custom
optax transformations, :func:`keras_adam`, :func:`keras_sgd`), cross-entropies clipped at the
spec's epsilon. Native: ``optax.adam`` / ``optax.sgd`` defaults, optax's cross-entropies on logits.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

# ----------------------------------------------------------------------------- losses
# native policy: optax's fused cross-entropies on logits (the model ends in logits, no clipping)
NATIVE_LOSSES = {
    "binary_crossentropy": lambda z, t: jnp.mean(optax.sigmoid_binary_cross_entropy(z, t)),
    "sparse_categorical_crossentropy": lambda z, t: jnp.mean(
        optax.softmax_cross_entropy_with_integer_labels(z, t.reshape(-1).astype(jnp.int32))),
    "categorical_crossentropy": lambda z, t: jnp.mean(optax.softmax_cross_entropy(z, t)),
}


def loss_function(loss: dict, native: bool = False) -> Callable:
    """``f(output, targets) -> mean loss``. Aligned: on probabilities, clipped to [eps, 1-eps]
    like Keras; native: optax's idiomatic loss on logits (:data:`NATIVE_LOSSES`)."""
    name = loss["name"]
    if name == "mse":
        return lambda p, t: jnp.mean(jnp.square(p - t))
    if native:
        return NATIVE_LOSSES[name]
    eps = loss["epsilon"]

    def log(p):
        return jnp.log(p if eps is None else jnp.clip(p, eps, 1 - eps))

    def log1m(p):
        return jnp.log(1 - p if eps is None else 1 - jnp.clip(p, eps, 1 - eps))

    if name == "binary_crossentropy":
        return lambda p, t: -jnp.mean(t * log(p) + (1 - t) * log1m(p))
    if name == "sparse_categorical_crossentropy":
        return lambda p, t: -jnp.mean(jnp.take_along_axis(log(p), t.reshape(-1, 1).astype(jnp.int32), axis=-1))
    return lambda p, t: -jnp.mean(jnp.sum(t * log(p), axis=-1))


# ----------------------------------------------------------------------------- optimisers
class KerasAdamState(NamedTuple):
    count: jax.Array
    m: Any
    v: Any


def keras_adam(learning_rate: float, beta_1: float, beta_2: float, epsilon: float) -> optax.GradientTransformation:
    """Adam exactly as Keras computes it (epsilon-hat form), as an optax transformation:
    alpha = lr·sqrt(1-b2^t)/(1-b1^t); m += (g-m)(1-b1); v += (g²-v)(1-b2); w -= m·alpha/(sqrt(v)+eps).

    ``optax.adam`` divides by sqrt(v_hat) + eps instead, and its ``eps_root`` goes under the
    root, so neither reproduces Keras' update."""

    def init(params):
        return KerasAdamState(jnp.zeros([], jnp.int32), jax.tree.map(jnp.zeros_like, params),
                              jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        del params
        t = (state.count + 1).astype(jnp.float32)
        b1_t, b2_t = jnp.power(jnp.float32(beta_1), t), jnp.power(jnp.float32(beta_2), t)
        alpha = learning_rate * jnp.sqrt(1 - b2_t) / (1 - b1_t)
        m = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1), state.m, grads)
        v = jax.tree.map(lambda v, g: v + (jnp.square(g) - v) * (1 - beta_2), state.v, grads)
        updates = jax.tree.map(lambda m, v: -((m * alpha) / (jnp.sqrt(v) + epsilon)), m, v)
        return updates, KerasAdamState(state.count + 1, m, v)

    return optax.GradientTransformation(init, update)


def keras_sgd(learning_rate: float, momentum: float) -> optax.GradientTransformation:
    """SGD as Keras computes it: m = m·momentum - g·lr; w += m (plain w -= g·lr without momentum).
    ``optax.sgd`` keeps t = g + momentum·t and applies -lr·t: equal in exact arithmetic."""
    if not momentum:
        return optax.GradientTransformation(
            lambda params: optax.EmptyState(),
            lambda g, state, params=None: (jax.tree.map(lambda x: -(x * learning_rate), g), state))

    def init(params):
        return optax.TraceState(trace=jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        m = jax.tree.map(lambda m, g: m * momentum - g * learning_rate, state.trace, grads)
        return m, optax.TraceState(trace=m)

    return optax.GradientTransformation(init, update)


def transformation(opt: dict, native: bool = False) -> optax.GradientTransformation:
    """The optax transformation for the spec's optimiser (see module docstring for the policies)."""
    if opt["name"] == "adam":
        if native:
            return optax.adam(opt["learning_rate"], b1=opt["beta_1"], b2=opt["beta_2"])
        return keras_adam(opt["learning_rate"], opt["beta_1"], opt["beta_2"], opt["epsilon"])
    if native:
        return optax.sgd(opt["learning_rate"], momentum=opt["momentum"] or None)
    return keras_sgd(opt["learning_rate"], opt["momentum"])
