"""What the history store hands out: a run's summary row, a whole stored run, its errors.

``RunSummary`` is one line of ``regtui history list`` / the lab's history
screen; ``StoredRun`` is a run loaded whole (its experiment, its
``RunHistory`` rebuilt exactly, and what it trained on).  Statuses are
``regtui.core.run_types.RunStatus``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from regtui.core.config import Experiment
from regtui.core.results import METRICS, RunHistory
from regtui.core.run_types import RunStatus
from regtui.core.text import visible

METRIC_COLUMNS = tuple(m for m in METRICS if m != "epoch")
"""The metrics stored per member and epoch (one REAL column each), in ``METRICS`` order."""


class StoreError(Exception):
    """The run history cannot be read or written; ``str()`` is one line naming the file
    (control characters of a path or a message made visible)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(visible(str(message)))


class RunNotFoundError(StoreError):
    """No run with the asked id."""


class StoreBusyError(StoreError):
    """Another connection held the history's write lock for longer than this write
    would wait; worth trying again later (the recorder queues the epoch)."""


@dataclass(frozen=True)
class RunSummary:
    """One run as listed: no epochs loaded.  Times are Unix seconds."""

    id: int
    started: float
    ended: float | None
    """None while running and for a cut-off run."""
    updated: float
    """Time of the last write (the heartbeat)."""
    status: RunStatus
    """running, finished, stopped, diverged, cut off or damaged."""
    source: str
    preset: str | None
    name: str
    dataset: str
    variants: tuple[str, ...]
    seeds: int
    """Seeds per variant (train.seeds); each variant is trained once per seed."""
    epochs: int
    """Planned epochs (train.epochs)."""
    last_epoch: int
    """The last epoch recorded; -1 before epoch 0."""
    seconds: float
    """Training time at the last epoch (EpochEnd.seconds)."""
    best_val_loss: float | None
    """The lowest validation loss any variant reached (mean over seeds): early stopping's."""
    best_variant: str | None
    best_epoch: int | None
    host: str
    pid: int
    problem: str | None = None
    """Why the run is ``damaged`` (what in its row cannot be read); None when it is fine."""
    rank_by: str = "end"
    """The ranking statistic the run was ranked by (``regtui.core.ranking``)."""
    rank_value: float | None = None
    """The winner's ranking statistic (mean over seeds); None when none may be ranked first."""
    rank_variant: str | None = None
    """The winner: the variant ranked first."""
    engine: str | None = None
    """Where it trained: None or ``in-process`` here; ``ray local`` / ``ray ADDRESS`` on Ray."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON holds it: a non-finite number (a hand-edited row) as None."""
        out = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}
        out["variants"] = list(self.variants)
        out["status"] = self.status.value
        return out


@dataclass(frozen=True)
class BranchRecord:
    """A run that branched from another: at ``epoch`` it went on from the parent's
    weights with ``changes`` (``BranchChanges.to_json()``)."""

    run_id: int
    parent_id: int | None
    """None once the parent was deleted (the branch's own config is whole)."""
    epoch: int
    """The first epoch trained with the changes."""
    changes: dict[str, Any]


@dataclass(frozen=True)
class StoredRun:
    """A run loaded whole: its experiment and its history rebuilt exactly."""

    summary: RunSummary
    experiment: Experiment
    history: RunHistory
    data: dict[str, Any] | None = None
    """What the run trained on (``Dataset.summary()``), for runs recorded with it."""
    workers: dict[int, str] = field(default_factory=dict)
    """Member index -> the worker that trained it (``HOST pid N``), for engine runs."""
    branch: BranchRecord | None = None
    """Where the run branched from (``regtui.core.branch``), for a branch."""

    def to_json(self) -> dict[str, Any]:
        """The shape of ``regtui run --json``: ``RunHistory.to_json()`` plus ``data``."""
        doc = self.history.to_json()
        if self.data is not None:
            doc["data"] = self.data
        return doc

    def to_csv(self) -> str:
        """The CSV of ``RunHistory.to_csv()``."""
        return self.history.to_csv()

