"""The lab's App: a router between keys, the config panel, the charts, the table,
the status line and the training worker.

``create_app(experiment, presets_dir)`` builds it (the CLI and the tests use
the same factory).  Handlers stay short: widgets do their own work, the core
does the training (``runner.train`` in a ``@work`` thread that only posts
messages).  Run state becomes CSS classes on the app (``-running``,
``-paused``); sizes become ``-narrow`` / ``-wide`` / ``-short``.
"""

from __future__ import annotations

import itertools
from functools import partial
import time
from typing import Any, Callable, Iterable

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from regtui.core import ranking
from regtui.core.config import Experiment
from regtui.core.results import RunHistory
from regtui.core.text import visible
from regtui.ui import keys
from regtui.ui.mixins.branch_actions import BranchActions
from regtui.ui.mixins.history_actions import HistoryActions
from regtui.ui.widgets.config.panel import ConfigPanel
from regtui.ui.widgets.loss_charts import ChartsPane
from regtui.ui.worker import runner
from regtui.ui.mixins.insight_actions import (
    BoundaryView,
    InsightRouting,
    VerdictPanel,
    WeightsView,
)
from regtui.ui.worker.messages import (
    BatchProgress,
    EpochsEnded,
    RunFailed,
    RunFinished,
    RunMessage,
    RunStarted,
)
from regtui.ui.mixins.preset_actions import PresetActions
from regtui.ui.mixins.tour_actions import TourActions
from regtui.ui.mixins.sweep_actions import SweepActions, SweepView
from regtui.ui.screens.verdict import VerdictScreen
from regtui.ui.widgets.results_table import ResultsTable
from regtui.ui.widgets.status_bar import StatusBar
from regtui.ui.widgets.tour_panel import TourPanel
from regtui.ui.widgets.too_small import CSS_CLASS as TOO_SMALL, TooSmallNotice

ACTIVE = ("starting", "running", "paused")
VIEW_REFRESH = 0.25
"""Seconds between two refreshes of the table and the charts' data."""
QUIT_GRACE = 0.5
"""Seconds ``q`` waits for a training worker to finish its run in the history."""


