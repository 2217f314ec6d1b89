"""What a worker runs for one shard: some members of one training, as one stack.

``train_shard`` trains the members ``member_indices`` of
``plan_members(experiment)`` on ``dataset`` and yields each epoch's
``EpochEnd`` (metrics of those members only).  Every member keeps its seed,
initial weights, batch order and dropout generator, so its numbers are those
it gets in the whole stack (``Training``'s ``members``).  Engine-agnostic: the
Ray engine wraps it in a task; tests call it directly.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterator, Sequence

from regtui.core.config import Experiment
from regtui.core.data import Dataset
from regtui.core.run_types import EpochEnd, plan_members


def train_shard(experiment: Experiment, dataset: Dataset, member_indices: Sequence[int],
                threads: int = 1) -> Iterator[Any]:
    import torch

    from regtui.core.training import Training

    torch.set_num_threads(max(1, int(threads)))
    planned = plan_members(experiment)
    members = [planned[i] for i in member_indices]
    with warnings.catch_warnings():
        # Arrays from Ray's object store are read-only views; training never writes to them.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        training = Training(experiment, dataset, members)
    events = training.events()
    try:
        for event in events:
            if isinstance(event, EpochEnd):
                yield event
    finally:
        events.close()
