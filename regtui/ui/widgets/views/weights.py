"""The weights view (``w``): each variant's weight distribution and its weight
norm over the epochs, the picture of L2's shrinkage.

``WeightBars`` draws one variant's histogram of all weight-matrix entries
(``WeightHistogram`` from ``regtui.core.insight``, computed in the worker) as
block-character bars; every variant uses the same bins *and* the same height
scale, so the shapes compare at a glance.  Below, a ``LossChart`` overlays
``‖w‖`` of every variant against epochs or seconds (``t``).  Imports no torch.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.strip import Strip
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from regtui.core.results import RunHistory
from regtui.ui.plotting.colors import color_hex, color_rgb
from regtui.ui.plotting.curve_view import CurveView
from regtui.core.numbers import fixed_width
from regtui.ui.widgets.loss_charts import MIN_REDRAW_INTERVAL, REDRAW_TICK, LossChart, Series, shorten
from regtui.ui.widgets.row_grid import fill_row_grid

BLOCKS = " ▁▂▃▄▅▆▇█"
MAX_COLUMNS = 4


def bar_rows(counts: np.ndarray, peak: float, width: int, height: int) -> list[str]:
    """``height`` text rows (top first) of ``counts`` as bars, resampled to ``width`` columns."""
    if width < 1 or height < 1 or counts.size == 0:
        return []
    bins = np.minimum(((np.arange(width) + 0.5) * counts.size / width).astype(int), counts.size - 1)
    eighths = np.round(counts[bins] / max(peak, 1e-12) * height * 8).astype(int)
    eighths[(counts[bins] > 0) & (eighths == 0)] = 1  # a non-empty bin always shows
    rows = []
    for r in range(height):
        floor = (height - 1 - r) * 8
        rows.append("".join(BLOCKS[int(np.clip(e - floor, 0, 8))] for e in eighths))
    return rows


class WeightBars(Widget):
    """One variant's histogram; the last line is the shared x-axis."""

    def __init__(self, index: int, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.index = index
        self.counts: np.ndarray | None = None
        self.peak = 1.0
        self.bound = 0.0

    def set_counts(self, counts: np.ndarray, peak: float, bound: float) -> None:
        self.counts, self.peak, self.bound = counts, peak, bound
        self.refresh()

    def lines(self) -> list[str]:
        """What the widget shows, bars then axis (tests read this)."""
        width, height = self.size.width, self.size.height
        if self.counts is None or height < 2:
            return []
        left, right = f"-{self.bound:.2g}", f"+{self.bound:.2g}"
        axis = list(left.ljust(width)[:width])
        mid = width // 2
        if len(left) < mid < width - len(right):
            axis[mid] = "0"
        axis = "".join(axis)[: max(0, width - len(right))] + right
        return bar_rows(self.counts, self.peak, width, height - 1) + [axis[-width:]]

    def render_line(self, y: int) -> Strip:
        lines = self.lines()
        if y >= len(lines):
            return Strip.blank(self.size.width)
        style = Style(color=color_hex(self.index)) if y < len(lines) - 1 else Style(dim=True)
        return Strip([Segment(lines[y], style)], len(lines[y]))


class WeightsView(Vertical):
    """Histograms side by side, the weight-norm chart under them.

    The lab mounts it when ``w`` first shows it: until then it only keeps what it was
    handed (the variants, the run shown, the latest histograms), and draws that when
    mounted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self._shown: tuple[RunHistory, CurveView] | None = None
        """The last history and view shown (the titles are refitted after a resize)."""
        self.wish: Any = None
        """The lab's ``session.InsightAsk``; told the bins while visible."""
        self.edges: np.ndarray | None = None
        self.epoch: int | None = None
        self._histogram: tuple[int, Any] | None = None
        """The latest ``show_histogram`` arguments (drawn again when the view is mounted)."""
        self._ready = False
        """Whether the grid of bars is mounted (until then the view only keeps what it is handed)."""

    def compose(self) -> ComposeResult:
        yield Static(id="weights-legend")
        yield Grid(id="weights-grid")
        yield LossChart("weight norm ‖w‖ (all weight matrices)", id="weights-norm")

    async def on_mount(self) -> None:
        self.set_interval(REDRAW_TICK, self.redraw)
        names = None
        while names != self.names:  # again if set_variants came while the cells were mounting
            names = self.names
            await self._fill_grid()  # the bars exist before the latest counts are drawn in them
        self._ready = True
        if self._shown is not None:
            self.show(*self._shown)
        if self._histogram is not None:
            self.show_histogram(*self._histogram)
        self._update_legend()

    def set_variants(self, names: Sequence[str]) -> None:
        names = tuple(names)
        if names == self.names:
            return
        self.names, self.edges, self.epoch, self._histogram = names, None, None, None
        if self._ready:
            self._fill_grid()
            self.norm_chart.set_series(())
            self._update_legend()

    def _fill_grid(self) -> AwaitMount:
        return fill_row_grid(self.query_one("#weights-grid", Grid),
                             [Vertical(Static(Text(n, style=f"bold {color_hex(i)}"), classes="bars-title"),
                                       WeightBars(i, classes="bars"), classes="bars-cell")
                              for i, n in enumerate(self.names)], MAX_COLUMNS)

    @property
    def norm_chart(self) -> LossChart:
        return self.query_one("#weights-norm", LossChart)

    def bars(self) -> list[WeightBars]:
        return list(self.query(WeightBars).results(WeightBars))

    def set_visible(self, visible: bool) -> None:
        self.display = visible
        self._tell_wish()

    def on_resize(self) -> None:
        self._tell_wish()  # the bars' width is the bins to ask the worker for
        if self._shown is not None:  # the titles are fitted to their width
            self.call_after_refresh(self.show, *self._shown)

    def _tell_wish(self) -> None:
        if self.wish is not None:
            widths = [b.size.width for b in self.bars() if b.size.width > 0]
            self.wish.bins = max(9, min(widths)) if (self.display and widths) else (25 if self.display else None)

    def show_histogram(self, epoch: int, histogram: Any | None) -> None:
        """Draw a worker's ``WeightHistogram`` (``[V, bins]``, same edges for all)."""
        if histogram is None:
            return
        self.epoch, self.edges = epoch, histogram.edges
        self._histogram = (epoch, histogram)
        if not self._ready:
            return
        peak = float(histogram.counts.max(initial=1))
        bound = float(histogram.edges[-1])
        for i, bars in enumerate(self.bars()):
            if i < histogram.counts.shape[0]:
                bars.set_counts(histogram.counts[i], peak, bound)
        self._update_legend()
        self.call_after_refresh(self._tell_wish)

    def show(self, history: RunHistory, view: CurveView) -> None:
        """The norm curves and the titles' last ‖w‖ (cheap: no drawing)."""
        self._shown = (history, view)
        if not self._ready:
            return
        series = [Series(view.x(h), h.series("weight_norm"), color_rgb(i)) for i, h in enumerate(history.variants)]
        self.norm_chart.set_series(series)
        self.norm_chart.x_unit = view.x_axis
        for i, title in enumerate(self.query(".bars-title").results(Static)):
            if i < len(history.variants):
                norm = f" ‖w‖ {fixed_width(history.variants[i].last('weight_norm'))}"
                room = title.content_region.width or len(history.variants[i].name) + len(norm)
                text = Text(shorten(history.variants[i].name, room - len(norm)), style=f"bold {color_hex(i)}")
                text.append(norm)  # the number whole; the name gives way, marked with …
                title.update(text, layout=False)  # one line high: no layout of the whole screen per refresh

    def redraw(self, force: bool = False) -> None:
        chart = self.norm_chart
        if (self.display and chart.dirty and chart.size.area > 0
                and (force or time.monotonic() - chart.last_drawn >= MIN_REDRAW_INTERVAL)):
            chart.replot()

    def _update_legend(self) -> None:
        legend = Text("weights ", style="bold")
        legend.append("every weight-matrix entry; same bins and scale for all")
        if self.epoch is not None:
            legend.append(f" · epoch {self.epoch}")
        self.query_one("#weights-legend", Static).update(legend)
