"""Shared fixtures: tiny experiments that train in milliseconds.

Kept minimal on purpose (core and CLI tests use it; UI tests may too): no UI
imports here.  Every experiment runs on the CPU so results are exact and
reproducible on any machine.
"""

from __future__ import annotations

import gc
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from regtui.core.config import DataConfig, Experiment, ModelConfig, TrainConfig, VariantConfig

TINY_TOML = """\
name = "tiny"
description = "A tiny comparison for tests."

[data]
dataset = "moons"
n_train = 48
n_val = 32
noise = 0.2
seed = 0

[model]
hidden = [8]
activation = "relu"

[train]
optimizer = "sgd"
lr = 0.1
batch_size = 16
epochs = 3
seed = 0
device = "cpu"

[[variants]]
name = "baseline"

[[variants]]
name = "L2"
l2 = 0.01

[[variants]]
name = "Dropout"
dropout = 0.5
"""


LONG_TOML = """\
name = "long"
[data]
dataset = "moons"
n_train = 64
n_val = 64
[model]
hidden = [8]
[train]
optimizer = "sgd"
lr = 0.05
batch_size = 8
epochs = {epochs}
device = "cpu"
[[variants]]
name = "baseline"
[[variants]]
name = "L2"
l2 = 0.001
"""
"""A run that goes on as long as its ``epochs`` (format it), for the tests that stop a
``regtui run`` child mid-run with a signal: two variants, a tiny net, SGD, the CPU."""


@contextmanager
def child_process(argv: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """``subprocess.Popen(argv, **popen)``, killed (and reaped) if the test leaves it
    running, so a failing signal test never leaves a 100,000-epoch run behind."""
    proc = subprocess.Popen(argv, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)


GC_THRESHOLD = (20_000, 20, 50)
"""The test process's garbage collector thresholds (Python's: 700, 10, 10).  A Pilot
test allocates millions of short-lived objects (events, messages, styles), and with
torch, Textual and a session's fixtures alive each full collection walks a large heap:
tests/ui/test_ui_config.py with the hostile-typing test took 84 s of CPU, 66 s with
these (measured on the loaded 2-core machine).  Only when a collection runs changes;
what is collected, and every child process (``regtui`` itself), stay as they are."""


def epochs_in_history(store: Path) -> int:
    """How many distinct epochs a run history file holds (0 while it cannot be read yet):
    the readiness signal of the tests that stop a ``regtui run`` child mid-run."""
    import sqlite3

    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=1) as db:
            return int(db.execute("SELECT COUNT(DISTINCT epoch) FROM epochs").fetchone()[0])
    except sqlite3.Error:
        return 0


def pytest_configure(config: pytest.Config) -> None:
    """Children of the suite get Ctrl+C as a terminal sends it, however the suite
    was started.  A shell starts a background job (``pytest … &``, ``nohup``) with
    SIGINT ignored, an ignored signal stays ignored across ``exec``, and Python then
    installs no KeyboardInterrupt: every ``regtui`` child would ignore the SIGINT the
    signal tests send.  A handler of the suite's own is reset to the default in a
    child, so children start as from a terminal.  And ``GC_THRESHOLD`` for this process."""
    gc.set_threshold(*GC_THRESHOLD)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:  # not the main thread: nothing to normalize from here
            pass


def make_tiny(
    *,
    variants: tuple[VariantConfig, ...] | None = None,
    data: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
) -> Experiment:
    """A tiny moons experiment on the CPU; keyword dicts override its sections."""
    d = {"dataset": "moons", "n_train": 48, "n_val": 32, "seed": 0, **(data or {})}
    m = {"hidden": (8,), "activation": "relu", **(model or {})}
    t = {"optimizer": "sgd", "lr": 0.1, "batch_size": 16, "epochs": 3, "seed": 0, "device": "cpu", **(train or {})}
    if variants is None:
        variants = (VariantConfig("baseline"), VariantConfig("L2", l2=0.01), VariantConfig("Dropout", dropout=0.5))
    return Experiment(
        name="tiny", description="A tiny comparison for tests.",
        data=DataConfig(**d), model=ModelConfig(**m), train=TrainConfig(**t), variants=variants,
    )


