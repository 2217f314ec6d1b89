"""What the history store hands out: a run's summary row and a whole stored run.

``RunSummary`` is one line of ``regtui history list`` / the lab's history
screen; ``StoredRun`` is a run loaded whole (its experiment, its
``RunHistory`` rebuilt exactly, and what it trained on); ``run_status`` turns
the members' final statuses into the run's.  Re-exported by ``regtui.core.store``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from regtui.core.config import Experiment
from regtui.core.results import RunHistory

RUNNING, FINISHED, STOPPED, DIVERGED, CUT_OFF = "running", "finished", "stopped", "diverged", "cut off"
RUN_STATUSES = (RUNNING, FINISHED, STOPPED, DIVERGED, CUT_OFF)


@dataclass(frozen=True)
class RunSummary:
    """One run as listed: no epochs loaded.  Times are Unix seconds."""

    id: int
    started: float
    ended: float | None
    """None while running and for a cut-off run."""
    updated: float
    """Time of the last write (the heartbeat)."""
    status: str
    """running, finished, stopped, diverged or cut off."""
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
    best_variant: str | None
    best_epoch: int | None
    host: str
    pid: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["variants"] = list(self.variants)
        return out


@dataclass(frozen=True)
class StoredRun:
    """A run loaded whole: its experiment and its history rebuilt exactly."""

    summary: RunSummary
    experiment: Experiment
    history: RunHistory
    data: dict[str, Any] | None = None
    """What the run trained on (``Dataset.summary()``), for runs recorded with it."""

    def to_json(self) -> dict[str, Any]:
        """The shape of ``regtui run --json``: ``RunHistory.to_json()`` plus ``data``."""
        doc = self.history.to_json()
        if self.data is not None:
            doc["data"] = self.data
        return doc

    def to_csv(self) -> str:
        """The CSV of ``RunHistory.to_csv()``."""
        return self.history.to_csv()


def run_status(statuses: Sequence[str]) -> str:
    """A run's status from its members' final statuses."""
    if any(s in (STOPPED, RUNNING) for s in statuses):
        return STOPPED
    if statuses and all(s == DIVERGED for s in statuses):
        return DIVERGED
    return FINISHED


def _real(value: float | None) -> float | None:
    """What is stored for a metric: NaN as NULL (SQLite would do it anyway), the rest as is."""
    return None if value is None or value != value else float(value)
