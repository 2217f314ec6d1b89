"""Pilot tests of the lab's training process (``regtui.ui.worker.process``, ``REGTUI_WORKER=process``): a run trains
in a child of the lab, space and x act on it within a batch, q ends it recorded as
stopped, a killed child is a clear failure, and each run records where
``REGTUI_HOME`` points when ``r`` is pressed (not where it pointed when the fork
server started)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from regtui.core.store import FILENAME, RunStore
from regtui.ui.app import create_app

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGTUI_WORKER", "process")


def run_processes() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("regtui-run-")]


def wait_gone(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while run_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not run_processes(), "no training process left behind"


def statuses(home: Path) -> list[tuple[str, str]]:
    """(status, source) of the runs in the history under ``home`` (``$REGTUI_HOME``)."""
    with RunStore.open(home / FILENAME) as store:
        return [(s.status.value, s.source) for s in store.list_runs()]


async def test_a_run_trains_in_a_child_that_pauses_and_stops_within_a_batch(
        long_run: Any, wait_for: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 2)
        (child,) = run_processes()
        assert child.pid != os.getpid() and child.is_alive()
        control = app.lab.session.control
        await pilot.press("space")
        assert app.lab.run_state == "paused"
        await pilot.pause(0.3)  # what was on its way arrives
        epoch = app.lab.session.history.epoch
        await pilot.pause(0.7)
        assert app.lab.session.history.epoch == epoch, "the child trains no epoch while paused"
        await pilot.press("space")
        await wait_for(pilot, lambda: app.lab.session.history.epoch > epoch + 2)
        await pilot.press("x")
        assert control is not None and control.done.wait(2.0), "the child left its loop within a batch"
        await wait_for(pilot, lambda: app.lab.run_state == "stopped")
        await wait_for(pilot, lambda: control.process_cpu_s is not None, 10)
        assert control.process_cpu_s > 0  # the child said what it used: it trained, not this process
        assert [h.status for h in app.lab.session.history.variants] == ["stopped"] * 4
    wait_gone()


async def test_q_during_a_run_ends_the_child_with_its_run_recorded_as_stopped(
        long_run: Any, run_epochs: Any) -> None:
    home = Path(os.environ["REGTUI_HOME"])
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 3)
        assert run_processes()
        start = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - start < 5.0
    assert app.return_code == 0
    wait_gone()
    assert statuses(home) == [("stopped", "tui")]


async def test_a_killed_training_process_is_a_failure_the_lab_shows(
        long_run: Any, wait_for: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 2)
        (child,) = run_processes()
        os.kill(child.pid, signal.SIGKILL)
        await wait_for(pilot, lambda: app.lab.run_state == "failed", 10)
        assert "killed (SIGKILL)" in app.lab.failure
        assert "killed (SIGKILL)" in str(app.lab.status.note)
        await pilot.press("r")  # the lab goes on: the next run trains
        await wait_for(pilot, lambda: app.lab.run_state == "running" and app.lab.session.history.epoch >= 1)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.lab.run_state == "stopped")
    wait_gone()


async def test_each_run_records_where_regtui_home_points_when_it_starts(
        tiny: Any, run_to_end: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("REGTUI_HOME", str(first))
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        monkeypatch.setenv("REGTUI_HOME", str(second))
        await run_to_end(pilot)
    wait_gone()
    assert statuses(first) == [("finished", "tui")]
    assert statuses(second) == [("finished", "tui")]
