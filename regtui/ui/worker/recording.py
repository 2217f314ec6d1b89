"""Recording lab runs in the run history, from the training worker's thread.

``recorded(training, post, run_id)`` wraps ``training.events()``: it opens the
history store (``regtui.core.store``), writes every ``EpochEnd`` before the UI
sees it (one small transaction per epoch), and finishes the run with the
final statuses when the generator is closed: finished, stopped (``x``,
restart, ``q``) or diverged.  A process that dies (a dropped SSH session)
leaves the committed epochs, and the store reports the run as cut off.

The store never stops a run: a failure to open or write is posted once as
``HistoryError`` and training goes on unrecorded.  ``RunRecorded`` tells the
app the run's history id and what data it trained on.  Like the runner, it
only posts messages and never touches widgets.  Relative data paths are
recorded absolute, so re-running a stored run works from any folder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

from textual.message import Message

from regtui.core.config import DATASETS_FILE, Experiment, expand_home
from regtui.ui.worker.messages import HistoryError, RunRecorded

SOURCE = "tui"


def recordable(experiment: Experiment) -> Experiment:
    """``experiment`` with a relative ``data.path`` made absolute (as training resolves it)."""
    data = experiment.data
    if data.dataset not in DATASETS_FILE or not data.path:
        return experiment
    path = expand_home(data.path)
    if not path.is_absolute():
        path = Path(experiment.source_dir or ".").resolve() / path
    return replace(experiment, data=replace(data, path=str(path)))


def data_summary(training: Any) -> dict[str, Any]:
    """What the run trained on, in the shape ``regtui run --json`` writes."""
    return training.dataset.summary()


def recorded(training: Any, post: Callable[[Message], object], run_id: int) -> Iterator[Any]:
    """``training.events()``, recorded in the history as it goes."""
    from regtui.core.run_records import StoreError
    from regtui.core.store import RunStore

    store = recorder = None
    try:
        store = RunStore.open()
        recorder = store.recorder(recordable(training.experiment), source=SOURCE, preset=training.experiment.name,
                                  data=data_summary(training))
    except StoreError as exc:
        post(HistoryError(run_id, f"this run is not recorded: {exc}"))
        if store is not None:
            store.close()
            store = None
    post(RunRecorded(run_id, recorder.run_id if recorder is not None else None, data_summary(training)))
    events = training.events()
    try:
        for event in events:
            if recorder is not None and recorder.error is None:
                recorder.add(event)
                if recorder.error is not None:
                    post(HistoryError(run_id, f"recording stopped: {recorder.error}"))
            yield event
    finally:
        events.close()  # the statuses become final ("stopped" for members still running)
        if recorder is not None:
            recorder.finish(training.statuses)
        if store is not None:
            store.close()
