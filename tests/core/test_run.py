"""The core run (``regtui.core.run.Run``): training, recording and insight in one place."""

from __future__ import annotations

import math
import queue
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from regtui.core.config import VariantConfig
from regtui.core.run import InsightRequest, InsightSnapshot, RecordingStopped, Run, RunReady
from regtui.core.run_records import StoreError
from regtui.core.run_types import BatchEnd, EpochEnd, RunStatus
from regtui.core.store import RunStore


def test_a_run_records_every_epoch_and_ends_finished(tiny_experiment, tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    run = Run(tiny_experiment(), source="cli", preset="tiny", store_path=path)
    events = list(run.events())
    ready = events[0]
    assert isinstance(ready, RunReady) and ready.history_id is not None and ready.history_error is None
    assert ready.n_batches == 3 and ready.data["n_train"] == 48
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [0, 1, 2, 3]
    assert sum(isinstance(e, BatchEnd) for e in events) == 3 * 3
    outcome = run.outcome
    assert outcome is not None and outcome.status is RunStatus.FINISHED and not outcome.stopped
    assert outcome.statuses == (RunStatus.FINISHED,) * 3 and outcome.history_id == ready.history_id
    with RunStore.open(path) as store:
        stored = store.load_run(ready.history_id)
    assert stored.summary.status is RunStatus.FINISHED and stored.summary.preset == "tiny"
    assert stored.summary.source == "cli"
    for name in ("baseline", "L2", "Dropout"):
        np.testing.assert_array_equal(stored.history[name].series("val_loss"), run.history[name].series("val_loss"))


def test_closing_the_events_stops_within_one_batch_and_records_stopped(tiny_experiment, tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    run = Run(tiny_experiment(), store_path=path)
    events = run.events()
    for event in events:
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == 1:
            break
    assert run.outcome is None  # still suspended at that batch
    events.close()
    assert run.outcome is not None and run.outcome.status is RunStatus.STOPPED
    assert run.outcome.statuses == (RunStatus.STOPPED,) * 3
    assert run.history.epoch == 1 and run.history["L2"].status is RunStatus.STOPPED
    with RunStore.open(path) as store:
        stored = store.load_run(run.outcome.history_id)
    assert stored.summary.status is RunStatus.STOPPED and stored.summary.last_epoch == 1


def test_an_exception_in_the_driver_finishes_the_run_as_stopped(tiny_experiment, tmp_path: Path) -> None:
    run = Run(tiny_experiment(), store_path=tmp_path / "h.sqlite3")

    def drive() -> None:
        for event in run.events():
            if isinstance(event, EpochEnd) and event.epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        drive()
    assert run.outcome is not None and run.outcome.status is RunStatus.STOPPED


def test_divergence_is_an_end_status_and_the_run_goes_on(tiny_experiment, tmp_path: Path) -> None:
    exp = tiny_experiment(variants=(VariantConfig("calm"), VariantConfig("wild")), train={"lr": 0.1})
    exp = replace(exp, train=replace(exp.train, lr=1e6))  # every member explodes
    run = Run(exp, record=False)
    list(run.events())
    assert run.outcome is not None and run.outcome.status is RunStatus.DIVERGED
    assert set(run.outcome.statuses) == {RunStatus.DIVERGED}


def test_a_relative_data_file_is_recorded_absolute(tmp_path: Path, tiny_experiment) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(30)))
    exp = tiny_experiment(data={"dataset": "csv", "path": "d.csv", "n_train": 0, "n_val": 0})
    exp = replace(exp, source_dir=str(folder))
    run = Run(exp, store_path=tmp_path / "h.sqlite3")
    assert run.experiment.data.path == str(folder / "d.csv")
    list(run.events())
    with RunStore.open(tmp_path / "h.sqlite3") as store:
        stored = store.load_run(run.outcome.history_id)
    assert stored.experiment.data.path == str(folder / "d.csv")


