"""The thread that trains a lab's run uses the run's torch thread count (``REGTUI_THREADS``).

Torch's intra-op count is per thread once a thread has used torch; ``Run.prepare``
sets it in the helper thread that prepares.  The run's child process trains in
its main thread, which the fork server had used (two OpenMP threads on this
machine): unless ``Run.events`` sets the count again it trained with two, and the
second spun on the core the UI needs (issue 20)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from regtui.ui.worker import runner
from regtui.ui.worker.messages import RunFinished


@pytest.mark.parametrize("threads", [1, 2])
def test_the_thread_that_trains_gets_the_runs_torch_thread_count(
        ui_experiment: Any, monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("REGTUI_THREADS", str(threads))
    counts: list[int] = []
    posted: list[Any] = []

    def post(message: Any) -> None:  # called in the thread that trains
        posted.append(message)
        counts.append(torch.get_num_threads())

    def trains() -> None:
        torch.set_num_threads(3 - threads)  # this thread has used torch with another count,
        assert torch.get_num_threads() == 3 - threads  # as the fork server's main thread had
        runner.train(post, ui_experiment(epochs=2), runner.RunControl(1), lambda: False)

    before = torch.get_num_threads()
    try:
        thread = threading.Thread(target=trains)
        thread.start()
        thread.join()
    finally:
        torch.set_num_threads(before)
    assert isinstance(posted[-1], RunFinished) and not posted[-1].stopped
    assert counts and set(counts) == {threads}
