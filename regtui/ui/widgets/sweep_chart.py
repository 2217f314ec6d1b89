"""What the sweep view draws: the U-curve chart (one knob) and the heat map (two).

``SweepChart`` (a textual-plotext ``PlotextPlot``) plots each grid point's
ranking statistic (``regtui.core.ranking``: by default the validation loss
where training ends) against the knob (mean over seeds, with a min–max band) and
its final training loss beside it, and marks the best point with ★.  λ and η
ladders get a log x-axis drawn by hand, as the loss charts do (plotext 5
takes the log of its data again on each build, piccolomo/plotext#209): the
positions are log10(value), a 0 sits one step left of the smallest positive
value, the ticks carry the values.  ``heat_map`` renders two knobs as a Rich
table of coloured cells with the values in them.  ``PointStats`` holds one
point's numbers over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from rich.table import Table
from rich.text import Text
from textual_plotext import PlotextPlot

from regtui.ui.plotting.colors import TRAIN_GREY, color_hex, hex_to_rgb

VAL_COLOR = hex_to_rgb(color_hex(0))
BAND_COLOR = (40, 90, 120)
"""The min–max band: a dim version of the validation colour."""
BEST_COLOR = hex_to_rgb(color_hex(1))
LOG_KNOBS = ("l2", "weight_decay", "n_train")
"""Knob fields whose values usually form a ladder (a log x-axis when they span a decade)."""
CELL = 8
"""Characters of a heat-map cell (its colour fills them)."""
VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


@dataclass(frozen=True)
class PointStats:
    """One grid point over its seeds: ``score_*`` is the ranking statistic
    (NaN-free means; None when no seed has a value)."""

    knobs: dict[str, float]
    score_mean: float | None
    score_std: float | None
    score_min: float | None
    score_max: float | None
    train_mean: float | None
    statuses: tuple[str, ...]
    rankable: bool = True
    """No seed diverged: the point may be marked best."""

    @classmethod
    def of(cls, point: Any, rank_by: str | None = None) -> "PointStats":
        """From a ``regtui.core.sweep.SweepPoint``, ranked by ``rank_by`` (None: the sweep's)."""
        summary = point.summary()
        score = point.score if rank_by is None else point.score_by(rank_by)  # regtui.core.ranking, per seed
        values = score.finite
        return cls(dict(point.knobs), score.value, score.std,
                   min(values) if values else None, max(values) if values else None,
                   summary["final_train_loss"]["mean"], tuple(point.statuses), score.rankable)

    @property
    def status(self) -> str:
        """``finished``, or each status with its count (``diverged 1/3``)."""
        kinds = sorted(set(self.statuses))
        if kinds == ["finished"]:
            return "finished"
        n = len(self.statuses)
        return ", ".join(f"{k} {self.statuses.count(k)}/{n}" if n > 1 else k for k in kinds)


def best_index(points: Sequence[PointStats]) -> int | None:
    """The point ranked first: the lowest mean ranking statistic among points without a
    diverged seed (the first on ties), as ``regtui.core.sweep.best_point`` ranks."""
    scored = [(p.score_mean, i) for i, p in enumerate(points) if p.score_mean is not None and p.rankable]
    return min(scored)[1] if scored else None


def log_axis(key: str, values: Sequence[float]) -> bool:
    """Whether a knob's values (``variants.L2.l2``, ``data.n_train``) go on a log axis (a λ ladder, say)."""
    positive = [v for v in values if v > 0]
    return key.rsplit(".", 1)[-1] in LOG_KNOBS and len(positive) >= 2 and max(positive) / min(positive) >= 10


def positions(values: Sequence[float], log: bool) -> np.ndarray:
    """Where each value sits on the x-axis: itself, or log10 (0 one step left of the rest)."""
    x = np.asarray(values, dtype=float)
    if not log:
        return x
    pos = np.log10(np.where(x > 0, x, 1.0))
    logs = np.unique(pos[x > 0])
    step = float(np.median(np.diff(logs))) if len(logs) > 1 else 1.0
    pos[x <= 0] = logs.min() - step
    return pos


def tick_subset(n: int, room: int) -> list[int]:
    """Indices of at most ``room`` evenly spread ticks out of ``n`` (ends kept)."""
    if n <= room:
        return list(range(n))
    room = max(2, room)
    return sorted({round(i * (n - 1) / (room - 1)) for i in range(room)})


class SweepChart(PlotextPlot):
    """The ranking statistic (mean, min–max band) and final train loss against one knob."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.knob = ""
        self.values: tuple[float, ...] = ()
        self.points: tuple[PointStats, ...] = ()
        self.draw_count = 0

    def set_points(self, knob: str, values: Sequence[float], points: Sequence[PointStats]) -> None:
        """The knob, every value of its grid (the x range) and the points finished so far."""
        self.knob, self.values, self.points = knob, tuple(values), tuple(points)
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        if not self.values:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            return self._drawn()
        log = log_axis(self.knob, self.values)
        xs = positions(self.values, log)
        where = {v: float(x) for v, x in zip(self.values, xs)}
        done = [p for p in self.points if p.knobs.get(self.knob) in where]
        lo_x, hi_x = float(xs.min()), float(xs.max())
        pad = 0.04 * (hi_x - lo_x or 1.0)
        plt.xlim(lo_x - pad, hi_x + pad)
        room = max(2, (self.size.width - 8) // 7)
        shown = tick_subset(len(self.values), room)
        order = np.argsort(xs)
        plt.xticks([float(xs[order[i]]) for i in shown], [f"{self.values[order[i]]:g}" for i in shown])
        self._curves(plt, done, where)
        self._drawn()

    def _curves(self, plt: Any, done: list[PointStats], where: dict[float, float]) -> None:
        done = sorted(done, key=lambda p: where[p.knobs[self.knob]])
        x = [where[p.knobs[self.knob]] for p in done]

        def curve(values: list[float | None], color: tuple[int, int, int], marker: str) -> None:
            pairs = [(xi, v) for xi, v in zip(x, values) if v is not None and math.isfinite(v)]
            if pairs:
                plt.plot([a for a, _ in pairs], [b for _, b in pairs], color=color, marker=marker)

        if any(p.score_min != p.score_max for p in done):
            curve([p.score_min for p in done], BAND_COLOR, "braille")
            curve([p.score_max for p in done], BAND_COLOR, "braille")
        curve([p.train_mean for p in done], hex_to_rgb(TRAIN_GREY), "braille")
        curve([p.score_mean for p in done], VAL_COLOR, "braille")
        finite = [(xi, p.score_mean) for xi, p in zip(x, done) if p.score_mean is not None]
        if finite:
            plt.scatter([a for a, _ in finite], [b for _, b in finite], color=VAL_COLOR, marker="●")
        best = best_index(done)
        if best is not None:
            plt.scatter([x[best]], [done[best].score_mean], color=BEST_COLOR, marker="★")

    def _drawn(self) -> None:
        self.draw_count += 1
        self.refresh()


def _viridis(t: float) -> tuple[int, int, int]:
    t = min(1.0, max(0.0, t)) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    f = t - i
    a, b = VIRIDIS[i], VIRIDIS[i + 1]
    return tuple(round(a[k] + f * (b[k] - a[k])) for k in range(3))  # type: ignore[return-value]


def cell_value(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) >= 1e-3 else f"{value:.1e}"


def heat_map(axes: Sequence[tuple[str, str, Sequence[float]]], points: Sequence[PointStats]) -> Table:
    """Rows: the first knob's values; columns: the second's; a cell: the mean ranking statistic.

    ``axes`` holds (knob key, its symbol, values).  Lower losses are brighter;
    ★ marks the best cell, ``·`` a point not trained yet."""
    (k1, s1, v1), (k2, s2, v2) = axes
    by_knobs = {(p.knobs.get(k1), p.knobs.get(k2)): p for p in points}
    means = [p.score_mean for p in points if p.score_mean is not None]
    lo, hi = (min(means), max(means)) if means else (0.0, 1.0)
    best = best_index(points)
    best_point = points[best] if best is not None else None
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    table.add_column(f"{s1} \\ {s2}", justify="right", style="bold", no_wrap=True)
    for value in v2:
        table.add_column(f"{value:g}", justify="center", no_wrap=True, min_width=CELL)
    for a in v1:
        row: list[Text | str] = [f"{a:g}"]
        for b in v2:
            p = by_knobs.get((a, b))
            if p is None:
                row.append(Text("·", style="dim"))
            elif p.score_mean is None:
                row.append(Text("✗", style="bold red"))
            else:
                r, g, bl = _viridis(1 - (p.score_mean - lo) / (hi - lo) if hi > lo else 1.0)
                fg = "black" if 0.299 * r + 0.587 * g + 0.114 * bl > 140 else "white"
                star = "★" if p is best_point else ""
                row.append(Text(f"{star}{cell_value(p.score_mean)}".center(CELL), style=f"bold {fg} on rgb({r},{g},{bl})"))
        table.add_row(*row)
    return table
