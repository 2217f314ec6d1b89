"""The sweep worker's body: runs ``regtui.core.sweep.run_sweep`` in a thread.

``sweep(post, experiment, control, is_cancelled)`` is what the sweep view's
``@work(thread=True)`` method calls.  It drives ``run_sweep`` as ``regtui
sweep`` does (on the engine the Sweep section names; in process, each training
a core ``Run``) and records it in the run history as ``regtui sweep`` does
(``regtui.core.sweep.SweepRecording``: each training a run, its grid points the
run's variants; the lab's source, ``tui``).  Like ``runner.train`` it never
touches widgets: it only calls ``post`` with messages of
``regtui.ui.worker.messages`` (``RunStarted``, ``SweepProgressed``,
``SweepPointsFinished``, ``HistoryError`` when a training cannot be recorded,
``RunFinished`` or ``RunFailed``), and it shares
``runner.RunControl`` so pause, stop and ``q`` work as for a plain run.  ``run_sweep`` yields after every batch, so pause
and stop take effect between two batches.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator

from textual.message import Message

from regtui.core.config import Experiment
from regtui.ui.worker.messages import (
    HistoryError, RunFailed, RunFinished, RunStarted, SweepPointsFinished, SweepProgressed,
)
from regtui.startup import loaded
from regtui.ui.worker.runner import SOURCE, RunControl, guarded, in_background, may_go_on

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


def _first_item(stream: Iterator[Any], control: RunControl, is_cancelled: Callable[[], bool],
                close: Callable[[], None]) -> tuple[bool, Any]:
    """The stream's first item, computed off the worker (the in-process engine's
    first ``Run`` imports torch and loads the data, as for ``regtui sweep``);
    ``(False, None)`` when stopped first, ``(True, None)`` for an empty stream.
    Stopped first, ``close`` is called once the stream is free: by the helper
    thread when it gets the item later, else here."""
    lock = threading.Lock()
    state = {"got": False, "left": False}

    def first() -> Any:
        try:
            return next(stream, None)
        finally:
            with lock:
                state["got"] = True
                left = state["left"]
            if left:  # the worker has gone: the stream is this thread's to close
                close()

    ok, item = in_background(first, control, is_cancelled, name="regtui-sweep-setup")
    if not ok:
        with lock:
            state["left"] = True
            got = state["got"]
        if got:
            close()
    return ok, item


def _sweep(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    from regtui.core.engines.base import EngineError
    from regtui.core.sweep import SweepProgress, SweepRecording, run_sweep

    rid = control.run_id
    recording = SweepRecording.open(source=SOURCE, preset=experiment.name,
                                    on_problem=lambda line: post(HistoryError(rid, f"this sweep: {line}")))
    stream = run_sweep(experiment, record=recording)  # on the engine the Sweep section names (engine.kind)

    def close() -> None:
        stream.close()  # what arrived is recorded, the runs finished
        if recording is not None:
            recording.close()

    try:
        ok, item = _first_item(stream, control, is_cancelled, close)
    except EngineError as exc:  # Ray missing or unreachable: one line, as the CLI says it
        close()
        post(RunFailed(rid, str(exc)))
        return
    if not ok:
        post(RunFinished(rid, stopped=True))  # the stream is closed once the helper lets go of it
        return
    loaded()
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
        close()
    post(RunFinished(rid, stopped=False))
