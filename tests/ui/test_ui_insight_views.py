"""Pilot tests of the *why* views: decision maps (b), weights (w), the chart
metric (m), smoothing (s), the seconds x-axis (t) and the verdict panel; and
the worker's throttled ``InsightReady`` messages."""

from __future__ import annotations

from typing import Any

import numpy as np

from regtui.core.config import DataConfig, VariantConfig
from regtui.core.run import InsightRequest
from regtui.core.verdict import verdict
from regtui.ui.app import create_app
from regtui.ui.plotting.smoothing import ema
from regtui.ui.widgets.loss_charts import LossChart
from regtui.ui.worker import runner
from regtui.ui.worker.messages import InsightReady

SIZE = (80, 24)
TWO = (VariantConfig("baseline"), VariantConfig("L2", l2=0.03))


def legend(app: Any) -> str:
    return str(app.query_one("#chart-legend").render())


async def finished(app: Any, pilot: Any, wait_for: Any) -> None:
    await pilot.press("r")
    await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)


async def test_b_draws_one_map_per_variant_and_l2_differs(ui_experiment: Any, wait_for: Any) -> None:
    app = create_app(ui_experiment(epochs=150, variants=TWO))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert app.lab.boundary.display and not app.query_one("#main").display
        maps = app.lab.boundary.maps()
        assert len(maps) == 2 and all(m.size.area > 0 for m in maps)
        drawn = (max(m.size.width for m in maps), 2 * max(m.size.height for m in maps))
        assert app.lab.session.insight.boundary == drawn, "the worker is asked for one value per pixel"
        await finished(app, pilot, wait_for)
        assert app.lab.session.control.insight is app.lab.session.insight.request, "the run holds the views' latest request"
        assert app.lab.session.control.insight.boundary is not None and app.lab.session.control.insight.by_variant
        await wait_for(pilot, lambda: app.lab.boundary.epoch == 150)
        base, l2 = (m.cells() for m in maps)
        assert len(base) == maps[0].size.height and len(base[0]) == maps[0].size.width
        glyphs = {g for row in base for g, _, _ in row}
        assert "▀" in glyphs and "●" in glyphs, "half-block pixels with training points on top"
        differ = sum(a[1:] != b[1:] for ra, rb in zip(base, l2) for a, b in zip(ra, rb) if a[0] == b[0] == "▀")
        assert differ > 0.2 * maps[0].size.area, "L2's map must differ from the baseline's"
        assert maps[0].map[0].shape[1] == drawn[0], "computed at the drawn width (rows follow the verdict's height)"
        assert "✕0" in str(app.lab.boundary.query(".map-title").first().render()), "the baseline memorizes"
        asked = app.lab.session.control.insight
        await pilot.press("b")
        assert not app.lab.boundary.display and app.query_one("#main").display
        assert app.lab.session.insight.boundary is None and app.lab.session.control.insight.boundary is None
        assert asked.boundary is not None, "a request is replaced, never changed"


async def test_b_explains_why_there_is_no_map(ui_experiment: Any, wait_for: Any) -> None:
    from dataclasses import replace

    exp = ui_experiment(epochs=3)
    exp = replace(exp, data=DataConfig(dataset="regression", n_train=30, n_val=30, n_features=5, seed=1))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await finished(app, pilot, wait_for)
        await wait_for(pilot, lambda: bool(app.lab.boundary.no_plane))
        note = str(app.query_one("#boundary-note").render())
        assert "No decision map" in note and "5 features" in note and "2-D" in note
        assert not app.query_one("#boundary-grid").display


async def test_w_asks_for_as_many_bins_as_its_bars_are_wide_after_a_resize(ui_experiment: Any, wait_for: Any) -> None:
    """A resize tells the worker the new width at once, also after the run ended (no
    histogram arrives then to carry it)."""
    app = create_app(ui_experiment(epochs=5, variants=TWO))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await finished(app, pilot, wait_for)
        await wait_for(pilot, lambda: app.lab.weights.epoch == 5)
        before = app.lab.session.insight.bins
        await pilot.resize_terminal(SIZE[0] + 40, SIZE[1])
        await wait_for(pilot, lambda: app.lab.session.insight.bins != before, 5)
        assert app.lab.session.insight.bins == max(9, min(b.size.width for b in app.lab.weights.bars()))


