"""The training worker's body: drives one ``regtui.core.run.Run``.

``train(post, experiment, control, is_cancelled)`` runs it in the calling
thread: the lab's ``@work(thread=True)`` worker by default, or, with
``REGTUI_WORKER=process``, the run's child process (``regtui.ui.worker.process``,
whose worker thread relays the child's messages).  The ``Run`` trains and records (as
``regtui run`` does; the lab's runs are the history's ``tui`` source) and
computes insight snapshots; this module only steers it from ``RunControl``
and turns its events into the messages of ``regtui.ui.worker.messages``
(``RunReady`` → ``RunStarted`` and ``RunRecorded``, ``RecordingStopped`` →
``HistoryError``, ``EagerSteps`` → ``StepNote``).  It never touches widgets.  ``Run.prepare`` (torch, the
data, the nets) runs in a helper thread (``in_background``), so a stop during
it returns at once (in a thread, the first screen also paints before torch
loads).  Pause, stop and restart take effect between two batches; a branch
(``branching``) between two epochs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from textual.message import Message

from regtui.core.config import ConfigError, Experiment
from regtui.core.run import InsightRequest, Run
from regtui.core.run_types import EpochEnd
from regtui.startup import loaded
from regtui.ui.worker.branching import GHOST, MAIN, Line, Lines
from regtui.ui.worker.messages import (
    BatchProgress, EpochsEnded, GhostEpochs, HistoryError, InsightReady, RunFailed, RunFinished,
    RunRecorded, RunStarted,
)

SOURCE = "tui"
"""Who ran it, as the run history lists the lab's runs."""

THREAD_NAME = "regtui-training"
"""The worker thread's name while it trains (tests look for it)."""
PROGRESS_INTERVAL = 0.1
"""Seconds between two ``BatchProgress`` messages."""
FLUSH_INTERVAL = 0.05
"""Epochs that end within this many seconds travel in one ``EpochsEnded``."""

INSIGHT_INTERVAL = 0.5
"""Seconds between two ``InsightReady`` messages while a view asks for them."""

FINAL_INSIGHT = InsightRequest(boundary=(64, 40), bins=25, by_variant=True)
"""What the run's end (or a pause) computes when no view has asked for a size yet."""


@dataclass
class RunControl:
    """How the UI steers one run; shared by the UI thread and the worker.

    The UI writes, the worker reads: the events, and frozen values swapped in whole
    (``insight``, ``branch``).  The worker answers only through messages (and ``done``).
    The events are ``threading`` events for a run in a thread; ``process.control``
    makes one with ``multiprocessing`` events, shared with the run's child process."""

    run_id: int
    resume: Any = field(default_factory=threading.Event)
    """Set while the run may go on; cleared to pause."""
    stop: Any = field(default_factory=threading.Event)
    """Set to stop the run for good."""
    done: Any = field(default_factory=threading.Event)
    """Set by the worker when it has left the training loop."""
    insight: InsightRequest = InsightRequest(by_variant=True)
    """What the decision-map / weights views want: the UI swaps in a new request
    whole (one reference); the worker only reads it."""
    branch: Any = None
    """A ``branching.BranchRequest`` the UI set (a new one for each ``f``); the worker
    takes each at the next boundary between two epochs, once, and never writes here."""
    process_cpu_s: float | None = None
    """CPU seconds the run's child process used, set when it has ended (None: not
    ended yet, or the run trained in a thread); the benchmarks read it."""

    def __post_init__(self) -> None:
        self.resume.set()

    def request_stop(self) -> None:
        self.stop.set()
        self.resume.set()  # wake a paused worker so it can leave


def may_go_on(control: RunControl, is_cancelled: Callable[[], bool]) -> bool:
    """Wait while paused; False once the run is to stop."""
    while not control.resume.is_set():
        if control.stop.is_set() or is_cancelled():
            return False
        control.resume.wait(0.05)
    return not (control.stop.is_set() or is_cancelled())


