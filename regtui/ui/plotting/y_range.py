"""The y-range of the curve charts: shared across the per-variant grid, and not
dictated by the first epochs when they would flatten every later one.

``y_range(curves, epoch0_first=...)`` takes the y values a chart (or, shared,
every chart of the grid) draws — in the units it draws them: accuracy in %,
log10 of the values on a log axis — and returns a ``YRange``: the lowest and
highest finite value, except that when the first epochs stretch the range to
more than ``FLATTEN`` times what the epochs after them span (digits: a loss of
2.30 at epoch 0 and still 1.5 at epoch 3, against 0.05–0.4 after), they are left
off-scale (at most one epoch in ``HEAD_SHARE``): the range is that of the later
epochs and ``off_scale`` holds the value furthest outside, which the chart names
(``epoch 0 off-scale ↑2.30``, ``epochs 0–9 off-scale ↑2.65``).  Pure: numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

FLATTEN = 2.0
"""The first epochs go off-scale when keeping them would leave the later epochs under
1/FLATTEN of the chart's height."""
HEAD_SHARE = 10
"""At most one epoch in ``HEAD_SHARE`` (and at least epoch 0) may be left off-scale."""
FIT = 1.25
"""Off-scale, as few first epochs as leave a range at most FIT times that of the epochs
after the first tenth."""


@dataclass(frozen=True)
class YRange:
    """What a chart's y-axis spans, in the units it draws."""

    lo: float
    hi: float
    off_scale: float | None = None
    """The value of the first epochs furthest outside the range (None: they are inside)."""
    off_epochs: int = 0
    """How many leading epochs may lie outside (0: none)."""

    @property
    def above(self) -> bool:
        """Whether the value off-scale lies above the range (a loss) or below (an accuracy)."""
        return self.off_scale is not None and self.off_scale > self.hi


def _span(arrays: list[np.ndarray], start: int) -> tuple[float, float] | None:
    values = np.concatenate([a[start:] for a in arrays]) if arrays else np.empty(0)
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else None


def y_range(curves: Iterable[np.ndarray], *, epoch0_first: bool = True) -> YRange | None:
    """The range of ``curves`` (y arrays; with ``epoch0_first`` element ``i`` of each is
    epoch ``i``); None when no value is finite.

    With ``epoch0_first``, when the whole span is over ``FLATTEN`` times that of the
    epochs after the first tenth (``HEAD_SHARE``), the first ``k`` epochs go off-scale,
    for the smallest ``k`` whose later epochs span at most ``FIT`` times that: on digits
    the loss falls from 2.65 through the first ten epochs of 200 (Dropout's through
    twenty), so those stay out, not epoch 0 alone."""
    arrays = [np.asarray(c, dtype=float) for c in curves]
    arrays = [a for a in arrays if a.size]
    whole = _span(arrays, 0)
    if whole is None:
        return None
    lo, hi = whole
    if not epoch0_first:
        return YRange(lo, hi)
    longest = max(a.size for a in arrays)
    limit = max(1, longest // HEAD_SHARE)
    tail = _span(arrays, limit)
    if tail is None or tail[1] - tail[0] <= 0 or hi - lo <= FLATTEN * (tail[1] - tail[0]):
        return YRange(lo, hi)
    for k in range(1, limit + 1):  # as few epochs off-scale as leave the later ones room
        later = _span(arrays, k)
        if later is not None and later[1] - later[0] <= FIT * (tail[1] - tail[0]):
            shown = YRange(later[0], later[1], None, k)
            return YRange(later[0], later[1], off_scale(arrays, shown), k)
    return YRange(lo, hi)  # not reached: k = limit spans the tail itself


def off_scale(curves: Iterable[np.ndarray], shown: YRange) -> float | None:
    """The value of the first ``shown.off_epochs`` epochs (epoch 0 at least) of ``curves``
    furthest outside ``shown``, or None when they all lie inside."""
    head = max(1, shown.off_epochs)
    first = [float(v) for a in (np.asarray(c, dtype=float) for c in curves) for v in a[:head] if math.isfinite(v)]
    outside = [v for v in first if not shown.lo <= v <= shown.hi]
    return max(outside, key=lambda v: max(v - shown.hi, shown.lo - v)) if outside else None


def off_scale_note(value: float, above: bool, *, log: bool = False, percent: bool = False,
                   short: bool = False, epochs: int = 1) -> str:
    """``epoch 0 off-scale ↑2.30`` (``short``: ``ep0 ↑2.30``), or with ``epochs`` > 1
    ``epochs 0–9 off-scale ↑2.65`` (``ep0–9 ↑2.65``), for a value drawn as ``value``
    (log10 units on a log axis; accuracy in %)."""
    shown = 10 ** value if log else value
    if percent:
        number = f"{shown:.0f}%"
    elif abs(shown) < 10:
        number = f"{shown:.2f}"
    else:
        number = f"{shown:.3g}" if abs(shown) < 1e4 else f"{shown:.1e}"
    arrow = "↑" if above else "↓"
    which = "0" if epochs <= 1 else f"0–{epochs - 1}"
    if short:
        return f"ep{which} {arrow}{number}"
    return f"{'epoch' if epochs <= 1 else 'epochs'} {which} off-scale {arrow}{number}"
