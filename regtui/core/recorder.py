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
from typing import Callable, Sequence

from regtui.core.config import Experiment
from regtui.core.run_records import METRIC_COLUMNS, StoreError
from regtui.core.run_types import EpochEnd, RunStatus, plan_members, run_status, stopped_if_running

Write = Callable[[Callable[[sqlite3.Connection], None]], None]
"""Runs its argument in one write transaction of the store; raises ``StoreError``."""

_INSERT_EPOCH = (
    f"INSERT INTO epochs (run_id, member, epoch, {', '.join(METRIC_COLUMNS)}) "
    f"VALUES (?, ?, ?, {', '.join('?' * len(METRIC_COLUMNS))})"
)


def _real(value: float | None) -> float | None:
    """What is stored for a metric: NaN as NULL (SQLite would do it anyway), the rest as is."""
    return None if value is None or value != value else float(value)


class Recorder:
    """Writes one run as its ``EpochEnd`` events arrive; see the module docstring."""

    def __init__(self, write: Write, run_id: int, experiment: Experiment) -> None:
        self._write = write
        self.run_id = run_id
        self.names = tuple(v.name for v in experiment.variants)
        self._variant_of = tuple(m.variant_index for m in plan_members(experiment))
        """Member index -> variant index."""
        self.error: StoreError | None = None
        """The write that failed, if one did; recording stopped there."""
        self.status = RunStatus.RUNNING
        self._statuses: tuple[RunStatus, ...] = (RunStatus.RUNNING,) * len(self._variant_of)
        self._best: tuple[float, str, int] | None = None
        self._finished = False

    def add(self, event: object) -> None:
        """Write an ``EpochEnd`` in one transaction; any other event is ignored."""
        if not isinstance(event, EpochEnd) or self._finished or self.error is not None:
            return
        metrics = event.metrics
        run_id = self.run_id
        rows = []
        vals: dict[int, tuple[float, int]] = {}  # variant -> sum and count of finite val losses
        for i, m in enumerate(metrics):
            if m is None:
                continue
            rows.append((run_id, i, m.epoch) + tuple(_real(getattr(m, c)) for c in METRIC_COLUMNS))
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
            self._statuses = tuple(RunStatus(s) for s in event.statuses)
            self._best = best

    def finish(self, statuses: Sequence[RunStatus] | None = None) -> RunStatus:
        """End the run with the members' final statuses (default: the last event's,
        with ``running`` read as ``stopped``); returns the run's status."""
        if self._finished:
            return self.status
        final = stopped_if_running(statuses if statuses is not None else self._statuses)
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
            self._write(work)
        except StoreError as exc:
            self.error = exc
            return False
        return True

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()  # a no-op after finish(); else the last statuses, running read as stopped
