"""Benchmark 6: a 20,000-epoch run in the lab — memory stays bounded, frames stay flat.

The real lab (``create_app``) runs headless under ``App.run_test`` at 120×40 and
trains a tiny experiment (moons, 30 train / 50 val samples, one hidden layer
of 16, full batch, the four variants of the UI tests) for 20,000 epochs
(``--quick``: 5,000).  While it runs, a timer samples the process's resident
memory (``/proc/self/statm``) with the epoch on screen, and every chart draw
(``LossChart.replot`` + the plotext ``render``) and every screen frame
(``Screen._compositor_refresh``) is timed with the epoch it drew.

Results: RSS at epoch ~1,000 and at the end, the growth between them, the
part of it that is not the history's own arrays (float64 rows, 10 metrics ×
4 variants, capacity doubling: 10.5 MB at 20,000 epochs; target ≤ 24 MB: the
rest must not grow with the run), and the RSS slope over the second half; the
median chart draw (``replot`` + ``render``) late in the run (the last 2,000
epochs) against early (epochs 500–2,500) in the UI thread's CPU time, target
≤ 1.5× (the charts downsample to their width, so a longer history must not
cost more per draw), with the wall-time draw and screen frame as information
(they include waits for the training thread's GIL); and the lab's throughput
in epochs per second (information).

    python benchmarks/bench_long_run.py [--quick] [--json out.json]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field

import _app as A
import _common as C

EPOCHS, QUICK_EPOCHS = 20_000, 5_000
SIZE = (120, 40)
EARLY = (500, 2_500)
"""Epochs whose draws are the "early" sample (after start-up, before the history is long)."""
LATE = 2_000
"""The last this many epochs are the "late" sample."""
RSS_AT = 1_000
SAMPLE_S = 0.25


@dataclass
class LongRun:
    epochs: int
    seconds: float = 0.0
    rss: list[tuple[int, float]] = field(default_factory=list)
    """(epoch on screen, MB)."""
    draws: list[tuple[int, float]] = field(default_factory=list)
    """(epoch, ms) of every chart draw: replot + render, wall time."""
    draws_cpu: list[tuple[int, float]] = field(default_factory=list)
    """The same draws in the UI thread's CPU time (without waits for the training thread's GIL)."""
    history_mb: float = 0.0
    """The history's own arrays at the end (float64 rows, capacity doubling)."""
    frames: list[tuple[int, float]] = field(default_factory=list)
    """(epoch, ms) of every screen frame."""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def experiment(epochs: int):
    from regtui.core.config import DataConfig, Experiment, ModelConfig, TrainConfig, VariantConfig

    return Experiment(
        name="long-run", description="benchmark: a tiny net for many epochs",
        data=DataConfig(dataset="moons", n_train=30, n_val=50, noise=0.2, seed=1),
        model=ModelConfig(hidden=(16,), activation="relu"),
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=30, epochs=epochs, seed=0, device="cpu"),
        variants=(VariantConfig("baseline"), VariantConfig("L2", l2=1e-3), VariantConfig("Dropout", dropout=0.5),
                  VariantConfig("L2+Dropout", l2=1e-3, dropout=0.5)),
    )


async def _run(epochs: int, timeout: float) -> LongRun:
    from textual.screen import Screen
    from textual_plotext import PlotextPlot

    from regtui.ui.app import create_app
    from regtui.ui.widgets.loss_charts import LossChart

    out = LongRun(epochs)
    app = create_app(experiment(epochs))
    epoch = lambda: max(0, app.lab.session.history.epoch) if app.lab.session.history is not None else 0  # noqa: E731
    originals = {(LossChart, "replot"): LossChart.replot, (PlotextPlot, "render"): PlotextPlot.render,
                 (Screen, "_compositor_refresh"): Screen._compositor_refresh}
    pending: dict[int, tuple[float, float]] = {}

    def replot(chart, *args, **kwargs):
        t, c = time.perf_counter(), time.thread_time()
        try:
            return originals[(LossChart, "replot")](chart, *args, **kwargs)
        finally:
            pending[id(chart)] = (time.perf_counter() - t, time.thread_time() - c)

    def render(chart, *args, **kwargs):
        t, c = time.perf_counter(), time.thread_time()
        try:
            return originals[(PlotextPlot, "render")](chart, *args, **kwargs)
        finally:
            if id(chart) in pending:  # a draw = its replot + the render that follows
                wall, cpu = pending.pop(id(chart))
                out.draws.append((epoch(), 1000 * (wall + time.perf_counter() - t)))
                out.draws_cpu.append((epoch(), 1000 * (cpu + time.thread_time() - c)))

    def frame(screen, *args, **kwargs):
        t = time.perf_counter()
        try:
            return originals[(Screen, "_compositor_refresh")](screen, *args, **kwargs)
        finally:
            out.frames.append((epoch(), 1000 * (time.perf_counter() - t)))

    LossChart.replot, PlotextPlot.render, Screen._compositor_refresh = replot, render, frame
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.set_interval(SAMPLE_S, lambda: out.rss.append((epoch(), rss_mb())), name="bench rss")
            await pilot.pause(0.5)
            start = time.perf_counter()
            await pilot.press("r")
            deadline = start + timeout
            while app.lab.run_state != "finished" and time.perf_counter() < deadline:
                if app.lab.run_state in ("failed", "stopped"):
                    raise RuntimeError(f"the lab's run ended early: {app.lab.failure or app.lab.run_state}")
                await pilot.pause(0.2)
            if app.lab.run_state != "finished":
                raise RuntimeError(f"the lab's run did not finish within {timeout:.0f} s (epoch {epoch()})")
            out.seconds = time.perf_counter() - start
            await pilot.pause(0.5)
            out.rss.append((epoch(), rss_mb()))
            out.history_mb = sum(m._rows.nbytes for m in app.lab.session.history.members) / 2**20
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)
    return out


