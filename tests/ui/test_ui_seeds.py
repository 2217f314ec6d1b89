"""Pilot tests of seeds in the lab: the seeds field, a run over 2 seeds with mean
curves and min–max bands in the charts, and mean ± std of the best val loss in
the table."""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.widgets import Static

from regtui.core.results import SeedGroup
from regtui.ui.app import create_app
from regtui.ui.widgets.config.fields import ConfigInput
from regtui.ui.widgets.loss_charts import LossChart

SIZE = (80, 24)


async def test_seeds_field_is_validated_at_the_field(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#f-train-seeds", ConfigInput)
        assert field.value == "1"
        for text, problem in (("0", "must be in [1, 64]"), ("65", "must be in [1, 64]"), ("two", "must be an integer")):
            field.value = text
            await pilot.pause()
            assert field.has_class("-invalid") and app.lab.panel.experiment is None
            assert problem in str(app.lab.panel.error_labels["train.seeds"].render())
        field.value = "3"
        await pilot.pause()
        assert not field.has_class("-invalid")
        assert app.lab.panel.experiment is not None and app.lab.panel.experiment.train.seeds == 3


async def test_two_seeds_give_mean_curves_with_bands_and_mean_std(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#f-train-seeds", ConfigInput).value = "2"
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await wait_for(pilot, lambda: not app.lab.charts.pending)
        history = app.lab.session.history
        assert history is not None and history.seeds == [0, 1]
        assert all(isinstance(v, SeedGroup) for v in history.variants)
        # member-level EpochEnd: 4 variants × 2 seeds, each with epoch 0..20
        assert len(history.members) == 8 and all(len(m) == 21 for m in history.members)

        table = app.lab.table
        assert str(table.columns["best"].label) == "best±std"  # type: ignore[index]
        for row, hist in enumerate(history.variants):
            bests = hist.best_values()
            mean, std = float(np.mean(bests)), float(np.std(bests, ddof=1))
            text = str(table.get_cell(str(row), "best"))
            assert "±" in text, text
            shown_mean, shown_std = text.split("±")
            assert abs(float(shown_mean) - mean) < 6e-4
            assert abs(float("0" + shown_std) - std) < 6e-4

        charts = list(app.query("#per-variant LossChart").results(LossChart))
        for chart, hist in zip(charts, history.variants):
            lo, hi = (s.y for s in chart.series[:2])  # the band comes first, under the curves
            val = chart.series[-1].y
            assert len(chart.series) == 4  # band low, band high, train (mean), val (mean)
            assert np.allclose(val, hist.series("val_loss"))
            assert np.all(lo <= val + 1e-12) and np.all(val <= hi + 1e-12)
            assert np.any(hi - lo > 0), "two seeds differ somewhere"
            assert chart.draw_count >= 1
        legend = str(app.query_one("#chart-legend", Static).render())
        assert "mean, band = min–max over 2 seeds" in legend

        await pilot.press("v")  # the overlay: every variant's band under the mean curves
        overlay = app.query_one("#overlay-val", LossChart)
        assert len(overlay.series) == 3 * len(history.variants)


async def test_one_seed_has_no_band_and_best_at_epoch(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        assert str(app.lab.table.columns["best"].label) == "best@ep"  # type: ignore[index]
        assert "@" in str(app.lab.table.get_cell("0", "best"))
        chart = app.query("#per-variant LossChart").results(LossChart).__next__()
        assert len(chart.series) == 2
        assert "band" not in str(app.query_one("#chart-legend", Static).render())
