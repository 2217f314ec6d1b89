"""Min/max downsampling of a series to a chart's width, in pure numpy.

``downsample(x, y, width)`` drops non-finite points and keeps, for each of
``width`` equal x-columns, the points holding that column's minimum and
maximum y (in x order), so a 5,000-epoch series costs plotext no more than a
50-epoch one and no spike disappears.  Imports numpy only.
"""

from __future__ import annotations

import numpy as np


def finite_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points where both x and y are finite, as float64 copies."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def downsample(x: np.ndarray, y: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * width`` finite points of ``(x, y)``: each column's min and max.

    ``x`` must be non-decreasing (epochs).  Series that already fit are
    returned whole (finite points only).
    """
    x, y = finite_points(x, y)
    width = max(1, int(width))
    if x.size <= 2 * width:
        return x, y
    lo, hi = x[0], x[-1]
    span = hi - lo
    if span <= 0:
        cols = np.zeros(x.size, dtype=np.int64)
    else:
        cols = np.minimum(((x - lo) / span * width).astype(np.int64), width - 1)
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    # per column: index of the min and of the max
    idx_min = starts + _segment_arg(y, starts, np.minimum)
    idx_max = starts + _segment_arg(y, starts, np.maximum)
    keep = np.unique(np.concatenate([idx_min, idx_max]))
    return x[keep], y[keep]


def _segment_arg(y: np.ndarray, starts: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """Offset, from its segment's start, of each segment's extreme value."""
    extreme = ufunc.reduceat(y, starts)
    seg = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, y.size]))
    hit = y == extreme[seg]
    # first hit in each segment
    positions = np.flatnonzero(hit)
    first = np.full(starts.size, -1, dtype=np.int64)
    seg_of_hit = seg[positions]
    order = np.unique(seg_of_hit, return_index=True)[1]
    first[seg_of_hit[order]] = positions[order]
    return first - starts
