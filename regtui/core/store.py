"""The run history: every run, recorded epoch by epoch in an embedded SQLite file.

Where: ``<user data dir>/history.sqlite3`` (``platformdirs.user_data_dir("regtui")``;
the environment variable ``REGTUI_HOME`` replaces the folder).  One file holds
every run of every process; SQLite in WAL mode with a busy timeout lets several
processes (two ``regtui run`` and a lab, say) write at once.

API (everything a consumer needs)::

    store = RunStore.open()                       # or RunStore.open(path); a context manager
    with store.recorder(experiment, source="cli", preset="overfit") as rec:
        for event in training.events():
            rec.add(event)                        # EpochEnd is written; other events are ignored
        rec.finish(training.statuses)             # optional: on leaving the block it is done for you
    store.list_runs(limit=20, query=None)  -> list[RunSummary]   (newest first)
    store.summary(run_id)                  -> RunSummary
    store.load_run(run_id)                 -> StoredRun (.experiment, .history: RunHistory, .summary)
    store.delete_run(run_id)
    stored.to_json() / stored.to_csv()     -> the shapes of RunHistory.to_json() / to_csv()

Errors are ``StoreError`` (``str()`` is one line naming the file); a missing
run is ``RunNotFoundError``, a subclass (both in ``regtui.core.run_records``).  ``open``, ``recorder`` and the
readers raise it; ``Recorder.add`` and ``finish`` never do (see below).

Recording.  ``recorder()`` inserts the run (resolved config as the JSON of
``experiment_to_dict``, preset, source, start time, pid, host) with status
``running``.  Each ``add(EpochEnd)`` is one small ``BEGIN IMMEDIATE … COMMIT``:
the epoch's metric rows, the members' statuses when they change, and the
run's last epoch, heartbeat, best validation loss and ranking (the ranking
recomputed at most every ``RANK_INTERVAL_S`` while the run goes on, exact once
it is finished).  Rows are per *member*,
as ``EpochEnd.metrics`` is: a variant at one seed (one member per variant
without ``train.seeds``), so every seed's curve is kept.  A committed epoch
survives the process being killed (``kill -9``, a dropped SSH session): WAL
with ``synchronous=NORMAL`` loses nothing on a process crash, only possibly the
last transactions on an OS crash or power cut, which is the price of cheap
commits.  A write never raises into the training loop.  While another
process holds the write lock, epochs are queued and written together once it
is free (``regtui.core.recorder``: nothing computed is dropped because the
history was busy for a while); a write that fails otherwise (a full disk, the
run deleted) stops recording and keeps the ``StoreError`` in
``recorder.error`` (the run then reads as cut off once its process is gone),
and so does a history file deleted or replaced during the run.
``finish(statuses)`` (per member, e.g. ``training.statuses``) sets the end time
and the run's status: ``stopped`` if any member was stopped, ``diverged`` if
all diverged, else ``finished``.  Used as a context manager, the recorder
finishes the run on exit; if an exception escapes (Ctrl+C included)
still-running members become ``stopped``.  A summary's ranking
(``rank_by``, ``rank_value``, ``rank_variant``) is the run's winner by
``regtui.core.ranking`` (as ``RunHistory.winner()`` ranks it); its
``best_*`` fields keep the lowest validation loss any variant reached (the
mean over seeds), what early stopping would keep.  A ``RunStore`` may be shared between threads (the lab's worker
records while the UI lists); its writes are serialized.

Cut off.  A run whose process died without finishing stays ``running`` with no
end time in the file, and is *reported* as ``cut off``: the recorder stores its
pid, host and (on Linux) a process token (boot id + process start time, so a
recycled pid is not mistaken for the run).  On the same host a run is live
while that process exists; for a run from another host (a shared home folder)
the heartbeat decides: no epoch for ``STALE_AFTER_S`` means cut off.  Nothing
is rewritten when reading, so a run that is merely slow or paused is never
damaged.  Loading a cut-off run reports its still-running members as
``cut off`` too.

Schema.  ``PRAGMA user_version`` is the schema version; ``MIGRATIONS[i]``
upgrades version ``i`` to ``i + 1`` inside one transaction, so a new schema is
a new function appended to the list, never a dropped table.  A file from a
newer regtui is refused with a ``StoreError`` naming both versions.  Metrics
are stored as REAL; NaN becomes NULL (SQLite's own rule) and comes back as
NaN, infinities are kept, so a ``RunHistory`` is rebuilt exactly.

Imports the standard library, numpy and torch-free core modules only: no
torch (listing the history is fast), no UI code.  Beside it: ``recorder.py``
(``Recorder``), ``run_records.py`` (``RunSummary``, ``StoredRun``, the errors),
``run_types.py`` (``RunStatus``, members) and ``liveness.py`` (is a recording
process alive?).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import urllib.parse
from collections import namedtuple
from pathlib import Path
from typing import Any, Callable, Sequence

from regtui import __version__
from regtui.core.config import RANKINGS, ConfigError, Experiment
from regtui.core.liveness import HOST, OWN_TOKEN, is_live
from regtui.core.recorder import Recorder
from regtui.core.ranking import Score, is_diverged, member_value, rank_scores
from regtui.core.results import METRICS, RunHistory
from regtui.core.run_records import (
    METRIC_COLUMNS,
    BranchRecord,
    RunNotFoundError,
    RunSummary,
    StoreBusyError,
    StoredRun,
    StoreError,
)
from regtui.core.run_types import RunStatus, plan_members
from regtui.core.schema import experiment_from_dict, experiment_to_dict

HOME_ENV = "REGTUI_HOME"
FILENAME = "history.sqlite3"
BUSY_TIMEOUT_S = 10.0
"""How long a writer waits for another process's transaction before failing."""



