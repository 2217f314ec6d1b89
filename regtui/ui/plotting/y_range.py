"""The y-range of the curve charts: shared across the per-variant grid, and not
dictated by epoch 0 when that would flatten every other epoch.

``y_range(curves, epoch0_first=...)`` takes the y values a chart (or, shared,
every chart of the grid) draws — in the units it draws them: accuracy in %,
log10 of the values on a log axis — and returns a ``YRange``: the lowest and
highest finite value, except that when the values at epoch 0 stretch the range
to more than ``FLATTEN`` times what the epochs after it span (digits: a loss of
2.30 at epoch 0 against 0.05–0.4 after), epoch 0 is left off-scale: the range
is that of the later epochs and ``off_scale`` holds the epoch-0 value furthest
outside, which the chart names (``epoch 0 off-scale ↑2.30``).  Pure: numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

FLATTEN = 2.0
"""Epoch 0 goes off-scale when keeping it would leave the later epochs under 1/FLATTEN
of the chart's height."""


@dataclass(frozen=True)
class YRange:
    """What a chart's y-axis spans, in the units it draws."""

    lo: float
    hi: float
    off_scale: float | None = None
    """The epoch-0 value left outside the range (None: epoch 0 is inside)."""

    @property
    def above(self) -> bool:
        """Whether the value off-scale lies above the range (a loss) or below (an accuracy)."""
        return self.off_scale is not None and self.off_scale > self.hi


def y_range(curves: Iterable[np.ndarray], *, epoch0_first: bool = True) -> YRange | None:
    """The range of ``curves`` (y arrays; with ``epoch0_first`` element 0 of each is epoch 0);
    None when no value is finite."""
    arrays = [np.asarray(c, dtype=float) for c in curves]
    arrays = [a for a in arrays if a.size]
    every = np.concatenate(arrays) if arrays else np.empty(0)
    every = every[np.isfinite(every)]
    if not every.size:
        return None
    lo, hi = float(every.min()), float(every.max())
    if not epoch0_first:
        return YRange(lo, hi)
    later = np.concatenate([a[1:] for a in arrays])
    later = later[np.isfinite(later)]
    first = np.array([a[0] for a in arrays if math.isfinite(a[0])])
    if not later.size or not first.size:
        return YRange(lo, hi)
    r_lo, r_hi = float(later.min()), float(later.max())
    if r_hi - r_lo <= 0 or hi - lo <= FLATTEN * (r_hi - r_lo):
        return YRange(lo, hi)
    outside = first[(first > r_hi) | (first < r_lo)]
    far = float(outside[np.argmax(np.maximum(outside - r_hi, r_lo - outside))])
    return YRange(r_lo, r_hi, far)



def off_scale(curves: Iterable[np.ndarray], shown: YRange) -> float | None:
    """The epoch-0 value of ``curves`` (element 0 of each) furthest outside ``shown``, or None."""
    first = [float(a[0]) for a in (np.asarray(c, dtype=float) for c in curves) if a.size and math.isfinite(a[0])]
    outside = [v for v in first if not shown.lo <= v <= shown.hi]
    return max(outside, key=lambda v: max(v - shown.hi, shown.lo - v)) if outside else None


def off_scale_note(value: float, above: bool, *, log: bool = False, percent: bool = False,
                   short: bool = False) -> str:
    """``epoch 0 off-scale ↑2.30`` (``short``: ``ep0 ↑2.30``) for a value drawn as ``value``
    (log10 units on a log axis; accuracy in %)."""
    shown = 10 ** value if log else value
    if percent:
        number = f"{shown:.0f}%"
    elif abs(shown) < 10:
        number = f"{shown:.2f}"
    else:
        number = f"{shown:.3g}" if abs(shown) < 1e4 else f"{shown:.1e}"
    arrow = "↑" if above else "↓"
    return f"ep0 {arrow}{number}" if short else f"epoch 0 off-scale {arrow}{number}"