@pytest.fixture
def tiny_experiment() -> Callable[..., Experiment]:
    """Factory: ``tiny_experiment(variants=..., data={...}, model={...}, train={...})``."""
    return make_tiny


@pytest.fixture
def tiny_preset_file(tmp_path: Path) -> Path:
    """A tiny preset written as TOML (3 variants, 3 epochs, CPU)."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _session_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Before any test or session fixture: user presets and run history in this
    session's own temporary folder.  Under pytest-xdist every worker has its own
    base temporary folder, so two workers never share a history file."""
    home = tmp_path_factory.getbasetemp() / "session-user"
    patch = pytest.MonkeyPatch()
    patch.setenv("REGTUI_PRESETS_DIR", str(home / "presets"))
    patch.setenv("REGTUI_HOME", str(home / "home"))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _never_touch_real_user_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test, whatever its folder, keeps user presets and run history out of
    the real user folders (a folder's own conftest may point them elsewhere)."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("REGTUI_PRESETS_DIR", str(home / "presets"))
    monkeypatch.setenv("REGTUI_HOME", str(home / "home"))


PILOT_IDLE_WINDOW = 0.005
"""Seconds of each sleep in Textual's ``wait_for_idle`` under ``quick_pilot_idle``
(Textual's own: 0.02).  Pilot waits for idle twice after every key it presses and once
in every ``pause()``, each wait at least one window long, so a Pilot test spent most
of its wall time asleep: tests/presets/test_presets_screens.py 18-24 s -> 7.5-10 s at
-n 0 (loaded 2-core machine), with the same CPU."""


@pytest.fixture
def quick_pilot_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual's idle test in windows of ``PILOT_IDLE_WINDOW`` instead of 20 ms, on the
    CPU time of the app's own thread instead of the whole process's.

    Idle still means under 1/20 of the window spent on the CPU, and every pending
    message of the screen is still processed before it (``_wait_for_screen``).  But
    Textual counts ``process_time()``, every thread's: while a run trains in the lab's
    worker thread the process is never idle, so each key waited the full second of
    ``wait_for_idle``'s ``max_sleep`` twice, with the trainer on a core all along.  The
    app (and Pilot) run in this thread; what the worker does reaches it only as
    messages, which the screen processes before it counts as idle.  Measured: the storm
    of control keys, resizing during a run and tests/ui/test_ui_run.py, 2 × 2 runs
    interleaved at load ~2: 57-59 s wall, 42-44 CPU-s -> 33 s, 29.6 CPU-s."""
    import time

    import textual._wait as wait

    monkeypatch.setattr(wait, "SLEEP_GRANULARITY", PILOT_IDLE_WINDOW)
    monkeypatch.setattr(wait, "SLEEP_IDLE", PILOT_IDLE_WINDOW / 20)
    monkeypatch.setattr(wait, "process_time", time.thread_time)


STEP_NOTES = {
    "start": "CUDA graph off: torch 0.0 has no CUDA graphs; every step runs eagerly",
    "epoch 1": ("CUDA graph off: the step could not be captured (RuntimeError: operation not permitted when "
                "stream is capturing); every step runs eagerly"),
}
"""What ``step_graph_refused(when)`` makes a run say, by ``when``."""


@pytest.fixture
def step_graph_refused(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """``note = step_graph_refused(when)``: every ``Training`` made from then on says why its
    step is not a CUDA graph — ``"start"``: when it is made (as on a torch without CUDA
    graphs); ``"epoch 1"``: its capture fails at the first full batch after one warm-up
    step (a stand-in backend that refuses to capture).  Returns the note it will say."""
    from regtui.core import training
    from regtui.core.cuda_graph import StepGraph

    class RefusingGraphs:
        def warm_up(self, step: Callable[[], None]) -> None:
            step()

        def capture_and_run(self, step: Callable[[], None], generators: Any) -> Any:
            raise RuntimeError("operation not permitted when stream is capturing")

    def refuse(when: str) -> str:
        original = training.Training.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if when == "start":
                self._fall_back("torch 0.0 has no CUDA graphs")
            else:
                self.use_step_graph(StepGraph(self.model.generators, RefusingGraphs(), 1))

        monkeypatch.setattr(training.Training, "__init__", init)
        return STEP_NOTES[when]

    return refuse
