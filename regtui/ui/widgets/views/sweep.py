"""The sweep view (``k``): how strong should λ or p be?

``SweepView`` sits beside the config panel (whose Sweep section defines the
grid) in place of the loss charts.  ``start(experiment, control)`` shows a
new sweep; the lab's ``RunSession`` trains it (``sweep_runner.sweep`` in a
thread worker that posts its messages to this view); each training's points
arrive as ``SweepPointsFinished`` and are drawn at once: one knob as
``SweepChart`` (the U-curve), two as a heat map, with a table of every point
under it.  ``RunStarted`` / ``SweepProgressed`` /
``RunFinished`` / ``RunFailed`` bubble on to the lab screen, which runs the
status line and the run state as for a plain run.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from regtui.core.config import Experiment, SweepAxis
from regtui.core.ranking import label as stat_label
from regtui.ui.plotting.colors import TRAIN_GREY, color_hex
from regtui.ui.widgets.config.sweep_editor import KNOB_SYMBOL, knob_of
from regtui.core.numbers import fixed_width
from regtui.ui.widgets.sweep_chart import PointStats, SweepChart, best_index, heat_map
from regtui.ui.worker.messages import RunFinished, RunStarted, SweepPointsFinished
from regtui.ui.worker.runner import RunControl

HINT = ("No sweep defined. In the config panel's Sweep section pick a variant and a knob "
        "(λ, η, p, pᵢₙ, or n train), type values such as 0, 1e-4, 1e-3, 1e-2, then press r here.")


def symbol(axis: SweepAxis) -> str:
    return KNOB_SYMBOL.get(knob_of(axis), axis.field)


def describe(experiment: Experiment) -> str:
    """``λ of L2 over 0, 1e-4, 1e-3 · 3 seeds · 100 epochs``."""
    parts = []
    for axis in experiment.sweep:
        where = f" of {axis.variant}" if axis.variant else ""
        parts.append(f"{symbol(axis)}{where}: {', '.join(f'{v:g}' for v in axis.values)}")
    seeds = experiment.train.seeds
    return " × ".join(parts) + f" · {seeds} seed{'s' if seeds > 1 else ''} · {experiment.train.epochs} epochs"


def headline(experiment: Experiment) -> Text:
    """The running sweep in a line or two: knobs, points, epochs, what the curves mean."""
    points = 1
    for axis in experiment.sweep:
        points *= len(axis.values)
    knobs = " × ".join(symbol(a) for a in experiment.sweep)
    variant = next((a.variant for a in experiment.sweep if a.variant), experiment.variants[0].name)  # as plan() does
    knobs += f" of {variant}" if variant else ""
    seeds = experiment.train.seeds
    spread = f"mean, band = min–max over {seeds} seeds" if seeds > 1 else "1 seed"
    if len(experiment.sweep) == 2:
        spread = f"mean over {seeds} seeds" if seeds > 1 else "1 seed"
    return Text.assemble(("sweep ", "bold"), f"{knobs} · {points} points · {experiment.train.epochs} epochs · ",
                         (spread, "bold"))


class SweepView(Vertical):
    """The sweep's definition, progress and results."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-empty")  # no sweep yet: set here, not restyled at mount
        self.experiment: Experiment | None = None
        """The sweep on screen (None before the first one)."""
        self.run_id = 0
        self.started = False
        """Whether the sweep on screen got past loading torch and the data."""
        self.finished = False
        self.points: list[PointStats] = []
        self.raw_points: list[Any] = []
        """The ``SweepPoint`` of the sweep on screen (the tour's check reads them)."""
        self.rank_by: str | None = None
        """The ranking of the points and the ★ (``end`` / ``best``); None: the sweep's ``train.rank_by``."""
        self._definition: str | Text | None = HINT
        """What the header says while no sweep is on screen (None: it shows a sweep's headline)."""

    @property
    def ranking(self) -> str:
        """The ranking in force: ``rank_by``, else the sweep's ``train.rank_by``."""
        return self.rank_by or (self.experiment.train.rank_by if self.experiment is not None else "end")

    def set_rank_by(self, rank_by: str | None) -> None:
        """Rank the points by ``end`` or ``best`` (None: the sweep's ``train.rank_by``): the
        U-curve or heat map, the ★ and the "best" line follow."""
        self.rank_by = rank_by
        self.points = [PointStats.of(p, rank_by) for p in self.raw_points]
        self.redraw()

    def compose(self) -> ComposeResult:
        yield Static(HINT, id="sweep-header")
        yield Static(id="sweep-legend")
        yield SweepChart(id="sweep-chart")
        yield Static(id="sweep-heat")
        yield Static(id="sweep-best")
        yield DataTable(id="sweep-points", cursor_type="none", show_cursor=False)

    # ------------------------------------------------------------------ public

    def reset(self) -> None:
        """Forget the sweep on screen (another preset was opened): back to its definition."""
        self.experiment, self.points, self.raw_points = None, [], []
        self.started = self.finished = False
        self.set_class(True, "-empty")
        self.set_class(False, "-grid")
        self.query_one("#sweep-points", DataTable).clear(columns=True)
        self.query_one("#sweep-best", Static).update("")
        self.query_one("#sweep-heat", Static).update("")

    def show_definition(self, experiment: Experiment | None) -> None:
        """Before the first sweep: what ``r`` would run (the config panel's Sweep section)."""
        if self.experiment is not None:
            return
        if experiment is None:
            definition = Text("fix the config first (the red fields)", style="red")
        elif not experiment.sweep:
            definition = HINT
        else:
            definition = Text.assemble(("sweep ", "bold"), describe(experiment), ("  r runs it", "dim"))
        if definition != self._definition:  # the lab asks at every config change
            self._definition = definition
            self.query_one("#sweep-header", Static).update(definition)

    def start(self, experiment: Experiment, control: RunControl) -> None:
        """Show an empty sweep of ``experiment``, trained under ``control`` (the lab's
        ``RunSession`` starts the worker, which posts its messages here)."""
        self.experiment, self.run_id = experiment, control.run_id
        self.started = self.finished = False
        self.points = []
        self.raw_points = []
        self._definition = None
        self.query_one("#sweep-header", Static).update(headline(experiment))
        self.set_class(False, "-empty")
        self.set_class(len(experiment.sweep) == 2, "-grid")
        table = self.query_one("#sweep-points", DataTable)
        table.clear(columns=True)
        for axis in experiment.sweep:
            table.add_column(symbol(axis), key=axis.key)
        for key, label in (("best", stat_label(self.ranking)), ("train", "train"), ("status", "status")):
            table.add_column(label, key=key)
        self.redraw()

    # ------------------------------------------------------------------ messages (they go on to the App)

    def on_run_started(self, message: RunStarted) -> None:
        if message.run_id == self.run_id:
            self.started = True

    def on_sweep_points_finished(self, message: SweepPointsFinished) -> None:
        message.stop()
        if message.run_id == self.run_id:
            self.points.extend(PointStats.of(p, self.rank_by) for p in message.points)
            self.raw_points.extend(message.points)
            self.redraw()

    def on_run_finished(self, message: RunFinished) -> None:
        if message.run_id == self.run_id:
            self.finished = True
            self.redraw()

    # ------------------------------------------------------------------ drawing

    @property
    def best(self) -> PointStats | None:
        index = best_index(self.points)
        return None if index is None else self.points[index]

    def redraw(self) -> None:
        exp = self.experiment
        if exp is None:
            return
        axes = exp.sweep
        legend = Text()
        stat = stat_label(self.ranking)
        table = self.query_one("#sweep-points", DataTable)
        if "best" in table.columns and str(table.columns["best"].label) != stat:  # type: ignore[comparison-overlap]
            table.columns["best"].label = Text(stat)  # type: ignore[index]
            table.columns["best"].content_width = max(table.columns["best"].content_width, len(stat))  # type: ignore[index]
            table.refresh()
        if len(axes) == 1:
            legend.append(f"● {stat} loss  ", style=color_hex(0))
            legend.append("■ final train loss", style=TRAIN_GREY)
            legend.append("  ★ best", style=color_hex(1))
            self.query_one(SweepChart).set_points(axes[0].key, axes[0].values, self.points)
        else:
            legend.append(f"cell: {stat} loss · brighter = lower · ★ best")
            grid = [(a.key, symbol(a), a.values) for a in axes]
            self.query_one("#sweep-heat", Static).update(heat_map(grid, self.points))
        self.query_one("#sweep-legend", Static).update(legend)
        self._best_line(axes)
        self._table(axes)

    def _best_line(self, axes: Sequence[SweepAxis]) -> None:
        total = 1
        for axis in axes:
            total *= len(axis.values)
        best = self.best
        out = Text()
        if best is not None:
            knobs = ", ".join(f"{symbol(a)} = {best.knobs[a.key]:g}" for a in axes)
            std = f"±{fixed_width(best.score_std, 5)}" if best.score_std is not None else ""
            out.append(f"★ {knobs}", style="bold")
            stat = stat_label(self.ranking)
            out.append(f": {stat} {fixed_width(best.score_mean)}{std} · train {fixed_width(best.train_mean)}")
        if len(self.points) < total:
            state = "stopped: " if self.finished else ""
            note = "" if self.finished else " (they appear as each training ends)"
            out.append(f"  {state}{len(self.points)}/{total} points{note}", style="dim")
        self.query_one("#sweep-best", Static).update(out)

    def _table(self, axes: Sequence[SweepAxis]) -> None:
        table = self.query_one("#sweep-points", DataTable)
        table.clear()
        best = self.best
        for p in self.points:
            std = f"±{fixed_width(p.score_std, 5)}" if p.score_std is not None else ""
            mark = "★ " if p is best else ""
            cells: list[str | Text] = [f"{mark}{p.knobs[a.key]:g}" for a in axes]
            cells += [f"{fixed_width(p.score_mean)}{std}", fixed_width(p.train_mean),
                      Text(p.status, style="green" if p.status == "finished" else "yellow")]
            table.add_row(*cells, key=str(len(table.rows)))