# --------------------------------------------------------------------------- schema

def _migrate_0_to_1(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started REAL NOT NULL,              -- Unix time
            ended REAL,                         -- NULL while running (or cut off)
            heartbeat REAL NOT NULL,            -- time of the last write
            status TEXT NOT NULL,               -- running, finished, stopped, diverged
            source TEXT NOT NULL,               -- cli or tui
            preset TEXT,                        -- the preset name or path as given
            name TEXT NOT NULL,                 -- experiment.name
            dataset TEXT NOT NULL,
            variant_names TEXT NOT NULL,        -- JSON list, in experiment order
            seeds INTEGER NOT NULL,             -- train.seeds: members per variant
            epochs INTEGER NOT NULL,            -- planned (train.epochs)
            config TEXT NOT NULL,               -- JSON of experiment_to_dict(full=True)
            last_epoch INTEGER NOT NULL DEFAULT -1,
            seconds REAL NOT NULL DEFAULT 0,    -- EpochEnd.seconds of the last epoch
            best_val_loss REAL,
            best_variant TEXT,
            best_epoch INTEGER,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_token TEXT,                 -- boot id + process start time (Linux)
            regtui_version TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE members (                  -- a variant at one seed (RunHistory.members)
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,               -- the index in EpochEnd.metrics
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            PRIMARY KEY (run_id, idx)
        ) WITHOUT ROWID""")
    cols = ",\n".join(f"{m} REAL" for m in METRICS if m != "epoch")
    db.execute(f"""
        CREATE TABLE epochs (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            member INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            {cols},
            PRIMARY KEY (run_id, member, epoch)
        ) WITHOUT ROWID""")


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """What the run trained on (task, sizes, class names) as JSON; NULL for older runs."""
    db.execute("ALTER TABLE runs ADD COLUMN data_info TEXT")


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Branches (``regtui.core.branch``): a run that went on from another run's epoch
    with changed knobs names its parent, the epoch and the changes; a deleted
    parent leaves the branch (its config is whole) with no parent."""
    db.execute("""
        CREATE TABLE branches (
            run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            epoch INTEGER NOT NULL,             -- the first epoch trained with the changes
            changes TEXT NOT NULL               -- JSON of BranchChanges.to_json()
        )""")
    db.execute("CREATE INDEX branches_by_parent ON branches (parent_id)")


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """The ranking (``regtui.core.ranking``): which statistic, the winner and its value;
    filled in for the runs already recorded."""
    for column in ("rank_by TEXT", "rank_value REAL", "rank_variant TEXT"):
        db.execute(f"ALTER TABLE runs ADD COLUMN {column}")
    for run_id, config, names, seeds in db.execute("SELECT id, config, variant_names, seeds FROM runs").fetchall():
        try:
            rank_by = json.loads(config).get("train", {}).get("rank_by", "end")
            names = json.loads(names)
        except (ValueError, AttributeError):
            continue
        statuses = dict(db.execute("SELECT idx, status FROM members WHERE run_id = ?", (run_id,)).fetchall())
        vals: dict[int, list[float]] = {}
        for member, val in db.execute("SELECT member, val_loss FROM epochs WHERE run_id = ? ORDER BY member, epoch",
                                      (run_id,)):
            vals.setdefault(member, []).append(math.nan if val is None else val)
        row = _rank_row(rank_by, names, max(1, seeds), vals, statuses)
        db.execute("UPDATE runs SET rank_by = ?, rank_value = ?, rank_variant = ? WHERE id = ?", row + (run_id,))


def _rank_row(rank_by: str, names: Sequence[str], seeds: int, vals: dict[int, list[float]],
              statuses: dict[int, str]) -> tuple[str, float | None, str | None]:
    """(rank_by, the winner's value, the winner) from members' val losses, as the recorder ranks."""
    rank_by = rank_by if rank_by in RANKINGS else "end"
    scores = []
    for v in range(len(names)):
        per_seed, diverged = [], []
        for i in range(v * seeds, (v + 1) * seeds):
            per_seed.append(member_value(vals[i], rank_by) if vals.get(i) else math.nan)
            diverged.append(is_diverged(statuses.get(i, "")))
        scores.append(Score(rank_by, tuple(per_seed), tuple(diverged)))
    order = rank_scores(scores)
    if not order or not scores[order[0]].rankable:
        return rank_by, None, None
    return rank_by, scores[order[0]].value, names[order[0]]


def _migrate_4_to_5(db: sqlite3.Connection) -> None:
    """Where a run trained: the engine (``in-process``, ``ray local``, ``ray HOST:PORT``)
    and, per member, the worker that trained it (``HOST pid N``); NULL for older runs."""
    db.execute("ALTER TABLE runs ADD COLUMN engine TEXT")
    db.execute("ALTER TABLE members ADD COLUMN worker TEXT")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _migrate_0_to_1, _migrate_1_to_2, _migrate_2_to_3, _migrate_3_to_4, _migrate_4_to_5)