def in_background(work: Callable[[], Any], control: RunControl, is_cancelled: Callable[[], bool],
                  name: str = "regtui-setup") -> tuple[bool, Any]:
    """``(True, work())`` computed in a daemon thread, waited for in small steps, or
    ``(False, None)`` as soon as the run is stopped: a stop (or ``q``) during a
    multi-second ``import torch`` or data load returns at once instead of holding
    the app's exit (asyncio joins its executor threads, this worker's included,
    before ``App.run`` returns).  An exception in ``work`` is re-raised here."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the worker, which reports it
            box["error"] = exc

    helper = threading.Thread(target=run, name=name, daemon=True)
    helper.start()
    while helper.is_alive():
        if control.stop.is_set() or is_cancelled():
            return False, None
        helper.join(0.05)
    if "error" in box:
        raise box["error"]
    return True, box["value"]


def guarded(
    body: Callable[[Callable[[Message], object], Experiment, RunControl, Callable[[], bool]], None],
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    """Run a worker ``body`` under the training thread's name; a ``ConfigError`` or
    a crash becomes a ``RunFailed`` message (never a traceback on screen), and
    ``control.done`` is set however it ends."""
    thread = threading.current_thread()
    old_name, thread.name = thread.name, THREAD_NAME
    try:
        body(post, experiment, control, is_cancelled)
    except ConfigError as exc:
        post(RunFailed(control.run_id, str(exc)))
    except Exception as exc:  # a crash is shown, never a traceback on screen
        post(RunFailed(control.run_id, f"{type(exc).__name__}: {exc}"))
    finally:
        thread.name = old_name
        control.done.set()


def train(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    """Run one experiment to its end, posting what happens."""
    guarded(_train, post, experiment, control, is_cancelled)


def _train(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    rid = control.run_id
    run = Run(experiment, source=SOURCE, preset=experiment.name)
    ok, _ = in_background(run.prepare, control, is_cancelled)  # slow: torch, the data, the nets
    if not ok:
        post(RunFinished(rid, stopped=True))
        return
    loaded()  # torch, the data and the nets: out of full collections (regtui.startup)
    if not may_go_on(control, is_cancelled):
        post(RunFinished(rid, stopped=True))
        return
    events = run.events()
    ready = next(events)  # RunReady: the run is in the history (or why not)
    post(RunStarted(rid, ready.n_batches))
    if ready.history_error is not None:
        post(HistoryError(rid, f"this run: {ready.history_error}"))
    post(RunRecorded(rid, ready.history_id, ready.data))
    lines = Lines(Line(run, events), post, rid)
    pending: list[EpochEnd] = []
    ghost_pending: list[EpochEnd] = []
    last_flush = last_progress = last_insight = 0.0

    def flush() -> None:
        nonlocal pending, ghost_pending, last_flush
        if pending:
            post(EpochsEnded(rid, tuple(pending)))
            pending = []
        if ghost_pending:
            post(GhostEpochs(rid, tuple(ghost_pending)))
            ghost_pending = []
        last_flush = time.monotonic()

    def insight(request: InsightRequest) -> InsightReady:
        return InsightReady(rid, lines.main.run.insight(request))

    taken: Any = None  # the last branch request taken (the worker never writes control.branch)
    at_boundary = False
    final = FINAL_INSIGHT  # the sizes last asked for (worker-local)
    try:
        for tag, event in lines.events():
            now = time.monotonic()
            request = control.insight  # read once: the UI may swap in another at any time
            final = replace(final, boundary=request.boundary or final.boundary, bins=request.bins or final.bins)
            if isinstance(event, EpochEnd):
                (ghost_pending if tag == GHOST else pending).append(event)
                if event.epoch == 0:
                    flush()
            if tag == MAIN:
                at_boundary = isinstance(event, EpochEnd)
                if not at_boundary and now - last_progress >= PROGRESS_INTERVAL:
                    last_progress = now
                    post(BatchProgress(rid, event.epoch, event.batch, event.n_batches))
                if not request.empty and now - last_insight >= INSIGHT_INTERVAL:
                    last_insight = now
                    post(insight(request))
            if now - last_flush >= FLUSH_INTERVAL or not control.resume.is_set() or control.stop.is_set():
                flush()
            if not control.resume.is_set() and not control.stop.is_set():
                post(insight(final))
            if not may_go_on(control, is_cancelled):
                flush()
                post(insight(final))
                post(RunFinished(rid, stopped=True))
                return
            if tag == MAIN and at_boundary and control.branch is not None and control.branch is not taken:
                taken = control.branch
                flush()
                lines.take(taken)
    finally:
        lines.close()
    flush()
    post(insight(final))
    post(RunFinished(rid, stopped=False))