async def test_w_histograms_share_bins_and_l2_shrinks(ui_experiment: Any, wait_for: Any) -> None:
    app = create_app(ui_experiment(epochs=150, variants=TWO))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await pilot.pause()
        assert app.lab.weights.display and app.lab.session.insight.bins is not None
        await finished(app, pilot, wait_for)
        await wait_for(pilot, lambda: app.lab.weights.epoch == 150)
        bars = app.lab.weights.bars()
        assert len(bars) == 2
        edges = app.lab.weights.edges
        assert all(b.counts.shape == (len(edges) - 1,) for b in bars), "same bins for every variant"
        assert bars[0].peak == bars[1].peak and bars[0].bound == bars[1].bound == edges[-1]
        centres = (edges[1:] + edges[:-1]) / 2
        spread = [np.sqrt((b.counts * centres ** 2).sum() / b.counts.sum()) for b in bars]
        assert spread[1] < 0.8 * spread[0], "L2 pulls the weights toward 0"
        lines = bars[0].lines()
        assert len(lines) == bars[0].size.height and lines[-1].startswith("-") and "+" in lines[-1]
        norm = app.lab.weights.norm_chart
        assert len(norm.series) == 2
        np.testing.assert_array_equal(norm.series[1].y, app.lab.session.history.variants[1].series("weight_norm"))
        await wait_for(pilot, lambda: norm.draw_count >= 1)
        assert "‖w‖" in str(app.lab.weights.query(".bars-title").first().render())


