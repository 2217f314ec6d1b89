"""Messages the training worker posts to the app, named for what happened.

Every message carries the ``run_id`` of the run that sent it, so the app can
ignore stragglers from a run it already replaced.  Small dataclasses; the
worker only builds these and calls ``post_message`` (thread-safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


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

    events: tuple[Any, ...]


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
