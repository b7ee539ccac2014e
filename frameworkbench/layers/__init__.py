"""Layer types: one module per type, found through :data:`LAYERS` (see :mod:`.base` for what a module declares).

Adding a layer type = one module here, registered below, plus one builder per adapter family.
The spec's field table and validator, the memory estimate, the reference model and the shared
initial weights read the modules; the tests in ``tests/test_layers.py`` pick each one up.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Mapping

from ..activations import Activation
from . import activation, attention, batch_norm, conv, dense, dropout, embedding, flatten, layer_norm, pool, recurrent
from .base import FAMILIES, ShapeError

# conv and pool declare one module per rank and kind (conv1d, conv2d, max_pool2d, ...) from one implementation
LAYERS: dict[str, ModuleType] = {m.TYPE: m for m in sorted((activation, dense, flatten, conv.CONV1D, conv.CONV2D,
                                                             *pool.MODULES, *recurrent.MODULES, attention, embedding,
                                                             layer_norm, batch_norm, dropout),
                                                            key=lambda m: m.TYPE)}

# weights dataclass name -> class, for every type with weights (files of saved weights name it)
WEIGHTS: dict[str, type] = {m.Weights.__name__: m.Weights for m in LAYERS.values() if hasattr(m, "Weights")}

__all__ = ["FAMILIES", "LAYERS", "ShapeError", "WEIGHTS", "from_dict", "get"]


def get(type_name: str) -> ModuleType:
    """The module of layer type ``type_name``; a ValueError listing the known types for any other."""
    try:
        return LAYERS[type_name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown layer type {type_name!r}; expected one of: {', '.join(LAYERS)}") from None


def from_dict(d: Mapping[str, Any]) -> Any:
    """The typed layer of a normalised (validated) layer mapping."""
    kwargs = {k: v for k, v in d.items() if k != "type"}
    if "activation" in kwargs:
        kwargs["activation"] = Activation.from_dict(kwargs["activation"])
    return get(d["type"]).Layer(**kwargs)
