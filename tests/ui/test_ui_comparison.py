"""Pilot tests of the comparison the lab shows (issue 14): the results table's ranked
column and ★, the verdict panel's cut and whole story, the charts' shared y-range,
epoch 0 off-scale and accuracy in %; the sweep's ★ following the ranking.

Histories are constructed (every number chosen) where the point is the ranking;
a tiny run trains where the point is what the lab does with real numbers.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from regtui.core.config import Experiment, SweepAxis, TrainConfig, VariantConfig
from regtui.core.ranking import label, score
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochMetrics
from regtui.core.verdict import verdict_sentences
from regtui.ui.app import create_app
from regtui.ui.plotting.y_range import FLATTEN, off_scale, off_scale_note, y_range
from regtui.ui.screens.verdict import VerdictScreen
from regtui.ui.widgets.loss_charts import LossChart
from regtui.ui.widgets.results_table import FULL_WIDTH, ResultsTable
from regtui.ui.widgets.verdict_panel import MORE, SHORT_MORE

SIZE = (80, 24)


def constructed(curves: dict[str, list[float]], *, seeds: int = 1, train: dict[str, list[float]] | None = None,
                statuses: dict[str, str] | None = None, acc: float | None = None) -> RunHistory:
    """A RunHistory whose val losses follow ``curves`` (seed s: the curve + 0.01·s), train
    loss ``train`` (default 0.1); ``statuses``: the final ones (default finished)."""
    epochs = len(next(iter(curves.values())))
    variants = tuple(VariantConfig(n) if n.startswith("baseline") else VariantConfig(n, l2=1e-3) for n in curves)
    h = RunHistory(Experiment(variants=variants, train=TrainConfig(epochs=epochs - 1, seeds=seeds)))
    for epoch in range(epochs):
        metrics, st = [], []
        for name, curve in curves.items():
            for s in range(seeds):
                val = curve[epoch] + 0.01 * s
                tr = (train or {}).get(name, [0.1] * epochs)[epoch]
                metrics.append(EpochMetrics(epoch, tr, val, acc, acc, tr, 0.0, 1.0, val - tr, float(epoch)))
                st.append((statuses or {}).get(name, "finished") if epoch == epochs - 1 else "running")
        h.add(SimpleNamespace(epoch=epoch, seconds=float(epoch), metrics=tuple(metrics), statuses=tuple(st)))
    return h


def overfit() -> dict[str, list[float]]:
    """21 epochs: the baseline dips to 0.30 at epoch 3, then climbs to 1.0; L2 starts at 0.8
    and settles at 0.40."""
    return {"baseline": [1.0, 0.6, 0.4, 0.30] + [0.30 + 0.7 * (e - 3) / 17 for e in range(4, 21)],
            "L2": [0.8, 0.7, 0.5, 0.45] + [0.40] * 17}


def starred(table: ResultsTable) -> list[str]:
    """The names of the rows whose name cell carries the ★."""
    return [table.names[r] for r in range(table.row_count) if str(table.get_row_at(r)[0]).startswith("★")]


def column_width(table: ResultsTable) -> int:
    return sum(c.get_render_width(table) for c in table.columns.values())


async def test_the_table_stars_what_its_ranked_column_ranks_first(tiny: Any) -> None:
    h = constructed(overfit())
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        table = app.lab.table
        table.show(h)
        await pilot.pause()
        assert table.column_header("end") == "★end val" and table.column_header("best") == "best@ep"
        assert starred(table) == ["L2"] == [h.ranked("end")[0].name], "end: the steady L2, not the early minimum"
        end_cell = str(table.get_row_at(1)[table.shown_keys.index("end")])
        assert end_cell == "0.400"  # the statistic itself, in the ranked column
        assert str(table.get_row_at(0)[table.shown_keys.index("best")]) == "0.300@3"
        table.set_rank_by("best")
        await pilot.pause()
        assert table.column_header("best") == "★best@ep" and table.column_header("end") == "end val"
        assert starred(table) == ["baseline"] == [h.ranked("best")[0].name]
        table.set_rank_by(None)  # back to the run's train.rank_by
        await pilot.pause()
        assert starred(table) == ["L2"]


async def test_the_table_fits_80_columns_and_shows_every_column_from_full_width(tiny: Any) -> None:
    h = constructed(overfit(), seeds=3)
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        table = app.lab.table
        table.show(h)
        await pilot.pause()
        assert table.column_header("end") == "★end±std" and table.column_header("best") == "best±std"
        assert "val" not in table.shown_keys and table.compact
        assert column_width(table) <= table.size.width == 80, "every column, the ranked one too, in 80 cells"
        per_seed = score(h["L2"], "end").per_seed
        assert str(table.get_row_at(1)[table.shown_keys.index("end")]) == (
            f"{np.mean(per_seed):.3f}±{np.std(per_seed, ddof=1):.3f}".replace("±0.", "±."))
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert table.size.width >= FULL_WIDTH and not table.compact and "val" in table.shown_keys
        assert column_width(table) <= table.size.width and starred(table) == ["L2"]


async def test_a_diverged_variant_never_gets_the_star(tiny: Any) -> None:
    curves = {"baseline": [1.0, 0.5, 0.5, 0.5], "L2": [1.0, 0.1, 0.1, 0.1]}
    h = constructed(curves, statuses={"L2": "diverged"})
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        for rank_by in ("end", "best"):
            app.lab.table.set_rank_by(rank_by)
            app.lab.table.show(h)
            await pilot.pause()
            assert starred(app.lab.table) == ["baseline"], rank_by


async def test_the_shared_y_range_spans_every_variant_and_per_chart_differs(charts_showing: Any) -> None:
    async with charts_showing(constructed(overfit())) as (pilot, charts, grid):
        assert len(grid) == 2 and grid[0].y_range == grid[1].y_range
        lo, hi = grid[0].y_range
        assert (lo, hi) == (0.1, 1.0), "train 0.1 to the baseline's 1.0, on both charts"
        charts.set_shared_y(False)
        await pilot.pause()
        assert grid[0].y_range != grid[1].y_range and "y per chart" in str(pilot.app.query_one("#chart-legend").render())
        assert grid[1].y_range == (0.1, 0.8), "L2's own chart: its epoch 0 (0.8) is its top"
        charts.set_shared_y(True)
        charts.set_log(True)
        await pilot.pause()
        assert grid[0].y_range == grid[1].y_range and np.allclose(grid[0].y_range, (-1.0, 0.0)), "log10 units"


async def test_digits_like_epoch_0_goes_off_scale_and_says_so(charts_showing: Any, wait_for: Any) -> None:
    after = [0.45 - 0.01 * e for e in range(20)]
    h = constructed({"baseline": [2.30] + after, "L2": [2.30] + [v + 0.02 for v in after]},
                    train={"baseline": [2.30] + [0.3] * 20, "L2": [2.30] + [0.32] * 20})
    async with charts_showing(h) as (pilot, charts, grid):
        for chart in grid:
            lo, hi = chart.y_range
            assert hi < 0.5 and lo > 0.2, "the epochs after 0 fill the chart"
            assert chart.off_note == ("epoch 0 off-scale ↑2.30", "ep0 ↑2.30")
        await wait_for(pilot, lambda: not any(c.dirty for c in grid), 10)
        assert all("↑2.30" in str(c.render()) for c in grid), "said on the chart, short at 80×24"
        assert all(c.title in str(c.render()) for c in grid), "never at the variant name's cost"
        charts.set_curve_view(replace(charts.curve_view, window=(5, 20)))  # a zoom past epoch 0: no note
        charts.show(h)
        assert all(c.off_note == ("", "") for c in grid)
        assert grid[0].y_range == grid[1].y_range and np.allclose(grid[0].y_range, (0.26, 0.43)), "it follows the zoom"


def test_y_range_leaves_epoch_0_out_only_when_it_would_flatten() -> None:
    flat = y_range([np.array([2.3, 0.4, 0.3, 0.2])])
    assert (flat.lo, flat.hi, flat.off_scale) == (0.2, 0.4, 2.3) and flat.above
    steep = y_range([np.array([1.0, 0.9, 0.5, 0.2])])  # epoch 0 adds little: kept
    assert (steep.lo, steep.hi, steep.off_scale) == (0.2, 1.0, None)
    acc = y_range([np.array([10.0, 90.0, 95.0, 97.0])])  # accuracy: epoch 0 far below
    assert acc.off_scale == 10.0 and not acc.above and (acc.lo, acc.hi) == (90.0, 97.0)
    assert y_range([np.array([2.3, 0.4, 0.3])], epoch0_first=False).hi == 2.3
    assert off_scale([np.array([2.3, 0.4])], flat) == 2.3 and off_scale([np.array([0.3, 0.4])], flat) is None
    assert FLATTEN > 1


def test_y_range_leaves_the_first_epochs_out_when_they_would_flatten_the_rest() -> None:
    """Digits with Adam: the loss needs ten epochs of 200 to fall from 2.65 (the article at 80×24
    drew four flat lines); those ten go off-scale, and the chart says which."""
    loss = np.concatenate([np.linspace(2.65, 0.5, 10), np.linspace(0.35, 0.2, 190)])
    shown = y_range([loss])
    assert shown.off_epochs == 10 and shown.off_scale == 2.65 and shown.above
    assert (shown.lo, shown.hi) == (0.2, 0.35), "the later epochs fill the chart"
    assert off_scale_note(shown.off_scale, True, epochs=shown.off_epochs) == "epochs 0–9 off-scale ↑2.65"
    assert off_scale_note(shown.off_scale, True, epochs=shown.off_epochs, short=True) == "ep0–9 ↑2.65"
    rising = np.concatenate([np.linspace(0.7, 0.4, 10), np.linspace(0.4, 1.7, 190)])  # overfitting: all kept
    assert y_range([rising]).off_scale is None
    short = np.array([2.3, 1.5, 1.0, 0.4, 0.35, 0.3])  # six epochs: epoch 0 at most (one in ten)
    assert y_range([short]).off_epochs <= 1


async def test_accuracy_is_drawn_in_percent(tiny: Any, run_to_end: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, timeout=60)
        await pilot.press("m")
        first = app.query_one("#per-variant LossChart", LossChart)
        acc = app.lab.session.history.variants[0].series("val_acc")
        np.testing.assert_allclose(first.series[-1].y, 100 * acc)
        assert first.y_range[1] > 1.5, "the range is in % too"
        table_acc = str(app.lab.table.get_row_at(0)[app.lab.table.shown_keys.index("acc")])
        assert table_acc == f"{100 * acc[-1]:.1f}"


async def test_the_verdict_panel_marks_its_cut_and_shows_the_whole_story(tiny: Any) -> None:
    h = constructed(overfit())
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.lab.verdict
        panel.show(h, final=True)
        await pilot.pause()
        whole = verdict_sentences(h)
        assert panel.sentences == whole and len(whole) > 2
        rendered = str(panel.render()).replace("\n", " ")
        assert panel.cut and panel.size.height <= 2
        assert whole[0] in rendered, "the first sentence whole at 80×24"
        assert MORE in rendered or SHORT_MORE in rendered
        app.push_screen(VerdictScreen(panel.sentences))  # what V does
        await pilot.pause()
        assert isinstance(app.screen, VerdictScreen) and list(app.screen.sentences) == whole
        await pilot.press("escape")
        assert not isinstance(app.screen, VerdictScreen)
        panel.set_rank_by("best")
        assert panel.sentences == verdict_sentences(h, "best")
        assert label("best") in panel.text


async def test_the_sweep_star_follows_the_ranking(ui_experiment: Any, run_to_end: Any) -> None:
    exp = ui_experiment(epochs=40, lr=0.05)
    exp = replace(exp, sweep=(SweepAxis("variants.L2.l2", (0.0, 1e-3, 0.03)),))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")
        await run_to_end(pilot, timeout=60)
        view = app.lab.sweep_view
        raw = view.raw_points
        for rank_by in ("best", "end"):
            view.set_rank_by(rank_by)
            means = [p.score_by(rank_by).value for p in raw]
            assert [p.score_mean for p in view.points] == means
            assert view.best is not None and view.best.score_mean == min(means)
            assert label(rank_by) in str(view.query_one("#sweep-best").render())
        await pilot.press("R")  # the lab's key: the sweep view follows it too
        assert view.rank_by == "best" and view.best.score_mean == min(p.score_by("best").value for p in raw)


# ---------------------------------------------------------------- the keys: R, V, y


async def test_r_key_switches_the_ranking_for_star_header_and_verdict(ui_experiment: Any, run_to_end: Any) -> None:
    app = create_app(ui_experiment(epochs=30, lr=0.05))
    async with app.run_test(size=SIZE) as pilot:
        assert app.lab.table.ranking == "end" and app.lab.table.column_header("end") == "★end val", "the preset's default"
        await run_to_end(pilot, timeout=60)
        await pilot.pause()
        table, h = app.lab.table, app.lab.session.history
        assert starred(table) == [h.ranked("end")[0].name] and table.best == h.winner("end")
        await pilot.press("R")
        await pilot.pause()
        assert table.ranking == "best" and table.column_header("best") == "★best@ep"
        assert table.column_header("end") == "end val", "the end statistic stays shown, unmarked"
        assert starred(table) == [h.ranked("best")[0].name]
        assert app.lab.verdict.sentences == verdict_sentences(h, "best")
        assert column_width(table) <= table.size.width
        await pilot.press("R")
        await pilot.pause()
        assert table.ranking == "end" and starred(table) == [h.ranked("end")[0].name]
        assert app.lab.verdict.sentences == verdict_sentences(h, "end")


async def test_v_key_shows_the_whole_verdict(tiny: Any, run_to_end: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, timeout=60)
        await pilot.pause()
        await pilot.press("V")
        assert isinstance(app.screen, VerdictScreen)
        assert list(app.screen.sentences) == verdict_sentences(app.lab.session.history)
        shown = " ".join(str(s.render()) for s in app.screen.query(".verdict-sentence"))
        assert all(sentence in shown.replace("\n", " ") for sentence in verdict_sentences(app.lab.session.history)[:1])
        await pilot.press("V")
        assert not isinstance(app.screen, VerdictScreen)


async def test_y_key_switches_shared_and_per_chart_ranges_which_follow_zoom_log_and_metric(
        ui_experiment: Any, run_to_end: Any) -> None:
    app = create_app(ui_experiment(epochs=60, lr=0.05))
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, timeout=60)
        await pilot.pause()
        grid = app.lab.charts.grid_charts

        def ranges() -> list[Any]:
            return [c.y_range for c in grid]

        assert len(set(ranges())) == 1, "one y-range across the grid"
        shared = ranges()[0]
        await pilot.press("y")
        assert len(set(ranges())) > 1 and not app.lab.charts.shared_y
        await pilot.press("y")
        assert ranges() == [shared] * len(grid)
        await pilot.press("z")  # zoom: the latest epochs
        await pilot.pause()
        assert len(set(ranges())) == 1 and ranges()[0] != shared
        await pilot.press("Z", "l")  # log y: log10 units
        await pilot.pause()
        (lo, hi), = set(ranges())  # one range, in log10 units (epoch 0 off-scale or not: decided anew)
        assert np.isclose(lo, np.log10(shared[0])) and hi >= np.log10(shared[1]) - 1e-9
        await pilot.press("l", "m")  # accuracy, in %
        await pilot.pause()
        lo, hi = ranges()[0]
        assert len(set(ranges())) == 1 and 1.0 < hi <= 100.0


async def test_the_new_keys_are_in_the_palette_and_the_help(tiny: Any) -> None:
    from regtui.ui.screens.help import HELP

    app = create_app(tiny)
    async with app.run_test(size=SIZE):
        bindings = {b.key: b for b in app.lab.BINDINGS}
        assert {"R", "V", "y"} <= set(bindings) and not any(bindings[k].show for k in "RVy"), "footer-hidden"
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Ranking: end / best epoch", "Whole verdict", "Y-range: shared / per chart"} <= titles
        for key in "RVy":
            assert f"[b]{key}[/b]" in HELP
