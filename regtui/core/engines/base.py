"""What every engine shares: shards, the events an engine streams, and ``open_engine``.

A sweep hands an engine its trainings (one ``Experiment`` per ``data.n_train``
value, whose variants are the grid points).  The engine cuts each training's
members (``plan_members``: points × seeds, variant-major) into shards, trains
each shard as one stacked model, and streams:

``Planned`` (the shards, first), ``TrainingStarted`` (a training's data is
loaded), ``ShardPlaced`` (where a shard runs, again after a retry moved it),
``ShardEpoch`` (a shard's ``EpochEnd``, its metrics one per shard member),
``ShardBatch`` (a ``BatchEnd``; in-process only) and ``ShardEnded`` (with the
error when the shard failed).  Every shard ends with exactly one
``ShardEnded``, unless the consumer stops first: then the engine cancels what
still runs.  ``regtui.core.engines.choose.open_engine`` picks the engine.

Standard library only: no torch, no ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence, Union

if TYPE_CHECKING:
    from regtui.core.config import Experiment
    from regtui.core.data import Dataset

RAY_INSTALL_HINT = "the ray engine needs Ray: pip install 'regtui[ray]'"


class EngineError(Exception):
    """The engine cannot run at all (not installed, unreachable, no resources); one line."""


@dataclass(frozen=True)
class Shard:
    """A part of one training that trains as one stacked model (one task)."""

    index: int
    """Position in the engine's plan."""
    training: int
    """Which training of the sweep."""
    members: tuple[int, ...]
    """Indices into ``plan_members`` of that training's experiment."""


@dataclass(frozen=True)
class Planned:
    shards: tuple[Shard, ...]


@dataclass(frozen=True)
class TrainingStarted:
    training: int
    data: dict[str, Any]
    """``Dataset.summary()`` of what it trains on."""


@dataclass(frozen=True)
class ShardPlaced:
    shard: Shard
    worker: str
    """Where it runs, e.g. ``10.0.0.5 pid 4242``."""


@dataclass(frozen=True)
class ShardEpoch:
    shard: Shard
    event: Any
    """An ``EpochEnd`` whose metrics and statuses are the shard's members', in order."""


@dataclass(frozen=True)
class ShardBatch:
    shard: Shard
    event: Any
    """A ``BatchEnd``."""


@dataclass(frozen=True)
class ShardEnded:
    shard: Shard
    error: str | None = None
    """None when it trained to the end; else one line saying why it failed."""


EngineEvent = Union[Planned, TrainingStarted, ShardPlaced, ShardEpoch, ShardBatch, ShardEnded]


@dataclass(frozen=True)
class ShardReport:
    """What a shard's task yields per epoch (sent from a worker to the driver)."""

    event: Any
    """The shard's ``EpochEnd``."""
    worker: str


class Engine(Protocol):
    label: str
    """Where runs train, as recorded in the history: ``in-process``, ``ray local``, ``ray ADDRESS``."""

    def run(self, trainings: Sequence["Experiment"],
            load: Callable[["Experiment"], "Dataset"]) -> Iterator[EngineEvent]:
        """Train every training (``load`` gives its data); stopping the iteration cancels."""
        ...

    def close(self) -> None:
        """Release what the engine started (a local Ray)."""
        ...


def split(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous pieces whose sizes differ by at most one."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append(range(start, stop))
        start = stop
    return out


def plan_shards(member_counts: Sequence[int], shard_size: int, slots: int) -> list[Shard]:
    """Shards for trainings of ``member_counts`` networks each.

    With ``shard_size`` > 0 every shard holds at most that many members; with 0
    the members are spread over about ``slots`` tasks (the cluster's CPUs or
    GPUs), each training getting its share and at least one task, so that the
    stacks stay as large as the cluster allows.
    """
    total = sum(member_counts)
    shards: list[Shard] = []
    for training, count in enumerate(member_counts):
        if shard_size > 0:
            parts = -(-count // shard_size)
        else:
            parts = max(1, round(max(1, slots) * count / total)) if total else 1
        for piece in split(count, parts):
            shards.append(Shard(len(shards), training, tuple(piece)))
    return shards
