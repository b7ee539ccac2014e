"""The project's error helpers: every user-facing message is built here.

A message names the field path, shows the received value and lists what is allowed
(Keras style). :class:`SpecError` carries every problem found at once.
"""
from __future__ import annotations

import contextlib
import difflib
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# Kept for the modules that still call ``problem(path, message)``: the same as ``Problem(path, message)``.
problem = Problem


class SpecError(ValueError):
    """Invalid user input (spec, data file, CLI value); carries every problem found."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found:"] if n > 1 else []
        lines += [("  " if n > 1 else head) + str(p) for p in self.problems]
        super().__init__("\n".join(lines))


def fmt(value: Any) -> str:
    """Render a received value the way messages show it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        text = json.dumps(value, default=str) if not isinstance(value, (int, float)) else repr(value)
    except (TypeError, ValueError, RecursionError):  # odd keys, ints too long to print, deep nesting
        text = (f"an integer of {value.bit_length()} bits" if isinstance(value, int)
                else f"a {type(value).__name__}")
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(value: Any, allowed: Iterable[str]) -> str | None:
    """The allowed name closest to ``value`` (case-insensitive), or None."""
    if not isinstance(value, str):
        return None
    by_lower = {a.lower(): a for a in allowed if isinstance(a, str)}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def unknown(path: str, what: str, value: Any, allowed: Iterable[str]) -> Problem:
    """``unknown <what> 'x' (did you mean 'y'?); expected one of: ...``."""
    allowed = sorted(allowed)
    close = suggest(value, allowed)
    hint = f" (did you mean '{close}'?)" if close else ""
    return Problem(path, f"unknown {what} {fmt(value)}{hint}; expected one of: {', '.join(allowed)}")


def wrong_type(path: str, value: Any, expected: str) -> Problem:
    """``expected <expected>, got <value> (<type>)``, with a hint for quoted numbers."""
    hint = ""
    if isinstance(value, str) and ("integer" in expected or "number" in expected):
        try:
            float(value)
            hint = "; write the number without quotes"
        except ValueError:
            pass
    return Problem(path, f"expected {expected}, got {fmt(value)} ({type(value).__name__}){hint}")


def missing(path: str, what: str = "required field") -> Problem:
    return Problem(path, f"missing {what}")


def out_of_range(path: str, value: Any, allowed: str) -> Problem:
    return Problem(path, f"got {fmt(value)}; expected {allowed}")


@contextlib.contextmanager
def sourced(spec: Any):
    """Name the spec file (``spec.source``) in SpecErrors raised inside (data-stage errors know only the data file)."""
    try:
        yield
    except SpecError as exc:
        if not spec.source or exc.source == spec.source:
            raise
        source = spec.source if exc.source is None else f"{spec.source}, data file {exc.source}"
        raise SpecError(exc.problems, source=source) from None