class RegTuiApp(PresetActions, HistoryActions, BranchActions, TourActions, InsightRouting, SweepActions, App[None]):
    """The regtui lab."""

    CSS_PATH = "regtui.tcss"
    TITLE = "regtui"
    AUTO_FOCUS = "#results"
    BINDINGS = keys.BINDINGS

    def __init__(self, experiment: Experiment, presets_dir: str | None = None,
                 clock: Callable[[], float] = time.monotonic, tour_step: int | None = None,
                 tour_overrides: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.open_tour_at = tour_step
        """``regtui tour``: the step (1…) the lab opens on, or None."""
        self.tour_overrides = tour_overrides
        self.initial = experiment
        self.presets_dir = presets_dir
        self.clock = clock
        self.history: RunHistory | None = None
        self.run_experiment: Experiment | None = None
        self.control: runner.RunControl | None = None
        self.run_state = "idle"
        self.failure = ""
        self._run_ids = itertools.count(1)
        self._views_dirty = False
        self._progress = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ConfigPanel(self.initial, id="config")
            yield TourPanel(id="tour")
            yield ChartsPane(id="charts")
            yield SweepView(id="sweep")
        yield BoundaryView(id="boundary")
        yield WeightsView(id="weights")
        yield ResultsTable(id="results")
        yield VerdictPanel(id="verdict")
        yield StatusBar(self.clock, id="status")
        yield Footer(compact=True)
        yield TooSmallNotice(id="too-small")

    def on_mount(self) -> None:
        names = [v.name for v in self.initial.variants]
        self.charts.set_variants(names)
        self.table.set_variants(names, self.initial.train.rank_by)
        self.insight_setup(names)
        self.status.epochs = self.initial.train.epochs
        self.set_interval(VIEW_REFRESH, self.refresh_views)
        self._update_note()
        from regtui.ui import unsaved

        kept = unsaved.notice(self.presets_dir)
        if kept is not None:
            self.notify(kept, timeout=12)
        if self.open_tour_at is not None:
            self.call_after_refresh(self.tour_go, self.open_tour_at - 1)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < 100, "-narrow")
        self.set_class(event.size.width >= 160, "-wide")
        self.set_class(event.size.height < 30, "-short")
        self.set_class(self.query_one(TooSmallNotice).fit(event.size), TOO_SMALL)

    # ------------------------------------------------------------------ parts

    @property
    def panel(self) -> ConfigPanel:
        return self.query_one(ConfigPanel)

    @property
    def charts(self) -> ChartsPane:
        return self.query_one(ChartsPane)

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def _set_state(self, state: str) -> None:
        self.run_state = state
        self.set_class(state in ACTIVE, "-running")
        self.set_class(state == "paused", "-paused")
        self.refresh_bindings()
        self._update_note()

    def _current(self, message: RunMessage) -> bool:
        """Whether a worker message belongs to the run on screen."""
        return self.control is not None and message.run_id == self.control.run_id

    def _update_note(self) -> None:
        errors = self.panel.error_messages()
        if self.failure:
            self.status.set_note(self.failure, "bold red")
        elif errors:
            self.status.set_note(f"config: {len(errors)} invalid field(s): fix them to run", "red")
        elif self.branch_status():
            self.status.set_note(self.branch_status(), "yellow")
        elif self.run_experiment is not None and self.panel.experiment != self.run_experiment:
            hint = ", f branches with it" if self.run_state in ("running", "paused") else ""
            self.status.set_note(f"config changed: r restarts with it{hint}", "yellow")
        elif self.run_state == "starting":
            self.status.set_note("loading torch and the data…", "dim")
        elif self.run_state == "idle":
            self.status.set_note("r run · ? help")
        else:
            self.status.set_note("")

    def refresh_views(self) -> None:
        """Push new numbers to the table and the charts (the charts draw on their own timer)."""
        if self._views_dirty and self.history is not None:
            self._views_dirty = False
            self.status.progress(max(0, self.history.epoch), self._progress)
            self.table.show(self.history)
            self.charts.show(self.history)
            self.insight_refresh(self.history, final=self.run_state not in ACTIVE)

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """Notifications carry user text (values, names, paths): plain unless asked for
        markup, with control characters made visible (``regtui.core.text.visible``)."""
        super().notify(message if markup else visible(message), markup=markup, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "stop"):
            return True if self.run_state in ACTIVE else None
        if action in ("tour_next", "tour_previous"):
            return self.in_tour
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for action, title, help_text in keys.PALETTE:  # run_action: some take arguments, cursor('left')
            yield SystemCommand(title, help_text, partial(self.run_action, action))
        for action, title, help_text in getattr(screen, "PALETTE", ()):  # a dialog's own actions
            yield SystemCommand(title, help_text, getattr(screen, f"action_{action}"))

    # ------------------------------------------------------------------ the run

    def start_run(self, experiment: Experiment) -> None:
        if self.control is not None:
            self.control.request_stop()
        self.control = runner.RunControl(next(self._run_ids))
        self.history = RunHistory(experiment)
        self.run_experiment = experiment
        self.failure = ""
        self.branch_reset()
        names = [v.name for v in experiment.variants]
        self.charts.set_variants(names)
        self.table.set_variants(names, experiment.train.rank_by)
        self.status.starting(experiment.train.epochs)
        self._progress = 0.0
        self._set_state("starting")
        self._views_dirty = True
        self.control.insight = self.insight_wish.request
        self.insight_variants(names)
        self._train(experiment, self.control)

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def _train(self, experiment: Experiment, control: runner.RunControl) -> None:
        worker = get_current_worker()
        runner.train(self.post_message, experiment, control, lambda: worker.is_cancelled)

    def on_run_started(self, message: RunStarted) -> None:
        if self._current(message) and self.run_state == "starting":
            self.status.running()
            self._set_state("running")

    def on_epochs_ended(self, message: EpochsEnded) -> None:
        if self._current(message) and self.history is not None:
            for event in message.events:
                self.history.add(event)
            self._progress = self.history.epoch / max(1, self.history.experiment.train.epochs)
            self._views_dirty = True

    def on_batch_progress(self, message: BatchProgress) -> None:
        if self._current(message) and self.history is not None:
            epochs = max(1, self.history.experiment.train.epochs)
            self._progress = (message.epoch - 1 + message.batch / message.n_batches) / epochs
            self._views_dirty = True

    def on_run_finished(self, message: RunFinished) -> None:
        if not self._current(message):
            return
        if message.stopped and self.history is not None:  # None: a sweep
            self.history.mark_stopped()
        state = "stopped" if message.stopped else "finished"
        self.status.ended(state)
        self._set_state(state)
        self._views_dirty = True
        self.refresh_views()
        self.tour_run_ended(message.stopped)

    def on_run_failed(self, message: RunFailed) -> None:
        if not self._current(message):
            return
        self.failure = message.message
        if self.in_tour:
            self.tour_panel.show_state("failed")
        self.status.ended("failed")
        self._set_state("failed")
        self.notify(message.message, title="the run could not go on", severity="error", timeout=10)

    def on_config_panel_changed(self, message: ConfigPanel.Changed) -> None:
        self._update_note()
        self.sweep_view.show_definition(message.experiment)

    # ------------------------------------------------------------------ actions

    def action_run(self) -> None:
        if self.in_tour and self.panel.experiment is not None:
            self.tour_rerun()
            return
        experiment = self.panel.experiment
        if experiment is None:
            errors = self.panel.error_messages()
            self.notify(f"fix the config first: {errors[0] if errors else 'invalid'}", severity="error")
            if not self.panel.display:
                self.action_config()
            widget = self.panel.first_invalid()
            if widget is not None:
                widget.focus()
            return
        (self.start_sweep if self.sweep_shown else self.start_run)(experiment)

    def action_pause(self) -> None:
        if self.control is None or self.run_state not in ACTIVE:
            return
        paused = self.control.resume.is_set()
        if paused:
            self.control.resume.clear()
        else:
            self.control.resume.set()
        self.status.paused(paused)
        self._set_state("paused" if paused else ("running" if (self.history.epoch >= 0 if self.history else self.sweep_view.started)
                                                  else "starting"))

    def action_stop(self) -> None:
        if self.control is not None and self.run_state in ACTIVE:
            self.control.request_stop()

    def action_view(self) -> None:
        self.charts.set_overlay(not self.charts.overlay)

    def action_log(self) -> None:
        self.charts.set_log(not self.charts.log_y)

    def action_rank(self) -> None:
        self.set_ranking("best" if self.table.ranking == "end" else "end")

    def set_ranking(self, rank_by: str | None) -> None:
        """Rank by ``end`` or ``best`` (None: the run's ``train.rank_by``): the ★ and the
        table's ranked column, the verdict and the sweep's best follow (``R``)."""
        self.table.set_rank_by(rank_by)
        self.verdict.set_rank_by(rank_by)
        self.sweep_view.set_rank_by(rank_by)
        if rank_by is not None:
            self.notify(f"ranked by {ranking.label(rank_by)}: {ranking.describe(rank_by)}")

    def action_verdict(self) -> None:
        self.push_screen(VerdictScreen(self.verdict.sentences))

    def action_y_range(self) -> None:
        self.charts.set_shared_y(not self.charts.shared_y)

    def action_config(self) -> None:
        panel = self.panel
        panel.display = not panel.display
        self.set_class(not panel.display, "-config-hidden")
        if not panel.display:
            self.table.focus()

    def action_variant_knobs(self, number: int) -> None:
        """``1``–``9``: the cursor in variant ``number``'s λ field (the panel shown first)."""
        if number > len(self.panel.editors):
            self.notify(f"there is no variant {number}: the config has {len(self.panel.editors)}")
            return
        editor = self.panel.editors[number - 1]
        if self.panel.display:
            editor.focus_first_knob()
        else:  # laid out first, so that the focused field can scroll into view
            self.action_config()
            self.call_after_refresh(editor.focus_first_knob)

    def action_leave_field(self) -> None:
        self.table.focus()

    def action_help(self) -> None:
        from regtui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def load_experiment(self, experiment: Experiment | None) -> None:
        """Put an opened preset in the config panel (a run keeps its own config)."""
        if experiment is None:
            return
        self.panel.load(experiment)
        if self.run_state not in ACTIVE:  # every view forgets the last run: nothing of it stays on screen
            names = [v.name for v in experiment.variants]
            self.history, self.run_experiment, self.failure = None, None, ""
            self.charts.set_variants(names)
            self.table.set_variants(names, experiment.train.rank_by)
            self.insight_variants(names)
            self.set_ranking(None)  # a preset brings its own train.rank_by
            self.sweep_view.reset()
            self.sweep_view.show_definition(experiment)
            self.status.idle(experiment.train.epochs)
            self._set_state("idle")
        self.notify(f"loaded preset {experiment.name}" + (": r restarts with it" if self.run_state in ACTIVE else ""))

    async def action_quit(self) -> None:
        self._keep_unsaved_edits()
        if self.control is not None:
            self.control.request_stop()
            if self.run_state in ("running", "paused"):  # let the worker record the run as stopped
                self.control.done.wait(QUIT_GRACE)
        self.exit()


    def _keep_unsaved_edits(self) -> None:
        """Edits never saved as a preset are kept as one (``regtui.ui.unsaved``); q asks nothing."""
        from regtui.ui import unsaved

        current = self.panel.experiment
        if current is not None and current != self.panel.base:
            unsaved.keep(current, self.presets_dir)

def create_app(experiment: Experiment, presets_dir: str | None = None, *,
               clock: Callable[[], float] = time.monotonic, tour_step: int | None = None,
               tour_overrides: tuple[str, ...] = ()) -> RegTuiApp:
    """The lab, opened on ``experiment`` (``clock`` is injectable for tests); with
    ``tour_step`` on that step of the tour (``regtui tour``), its presets changed by
    ``tour_overrides``."""
    return RegTuiApp(experiment, presets_dir, clock, tour_step, tour_overrides)
