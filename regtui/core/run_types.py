"""The vocabulary of a run: its statuses, its members, and the events it yields.

Everything that consumes a run speaks these types: the training loop yields
``EpochEnd`` and ``BatchEnd``; the history store, the recorder, ``RunHistory``,
the verdict and the lab's messages read them.  Members — a variant at one
seed — are planned here once (``plan_members``); every other place that needs
"which member is which variant" asks this module.

Imports the standard library, numpy (``dropout_seed``) and, for type hints
only, ``regtui.core.config``: never torch or UI code, so the store and the
lab's messages can use it without paying for torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from regtui.core.config import Experiment


class RunStatus(str, Enum):
    """Where a member (a variant at one seed) or a whole recorded run stands.

    A ``str`` subclass: ``RunStatus.DIVERGED == "diverged"``, and it is stored,
    printed and written to JSON as its value.
    """

    RUNNING = "running"
    """Still training (for a stored run: its process is alive)."""
    FINISHED = "finished"
    """Trained every planned epoch."""
    STOPPED = "stopped"
    """Stopped before its last epoch (``x``, ``q``, Ctrl+C, an error)."""
    DIVERGED = "diverged"
    """Its loss turned NaN/inf or grew past 1000× its epoch-0 loss; frozen since."""
    CUT_OFF = "cut off"
    """A stored run whose process died without finishing (never written, only reported)."""
    DAMAGED = "damaged"
    """A stored run whose row cannot be read (a hand-edited or corrupted file): listed
    with what is wrong, never loaded, deletable (never written, only reported)."""
    FAILED = "failed"
    """Its engine task failed (a Ray worker died past its retries, or the task raised)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def ended(self) -> bool:
        """True for every status but ``running``."""
        return self is not RunStatus.RUNNING


def run_status(statuses: Sequence[str]) -> RunStatus:
    """A run's status from its members' final statuses: ``failed`` if any member's
    engine task failed, ``stopped`` if any member was stopped (or still running),
    ``diverged`` if all diverged, else ``finished``."""
    if any(s == RunStatus.FAILED for s in statuses):
        return RunStatus.FAILED
    if any(s in (RunStatus.STOPPED, RunStatus.RUNNING) for s in statuses):
        return RunStatus.STOPPED
    if statuses and all(s == RunStatus.DIVERGED for s in statuses):
        return RunStatus.DIVERGED
    return RunStatus.FINISHED


def stopped_if_running(statuses: Sequence[RunStatus]) -> tuple[RunStatus, ...]:
    """The statuses of a run that ends now: members still running become stopped."""
    return tuple(RunStatus.STOPPED if s == RunStatus.RUNNING else RunStatus(s) for s in statuses)


# --------------------------------------------------------------------------- events

@dataclass(frozen=True, slots=True)
class EpochMetrics:
    """What one member achieved at the end of one epoch (docs/semantics.md)."""

    epoch: int
    train_loss: float
    val_loss: float
    train_acc: float | None
    val_acc: float | None
    objective: float
    penalty: float
    weight_norm: float
    gap: float
    seconds: float


@dataclass(frozen=True, slots=True)
class BatchEnd:
    """One optimizer step of every live member is done."""

    epoch: int
    batch: int
    """1-based index of the batch just done within the epoch."""
    n_batches: int


@dataclass(frozen=True, slots=True)
class EpochEnd:
    """Every member's metrics after one epoch (epoch 0: the initial weights)."""

    epoch: int
    metrics: tuple[EpochMetrics | None, ...]
    """One entry per member (``plan_members`` order); None for a member that
    diverged in an earlier epoch (it is reported once, when it diverged)."""
    statuses: tuple[RunStatus, ...]
    """Per member, after this epoch: running, finished or diverged."""
    seconds: float


Event = BatchEnd | EpochEnd


# --------------------------------------------------------------------------- members

@dataclass(frozen=True, slots=True)
class Member:
    """One trained network of the stack: a variant at one seed."""

    name: str
    """The variant's name, with `` · seed N`` when the run has several seeds."""
    variant: str
    variant_index: int
    seed: int


def member_name(variant: str, seed: int, n_seeds: int) -> str:
    """How a member is named: the variant's name, plus `` · seed N`` with several seeds."""
    return variant if n_seeds == 1 else f"{variant} · seed {seed}"


def plan_members(experiment: Experiment) -> tuple[Member, ...]:
    """Every member of a run, variant-major: each seed of the first variant, then
    of the next, ...  The order of ``EpochEnd.metrics`` and of the stored rows."""
    t = experiment.train
    seeds = [t.seed + i for i in range(t.seeds)]
    return tuple(
        Member(member_name(v.name, s, len(seeds)), v.name, i, s)
        for i, v in enumerate(experiment.variants)
        for s in seeds
    )


def dropout_seed(seed: int, variant_index: int) -> int:
    """Seed of a member's own dropout generator, independent of every other member's."""
    import numpy as np

    return int(np.random.SeedSequence([seed, variant_index, 0xD50]).generate_state(1, np.uint64)[0] >> 1)
