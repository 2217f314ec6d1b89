"""``regtui run`` says why the training step is not a CUDA graph (``Training.step_note``).

No GPU here: the fallback is forced, once at the start (the run's ``EagerSteps``
right after ``RunReady``) and once by a capture that fails in epoch 1 (a stand-in
graph backend)."""

from __future__ import annotations

import warnings

import pytest

from regtui.cli import main
from regtui.core.run import EagerSteps, Run, RunReady


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_fallback_known_at_the_start_reaches_run_ready_and_the_output(capsys, step_graph_refused, tiny_preset_file):
    note = step_graph_refused("start")
    from regtui.core import presets

    events = Run(presets.load_file(tiny_preset_file), record=False).events()
    ready, eager = next(events), next(events)
    events.close()
    assert isinstance(ready, RunReady) and eager == EagerSteps(note)
    for quiet in ((), ("--quiet",)):
        code = main(["run", str(tiny_preset_file), *quiet])
        err = capsys.readouterr().err
        assert code == 0, err
        assert err.count(note) == 1, err


def test_a_capture_that_fails_in_epoch_1_is_said_once(capsys, step_graph_refused, tiny_preset_file):
    note = step_graph_refused("epoch 1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["run", str(tiny_preset_file), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == [note]
    assert err.count(note) == 1, err
