"""Shard epochs back into whole-training epochs, so a sweep records as one run.

An engine reports each shard's ``EpochEnd`` (metrics of that shard's members
only), shards at their own pace.  ``EpochMerger`` buffers them and releases
epoch ``e`` of the whole training once every shard has reported it or ended
before it: the same ``EpochEnd`` sequence, row for row, that training the
whole stack in one process gives (a shard whose members all diverged stops
early, as the whole stack freezes diverged members; a failed shard's members
read ``failed`` from then on).  ``flush()`` releases what is buffered when a
sweep is stopped, with the missing members left out.  ``expand`` gives one
shard epoch as a whole-training event at once, for views that fill in as
shards report.  A shard epoch seen twice (a retried task) counts once.
"""

from __future__ import annotations

from typing import Any, Sequence

from regtui.core.engines.base import Shard
from regtui.core.run_types import EpochEnd, RunStatus

FAILED, RUNNING, STOPPED = RunStatus.FAILED, RunStatus.RUNNING, RunStatus.STOPPED


def _epoch_end(epoch: int, metrics: Sequence[Any], statuses: Sequence[RunStatus], seconds: float) -> EpochEnd:
    return EpochEnd(epoch, tuple(metrics), tuple(statuses), seconds)


class EpochMerger:
    """One training's shards in, its whole ``EpochEnd`` events out, in epoch order."""

    def __init__(self, n_members: int, shards: Sequence[Shard]) -> None:
        self.n = n_members
        self.shards = list(shards)
        covered = sorted(m for s in self.shards for m in s.members)
        if covered != list(range(n_members)):
            raise ValueError("the shards must cover every member exactly once")
        self._last = {s.index: -1 for s in self.shards}
        """Shard -> the last epoch it reported."""
        self._pending: dict[int, dict[int, Any]] = {}
        """Epoch -> shard -> that shard's event, until the epoch is released."""
        self._ended: set[int] = set()
        self._final: list[RunStatus] = [RUNNING] * n_members
        """Per member: the status its shard ended with."""
        self._released: list[RunStatus] = [RUNNING] * n_members
        """Per member: the status in the last released event."""
        self._eager: list[RunStatus] = [RUNNING] * n_members
        """Per member: the latest status any shard reported (for ``expand``)."""
        self._next = 0

    # ------------------------------------------------------------------ input

    def add(self, shard: Shard, event: Any) -> list[Any]:
        """A shard's epoch; returns the whole epochs that became complete."""
        if shard.index in self._ended or event.epoch <= self._last[shard.index]:
            return []  # a retried task repeating what already arrived
        self._last[shard.index] = event.epoch
        self._pending.setdefault(event.epoch, {})[shard.index] = event
        for j, m in enumerate(shard.members):
            self._eager[m] = RunStatus(event.statuses[j])
        return self._release()

    def end(self, shard: Shard, error: str | None = None) -> list[Any]:
        """A shard finished (``error`` None) or failed; returns epochs now complete."""
        if shard.index in self._ended:
            return []
        self._ended.add(shard.index)
        for m in shard.members:
            status = FAILED if error is not None else self._eager[m]
            self._final[m] = STOPPED if status == RUNNING else status
            self._eager[m] = self._final[m]
        return self._release()

    def flush(self) -> list[Any]:
        """Everything still buffered, oldest first (a stopped sweep: nothing is lost)."""
        out = [self._build(epoch, self._pending[epoch]) for epoch in sorted(self._pending) if epoch >= self._next]
        self._pending.clear()
        if out:
            self._next = out[-1].epoch + 1
        return out

    # ------------------------------------------------------------------ output

    @property
    def done(self) -> bool:
        return len(self._ended) == len(self.shards)

    def ended_members(self) -> set[int]:
        return {m for s in self.shards if s.index in self._ended for m in s.members}

    def final_statuses(self) -> list[RunStatus]:
        """Per member: how it ended; ``stopped`` for members whose shard never ended."""
        ended = self.ended_members()
        return [self._final[m] if m in ended else STOPPED for m in range(self.n)]

    def expand(self, shard: Shard, event: Any) -> Any:
        """One shard epoch as a whole-training event (other members: no metrics)."""
        metrics: list[Any] = [None] * self.n
        for j, m in enumerate(shard.members):
            metrics[m] = event.metrics[j]
        return _epoch_end(event.epoch, metrics, self._eager, event.seconds)

    # ------------------------------------------------------------------ inside

    def _release(self) -> list[Any]:
        out = []
        while True:
            epoch = self._next
            reports = self._pending.get(epoch, {})
            waiting = [s for s in self.shards if s.index not in reports
                       and not (s.index in self._ended and self._last[s.index] < epoch)]
            if waiting or not reports:
                return out
            out.append(self._build(epoch, reports))
            del self._pending[epoch]
            self._next += 1

    def _build(self, epoch: int, reports: dict[int, Any]) -> Any:
        metrics: list[Any] = [None] * self.n
        for s in self.shards:
            event = reports.get(s.index)
            if event is not None:
                for j, m in enumerate(s.members):
                    metrics[m] = event.metrics[j]
                    self._released[m] = RunStatus(event.statuses[j])
            elif s.index in self._ended and self._last[s.index] < epoch:
                for m in s.members:
                    self._released[m] = self._final[m]
        seconds = max(event.seconds for event in reports.values())
        return _epoch_end(epoch, metrics, self._released, seconds)
