"""A JSON Schema (draft 2020-12) for spec files, generated from the validator's own constraint table.

Nothing here is written by hand per field: every property comes from :data:`.fields.FIELDS`
(types, ranges, choices, required fields) and every layer type from its module in
:mod:`frameworkbench.layers` (its keys and which of them it requires). The validator stays the
authority — it also checks what a schema cannot say (loss fits task, output units, data files) —
the schema gives editors completion and early errors (``frameworkbench schema``).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from .._version import __version__
from ..layers import LAYERS
from .fields import FIELDS, REQUIRED, TOP_FIELDS, Field

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


def _leaf(f: Field) -> dict[str, Any]:
    """The schema of one field's value, from its kind, range and choices."""
    out: dict[str, Any] = {"description": f.doc}
    if f.kind == "choice":
        out["enum"] = list(f.choices)
    elif f.kind in ("integer", "number", "boolean", "string"):
        out["type"] = f.kind
        out.update(_bounds(f))
        if f.kind == "string" and f.default is REQUIRED:
            out["minLength"] = 1
    elif f.kind == "list":
        item = {"enum": list(f.choices)} if f.choices else {"type": "integer", **_bounds(f)}
        array = {"type": "array", "items": item, **({"minItems": 1} if f.default is REQUIRED and f.default_doc is None
                                                     else {})}
        out["anyOf"] = [item, array]  # a single value reads as a list
    if f.default is not REQUIRED and f.default is not None and f.kind != "mapping" and _finite(f.default):
        out["default"] = f.default
    return out


def _finite(v: Any) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


def _bounds(f: Field) -> dict[str, Any]:
    out = {}
    if f.lo is not None:
        out["exclusiveMinimum" if f.lo_open else "minimum"] = f.lo
    if f.hi is not None:
        out["exclusiveMaximum" if f.hi_open else "maximum"] = f.hi
    return out


def _children(prefix: str) -> dict[str, Field]:
    """Fields one level below ``prefix`` (``"training."``, ``"loss."``, ``"layers[]."``)."""
    return {p[len(prefix):]: f for p, f in FIELDS.items() if p.startswith(prefix) and "." not in p[len(prefix):]}


def _object(prefix: str) -> dict[str, Any]:
    """A mapping of the fields under ``prefix``; unknown keys are refused, as the validator does."""
    kids = _children(prefix)
    props = {k: (_named(f"{prefix}{k}") if f.kind == "mapping" else _leaf(f)) for k, f in kids.items()}
    needed = {k: f for k, f in kids.items() if f.default is REQUIRED and f.default_doc is None}
    required = [k for k, f in needed.items() if not f.when]
    variants: dict[str, list[str]] = {}  # "source: file" -> the keys that variant requires
    for k, f in needed.items():
        if f.when and "," not in f.when:
            variants.setdefault(f.when, []).append(k)
    conditions = [{"if": {"properties": {key: {"const": value}}, "required": [key]}, "then": {"required": keys}}
                  for key, _, value in (w.partition(": ") for w in variants) for keys in [variants[f"{key}: {value}"]]]
    return {"type": "object", "properties": props, "additionalProperties": False,
            **({"required": required} if required else {}), **({"allOf": conditions} if conditions else {})}


def _named(path: str) -> dict[str, Any]:
    """A mapping field written as a name or ``{name: ..., <parameter>: ...}`` (activation, loss, optimizer)."""
    mapping = _object(path + ".")
    names = mapping["properties"].get("name", {}).get("enum", [])
    mapping["required"] = ["name"]
    return {"description": FIELDS[path].doc, "anyOf": [{"enum": names}, mapping]}


def _layer(type_name: str) -> dict[str, Any]:
    """One layer type: its own keys (the typed layer's fields), those it requires, nothing else."""
    mod = LAYERS[type_name]
    keys = [f.name for f in dataclasses.fields(mod.Layer)]
    props: dict[str, Any] = {"type": {"const": type_name}}
    required = ["type"]
    for key in keys:
        if key == "activation":
            props[key] = _named("layers[].activation")
            if mod.ACTIVATION == "required":
                required.append(key)
            continue
        f = Field(f"layers[].{key}", **mod.FIELDS[key])
        props[key] = _leaf(f)
        if f.default is REQUIRED and f.default_doc is None:
            required.append(key)
    return {"if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
            "then": {"properties": props, "required": required, "additionalProperties": False}}


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file (YAML or JSON)."""
    props: dict[str, Any] = {}
    for top in TOP_FIELDS:
        if top == "layers":
            item = {"type": "object", "required": ["type"], "properties": {"type": _leaf(FIELDS["layers[].type"])},
                    "allOf": [_layer(t) for t in LAYERS]}
            props[top] = {"description": FIELDS[top].doc, "type": "array", "items": item, "minItems": 1}
        elif top in FIELDS and FIELDS[top].kind == "mapping":
            props[top] = _named(top)
        elif top in FIELDS:
            props[top] = _leaf(FIELDS[top])
        else:  # training, data: groups of fields without a row of their own
            props[top] = _object(top + ".")
    required = [t for t in TOP_FIELDS if t in FIELDS and FIELDS[t].default is REQUIRED and FIELDS[t].default_doc is None]
    return {"$schema": SCHEMA_URI, "$id": f"https://frameworkbench.invalid/spec-schema/{__version__}.json",
            "title": "frameworkbench spec", "description": "generated by `frameworkbench schema` from the "
            "validator's field table; the validator also checks what a schema cannot (loss fits task, ...)",
            "type": "object", "properties": props, "required": required, "additionalProperties": False}
