"""The lab screen: the config panel, the main area's views, the results table, the status line.

``LabScreen`` owns the lab's keys (``regtui.ui.keys``): each action is a line
or two that hands the work to a widget, to the ``RunSession``
(``regtui.ui.session``: it starts, pauses, stops and branches the run, plain or
sweep), to the tour's card (``TourPanel``: the steps, their presets and
checks), to the history's module (``regtui.ui.screens.history``: the choice
and the ghost) or to the core.  The run's state is
the reactive ``run_state`` (a ``RunState``); its watcher is the one place that
updates what depends on it: the status line, its note and its ``-running`` /
``-paused`` CSS classes, and the footer's enabled keys.  The main area shows
one view at a time, switched by a ``ContentSwitcher`` (``view``): the loss
charts or the sweep (``k``) beside the config panel, or the decision maps
(``b``) or the weights (``w``) over the whole width; ``b`` and ``w`` toggle
back to the view beside the panel.  The maps and the weights are mounted when
first shown (a lab that never shows them never pays for them); until then they
keep what the lab hands them.  The class ``-sweep`` (the sweep is beside
the panel, shown or under ``b``/``w``: the table makes way for it) tells the
stylesheet the rest; a class on the screen restyles all its widgets, so there
is no class the stylesheet does not use.

Worker messages arrive here (a sweep's through the sweep view); each handler
first asks the session whether the message is the run on screen's, so one
that arrives while the lab quits does nothing.  Terms: ``docs/semantics.md``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from regtui.core import ranking
from regtui.core.config import Experiment
from regtui.ui import keys, unsaved
from regtui.ui.plotting.curve_view import CurveView
from regtui.ui.session import RunSession, RunState
from regtui.ui.screens.confirm import ConfirmScreen
from regtui.ui.screens.verdict import VerdictScreen
from regtui.ui.widgets.config.panel import ConfigPanel
from regtui.ui.widgets.keys_footer import KeysFooter
from regtui.ui.widgets.loss_charts import ChartsPane
from regtui.ui.widgets.results_table import ResultsTable
from regtui.ui.widgets.status_bar import StatusBar
from regtui.ui.widgets.too_small import CSS_CLASS as TOO_SMALL, TooSmallNotice
from regtui.ui.widgets.tour_panel import TourPanel
from regtui.ui.widgets.verdict_panel import VerdictPanel
from regtui.ui.widgets.views.boundary import BoundaryView
from regtui.ui.widgets.views.sweep import SweepView
from regtui.ui.widgets.views.weights import WeightsView
from regtui.ui.worker import sweep_runner
from regtui.ui.worker.messages import (
    BatchProgress, BranchRefused, BranchStarted, EpochsEnded, GhostEpochs, HistoryError, InsightReady,
    RunFailed, RunFinished, RunRecorded, RunStarted, StepNote, SweepProgressed,
)

if TYPE_CHECKING:
    from regtui.core.run_records import StoredRun
    from regtui.ui.screens.history import HistoryChoice

VIEW_REFRESH = 0.25
"""Seconds between two refreshes of the table and the charts' data."""
VIEWS = ("charts", "boundary", "weights", "sweep")
"""The main area's views (ids of the ``ContentSwitcher`` children: ``#views`` holds
``#main`` (config panel and ``#main-view``: charts or sweep), the maps and the weights)."""


