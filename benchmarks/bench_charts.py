"""Benchmark 4: chart frame cost vs series length (100 … 100,000 epochs).

Four of the lab's ``LossChart`` widgets, each 120×30, are mounted in a
headless app; each gets a per-variant pair of synthetic series (train loss
and validation loss, ``n`` epochs each).  A frame = ``replot()`` (NaN
cleaning, min/max downsampling to the width, the plotext calls) + ``render()``
(plotext ``build()`` and ANSI → Rich text) of all four charts.  Target: flat
in ``n`` once the series is longer than the chart is wide: the frame at
100,000 epochs ≤ 1.5× the frame at 1,000 (both already downsampled to about
two points per braille column; below that, fewer points are drawn and the
frame is cheaper).  For contrast, plain textual-plotext ``PlotextPlot`` charts
are given the raw series (no downsampling).

    python benchmarks/bench_charts.py [--quick] [--json out.json]
"""

from __future__ import annotations

import asyncio
import sys
import time

import _app as A
import _common as C

LENGTHS = (100, 1_000, 10_000, 100_000)
RAW_LENGTHS = (100, 1_000, 10_000)
CHART = (120, 30)
N_CHARTS = 4


def synthetic(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float64)
    train = 2.3 * np.exp(-x / max(1, n / 8)) + 0.01 + rng.normal(0, 0.01, n).cumsum() * 0.001
    val = train + 0.4 * (1 - np.exp(-x / max(1, n / 3))) + rng.normal(0, 0.02, n)
    val[n // 2] = np.nan  # a gap, as after a diverged epoch
    return x, np.abs(train), np.abs(val)


async def _measure(quick: bool) -> tuple[dict[int, list[float]], dict[int, list[float]], dict[int, int]]:
    from textual.app import App
    from textual.containers import Vertical
    from textual_plotext import PlotextPlot

    from regtui.ui.widgets.loss_charts import LossChart, Series
    from regtui.ui.plotting.colors import TRAIN_GREY, color_rgb, hex_to_rgb

    class RawChart(PlotextPlot):
        """textual-plotext without downsampling: every point handed to plotext."""

        def draw(self, series) -> None:
            plt = self.plt
            plt.clear_figure()
            plt.title("raw")
            for x, y, color in series:
                keep = ~(y != y)
                plt.plot(x[keep].tolist(), y[keep].tolist(), color=color, marker="braille")
            self.refresh()

    class Bench(App[None]):
        CSS = f"LossChart, RawChart {{ width: {CHART[0]}; height: {CHART[1]}; }}"

        def compose(self):
            with Vertical():
                for i in range(N_CHARTS):
                    yield LossChart(f"variant {i}")
                for i in range(N_CHARTS):
                    yield RawChart()

    reps = 2 if quick else 5
    lengths = LENGTHS[:3] if quick else LENGTHS
    raw_lengths = RAW_LENGTHS[:2] if quick else RAW_LENGTHS
    grey = hex_to_rgb(TRAIN_GREY)
    app = Bench()
    ours: dict[int, list[float]] = {}
    raw: dict[int, list[float]] = {}
    points: dict[int, int] = {}
    async with app.run_test(size=(CHART[0], CHART[1] * 2 * N_CHARTS)) as pilot:
        await pilot.pause(0.2)
        charts = list(app.query(LossChart).results(LossChart))
        raws = list(app.query(RawChart).results(RawChart))
        assert charts[0].size.width == CHART[0] and charts[0].size.height == CHART[1], charts[0].size
        data = {n: [synthetic(n, i) for i in range(N_CHARTS)] for n in set(lengths) | set(raw_lengths)}
        for rep in range(reps + 1):  # round 0 warms up
            for n in lengths:
                for i, chart in enumerate(charts):  # new data each frame, as in a run
                    x, tr, va = data[n][i]
                    chart._signature = None
                    chart.set_series((Series(x, tr, grey), Series(x, va, color_rgb(i))))
                t0 = time.perf_counter()
                for chart in charts:
                    chart.replot()
                    chart.render()
                if rep:
                    ours.setdefault(n, []).append(1000 * (time.perf_counter() - t0))
                points[n] = sum(p[0].size for p in charts[0].points())
            if rep > (0 if quick else 1):
                continue  # raw plotext is slow: fewer rounds
            for n in raw_lengths:
                if n >= 10_000 and rep == 0:
                    continue  # no warm-up round for the slowest
                t0 = time.perf_counter()
                for i, chart in enumerate(raws):
                    x, tr, va = data[n][i]
                    chart.draw(((x, tr, grey), (x, va, color_rgb(i))))
                    chart.render()
                raw.setdefault(n, []).append(1000 * (time.perf_counter() - t0))
    return ours, raw, points


def run(quick: bool) -> list[C.Result]:
    A.require_ui("LossChart", "Series", app=False)
    ours, raw, points = asyncio.run(_measure(quick))
    results = []
    b = f"charts/{N_CHARTS}×{CHART[0]}x{CHART[1]}"
    base = C.median(ours[min(ours)])
    for n, values in sorted(ours.items()):
        results.append(C.Result(b, f"frame, downsampled, {n:,} epochs", C.median(values), "ms",
                                note=f"{points[n]} points per chart (2 series) reach plotext; one chart ≈ {C.median(values) / N_CHARTS:.1f} ms"))
    top = max(ours)
    ref = 1_000 if 1_000 in ours else min(ours)
    ratio = max(C.median(v) for n, v in ours.items() if n >= ref) / C.median(ours[ref])
    target, ok = C.check(ratio, "<=", 1.5)
    results.append(C.Result(b, f"worst frame ≥ {ref:,} / frame {ref:,} epochs (flatness)", ratio, target=target, met=ok,
                            note=f"frame {top:,} / frame {min(ours):,} epochs = {C.median(ours[top]) / base:.2f}×"))
    for n, values in sorted(raw.items()):
        results.append(C.Result(b, f"frame, raw plotext, {n:,} epochs", C.median(values), "ms"))
    if len(raw) >= 2:
        lo, hi = min(raw), max(raw)
        per_point = (C.median(raw[hi]) - C.median(raw[lo])) / (hi - lo) / (2 * N_CHARTS) * 1000
        results.append(C.Result(b, "raw plotext cost per point", per_point, "µs",
                                note=f"raw at 100,000 epochs ≈ {C.median(raw[hi]) * 100_000 / hi / 1000:.0f} s per frame (extrapolated)"))
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("charts", __doc__.splitlines()[0], run))
