"""Axis ticks for the charts: where the ticks go and how they are labelled.

``nice_ticks`` places x ticks for epochs or seconds, ``epoch_ticks``
whole-epoch ticks, ``log_ticks`` the ticks of a log axis drawn in log10 units,
``short_ticks`` a blown-up linear y-axis (from ``BIG_Y`` on).  Pure: imports
numpy only.
"""

from __future__ import annotations

import math

import numpy as np


def nice_ticks(last: float, wanted: int = 4, first: float = 0.0) -> tuple[list[float], list[str]]:
    """Ticks from ``first`` (0) to ``last`` with a 1-2-5 step (fractional for short runs) and their labels."""
    if not (math.isfinite(last) and math.isfinite(first)) or last <= first:
        return [first], [f"{first:g}"]
    raw = (last - first) / max(1, wanted)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    start = math.ceil(first / step - 1e-9)
    ticks = [i * step for i in range(start, int(last / step + 1e-9) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return ticks, [f"{t:.{decimals}f}" for t in ticks]


BIG_Y = 1e4
"""From this magnitude on, a linear y-axis gets ``short_ticks`` (plotext writes every digit)."""


def short_ticks(lo: float, hi: float, n: int = 4) -> tuple[list[float], list[str]]:
    """``n`` evenly spaced ticks from ``lo`` to ``hi``, labelled in a few characters (``7e+10`` → ``7e10``)."""
    ticks = [lo + (hi - lo) * i / (n - 1) for i in range(n)] if hi > lo else [lo]
    return ticks, [f"{t:.2g}".replace("e+", "e") for t in ticks]


def epoch_ticks(last: float, wanted: int = 4, first: int = 0) -> list[int]:
    """Whole-epoch ticks from ``first`` (0) to ``last`` with a 1-2-5 step, about ``wanted`` of them."""
    if last <= first:
        return [int(first)]
    raw = (last - first) / max(1, wanted)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    step = max(1, int(step))
    return list(range(-(-int(first) // step) * step, int(last) + 1, step))


def log_ticks(lo: float, hi: float, wanted: int = 4) -> list[float]:
    """Tick positions (log10 units) for a log axis spanning ``lo``..``hi``:
    decades when there are enough, else 1-2-5 steps, else evenly spaced."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi - lo < 1e-9:
        return [lo]
    decades = [float(d) for d in range(math.ceil(lo), math.floor(hi) + 1)]
    if len(decades) >= 2:
        step = max(1, math.ceil(len(decades) / (wanted + 1)))
        return decades[::step]
    nice = [d + math.log10(m) for d in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    inside = [t for t in nice if lo - 1e-9 <= t <= hi + 1e-9]
    if 2 <= len(inside) <= wanted + 2:
        return inside
    return [float(t) for t in np.linspace(lo, hi, wanted)]