class LabScreen(Screen[None]):
    """The regtui lab."""

    BINDINGS = keys.BINDINGS
    PALETTE = keys.PALETTE
    """(action, title, help) the App offers in the command palette while the lab is open."""
    AUTO_FOCUS = "#results"

    run_state: reactive[RunState] = reactive(RunState.IDLE, init=False)
    """What the run on screen is doing; the watcher updates what shows it."""
    view: reactive[str] = reactive("charts", init=False)
    """Which of ``VIEWS`` fills the main area."""

    def __init__(self, experiment: Experiment, presets_dir: str | None = None,
                 clock: Callable[[], float] = time.monotonic, tour_step: int | None = None,
                 tour_overrides: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.initial = experiment
        self.presets_dir = presets_dir
        self.clock = clock
        self.open_tour_at = tour_step
        """``regtui tour``: the step (1…) the lab opens on, or None."""
        self.tour_overrides = tour_overrides
        """``--set`` assignments applied to every step's preset (``regtui tour --set``)."""
        self.session = RunSession(self)
        self.failure = ""
        """Why the run on screen failed ("" unless it did)."""
        self.curve_view = CurveView()
        """What the charts plot (``m``, ``s``, ``t``, the cursor and zoom)."""
        self._views_dirty = False
        self._base_view = "charts"
        """The view beside the config panel (charts or sweep): what ``b`` and ``w`` go back to."""
        self.boundary = BoundaryView(id="boundary")
        """The decision maps (``b``): mounted when first shown, fed from the start."""
        self.weights = WeightsView(id="weights")
        """The weights (``w``): mounted when first shown, fed from the start."""

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="main", id="views"):
            with Horizontal(id="main"):
                yield ConfigPanel(self.initial, id="config")
                yield TourPanel(id="tour")
                with ContentSwitcher(initial="charts", id="main-view"):
                    yield ChartsPane(id="charts")
                    yield SweepView(id="sweep")
            # the decision maps and the weights join #views when first shown (watch_view)
        yield ResultsTable(id="results")
        yield VerdictPanel(id="verdict")
        yield StatusBar(self.clock, id="status")
        yield KeysFooter(compact=True)
        yield TooSmallNotice(id="too-small")

    def on_mount(self) -> None:
        self.boundary.wish = self.weights.wish = self.session.insight
        self._show_variants(self.initial)
        self.status.epochs = self.initial.train.epochs
        self.set_interval(VIEW_REFRESH, self.refresh_views)
        self.watch_run_state(self.run_state)  # refresh_bindings: the footer's keys are ready
        # Textual's Footer redraws its keys only while the app has the focus; in a background
        # browser tab (regtui serve) the lab may mount without it: draw them once anyway.
        footer = self.query_one(KeysFooter)
        footer.call_later(footer.recompose)  # on the footer's own queue (its compose binds its data)
        kept = unsaved.notice(self.presets_dir)
        if kept is not None:
            self.notify(kept, timeout=12)
        if self.open_tour_at is not None:
            self.call_after_refresh(self.tour_go, self.open_tour_at - 1)

    def on_resize(self, event: events.Resize) -> None:
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

    @property
    def verdict(self) -> VerdictPanel:
        return self.query_one(VerdictPanel)

    @property
    def sweep_view(self) -> SweepView:
        return self.query_one(SweepView)

    @property
    def tour_panel(self) -> TourPanel:
        return self.query_one(TourPanel)

    @property
    def in_tour(self) -> bool:
        return self.tour_panel.index is not None

    @property
    def sweep_shown(self) -> bool:
        """Whether the sweep view is what the user sees (so ``r`` runs the sweep)."""
        return self.view == "sweep"

    # ------------------------------------------------------------------ state

    def watch_run_state(self, state: RunState) -> None:
        # On the status bar, which is all they style: a class on the screen restyles every widget.
        self.status.set_class(state.active, "-running")
        self.status.set_class(state is RunState.PAUSED, "-paused")
        self.status.show_state(state.value)
        self.refresh_bindings()
        self.update_note()

    def watch_view(self, view: str) -> None:
        beside_config = view in ("charts", "sweep")
        views = self.query_one("#views", ContentSwitcher)
        if beside_config:
            self.query_one("#main-view", ContentSwitcher).current = self._base_view = view
        else:
            widget = self.boundary if view == "boundary" else self.weights
            if widget.parent is None:  # first shown: mounted now (it kept what it was handed)
                views.mount(widget)
        views.current = "main" if beside_config else view
        self.set_class(self._base_view == "sweep", "-sweep")  # under b and w too
        self.boundary.set_visible(view == "boundary")
        self.weights.set_visible(view == "weights")

    def update_note(self) -> None:
        """The status line's note: what matters most about the lab right now."""
        errors = self.panel.error_messages()
        state, experiment = self.run_state, self.session.experiment
        if self.failure:
            self.status.set_note(self.failure, "bold red")
        elif errors:
            self.status.set_note(f"config: {len(errors)} invalid field(s): fix them to run", "red")
        elif branch := self.session.branch_status(self.panel.experiment):
            self.status.set_note(branch, "yellow")
        elif experiment is not None and self.panel.experiment != experiment:
            hint = ", f branches with it" if state.training else ""
            self.status.set_note(f"config changed: r restarts with it{hint}", "yellow")
        elif state is RunState.STARTING:
            self.status.set_note("loading torch and the data…", "dim")
        elif state is RunState.IDLE:
            self.status.set_note("r run · ? help")
        else:
            self.status.set_note("")

    def refresh_views(self) -> None:
        """Push new numbers to the table and the charts (the charts draw on their own timer)."""
        history = self.session.history
        if self._views_dirty and history is not None:
            self._views_dirty = False
            self.status.progress(max(0, history.epoch), self.session.progress)
            self.table.show(history)
            self.charts.show(history)
            self.weights.show(history, self.curve_view)
            self.verdict.show(history, not self.run_state.active)

    def _show_variants(self, experiment: Experiment) -> None:
        names = [v.name for v in experiment.variants]
        self.charts.set_variants(names)
        self.table.set_variants(names, experiment.train.rank_by)
        self.boundary.set_variants(names)
        self.weights.set_variants(names)
        self.verdict.clear()

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """As the App's ``notify``: plain text unless asked for markup."""
        self.app.notify(message, markup=markup, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "stop"):
            return True if self.run_state.active else None
        if action in ("tour_next", "tour_previous"):
            return self.in_tour
        return True

    # ------------------------------------------------------------------ starting a run

    def start_run(self, experiment: Experiment) -> None:
        """Train ``experiment``'s comparison (the run on screen, if any, stops)."""
        self.session.start(experiment)
        self._run_started(experiment, experiment.train.epochs)
        self._show_variants(experiment)
        self.charts.set_branch(None)
        self.set_ghost(self.session.ghost, alone=False)  # the past run picked, if any; a branch's parent goes
        self._views_dirty = True

    def start_sweep(self, experiment: Experiment) -> None:
        """Train ``experiment``'s sweep grid (the plain run on screen, if any, stops)."""
        if not experiment.sweep:
            self.notify("no sweep defined: pick a knob and its values in the config panel's Sweep section",
                        severity="warning")
            if not self.panel.display:
                self.action_config()
            self.panel.sweep_editor.knobs[0].focus()
            return
        plain = self.session.history
        control = self.session.start_sweep(experiment, self.sweep_view)
        if plain is not None:  # the plain run's table shows it stopped
            self.table.show(plain)
        self._run_started(experiment, sweep_runner.total_epochs(experiment))
        self.sweep_view.start(experiment, control)

    def _run_started(self, experiment: Experiment, epochs: int) -> None:
        self.failure = ""
        self.status.starting(epochs)
        self.run_state = RunState.STARTING
        self.update_note()  # the run's config is the panel's now, whatever the state was

    # ------------------------------------------------------------------ the worker's messages

    def on_run_started(self, message: RunStarted) -> None:
        if self.session.current(message) and self.run_state is RunState.STARTING:
            self.session.started = True
            self.run_state = RunState.RUNNING

    def on_epochs_ended(self, message: EpochsEnded) -> None:
        self._views_dirty |= self.session.took_epochs(message)

    def on_ghost_epochs(self, message: GhostEpochs) -> None:
        self._views_dirty |= self.session.took_epochs(message)

    def on_batch_progress(self, message: BatchProgress) -> None:
        self._views_dirty |= self.session.took_progress(message)

    def on_sweep_progressed(self, message: SweepProgressed) -> None:
        if self.session.current(message):
            self.session.progress = message.done_epochs / max(1, message.total_epochs)
            self.status.epochs = message.total_epochs  # on Ray: every task's epochs, counted together
            self.status.progress(message.done_epochs, self.session.progress)

    def on_run_finished(self, message: RunFinished) -> None:
        if not self.session.current(message):
            return
        if message.stopped and self.session.history is not None:  # None: a sweep
            self.session.history.mark_stopped()
        self.run_state = RunState.STOPPED if message.stopped else RunState.FINISHED
        self._views_dirty = True
        self.refresh_views()
        self.tour_panel.run_ended(message.stopped, self.session.control, self.session.history,
                                  self.sweep_view.raw_points)

    def on_run_failed(self, message: RunFailed) -> None:
        if not self.session.current(message):
            return
        self.failure = message.message
        self.tour_panel.run_failed()
        self.run_state = RunState.FAILED
        self.notify(message.message, title="the run could not go on", severity="error", timeout=10)

    def on_insight_ready(self, message: InsightReady) -> None:
        if self.session.current(message):
            self.boundary.show_map(message.epoch, message.boundary, message.no_plane)
            self.weights.show_histogram(message.epoch, message.weights)

    def on_run_recorded(self, message: RunRecorded) -> None:
        self.session.recorded(message)

    def on_history_error(self, message: HistoryError) -> None:
        self.notify(message.message, title="run history", severity="warning", timeout=8)

    def on_step_note(self, message: StepNote) -> None:
        self.notify(message.message, title="training step", severity="warning", timeout=8)

    def on_branch_started(self, message: BranchStarted) -> None:
        if self.session.current(message) and self.session.history is not None:
            parent = self.session.branched(message)
            self.charts.set_ghost(parent, f"{self.session.parent_label} goes on")
            self.charts.set_branch(message.epoch - 1)
            self._views_dirty = True
            self.update_note()

    def on_branch_refused(self, message: BranchRefused) -> None:
        if self.session.branch_refused(message):
            self.update_note()

    def on_config_panel_changed(self, message: ConfigPanel.Changed) -> None:
        self.update_note()
        self.sweep_view.show_definition(message.experiment)

    # ------------------------------------------------------------------ actions: the run

    def action_run(self) -> None:
        experiment = self.panel.experiment
        if experiment is None:
            self._to_first_invalid()
        elif self.in_tour:
            self._tour_start(experiment)
        else:
            (self.start_sweep if self.sweep_shown else self.start_run)(experiment)

    def _to_first_invalid(self) -> None:
        errors = self.panel.error_messages()
        self.notify(f"fix the config first: {errors[0] if errors else 'invalid'}", severity="error")
        if not self.panel.display:
            self.action_config()
        widget = self.panel.first_invalid()
        if widget is not None:
            widget.focus()

    def action_pause(self) -> None:
        if self.run_state.active:
            paused = self.session.pause()
            self.run_state = (RunState.PAUSED if paused else
                              RunState.RUNNING if self.session.started else RunState.STARTING)

    def action_stop(self) -> None:
        if self.run_state.active:
            self.session.stop()

    def action_branch(self) -> None:
        self.session.ask_branch(self.panel.experiment, self.run_state, self.sweep_shown)
        self.update_note()

    # ------------------------------------------------------------------ actions: the views

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
        self.app.push_screen(VerdictScreen(self.verdict.sentences))

    def action_y_range(self) -> None:
        self.charts.set_shared_y(not self.charts.shared_y)

    def action_config(self) -> None:
        panel = self.panel
        panel.display = not panel.display
        self.set_class(not panel.display, "-config-hidden")
        if not panel.display:
            self.table.focus()

    def action_boundary(self) -> None:
        self.view = self._base_view if self.view == "boundary" else "boundary"

    def action_weights(self) -> None:
        self.view = self._base_view if self.view == "weights" else "weights"

    def action_sweep(self) -> None:
        self.view = "charts" if self.view == "sweep" else "sweep"
        if self.view == "sweep":
            self.sweep_view.show_definition(self.panel.experiment)
            if self.focused is self.table:
                self.sweep_view.query_one("#sweep-points").focus()
        elif self.focused is not None and self.focused.parent is self.sweep_view:
            self.table.focus()

    def action_metric(self) -> None:
        self._set_curve_view(self.curve_view.next_metric())

    def action_smooth(self) -> None:
        self._set_curve_view(self.curve_view.next_smoothing())

    def action_time(self) -> None:
        self._set_curve_view(self.curve_view.next_x_axis())

    def action_cursor(self, how: str) -> None:
        """The epoch cursor and zoom shared by every chart (``CurveView.cursor_command``)."""
        self._set_curve_view(self.curve_view.cursor_command(how, self.charts.last_epoch()))

    def _set_curve_view(self, view: CurveView) -> None:
        self.curve_view = view
        self.charts.set_curve_view(view)
        if self.session.history is not None:
            self.charts.show(self.session.history)
            self.weights.show(self.session.history, view)

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

        self.app.push_screen(HelpScreen())

    # ------------------------------------------------------------------ actions: presets

    def action_save_preset(self) -> None:
        experiment = self.panel.experiment
        if experiment is None:
            self.notify("fix the config before saving it", severity="error")
            return
        from regtui.ui.screens.preset_save import SavePresetScreen

        self.app.push_screen(SavePresetScreen(experiment, self.presets_dir), self._preset_saved)

    def _preset_saved(self, path: object) -> None:
        if path is not None:
            self.panel.base = self.panel.experiment  # saved: q keeps nothing more (regtui.ui.unsaved)
            self.notify(f"saved {path}")

    def action_open_preset(self) -> None:
        from regtui.ui.screens.preset_open import OpenPresetScreen

        self.app.push_screen(OpenPresetScreen(self.presets_dir), self.load_experiment)

    def load_experiment(self, experiment: Experiment | None) -> None:
        """Put an opened preset in the config panel (a run keeps its own config)."""
        if experiment is None:
            return
        self.panel.load(experiment)
        active = self.run_state.active
        if not active:  # every view forgets the last run: nothing of it stays on screen
            self.session.forget()
            self.failure = ""
            self._show_variants(experiment)
            self.set_ranking(None)  # a preset brings its own train.rank_by
            self.sweep_view.reset()
            self.sweep_view.show_definition(experiment)
            self.status.idle(experiment.train.epochs)
            self.run_state = RunState.IDLE
            self.update_note()
        self.notify(f"loaded preset {experiment.name}" + (": r restarts with it" if active else ""))

    # ------------------------------------------------------------------ actions: past runs

    def action_history(self) -> None:
        from regtui.ui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.table.rank_by), self._history_chosen)

    def action_ghost(self) -> None:
        if self.session.ghost is None:
            self.action_history()
        else:
            self.set_ghost(None)
            self.notify("ghost cleared")

    def _history_chosen(self, choice: HistoryChoice | None) -> None:
        if choice is None:
            return
        if choice.kind == "ghost":
            self.set_ghost(choice.run)
        else:
            self.panel.load(choice.run.experiment)
            self.action_run()
        self.notify(choice.note)

    def set_ghost(self, stored: StoredRun | None, alone: bool = True) -> None:
        """Overlay a past run on the charts, or clear it (None); ``alone``: with no run
        shown, on the panel's variants."""
        from regtui.ui.screens.history import show_ghost  # the store's code: not before it is needed

        self.session.ghost = stored
        show_ghost(self.charts, stored, (self.panel.experiment or self.initial) if alone else None)

    def action_export(self) -> None:
        from regtui.ui.export import start_export

        history = self.session.history
        if history is None or history.epoch < 0:
            self.notify("nothing to export yet: r runs, h opens a past run", severity="warning")
            return
        run_id = self.session.history_id
        title = f"run #{run_id}" if run_id is not None else "lab run (not recorded)"
        start_export(self.app, history, run_id=run_id, title=title, data=self.session.data,
                     rank_by=self.table.ranking)

    # ------------------------------------------------------------------ the tour

    def action_tour(self) -> None:
        if self.in_tour:
            self.tour_leave()
        else:
            self.tour_go(0)

    def action_tour_next(self) -> None:
        self.tour_go(self.tour_panel.neighbour(1))

    def action_tour_previous(self) -> None:
        self.tour_go(self.tour_panel.neighbour(-1))

    def tour_go(self, index: int | None) -> None:
        """Show step ``index`` (``regtui.core.tour``) and start its run (None: stay where it is)."""
        experiment = self.tour_panel.go(index, self.presets_dir, self.tour_overrides)
        if experiment is not None:
            self._show_tour(True)
            self.panel.load(experiment)
            self._tour_start(experiment)

    def tour_leave(self) -> None:
        self.tour_panel.leave()
        self._show_tour(False)
        self.notify("left the tour: the config panel is back (a returns)")

    def _show_tour(self, on: bool) -> None:
        """The tour's card in the config panel's place (``-tour``), or the panel back."""
        self.set_class(on, "-tour")
        self.panel.display = not on
        self.set_class(on, "-config-hidden")

    def _tour_start(self, experiment: Experiment) -> None:
        """Run the step with ``experiment`` (its preset, or the panel's as changed: ``r``),
        in the sweep view for a sweep step."""
        wants_sweep = self.tour_panel.wants_sweep
        if wants_sweep != self.sweep_shown:
            self.action_sweep()
        (self.start_sweep if wants_sweep else self.start_run)(experiment)
        self.tour_panel.started(self.session.control)

    # ------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        """``q``: keep unsaved edits (``regtui.ui.unsaved``), stop the run, quit.  Edits
        that no preset can hold (an invalid field) are not dropped without a word: a
        dialog asks first, and ``n`` goes back to the first invalid field."""
        if self.panel.experiment is None:
            errors = self.panel.error_messages()
            first = errors[0] if errors else "invalid"
            question = (f"The config has {len(errors)} invalid field(s) ({first}): these edits cannot be "
                        "kept as a preset. Quit and lose them?")
            self.app.push_screen(ConfirmScreen(question, "Quit"), self._quit_or_fix)
            return
        self.quit_now()

    def _quit_or_fix(self, yes: bool | None) -> None:
        if yes:
            self.quit_now()
        else:
            self._to_first_invalid()

    def quit_now(self) -> None:
        """Keep valid unsaved edits, stop the run, quit; asks nothing (ctrl+q, SIGTERM)."""
        current = self.panel.experiment
        if current is not None and current != self.panel.base:
            unsaved.keep(current, self.presets_dir)
        self.session.close(wait=self.run_state.training)  # let the worker record the run as stopped
        self.app.exit()
