"""Recording one run into the history store as its epochs arrive.

``Recorder`` is what ``RunStore.recorder(...)`` returns: ``add(EpochEnd)`` writes
one epoch in one transaction (with the run's ranking as of at most
``RANK_INTERVAL_S`` ago), ``finish(statuses)`` closes the run with the exact final
ranking, the lab's ★ (``RunHistory.winner()``); used as a
context manager it marks still-running members stopped if an exception (Ctrl+C
included) escapes.  ``add`` and ``finish`` never raise: a failed write stops
recording and is kept in ``error``.  See ``regtui.core.store`` for the whole API.

A busy history loses nothing.  When another process holds the write lock,
an epoch's write waits at most ``EPOCH_WAIT_S`` (training is not held up
longer) and is then *queued*; every later ``add`` first writes the queue, in
order, in one transaction, so the epochs arrive late but whole.  ``finish``
keeps trying for up to ``FINISH_PATIENCE_S``; only an error that is not a
busy lock (a full disk, a deleted run), a queue beyond ``MAX_QUEUED_ROWS``
rows or a lock held past that patience stops recording, and ``error`` then
says how many epochs could not be written.  ``finish`` also checks that the
history file is still the one it wrote to: a file deleted or replaced during
the run is an ``error`` (the run is not in the history), never a silent
success.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Callable, Sequence

from regtui.core.config import Experiment
from regtui.core.results import RunHistory
from regtui.core.run_records import METRIC_COLUMNS, StoreBusyError, StoreError
from regtui.core.run_types import EpochEnd, RunStatus, plan_members, run_status, stopped_if_running

Work = Callable[[sqlite3.Connection], None]
Write = Callable[..., None]
"""``write(work, timeout=seconds)`` runs ``work`` in one write transaction of the
store; raises ``StoreError`` (``StoreBusyError`` when the lock stayed taken)."""

EPOCH_WAIT_S = 0.25
"""How long an epoch's write waits for another process's lock before it is queued."""
FINISH_PATIENCE_S = 30.0
"""How long ``finish`` keeps trying to write the queue and the run's end."""
MAX_QUEUED_ROWS = 500_000
"""Member-epochs kept in memory while the history is busy (about 100 MB) before giving up."""
RANK_INTERVAL_S = 0.5
"""How often, at most, a running run's stored ranking is recomputed; ``finish`` always
writes the exact final one.  Ranking reads every epoch so far (``regtui.core.ranking``):
recomputed at each epoch it cost ~15 % of a fast run (moons-overfit, ~5 ms epochs)."""

_INSERT_EPOCH = (
    f"INSERT INTO epochs (run_id, member, epoch, {', '.join(METRIC_COLUMNS)}) "
    f"VALUES (?, ?, ?, {', '.join('?' * len(METRIC_COLUMNS))})"
)


def _real(value: float | None) -> float | None:
    """What is stored for a metric: NaN as NULL (SQLite would do it anyway), the rest as is."""
    return None if value is None or value != value else float(value)


