"""The typed, frozen :class:`Spec`: built once from a validated, normalised snapshot."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import layers as layer_types
from .fields import TOKEN_INPUT_TYPES
from .validate import normalise

SECTIONS = ("loss", "optimizer", "metrics", "training", "data")  # kept as their normalised mappings


@dataclass(frozen=True)
class Spec:
    """A validated spec with every default explicit.

    ``layers`` are typed layer objects (see :mod:`frameworkbench.layers`); ``shapes[i]`` is the
    per-sample input shape of layer ``i`` and ``shapes[-1]`` the model's output shape. The
    sections ``loss``, ``optimizer``, ``metrics``, ``training`` and ``data`` read as fresh
    copies of their normalised mappings (``spec.loss["name"]``), so no caller can change a spec.
    """

    name: str
    task: str
    input_shape: tuple[int, ...]
    layers: tuple[Any, ...]
    init: str
    sections: Mapping[str, Any] = field(repr=False)
    description: str = ""
    source: str | None = field(default=None, compare=False)  # the spec file, named in every later message
    shapes: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shapes = [tuple(self.input_shape)]
        for lay in self.layers:
            shapes.append(layer_types.get(lay.type).output_shape(lay, shapes[-1]))
        object.__setattr__(self, "shapes", tuple(shapes))
        body = {k: v for k, v in self.to_dict().items() if k not in ("name", "description")}
        blob = json.dumps(body, sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "hash", hashlib.sha256(blob.encode()).hexdigest()[:16])  # of what affects results

    @property
    def n_features(self) -> int:
        return int(self.input_shape[0])

    @property
    def input_dtype(self) -> str:
        """The model input's dtype: ``int32`` token ids when the first layer reads them (``embedding``), else
        ``float32``; the dataset holds ``x`` in it and every adapter feeds it unchanged."""
        return "int32" if self.layers[0].type in TOKEN_INPUT_TYPES else "float32"

    @property
    def dense_layers(self) -> list:
        return [lay for lay in self.layers if lay.type == "dense"]

    @property
    def output_units(self) -> int:
        return int(self.shapes[-1][-1])

    @property
    def loss(self) -> dict:
        return dict(self.sections["loss"])

    @property
    def optimizer(self) -> dict:
        return dict(self.sections["optimizer"])

    @property
    def metrics(self) -> list[str]:
        return list(self.sections["metrics"])

    @property
    def training(self) -> dict:
        return dict(self.sections["training"])

    @property
    def data(self) -> dict:
        return dict(self.sections["data"])

    def to_dict(self) -> dict:
        """The normalised snapshot that records store; :func:`from_snapshot` rebuilds the Spec from it."""
        out = {"name": self.name, "description": self.description, "task": self.task,
               "input_shape": list(self.input_shape), "layers": [lay.to_dict() for lay in self.layers]}
        out.update(copy.deepcopy({k: self.sections[k] for k in SECTIONS[:2]}))
        out["metrics"] = list(self.sections["metrics"])
        out.update(copy.deepcopy({k: self.sections[k] for k in SECTIONS[3:]}))
        out["init"] = self.init
        return out

    def with_overrides(self, *, epochs: int | None = None, batch_size: int | None = None,
                       seed: int | None = None, init: str | None = None) -> "Spec":
        """A new validated spec with training values replaced (CLI overrides)."""
        raw = self.to_dict()
        for key, value in (("epochs", epochs), ("batch_size", batch_size), ("seed", seed)):
            if value is not None:
                raw["training"][key] = value
        if init is not None:
            raw["init"] = init
        return validate(raw, source=self.source)


def validate(raw: Mapping[str, Any], source: str | None = None) -> Spec:
    """Validate a raw spec mapping; return the Spec or raise SpecError with every problem."""
    return from_snapshot(normalise(raw, source), source)


def from_snapshot(snapshot: Mapping[str, Any], source: str | None = None) -> Spec:
    """The Spec of an already validated snapshot (:meth:`Spec.to_dict`), trusted: nothing is re-checked."""
    s = copy.deepcopy(dict(snapshot))
    return Spec(name=s["name"], task=s["task"], input_shape=tuple(int(n) for n in s["input_shape"]),
                layers=tuple(layer_types.from_dict(lay) for lay in s["layers"]), init=s["init"],
                sections={k: s[k] for k in SECTIONS}, description=s.get("description", ""), source=source)
