"""``regtui run`` says why the training step is not a CUDA graph (``Training.step_note``).

No GPU here: the fallback is forced, once at the start (what ``RunReady.step_note``
carries) and once by a capture that fails in epoch 1 (a stand-in graph backend)."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import pytest
import torch

from regtui.cli import main
from regtui.core import training as training_module
from regtui.core.cuda_graph import StepGraph
from regtui.core.run import Run, RunReady


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
def test_a_fallback_known_at_the_start_reaches_run_ready_and_the_output(capsys, monkeypatch, tiny_preset_file):
    _patch_training(monkeypatch, lambda t: t._fall_back("torch 0.0 has no CUDA graphs"))
    note = "CUDA graph off: torch 0.0 has no CUDA graphs; every step runs eagerly"
    from regtui.core import presets

    events = Run(presets.load_file(tiny_preset_file), record=False).events()
    ready = next(events)
    events.close()
    assert isinstance(ready, RunReady) and ready.step_note == note
    for quiet in ((), ("--quiet",)):
        code = main(["run", str(tiny_preset_file), *quiet])
        err = capsys.readouterr().err
        assert code == 0, err
        assert err.count(note) == 1, err


def test_a_capture_that_fails_in_epoch_1_is_said_once(capsys, monkeypatch, tiny_preset_file):
    _patch_training(monkeypatch, lambda t: t.use_step_graph(StepGraph(t.model.generators, _RefusingGraphs(), 1)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["run", str(tiny_preset_file), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    note = ("CUDA graph off: the step could not be captured (RuntimeError: operation not permitted when stream "
            "is capturing); every step runs eagerly")
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == [note]
    assert err.count(note) == 1, err
