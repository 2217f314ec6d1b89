"""Fixtures of the UI tests: tiny experiments that train in a blink, and a waiter.

``ui_experiment(epochs=...)`` builds the tiny preset in code (moons, n_train 30,
n_val 50, hidden [16], full batch of 30, four variants); ``wait_for`` lets a
Pilot-driven app run until a condition holds; ``notifications`` records what
the lab shows as notifications.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

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
