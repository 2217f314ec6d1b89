"""The training worker's body: runs ``Training.events()`` in a thread.

``train(post, experiment, control, is_cancelled)`` is what the app's
``@work(thread=True)`` method calls.  It never touches widgets: it only calls
``post`` with the messages of ``regtui.ui.worker.messages``.  Torch is imported here,
in the worker thread, so the first screen paints before it loads.  Pause,
stop and restart take effect between two batches.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
from textual.message import Message

from regtui.core.config import ConfigError, Experiment
from regtui.ui.worker.messages import (
    BatchProgress, EpochsEnded, GhostEpochs, InsightReady, RunFailed, RunFinished, RunRecorded,
    RunStarted,
)
from regtui.ui.worker.recording import recorded

THREAD_NAME = "regtui-training"
"""The worker thread's name while it trains (tests look for it)."""
PROGRESS_INTERVAL = 0.1
"""Seconds between two ``BatchProgress`` messages."""
FLUSH_INTERVAL = 0.05
"""Epochs that end within this many seconds travel in one ``EpochsEnded``."""

INSIGHT_INTERVAL = 0.5
"""Seconds between two ``InsightReady`` messages while a view asks for them."""

_gc_frozen = False


@dataclass
class InsightWish:
    """What the visible insight views ask the worker for (set by the UI thread).

    ``None`` while the view is hidden; the run's end (or a pause) sends both
    anyway, at the last asked (or the default) size.
    """

    boundary: tuple[int, int] | None = None
    """(cols, rows) of the decision-map grid."""
    bins: int | None = None
    """Bins of the weight histograms."""
    last_boundary: tuple[int, int] = (64, 40)
    last_bins: int = 25

    @property
    def active(self) -> bool:
        return self.boundary is not None or self.bins is not None


@dataclass
class RunControl:
    """How the UI steers one run; shared by the UI thread and the worker."""

    run_id: int
    resume: threading.Event = field(default_factory=threading.Event)
    """Set while the run may go on; cleared to pause."""
    stop: threading.Event = field(default_factory=threading.Event)
    """Set to stop the run for good."""
    done: threading.Event = field(default_factory=threading.Event)
    """Set by the worker when it has left the training loop."""
    insight: InsightWish = field(default_factory=InsightWish)
    """What the decision-map / weights views want (the app shares one)."""
    branch: Any = None
    """A ``branching.BranchRequest`` the UI set; the worker takes it (sets it back
    to None) at the next boundary between two epochs."""

    def __post_init__(self) -> None:
        self.resume.set()

    def request_stop(self) -> None:
        self.stop.set()
        self.resume.set()  # wake a paused worker so it can leave


def freeze_gc_once() -> None:
    """After torch and the data are loaded: keep them out of full collections."""
    global _gc_frozen
    if not _gc_frozen:
        gc.freeze()
        _gc_frozen = True


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


def _set_up(experiment: Experiment, control: RunControl, is_cancelled: Callable[[], bool]):
    """Import torch and build the ``Training`` off the worker (see ``in_background``)."""

    def build() -> Any:
        from regtui.core.training import Training, configure_torch  # slow: torch

        configure_torch()
        return Training(experiment)

    return in_background(build, control, is_cancelled)[1]


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
    training = _set_up(experiment, control, is_cancelled)
    if training is None:
        post(RunFinished(rid, stopped=True))
        return
    from regtui.core.run_types import EpochEnd

    freeze_gc_once()
    if not may_go_on(control, is_cancelled):
        post(RunFinished(rid, stopped=True))
        return
    post(RunStarted(rid, training.n_batches))
    from regtui.core.results import RunHistory
    from regtui.ui.worker.branching import GHOST, Line, Lines

    main = Line(training, iter(()), RunHistory(training.experiment))

    def post_noting_id(message: Message) -> object:  # the parent's history id, for a branch
        if isinstance(message, RunRecorded):
            main.history_id = message.history_id
        return post(message)

    main.events = recorded(training, post_noting_id, rid)  # every EpochEnd is written to the run history first
    lines = Lines(main, post, rid)
    pending: list[EpochEnd] = []
    ghost_pending: list[EpochEnd] = []
    last_flush = last_progress = last_insight = 0.0
    epoch = 0

    def flush() -> None:
        nonlocal pending, ghost_pending, last_flush
        if pending:
            post(EpochsEnded(rid, tuple(pending)))
            pending = []
        if ghost_pending:
            post(GhostEpochs(rid, tuple(ghost_pending)))
            ghost_pending = []
        last_flush = time.monotonic()

    def take_branch() -> None:
        request, control.branch = control.branch, None
        flush()
        lines.take(request)

    at_boundary = False
    try:
        for tag, event in lines.events():
            now = time.monotonic()
            if isinstance(event, EpochEnd):
                (ghost_pending if tag == GHOST else pending).append(event)
                if event.epoch == 0:
                    flush()
            if tag == GHOST:
                continue
            epoch = event.epoch
            at_boundary = isinstance(event, EpochEnd)
            if not isinstance(event, EpochEnd) and now - last_progress >= PROGRESS_INTERVAL:
                last_progress = now
                post(BatchProgress(rid, event.epoch, event.batch, event.n_batches))
            training = lines.main.training
            if control.insight.active and now - last_insight >= INSIGHT_INTERVAL:
                last_insight = now
                post(insight(training, control.insight, rid, epoch))
            if now - last_flush >= FLUSH_INTERVAL or not control.resume.is_set() or control.stop.is_set():
                flush()
            if not control.resume.is_set() and not control.stop.is_set():
                post(insight(training, control.insight, rid, epoch, everything=True))
            if not may_go_on(control, is_cancelled):
                flush()
                post(insight(training, control.insight, rid, epoch, everything=True))
                post(RunFinished(rid, stopped=True))
                return
            if at_boundary and control.branch is not None:
                take_branch()
    finally:
        lines.close()
    flush()
    post(insight(lines.main.training, control.insight, rid, epoch, everything=True))
    post(RunFinished(rid, stopped=False))


def insight(training: Any, wish: InsightWish, rid: int, epoch: int, everything: bool = False) -> InsightReady:
    """Decision maps and weight histograms of the first seed of every variant (worker thread)."""
    from regtui.core.insight import decision_map, has_plane, weight_histogram

    first = [i for i, m in enumerate(training.members) if m.seed == training.seeds[0]]
    boundary = weights = None
    no_plane = ""
    if not has_plane(training):
        ds = training.dataset
        no_plane = f"{ds.task}, {ds.n_features} features: decision maps need 2-D classification data"
    elif wish.boundary is not None or everything:
        wish.last_boundary = wish.boundary or wish.last_boundary
        cols, rows = wish.last_boundary
        dm = decision_map(training, cols, rows)
        boundary = replace(dm, prob=dm.prob[first], label=dm.label[first], wrong=dm.wrong[first])
    if wish.bins is not None or everything:
        wish.last_bins = wish.bins or wish.last_bins
        hist = weight_histogram(training, wish.last_bins)
        by_variant = [hist.counts[[i for i, m in enumerate(training.members) if m.variant_index == v]].sum(0)
                      for v in range(len(training.experiment.variants))]
        weights = replace(hist, counts=np.stack(by_variant))
    return InsightReady(rid, epoch, boundary, weights, no_plane)
