"""Branching the live run, in the training worker's thread (``Run.branch``).

The lab's branch key hands the worker a ``BranchRequest`` (through
``RunControl.branch``).  At the next boundary between two epochs the worker
calls ``Lines.take``: the main line's ``regtui.core.run.Run`` branches
(``Run.branch``: the nets forked, recorded as a child of the run it came
from, its epochs before the branch copied from the parent); the branch becomes
the main line and the parent goes on unchanged as the ghost line (still
recorded as itself).  ``Lines.events()`` interleaves the two runs' events, one
of each in turn, as ``(line, event)`` pairs, so pause and stop act on both
within one batch.  A branch of a branch stops the old ghost and makes the old
main line the ghost.

Like the rest of the worker, it only posts messages and never touches widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from textual.message import Message

from regtui.core.config import ConfigError, Experiment
from regtui.core.run import EagerSteps, RecordingStopped, Run, RunEvent
from regtui.core.run_types import BatchEnd, EpochEnd
from regtui.ui.worker.messages import BranchRefused, BranchStarted, HistoryError, StepNote

MAIN, GHOST = "main", "ghost"


@dataclass(frozen=True)
class BranchRequest:
    """What the UI asks for: go on with the knobs of ``edited`` (the config panel's
    experiment).  The worker reads the changes off it against the main line's
    experiment at the epoch where it branches (``Run.branch``)."""

    edited: Experiment


@dataclass(frozen=True)
class Line:
    """One run the worker steps, and its events (``Run.events()``, past ``RunReady``)."""

    run: Run
    events: Iterator[RunEvent]


class Lines:
    """The main line and, after a branch, the parent's continuation as the ghost line."""

    def __init__(self, main: Line, post: Callable[[Message], object], run_id: int) -> None:
        self.main = main
        self.ghost: Line | None = None
        self.post = post
        self.run_id = run_id

    def close(self) -> None:
        """Finish both runs (members still running are recorded as stopped)."""
        for line in (self.main, self.ghost):
            if line is not None:
                line.events.close()

    def take(self, request: BranchRequest) -> None:
        """Branch the main line after its last epoch and tell the UI (``BranchStarted``),
        or why not (``BranchRefused``; nothing then changes)."""
        parent = self.main
        try:
            child = parent.run.branch(request.edited)
        except (ConfigError, ValueError) as exc:
            self.post(BranchRefused(self.run_id, str(exc)))
            return
        events = child.events()
        ready = next(events)  # RunReady: the branch is in the history (or why not)
        if ready.history_error is not None:
            self.post(HistoryError(self.run_id, f"the branch: {ready.history_error}"))
        if self.ghost is not None:
            self.ghost.events.close()  # the old parent stops here (recorded as stopped)
        self.ghost, self.main = parent, Line(child, events)
        at = child.branched_from  # set by Run.branch
        self.post(BranchStarted(self.run_id, at.epoch, child.experiment, at.changes, child.history_id,
                                at.parent_id))

    def events(self) -> Iterator[tuple[str, BatchEnd | EpochEnd]]:
        """``(MAIN, event)`` and ``(GHOST, event)`` pairs, one of each in turn while
        both lines train; ends when the main line and the ghost line are done.  A
        write to the history that fails is posted (``HistoryError``), and so is a
        step that turns eager (``StepNote``): neither is yielded."""
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
                if isinstance(event, (RecordingStopped, EagerSteps)):
                    about = "the branch: " if line.run.branched_from is not None else ""
                    kind = HistoryError if isinstance(event, RecordingStopped) else StepNote
                    self.post(kind(self.run_id, about + event.message))
                    continue
                yield tag, event
                if self.main is not main:  # branched while this pair was out: start over
                    break
            if not got and self.main is main:
                return
