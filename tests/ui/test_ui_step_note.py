"""The lab shows why the training step is not a CUDA graph (``StepNote``, from
the run's ``EagerSteps``: known at the start, or a capture that fails in epoch 1).  No GPU here: the
fallback is forced on the CPU."""

from __future__ import annotations

from typing import Any

import pytest

from regtui.ui.app import create_app

SIZE = (120, 40)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("when", ["start", "epoch 1"])
async def test_the_lab_shows_the_step_note_once(when: str, step_graph_refused: Any, ui_experiment: Any,
                                                notifications: list[str], run_to_end: Any) -> None:
    note = step_graph_refused(when)  # "epoch 1": 30 rows in batches of 10, a warm-up, then the capture fails
    app = create_app(ui_experiment(epochs=3, batch_size=10))
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await pilot.pause()
        assert notifications.count(note) == 1, notifications
