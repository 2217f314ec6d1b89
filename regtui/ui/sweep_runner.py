"""The sweep worker's body: runs ``regtui.core.sweep.run_sweep`` in a thread.

``sweep(post, experiment, control, is_cancelled)`` is what the sweep view's
``@work(thread=True)`` method calls.  Like ``runner.train`` it never touches
widgets: it only calls ``post`` with messages of ``regtui.ui.messages``
(``RunStarted``, ``SweepProgressed``, ``SweepPointsFinished``, ``RunFinished``
or ``RunFailed``), and it shares ``runner.RunControl`` so pause, stop and
``q`` work as for a plain run.  ``run_sweep`` yields after every batch, so pause
and stop take effect between two batches.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator

from textual.message import Message

from regtui.core.config import ConfigError, Experiment
from regtui.ui.messages import RunFailed, RunFinished, RunStarted, SweepPointsFinished, SweepProgressed
from regtui.ui.runner import THREAD_NAME, RunControl
from regtui.ui.runner import _freeze_gc_once, _may_go_on  # the plain run's pause / gc rules

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
    thread = threading.current_thread()
    old_name, thread.name = thread.name, THREAD_NAME
    rid = control.run_id
    try:
        _sweep(post, experiment, control, is_cancelled)
    except ConfigError as exc:
        post(RunFailed(rid, str(exc)))
    except Exception as exc:  # a crash is shown, never a traceback on screen
        post(RunFailed(rid, f"{type(exc).__name__}: {exc}"))
    finally:
        thread.name = old_name
        control.done.set()


def _first_item(stream: Iterator[Any], control: RunControl, is_cancelled: Callable[[], bool]) -> tuple[bool, Any]:
    """The stream's first item, computed in a daemon thread: it imports torch and
    loads the data (seconds), and a stop or ``q`` meanwhile must return at once.
    ``(False, None)`` when stopped first; ``(True, None)`` for an empty stream."""
    box: dict[str, Any] = {}

    def first() -> None:
        try:
            from regtui.core.training import configure_torch  # slow: torch

            configure_torch()
            box["item"] = next(stream, None)
        except BaseException as exc:  # handed to the worker, which reports it
            box["error"] = exc

    helper = threading.Thread(target=first, name="regtui-sweep-setup", daemon=True)
    helper.start()
    while helper.is_alive():
        if control.stop.is_set() or is_cancelled():
            return False, None
        helper.join(0.05)
    if "error" in box:
        raise box["error"]
    return True, box["item"]


def _sweep(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    from regtui.core.sweep import SweepProgress, run_sweep

    rid = control.run_id
    stream = run_sweep(experiment)
    ok, item = _first_item(stream, control, is_cancelled)
    if not ok:
        post(RunFinished(rid, stopped=True))  # the helper still holds the stream: leave it be
        return
    _freeze_gc_once()
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
            if not _may_go_on(control, is_cancelled):
                post(RunFinished(rid, stopped=True))
                return
            item = next(stream, None)
    finally:
        stream.close()
    post(RunFinished(rid, stopped=False))
