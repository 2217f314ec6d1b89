"""Helpers of the UI benchmarks: time ``Training.events()`` wherever it runs,
and drive the real lab (``create_app``) headless under ``App.run_test()``.

``TrainingProbe`` wraps ``Training.events`` (the class attribute, so the lab's
worker picks it up too) and records, for the run it sees: the wall time of
epochs 1..E as the consumer experiences it (this includes the consumer's own
work between events: posting messages, GIL waits), the time spent inside the
generator before each ``BatchEnd`` (the steps), the CPU time of the training
thread and of the whole process over the same epochs, and when it started/ended.
``require_ui()`` raises ``Skipped`` when the lab is not importable.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import Skipped, scratch_home


def require_ui(*names: str, app: bool = True) -> None:
    """Raise ``Skipped`` unless ``regtui.ui.app.create_app`` (when ``app``) and
    ``names`` of ``regtui.ui.widgets.loss_charts`` import."""
    if app:
        try:
            from regtui.ui.app import create_app  # noqa: F401
        except Exception as exc:  # ImportError, or a half-written module
            raise Skipped(f"regtui.ui.app.create_app is not importable ({type(exc).__name__}: {exc})") from None
    if names:
        try:
            import regtui.ui.widgets.loss_charts as charts
        except Exception as exc:
            raise Skipped(f"regtui.ui.widgets.loss_charts is not importable ({type(exc).__name__}: {exc})") from None
        missing = [n for n in names if not hasattr(charts, n)]
        if missing:
            raise Skipped(f"regtui.ui.widgets.loss_charts lacks {', '.join(missing)}")


@dataclass
class Record:
    epochs: int = 0
    batches: int = 0
    steps_s: float = 0.0
    wall_s: float = 0.0
    thread_cpu_s: float = 0.0
    """CPU time of the training thread over epochs 1..E (``time.thread_time``)."""
    process_cpu_s: float = 0.0
    """CPU time of the whole process (every thread: the UI's too) over epochs 1..E."""
    lab_cpu_s: float = 0.0
    """CPU time of the lab's process over the same epochs, less the training thread's: what
    the UI (and the worker thread that relays a child's messages) costs."""
    child: bool = False
    """Whether it trained in a child process of the lab (``regtui.ui.worker.process``)."""
    started: float | None = None
    """perf_counter when epoch 0 was handed over (training proper starts)."""
    ended: float | None = None
    thread: str = ""
    done: threading.Event = field(default_factory=threading.Event)


class TrainingProbe:
    """Context manager: while active, every ``Training.events()`` is timed (``on_done``
    is called with each record when its ``events()`` ends)."""

    def __init__(self, on_done: Any = None) -> None:
        self.records: list[Record] = []
        self.on_done = on_done

    def __enter__(self) -> "TrainingProbe":
        from regtui.core import training

        self._cls = training.Training
        self._orig = orig = training.Training.events
        probe = self

        def events(self_: Any):
            from regtui.core.run_types import BatchEnd

            rec = Record(thread=threading.current_thread().name)
            probe.records.append(rec)
            gen = orig(self_)
            try:
                first = next(gen)
                rec.started = time.perf_counter()
                yield first
                t_start = time.perf_counter()
                cpu_start, process_start = time.thread_time(), time.process_time()
                while True:
                    t0 = time.perf_counter()
                    try:
                        ev = next(gen)
                    except StopIteration:
                        break
                    t1 = time.perf_counter()
                    if isinstance(ev, BatchEnd):
                        rec.steps_s += t1 - t0
                        rec.batches += 1
                    else:
                        rec.epochs += 1
                        rec.wall_s = t1 - t_start
                        rec.thread_cpu_s = time.thread_time() - cpu_start
                        rec.process_cpu_s = time.process_time() - process_start
                        rec.ended = t1
                    yield ev
            finally:
                gen.close()
                rec.done.set()
                if probe.on_done is not None:
                    probe.on_done(rec)

        training.Training.events = events
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cls.events = self._orig

    @property
    def last(self) -> Record:
        return self.records[-1]


def headless_run(experiment, dataset=None) -> Record:
    """The same training as the lab's worker does, in a plain loop, timed."""
    from regtui.core.training import Training

    with TrainingProbe() as probe:
        for _ in Training(experiment, dataset=dataset).events():
            pass
    return probe.last


@dataclass
class AppRun:
    record: Record
    ticks: list[float]
    """perf_counter of every timer callback while the app ran."""
    chart_draws: int = 0
    costs: dict[str, list[float]] = field(default_factory=dict)
    """ms per call of the timed UI methods (see ``TIMED``), while the app ran."""
    pressed: float = 0.0
    """perf_counter when ``r`` was pressed (the app had been idle ``idle`` s)."""


TIMED = {
    # what: (module, class, method); private Textual names are wrapped only if present
    "frame (compositor refresh)": ("textual.screen", "Screen", "_compositor_refresh"),
    "layout reflow": ("textual._compositor", "Compositor", "reflow"),
    "chart replot": ("regtui.ui.widgets.loss_charts", "LossChart", "replot"),
    "chart render (plotext build)": ("textual_plotext", "PlotextPlot", "render"),
    "results table render": ("textual.widgets", "DataTable", "render_lines"),
}
_COSTS: dict[str, list[float]] = {}


def _time_methods() -> dict[str, list[float]]:
    """Wrap the ``TIMED`` methods (once per process); return fresh lists to fill."""
    import importlib

    for what, (module, cls_name, method) in TIMED.items():
        _COSTS[what] = []
        try:
            cls = getattr(importlib.import_module(module), cls_name)
        except Exception:
            continue
        orig = cls.__dict__.get(method)
        if orig is None or getattr(orig, "_bench_wrapped", False):
            continue

        def make(orig=orig, what=what):
            def timed(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return orig(*args, **kwargs)
                finally:
                    _COSTS[what].append(1000 * (time.perf_counter() - t))
            timed._bench_wrapped = True
            return timed

        setattr(cls, method, make())
    return _COSTS


PROBE_DIR_ENV = "BENCH_PROBE_DIR"
"""Where the training processes' probes write their records (``_child_probe``)."""
_FIELDS = ("epochs", "batches", "steps_s", "wall_s", "thread_cpu_s", "process_cpu_s", "started", "ended", "thread")


def probe_children() -> Path:
    """Time the trainings in the lab's child processes too: the fork server imports
    ``_child_probe`` (added to ``regtui.ui.worker.process.PRELOAD``), which wraps
    ``Training.events`` there with a ``TrainingProbe`` that writes each record to
    ``$BENCH_PROBE_DIR``.  Once per process, before the first lab opens (its server
    starts then and keeps its imports)."""
    import os
    import tempfile

    folder = os.environ.get(PROBE_DIR_ENV)
    if folder is None:
        folder = os.environ[PROBE_DIR_ENV] = tempfile.mkdtemp(prefix="bench-probe-")
        # The server is ``python -c``: on Python 3.11 it does not take this process's
        # sys.path, only $PYTHONPATH, and a preload that fails to import is skipped silently.
        here = str(Path(__file__).resolve().parent)
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
        from regtui.ui.worker import process

        process.PRELOAD.append("_child_probe")
    return Path(folder)


def write_record(rec: Record) -> None:
    """``_child_probe``'s ``on_done``: the record as JSON in ``$BENCH_PROBE_DIR``."""
    import json
    import os

    folder = Path(os.environ[PROBE_DIR_ENV])
    path = folder / f"{os.getpid()}-{time.perf_counter_ns()}.json"
    path.with_suffix(".tmp").write_text(json.dumps({f: getattr(rec, f) for f in _FIELDS}))
    path.with_suffix(".tmp").rename(path)


def _read_record(path: Path) -> Record:
    import json

    return Record(**json.loads(path.read_text()), child=True)


async def _app_run(experiment, size: tuple[int, int], tick: float, timeout: float, idle: float) -> AppRun:
    from regtui.ui.app import create_app

    ticks: list[float] = []
    costs = _time_methods()
    folder = probe_children()
    seen = set(folder.iterdir())
    cpu: list[tuple[float, float]] = []  # (perf_counter, the lab process's CPU time)
    app = create_app(experiment)
    with TrainingProbe() as probe:

        def trained() -> Record | None:
            if probe.records:  # trained in the lab's own process (REGTUI_WORKER=thread)
                return probe.last if probe.last.done.is_set() else None
            new = sorted(p for p in folder.glob("*.json") if p not in seen)
            return _read_record(new[-1]) if new else None

        async with app.run_test(size=size) as pilot:
            app.set_interval(tick, lambda: ticks.append(time.perf_counter()), name="bench lateness probe")
            app.set_interval(0.05, lambda: cpu.append((time.perf_counter(), time.process_time())), name="bench cpu")
            await pilot.pause(idle)
            for values in costs.values():
                values.clear()  # start-up frames are not what we measure
            pressed = time.perf_counter()
            await pilot.press("r")
            deadline = time.perf_counter() + 5
            while app.lab.run_state == "idle" and time.perf_counter() < deadline:
                await pilot.pause(0.05)
            if app.lab.run_state == "idle" and hasattr(app, "lab"):
                app.lab.action_run()  # the key did not reach the app's binding
                deadline = time.perf_counter() + 10
                while app.lab.run_state == "idle" and time.perf_counter() < deadline:
                    await pilot.pause(0.05)
            if app.lab.run_state == "idle":
                raise RuntimeError("the lab did not start training after r (nor after action_run)")
            deadline = time.perf_counter() + timeout
            while trained() is None and time.perf_counter() < deadline and app.lab.run_state != "failed":
                await pilot.pause(0.05)
            record = trained()
            if record is None or record.epochs < experiment.train.epochs:
                await pilot.pause(0.2)
                why = getattr(app, "failure", "") or getattr(app.lab, "failure", "") or app.lab.run_state
                got = "no record" if record is None else f"{record.epochs} of {experiment.train.epochs} epochs"
                raise RuntimeError(f"the lab's run ended with {got} within {timeout:.0f} s: {why}")
            await pilot.pause(0.3)  # let the last frames draw
            draws = sum(getattr(c, "draw_count", 0) for c in _charts(app))
            snapshot = {k: list(v) for k, v in costs.items()}
        # leaving run_test closes the app
    if record.child:
        record.lab_cpu_s = _cpu_at(cpu, record.ended) - _cpu_at(cpu, record.ended - record.wall_s)
    else:
        record.lab_cpu_s = record.process_cpu_s - record.thread_cpu_s
    return AppRun(record, ticks, draws, snapshot, pressed)


def _cpu_at(samples: list[tuple[float, float]], when: float | None) -> float:
    """The lab's CPU time at ``when`` (perf_counter), interpolated between two samples."""
    import numpy as np

    t, c = zip(*samples)
    return float(np.interp(when, t, c))


def _charts(app) -> list:
    try:
        from regtui.ui.widgets.loss_charts import LossChart
    except Exception:
        return []
    return list(app.query(LossChart).results(LossChart))


def app_run(experiment, size: tuple[int, int] = (120, 40), tick: float = 0.01,
            timeout: float = 120.0, idle: float = 1.0) -> AppRun:
    """Open the lab headless at ``size``, press r, wait for the run to end."""
    scratch_home()
    return asyncio.run(_app_run(experiment, size, tick, timeout, idle))


def lateness_ms(ticks: list[float], period: float, start: float | None = None, end: float | None = None) -> list[float]:
    """How late each timer tick came: gap to the previous tick minus the period."""
    out = []
    for a, b in zip(ticks, ticks[1:]):
        if start is not None and b < start:
            continue
        if end is not None and b > end:
            break
        out.append(max(0.0, 1000 * (b - a - period)))
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i]
