"""The run on screen: ``RunSession`` starts, pauses, stops and branches it, for plain runs and sweeps alike.

UI-thread state of the lab screen (so not in ``worker/``, whose code runs in the
training thread or process): the lab screen owns one session.  ``start`` trains a
comparison (``runner.train`` in the worker thread; with ``REGTUI_WORKER=process``
``process.train``: in a child process, whose fork server the session starts
when the lab opens), ``start_sweep`` a sweep grid (``sweep_runner.sweep``):
each makes a new ``RunControl`` with the next run id (the one before is stopped),
and this is the only place that starts a training worker (a Textual thread
worker run on the screen, which only posts messages).  ``current(message)``
says whether a worker message belongs to the run on screen; after ``close``
(the lab quits) none does, so a message that arrives while the lab shuts down
is dropped before anything looks for a widget.  The session also keeps the
run's ``RunHistory`` (filled from ``EpochsEnded``; swapped for the branch's on
``BranchStarted``, ``docs/semantics.md`` § Schedules and branches), its
progress, the history id the worker recorded it under (a branch's own once it
branched) and its data summary, what the insight views ask the worker for
(``InsightAsk``: frozen ``InsightRequest`` values swapped whole into the
control), and the past run drawn as the ghost (``ghost``, picked from the
history).

Branching (``f``) lives here too: ``ask_branch`` checks the panel's config
against the run's (``regtui.core.branch.edited_changes``) and hands the worker
a ``BranchRequest``; ``branched`` / ``branch_refused`` take the worker's
answer; ``branch_status`` is what the status line says about it.  A refusal or
a branch is told through the host's ``notify``.

``RunState`` names the seven states the lab shows; the screen holds the state
as a Textual ``reactive``.  Runs on the UI thread only; imports no torch.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from enum import StrEnum
from typing import Any, Callable

from textual.dom import DOMNode
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from regtui.core.config import ConfigError, Experiment
from regtui.core.results import RunHistory
from regtui.core.run import InsightRequest
from regtui.core.run_records import StoredRun
from regtui.ui.worker import process, runner, sweep_runner
from regtui.ui.worker.messages import (
    BatchProgress, BranchRefused, BranchStarted, EpochsEnded, GhostEpochs, RunMessage, RunRecorded,
)

QUIT_GRACE = 0.5
"""Seconds ``close`` waits for a training worker to finish its run in the history."""


class RunState(StrEnum):
    """What the run on screen is doing (the status line shows the value)."""

    IDLE = "idle"
    STARTING = "starting"
    """Loading torch and the data: no epoch yet."""
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Whether a worker is on it (space pauses, x stops)."""
        return self in (RunState.STARTING, RunState.RUNNING, RunState.PAUSED)

    @property
    def training(self) -> bool:
        """Whether epochs are under way (``f`` branches, ``q`` waits for the record)."""
        return self in (RunState.RUNNING, RunState.PAUSED)


class InsightAsk:
    """What the visible *why* views ask the worker for (UI thread only).

    The views set ``boundary`` (the map grid's (cols, rows)) and ``bins`` (None
    while hidden); every change makes a new ``request`` and hands it to
    ``publish``, which swaps it into the run's ``RunControl``: one reference
    replaced whole, so nothing the worker reads changes under it.  The maps and
    histograms are per variant (``by_variant``)."""

    def __init__(self, publish: Callable[[InsightRequest], None]) -> None:
        self._publish = publish
        self.request = InsightRequest(by_variant=True)
        """The latest request (immutable: replaced, never changed)."""

    @property
    def boundary(self) -> tuple[int, int] | None:
        return self.request.boundary

    @boundary.setter
    def boundary(self, value: tuple[int, int] | None) -> None:
        self._ask(replace(self.request, boundary=value))

    @property
    def bins(self) -> int | None:
        return self.request.bins

    @bins.setter
    def bins(self, value: int | None) -> None:
        self._ask(replace(self.request, bins=value))

    def _ask(self, request: InsightRequest) -> None:
        if request != self.request:
            self.request = request
            self._publish(request)


