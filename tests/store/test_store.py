"""The run store in-process: exact round trips, statuses, schema versions, speed."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from regtui.core import liveness
from regtui.core import store as store_mod
from regtui.core.config import VariantConfig
from regtui.core.results import METRICS, RunHistory
from regtui.core.run_records import RunNotFoundError, StoreError
from regtui.core.run_types import EpochEnd, EpochMetrics
from regtui.core.schema import experiment_to_dict
from regtui.core.store import RunStore
from regtui.core.training import Training


@pytest.fixture
def store(tmp_path: Path):
    with RunStore.open(tmp_path / "history.sqlite3") as s:
        yield s


def record(store: RunStore, training: Training, **kwargs) -> tuple[int, RunHistory]:
    """Train, recording every event, and return the run id and the live history."""
    history = RunHistory(training.experiment)
    with store.recorder(training.experiment, **kwargs) as rec:
        for event in training.events():
            rec.add(event)
            if isinstance(event, EpochEnd):
                history.add(event)
        rec.finish(training.statuses)
    assert rec.error is None
    return rec.run_id, history


def assert_same_history(a: RunHistory, b: RunHistory) -> None:
    assert a.to_json() == b.to_json()
    assert a.to_csv() == b.to_csv()
    assert (a.epoch, a.seconds) == (b.epoch, b.seconds)
    members_a, members_b = getattr(a, "members", a.variants), getattr(b, "members", b.variants)
    assert len(members_a) == len(members_b)
    for va, vb in zip(members_a, members_b):  # every seed's own curve
        assert (va.name, va.status, len(va)) == (vb.name, vb.status, len(vb))
        for m in METRICS:  # bit for bit, NaN and inf included
            assert np.array_equal(va.series(m), vb.series(m), equal_nan=True), (va.name, m)


def metrics(epoch: int, **values: float | None) -> EpochMetrics:
    base = dict(train_loss=0.5, val_loss=0.6, train_acc=0.8, val_acc=0.7, objective=0.55,
                penalty=0.01, weight_norm=2.0, gap=0.1, seconds=0.25 * epoch)
    return EpochMetrics(epoch=epoch, **{**base, **values})


def test_default_path_follows_regtui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    assert store_mod.default_path() == tmp_path / "home" / "history.sqlite3"
    with RunStore.open() as s:
        assert s.path.is_file()
        (mode,), = s._db.execute("PRAGMA journal_mode").fetchall()
        assert mode == "wal"


def test_round_trip_is_exact(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 5})
    run_id, history = record(store, Training(exp), source="tui", preset="tiny")
    stored = store.load_run(run_id)
    assert stored.experiment == exp
    assert_same_history(stored.history, history)
    assert stored.to_json() == history.to_json()
    assert json.loads(json.dumps(stored.to_json())) == json.loads(json.dumps(history.to_json()))
    s = stored.summary
    assert (s.status, s.source, s.preset, s.dataset, s.last_epoch, s.epochs) == ("finished", "tui", "tiny", "moons", 5, 5)
    assert s.variants == ("baseline", "L2", "Dropout")
    early = min(history.variants, key=lambda h: h.best.val_loss)  # best_*: what early stopping keeps
    assert (s.best_variant, s.best_val_loss, s.best_epoch) == (early.name, early.best.val_loss, early.best.epoch)
    top = history.ranked()[0]  # the ranking: the winner by the end statistic
    assert (s.rank_by, s.rank_variant, s.rank_value) == ("end", history.winner(), top.score.value)
    assert s.ended is not None and s.started <= s.ended


def test_several_seeds_round_trip_every_member(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 3, "seeds": 2})
    training = Training(exp)
    run_id, history = record(store, training)
    stored = store.load_run(run_id)
    assert_same_history(stored.history, history)
    assert len(stored.history.members) == len(training.names) == 6
    assert [m.name for m in stored.history.members] == list(training.names)
    s = stored.summary
    assert (s.seeds, s.variants) == (2, ("baseline", "L2", "Dropout"))
    early = min(history.variants, key=lambda h: h.best.val_loss)  # the mean curve over seeds
    assert s.best_variant == early.name
    assert s.best_val_loss == pytest.approx(early.best.val_loss, rel=1e-12)
    assert s.best_epoch == early.best.epoch
    top = history.ranked()[0]  # the mean over seeds of each seed's end statistic
    assert s.rank_variant == history.winner() == top.name
    assert s.rank_value == pytest.approx(top.score.value, rel=1e-12)


@pytest.mark.parametrize("rank_by", ["end", "best"])
def test_the_stored_ranking_is_refreshed_now_and_then_and_exact_at_the_end(
        store: RunStore, tiny_experiment, monkeypatch: pytest.MonkeyPatch, rank_by: str) -> None:
    """While running, the ranking is recomputed at most every ``RANK_INTERVAL_S``
    (here: never after epoch 0); ``finish`` writes the winner of every epoch, the ★
    ``RunHistory.winner()`` gives, even when the lead changed since."""
    from regtui.core import recorder as recorder_mod

    monkeypatch.setattr(recorder_mod, "RANK_INTERVAL_S", 1e9)
    exp = tiny_experiment(variants=(VariantConfig("baseline"), VariantConfig("L2")), train={"rank_by": rank_by})
    history = RunHistory(exp)
    rec = store.recorder(exp)
    for epoch in range(12):  # baseline leads at epoch 0, L2 from epoch 1 on
        event = EpochEnd(epoch, (metrics(epoch, val_loss=0.5), metrics(epoch, val_loss=0.6 if epoch == 0 else 0.3)),
                         ("running", "running"), 0.1 * epoch)
        rec.add(event)
        history.add(event)
        s = store.summary(rec.run_id)
        assert s.last_epoch == epoch and (s.rank_by, s.rank_variant, s.rank_value) == (rank_by, "baseline", 0.5)
    assert rec.finish(("finished", "finished")) == "finished"
    history.mark_stopped()
    s = store.summary(rec.run_id)
    top = history.ranked()[0]
    assert (s.rank_by, s.rank_variant, s.rank_value) == (rank_by, history.winner(), top.score.value) == (rank_by, "L2", 0.3)

    monkeypatch.setattr(recorder_mod, "RANK_INTERVAL_S", 0.0)  # every epoch: the lead as it changes
    rec = store.recorder(exp)
    for epoch in range(3):
        rec.add(EpochEnd(epoch, (metrics(epoch, val_loss=0.5), metrics(epoch, val_loss=0.6 if epoch == 0 else 0.3)),
                         ("running", "running"), 0.1 * epoch))
        assert store.summary(rec.run_id).rank_variant == ("baseline" if epoch == 0 else "L2")
    rec.finish()


def test_diverged_variant_nan_and_inf_round_trip(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(variants=(VariantConfig("baseline"), VariantConfig("wild")))
    events = [
        EpochEnd(0, (metrics(0), metrics(0)), ("running", "running"), 0.0),
        EpochEnd(1, (metrics(1, train_acc=None, val_acc=None),
                     metrics(1, train_loss=math.inf, val_loss=math.nan, gap=math.nan, objective=-math.inf)),
                 ("running", "diverged"), 0.5),
        EpochEnd(2, (metrics(2, val_loss=0.4), None), ("running", "diverged"), 1.0),
    ]
    history = RunHistory(exp)
    rec = store.recorder(exp)
    for event in events:
        rec.add(event)
        history.add(event)
    assert rec.finish() == "stopped"  # the last event still had "running": stopped
    history.mark_stopped()
    stored = store.load_run(rec.run_id)
    assert_same_history(stored.history, history)
    wild = stored.history["wild"]
    assert wild.series("train_loss")[1] == math.inf and wild.series("objective")[1] == -math.inf
    assert math.isnan(wild.series("val_loss")[1])
    assert (stored.summary.best_val_loss, stored.summary.best_variant, stored.summary.best_epoch) == (0.4, "baseline", 2)


@pytest.mark.parametrize(("statuses", "expected"), [
    (("finished", "finished"), "finished"),
    (("finished", "diverged"), "finished"),
    (("diverged", "diverged"), "diverged"),
    (("stopped", "diverged"), "stopped"),
])
def test_run_status_from_variant_statuses(store: RunStore, tiny_experiment, statuses, expected) -> None:
    exp = tiny_experiment(variants=(VariantConfig("a"), VariantConfig("b")))
    rec = store.recorder(exp)
    rec.add(EpochEnd(0, (metrics(0), metrics(0)), ("running", "running"), 0.0))
    assert rec.finish(statuses) == expected
    stored = store.load_run(rec.run_id)
    assert stored.summary.status == expected and stored.summary.ended is not None
    assert tuple(h.status for h in stored.history.variants) == statuses


def test_exception_in_block_marks_the_run_stopped(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 5})
    training = Training(exp)
    with pytest.raises(KeyboardInterrupt):
        with store.recorder(exp) as rec:
            for event in training.events():
                rec.add(event)
                if isinstance(event, EpochEnd) and event.epoch == 2:
                    raise KeyboardInterrupt
    stored = store.load_run(rec.run_id)
    assert stored.summary.status == "stopped"
    assert stored.summary.last_epoch == 2 and len(stored.history["L2"]) == 3
    assert {h.status for h in stored.history.variants} == {"stopped"}


def test_block_without_finish_finishes_from_the_last_event(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 2})
    with store.recorder(exp) as rec:
        for event in Training(exp).events():
            rec.add(event)  # BatchEnd events are ignored
    assert store.summary(rec.run_id).status == "finished"


def test_recorder_works_from_another_thread(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 2})
    rec = store.recorder(exp)
    worker = threading.Thread(target=lambda: [rec.add(e) for e in Training(exp).events()])
    worker.start()
    worker.join()
    rec.finish()
    assert rec.error is None and store.summary(rec.run_id).last_epoch == 2


def test_a_failed_write_is_kept_not_raised(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(variants=(VariantConfig("a"),))
    rec = store.recorder(exp)
    rec.add(EpochEnd(0, (metrics(0),), ("running",), 0.0))
    rec.add(EpochEnd(0, (metrics(0),), ("running",), 0.0))  # the same epoch twice: a constraint error
    assert isinstance(rec.error, StoreError) and str(store.path) in str(rec.error)
    rec.add(EpochEnd(1, (metrics(1),), ("running",), 0.0))  # ignored from now on
    assert store.summary(rec.run_id).last_epoch == 0


def test_list_query_and_delete(store: RunStore, tiny_experiment) -> None:
    a = store.recorder(tiny_experiment(), preset="overfit")
    a.finish()
    b = store.recorder(tiny_experiment(variants=(VariantConfig("Dropout_only", dropout=0.2),)), preset="other")
    b.finish()
    assert [r.id for r in store.list_runs()] == [b.run_id, a.run_id]
    assert [r.id for r in store.list_runs(limit=1)] == [b.run_id]
    assert [r.id for r in store.list_runs(query="OVERFIT")] == [a.run_id]
    assert [r.id for r in store.list_runs(query="dropout_")] == [b.run_id]
    assert [r.id for r in store.list_runs(query="%")] == []  # LIKE wildcards are literal
    store.delete_run(a.run_id)
    assert [r.id for r in store.list_runs()] == [b.run_id]
    for table in ("members", "epochs"):
        assert store._db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (a.run_id,)).fetchone() == (0,)
    with pytest.raises(RunNotFoundError, match=f"no run with id {a.run_id}"):
        store.load_run(a.run_id)
    with pytest.raises(RunNotFoundError):
        store.delete_run(a.run_id)


def test_a_live_run_cannot_be_deleted(store: RunStore, tiny_experiment) -> None:
    rec = store.recorder(tiny_experiment())
    assert store.summary(rec.run_id).status == "running"
    with pytest.raises(StoreError, match="still being recorded"):
        store.delete_run(rec.run_id)
    rec.finish()
    store.delete_run(rec.run_id)


def test_liveness_uses_pid_token_and_heartbeat(store: RunStore, tiny_experiment) -> None:
    exp = tiny_experiment(variants=(VariantConfig("a"),))
    rec = store.recorder(exp)
    rec.add(EpochEnd(0, (metrics(0),), ("running",), 0.0))
    db = store._db
    db.execute("UPDATE runs SET process_token = 'another-process' WHERE id = ?", (rec.run_id,))
    assert store.summary(rec.run_id).status == "cut off"  # the pid was recycled
    assert store.load_run(rec.run_id).history["a"].status == "cut off"
    db.execute("UPDATE runs SET host = 'elsewhere', heartbeat = ? WHERE id = ?", (time.time(), rec.run_id))
    assert store.summary(rec.run_id).status == "running"  # another host, heard from recently
    db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time() - 2 * liveness.STALE_AFTER_S, rec.run_id))
    assert store.summary(rec.run_id).status == "cut off"


# --------------------------------------------------------------------------- schema

def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    RunStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {store_mod.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as info:
        RunStore.open(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    assert f"schema version {store_mod.SCHEMA_VERSION + 1}" in text
    assert f"up to schema version {store_mod.SCHEMA_VERSION}" in text


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not sqlite, just text that happens to be long enough" * 40)
    with pytest.raises(StoreError, match="cannot open the run history") as info:
        RunStore.open(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_migrations_run_in_order_and_keep_data(tmp_path: Path, tiny_experiment, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as s:
        (version,), = s._db.execute("PRAGMA user_version").fetchall()
        assert version == store_mod.SCHEMA_VERSION
        rec = s.recorder(tiny_experiment(variants=(VariantConfig("a"),)))
        rec.add(EpochEnd(0, (metrics(0),), ("finished",), 0.0))
        rec.finish()

    def add_notes(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + (add_notes,))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", store_mod.SCHEMA_VERSION + 1)
    with RunStore.open(path) as s:
        (version,), = s._db.execute("PRAGMA user_version").fetchall()
        assert version == store_mod.SCHEMA_VERSION
        assert s._db.execute("SELECT notes FROM runs").fetchall() == [("",)]
        assert len(s.load_run(rec.run_id).history["a"]) == 1


def test_a_failing_migration_changes_nothing(tmp_path: Path, tiny_experiment, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as s:
        s.recorder(tiny_experiment()).finish()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("DROP TABLE epochs")
        db.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + (broken,))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", store_mod.SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="no such table"):
        RunStore.open(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (store_mod.SCHEMA_VERSION - 1,)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "epochs" in tables and "half_done" not in tables
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


def test_store_imports_no_torch_and_no_ui() -> None:
    code = ("import sys, regtui.core.store, regtui.commands.history; "
            "bad = [m for m in ('torch', 'textual', 'rich', 'plotext') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- speed

def test_recording_is_cheap(store: RunStore, tiny_experiment) -> None:
    """1000 epochs x 4 variants, one transaction each: well under a second here."""
    names = ("baseline", "L2", "Dropout", "L2+Dropout")
    exp = tiny_experiment(variants=tuple(VariantConfig(n) for n in names), train={"epochs": 1000})
    events = [EpochEnd(e, tuple(metrics(e, val_loss=1.0 / (e + k + 1)) for k in range(4)), ("running",) * 4, e * 0.01)
              for e in range(1001)]
    rec = store.recorder(exp)
    start = time.perf_counter()
    for event in events:
        rec.add(event)
    elapsed = time.perf_counter() - start
    rec.finish()
    assert rec.error is None and store.summary(rec.run_id).last_epoch == 1000
    print(f"recorded 1001 epochs x 4 variants in {elapsed * 1000:.0f} ms")
    assert elapsed < 3.0  # generous for loaded CI machines; measured ~0.1 s on 2 cores
    start = time.perf_counter()
    stored = store.load_run(rec.run_id)
    print(f"loaded it in {(time.perf_counter() - start) * 1000:.0f} ms")
    assert len(stored.history["L2"]) == 1001
    assert experiment_to_dict(stored.experiment) == experiment_to_dict(exp)


def test_a_version_1_file_is_migrated_and_keeps_its_runs(tmp_path: Path, tiny_experiment) -> None:
    """A history written before runs kept their data summary still opens, whole."""
    path = tmp_path / "history.sqlite3"
    training = Training(tiny_experiment())
    with RunStore.open(path) as s:
        with s.recorder(training.experiment) as rec:
            pass
    with sqlite3.connect(path) as db:  # back to what version 1 wrote
        db.execute("DROP TABLE branches")  # version 3
        for column in ("data_info", "rank_by", "rank_value", "rank_variant"):  # version 4
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("ALTER TABLE runs DROP COLUMN engine")  # version 5
        db.execute("ALTER TABLE members DROP COLUMN worker")
        db.execute("PRAGMA user_version = 1")
    with RunStore.open(path) as s:
        (version,), = s._db.execute("PRAGMA user_version").fetchall()
        assert version == store_mod.SCHEMA_VERSION >= 2
        old = s.load_run(rec.run_id)
        assert old.data is None and "data" not in old.to_json()
        run_id, history = record(s, training, data=training.dataset.summary())
        stored = s.load_run(run_id)
        assert stored.data == training.dataset.summary()
        assert stored.to_json() == {**history.to_json(), "data": training.dataset.summary()}


def test_a_version_3_file_gets_the_ranking_of_its_runs(tmp_path: Path, tiny_experiment) -> None:
    """Runs recorded before the ranking was stored are ranked when the file is migrated:
    by each one's own train.rank_by, and a diverged variant is never the winner."""
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as s:
        plain, history = record(s, Training(tiny_experiment(train={"epochs": 4})))
        by_best, best_history = record(s, Training(tiny_experiment(train={"epochs": 4, "rank_by": "best"})))
        wild = tiny_experiment(variants=(VariantConfig("baseline"), VariantConfig("wild", l2=1e6)),
                               train={"epochs": 4, "lr": 1.0, "batch_size": 4})
        diverged, wild_history = record(s, Training(wild))
    assert wild_history["wild"].status == "diverged"
    with sqlite3.connect(path) as db:  # back to what version 3 wrote
        for column in ("rank_by", "rank_value", "rank_variant"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("ALTER TABLE runs DROP COLUMN engine")  # and what version 5 added
        db.execute("ALTER TABLE members DROP COLUMN worker")
        db.execute("PRAGMA user_version = 3")
    with RunStore.open(path) as s:
        for run_id, h, rank_by in ((plain, history, "end"), (by_best, best_history, "best"),
                                   (diverged, wild_history, "end")):
            summary = s.summary(run_id)
            assert (summary.rank_by, summary.rank_variant) == (rank_by, h.winner())
            assert summary.rank_value == pytest.approx(h.ranked()[0].score.value, rel=1e-12)
        assert s.summary(diverged).rank_variant == "baseline"