def test_without_recording_no_history_file_is_made(tiny_experiment, tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    run = Run(tiny_experiment(), record=False, store_path=path)
    ready = next(run.events())
    assert isinstance(ready, RunReady) and ready.history_id is None and ready.history_error is None
    assert not path.exists()


def test_a_history_that_cannot_be_opened_never_stops_the_run(tiny_experiment, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = Run(tiny_experiment(), store_path=blocker / "h.sqlite3")
    events = list(run.events())
    assert isinstance(events[0], RunReady) and events[0].history_error.startswith("not recorded: ")
    assert run.outcome.status is RunStatus.FINISHED and run.outcome.history_id is None
    assert run.history.epoch == 3


def test_a_failed_write_is_reported_once_and_training_goes_on(tiny_experiment, tmp_path: Path, monkeypatch) -> None:
    writes = []
    original = RunStore._write

    def flaky(self, work, **options):
        writes.append(work)
        if len(writes) == 3:  # the run's row and epoch 0 pass; epoch 1 fails
            raise StoreError(f"{self.path}: disk full")
        return original(self, work, **options)

    monkeypatch.setattr(RunStore, "_write", flaky)
    run = Run(tiny_experiment(), store_path=tmp_path / "h.sqlite3")
    events = list(run.events())
    stopped = [e for e in events if isinstance(e, RecordingStopped)]
    assert len(stopped) == 1 and "disk full" in stopped[0].message
    assert run.outcome.status is RunStatus.FINISHED and run.history.epoch == 3
    assert "disk full" in run.outcome.history_error


def test_insight_per_member_and_per_variant(tiny_experiment) -> None:
    exp = tiny_experiment(train={"seeds": 2})
    run = Run(exp, record=False)
    events = run.events()
    for event in events:
        if isinstance(event, EpochEnd) and event.epoch == 1:
            break
    every = run.insight(InsightRequest(boundary=(12, 8), bins=10))
    assert isinstance(every, InsightSnapshot) and every.epoch == 1
    assert every.names == ("baseline · seed 0", "baseline · seed 1", "L2 · seed 0", "L2 · seed 1",
                           "Dropout · seed 0", "Dropout · seed 1")
    assert every.boundary.prob.shape == (6, 8, 12) and every.weights.counts.shape == (6, 10)
    grouped = run.insight(InsightRequest(boundary=(12, 8), bins=10, by_variant=True))
    assert grouped.names == ("baseline", "L2", "Dropout")
    np.testing.assert_array_equal(grouped.boundary.prob, every.boundary.prob[[0, 2, 4]])  # first seed's map
    np.testing.assert_array_equal(grouped.weights.counts, every.weights.counts.reshape(3, 2, 10).sum(1))
    assert run.insight(InsightRequest()).boundary is None and run.insight(InsightRequest()).weights is None
    events.close()


def test_insight_without_a_plane_says_why(tiny_experiment) -> None:
    run = Run(tiny_experiment(data={"dataset": "regression", "n_features": 5}), record=False)
    next(run.events())
    snap = run.insight(InsightRequest(boundary=(10, 10), bins=5))
    assert snap.boundary is None and "regression, 5 features" in snap.no_plane
    assert snap.weights is not None and math.isclose(snap.weights.counts.sum(), 3 * (5 * 8 + 8 * 1))


def test_a_run_is_iterated_once(tiny_experiment) -> None:
    run = Run(tiny_experiment(), record=False)
    list(run.events())
    with pytest.raises(RuntimeError):
        list(run.events())


def test_a_worker_thread_drives_it_with_pause_stop_and_insight_requests(tiny_experiment, tmp_path: Path) -> None:
    """How the lab's worker uses it: commands come in as immutable values on a queue,
    between two batches; snapshots go back out the same way."""
    exp = tiny_experiment(train={"epochs": 200})
    run = Run(exp, source="tui", store_path=tmp_path / "h.sqlite3")
    commands: queue.Queue[object] = queue.Queue()
    out: queue.Queue[object] = queue.Queue()

    def worker() -> None:
        events = run.events()
        try:
            for event in events:
                if isinstance(event, EpochEnd) and event.epoch == 2:
                    out.put("at epoch 2")
                    command = commands.get(timeout=60)  # paused: nothing trains while it waits
                    while isinstance(command, InsightRequest):
                        out.put(run.insight(command))
                        command = commands.get(timeout=60)
                    if command == "stop":
                        return
        finally:
            events.close()
            out.put("done")

    thread = threading.Thread(target=worker)
    thread.start()
    assert out.get(timeout=60) == "at epoch 2"
    commands.put(InsightRequest(bins=7, by_variant=True))
    snapshot = out.get(timeout=60)
    assert snapshot.epoch == 2 and snapshot.weights.counts.shape == (3, 7)
    assert run.epoch == 2  # paused: still there
    commands.put("stop")
    assert out.get(timeout=60) == "done"
    thread.join(timeout=60)
    assert run.outcome.status is RunStatus.STOPPED and run.history.epoch == 2
