"""Loss charts: ``LossChart`` (a textual-plotext ``PlotextPlot``) and ``ChartsPane``.

Two views, switched by the app: *per variant* (a grid with one chart per
variant, its train loss in grey and validation loss in the variant's colour)
and *overlay* (validation loss of all variants on one chart, training loss on
another).  Charts only store numpy series and a ``dirty`` flag; the pane's
timer redraws at most one dirty, visible chart per tick and each chart a few
times a second at most (PERFORMANCE.md).  Series are downsampled to the
chart's width (``downsample``) and cleaned of NaN/inf before plotext sees
them.  The log y-axis is drawn by plotting log10(y) on a linear axis with
labelled ticks: plotext 5 takes the logarithm of its stored data again on
every build (piccolomo/plotext#209), which breaks on each re-render.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from regtui.core.results import RunHistory
from regtui.core.run_types import RunStatus
from regtui.ui.plotting.bands import seed_band, seed_count
from regtui.ui.plotting.colors import TRAIN_GREY, color_hex, color_rgb, hex_to_rgb
from regtui.ui.plotting.curve_view import CurveView
from regtui.ui.plotting.downsample import downsample
from regtui.ui.plotting.ghost import ghost_curves
from regtui.ui.plotting.ticks import BIG_Y, epoch_ticks, log_ticks, nice_ticks, short_ticks
from regtui.ui.widgets.row_grid import grid_columns

REDRAW_TICK = 0.1
"""Seconds between two scheduler ticks; one chart is redrawn per tick."""
MIN_REDRAW_INTERVAL = 0.5
"""A chart is redrawn at most this often (seconds)."""
Y_AXIS_CELLS = 8
"""Columns plotext uses for the y tick labels (used to size the downsampling)."""


@dataclass(frozen=True)
class Series:
    """One curve: x (epochs), y (loss) and its colour."""

    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int]


class LossChart(PlotextPlot):
    """One loss chart; ``replot()`` draws its stored series."""

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.note = ""
        self.series: tuple[Series, ...] = ()
        self._signature: object = None
        self.log_y = False
        self.x_unit = "epochs"
        """epochs or seconds (``t``); seconds get fractional ticks."""
        self.dirty = True
        self.last_drawn = 0.0
        self.draw_count = 0

    def set_series(self, series: Iterable[Series], note: str = "") -> None:
        """Store new series; the chart becomes dirty only if something changed."""
        series = tuple(series)
        signature = (note, tuple((s.x.size, _last(s.y), s.color) for s in series))
        if signature != self._signature:
            self._signature = signature
            self.series = series
            self.note = note
            self.dirty = True

    def set_log(self, log_y: bool) -> None:
        if log_y != self.log_y:
            self.log_y = log_y
            self.dirty = True

    def on_resize(self) -> None:
        self.dirty = True  # the downsampling depends on the width

    def points(self) -> list[tuple[np.ndarray, np.ndarray, tuple[int, int, int]]]:
        """What ``replot`` hands plotext: finite, downsampled, log10 if asked."""
        columns = max(8, 2 * (self.size.width - Y_AXIS_CELLS))  # braille: 2 dots per cell
        out = []
        for s in self.series:
            x, y = downsample(s.x, s.y, columns)
            if self.log_y:
                keep = y > 0
                x, y = x[keep], np.log10(y[keep])
            if x.size:
                out.append((x, y, s.color))
        return out

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        title = f"{self.title} {self.note}".strip()
        plt.title(title)
        drawn = self.points()
        for x, y, color in drawn:
            plt.plot(x.tolist(), y.tolist(), color=color, marker="braille")
        if not drawn:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            return self._drawn()
        x_hi = max(float(x.max()) for x, _, _ in drawn)
        wanted = max(2, (self.size.width - Y_AXIS_CELLS) // 8)
        plt.xticks(epoch_ticks(x_hi, wanted)) if self.x_unit == "epochs" else plt.xticks(*nice_ticks(x_hi, wanted))
        lo, hi = min(float(y.min()) for _, y, _ in drawn), max(float(y.max()) for _, y, _ in drawn)
        if self.log_y:
            ticks = log_ticks(lo, hi)
            plt.yticks(ticks, [f"{10 ** t:.2g}" for t in ticks])
        elif max(abs(lo), abs(hi)) >= BIG_Y:  # a blow-up: labels like 69668298752.0 squeeze out plot and title
            plt.yticks(*short_ticks(lo, hi))
        self._drawn()

    def _drawn(self) -> None:
        self.dirty = False
        self.last_drawn = time.monotonic()
        self.draw_count += 1
        self.refresh()


def _last(y: np.ndarray) -> float | str | None:
    """The last value, comparable even when it is NaN."""
    if not y.size:
        return None
    value = float(y[-1])
    return value if value == value else "nan"


class ChartsPane(Vertical):
    """Both chart views and the scheduler that spreads their redraws over ticks."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.overlay = False
        self.log_y = False
        self.names: tuple[str, ...] = ()
        self.ghost: RunHistory | None = None
        """A past run drawn dimmed under the live curves (``regtui.ui.plotting.ghost``)."""
        self.ghost_label = ""
        self.shown: RunHistory | None = None
        self.curve_view = CurveView()
        self.seeds = 1
        """Seeds per variant of the run shown: with more than one, mean curves with a band."""
        """Metric, smoothing and x-axis of every chart (``regtui.ui.plotting.smoothing``)."""

    def compose(self) -> ComposeResult:
        yield Static(id="chart-legend")
        yield Grid(id="per-variant")
        with Horizontal(id="overlay"):
            yield LossChart("validation loss", id="overlay-val")
            yield LossChart("training loss", id="overlay-train")

    def on_mount(self) -> None:
        self.set_interval(REDRAW_TICK, self.redraw_next)
        self._update_legend()

    # ------------------------------------------------------------------ state

    def set_variants(self, names: Sequence[str]) -> None:
        """One chart per variant (a new run or a newly loaded preset)."""
        names = tuple(names)
        if names == self.names:
            return
        self.names = names
        grid = self.query_one("#per-variant", Grid)
        grid.remove_children()
        cols = grid_columns(len(names))
        grid.styles.grid_size_columns = cols
        grid.styles.grid_size_rows = -(-len(names) // cols)
        charts = [LossChart(name, classes="variant-chart") for name in names]
        for chart in charts:
            chart.set_log(self.log_y)
        grid.mount(*charts)
        for chart in self.query("#overlay LossChart").results(LossChart):
            chart.set_series(())
        self._update_legend()

    def set_overlay(self, overlay: bool) -> None:
        self.overlay = overlay
        self.set_class(overlay, "-overlay")
        self._update_legend()

    def set_curve_view(self, view: CurveView) -> None:
        """Plot another metric, smoothing or x-axis (``show`` hands the new series)."""
        self.curve_view = view
        self.set_class(view.metric == "gap", "-single")
        for chart in self.charts():
            chart.x_unit, chart._signature = view.x_axis, None
        self.query_one("#overlay-val", LossChart).title, self.query_one("#overlay-train", LossChart).title = view.titles
        self._update_legend()

    def set_log(self, log_y: bool) -> None:
        self.log_y = log_y
        for chart in self.charts():
            chart.set_log(log_y)
        self._update_legend()

    def set_ghost(self, ghost: RunHistory | None, label: str = "") -> None:
        """Draw ``ghost`` (a past run) dimmed under the curves, or no ghost (None)."""
        self.ghost, self.ghost_label = ghost, label if ghost is not None else ""
        self._update_legend()
        if self.shown is not None:
            self.show(self.shown)

    def show(self, history: RunHistory) -> None:
        """Hand every chart its series from ``history`` (cheap: views, no drawing)."""
        self.shown = history
        if seed_count(history) != self.seeds:
            self.seeds = seed_count(history)
            self._update_legend()
        ghost = lambda name, metric, i: tuple(Series(*c) for c in ghost_curves(self.ghost, name, metric, i))  # noqa: E731
        per_variant = list(self.query_one("#per-variant", Grid).query(LossChart).results(LossChart))
        grey = hex_to_rgb(TRAIN_GREY)
        view = self.curve_view
        train_col, val_col = view.columns
        val_series, train_series = [], []
        band = lambda hist, col, i: tuple(Series(*c) for c in seed_band(hist, view, col, color_rgb(i)))  # noqa: E731
        for i, hist in enumerate(history.variants):
            x = view.x(hist)
            train = (Series(x, view.y(hist, train_col), color_rgb(i)),) if train_col else ()
            val = view.y(hist, val_col)
            color = color_rgb(i)
            val_series[:0] = ghost(hist.name, val_col, i) + band(hist, val_col, i)
            train_series[:0] = (ghost(hist.name, train_col, i) if train_col else ()) + band(hist, train_col, i)
            val_series.append(Series(x, val, color))
            train_series.extend(train)
            if i < len(per_variant):
                note = " ".join(n for n in (view.note, "✗ diverged" if hist.status_label == RunStatus.DIVERGED else "") if n)
                per_variant[i].set_series(ghost(hist.name, val_col, i) + band(hist, val_col, i) + tuple(Series(t.x, t.y, grey) for t in train)
                                          + (Series(x, val, color),), note)
        self.query_one("#overlay-val", LossChart).set_series(val_series)
        self.query_one("#overlay-train", LossChart).set_series(train_series)

    # ------------------------------------------------------------------ drawing

    def charts(self) -> list[LossChart]:
        return list(self.query(LossChart).results(LossChart))

    def visible_charts(self) -> list[LossChart]:
        selector = "#overlay LossChart" if self.overlay else "#per-variant LossChart"
        return list(self.query(selector).results(LossChart))

    @property
    def pending(self) -> bool:
        """Whether a visible chart still waits for a redraw."""
        return any(c.dirty for c in self.visible_charts())

    def redraw_next(self, force: bool = False) -> LossChart | None:
        """Redraw the visible dirty chart that waited longest (one per tick)."""
        now = time.monotonic()
        ready = [c for c in self.visible_charts()
                 if c.dirty and c.size.area > 0 and (force or now - c.last_drawn >= MIN_REDRAW_INTERVAL)]
        if not ready:
            return None
        chart = min(ready, key=lambda c: c.last_drawn)
        chart.replot()
        return chart

    def _update_legend(self) -> None:
        legend = Text(f"{self.curve_view.header()} │ " if self.curve_view.header() else "", style="bold")
        if self.seeds > 1:  # the band and the seeds come first: a narrow legend wraps to a second line
            legend.append(f"mean, band = min–max over {self.seeds} seeds │ ")
        self.set_class(self.seeds > 1, "-seeds")
        if self.overlay:
            for i, name in enumerate(self.names):
                legend.append("■ ", style=color_hex(i))
                legend.append(f"{name}  ")
        else:
            val_name, train_name = self.curve_view.legend()
            legend.append(f"■ {val_name}", style="bold")
            legend.append(" (variant colour)  ")
            legend.append(f"■ {train_name}" if train_name else "", style=TRAIN_GREY)
        if self.log_y:
            legend.append("  · log y")
        if self.ghost_label:
            legend.append(f"  ░ {self.ghost_label}", style="dim")
        self.query_one("#chart-legend", Static).update(legend)
