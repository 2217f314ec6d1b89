"""The sweep worker's body: runs ``regtui.core.sweep.run_sweep`` in a thread.

``sweep(post, experiment, control, is_cancelled)`` is what the sweep view's
``@work(thread=True)`` method calls.  It drives ``run_sweep`` as ``regtui
sweep`` does (on the engine the Sweep section names; in process, each training
a core ``Run``), except that it records nothing in the run history (``regtui
sweep`` does, unless ``--no-history``).  Like ``runner.train`` it never
touches widgets: it only calls ``post`` with messages of
``regtui.ui.worker.messages`` (``RunStarted``, ``SweepProgressed``,
``SweepPointsFinished``, ``RunFinished`` or ``RunFailed``), and it shares
``runner.RunControl`` so pause, stop and ``q`` work as for a plain run.  ``run_sweep`` yields after every batch, so pause
and stop take effect between two batches.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

from textual.message import Message

from regtui.core.config import Experiment
from regtui.ui.worker.messages import RunFailed, RunFinished, RunStarted, SweepPointsFinished, SweepProgressed
from regtui.ui.worker.runner import RunControl, freeze_gc_once, guarded, in_background, may_go_on

PROGRESS_INTERVAL = 0.1
"""Seconds between two ``SweepProgressed`` messages."""


def total_epochs(experiment: Experiment) -> int:
    """Epochs a sweep trains: one training per ``data.n_train`` value (or one)."""
    n_axis = next((a for a in experiment.sweep if a.key == "data.n_train"), None)
    return experiment.train.epochs * (len(n_axis.values) if n_axis else 1)


def sweep(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    """Run the whole sweep, posting progress and each training's points."""
    guarded(_sweep, post, experiment, control, is_cancelled)


def _first_item(stream: Iterator[Any], control: RunControl, is_cancelled: Callable[[], bool]) -> tuple[bool, Any]:
    """The stream's first item, computed off the worker (the in-process engine's
    first ``Run`` imports torch and loads the data, as for ``regtui sweep``);
    ``(False, None)`` when stopped first, ``(True, None)`` for an empty stream."""
    return in_background(lambda: next(stream, None), control, is_cancelled, name="regtui-sweep-setup")


def _sweep(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    from regtui.core.sweep import SweepProgress, run_sweep

    from regtui.core.engines.base import EngineError

    rid = control.run_id
    stream = run_sweep(experiment)  # on the engine the Sweep section names (engine.kind)
    try:
        ok, item = _first_item(stream, control, is_cancelled)
    except EngineError as exc:  # Ray missing or unreachable: one line, as the CLI says it
        post(RunFailed(rid, str(exc)))
        return
    if not ok:
        post(RunFinished(rid, stopped=True))  # the helper still holds the stream: leave it be
        return
    freeze_gc_once()
    post(RunStarted(rid, 0))
    last_progress = 0.0
    try:
        while item is not None:
            now = time.monotonic()
            if isinstance(item, SweepProgress):
                if now - last_progress >= PROGRESS_INTERVAL or item.done_epochs == item.total_epochs:
                    last_progress = now
                    post(SweepProgressed(rid, item.done_epochs, item.total_epochs))
            else:
                post(SweepPointsFinished(rid, tuple(item)))
            if not may_go_on(control, is_cancelled):
                post(RunFinished(rid, stopped=True))
                return
            item = next(stream, None)
    finally:
        stream.close()
    post(RunFinished(rid, stopped=False))
