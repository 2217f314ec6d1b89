"""What the curve charts plot, as one small frozen ``CurveView``: the metric
(loss, accuracy, gap), its smoothing, the x-axis (epochs or seconds), and the
keyboard cursor and zoom window shared by every chart.

``m``, ``s`` and ``t`` step it through ``METRICS``, ``SMOOTHING_STEPS`` and
``X_AXES``; ``i`` shows the epoch cursor, ``,``/``.`` (``<``/``>`` ten times
as far) move it, ``z``/``Z`` zoom the epochs shown in around it and back out
(the references: W&B's synced inspect line, TensorBoard's all-runs tooltip).
Pure: imports numpy and ``smoothing`` only (no Textual, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from regtui.ui.plotting.smoothing import ema

SMOOTHING_STEPS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)
"""What ``s`` cycles through (0 = off, the default)."""
METRICS: tuple[str, ...] = ("loss", "accuracy", "gap")
"""What ``m`` cycles through."""
X_AXES: tuple[str, ...] = ("epochs", "seconds")
CURSOR_STEPS = 40
"""Presses of ``.`` that cross the epochs shown (a step is never under one epoch)."""
MIN_WINDOW = 10
"""The fewest epochs a zoom shows."""

def next_in(steps: tuple[Any, ...], current: Any) -> Any:
    """The step after ``current`` in ``steps`` (wrapping; the first if unknown)."""
    try:
        return steps[(steps.index(current) + 1) % len(steps)]
    except ValueError:
        return steps[0]


@dataclass(frozen=True)
class CurveView:
    """What the charts show; ``m``, ``s`` and ``t`` step it with ``dataclasses.replace``."""

    metric: str = "loss"
    """loss (train and val), accuracy (train and val) or gap (val − train loss)."""
    smoothing: float = 0.0
    """TensorBoard EMA weight; 0 is off."""
    x_axis: str = "epochs"
    """epochs, or seconds since the run started."""
    cursor: int | None = None
    """The epoch marked on every chart and read out for every variant; None: no cursor."""
    window: tuple[int, int] | None = None
    """The first and last epoch shown (a zoom); None: every epoch."""

    def next_metric(self) -> CurveView:
        return replace(self, metric=next_in(METRICS, self.metric))

    def next_smoothing(self) -> CurveView:
        return replace(self, smoothing=next_in(SMOOTHING_STEPS, self.smoothing))

    def next_x_axis(self) -> CurveView:
        return replace(self, x_axis=next_in(X_AXES, self.x_axis))

    # ------------------------------------------------------------------ cursor and zoom

    def span(self, last: int) -> tuple[int, int]:
        """The epochs shown when the run's last epoch is ``last``."""
        if self.window is None:
            return 0, max(0, last)
        lo, hi = self.window
        return lo, min(hi, max(lo, last))

    def toggle_cursor(self, last: int) -> CurveView:
        """Show the cursor at the last epoch shown, or hide it."""
        if self.cursor is not None:
            return replace(self, cursor=None)
        return replace(self, cursor=self.span(last)[1])

    def move_cursor(self, presses: int, last: int) -> CurveView:
        """Move the cursor by ``presses`` steps (one step ≈ 1/40 of the epochs shown),
        kept inside the epochs shown; shows it first if it is hidden."""
        lo, hi = self.span(last)
        if self.cursor is None:
            return replace(self, cursor=hi)
        step = max(1, round((hi - lo) / CURSOR_STEPS))
        return replace(self, cursor=min(hi, max(lo, self.cursor + presses * step)))

    def zoom_in(self, last: int) -> CurveView:
        """Half the epochs shown, around the cursor (without one: the latest epochs)."""
        lo, hi = self.span(last)
        width = max(MIN_WINDOW, (hi - lo) // 2)
        if hi - lo <= MIN_WINDOW:
            return self
        if self.cursor is None:
            new_lo, new_hi = max(0, hi - width), hi
        else:
            new_lo = min(max(0, self.cursor - width // 2), max(0, last - width))
            new_hi = new_lo + width
        return replace(self, window=(new_lo, new_hi))

    def zoom_out(self, last: int) -> CurveView:
        """Twice the epochs shown; back to every epoch once that covers the run."""
        if self.window is None:
            return self
        lo, hi = self.window
        width = 2 * (hi - lo)
        if width >= last:
            return replace(self, window=None)
        centre = self.cursor if self.cursor is not None else (lo + hi) // 2
        new_lo = min(max(0, centre - width // 2), last - width)
        return replace(self, window=(new_lo, new_lo + width))

    def cursor_command(self, how: str, last: int) -> CurveView:
        """What a cursor key does: toggle, left, right, far_left, far_right, zoom_in, zoom_out."""
        moves = {"left": -1, "right": 1, "far_left": -10, "far_right": 10}
        if how in moves:
            return self.move_cursor(moves[how], last)
        return {"toggle": self.toggle_cursor, "zoom_in": self.zoom_in, "zoom_out": self.zoom_out}[how](last)

    def shown(self, epochs: np.ndarray) -> np.ndarray | slice:
        """Which of a history's rows the charts show (``epochs``: its epoch series)."""
        if self.window is None:
            return slice(None)
        lo, hi = self.window
        return (epochs >= lo) & (epochs <= hi)

    # ------------------------------------------------------------------ series

    @property
    def columns(self) -> tuple[str | None, str]:
        """History columns of (training curve or None, validation curve)."""
        return {"loss": ("train_loss", "val_loss"), "accuracy": ("train_acc", "val_acc"),
                "gap": (None, "gap")}[self.metric]

    @property
    def scale(self) -> float:
        """What the charts multiply a series by: accuracy in % (as the table shows it)."""
        return 100.0 if self.metric == "accuracy" else 1.0

    @property
    def short(self) -> str:
        """The metric in a chart title: loss, acc, gap."""
        return {"loss": "loss", "accuracy": "acc", "gap": "gap"}[self.metric]

    @property
    def titles(self) -> tuple[str, str]:
        """Titles of the overlay's (validation, training) charts."""
        if self.metric == "gap":
            return "generalization gap (val − train loss)", ""
        unit = " (%)" if self.metric == "accuracy" else ""
        return f"validation {self.metric}{unit}", f"training {self.metric}{unit}"

    def x(self, hist: Any) -> np.ndarray:
        """The x values of a variant's history (epochs or seconds), inside the zoom window."""
        values = hist.series("epoch" if self.x_axis == "epochs" else "seconds")
        return values[self.shown(hist.series("epoch"))]

    def y(self, hist: Any, column: str) -> np.ndarray:
        """One of a variant's series, smoothed as asked (over the whole run, so a zoom
        does not restart the average), inside the zoom window."""
        values = hist.series(column)
        values = ema(values, self.smoothing) if self.smoothing else values
        return values[self.shown(hist.series("epoch"))]

    def at_cursor(self, hist: Any, column: str | None) -> float | None:
        """A variant's value of ``column`` (smoothed as shown) at the cursor's epoch;
        None without a cursor, a column, or a finite value there."""
        if self.cursor is None or column is None or self.cursor >= len(hist.series("epoch")):
            return None
        values = hist.series(column)
        value = float((ema(values, self.smoothing) if self.smoothing else values)[self.cursor])
        return value if np.isfinite(value) else None

    @property
    def note(self) -> str:
        """A per-variant chart's title note: the metric when it is not the loss."""
        return "" if self.metric == "loss" else f"· {self.short}"

    def legend(self) -> tuple[str, str]:
        """The per-variant legend's names of the (validation, training) curves."""
        if self.metric == "gap":
            return "gap (val − train loss)", ""
        unit = " %" if self.metric == "accuracy" else ""
        return f"val {self.short}{unit}", f"train {self.short}{unit}"

    def header(self) -> str:
        """The chart header's note: smoothing and x-axis when they are not the default."""
        parts = [f"EMA {self.smoothing:g}" if self.smoothing else "", "x: seconds" if self.x_axis == "seconds" else "",
                 f"epochs {self.window[0]}–{self.window[1]} (Z: out)" if self.window else ""]
        return " · ".join(p for p in parts if p)
