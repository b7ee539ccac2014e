"""Flax NNX + Optax: JAX's own neural-network library, trained by a hand-written ``jax.jit`` loop
(target ``flax``).

Declarations only (imports no framework): the adapter is in :mod:`.adapter` (losses and optax
transformations in :mod:`.optim`), diagnostics in :mod:`.probes`, the code generator in :mod:`.codegen`.
"""
from frameworkbench.targets import Target

TARGETS = (
    Target("flax", f"{__name__}.adapter:FlaxAdapter", ("flax", "optax", "jax"), ("flax", "optax", "jax", "jaxlib"),
           {}, family="flax", backend="jax", api="loop", extras=("flax",), order=60,
           codegen=f"{__name__}.codegen:generate"),
)