class Recorder:
    """Writes one run as its ``EpochEnd`` events arrive; see the module docstring."""

    def __init__(self, write: Write, run_id: int, experiment: Experiment,
                 check: Callable[[], str | None] | None = None) -> None:
        self._write = write
        self._check = check
        self.run_id = run_id
        self.names = tuple(v.name for v in experiment.variants)
        self._variant_of = tuple(m.variant_index for m in plan_members(experiment))
        """Member index -> variant index."""
        self.error: StoreError | None = None
        """The write that failed, if one did; recording stopped there."""
        self.status = RunStatus.RUNNING
        self._statuses: tuple[RunStatus, ...] = (RunStatus.RUNNING,) * len(self._variant_of)
        """As of the last epoch handed to ``add`` (written or queued)."""
        self._best: tuple[float, str, int] | None = None
        self._history = RunHistory(experiment)
        """What has been written, to rank the variants by (``regtui.core.ranking``)."""
        self._rank_row: tuple[str, float | None, str | None] | None = None
        """The stored ranking (``rank_by``, the winner's value, the winner) as last computed."""
        self._ranked_at = 0.0
        """``time.monotonic()`` when ``_rank_row`` was computed."""
        self._finished = False
        self._queue: list[tuple[int, Work]] = []
        """Epochs not written yet because the history was busy: (rows, work), oldest first."""
        self._queued_rows = 0

    @property
    def queued(self) -> int:
        """Epochs waiting for a busy history."""
        return len(self._queue)

    def add(self, event: object) -> None:
        """Write an ``EpochEnd`` in one transaction (after any queued ones); other events are ignored."""
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
        for v, (total, n) in vals.items():  # the lowest mean over seeds at any epoch: early stopping's
            candidate = (total / n, self.names[v], event.epoch)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        changed = [(s, run_id, i) for i, s in enumerate(event.statuses) if s != self._statuses[i]]
        best_row = best if best is not None else (None, None, None)
        epoch, seconds = event.epoch, float(event.seconds)
        self._history.add(event)
        now = time.monotonic()
        if self._rank_row is None or now - self._ranked_at >= RANK_INTERVAL_S:
            self._rank_row = self._rank()
            self._ranked_at = now
        rank_row = self._rank_row

        def write(db: sqlite3.Connection) -> None:
            cur = db.execute(  # first: a run deleted meanwhile is named as such
                "UPDATE runs SET last_epoch = ?, seconds = ?, heartbeat = ?, "
                "best_val_loss = ?, best_variant = ?, best_epoch = ?, "
                "rank_by = ?, rank_value = ?, rank_variant = ? WHERE id = ?",
                (epoch, seconds, time.time(), *best_row, *rank_row, run_id))
            _still_recorded(cur, run_id)
            db.executemany(_INSERT_EPOCH, rows)
            if changed:
                db.executemany("UPDATE members SET status = ? WHERE run_id = ? AND idx = ?", changed)

        self._statuses = tuple(RunStatus(s) for s in event.statuses)
        self._best = best
        self._queue.append((len(rows), write))
        self._queued_rows += len(rows)
        if self._queued_rows > MAX_QUEUED_ROWS:
            self._give_up(f"the history stayed busy while {len(self._queue)} epochs waited to be written")
            return
        self._flush(EPOCH_WAIT_S)

    def placed(self, members: Sequence[int], worker: str) -> None:
        """Note where members trained (an engine's worker, ``HOST pid N``); never raises."""
        if self._finished or self.error is not None or not members:
            return
        rows = [(worker, self.run_id, int(i)) for i in members]

        def write(db: sqlite3.Connection) -> None:
            db.executemany("UPDATE members SET worker = ? WHERE run_id = ? AND idx = ?", rows)

        self._queue.append((0, write))  # in order with the epochs; a busy history queues it too
        self._flush(EPOCH_WAIT_S)

    def finish(self, statuses: Sequence[RunStatus] | None = None) -> RunStatus:
        """End the run with the members' final statuses (default: the last event's,
        with ``running`` read as ``stopped``); returns the run's status.  Writes what
        is queued first, trying for up to ``FINISH_PATIENCE_S`` while the history is busy."""
        if self._finished:
            return self.status
        final = stopped_if_running(statuses if statuses is not None else self._statuses)
        self.status = run_status(final)
        run_id = self.run_id
        changed = [(s, run_id, i) for i, s in enumerate(final) if s != self._statuses[i]]
        status = self.status
        # The exact ranking of every epoch added (None: no epoch was, nothing to rank).
        rank_row = self._rank() if self._rank_row is not None else None

        def write(db: sqlite3.Connection) -> None:
            now = time.time()
            if rank_row is None:
                cur = db.execute("UPDATE runs SET status = ?, ended = ?, heartbeat = ? WHERE id = ?",
                                 (status, now, now, run_id))
            else:
                cur = db.execute("UPDATE runs SET status = ?, ended = ?, heartbeat = ?, "
                                 "rank_by = ?, rank_value = ?, rank_variant = ? WHERE id = ?",
                                 (status, now, now, *rank_row, run_id))
            _still_recorded(cur, run_id)
            if changed:
                db.executemany("UPDATE members SET status = ? WHERE run_id = ? AND idx = ?", changed)

        self._finished = True
        if self.error is None:
            self._queue.append((0, write))
            deadline = time.monotonic() + FINISH_PATIENCE_S
            while self._queue and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._give_up(f"the history stayed busy for {FINISH_PATIENCE_S:g} s after the run ended")
                    break
                self._flush(min(left, 5.0))
        if self.error is None and self._check is not None:
            problem = self._check()
            if problem is not None:
                self.error = StoreError(f"{problem}; run {run_id} is not in the history")
        return self.status

    def _rank(self) -> tuple[str, float | None, str | None]:
        """(rank_by, the winner's value, the winner) of every epoch added, as
        ``RunHistory.winner()`` ranks it: the lab's ★ for the same epochs."""
        rank_by = self._history.experiment.train.rank_by
        order = self._history.ranked()
        top = order[0] if order and order[0].score.rankable else None
        return (rank_by, None, None) if top is None else (rank_by, top.score.value, top.name)

    def _flush(self, timeout: float) -> None:
        """Write every queued epoch in one transaction; a busy lock leaves them queued."""
        if not self._queue:
            return
        works = [w for _, w in self._queue]

        def write_all(db: sqlite3.Connection) -> None:
            for work in works:
                work(db)

        try:
            self._write(write_all, timeout=timeout)
        except StoreBusyError:
            return
        except StoreError as exc:
            self._give_up(str(exc))
            return
        del self._queue[:len(works)]
        self._queued_rows = sum(n for n, _ in self._queue)

    def _give_up(self, why: str) -> None:
        epochs = sum(1 for n, _ in self._queue if n)
        lost = f"; {epochs} epoch(s) could not be written" if epochs else ""
        self.error = StoreError(f"{why}{lost}")
        self._queue.clear()
        self._queued_rows = 0

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()  # a no-op after finish(); else the last statuses, running read as stopped


def _still_recorded(cur: sqlite3.Cursor, run_id: int) -> None:
    """The run's row was updated; else it was deleted while running (raises, the
    transaction rolls back)."""
    if cur.rowcount == 0:
        raise sqlite3.IntegrityError(f"run {run_id} was deleted from the history while it was being recorded")
