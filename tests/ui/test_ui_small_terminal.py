"""Issue 15: every screen works at 80×24 — focus you can see, nothing cut unmarked.

Each test drives the real app at 80×24 with Pilot and asserts what a person
would see: the focused field lies inside the visible part of its scrolling
panel, and its background differs clearly from an unfocused one.
"""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.widget import Widget
from textual.widgets import Input, Select

from regtui.ui.app import create_app

SIZE = (80, 24)


def _visible(widget: Widget) -> bool:
    """Whether ``widget`` is on screen and inside the visible window of every scrolling ancestor."""
    region = widget.region
    if region.area == 0 or not widget.screen.region.contains_region(region):
        return False
    for ancestor in widget.ancestors:
        if isinstance(ancestor, Widget) and ancestor.is_scrollable and ancestor.size.area:
            if not ancestor.region.contains_region(region):
                return False
    return True


async def test_tab_walks_every_config_field_into_view(tiny, wait_for) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.query_one("#config")
        fields = [w for w in app.screen.focus_chain if panel in w.ancestors]
        assert any(w.id == "sweep-values-2" for w in fields), "the Sweep section is part of the walk"
        seen: set[int] = set()
        for _ in range(len(fields) + 3):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            if focused is None or panel not in focused.ancestors:
                continue
            seen.add(id(focused))
            # the scroll to a newly focused field lands a refresh or two later (slower under load)
            await wait_for(pilot, lambda: _visible(focused), 10)
        assert seen >= {id(w) for w in fields}, "Tab reaches every field of the panel"


def _background(widget: Widget) -> Color:
    return widget.styles.background


async def test_focused_select_and_input_stand_out(tiny) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        select = app.query_one("#f-data-dataset", Select)
        other_select = app.query_one("#f-model-activation", Select)
        current = select.query_one("SelectCurrent")
        select.focus()
        await pilot.pause()
        focused_bg = _background(current)
        unfocused_bg = _background(other_select.query_one("SelectCurrent"))
        # "one shade of grey" is not visible: require a real difference in colour
        assert focused_bg.a > 0 and sum(abs(a - b) for a, b in zip(focused_bg.rgb, unfocused_bg.rgb)) > 60
        field = app.query_one("#f-data-n-train", Input)
        field.focus()
        await pilot.pause()
        other = app.query_one("#f-data-n-val", Input)
        assert sum(abs(a - b) for a, b in zip(_background(field).rgb, _background(other).rgb)) > 60


async def test_open_dropdown_is_framed(tiny) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        select = app.query_one("#f-data-dataset", Select)
        select.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = select.query_one("SelectOverlay")
        assert select.expanded and overlay.display
        assert overlay.styles.border_top[0] != "" and overlay.styles.border_left[0] != ""
        # every option is readable in full (no wrapped "breast_can / cer")
        assert overlay.content_region.width >= max(len(str(p)) for p in ("breast_cancer", "regression"))


