"""The App's routes for the sweep view, kept out of ``app.py`` (a mixin of ``RegTuiApp``).

``k`` shows or hides the sweep view (the CSS class ``-sweep`` on the App puts
it where the charts and the table were; the config panel stays, since its
Sweep section defines the grid).  ``r`` in the sweep view calls
``start_sweep``: a sweep is the App's run like a plain one (one
``RunControl``, so space, x and q work, one run state, the status line), but
its results go to the sweep view instead of ``history``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regtui.core.config import Experiment
from regtui.ui.widgets.views.sweep import SweepView
from regtui.ui.worker import runner, sweep_runner
from regtui.ui.worker.messages import SweepProgressed

if TYPE_CHECKING:
    from regtui.ui.app import RegTuiApp

OTHER_VIEWS = ("-view-boundary", "-view-weights")
"""Views that cover the main area (``insight_actions``): the sweep view hides under them."""


class SweepActions:
    """Mixed into ``RegTuiApp``; every method runs on the UI thread."""

    @property
    def sweep_view(self: RegTuiApp) -> SweepView:
        return self.query_one(SweepView)

    @property
    def sweep_shown(self: RegTuiApp) -> bool:
        """Whether the sweep view is what the user sees (so ``r`` runs the sweep)."""
        return self.has_class("-sweep") and not any(self.has_class(c) for c in OTHER_VIEWS)

    def action_sweep(self: RegTuiApp) -> None:
        show = not self.sweep_shown
        if show and any(self.has_class(c) for c in OTHER_VIEWS):
            self._show_view("charts")  # leave the decision maps / weights for the sweep
        self.set_class(show, "-sweep")
        if show:
            self.sweep_view.show_definition(self.panel.experiment)
            if self.focused is self.table:
                self.sweep_view.query_one("#sweep-points").focus()
        elif self.focused is not None and self.focused.parent is self.sweep_view:
            self.table.focus()

    def start_sweep(self: RegTuiApp, experiment: Experiment) -> None:
        """Train ``experiment``'s sweep grid (the plain run on screen, if any, stops)."""
        if not experiment.sweep:
            self.notify("no sweep defined: pick a knob and its values in the config panel's Sweep section",
                        severity="warning")
            if not self.panel.display:
                self.action_config()
            self.panel.sweep_editor.knobs[0].focus()
            return
        if self.control is not None:
            self.control.request_stop()
        if self.history is not None:  # the plain run's table shows it stopped, then the App forgets it
            self.history.mark_stopped()
            self.table.show(self.history)
            self.history = None
        self.control = runner.RunControl(next(self._run_ids))
        self.run_experiment = experiment
        self.failure = ""
        self.status.starting(sweep_runner.total_epochs(experiment))
        self._progress = 0.0
        self._set_state("starting")
        self.sweep_view.start(experiment, self.control)

    def on_sweep_progressed(self: RegTuiApp, message: SweepProgressed) -> None:
        if self._current(message):
            self._progress = message.done_epochs / max(1, message.total_epochs)
            self.status.epochs = message.total_epochs  # on Ray: every task's epochs, counted together
            self.status.progress(message.done_epochs, self._progress)
