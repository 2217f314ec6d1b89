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
from typing import Any, Iterable, Sequence

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from regtui.core.numbers import fixed_width
from regtui.core.results import RunHistory
from regtui.core.run_types import RunStatus
from regtui.ui.plotting.bands import seed_band, seed_count
from regtui.ui.plotting.colors import TRAIN_GREY, color_hex, color_rgb, hex_to_rgb
from regtui.ui.plotting.curve_view import CurveView
from regtui.ui.plotting.downsample import downsample
from regtui.ui.plotting.ghost import ghost_curves
from regtui.ui.plotting.ticks import BIG_Y, epoch_ticks, log_ticks, nice_ticks, short_ticks
from regtui.ui.plotting.y_range import YRange, off_scale, off_scale_note, y_range
from regtui.ui.widgets.row_grid import grid_columns

REDRAW_TICK = 0.1
"""Seconds between two scheduler ticks; one chart is redrawn per tick."""
MIN_REDRAW_INTERVAL = 0.5
"""A chart is redrawn at most this often (seconds)."""
Y_AXIS_CELLS = 8
"""Columns plotext uses for the y tick labels (used to size the downsampling)."""
TITLE_MARGIN = 7
"""Cells of a chart's width a title cannot use: plotext centres it over the plot and
drops it when its right half would not fit beside the y tick labels (``0.669┤``)."""
CURSOR_RGB = (235, 235, 235)
"""The keyboard cursor's vertical line."""
BRANCH_RGB = (230, 160, 40)
"""The vertical line where the run on screen branched from its parent (``f``)."""


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
        self.hidden_by_log = False
        """Whether the log y-axis left out values ≤ 0 (a negative gap): the title says so."""
        self.marker: float | None = None
        """x of the keyboard cursor's vertical line (``CurveView.cursor``), or None."""
        self.x_range: tuple[float, float] | None = None
        """The x-range of a zoom, or None for the series' own range."""
        self.branch: float | None = None
        """x of the branch point's vertical line, or None."""
        self.y_range: tuple[float, float] | None = None
        """The y-axis range in drawn units (log10 on a log axis), or None for the series' own."""
        self.off_note: tuple[str, str] = ("", "")
        """What the title says of epoch 0 off-scale, long and short (``epoch 0 off-scale ↑2.30``,
        ``ep0 ↑2.30``); empty when epoch 0 is on the chart."""

    def set_series(self, series: Iterable[Series], note: str = "", *, marker: float | None = None,
                   x_range: tuple[float, float] | None = None, branch: float | None = None,
                   y_range: tuple[float, float] | None = None, off_note: tuple[str, str] = ("", "")) -> None:
        """Store new series; the chart becomes dirty only if something changed."""
        series = tuple(series)
        signature = (note, marker, x_range, branch, y_range, off_note,
                     tuple((s.x.size, _first(s.x), _last(s.y), s.color) for s in series))
        if signature != self._signature:
            self._signature = signature
            self.series = series
            self.note = note
            self.marker, self.x_range, self.branch, self.y_range = marker, x_range, branch, y_range
            self.off_note = off_note
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
        self.hidden_by_log = False
        for s in self.series:
            x, y = downsample(s.x, s.y, columns)
            if self.log_y:
                keep = y > 0
                self.hidden_by_log |= bool((~keep & np.isfinite(y)).any())
                x, y = x[keep], np.log10(y[keep])
            if self.y_range is not None:  # off-scale points a chart-height past the edge at most:
                lo, hi = self.y_range        # plotext draws a line to each point, pixel by pixel, and a
                pad = (hi - lo) or 1.0       # diverged 1e30 would ask it for 1e30 pixels
                y = np.clip(y, lo - pad, hi + pad)
            if x.size:
                out.append((x, y, s.color))
        return out

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        drawn = self.points()
        note = f"{self.note} · ≤0 not on log y" if self.hidden_by_log else self.note  # a negative gap, say
        long, short = self.off_note
        if long:  # the first epochs off-scale: in full where the title has room, never at the name's cost
            room = max(1, self.size.width - TITLE_MARGIN)
            tiny = short.split(" ", 1)[-1]  # ↑2.65
            said = next((w for w in (long, short, tiny) if len(f"{self.title} {note} {w}") <= room), "")
            note = f"{note} {said}".strip()  # none fits: the name and its other notes come first
        plt.title(fit_title(self.title, note.strip(" ·"), self.size.width))
        for x, y, color in drawn:
            plt.plot(x.tolist(), y.tolist(), color=color, marker="braille")
        if not drawn:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            return self._drawn()
        x_lo, x_hi = self.x_range or (0.0, max(float(x.max()) for x, _, _ in drawn))
        if self.x_range is not None:
            plt.xlim(x_lo, x_hi)
        wanted = max(2, (self.size.width - Y_AXIS_CELLS) // 8)
        if self.x_unit == "epochs":
            plt.xticks(epoch_ticks(x_hi, wanted, first=int(x_lo)))
        else:
            plt.xticks(*nice_ticks(x_hi, wanted, first=x_lo))
        lo, hi = min(float(y.min()) for _, y, _ in drawn), max(float(y.max()) for _, y, _ in drawn)
        if self.y_range is not None:  # shared by the grid, or with epoch 0 off-scale
            lo, hi = self.y_range
            if not hi > lo:
                lo, hi = lo - (abs(lo) * 0.05 or 0.05), hi + (abs(hi) * 0.05 or 0.05)
            plt.ylim(lo, hi)
        if self.branch is not None:
            plt.vline(self.branch, BRANCH_RGB)
        if self.marker is not None:
            plt.vline(self.marker, CURSOR_RGB)
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


def fit_title(name: str, note: str, width: int) -> str:
    """``name note`` shortened with ``…`` to what plotext draws: a longer title it
    silently leaves out.  The note (``✗ diverged``, the cursor's value) is kept whole
    while it fits; the name gives way first."""
    room = max(1, width - TITLE_MARGIN)
    title = f"{name} {note}".strip()
    if len(title) <= room:
        return title
    if note and len(note) + 2 <= room:
        return f"{shorten(name, room - len(note) - 1)} {note}"
    return shorten(title, room)


def shorten(text: str, room: int) -> str:
    """``text`` in at most ``room`` cells, cut with a visible ``…``."""
    if len(text) <= room:
        return text
    return text[: room - 1] + "…" if room > 0 else ""


def _first(x: np.ndarray) -> float | None:
    return float(x[0]) if x.size else None


def _last(y: np.ndarray) -> float | str | None:
    """The last value, comparable even when it is NaN."""
    if not y.size:
        return None
    value = float(y[-1])
    return value if value == value else "nan"


def _readout_value(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f}%" if metric == "accuracy" else fixed_width(value, 5)


class ChartsPane(Vertical):
    """Both chart views and the scheduler that spreads their redraws over ticks."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.overlay = False
        self.log_y = False
        self.names: tuple[str, ...] = ()
        self.branch_epoch: int | None = None
        """The run on screen branched after this epoch (``set_branch``), or None."""
        self.ghost: RunHistory | None = None
        """A past run drawn dimmed under the live curves (``regtui.ui.plotting.ghost``)."""
        self.ghost_label = ""
        self.shown: RunHistory | None = None
        self.curve_view = CurveView()
        """Metric, smoothing and x-axis of every chart (``regtui.ui.plotting.curve_view``)."""
        self.seeds = 1
        """Seeds per variant of the run shown: with more than one, mean curves with a band."""
        self.grid_charts: list[LossChart] = []
        """The per-variant grid's charts, in the variants' order."""
        self.shared_y = True
        """One y-range for every chart of the per-variant grid (``y``: each its own)."""
        self.shared_range: YRange | None = None
        """The grid's shared y-range as last computed (drawn units; None when ``shared_y`` is off)."""

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
        """One empty chart per variant (a new run or a newly loaded preset)."""
        names = tuple(names)
        self.shown = None
        if names == self.names:  # the same charts, emptied
            for chart in self.charts():
                chart.set_series(())
            self._update_legend()
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
        self.grid_charts = charts
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
        if self.shown is not None:  # the ranges are in log10 units on a log axis
            self.show(self.shown)

    def set_shared_y(self, shared: bool) -> None:
        """One y-range across the per-variant grid (True, the default) or one per chart."""
        self.shared_y = shared
        self._update_legend()
        if self.shown is not None:
            self.show(self.shown)

    def set_branch(self, epoch: int | None) -> None:
        """Mark the epoch where the run on screen branched (its last epoch shared with
        the parent), or no mark (None)."""
        self.branch_epoch = epoch
        if self.shown is not None:
            self.show(self.shown)

    def _branch_x(self, history: RunHistory, index: int) -> float | None:
        epoch = self.branch_epoch
        if epoch is None or self.curve_view.x_axis == "epochs" or index >= len(history.variants):
            return None if epoch is None else float(epoch)
        seconds = history.variants[index].series("seconds")
        return float(seconds[min(epoch, seconds.size - 1)]) if seconds.size else None

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
        view = self.curve_view
        ghost = lambda name, metric, i: tuple(self._in_window(c) for c in ghost_curves(self.ghost, name, metric, i))  # noqa: E731
        per_variant = self.grid_charts  # not a query: charts of the variants before stay in it until removed
        grey = hex_to_rgb(TRAIN_GREY)
        x_range, marker = self._x_range(history), self._marker(history, 0)
        train_col, val_col = view.columns
        val_series, train_series = [], []
        band = lambda hist, col, i: tuple(Series(*c) for c in seed_band(hist, view, col, color_rgb(i)))  # noqa: E731
        grid: list[tuple[LossChart, tuple[Series, ...], str, bool, int]] = []
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
                diverged = hist.status_label == RunStatus.DIVERGED
                note = " ".join(n for n in (view.note, "✗ diverged" if diverged else "",
                                            self._values_at_cursor(hist)) if n)
                series = (ghost(hist.name, val_col, i) + band(hist, val_col, i)
                          + tuple(Series(t.x, t.y, grey) for t in train) + (Series(x, val, color),))
                grid.append((per_variant[i], self._scaled(series), note, diverged, i))
        # one y-range for the grid, over the variants that did not blow up (a diverged one keeps its own)
        shared = self._range([s for _, series, _, diverged, _ in grid if not diverged for s in series])
        self.shared_range = shared if self.shared_y else None
        for chart, series, note, diverged, i in grid:
            own = shared if self.shared_y and not diverged else self._range(series)
            chart.set_series(series, note, marker=self._marker(history, i), x_range=x_range,
                             branch=self._branch_x(history, i), y_range=self._limits(own),
                             off_note=self._off_note(series, own))
        branch = self._branch_x(history, 0)
        for chart, series in ((self.query_one("#overlay-val", LossChart), self._scaled(val_series)),
                              (self.query_one("#overlay-train", LossChart), self._scaled(train_series))):
            own = self._range(series)
            chart.set_series(series, marker=marker, x_range=x_range, branch=branch, y_range=self._limits(own),
                             off_note=self._off_note(series, own))
        if view.cursor is not None:
            self._update_legend()

    # ------------------------------------------------------------------ y-range

    def _scaled(self, series: Sequence[Series]) -> tuple[Series, ...]:
        """Accuracy in %, as the table shows it (``CurveView.scale``)."""
        k = self.curve_view.scale
        return tuple(series) if k == 1 else tuple(Series(s.x, s.y * k, s.color) for s in series)

    def _drawn_y(self, series: Sequence[Series]) -> list[np.ndarray]:
        """The y values as the charts draw them: log10 on a log axis (≤ 0 left out as NaN)."""
        if not self.log_y:
            return [s.y for s in series]
        with np.errstate(divide="ignore", invalid="ignore"):
            return [np.where(s.y > 0, np.log10(np.where(s.y > 0, s.y, 1.0)), np.nan) for s in series]

    @property
    def _epoch0_shown(self) -> bool:
        """Whether the series start at epoch 0 (no zoom window, or one from epoch 0)."""
        window = self.curve_view.window
        return window is None or window[0] == 0

    def _range(self, series: Sequence[Series]) -> YRange | None:
        return y_range(self._drawn_y(series), epoch0_first=self._epoch0_shown)

    @staticmethod
    def _limits(own: YRange | None) -> tuple[float, float] | None:
        return None if own is None else (own.lo, own.hi)

    def _off_note(self, series: Sequence[Series], own: YRange | None) -> tuple[str, str]:
        """(long, short) words for epoch 0 outside the chart's range (``epoch 0 off-scale ↑2.30``,
        ``ep0 ↑2.30``); empty when it is inside."""
        outside = off_scale(self._drawn_y(series), own) if own is not None and self._epoch0_shown else None
        if outside is None or own is None:
            return "", ""
        above, percent, epochs = outside > own.hi, self.curve_view.metric == "accuracy", max(1, own.off_epochs)
        return (off_scale_note(outside, above, log=self.log_y, percent=percent, epochs=epochs),
                off_scale_note(outside, above, log=self.log_y, percent=percent, short=True, epochs=epochs))

    # ------------------------------------------------------------------ cursor and zoom

    def last_epoch(self) -> int:
        """The last epoch of the run on screen (0 before its first)."""
        return max(0, self.shown.epoch) if self.shown is not None else 0

    def _x_range(self, history: RunHistory) -> tuple[float, float] | None:
        """The zoom window on the x-axis (epochs, or those epochs' seconds)."""
        view = self.curve_view
        if view.window is None:
            return None
        lo, hi = view.span(max(0, history.epoch))
        if view.x_axis == "epochs":
            return float(lo), float(max(hi, lo + 1))
        seconds = history.variants[0].series("seconds") if history.variants else np.empty(0)
        if not seconds.size:
            return None
        pick = lambda e: float(seconds[min(e, seconds.size - 1)])  # noqa: E731
        return pick(lo), max(pick(hi), pick(lo) + 1e-6)

    def _marker(self, history: RunHistory, index: int) -> float | None:
        """Where variant ``index``'s chart draws the cursor line (None: no cursor)."""
        view = self.curve_view
        if view.cursor is None:
            return None
        if view.x_axis == "epochs" or index >= len(history.variants):
            return float(view.cursor)
        seconds = history.variants[index].series("seconds")
        return float(seconds[min(view.cursor, seconds.size - 1)]) if seconds.size else None

    def _in_window(self, curve: tuple[np.ndarray, np.ndarray, tuple[int, int, int]]) -> Series:
        """A ghost's curve (x in epochs) cut to the zoom window."""
        x, y, color = curve
        keep = self.curve_view.shown(x)
        return Series(x[keep], y[keep], color)

    def _values_at_cursor(self, hist: Any) -> str:
        """A per-variant chart's title note while the cursor is on: its validation value there
        (both values are in the readout line; a title has room for one)."""
        view = self.curve_view
        if view.cursor is None:
            return ""
        return f"@{_readout_value(view.at_cursor(hist, view.columns[1]), view.metric)}"  # val: the comparison

    def on_resize(self) -> None:
        self._update_legend()  # the readout, or a legend that leaves out its colour note where narrow

    def readout(self, width: int | None = None) -> Text:
        """The cursor's line: its epoch, then every variant's (train / val) value there, in
        at most two lines of ``width`` cells; an entry is never split, and variants that
        do not fit are counted at the end (``…+2``)."""
        view, history = self.curve_view, self.shown
        if view.cursor is None:
            return Text()
        width = width or max(20, self.size.width - 2)
        train_col, val_col = view.columns
        lines = [Text()]
        lines[0].append(f"▏epoch {view.cursor}", style="bold")
        lines[0].append(f" {view.short} {'val' if train_col is None else 't/v'}", style="dim")
        for i, name in enumerate(self.names):
            hist = history.variants[i] if history is not None and i < len(history.variants) else None
            values = [view.at_cursor(hist, col) if hist is not None else None for col in (train_col, val_col) if col]
            entry = Text("■ ", style=color_hex(i))
            entry.append(f"{name[:8]}{'…' if len(name) > 8 else ''} ")
            entry.append("/".join(_readout_value(v, view.metric) for v in values), style="bold")
            line = lines[-1]
            room = width - (5 if len(lines) == 2 and i < len(self.names) - 1 else 0)  # "  …+N" on the last line
            if line.cell_len + 2 + entry.cell_len <= room:
                line.append("  " if line.cell_len else "")
                line.append_text(entry)
            elif len(lines) == 1 and entry.cell_len <= width:
                lines.append(entry)
            else:
                lines[-1].append(f"  …+{len(self.names) - i}", style="bold yellow")  # cut, and said so
                break
        out = Text("\n").join(lines)
        out.no_wrap = True
        return out

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
        if self.curve_view.cursor is not None:  # the readout takes the legend's place while the cursor is on
            self.set_class(True, "-readout")
            self.query_one("#chart-legend", Static).update(self.readout())
            return
        self.set_class(False, "-readout")
        legend = self._legend(colour_note=True)
        if legend.cell_len > self.size.width - 2 and not self.seeds > 1:  # one line: the modes must show
            legend = self._legend(colour_note=False)
        self.query_one("#chart-legend", Static).update(legend)

    def _legend(self, colour_note: bool) -> Text:
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
            legend.append(" (variant colour)  " if colour_note else "  ")
            legend.append(f"■ {train_name}" if train_name else "", style=TRAIN_GREY)
        if self.log_y:
            legend.append("  · log y")
        if not self.shared_y and not self.overlay:
            legend.append("  · y per chart")
        if self.ghost_label:
            legend.append(f"  ░ ghost: {self.ghost_label} (dimmed, g clears)", style="dim")
        return legend
