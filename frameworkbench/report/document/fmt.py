"""How figures and errors are written in the document's cells (units in the document's language)."""
from __future__ import annotations

import math
import re

from ..i18n import unit


def fs(seconds: float | None, lang: str = "en") -> str:
    """A duration with a unit chosen by size (unit symbols in ``lang``)."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} {unit('s', lang)}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} {unit('ms', lang)}"
    return f"{seconds * 1e6:.3g} {unit('µs', lang)}"


def fnum(v: float | None, sig: int = 3) -> str:
    """A number to ``sig`` significant digits (scientific below 1e-3 and from 1e5)."""
    if v is None:
        return "—"
    if v == 0:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e5:
        return f"{v:.{max(sig - 1, 0)}e}"
    return f"{v:.{sig}g}"


def fbytes(n: int | None, lang: str = "en") -> str:
    """A size in bytes, KiB from 1024."""
    if n is None:
        return "—"
    return f"{n / 1024:.1f} {unit('KiB', lang)}" if n >= 1024 else f"{n} {unit('B', lang)}"


def fratio(r: float | None) -> str:
    """A ratio such as ``2.5×``."""
    if r is None:
        return "—"
    return f"{r:.3g}×"


SHORT_ERROR_CHARS = 240  # below the 300 characters diagnostics keeps, so a cut there is never shown as whole
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx)\.$", re.IGNORECASE)


def _balanced(text: str) -> bool:
    """No quote, backtick or bracket left open (an apostrophe inside a word is not a quote)."""
    depth, quote = 0, None
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if quote:
            if ch == quote and not nxt.isalnum():
                quote = None
            continue
        if ch == "`" or (ch in "'\"" and not prev.isalnum()):
            quote = ch
        elif ch in "([{" or (ch == "<" and not nxt.isspace() and nxt not in "=<"):
            depth += 1
        elif ch in ")]}" or (ch == ">" and not prev.isspace() and prev not in "=->"):
            depth = max(0, depth - 1)
    return depth == 0 and quote is None


def short_error(error: object, limit: int = SHORT_ERROR_CHARS) -> str:
    """An error shortened for a report cell: its first line, cut after the first full sentence; if that
    is still over ``limit`` characters, cut at the last word boundary where no quote or bracket is open,
    marked "…". Never cuts inside a token such as ``<class 'tuple'>``. The one helper for every
    shortened error in reports."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    if not lines:
        return ""
    text = lines[0]
    for m in re.finditer(r"[.!?](?=\s)", text):
        head = text[:m.end()]
        if not _ABBREVIATION.search(head) and _balanced(head):
            text = head
            break
    if len(text) <= limit:
        return text
    for i in range(limit, 0, -1):
        if text[i] == " ":
            head = text[:i].rstrip(" ,;:")
            if head and _balanced(head):
                return head + " …"
    return text[:limit].rsplit(" ", 1)[0] + " …"


