"""One recorded comparison, run: training, the run history and insight, together.

``Run`` is what every front end drives — the lab's worker thread, ``regtui
run``, ``regtui sweep`` and the tests — so a run is composed in one place::

    run = Run(experiment, source="cli", preset="moons-overfit")   # record=False: no history
    run.prepare()                  # optional: imports torch, reads the data, builds the nets
    for event in run.events():     # RunReady, then BatchEnd / EpochEnd, maybe RecordingStopped, EagerSteps
        ...                        # pause: just do not ask for the next event
        snapshot = run.insight(InsightRequest(boundary=(64, 40), bins=25, by_variant=True))
    run.outcome                    # RunOutcome: statuses, the run's status, history id, problems
    run.history                    # RunHistory of everything the run yielded

    child = run.branch(edited)     # after an EpochEnd: goes on with edited's knobs, recorded as
    for event in child.events():   # the run's child; run itself goes on unchanged (iterate both)
        ...

What it guarantees:

- **Recording.**  The experiment is recorded with its data path made absolute
  (``config.absolute_data_path``), so a stored run trains again from any
  folder.  Every ``EpochEnd`` is written to the history before it is yielded.
  The history never stops a run: a store that cannot be opened is reported in
  ``RunReady.history_error``, a failed write once as ``RecordingStopped``.
- **Stopping.**  Closing the generator (``events.close()``, or leaving a ``for``
  loop with ``break`` and dropping it), an exception inside it (Ctrl+C
  included) or its end finishes the run within one batch: members still
  running become ``stopped``, the recorder writes the final statuses, and
  ``outcome`` is set.  Pausing needs nothing: the run waits between two
  events for as long as its driver does.
- **Branching.**  ``branch(edited)`` is a new ``Run`` started from this one's
  state between two epochs (``regtui.core.branch``; docs/semantics.md,
  "Schedules and branches"): the nets forked, its history up to the branch
  point this run's, its experiment this run's plus schedule entries at the
  branch epoch, recorded as this run's child (its epochs before the branch
  copied).  Both runs then train and record on their own.
- **Insight.**  ``insight(request)`` computes decision maps and weight
  histograms from the live nets.  Requests and snapshots are frozen: a thread
  that drives the run can take the latest request another thread handed it
  (a message, or one reference swapped whole) and hand back the snapshot;
  nothing mutable crosses threads.

Threads.  A ``Run`` belongs to the thread that iterates ``events()``; call
``insight`` from that thread, between two events or after the end.
``prepare`` may run in a helper thread first (the lab does, so a stop during
``import torch`` returns at once); ``events()`` sets torch's intra-op thread
count (``configure_torch``) again in its own thread, since torch keeps that
count per thread: a thread that used torch before (the main thread of the lab's
fork-server child) would otherwise train with its old count.

Imports torch only inside ``prepare`` (through ``regtui.core.training``): the
module itself, its requests and its events are torch-free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from regtui.core.config import Experiment, absolute_data_path
from regtui.core.results import RunHistory
from regtui.core.run_types import BatchEnd, EpochEnd, RunStatus, run_status, stopped_if_running

if TYPE_CHECKING:
    from regtui.core.branch import BranchChanges
    from regtui.core.insight_types import DecisionMap, WeightHistogram
    from regtui.core.recorder import Recorder
    from regtui.core.store import RunStore
    from regtui.core.training import Training


# --------------------------------------------------------------------------- what a run yields

@dataclass(frozen=True)
class RunReady:
    """Torch is loaded, the data read, the nets built and the run (maybe) recorded:
    epoch 0 comes next."""

    n_batches: int
    """Batches per epoch."""
    data: dict[str, Any]
    """What the run trains on (``Dataset.summary()``: task, sizes, class names)."""
    history_id: int | None
    """The run's id in the history; None when it is not recorded."""
    history_error: str | None
    """Why it is not recorded although it was asked to be (one line), else None."""


@dataclass(frozen=True)
class RecordingStopped:
    """A write to the history failed; training goes on, unrecorded from here on."""

    message: str


@dataclass(frozen=True)
class EagerSteps:
    """The training step runs eagerly from here on although ``train.cuda_graph`` asked
    for a CUDA graph (``Training.step_note``: this torch cannot capture, a capture
    failed, or a replay differed from the eager step); training goes on.  Yielded at
    most once, right after ``RunReady`` or after the event during which it happened."""

    message: str


