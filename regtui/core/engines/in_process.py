"""The in-process engine: each training whole, here, one after another.

One shard per training (every grid point × seed of it in one stacked model),
each a ``regtui.core.run.Run`` that is not recorded (the sweep records the
shard events itself), reported after every batch and epoch as the run yields
them, so a consumer that stops iterating pauses or stops the sweep within one
batch.  It reads each training's data itself, so ``load`` goes unused.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

from regtui.core.config import Experiment
from regtui.core.data import Dataset
from regtui.core.engines.base import (
    EngineEvent, Planned, Shard, ShardBatch, ShardEnded, ShardEpoch, TrainingStarted,
)
from regtui.core.run import Run, RunReady
from regtui.core.run_types import BatchEnd, EpochEnd, plan_members


class InProcessEngine:
    label = "in-process"

    def run(self, trainings: Sequence[Experiment], load: Callable[[Experiment], Dataset]) -> Iterator[EngineEvent]:
        shards = [Shard(i, i, tuple(range(len(plan_members(exp))))) for i, exp in enumerate(trainings)]
        yield Planned(tuple(shards))
        for shard, exp in zip(shards, trainings):
            events = Run(exp, record=False).events()
            try:
                for event in events:
                    if isinstance(event, EpochEnd):
                        yield ShardEpoch(shard, event)
                    elif isinstance(event, BatchEnd):
                        yield ShardBatch(shard, event)
                    elif isinstance(event, RunReady):
                        yield TrainingStarted(shard.training, event.data)
            finally:
                events.close()
            yield ShardEnded(shard)

    def close(self) -> None:
        pass
