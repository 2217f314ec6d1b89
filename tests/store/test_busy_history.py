"""A busy history loses no epoch, and a vanished one is never reported as recorded
(issue 16, item 6)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regtui.core import recorder as recorder_mod
from regtui.core import store as store_mod
from regtui.core.config import Experiment, TrainConfig, VariantConfig
from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus
from regtui.core.store import RunStore
from tests.conftest import LONG_TOML, child_process, epochs_in_history

ROOT = Path(__file__).resolve().parents[2]
EXP = Experiment(train=TrainConfig(epochs=40, device="cpu"), variants=(VariantConfig("a"), VariantConfig("b")))


def epoch(n: int) -> EpochEnd:
    m = EpochMetrics(n, 1.0 / (n + 1), 1.1 / (n + 1), None, None, 1.0, 0.0, 1.0, 0.1, 0.01 * n)
    return EpochEnd(n, (m, m), (RunStatus.RUNNING,) * 2, 0.01 * n)


def recorded_epochs(path: Path, run_id: int) -> list[int]:
    with sqlite3.connect(path) as db:
        return [e for (e,) in db.execute("SELECT DISTINCT epoch FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))]


@pytest.fixture
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short waits so a held lock is noticed at once (the real ones are 0.25 s and 30 s)."""
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(recorder_mod, "EPOCH_WAIT_S", 0.01, raising=False)
    monkeypatch.setattr(recorder_mod, "FINISH_PATIENCE_S", 0.3, raising=False)


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer (as another process would be) holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_epochs_written_while_the_history_is_locked_are_queued_not_lost(tmp_path: Path, quick_waits) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as store:
        rec = store.recorder(EXP)
        for n in range(3):
            rec.add(epoch(n))
        other = hold_write_lock(path)
        for n in range(3, 20):  # the other writer keeps the lock for 17 epochs
            rec.add(epoch(n))
        assert rec.error is None and rec.queued == 17
        assert recorded_epochs(path, rec.run_id) == [0, 1, 2]
        other.execute("COMMIT")
        other.close()
        for n in range(20, 41):
            rec.add(epoch(n))
        assert rec.error is None and rec.queued == 0
        assert rec.finish() is RunStatus.STOPPED and rec.error is None
        assert recorded_epochs(path, rec.run_id) == list(range(41))
        assert store.summary(rec.run_id).last_epoch == 40


def test_a_lock_held_past_the_end_says_how_many_epochs_were_not_written(tmp_path: Path, quick_waits) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as store:
        rec = store.recorder(EXP)
        rec.add(epoch(0))
        other = hold_write_lock(path)
        try:
            for n in range(1, 6):
                rec.add(epoch(n))
            rec.finish()
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert rec.error is not None
        assert "stayed busy" in str(rec.error) and "5 epoch(s) could not be written" in str(rec.error)


def test_a_deleted_history_file_is_reported_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as store:
        rec = store.recorder(EXP)
        for n in range(5):
            rec.add(epoch(n))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        for n in range(5, 10):
            rec.add(epoch(n))  # SQLite writes on into the orphaned file
        rec.finish()
        assert rec.error is not None
        assert "was deleted while this run was being recorded" in str(rec.error)
        assert f"run {rec.run_id} is not in the history" in str(rec.error)


def test_a_run_deleted_from_the_history_mid_run_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as store:
        rec = store.recorder(EXP)
        rec.add(epoch(0))
        with sqlite3.connect(path) as other:
            other.execute("PRAGMA foreign_keys = ON")
            other.execute("DELETE FROM runs WHERE id = ?", (rec.run_id,))
        rec.add(epoch(1))
        assert rec.error is not None and "was deleted from the history while it was being recorded" in str(rec.error)




def test_regtui_run_says_the_truth_when_its_history_file_is_deleted(tmp_path: Path) -> None:
    preset = tmp_path / "long.toml"
    preset.write_text(LONG_TOML.format(epochs=100000))
    home = tmp_path / "home"
    env = {**os.environ, "REGTUI_HOME": str(home), "REGTUI_THREADS": "1", "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "regtui", "run", str(preset), "--quiet"]
    store = home / "history.sqlite3"
    with child_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:  # readiness: epochs are committed
            if epochs_in_history(store) >= 3:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        for suffix in ("", "-wal", "-shm"):
            Path(str(store) + suffix).unlink(missing_ok=True)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "was deleted while this run was being recorded" in err and "recorded as run" not in err, err
    assert "Traceback" not in err
