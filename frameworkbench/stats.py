"""Summary statistics of measured figures: median, IQR and p95, skipping missing values.

A value is missing when it is None or NaN; every function here drops those first and returns
None when nothing is left. The definitions are fixed so that stored figures stay comparable:
the quartiles are the inclusive (linear, Hyndman-Fan type 7) ones and p95 is the nearest-rank
value at ``0.95 * (n - 1)`` (numpy's ``method="nearest"``, which rounds half to even).
"""
from __future__ import annotations

import math
import statistics
from typing import Iterable

import numpy as np


def present(values: Iterable[float | None]) -> list[float]:
    """The values that are neither None nor NaN, in their order."""
    return [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def median(values: Iterable[float | None]) -> float | None:
    """The median of the present values (an int stays an int when the middle value is one)."""
    vals = present(values)
    return statistics.median(vals) if vals else None


def iqr(values: Iterable[float | None]) -> float | None:
    """Interquartile range of the present values (inclusive quartiles); 0.0 for a single value."""
    vals = sorted(present(values))
    if len(vals) < 2:
        return 0.0 if vals else None
    q = statistics.quantiles(vals, n=4, method="inclusive")
    return q[2] - q[0]


def p95(values: Iterable[float | None]) -> float | None:
    """The 95th percentile of the present values: the observation nearest to rank ``0.95 * (n - 1)``."""
    vals = present(values)
    return float(np.percentile(vals, 95, method="nearest")) if vals else None
