"""Messages the training worker posts to the app, named for what happened.

Every message carries the ``run_id`` of the run that sent it, so the app can
ignore stragglers from a run it already replaced.  Small dataclasses; the
worker only builds these and calls ``post_message`` (thread-safe).  A run's
child process sends their fields over a pipe and the worker thread builds
them again (``regtui.ui.worker.process``): the fields are plain data (core's
frozen dataclasses, numpy arrays), never widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from regtui.core.run import InsightSnapshot
from regtui.core.run_types import EpochEnd

if TYPE_CHECKING:
    from regtui.core.insight_types import DecisionMap, WeightHistogram


@dataclass
class RunMessage(Message):
    run_id: int


@dataclass
class RunStarted(RunMessage):
    """Torch is imported, the data loaded and the models built; epoch 0 comes next."""

    n_batches: int


@dataclass
class EpochsEnded(RunMessage):
    """``EpochEnd`` events from ``Training.events()`` (epoch 0 included), in order.

    The worker gathers the epochs that end within ``runner.FLUSH_INTERVAL`` into
    one message, so a tiny net doing a thousand epochs a second does not wake
    the UI a thousand times a second.
    """

    events: tuple[EpochEnd, ...]


@dataclass
class GhostEpochs(RunMessage):
    """``EpochEnd`` events of the parent's continuation after a branch (drawn as the ghost)."""

    events: tuple[EpochEnd, ...]


@dataclass
class BranchStarted(RunMessage):
    """The run branched: from ``epoch`` on the main line trains ``experiment`` (the
    parent's config plus schedule entries at ``epoch``); the parent goes on as the ghost."""

    epoch: int
    """The first epoch trained with the changes."""
    experiment: Any
    changes: Any
    """The ``BranchChanges``."""
    history_id: int | None
    """The branch's id in the run history (None: not recorded)."""
    parent_id: int | None


@dataclass
class BranchRefused(RunMessage):
    """The branch the UI asked for cannot be made (one line saying why); the run goes on."""

    message: str


@dataclass
class BatchProgress(RunMessage):
    """Progress inside an epoch; sent a few times a second at most."""

    epoch: int
    batch: int
    n_batches: int


@dataclass
class RunFinished(RunMessage):
    """The run ended: all epochs done, every variant diverged, or stopped."""

    stopped: bool


@dataclass
class RunFailed(RunMessage):
    """The run could not start or crashed; ``message`` is one clear line."""

    message: str


@dataclass
class InsightReady(RunMessage):
    """Why the variants differ: the run's ``InsightSnapshot`` (``Run.insight``, frozen),
    one entry per variant (its first seed's member; weights of all seeds pooled).

    Sent at most every ``runner.INSIGHT_INTERVAL`` while a view asks for it,
    and once when the run ends or pauses.
    """

    snapshot: InsightSnapshot

    @property
    def epoch(self) -> int:
        return self.snapshot.epoch

    @property
    def boundary(self) -> DecisionMap | None:
        """A ``DecisionMap`` (``[V, rows, cols]``), or None: not asked, or no 2-D data set."""
        return self.snapshot.boundary

    @property
    def weights(self) -> WeightHistogram | None:
        """A ``WeightHistogram`` (``[V, bins]``, seeds pooled), or None when not asked."""
        return self.snapshot.weights

    @property
    def no_plane(self) -> str:
        """Why there is no decision map ("" when there is one or none was asked)."""
        return self.snapshot.no_plane


@dataclass
class SweepProgressed(RunMessage):
    """A sweep's progress: epochs done over all of its trainings (a few times a second)."""

    done_epochs: int
    total_epochs: int


@dataclass
class SweepPointsFinished(RunMessage):
    """A sweep's training ended: its grid points (``regtui.core.sweep.SweepPoint``), in grid order."""

    points: tuple[Any, ...]


@dataclass
class RunRecorded(RunMessage):
    """The run is being recorded in the history as ``history_id`` (None when the
    store could not be opened); ``data`` is what it trains on (``regtui run --json``'s
    ``data`` summary)."""

    history_id: int | None
    data: dict[str, Any]


@dataclass
class HistoryError(RunMessage):
    """Recording the run in the history failed; the run goes on.  Sent once per run."""

    message: str


@dataclass
class StepNote(RunMessage):
    """Why the training step runs eagerly although ``train.cuda_graph`` asked for a CUDA
    graph (the run's ``EagerSteps``; "the branch: …" for a branch's); the
    run goes on.  Sent at most once per run."""

    message: str
