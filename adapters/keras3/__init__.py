"""Standalone Keras 3 on its tensorflow, jax or torch backend (``KERAS_BACKEND`` set before import),
trained by ``model.fit``, and on JAX also by a hand-written loop over Keras' stateless API.

Declarations only (imports no framework): the adapters are in :mod:`.adapter` and :mod:`.stateless`,
the code generators in :mod:`.codegen`.
"""
from frameworkbench.targets import Target

_P = __name__
_FIT = f"{_P}.adapter:Keras3Adapter"

TARGETS = (
    Target("keras:tensorflow", _FIT, ("keras", "tensorflow"), ("keras", "tensorflow"),
           {"KERAS_BACKEND": "tensorflow", "TF_USE_LEGACY_KERAS": "0"}, family="keras", backend="tensorflow",
           extras=("keras", "tensorflow"), default=True, order=20, codegen=f"{_P}.codegen:fit"),
    Target("keras:jax", _FIT, ("keras", "jax"), ("keras", "jax", "jaxlib"), {"KERAS_BACKEND": "jax"},
           family="keras", backend="jax", extras=("keras", "jax"), default=True, order=30,
           codegen=f"{_P}.codegen:fit"),
    Target("keras:torch", _FIT, ("keras", "torch"), ("keras", "torch"), {"KERAS_BACKEND": "torch"},
           family="keras", backend="torch", extras=("keras", "torch"), default=True, order=40,
           codegen=f"{_P}.codegen:fit"),
    # Low-level variant: the keras:jax model trained by a hand-written jax.jit loop.
    Target("keras:jax:stateless", f"{_P}.stateless:KerasStatelessAdapter", ("keras", "jax"),
           ("keras", "jax", "jaxlib"), {"KERAS_BACKEND": "jax"}, family="keras", backend="jax", api="loop",
           extras=("keras", "jax"), order=80, codegen=f"{_P}.codegen:stateless"),
)
