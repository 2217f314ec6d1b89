"""What the curve charts plot: the metric (loss, accuracy, gap), its smoothing
and the x-axis (epochs or seconds), as one small frozen ``CurveView``.

``ema(y, weight)`` is TensorBoard's debiased exponential moving average
(``last = w·last + (1 − w)·y_t``; ``smoothed_t = last / (1 − w^n)`` where ``n``
counts the finite values so far; non-finite values pass through unsmoothed),
in numpy without a Python loop per point.  ``nice_ticks`` places x ticks for
epochs or seconds; ``epoch_ticks`` and ``log_ticks`` whole-epoch and log-axis
ticks.  Pure: imports numpy only (no Textual, no torch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

SMOOTHING_STEPS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)
"""What ``s`` cycles through (0 = off, the default)."""
METRICS: tuple[str, ...] = ("loss", "accuracy", "gap")
"""What ``m`` cycles through."""
X_AXES: tuple[str, ...] = ("epochs", "seconds")
_CHUNK = 128
"""Points per vectorized block of ``ema`` (keeps ``w^-i`` finite in float64)."""


def ema(y: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased EMA of ``y`` with smoothing ``weight`` in [0, 1).

    Non-finite values are copied through and do not advance the average; a
    constant series is returned as it is (TensorBoard does the same).
    """
    y = np.asarray(y, dtype=np.float64)
    out = y.copy()
    if not 0.0 < weight < 1.0:
        if weight == 0.0:
            return out
        raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
    finite = np.isfinite(y)
    values = y[finite]
    if values.size == 0 or np.all(values == values[0]):
        return out
    chunk = max(1, min(_CHUNK, int(250 / -math.log10(weight))))
    steps = np.arange(1, chunk + 1, dtype=np.float64)
    grow, shrink = weight ** -steps, weight ** steps  # w^-(i+1), w^(j+1)
    last = 0.0
    biased = np.empty_like(values)
    for start in range(0, values.size, chunk):
        v = values[start:start + chunk]
        n = v.size
        # last_j = w^(j+1) · (last + (1 − w) · Σ_{i<=j} w^-(i+1) · v_i)
        block = shrink[:n] * (last + (1.0 - weight) * np.cumsum(grow[:n] * v))
        biased[start:start + n] = block
        last = float(block[-1])
    count = np.arange(1, values.size + 1, dtype=np.float64)
    out[finite] = biased / (1.0 - weight ** count)
    return out


def next_in(steps: tuple[Any, ...], current: Any) -> Any:
    """The step after ``current`` in ``steps`` (wrapping; the first if unknown)."""
    try:
        return steps[(steps.index(current) + 1) % len(steps)]
    except ValueError:
        return steps[0]


def nice_ticks(last: float, wanted: int = 4) -> tuple[list[float], list[str]]:
    """Ticks from 0 to ``last`` with a 1-2-5 step (fractional for short runs) and their labels."""
    if not math.isfinite(last) or last <= 0:
        return [0.0], ["0"]
    raw = last / max(1, wanted)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    ticks = [i * step for i in range(int(last / step + 1e-9) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return ticks, [f"{t:.{decimals}f}" for t in ticks]


@dataclass(frozen=True)
class CurveView:
    """What the charts show; ``m``, ``s`` and ``t`` step it with ``dataclasses.replace``."""

    metric: str = "loss"
    """loss (train and val), accuracy (train and val) or gap (val − train loss)."""
    smoothing: float = 0.0
    """TensorBoard EMA weight; 0 is off."""
    x_axis: str = "epochs"
    """epochs, or seconds since the run started."""

    def next_metric(self) -> CurveView:
        return replace(self, metric=next_in(METRICS, self.metric))

    def next_smoothing(self) -> CurveView:
        return replace(self, smoothing=next_in(SMOOTHING_STEPS, self.smoothing))

    def next_x_axis(self) -> CurveView:
        return replace(self, x_axis=next_in(X_AXES, self.x_axis))

    @property
    def columns(self) -> tuple[str | None, str]:
        """History columns of (training curve or None, validation curve)."""
        return {"loss": ("train_loss", "val_loss"), "accuracy": ("train_acc", "val_acc"),
                "gap": (None, "gap")}[self.metric]

    @property
    def short(self) -> str:
        """The metric in a chart title: loss, acc, gap."""
        return {"loss": "loss", "accuracy": "acc", "gap": "gap"}[self.metric]

    @property
    def titles(self) -> tuple[str, str]:
        """Titles of the overlay's (validation, training) charts."""
        if self.metric == "gap":
            return "generalization gap (val − train loss)", ""
        return f"validation {self.metric}", f"training {self.metric}"

    def x(self, hist: Any) -> np.ndarray:
        """The x values of a variant's history (epochs or seconds)."""
        return hist.series("epoch" if self.x_axis == "epochs" else "seconds")

    def y(self, hist: Any, column: str) -> np.ndarray:
        """One of a variant's series, smoothed as asked."""
        values = hist.series(column)
        return ema(values, self.smoothing) if self.smoothing else values

    @property
    def note(self) -> str:
        """A per-variant chart's title note: the metric when it is not the loss."""
        return "" if self.metric == "loss" else f"· {self.short}"

    def legend(self) -> tuple[str, str]:
        """The per-variant legend's names of the (validation, training) curves."""
        if self.metric == "gap":
            return "gap (val − train loss)", ""
        return f"val {self.short}", f"train {self.short}"

    def header(self) -> str:
        """The chart header's note: smoothing and x-axis when they are not the default."""
        parts = [f"EMA {self.smoothing:g}" if self.smoothing else "", "x: seconds" if self.x_axis == "seconds" else ""]
        return " · ".join(p for p in parts if p)


BIG_Y = 1e4
"""From this magnitude on, a linear y-axis gets ``short_ticks`` (plotext writes every digit)."""


def short_ticks(lo: float, hi: float, n: int = 4) -> tuple[list[float], list[str]]:
    """``n`` evenly spaced ticks from ``lo`` to ``hi``, labelled in a few characters (``7e+10`` → ``7e10``)."""
    ticks = [lo + (hi - lo) * i / (n - 1) for i in range(n)] if hi > lo else [lo]
    return ticks, [f"{t:.2g}".replace("e+", "e") for t in ticks]


def epoch_ticks(last: float, wanted: int = 4) -> list[int]:
    """Whole-epoch ticks from 0 with a 1-2-5 step, about ``wanted`` of them."""
    if last <= 0:
        return [0]
    raw = last / max(1, wanted)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    step = max(1, int(step))
    return list(range(0, int(last) + 1, step))


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