RunEvent = RunReady | BatchEnd | EpochEnd | RecordingStopped | EagerSteps


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended (``Run.outcome``, once ``events()`` is done)."""

    statuses: tuple[RunStatus, ...]
    """Per member: finished, diverged or stopped."""
    status: RunStatus
    """The run's: stopped if any member stopped, diverged if all diverged, else finished."""
    history_id: int | None
    """Where the history keeps it (None: not recorded)."""
    history_error: str | None
    """Why the history lacks it or part of it (None: recorded whole, or not asked)."""

    @property
    def stopped(self) -> bool:
        return self.status is RunStatus.STOPPED


@dataclass(frozen=True)
class BranchPoint:
    """Where a branch left its parent (``Run.branched_from``)."""

    parent_id: int | None
    """The parent's id in the history (None: the parent is not recorded)."""
    epoch: int
    """The branch's first epoch trained with the changes."""
    changes: BranchChanges


# --------------------------------------------------------------------------- insight

@dataclass(frozen=True)
class InsightRequest:
    """What a front end wants to see of the live nets; immutable, so it can be
    handed from one thread to another whole."""

    boundary: tuple[int, int] | None = None
    """(cols, rows) of the decision-map grid; None: no map."""
    bins: int | None = None
    """Bins of the weight histograms; None: no histograms."""
    by_variant: bool = False
    """One entry per variant (the map of its first seed's member, the weights of all
    its seeds pooled) instead of one per member."""

    @property
    def empty(self) -> bool:
        return self.boundary is None and self.bins is None


@dataclass(frozen=True)
class InsightSnapshot:
    """Decision maps and weight histograms at one epoch (numpy arrays, never changed)."""

    epoch: int
    """The epoch of the run's last event (in progress after a ``BatchEnd``)."""
    names: tuple[str, ...]
    """Whose entries, in order: members, or variants with ``by_variant``."""
    boundary: DecisionMap | None
    """None when not asked for or when the data is not a 2-D classification problem."""
    weights: WeightHistogram | None
    no_plane: str = ""
    """Why a map was asked for and there is none ("" otherwise)."""


# --------------------------------------------------------------------------- the run

