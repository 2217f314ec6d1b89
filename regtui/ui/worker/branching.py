"""Branching the live run, in the training worker's thread (``regtui.core.branch``).

The lab's branch key hands the worker a ``BranchRequest`` (through
``RunControl.branch``).  At the next boundary between two epochs the worker
calls ``Lines.branch``: the live ``Training`` is forked, the fork trains on
with the branch's experiment and becomes the main line (recorded as a child
of the run it came from, its epochs before the branch copied from the
parent), and the parent goes on unchanged as the ghost line (still recorded
as itself).  ``Lines.events()`` interleaves the two, event by event, as
``(line, event)`` pairs, so pause and stop act on both within one batch.  A
branch of a branch stops the old ghost and makes the old main line the ghost.

Like the rest of the worker, it only posts messages and never touches widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from textual.message import Message

from regtui.core.branch import BranchChanges, branch_experiment, edited_changes, fork, record_branch, replay
from regtui.core.config import Experiment
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochEnd
from regtui.ui.worker.messages import BranchRefused, BranchStarted, HistoryError
from regtui.ui.worker.recording import SOURCE, data_summary, recordable

MAIN, GHOST = "main", "ghost"


@dataclass(frozen=True)
class BranchRequest:
    """What the UI asks for: go on with the knobs of ``edited`` (the config panel's
    experiment).  The worker reads the changes off it against the main line's
    experiment at the epoch where it branches (``edited_changes``)."""

    edited: Experiment


@dataclass
class Line:
    """One training the worker steps: its events (recorded) and what it yielded."""

    training: Any
    events: Iterator[Any]
    history: RunHistory
    history_id: int | None = None


class Lines:
    """The main line and, after a branch, the parent's continuation as the ghost line."""

    def __init__(self, main: Line, post: Callable[[Message], object], run_id: int) -> None:
        self.main = main
        self.ghost: Line | None = None
        self.post = post
        self.run_id = run_id

    def close(self) -> None:
        for line in (self.main, self.ghost):
            if line is not None:
                line.events.close()

    def branch(self, request: BranchRequest) -> tuple[Line, int, BranchChanges]:
        """Fork the main line after its last epoch; returns the new main line, the
        branch's first epoch and its changes.  Raises ``ConfigError`` when the edited
        config is no branch of the main line (nothing then changes)."""
        parent = self.main
        epoch = parent.training.epochs_done + 1
        changes = edited_changes(parent.training.experiment, request.edited, epoch)
        experiment = branch_experiment(parent.training.experiment, epoch, changes)
        child = Line(fork(parent.training, experiment), iter(()), RunHistory(experiment))
        for event in replay(parent.history, epoch - 1):
            child.history.add(event)
        child.events = self._recorded(child, parent, experiment, epoch, changes)
        if self.ghost is not None:
            self.ghost.events.close()  # the old parent stops here (recorded as stopped)
        self.ghost, self.main = parent, child
        return child, epoch, changes

    def _recorded(self, child: Line, parent: Line, experiment: Experiment, epoch: int,
                  changes: BranchChanges) -> Iterator[Any]:
        from regtui.core.run_records import StoreError
        from regtui.core.store import RunStore

        store = recorder = None
        try:
            store = RunStore.open()
            recorder = record_branch(store, parent.history_id, recordable(experiment), parent.history,
                                     epoch, changes, source=SOURCE, preset=experiment.name,
                                     data=data_summary(child.training))
            child.history_id = recorder.run_id
        except StoreError as exc:
            self.post(HistoryError(self.run_id, f"the branch is not recorded: {exc}"))
            if store is not None:
                store.close()
                store = None
        events = child.training.events()
        try:
            for event in events:
                if recorder is not None and recorder.error is None:
                    recorder.add(event)
                    if recorder.error is not None:
                        self.post(HistoryError(self.run_id, f"recording the branch stopped: {recorder.error}"))
                yield event
        finally:
            events.close()
            if recorder is not None:
                recorder.finish(child.training.statuses)
            if store is not None:
                store.close()

    def take(self, request: BranchRequest) -> None:
        """Branch as asked and tell the UI (``BranchStarted``), or why not (``BranchRefused``)."""
        from regtui.core.config import ConfigError

        try:
            child, epoch, changes = self.branch(request)
        except (ConfigError, ValueError) as exc:
            self.post(BranchRefused(self.run_id, str(exc)))
            return
        self.post(BranchStarted(self.run_id, epoch, child.training.experiment, changes, child.history_id,
                                self.ghost.history_id if self.ghost is not None else None))

    def events(self) -> Iterator[tuple[str, Any]]:
        """``(MAIN, event)`` and ``(GHOST, event)`` pairs, one of each in turn while
        both lines train; ends when the main line and the ghost line are done."""
        while True:
            main, ghost = self.main, self.ghost
            got = False
            for tag, line in ((MAIN, main), (GHOST, ghost)):
                if line is None:
                    continue
                event = next(line.events, None)
                if event is None:
                    continue
                got = True
                if isinstance(event, EpochEnd):
                    line.history.add(event)
                yield tag, event
                if self.main is not main:  # branched while this pair was out: start over
                    break
            if not got and self.main is main:
                return
