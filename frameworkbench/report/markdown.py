"""Markdown building blocks: one cell formatter and one table builder."""
from __future__ import annotations

from typing import Any, Sequence

import tabulate as _tabulate


class Seconds(float):
    """A duration in seconds; :func:`cell` renders it with a unit (``1.24 s``, ``12.3 ms``, ``850 µs``)."""

    @classmethod
    def of(cls, value: float | None, scale: float = 1.0) -> "Seconds | None":
        """``value * scale`` seconds, or None when ``value`` is None."""
        return None if value is None else cls(value * scale)


_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def _duration(value: float) -> str:
    if value == 0:
        return "0 s"
    if value != value or value in (float("inf"), float("-inf")):
        return f"{value} s"
    if abs(value) >= 1000:
        return f"{value:.0f} s"
    rounded = float(f"{value:.3g}")  # 999.6 µs becomes 1 ms, not "1e+03 µs"
    for scale, unit in _TIME_UNITS:
        if abs(rounded) >= scale or unit == "ns":
            return f"{float(f'{rounded / scale:.3g}'):g} {unit}"
    raise AssertionError("unreachable")


def cell(value: Any, digits: int = 4) -> str:
    """The one formatter for report cells: — for missing, yes/no, durations with units, floats to
    ``digits`` significant digits, text with pipes escaped."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Seconds):
        return _duration(float(value))
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1e4 or abs(value) < 1e-3:
            return f"{value:.{max(digits - 1, 1)}e}"
        return f"{value:.{digits}g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


_ALIGN = {"l": "left", "r": "right"}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured markdown table; ``align`` items are 'l' or 'r'; cells go through :func:`cell`.

    Rendered by tabulate's ``pipe`` format: its ``github`` format writes no alignment colons, which
    GitHub needs to right-align a column. Column widths count code points (tabulate's wide-character
    mode is off), so the bytes do not depend on whether ``wcwidth`` is installed."""
    align = align or ["l"] * len(headers)
    body = [[cell(v) for v in row] for row in rows]
    wide, _tabulate.WIDE_CHARS_MODE = _tabulate.WIDE_CHARS_MODE, False
    try:
        return _tabulate.tabulate(body, headers=list(headers), tablefmt="pipe", disable_numparse=True,
                                  colalign=[_ALIGN[a] for a in align])
    finally:
        _tabulate.WIDE_CHARS_MODE = wide