class Run:
    """One comparison, trained and (unless ``record=False``) recorded; see the module docstring."""

    def __init__(self, experiment: Experiment, *, record: bool = True, source: str = "cli",
                 preset: str | None = None, store_path: str | os.PathLike[str] | None = None) -> None:
        self.experiment = absolute_data_path(experiment)
        """The experiment as trained and recorded (its data path made absolute)."""
        self.record = record
        self.source = source
        """Who ran it, as the history lists it: ``cli`` or ``tui``."""
        self.preset = preset
        """The preset name or path as given; the history lists it."""
        self.store_path = Path(store_path) if store_path is not None else None
        """The history file; None: the default (``$REGTUI_HOME``)."""
        self.history = RunHistory(self.experiment)
        """Every ``EpochEnd`` the run yielded (owned by the thread that iterates)."""
        self.outcome: RunOutcome | None = None
        """Set when ``events()`` is done, however it ended."""
        self.epoch = -1
        """The last epoch that ended (-1 before epoch 0)."""
        self.history_id: int | None = None
        """The run's id in the history, once ``events()`` has opened it (None: not recorded)."""
        self.branched_from: BranchPoint | None = None
        """Set on a run made by ``branch``."""
        self._at = 0
        """The epoch of the last event (the one in progress after a ``BatchEnd``)."""
        self._training: Training | None = None
        self._started = False

    @property
    def training(self) -> Training:
        """The nets being trained (``prepare()`` first)."""
        if self._training is None:
            raise RuntimeError("Run.prepare() has not run yet")
        return self._training

    def prepare(self) -> Training:
        """Import torch, read the data and build every member; raises ``ConfigError``
        for data or a device that cannot be had.  Done once; ``events()`` calls it."""
        if self._training is None:
            from regtui.core.training import Training, configure_torch

            configure_torch()
            self._training = Training(self.experiment)
        return self._training

    def events(self) -> Iterator[RunEvent]:
        """Run to the end, yielding what happens; can be iterated once."""
        if self._started:
            raise RuntimeError("a Run is iterated once; make a new Run to train again")
        self._started = True
        training = self.prepare()
        from regtui.core.training import configure_torch  # torch is loaded: prepare has run

        configure_torch()  # in this thread, the one that trains: torch's count is per thread
        data = training.dataset.summary()
        store, recorder, problem = self._open_recorder(data)
        history_id = self.history_id = recorder.run_id if recorder is not None else None
        steps = training.events()
        try:
            yield RunReady(training.n_batches, data, history_id, problem)
            said_eager = training.step_note is not None
            if said_eager:
                yield EagerSteps(training.step_note)
            for event in steps:
                if isinstance(event, EpochEnd):
                    if recorder is not None and recorder.error is None:
                        recorder.add(event)
                        if recorder.error is not None:
                            problem = f"recording stopped: {recorder.error}"
                            yield RecordingStopped(problem)
                    self.history.add(event)
                    self.epoch = event.epoch
                self._at = event.epoch
                yield event
                if not said_eager and training.step_note is not None:  # a capture failed or differed
                    said_eager = True
                    yield EagerSteps(training.step_note)
        finally:
            steps.close()  # members still running become stopped
            statuses = stopped_if_running(training.statuses)
            self.history.mark_stopped()
            if recorder is not None:
                recorder.finish(statuses)
                if recorder.error is not None and problem is None:
                    problem = f"recording stopped: {recorder.error}"
            if store is not None:
                store.close()
            self.outcome = RunOutcome(statuses, run_status(statuses), history_id, problem)

    def _open_recorder(self, data: dict[str, Any]) -> tuple[RunStore | None, Recorder | None, str | None]:
        if not self.record:
            return None, None, None
        from regtui.core.run_records import StoreError
        from regtui.core.store import RunStore

        store = None
        options: dict[str, Any] = {"source": self.source, "preset": self.preset, "data": data}
        try:
            store = RunStore.open(self.store_path)
            at = self.branched_from
            if at is None:
                return store, store.recorder(self.experiment, **options), None
            from regtui.core.branch import record_branch

            # the epochs before the branch are the parent's: this run's history holds them
            return store, record_branch(store, at.parent_id, self.experiment, self.history, at.epoch, at.changes,
                                        **options), None
        except StoreError as exc:
            if store is not None:
                store.close()
            return None, None, f"not recorded: {exc}"

    def branch(self, edited: Experiment) -> Run:
        """A new run that goes on from this one's last epoch with the λ / η / p / lr
        (and epochs) that ``edited`` changes; see the module docstring.  Call it from the
        thread that iterates ``events()``, after an ``EpochEnd``.  Raises ``ConfigError``
        when ``edited`` changes what a branch cannot (``edited_changes``) and
        ``ValueError`` when no epoch is left to train; this run is then untouched."""
        from regtui.core.branch import branch_experiment, edited_changes, fork, replay

        training = self.training
        epoch = training.epochs_done + 1
        changes = edited_changes(self.experiment, edited, epoch)
        experiment = branch_experiment(self.experiment, epoch, changes)
        nets = fork(training, experiment)
        child = Run(experiment, record=self.record, source=self.source, preset=self.preset,
                    store_path=self.store_path)
        child._training = nets
        child.branched_from = BranchPoint(self.history_id, epoch, changes)
        for event in replay(self.history, epoch - 1):
            child.history.add(event)
        child.epoch = child._at = epoch - 1
        return child

    def insight(self, request: InsightRequest) -> InsightSnapshot:
        """Decision maps and weight histograms of the nets as they are now."""
        from regtui.core.insight import decision_map, has_plane, weight_histogram

        training = self.training
        members = training.members
        if request.by_variant:
            first_seed = min(m.seed for m in members)
            rows = [i for i, m in enumerate(members) if m.seed == first_seed]  # one per variant, in order
            names = tuple(v.name for v in self.experiment.variants)
        else:
            rows = list(range(len(members)))
            names = tuple(m.name for m in members)
        boundary = weights = None
        no_plane = ""
        if request.boundary is not None:
            if has_plane(training):
                cols, n_rows = request.boundary
                dm = decision_map(training, cols, n_rows)
                boundary = dm if not request.by_variant else replace(
                    dm, prob=dm.prob[rows], label=dm.label[rows], wrong=dm.wrong[rows])
            else:
                ds = training.dataset
                no_plane = f"{ds.task}, {ds.n_features} features: decision maps need 2-D classification data"
        if request.bins is not None:
            hist = weight_histogram(training, request.bins)
            if request.by_variant:
                pooled = [hist.counts[[i for i, m in enumerate(members) if m.variant_index == v]].sum(0)
                          for v in range(len(self.experiment.variants))]
                hist = replace(hist, counts=np.stack(pooled))
            weights = hist
        return InsightSnapshot(self._at, names, boundary, weights, no_plane)
