"""Fixtures of the UI tests: tiny experiments that train in a blink, and a waiter.

``ui_experiment(epochs=...)`` builds the tiny preset in code (moons, n_train 30,
n_val 50, hidden [16], full batch of 30, four variants); ``wait_for`` lets a
Pilot-driven app run until a condition holds, ``run_to_end`` / ``run_epochs``
press ``r`` and wait for the run's end / its first epochs; ``record_run`` puts a
past run in the history; ``charts_showing`` mounts the lab's charts on a
constructed history; ``notifications`` records what the lab shows as
notifications.  Every test here runs under ``quick_pilot_idle``.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from textual.app import App
from textual.pilot import Pilot

from regtui.core.config import DataConfig, Experiment, ModelConfig, TrainConfig, VariantConfig


def make_ui_experiment(epochs: int = 20, variants: tuple[VariantConfig, ...] | None = None,
                       **train: Any) -> Experiment:
    """moons, 30 train / 50 val samples, one hidden layer of 16, full batch, CPU."""
    if variants is None:
        variants = (
            VariantConfig("baseline"),
            VariantConfig("L2", l2=1e-3),
            VariantConfig("Dropout", dropout=0.5),
            VariantConfig("L2+Dropout", l2=1e-3, dropout=0.5),
        )
    settings = {"optimizer": "adam", "lr": 0.01, "batch_size": 30, "epochs": epochs, "seed": 0, "device": "cpu"}
    return Experiment(
        name="tiny-ui",
        description="UI test preset",
        data=DataConfig(dataset="moons", n_train=30, n_val=50, noise=0.2, seed=1),
        model=ModelConfig(hidden=(16,), activation="relu"),
        train=TrainConfig(**{**settings, **train}),
        variants=variants,
    )


@pytest.fixture(autouse=True)
def _quick_pilot(quick_pilot_idle: None) -> None:
    """Every UI test's Pilot waits for idle in short windows (``quick_pilot_idle``,
    tests/conftest.py): the same idle rule, less wall time asleep."""


@pytest.fixture
def ui_experiment() -> Callable[..., Experiment]:
    """Factory of tiny experiments: ``ui_experiment(epochs=20, variants=..., lr=...)``."""
    return make_ui_experiment


@pytest.fixture
def tiny() -> Experiment:
    """The tiny experiment, 20 epochs."""
    return make_ui_experiment()


@pytest.fixture
def long_run() -> Experiment:
    """The tiny experiment with epochs enough to still run while a test presses keys."""
    return make_ui_experiment(epochs=1_000_000)


Waiter = Callable[[Pilot[None], Callable[[], bool], float], Awaitable[None]]


async def _wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


@pytest.fixture
def wait_for() -> Callable[..., Awaitable[None]]:
    """``await wait_for(pilot, condition, timeout=30)``: run the app until ``condition()``."""
    return _wait_for


async def _press_r(pilot: Pilot[None], until: Callable[[Any], bool], timeout: float) -> Any:
    lab = pilot.app.lab  # type: ignore[attr-defined]
    before = lab.session.control
    await pilot.press("r")
    await _wait_for(pilot, lambda: lab.session.control is not before and until(lab), timeout)
    return lab.session.history


async def _run_to_end(pilot: Pilot[None], state: str = "finished", timeout: float = 30.0) -> Any:
    return await _press_r(pilot, lambda lab: lab.run_state == state, timeout)


async def _run_epochs(pilot: Pilot[None], epochs: int, timeout: float = 30.0) -> Any:
    return await _press_r(pilot, lambda lab: lab.session.history is not None and lab.session.history.epoch >= epochs,
                          timeout)


@pytest.fixture
def run_to_end() -> Callable[..., Awaitable[Any]]:
    """``history = await run_to_end(pilot, state="finished", timeout=30)``: press ``r`` in the
    lab and wait until that run (not the one before) is ``state``; the run's history."""
    return _run_to_end


@pytest.fixture
def run_epochs() -> Callable[..., Awaitable[Any]]:
    """``history = await run_epochs(pilot, n, timeout=30)``: press ``r`` in the lab and wait
    until that run has trained ``n`` epochs (a long run goes on); the run's history."""
    return _run_epochs


def _record_run(experiment: Experiment) -> int:
    from regtui.core.store import RunStore
    from regtui.core.training import Training

    training = Training(experiment)
    with RunStore.open() as store, store.recorder(experiment, source="cli", preset=experiment.name) as rec:
        for event in training.events():
            rec.add(event)
        rec.finish(training.statuses)
        return rec.run_id


@pytest.fixture
def record_run() -> Callable[[Experiment], int]:
    """``record_run(experiment)``: train it headless and record it in the run history, as
    ``regtui run`` does; returns its history id (a past run for the lab's ``h``)."""
    return _record_run


@asynccontextmanager
async def _charts_showing(history: Any, size: tuple[int, int] = (80, 24)
                         ) -> AsyncIterator[tuple[Pilot[None], Any, list[Any]]]:
    from regtui.ui.app import create_app
    from regtui.ui.widgets.loss_charts import LossChart

    app = create_app(make_ui_experiment())
    async with app.run_test(size=size) as pilot:
        charts = app.lab.charts
        charts.set_variants([v.name for v in history.variants])
        await pilot.pause()
        charts.show(history)
        await pilot.pause()
        yield pilot, charts, list(charts.query("#per-variant LossChart").results(LossChart))


@pytest.fixture
def charts_showing() -> Callable[..., Any]:
    """``async with charts_showing(history) as (pilot, charts, grid):`` the lab at 80×24 (the
    tiny preset) with its charts on ``history``'s variants showing it (a constructed
    ``RunHistory``: nothing trains); ``grid``: the per-variant charts."""
    return _charts_showing


@pytest.fixture
def notifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every notification shown, in order: each message that reaches
    Textual's ``App.notify`` (after the lab's own ``notify`` made it plain)."""
    shown: list[str] = []
    real = App.notify

    def notify(self: App[Any], message: Any, **kwargs: Any) -> None:
        shown.append(str(message))
        real(self, message, **kwargs)

    monkeypatch.setattr(App, "notify", notify)
    return shown
