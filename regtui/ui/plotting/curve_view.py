"""What the curve charts plot, as one small frozen ``CurveView``: the metric
(loss, accuracy, gap), its smoothing and the x-axis (epochs or seconds).

``m``, ``s`` and ``t`` step it through ``METRICS``, ``SMOOTHING_STEPS`` and
``X_AXES``.  Pure: imports numpy and ``smoothing`` only (no Textual, no torch).
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