async def test_m_cycles_loss_accuracy_gap(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await finished(app, pilot, wait_for)
        val, train = app.query_one("#overlay-val", LossChart), app.query_one("#overlay-train", LossChart)
        first = app.query_one("#per-variant LossChart", LossChart)
        hist = app.lab.session.history.variants[0]
        assert val.title == "validation loss" and len(first.series) == 2
        await pilot.press("m")
        assert val.title == "validation accuracy (%)" and train.title == "training accuracy (%)"
        np.testing.assert_allclose(first.series[-1].y, 100 * hist.series("val_acc"))  # in %, as the table shows it
        np.testing.assert_allclose(first.series[0].y, 100 * hist.series("train_acc"))
        assert "acc" in first.note and "val acc %" in legend(app)
        await pilot.press("m")
        assert val.title.startswith("generalization gap") and app.lab.charts.has_class("-single")
        assert len(first.series) == 1 and "gap" in first.note
        np.testing.assert_array_equal(first.series[0].y, hist.series("gap"))
        await pilot.press("v")
        await pilot.pause()
        assert val.display and not train.display, "gap has no training curve"
        await wait_for(pilot, lambda: val.draw_count >= 1)
        await pilot.press("m")
        assert val.title == "validation loss" and not app.lab.charts.has_class("-single")


async def test_s_smooths_with_tensorboard_ema(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await finished(app, pilot, wait_for)
        first = app.query_one("#per-variant LossChart", LossChart)
        raw = app.lab.session.history.variants[0].series("val_loss")
        np.testing.assert_array_equal(first.series[-1].y, raw)
        await pilot.press("s")
        assert "EMA 0.6" in legend(app)
        np.testing.assert_allclose(first.series[-1].y, ema(raw, 0.6))
        assert not np.allclose(first.series[-1].y, raw)
        await pilot.press("s", "s")
        assert "EMA 0.99" in legend(app)
        await pilot.press("s")
        assert "EMA" not in legend(app)
        np.testing.assert_array_equal(first.series[-1].y, raw)


async def test_t_plots_against_seconds(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await finished(app, pilot, wait_for)
        first = app.query_one("#per-variant LossChart", LossChart)
        drawn = first.draw_count
        await pilot.press("t")
        assert "x: seconds" in legend(app) and first.x_unit == "seconds"
        np.testing.assert_array_equal(first.series[-1].x, app.lab.session.history.variants[0].series("seconds"))
        await wait_for(pilot, lambda: first.draw_count > drawn)  # redrawn against seconds
        await pilot.press("t")
        np.testing.assert_array_equal(first.series[-1].x, app.lab.session.history.variants[0].series("epoch"))


async def test_verdict_panel_shows_the_cores_words(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.lab.verdict.text == ""
        await finished(app, pilot, wait_for)
        await pilot.pause()
        assert app.lab.verdict.text == verdict(app.lab.session.history)
        assert app.lab.verdict.shown == app.lab.verdict.text, "a tall terminal shows all of it"
        assert app.lab.verdict.text.split(". ")[0] in str(app.lab.verdict.render()).replace("\n", " ")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.lab.verdict.text.startswith(app.lab.verdict.shown) and app.lab.verdict.size.height <= 2


async def test_keys_and_palette_have_the_views(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE):
        keys = {b.key for b in app.lab.BINDINGS}
        assert {"b", "w", "m", "s", "t"} <= keys
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Decision maps", "Weights", "Chart metric", "Smoothing", "X-axis: epochs / seconds"} <= titles


def test_worker_sends_insight_only_when_asked_and_at_the_end(ui_experiment: Any) -> None:
    exp = ui_experiment(epochs=5)
    quiet: list[Any] = []
    runner.train(quiet.append, exp, runner.RunControl(1), lambda: False)
    insights = [m for m in quiet if isinstance(m, InsightReady)]
    assert len(insights) == 1 and insights[0].epoch == 5, "hidden views: one at the end"
    assert insights[0].boundary.prob.shape[0] == 4 and insights[0].weights.counts.shape[0] == 4
    asked: list[Any] = []
    control = runner.RunControl(2)
    control.insight = InsightRequest(boundary=(12, 10), by_variant=True)
    runner.train(asked.append, exp, control, lambda: False)
    insights = [m for m in asked if isinstance(m, InsightReady)]
    assert insights[0].epoch == 0 and insights[0].boundary.prob.shape == (4, 10, 12)
    assert insights[0].weights is None, "only what a visible view asks for"
    assert len(insights) <= 2 + 5 and insights[-1].weights is not None


def test_the_worker_computes_the_sizes_of_the_request_it_holds_and_never_changes_it(ui_experiment: Any) -> None:
    """The UI swaps a frozen request into the control; the worker reads it and answers
    only with messages: after the swap the maps come at the new size, and the
    snapshot at the end keeps the last bins asked for."""
    first = InsightRequest(boundary=(12, 10), bins=9, by_variant=True)
    second = InsightRequest(boundary=(6, 4), by_variant=True)
    control = runner.RunControl(1)
    control.insight = first
    got: list[InsightReady] = []

    def post(message: Any) -> None:
        if isinstance(message, InsightReady):
            if not got:
                assert control.insight is first, "the worker swapped nothing in"
                control.insight = second  # what the UI does when a view is resized or hidden
            got.append(message)

    runner.train(post, ui_experiment(epochs=5), control, lambda: False)
    assert control.insight is second and first == InsightRequest(boundary=(12, 10), bins=9, by_variant=True)
    assert got[0].boundary.prob.shape == (4, 10, 12) and got[0].weights.counts.shape == (4, 9)
    assert len(got) >= 2 and all(m.boundary.prob.shape == (4, 4, 6) for m in got[1:])
    assert all(m.weights is None for m in got[1:-1]), "only what the request asks for"
    assert got[-1].epoch == 5 and got[-1].weights.counts.shape == (4, 9), "the end: the last bins asked"


async def test_the_maps_and_the_weights_are_mounted_when_first_shown(ui_experiment: Any, wait_for: Any) -> None:
    """A lab that never shows ``b`` or ``w`` never mounts them; shown after a run, each
    draws what arrived while it was not mounted (the run's last maps and histograms)."""
    app = create_app(ui_experiment(epochs=5, variants=TWO))
    async with app.run_test(size=SIZE) as pilot:
        lab = app.lab
        await finished(app, pilot, wait_for)
        await wait_for(pilot, lambda: lab.boundary.epoch == 5 and lab.weights.epoch == 5)
        assert not lab.query("BoundaryView") and not lab.query("WeightsView") and not lab.query("BoundaryMap")
        await pilot.press("b")
        await wait_for(pilot, lambda: all(m.size.area > 0 for m in lab.boundary.maps()) and len(lab.boundary.maps()) == 2)
        assert all(m.map is not None for m in lab.boundary.maps()) and "ep 5" in str(lab.query_one("#boundary-legend").render())
        await pilot.press("w")
        await wait_for(pilot, lambda: len(lab.weights.bars()) == 2)
        assert all(b.counts is not None for b in lab.weights.bars()) and "epoch 5" in str(lab.query_one("#weights-legend").render())
        assert len(lab.weights.norm_chart.series) == 2
