"""Issue 15, item 8: every chart catches up within about half a second of the table.

The charts' scheduler (``ChartsPane.redraw_next``: one chart per tick, each at most
every ``MIN_REDRAW_INTERVAL``) is driven here by an injected clock, while epochs
arrive faster than it draws, as in a live run; no wall time is measured.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from regtui.core.config import VariantConfig
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus
from regtui.ui.app import create_app
from regtui.ui.widgets import loss_charts

SIZE = (80, 24)
CATCH_UP_S = 0.6
"""The longest a visible chart may show older data than the table: half a second
(``MIN_REDRAW_INTERVAL``) and one tick."""


def epoch(e: int, n: int) -> EpochEnd:
    loss = 0.7 / (1 + e)
    metrics = tuple(EpochMetrics(e, loss, loss * 2, None, None, loss, 0.0, 1.0, loss, 0.0) for _ in range(n))
    return EpochEnd(e, metrics, (RunStatus.RUNNING,) * n, 0.01 * e)


@pytest.mark.parametrize("variants", [3, 4])
async def test_every_chart_shows_new_epochs_within_about_half_a_second(tiny: Any, monkeypatch: Any,
                                                                       variants: int) -> None:
    if variants > len(tiny.variants):
        tiny = replace(tiny, variants=tiny.variants + (VariantConfig("L2+Dropout", l2=0.01, dropout=0.5),))
    now = [1000.0]
    monkeypatch.setattr(loss_charts, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(loss_charts, "REDRAW_TICK", 3600.0)  # the pane's own timer stays out: the test ticks
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        charts = app.lab.charts
        await pilot.pause()
        visible = charts.visible_charts()
        assert len(visible) == len(tiny.variants) and all(c.size.area > 0 for c in visible)
        history = RunHistory(tiny)
        waiting_since: dict[int, float] = {}
        worst = 0.0
        for step in range(120):  # 6 s: an epoch every 0.05 s, a scheduler tick every 0.1 s
            now[0] += 0.05
            history.add(epoch(step, len(tiny.variants)))
            charts.show(history)
            for chart in visible:
                if chart.dirty:
                    waiting_since.setdefault(id(chart), now[0])
            if step % 2:
                drawn = charts.redraw_next()
                if drawn is not None:
                    worst = max(worst, now[0] - waiting_since.pop(id(drawn)))
        assert worst <= CATCH_UP_S, f"a chart waited {worst:.2f} s for new epochs"
        assert all(c.draw_count >= 6 for c in visible), "each chart drew as the run went on"
        # an idle run: the charts drawn once more, then nothing to do
        for _ in range(10):
            now[0] += 0.1
            charts.redraw_next()
        assert not charts.pending and charts.redraw_next() is None