"""``MIGRATIONS[i]`` upgrades schema version ``i`` to ``i + 1``; append, never edit."""
SCHEMA_VERSION = len(MIGRATIONS)

_SUMMARY_COLS = (
    "id, started, ended, heartbeat, status, source, preset, name, dataset, variant_names, seeds, epochs, "
    "last_epoch, seconds, best_val_loss, best_variant, best_epoch, host, pid, process_token, "
    "rank_by, rank_value, rank_variant, engine"
)
_Row = namedtuple("_Row", METRICS)  # type: ignore[misc]  # what VariantHistory.append reads


def default_path() -> Path:
    """``$REGTUI_HOME/history.sqlite3``, else in the user data folder."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser() / FILENAME
    import platformdirs

    return Path(platformdirs.user_data_dir("regtui")) / FILENAME


# --------------------------------------------------------------------------- the store

class RunStore:
    """An open run-history file.  Usable from several threads (writes are serialized)."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._lock = threading.Lock()
        self._busy_ms = int(BUSY_TIMEOUT_S * 1000)
        """The connection's busy timeout as last set (``open`` sets ``BUSY_TIMEOUT_S``)."""
        self.read_only: str | None = None
        """Why writes are refused, when the file could be opened for reading only."""
        try:
            st = os.stat(path)
            self._identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except OSError:
            self._identity = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> "RunStore":
        """Open (creating or migrating) the history file; ``path`` defaults to ``default_path()``.

        A history that cannot be written (a read-only file, folder or file system)
        is opened read-only when it exists and is up to date: listing, showing and
        exporting work, and every write is a ``StoreError`` saying why."""
        path = Path(path).expanduser() if path is not None else default_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if not path.is_file():
                raise StoreError(f"{path}: cannot create its folder: {exc.strerror or exc}") from None
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            return cls._open_read_only(path, exc)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _check_version(db, path)  # before anything is written to a file from a newer regtui
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            _migrate(db, path)
        except StoreError:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            if _is_busy(exc):
                raise StoreError(f"{path}: cannot open the run history: {exc}") from None
            return cls._open_read_only(path, exc)
        return cls(db, path)

    @classmethod
    def _open_read_only(cls, path: Path, why: sqlite3.Error) -> "RunStore":
        """The history opened for reading only, after opening it for writing failed with ``why``."""
        if not path.is_file():
            raise StoreError(f"{path}: cannot open the run history: {why}")
        uri = "file:" + urllib.parse.quote(str(path.absolute()))
        last: sqlite3.Error = why
        for mode in ("?mode=ro", "?immutable=1"):  # immutable: a WAL file whose folder is read-only
            try:
                db = sqlite3.connect(uri + mode, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
                if _check_version(db, path) != SCHEMA_VERSION:
                    db.close()
                    raise StoreError(f"{path}: read-only, and written by an older regtui: it cannot be "
                                     f"upgraded here ({why})")
                db.execute(f"SELECT {_SUMMARY_COLS} FROM runs LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                last = exc
                continue
            store = cls(db, path)
            store.read_only = f"{path}: the run history is read-only here ({why})"
            return store
        raise StoreError(f"{path}: cannot open the run history: {last}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{self.path}: {exc}")

    def _write(self, work: Callable[[sqlite3.Connection], Any], *, timeout: float | None = None) -> Any:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction; raises ``StoreError``
        (``StoreBusyError`` when the write lock stayed taken for ``timeout`` seconds,
        default ``BUSY_TIMEOUT_S``)."""
        if self.read_only is not None:
            raise StoreError(self.read_only)
        with self._lock:
            db = self._db
            try:
                self._busy_timeout(BUSY_TIMEOUT_S if timeout is None else timeout)
                db.execute("BEGIN IMMEDIATE")
                result = work(db)
                db.execute("COMMIT")
                return result
            except BaseException as exc:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.Error):
                    if _is_busy(exc):
                        raise StoreBusyError(f"{self.path}: {exc}") from None
                    raise self._fail(exc) from None
                raise

    def _busy_timeout(self, seconds: float) -> None:
        """Set the connection's busy timeout (under ``_lock``), only when it changes:
        a recorder's every epoch writes with the same short wait."""
        ms = max(0, int(seconds * 1000))
        if ms != self._busy_ms:
            self._db.execute(f"PRAGMA busy_timeout = {ms}")
            self._busy_ms = ms

    def identity_problem(self) -> str | None:
        """Why the file this store writes is no longer the history at its path (deleted
        or replaced while open: SQLite would go on writing into the orphaned file), else None."""
        try:
            now = os.stat(self.path)
        except OSError:
            return f"{self.path} was deleted while this run was being recorded"
        if self._identity is not None and (now.st_dev, now.st_ino) != self._identity:
            return f"{self.path} was replaced by another file while this run was being recorded"
        return None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                self._busy_timeout(BUSY_TIMEOUT_S)  # readers wait as long as ever
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._fail(exc) from None

    # ------------------------------------------------------------------ recording

    def recorder(self, experiment: Experiment, *, source: str = "cli", preset: str | None = None,
                 data: dict[str, Any] | None = None, branch: BranchRecord | None = None,
                 engine: str | None = None) -> "Recorder":
        """Insert a new ``running`` run and return the ``Recorder`` that fills it;
        ``data`` is what it trains on (``Dataset.summary()``), kept for exports;
        ``branch`` says which run it branched from (its ``run_id`` is ignored);
        ``engine`` where it trains (``Engine.label``: ``in-process``, ``ray ADDRESS``)."""
        now = time.time()
        row = (
            now, now, RunStatus.RUNNING.value, source, preset, experiment.name, experiment.data.dataset,
            json.dumps([v.name for v in experiment.variants]), experiment.train.seeds, experiment.train.epochs,
            json.dumps(experiment_to_dict(experiment), allow_nan=False),
            HOST, os.getpid(), OWN_TOKEN, __version__,
            None if data is None else json.dumps(data, allow_nan=False), engine,
        )

        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO runs (started, heartbeat, status, source, preset, name, dataset, variant_names, "
                "seeds, epochs, config, host, pid, process_token, regtui_version, data_info, engine) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            run_id = int(cur.lastrowid)
            db.executemany("INSERT INTO members (run_id, idx, name, status) VALUES (?, ?, ?, ?)",
                           [(run_id, i, m.name, RunStatus.RUNNING.value)
                            for i, m in enumerate(plan_members(experiment))])
            if branch is not None:
                db.execute("INSERT INTO branches (run_id, parent_id, epoch, changes) VALUES (?, ?, ?, ?)",
                           (run_id, branch.parent_id, branch.epoch, json.dumps(branch.changes, allow_nan=False)))
            return run_id

        return Recorder(self._write, self._write(insert), experiment, check=self.identity_problem)

    # ------------------------------------------------------------------ reading

    def _summary(self, row: tuple[Any, ...], now: float) -> RunSummary:
        """The row as a summary; a row that cannot be read is a ``damaged`` summary
        naming what is wrong (the rest of the history stays usable)."""
        try:
            return _read_summary(row, now)
        except (ValueError, TypeError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
            return _damaged_summary(row, str(exc) or type(exc).__name__)

    def list_runs(self, limit: int | None = 50, query: str | None = None) -> list[RunSummary]:
        """Runs, newest first; ``query`` matches (case-insensitively, as a substring) the
        preset, the experiment name, the data set, the source or a variant name."""
        sql, params = f"SELECT {_SUMMARY_COLS} FROM runs", []
        if query:
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cols = ("preset", "name", "dataset", "source", "variant_names")
            sql += " WHERE " + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in cols)
            params += [like] * len(cols)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        now = time.time()
        return [self._summary(row, now) for row in self._query(sql, params)]

    def summary(self, run_id: int) -> RunSummary:
        if not 0 <= run_id < 2 ** 63:  # SQLite's INTEGER: a larger id is no run (and would overflow)
            raise RunNotFoundError(f"{self.path}: no run with id {run_id}")
        rows = self._query(f"SELECT {_SUMMARY_COLS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFoundError(f"{self.path}: no run with id {run_id}")
        return self._summary(rows[0], time.time())

    def load_run(self, run_id: int) -> StoredRun:
        """The run's experiment and its ``RunHistory`` as recorded (statuses, epochs, seconds).

        A damaged run (a row, a member or an epoch that cannot be read) is a
        ``StoreError`` saying what is wrong and that the run can be deleted."""
        summary = self.summary(run_id)
        damaged = f"{self.path}: run {run_id} is damaged and cannot be loaded (regtui history delete {run_id} removes it)"
        if summary.problem is not None:
            raise StoreError(f"{damaged}: {summary.problem}")
        (config, data_info), = self._query("SELECT config, data_info FROM runs WHERE id = ?", (run_id,))
        try:
            experiment = experiment_from_dict(json.loads(config))
        except (ConfigError, ValueError, TypeError, RecursionError) as exc:
            raise StoreError(f"{self.path}: run {run_id}: its stored config no longer loads: {exc}") from None
        member_rows = self._query("SELECT idx, status, worker FROM members WHERE run_id = ?", (run_id,))
        statuses = {idx: status for idx, status, _ in member_rows}
        workers = {idx: worker for idx, _, worker in member_rows if worker is not None}
        rows = self._query(
            f"SELECT member, epoch, {', '.join(METRIC_COLUMNS)} FROM epochs WHERE run_id = ? ORDER BY member, epoch",
            (run_id,))
        history = RunHistory(experiment)
        members = history.members
        try:
            for member, *values in rows:
                if not isinstance(member, int) or not 0 <= member < len(members):
                    raise ValueError(f"an epoch row names member {member!r} of {len(members)}")
                members[member].append(_Row._make(_reals(values)))
            cut_off = summary.status is RunStatus.CUT_OFF
            for i, hist in enumerate(members):
                status = RunStatus(statuses.get(i, RunStatus.RUNNING))
                hist.status = RunStatus.CUT_OFF if cut_off and status is RunStatus.RUNNING else status
            data = json.loads(data_info) if data_info else None
            if data is not None and not isinstance(data, dict):
                raise ValueError("data_info is not a JSON object")
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreError(f"{damaged}: {exc}") from None
        history.epoch = summary.last_epoch
        history.seconds = summary.seconds
        return StoredRun(summary, experiment, history, data, workers, branch=self.branch_of(run_id))

    def branch_of(self, run_id: int) -> BranchRecord | None:
        """Where run ``run_id`` branched from, or None for a run that is no branch."""
        rows = self._query("SELECT run_id, parent_id, epoch, changes FROM branches WHERE run_id = ?", (run_id,))
        return self._branch(rows[0]) if rows else None

    def branches(self, parent_id: int) -> list[BranchRecord]:
        """The runs that branched from run ``parent_id``, oldest first."""
        rows = self._query("SELECT run_id, parent_id, epoch, changes FROM branches WHERE parent_id = ? "
                           "ORDER BY run_id", (parent_id,))
        return [self._branch(r) for r in rows]

    def _branch(self, row: tuple[Any, ...]) -> BranchRecord:
        try:
            changes = json.loads(row[3])
            if not isinstance(changes, dict):
                raise ValueError("its changes are not a JSON object")
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreError(f"{self.path}: run {row[0]} is damaged: its branch record cannot be read: {exc}") from None
        return BranchRecord(row[0], row[1], row[2], changes)

    def delete_run(self, run_id: int) -> None:
        """Delete a run and its epochs (a damaged one too); a run still being recorded is refused."""
        summary = self.summary(run_id)
        if summary.status is RunStatus.RUNNING:
            raise StoreError(
                f"{self.path}: run {run_id} is still being recorded (pid {summary.pid} on {summary.host})")
        self._write(lambda db: db.execute("DELETE FROM runs WHERE id = ?", (run_id,)))


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(exc) or "busy" in str(exc)


def _reals(values: Sequence[Any]) -> list[float | None]:
    """Metric cells as floats (NULL is NaN); text or a blob in a REAL column is damage."""
    out: list[float | None] = []
    for v in values:
        if v is not None and not isinstance(v, (int, float)):
            raise ValueError(f"an epoch row holds {type(v).__name__} {str(v)[:40]!r} where a number belongs")
        out.append(v)
    return out


def _read_summary(row: tuple[Any, ...], now: float) -> RunSummary:
    """A summary from a ``runs`` row; ``ValueError``/``TypeError`` naming the column that is wrong."""
    (run_id, started, ended, heartbeat, status, source, preset, name, dataset, names, seeds, epochs,
     last_epoch, seconds, best_val, best_variant, best_epoch, host, pid, token,
     rank_by, rank_value, rank_variant, engine) = row

    def number(column: str, value: Any, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{column} is {str(value)[:40]!r}, not a number")
        return value

    def text(column: str, value: Any, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{column} is {str(value)[:40]!r}, not text")
        return value

    try:
        variants = json.loads(text("variant_names", names))
    except json.JSONDecodeError as exc:
        raise ValueError(f"variant_names is not JSON ({exc})") from None
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise ValueError("variant_names is not a JSON list of names")
    try:
        state = RunStatus(status)
    except ValueError:
        raise ValueError(f"status is {str(status)[:40]!r}, not one of {', '.join(s.value for s in RunStatus)}") from None
    if state in (RunStatus.CUT_OFF, RunStatus.DAMAGED):
        raise ValueError(f"status {state.value!r} is never stored")
    heartbeat = number("heartbeat", heartbeat)
    pid = int(number("pid", pid))
    host = text("host", host)
    if state is RunStatus.RUNNING and not is_live(host, pid, token, heartbeat, now):
        state = RunStatus.CUT_OFF
    return RunSummary(
        id=run_id, started=number("started", started), ended=number("ended", ended, optional=True),
        updated=heartbeat, status=state, source=text("source", source), preset=text("preset", preset, optional=True),
        name=text("name", name), dataset=text("dataset", dataset), variants=tuple(variants),
        seeds=int(number("seeds", seeds)), epochs=int(number("epochs", epochs)),
        last_epoch=int(number("last_epoch", last_epoch)), seconds=float(number("seconds", seconds)),
        best_val_loss=number("best_val_loss", best_val, optional=True),
        best_variant=text("best_variant", best_variant, optional=True),
        best_epoch=number("best_epoch", best_epoch, optional=True), host=host, pid=pid,
        rank_by=rank_by if rank_by in RANKINGS else "end",
        rank_value=number("rank_value", rank_value, optional=True),
        rank_variant=text("rank_variant", rank_variant, optional=True),
        engine=text("engine", engine, optional=True),
    )


def _damaged_summary(row: tuple[Any, ...], problem: str) -> RunSummary:
    """What can still be shown of a row that cannot be read: its id, and each other
    field where it is readable (else a neutral value)."""
    (run_id, started, ended, heartbeat, status, source, preset, name, dataset, names, seeds, epochs,
     last_epoch, seconds, best_val, best_variant, best_epoch, host, pid, token,
     rank_by, rank_value, rank_variant, engine) = row

    def num(value: Any, default: float) -> float:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default

    def txt(value: Any, default: str) -> str:
        return value if isinstance(value, str) else default

    return RunSummary(
        id=run_id, started=num(started, 0.0), ended=None, updated=num(heartbeat, num(started, 0.0)),
        status=RunStatus.DAMAGED, source=txt(source, "?"), preset=txt(preset, "") or None, name=txt(name, "?"),
        dataset=txt(dataset, "?"), variants=(), seeds=int(num(seeds, 1)), epochs=int(num(epochs, 0)),
        last_epoch=int(num(last_epoch, -1)), seconds=float(num(seconds, 0.0)), best_val_loss=None,
        best_variant=None, best_epoch=None, host=txt(host, "?"), pid=int(num(pid, 0)), problem=problem,
        engine=txt(engine, "") or None,
    )


def _check_version(db: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; a ``StoreError`` if a newer regtui wrote it."""
    (version,), = db.execute("PRAGMA user_version").fetchall()
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer regtui (schema version {version}); "
            f"this regtui {__version__} reads up to schema version {SCHEMA_VERSION}")
    return int(version)


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the file to ``SCHEMA_VERSION`` with the ordered ``MIGRATIONS``, in one transaction."""
    if _check_version(db, path) == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _check_version(db, path)  # another process may have migrated meanwhile
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