async def test_eta_comes_from_the_measured_epoch_rate_not_the_start_up() -> None:
    from textual.app import App, ComposeResult

    from regtui.ui.widgets.status_bar import StatusBar

    now = [0.0]

    class Bar(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar(lambda: now[0], id="status")

    app = Bar()
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(StatusBar)
        bar.starting(100)
        now[0] = 5.0  # five seconds importing torch and loading the data
        bar.show_state("running")
        bar.progress(0, 0.0)
        assert bar.eta() is None  # no rate measured yet: no guess
        for second in range(1, 7):  # then one epoch of 100 every 0.1 s
            now[0] = 5.0 + second
            bar.progress(10 * second, 0.1 * second)
        await pilot.pause()
        assert bar.eta() == pytest.approx(4.0)  # 40 epochs left at 10 per second, not 0:07 from 11 s × 0.4/0.6
        assert "ETA 0:04" in str(bar.text())
        bar.paused(True)
        now[0] += 60  # a pause is not training time
        bar.paused(False)
        bar.progress(70, 0.7)
        assert bar.eta() is not None and bar.eta() < 10


async def test_escape_then_a_key_typed_fast_leaves_the_field_and_acts(tiny, wait_for) -> None:
    """A terminal delivers Esc followed within ~50 ms by ``v`` as one alt+v key."""
    from regtui.ui.widgets.loss_charts import ChartsPane

    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        epochs = app.query_one("#f-train-epochs", Input)
        epochs.focus()
        before = epochs.value
        overlay = app.query_one(ChartsPane).overlay
        await pilot.press("alt+v")
        await pilot.pause()
        assert epochs.value == before  # no "150v"
        assert app.focused is not epochs
        await wait_for(pilot, lambda: app.query_one(ChartsPane).overlay is not overlay, 10)  # and v acted


async def test_epoch_cursor_marks_every_chart_and_reads_out_every_variant(ui_experiment, wait_for) -> None:
    """i shows a cursor at the last epoch on every chart; , and . move it; the legend line
    becomes a readout of each variant's train/val value at that epoch; z/Z zoom around it."""
    from regtui.ui.widgets.loss_charts import ChartsPane, LossChart

    app = create_app(ui_experiment(epochs=80))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        charts = app.query_one(ChartsPane)
        await pilot.press("i")
        await pilot.pause()
        assert app.lab.curve_view.cursor == 80
        await pilot.press("comma", "comma", "less_than_sign")
        await pilot.pause()
        step = max(1, round(80 / 40))
        assert app.lab.curve_view.cursor == 80 - 12 * step
        epoch = app.lab.curve_view.cursor
        per_variant = list(charts.query("#per-variant LossChart").results(LossChart))
        assert {c.marker for c in per_variant} == {float(epoch)}  # the same epoch in every chart
        readout = str(charts.query_one("#chart-legend").render())
        assert f"epoch {epoch}" in readout
        from regtui.core.numbers import fixed_width

        shown = 0
        for chart, hist in zip(per_variant, app.lab.session.history.variants):
            train, val = hist.series("train_loss")[epoch], hist.series("val_loss")[epoch]
            assert chart.note.endswith(f"@{fixed_width(float(val), 5)}")  # each chart's title: val at the cursor
            shown += f"{fixed_width(float(train), 5)}/{fixed_width(float(val), 5)}" in readout
        assert len(per_variant) == len(app.lab.session.history.variants) == 4
        missing = len(app.lab.session.history.variants) - shown
        assert shown >= 2 and (missing == 0 or readout.endswith(f"…+{missing}"))  # a cut is said
        await pilot.press("v")  # the overlay marks the same epoch
        await pilot.pause()
        assert charts.query_one("#overlay-val", LossChart).marker == float(epoch)
        await pilot.press("v", "z")
        await pilot.pause()
        lo, hi = app.lab.curve_view.window
        assert lo <= epoch <= hi and hi - lo == 40
        chart = next(iter(charts.query("#per-variant LossChart").results(LossChart)))
        assert chart.x_range == (float(lo), float(hi))
        assert all(s.x.min() >= lo and s.x.max() <= hi for s in chart.series)  # epoch 0 is out of the picture
        await pilot.press("Z")
        await pilot.pause()
        assert app.lab.curve_view.window is None
        await pilot.press("i")
        await pilot.pause()
        assert app.lab.curve_view.cursor is None and "epoch" not in str(charts.query_one("#chart-legend").render())


def test_a_chart_title_too_long_for_plotext_is_shortened_with_a_mark_not_dropped() -> None:
    import plotext as plt

    from regtui.ui.widgets.loss_charts import fit_title

    for width in (16, 20, 24, 30, 45):
        for name, note in (("L2+Dropout", "✗ diverged"), ("baseline", "@0.382"), ("a-long-variant-name", "")):
            title = fit_title(name, note, width)
            plt.clear_figure()
            plt.plotsize(width, 8)
            plt.title(title)
            plt.plot([0, 1, 2], [0.1, 0.669, 0.2])
            plt.theme("clear")
            assert title.strip("… ") and title in plt.build().splitlines()[0], (width, title)  # plotext drew it
            assert title == f"{name} {note}".strip() or "…" in title  # shortened visibly, never silently
            if note and len(note) + 4 <= width - 7:
                assert title.endswith(note)  # the note (diverged, the cursor's value) survives


async def test_any_variants_lambda_and_p_in_two_keys(tiny, wait_for) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")  # even with the panel hidden
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        editor = app.lab.panel.editors[2]
        assert app.focused is editor.inputs["l2"]
        # scrolled into view on a later refresh, which one short idle wait may not reach
        await wait_for(pilot, lambda: _visible(editor.inputs["l2"]), 10)
        await pilot.press("down")
        await pilot.pause()
        assert app.focused is editor.inputs["dropout"]
        await wait_for(pilot, lambda: _visible(editor.inputs["dropout"]), 10)
        await pilot.press("plus")
        await pilot.pause()
        assert app.lab.panel.experiment.variants[2].dropout == 0.55
        await pilot.press("escape", "9")
        await pilot.pause()
        assert app.focused is not editor.inputs["dropout"]  # no variant 9: said, nothing else moves


async def test_the_footer_fits_whole_at_80_columns_and_after_a_resize(tiny) -> None:
    """No key cut off at the right edge ("… q quit b"), none drawn over another after 160 → 80."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    app = create_app(tiny)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        for size in ((80, 24), (160, 40), (80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            footer = app.query_one(Footer)
            keys = [k for k in footer.query(FooterKey) if k.display]
            assert keys and all(footer.region.contains_region(k.region) for k in keys), size
            spans = sorted((k.region.x, k.region.right) for k in keys)
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"keys overlap at {size}"
            shown = {k.key for k in keys}
            assert {"r", "question_mark", "q"} <= shown, size


async def test_a_status_note_cut_at_80_columns_is_said_in_full(tiny) -> None:
    from regtui.ui.widgets.status_bar import StatusBar

    said: list[str] = []
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: said.append(message)  # type: ignore[method-assign]
        bar = app.query_one(StatusBar)
        long_note = "config: 3 invalid field(s): fix them to run — n train, lr and the sweep's values"
        bar.set_note(long_note, "red")
        await pilot.pause()
        await pilot.pause()
        assert said == [long_note]
        bar.set_note(long_note, "red")  # set again (the app refreshes its note): said once
        await pilot.pause()
        await pilot.pause()
        bar.set_note("r run · ? help")  # one that fits is not said
        await pilot.pause()
        await pilot.pause()
        assert said == [long_note]


async def test_weights_titles_keep_the_norm_whole(ui_experiment, wait_for) -> None:
    from textual.widgets import Static

    from regtui.core.numbers import fixed_width

    app = create_app(ui_experiment(epochs=5))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await pilot.press("w")
        await wait_for(pilot, lambda: all(str(t.render()) for t in app.query(".bars-title").results(Static)), 10)
        await pilot.pause()
        for title, hist in zip(app.query(".bars-title").results(Static), app.lab.session.history.variants):
            text = str(title.render())
            assert text.endswith(f"‖w‖ {fixed_width(hist.last('weight_norm'))}"), text
            assert len(text) <= title.content_region.width, text


async def test_one_rule_for_relative_data_paths_shown_in_full(tiny, wait_for, tmp_path, monkeypatch) -> None:
    """Opened on a user's preset file, a relative path typed in the lab is relative to that
    preset's folder — the same rule as the path the preset came with — never sometimes the
    working folder; the rule and the whole resolved path are shown under the field."""
    from dataclasses import replace

    from tests.ui.test_ui_datafiles import choose, write_csv

    presets = tmp_path / "my-presets"
    presets.mkdir()
    write_csv(presets / "measurements-of-the-long-experiment.csv")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    write_csv(elsewhere / "measurements-of-the-long-experiment.csv")  # a decoy in the working folder
    monkeypatch.chdir(elsewhere)
    exp = replace(tiny, source_dir=str(presets))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        ff = app.lab.panel.file_fields
        await choose(pilot, app, dataset="csv", n_train="0", n_val="0", path="measurements-of-the-long-experiment.csv")
        await wait_for(pilot, lambda: "✓" in str(ff.status.render()))
        exp_now = app.lab.panel.experiment
        from regtui.core.config import resolve_data_path
        assert resolve_data_path(exp_now.data.path, exp_now.source_dir) == presets / "measurements-of-the-long-experiment.csv"
        where = str(ff.where.render())
        assert str(presets / "measurements-of-the-long-experiment.csv") in where.replace("\n", "")
        assert "preset's folder" in where


async def test_log_y_says_when_it_leaves_out_negative_values() -> None:
    import numpy as np
    from textual.app import App, ComposeResult

    from regtui.ui.widgets.loss_charts import LossChart, Series

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield LossChart("baseline", id="c")

    app = One()
    async with app.run_test(size=SIZE) as pilot:
        chart = app.query_one(LossChart)
        x = np.arange(6, dtype=float)
        chart.set_series([Series(x, np.array([0.3, 0.1, -0.05, 0.2, 0.4, 0.5]), (200, 0, 0))], "· gap")
        chart.set_log(True)
        await pilot.pause()
        chart.replot()
        assert chart.hidden_by_log and "≤0 not on log y" in chart.plt.build().splitlines()[0]
        chart.set_series([Series(x, np.array([0.3, 0.1, 0.05, 0.2, 0.4, 0.6]), (200, 0, 0))], "· gap")
        chart.replot()
        assert not chart.hidden_by_log and "≤0" not in chart.plt.build().splitlines()[0]


async def test_opening_a_preset_resets_every_view(ui_experiment, wait_for) -> None:
    from dataclasses import replace

    from regtui.ui.widgets.loss_charts import ChartsPane, LossChart
    from regtui.ui.widgets.status_bar import StatusBar

    app = create_app(ui_experiment(epochs=6))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await wait_for(pilot, lambda: all(c.series for c in app.query("#per-variant LossChart").results(LossChart)), 10)
        other = replace(ui_experiment(epochs=9), name="other")  # the same variant names, another preset
        app.lab.load_experiment(other)  # what ctrl+o hands over
        await pilot.pause()
        charts = app.query_one(ChartsPane)
        assert all(not c.series for c in charts.query(LossChart).results(LossChart))  # no old curve stays
        status = app.query_one(StatusBar)
        assert status.state == "idle" and "epoch 0/9" in str(status.text())
        assert app.lab.run_state == "idle" and app.lab.session.history is None
        assert "finished" not in " ".join(str(c) for c in app.lab.table.get_row_at(0))
        assert app.lab.sweep_view.experiment is None and app.lab.sweep_view.has_class("-empty")
        await pilot.press("r")  # and r runs the opened preset
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        assert app.lab.session.history.epoch == 9


async def test_q_keeps_unsaved_edits_and_the_next_start_offers_them(tiny) -> None:
    from regtui.core.presets import load, user_preset_exists
    from regtui.ui.unsaved import UNSAVED

    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")  # nothing edited: nothing kept
    assert not user_preset_exists(UNSAVED)

    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        lr = app.query_one("#f-train-lr", Input)
        lr.value = "0.02"
        await pilot.pause()
        assert app.lab.panel.experiment.train.lr == 0.02
        await pilot.press("escape", "q")
    assert user_preset_exists(UNSAVED) and load(UNSAVED).train.lr == 0.02  # nothing lost

    said: list[str] = []
    app = create_app(tiny)
    app.notify = lambda message, **kw: said.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
    assert any(UNSAVED in m and "ctrl+o" in m for m in said)


async def test_q_with_an_invalid_field_asks_before_the_edits_are_lost(tiny) -> None:
    """An invalid config cannot be kept as a preset: q asks; n goes back to the field, y quits."""
    from regtui.ui.screens.confirm import ConfirmScreen
    from regtui.ui.unsaved import UNSAVED
    from regtui.core.presets import user_preset_exists

    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        lr = app.query_one("#f-train-lr", Input)
        lr.value = "fast"
        await pilot.pause()
        assert app.lab.panel.experiment is None
        await pilot.press("escape", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        question = str(app.screen.query_one("#confirm-question").render())
        assert "1 invalid field" in question and "lr" in question and "lose" in question
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is app.lab and app.is_running
        assert app.focused is lr, "n goes back to the invalid field"
        await pilot.press("escape", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running and app.return_code == 0
    assert not user_preset_exists(UNSAVED)  # nothing valid to keep
