"""Language-model check for Flax: ``transformers``' Flax BERT classifier, where the installed version still
ships it (transformers 5 removed its Flax classes: the check then reports ``unsupported`` and why).

``FlaxBertForSequenceClassification`` from a ``BertConfig`` (random initialisation, nothing downloaded),
its parameters trained one step by a ``jax.jit`` Optax Adam update, the way Flax models are trained. Run by
:mod:`frameworkbench.analysis.language_models`.
"""
from __future__ import annotations

LIBRARY = LIBRARY_MODULE = "transformers"
MODEL = "FlaxBertForSequenceClassification"


def check(sizes: dict, tokens, labels, imported) -> dict:
    import numpy as np

    from frameworkbench.analysis.language_models import one_step

    from .._lm import bert_config, transformers_class

    cls = transformers_class(MODEL, "Flax", "modeling_flax_")  # before JAX's import: it may not be there
    import jax
    import optax

    imported()
    config = bert_config(sizes)
    tx = optax.adam(sizes["learning_rate"])
    rng = jax.random.PRNGKey(sizes["seed"])

    def build():
        model = cls(config, seed=sizes["seed"])

        def loss(params):
            out = model(tokens, params=params, dropout_rng=rng, train=True).logits
            return optax.softmax_cross_entropy_with_integer_labels(out, labels).mean()

        @jax.jit
        def update(params, opt_state):
            grads = jax.grad(loss)(params)
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        return {"model": model, "params": model.params, "opt_state": tx.init(model.params), "update": update}

    def logits(state):
        return np.asarray(state["model"](tokens, params=state["params"], train=False).logits)

    def step(state):
        state["params"], state["opt_state"] = state["update"](state["params"], state["opt_state"])
        jax.block_until_ready(state["params"])

    def count(state):
        return sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(state["params"]))

    return one_step(build, count, logits, step, labels)
