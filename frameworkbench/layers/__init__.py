"""Layer types: one module per type, found through :data:`LAYERS` (see :mod:`.base` for what a module declares).

Adding a layer type = one module here, registered below, plus one builder per adapter family.
The spec's field table and validator, the memory estimate, the reference model and the shared
initial weights read the modules; the tests in ``tests/test_layers.py`` pick each one up.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Mapping

from ..activations import Activation
from . import activation, dense
from .base import FAMILIES, ShapeError

LAYERS: dict[str, ModuleType] = {m.TYPE: m for m in sorted((activation, dense), key=lambda m: m.TYPE)}

__all__ = ["FAMILIES", "LAYERS", "ShapeError", "from_dict", "get"]


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
