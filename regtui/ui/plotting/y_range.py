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
from dataclasses import dataclass, replace
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


def _suffix_spans(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): ``lo[k]``, ``hi[k]`` the lowest and highest finite value of every curve
    from epoch ``k`` on (NaN where there is none); linear in the epochs, since a live
    run asks for the range a few times a second however long it has trained."""
    longest = max(a.size for a in arrays)
    lows, highs = np.full(longest, np.nan), np.full(longest, np.nan)
    for a in arrays:
        finite = np.where(np.isfinite(a), a, np.nan)
        lows[:a.size] = np.fmin(lows[:a.size], finite)
        highs[:a.size] = np.fmax(highs[:a.size], finite)
    return np.fmin.accumulate(lows[::-1])[::-1], np.fmax.accumulate(highs[::-1])[::-1]


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
    if not arrays:
        return None
    lows, highs = _suffix_spans(arrays)
    lo, hi = float(lows[0]), float(highs[0])
    if not math.isfinite(lo):
        return None
    if not epoch0_first:
        return YRange(lo, hi)
    limit = min(max(1, lows.size // HEAD_SHARE), lows.size - 1)
    tail = float(highs[limit] - lows[limit]) if limit >= 1 else math.nan
    if not tail > 0 or hi - lo <= FLATTEN * tail:
        return YRange(lo, hi)
    # as few epochs off-scale as leave the later ones room; k = limit spans the tail itself, so one fits
    k = 1 + int(np.flatnonzero(highs[1:limit + 1] - lows[1:limit + 1] <= FIT * tail)[0])
    shown = YRange(float(lows[k]), float(highs[k]), None, k)
    return replace(shown, off_scale=off_scale(arrays, shown))


def off_scale(curves: Iterable[np.ndarray], shown: YRange) -> float | None:
    """The value of the first ``shown.off_epochs`` epochs (epoch 0 at least) of ``curves``
    furthest outside ``shown``, or None when they all lie inside."""
    head = max(1, shown.off_epochs)
    heads = [np.asarray(c, dtype=float)[:head] for c in curves]
    first = np.concatenate(heads) if heads else np.empty(0)
    outside = first[np.isfinite(first) & ((first < shown.lo) | (first > shown.hi))]
    if not outside.size:
        return None
    return float(outside[np.argmax(np.maximum(outside - shown.hi, shown.lo - outside))])


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
