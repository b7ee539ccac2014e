"""Reading spec files: YAML (safe loader, YAML 1.2 numbers) or JSON, then validation."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from .errors import Problem, SpecError, wrong_type
from .fields import TOP_FIELDS
from .model import Spec, validate


def load_spec(source: "str | os.PathLike | Mapping[str, Any] | Spec") -> Spec:
    """Load and validate a spec from a YAML/JSON path, a dict, or return a Spec as is."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return validate(source)
    path = Path(source)
    label = str(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:  # e.g. an embedded NUL byte, a name too long
        raise SpecError([Problem("", f"cannot use spec path {label!r}: {exc}")]) from None
    if not exists:
        raise SpecError([Problem("", f"spec file not found: {label}")])
    if is_dir:
        raise SpecError([Problem("", f"spec path is a directory, expected a YAML or JSON file: {label}")])
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SpecError([Problem("", f"cannot read spec file {label}: {exc.strerror or exc}")]) from None
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            raw = read_yaml(text)
    except Exception as exc:  # parse errors of either format
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif hasattr(exc, "lineno"):
            where = f" at line {exc.lineno}, column {exc.colno}"
        reason = getattr(exc, "problem", None) or getattr(exc, "msg", None) or str(exc).splitlines()[0]
        if "constructor for the tag" in str(reason):
            reason = f"{reason} (specs are read with a safe loader: plain YAML values only)"
        raise SpecError([Problem("", f"malformed {'JSON' if path.suffix.lower() == '.json' else 'YAML'}"
                                     f"{where}: {reason}")], source=label) from None
    if raw is None:
        raise SpecError([Problem("", "the spec file is empty; expected a mapping of spec fields "
                                     f"({', '.join(TOP_FIELDS)})")], source=label)
    if not isinstance(raw, Mapping):
        raise SpecError([wrong_type("", raw, "a mapping of spec fields")], source=label)
    if "name" not in raw:
        raw = {**raw, "name": path.stem}
    return validate(raw, source=label)


def read_yaml(text: str) -> Any:
    """YAML through a safe loader (plain values only) that also reads ``1e-3`` as a number (YAML 1.2)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(  # PyYAML's YAML 1.1 float needs a dot: "1e-3" would be a string
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass

