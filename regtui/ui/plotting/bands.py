"""Seeds in the lab: the min–max band around a variant's mean curve, and mean ± std.

With ``train.seeds > 1`` every variant of a ``RunHistory`` is a ``SeedGroup``
whose ``series`` is the mean over seeds; ``seed_band`` gives the charts its
``band`` (min and max over the seeds at each epoch) as two dim curves, smoothed
like the mean, ``best_over_seeds`` the results table's ``mean±std`` of the
seeds' best validation losses and ``mean_std`` that format for any per-seed
numbers (the ranking statistic's too; the format of ``regtui run``'s table).  Imports
numpy and the UI's colour helpers only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from regtui.ui.plotting.ghost import dim
from regtui.ui.plotting.smoothing import ema

BAND_KEEP = 0.55
"""How much of the variant's colour the band keeps (a ghost keeps 0.4)."""

Curve = tuple[np.ndarray, np.ndarray, tuple[int, int, int]]


def seed_count(history: Any) -> int:
    """How many seeds each variant of ``history`` ran over."""
    return len(getattr(history, "seeds", ())) or 1


def seed_band(hist: Any, view: Any, column: str | None, rgb: tuple[int, int, int]) -> tuple[Curve, ...]:
    """The (min, max) curves of ``column`` over a ``SeedGroup``'s seeds, dimmed; () for one seed."""
    if column is None or not hasattr(hist, "band") or not len(hist):
        return ()
    lo, hi = hist.band(column)
    if view.smoothing:
        lo, hi = ema(lo, view.smoothing), ema(hi, view.smoothing)
    keep = view.shown(hist.series("epoch"))  # the zoom window, after smoothing over the whole run
    lo, hi = lo[keep], hi[keep]
    x = view.x(hist)
    color = dim(rgb, BAND_KEEP)
    return ((x, lo, color), (x, hi, color))


def best_over_seeds(hist: Any) -> str | None:
    """``0.312±.021``: mean ± sample std of the seeds' best val losses (None for one seed)."""
    if not hasattr(hist, "best_values"):
        return None
    return mean_std(hist.best_values())


def mean_std(per_seed: Any) -> str:
    """``0.312±.021``: mean ± sample std (n − 1) of the finite values; ``–`` when none is."""
    values = [float(v) for v in per_seed if math.isfinite(v)]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.3f}"
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.3f}±{std:.3f}".replace("±0.", "±.")