def _median_in(samples: list[tuple[int, float]], lo: int, hi: int) -> tuple[float, int]:
    values = [ms for e, ms in samples if lo <= e <= hi]
    return (C.median(values), len(values)) if values else (float("nan"), 0)


def run(quick: bool) -> list[C.Result]:
    A.require_ui("LossChart")
    if not os.path.exists("/proc/self/statm"):
        raise C.Skipped("needs /proc/self/statm (Linux) for the resident memory")
    C.scratch_home()
    epochs = QUICK_EPOCHS if quick else EPOCHS
    out = asyncio.run(_run(epochs, timeout=300 if quick else 900))
    b = f"long-run/{epochs:,} epochs"
    results = [C.Result(b, "lab throughput", epochs / out.seconds, "epochs/s",
                        note=f"{out.seconds:.0f} s for {epochs:,} epochs, 4 variants, {SIZE[0]}x{SIZE[1]}")]
    early_rss = next((mb for e, mb in out.rss if e >= RSS_AT), out.rss[0][1])
    end_rss = out.rss[-1][1]
    peak = max(mb for _, mb in out.rss)
    growth = end_rss - early_rss
    trajectory = [(e, round(mb, 1)) for i, (e, mb) in enumerate(out.rss) if i % max(1, len(out.rss) // 40) == 0]
    results.append(C.Result(b, f"RSS growth, epoch {RSS_AT:,} → {epochs:,}", growth, "MB",
                            note=f"RSS {early_rss:.0f} MB at epoch {RSS_AT:,}, {end_rss:.0f} MB at the end, peak {peak:.0f} MB; "
                                 f"the history's own arrays {out.history_mb:.1f} MB",
                            extra={"rss (epoch, MB)": trajectory}))
    beyond = growth - out.history_mb
    target, ok = C.check(beyond, "<=", 24)
    results.append(C.Result(b, "RSS growth beyond the history's arrays", beyond, "MB", target=target, met=ok))
    half = [(e, mb) for e, mb in out.rss if e >= epochs // 2]
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        slope = (half[-1][1] - half[0][1]) / (half[-1][0] - half[0][0]) * 1000
        results.append(C.Result(b, "RSS slope over the second half", slope, "MB/1k epochs",
                                note=f"the history adds {4 * 10 * 8 * 1000 / 2**20:.2f} MB per 1,000 epochs (×2 while its capacity doubles)"))
    late = (epochs - LATE, epochs)
    for what, samples in (("chart draw CPU (replot + render)", out.draws_cpu), ("chart draw wall", out.draws),
                          ("screen frame wall", out.frames)):
        early_ms, n_early = _median_in(samples, *EARLY)
        late_ms, n_late = _median_in(samples, *late)
        ratio = late_ms / early_ms if n_early and n_late else float("nan")
        target, ok = C.check(ratio, "<=", 1.5) if "CPU" in what else ("", None)  # wall: with GIL waits, information
        results.append(C.Result(b, f"{what}: last {LATE:,} epochs / epochs {EARLY[0]:,}–{EARLY[1]:,}", ratio,
                                target=target, met=ok if n_early and n_late and target else None,
                                note=f"median {early_ms:.1f} ms early ({n_early} samples), "
                                     f"{late_ms:.1f} ms late ({n_late} samples)"))
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("long-run", __doc__.splitlines()[0], run))
