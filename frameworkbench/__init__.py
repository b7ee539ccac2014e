"""frameworkbench: compare tf.keras, standalone Keras 3 and PyTorch on one declarative model spec.

``import frameworkbench`` imports no ML framework; frameworks are imported only
inside worker processes (or by :func:`build`, which is meant for notebooks).
"""
from ._version import __version__

__all__ = ["Comparison", "SpecError", "build", "compare", "load_spec", "__version__"]


def __getattr__(name):  # lazy: keep the import of the package cheap
    if name in ("compare", "build", "Comparison"):
        from . import api

        return getattr(api, name)
    if name in ("load_spec", "SpecError"):
        from . import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'frameworkbench' has no attribute {name!r}")
