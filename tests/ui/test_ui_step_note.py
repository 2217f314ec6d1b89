"""The lab shows why the training step is not a CUDA graph (``StepNote``, from
``RunReady.step_note`` or a capture that fails in epoch 1).  No GPU here: the
fallback is forced on the CPU."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pytest
import torch

from regtui.core import training as training_module
from regtui.core.cuda_graph import StepGraph
from regtui.ui.app import create_app

SIZE = (120, 40)


class _RefusingGraphs:
    def warm_up(self, step: Callable[[], None]) -> None:
        step()

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> Any:
        raise RuntimeError("operation not permitted when stream is capturing")


def _patch_training(monkeypatch: pytest.MonkeyPatch, after_init: Callable[[Any], None]) -> None:
    original = training_module.Training.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        after_init(self)

    monkeypatch.setattr(training_module.Training, "__init__", init)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("when", ["start", "epoch 1"])
async def test_the_lab_shows_the_step_note_once(when: str, monkeypatch: pytest.MonkeyPatch, ui_experiment: Any,
                                                notifications: list[str], run_to_end: Any) -> None:
    if when == "start":
        _patch_training(monkeypatch, lambda t: t._fall_back("torch 0.0 has no CUDA graphs"))
        note = "CUDA graph off: torch 0.0 has no CUDA graphs; every step runs eagerly"
    else:  # 30 rows in batches of 10: a warm-up, then the capture fails
        _patch_training(monkeypatch, lambda t: t.use_step_graph(StepGraph(t.model.generators, _RefusingGraphs(), 1)))
        note = ("CUDA graph off: the step could not be captured (RuntimeError: operation not permitted when stream "
                "is capturing); every step runs eagerly")
    app = create_app(ui_experiment(epochs=3, batch_size=10))
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await pilot.pause()
        assert notifications.count(note) == 1, notifications
