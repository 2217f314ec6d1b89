"""Recording one run into the history store as its epochs arrive.

``Recorder`` is what ``RunStore.recorder(...)`` returns: ``add(EpochEnd)`` writes
one epoch in one transaction, ``finish(statuses)`` closes the run; used as a
context manager it marks still-running members stopped if an exception (Ctrl+C
included) escapes.  ``add`` and ``finish`` never raise: a failed write stops
recording and is kept in ``error``.  See ``regtui.core.store`` for the whole API.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Callable, Sequence

from regtui.core.config import Experiment
from regtui.core.store import (
    _INSERT_EPOCH,
    _METRIC_COLS,
    RUNNING,
    STOPPED,
    RunStore,
    StoreError,
    _real,
    _seeds,
    run_status,
)


class Recorder:
    """Writes one run as its ``EpochEnd`` events arrive; see the module docstring."""

    def __init__(self, store: RunStore, run_id: int, experiment: Experiment) -> None:
        self.store = store
        self.run_id = run_id
        self.names = tuple(v.name for v in experiment.variants)
        seeds = _seeds(experiment)
        self._variant_of = [i // seeds for i in range(len(self.names) * seeds)]
        """Member index -> variant index (members are variant-major, as in ``plan_members``)."""
        self.error: StoreError | None = None
        """The write that failed, if one did; recording stopped there."""
        self.status: str = RUNNING
        self._statuses: list[str] = [RUNNING] * len(self._variant_of)
        self._best: tuple[float, str, int] | None = None
        self._finished = False

    def add(self, event: Any) -> None:
        """Write an ``EpochEnd`` in one transaction; any other event is ignored."""
        metrics = getattr(event, "metrics", None)
        if metrics is None or self._finished or self.error is not None:
            return
        run_id = self.run_id
        rows = []
        vals: dict[int, tuple[float, int]] = {}  # variant -> sum and count of finite val losses
        for i, m in enumerate(metrics):
            if m is None:
                continue
            rows.append((run_id, i, m.epoch) + tuple(_real(getattr(m, c)) for c in _METRIC_COLS))
            val = m.val_loss
            if val is not None and val - val == 0:  # finite
                total, n = vals.get(self._variant_of[i], (0.0, 0))
                vals[self._variant_of[i]] = (total + float(val), n + 1)
        best = self._best
        for v, (total, n) in vals.items():  # the mean over seeds, as RunHistory.best_variant() scores it
            candidate = (total / n, self.names[v], event.epoch)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        changed = [(s, run_id, i) for i, s in enumerate(event.statuses) if s != self._statuses[i]]
        best_row = best if best is not None else (None, None, None)

        def write(db: sqlite3.Connection) -> None:
            db.executemany(_INSERT_EPOCH, rows)
            if changed:
                db.executemany("UPDATE members SET status = ? WHERE run_id = ? AND idx = ?", changed)
            db.execute(
                "UPDATE runs SET last_epoch = ?, seconds = ?, heartbeat = ?, "
                "best_val_loss = ?, best_variant = ?, best_epoch = ? WHERE id = ?",
                (event.epoch, float(event.seconds), time.time(), *best_row, run_id))

        if self._try(write):
            self._statuses = list(event.statuses)
            self._best = best

    def finish(self, statuses: Sequence[str] | None = None) -> str:
        """End the run with the members' final statuses (default: the last event's,
        with ``running`` read as ``stopped``); returns the run's status."""
        if self._finished:
            return self.status
        final = list(statuses) if statuses is not None else list(self._statuses)
        final = [STOPPED if s == RUNNING else s for s in final]
        self.status = run_status(final)
        run_id = self.run_id
        changed = [(s, run_id, i) for i, s in enumerate(final) if s != self._statuses[i]]

        def write(db: sqlite3.Connection) -> None:
            if changed:
                db.executemany("UPDATE members SET status = ? WHERE run_id = ? AND idx = ?", changed)
            now = time.time()
            db.execute("UPDATE runs SET status = ?, ended = ?, heartbeat = ? WHERE id = ?",
                       (self.status, now, now, run_id))

        self._finished = True
        if self.error is None:
            self._try(write)
        return self.status

    def _try(self, work: Callable[[sqlite3.Connection], None]) -> bool:
        try:
            self.store._write(work)
        except StoreError as exc:
            self.error = exc
            return False
        return True

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()  # a no-op after finish(); else the last statuses, running read as stopped