class RunSession:
    """The run on screen and its worker; ``host`` is the screen the worker runs on (and
    whose ``notify`` tells about branches)."""

    def __init__(self, host: Widget) -> None:
        self._host = host
        self._ids = itertools.count(1)
        self._closed = False
        self.control: runner.RunControl | None = None
        """How the run on screen is steered (None before the first run)."""
        self.experiment: Experiment | None = None
        """The config of the run on screen (None: nothing run since the last preset opened)."""
        self.history: RunHistory | None = None
        """The plain run's epochs (None for a sweep, whose points the sweep view keeps)."""
        self.sweep = False
        """Whether the run on screen is a sweep."""
        self.started = False
        """Whether the run on screen got past loading torch and the data."""
        self.progress = 0.0
        """Fraction of the run done (batches included)."""
        self.parent_line: RunHistory | None = None
        """After a branch, the parent's continuation (drawn as the ghost), or None."""
        self.parent_label = "parent"
        """How the ghost of ``parent_line`` is named (``parent #N`` once the parent is recorded)."""
        self.ghost: StoredRun | None = None
        """The past run drawn as the ghost (picked from the history), or None."""
        self.branch_note = ""
        """What the status line says about the branch asked or made (see ``branch_status``)."""
        self.branch_panel: Experiment | None = None
        """The panel's experiment when the branch was asked (the note stays while it is)."""
        self.insight = InsightAsk(self._hand_insight)
        """What the decision-map / weights views ask the worker for; each new request
        goes to the run's control."""
        self._recorded: tuple[int, int | None] | None = None
        self._data: tuple[int, dict[str, Any]] | None = None
        if process.wanted():
            process.start_server()  # before App.run; the server imports torch in the background

    # ------------------------------------------------------------------ starting and steering

    def start(self, experiment: Experiment) -> runner.RunControl:
        """Train ``experiment``'s comparison (the run on screen, if any, stops): in the
        worker thread (``runner.train``), or with ``REGTUI_WORKER=process`` in a child
        process (``process.train``)."""
        in_child = process.wanted()
        control = self._new_run(experiment, sweep=False, in_child=in_child)
        self.history = RunHistory(experiment)
        post = self._host.post_message
        body = process.train if in_child else runner.train
        self._host.run_worker(lambda: self._body(body, post, experiment, control),
                              thread=True, exclusive=True, exit_on_error=False, group="training")
        return control

    def start_sweep(self, experiment: Experiment, target: DOMNode) -> runner.RunControl:
        """Train ``experiment``'s sweep grid; its messages go to ``target`` (the sweep view)
        and bubble on.  A plain run on screen is marked stopped and forgotten."""
        if self.history is not None:
            self.history.mark_stopped()
        control = self._new_run(experiment, sweep=True)
        self.history = None
        post = target.post_message
        self._host.run_worker(lambda: self._body(sweep_runner.sweep, post, experiment, control),
                              thread=True, exclusive=True, exit_on_error=False, group="sweep")
        return control

    @staticmethod
    def _body(body: Callable[..., None], post: Callable[[Message], object], experiment: Experiment,
              control: runner.RunControl) -> None:
        worker = get_current_worker()  # in the worker thread
        body(post, experiment, control, lambda: worker.is_cancelled)

    def _new_run(self, experiment: Experiment, sweep: bool, in_child: bool = False) -> runner.RunControl:
        self.stop()
        run_id = next(self._ids)
        self.control = process.control(run_id) if in_child else runner.RunControl(run_id)
        self.control.insight = self.insight.request
        self.experiment, self.sweep, self.started, self.progress = experiment, sweep, False, 0.0
        self.parent_line, self.branch_note, self.branch_panel = None, "", None
        return self.control

    def _hand_insight(self, request: InsightRequest) -> None:
        if self.control is not None:
            self.control.insight = request  # one reference: the worker reads it whole

    def pause(self) -> bool:
        """Pause the run, or resume it; returns whether it is paused now."""
        if self.control is None:
            return False
        paused = self.control.resume.is_set()
        if paused:
            self.control.resume.clear()
        else:
            self.control.resume.set()
        return paused

    def stop(self) -> None:
        if self.control is not None:
            self.control.request_stop()

    def close(self, wait: bool) -> None:
        """The lab quits: stop the run (``wait``: give its worker ``QUIT_GRACE`` seconds to
        record it as stopped); from now on no message is current."""
        self._closed = True
        self.stop()
        if wait and self.control is not None:
            self.control.done.wait(QUIT_GRACE)

    def forget(self) -> None:
        """Another preset was opened while nothing runs: no run on screen any more."""
        self.history, self.experiment, self.parent_line = None, None, None

    # ------------------------------------------------------------------ the worker's messages

    def current(self, message: RunMessage) -> bool:
        """Whether a worker message belongs to the run on screen."""
        return not self._closed and self.control is not None and message.run_id == self.control.run_id

    def took_epochs(self, message: EpochsEnded | GhostEpochs) -> bool:
        """Add the epochs to the run's history (or the parent line's); whether they were taken."""
        line = self.parent_line if isinstance(message, GhostEpochs) else self.history
        if not self.current(message) or line is None:
            return False
        for event in message.events:
            line.add(event)
        if line is self.history:
            self.progress = line.epoch / max(1, line.experiment.train.epochs)
        return True

    def took_progress(self, message: BatchProgress) -> bool:
        if not self.current(message) or self.history is None:
            return False
        epochs = max(1, self.history.experiment.train.epochs)
        self.progress = (message.epoch - 1 + message.batch / message.n_batches) / epochs
        return True

    # ------------------------------------------------------------------ branching

    def ask_branch(self, edited: Experiment | None, state: RunState, sweep_shown: bool) -> None:
        """``f``: go on from the next epoch with the panel's config ``edited`` (its λ / η / p /
        lr, ``docs/semantics.md`` § Schedules and branches); what cannot be branched is told."""
        from regtui.core.branch import edited_changes
        from regtui.ui.worker.branching import BranchRequest

        history, notify = self.history, self._host.notify
        if not state.training or history is None or history.epoch < 0 or self.control is None:
            notify("f branches a running comparison: r starts one", severity="warning", markup=False)
            return
        if sweep_shown:
            notify("a sweep cannot be branched", severity="warning", markup=False)
            return
        if edited is None:
            notify("fix the config first", severity="error", markup=False)
            return
        try:
            changes = edited_changes(self.experiment, edited, history.epoch + 1)
        except ConfigError as exc:
            notify(str(exc), title="cannot branch", severity="error", timeout=8, markup=False)
            return
        if not changes:
            notify("nothing to branch with: change λ, η, p or lr in the config panel, then f",
                   severity="warning", markup=False)
            return
        self.control.branch = BranchRequest(edited)
        self.branch_panel = edited
        paused = " (space resumes)" if state is RunState.PAUSED else ""
        self.branch_note = f"branching at the end of epoch {history.epoch + 1}{paused}: {changes.describe()}"

    def branch_status(self, panel: Experiment | None) -> str:
        """The status note about a branch, while the panel (``panel``: its experiment) still
        holds what it was asked with."""
        return self.branch_note if self.branch_note and panel == self.branch_panel else ""

    def branched(self, message: BranchStarted) -> RunHistory:
        """The worker branched: the branch (its epochs up to the branch point the
        parent's) becomes the run on screen, and the user is told; returns the
        parent's history (drawn on as the ghost, labelled ``parent_label``)."""
        from regtui.core.branch import replay

        parent = self.history
        assert parent is not None
        child = RunHistory(message.experiment)
        for event in replay(parent, message.epoch - 1):
            child.add(event)
        self.history, self.experiment, self.parent_line = child, message.experiment, parent
        if message.history_id is not None:  # the run on screen is the branch's record now (e exports it)
            self._recorded = (message.run_id, message.history_id)
        self.parent_label = f"parent #{message.parent_id}" if message.parent_id is not None else "parent"
        recorded = f" (run #{message.history_id})" if message.history_id is not None else ""
        self.branch_note = f"branched{recorded} after epoch {message.epoch - 1}: {message.changes.describe()}"
        self._host.notify(self.branch_note + f"; the dimmed curves: the {self.parent_label} without the change",
                          markup=False)
        return parent

    def branch_refused(self, message: BranchRefused) -> bool:
        """The worker could not branch: the note goes, the user is told; whether it was the run on screen's."""
        if not self.current(message):
            return False
        self.branch_note = ""
        self._host.notify(message.message, title="cannot branch", severity="error", timeout=8, markup=False)
        return True

    # ------------------------------------------------------------------ the record

    def recorded(self, message: RunRecorded) -> None:
        self._recorded = (message.run_id, message.history_id)
        self._data = (message.run_id, message.data)

    @property
    def history_id(self) -> int | None:
        """The history id of the run on screen (None before it is recorded)."""
        if self.control is None or self._recorded is None or self._recorded[0] != self.control.run_id:
            return None
        return self._recorded[1]

    @property
    def data(self) -> dict[str, Any] | None:
        """The data summary the worker recorded with the run on screen, or None."""
        if self.control is None or self._data is None or self._data[0] != self.control.run_id:
            return None
        return self._data[1]
