"""Pilot tests of the view keys (v, l, c), help, the command palette's commands,
the preset dialogs and the responsive size classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from regtui.ui.app import create_app
from regtui.ui.widgets.loss_charts import LossChart

SIZE = (80, 24)


async def test_v_switches_between_per_variant_and_overlay(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        grid, overlay = app.query_one("#per-variant"), app.query_one("#overlay")
        assert grid.display and not overlay.display
        assert len(grid.query(LossChart)) == 4
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await pilot.press("v")
        await pilot.pause()
        assert app.lab.charts.overlay and overlay.display and not grid.display
        await wait_for(pilot, lambda: not app.lab.charts.pending)
        val = app.query_one("#overlay-val", LossChart)
        assert val.draw_count >= 1 and len(val.series) == 4, "one curve per variant"
        assert [s.color for s in val.series] == [s.color for s in app.query_one("#overlay-train", LossChart).series]
        assert "L2+Dropout" in str(app.query_one("#chart-legend").render())
        await pilot.press("v")
        assert not app.lab.charts.overlay and grid.display


async def test_l_toggles_a_log_y_axis(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await wait_for(pilot, lambda: not app.lab.charts.pending)
        chart = app.query_one("#per-variant LossChart", LossChart)
        linear = chart.points()
        drawn = chart.draw_count
        await pilot.press("l")
        assert all(c.log_y for c in app.lab.charts.charts())
        assert "log y" in str(app.query_one("#chart-legend").render())
        await wait_for(pilot, lambda: chart.draw_count > drawn)
        for (_, y_lin, _), (_, y_log, _) in zip(linear, chart.points()):
            np.testing.assert_allclose(y_log, np.log10(y_lin))
        # redrawing again (a resize, a theme change) must not take the log twice
        chart.replot()
        first = chart.plt.build()
        assert first == chart.plt.build() == chart.plt.build()
        await pilot.press("l")
        assert not any(c.log_y for c in app.lab.charts.charts())


async def test_c_hides_and_shows_the_config_panel(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        panel, charts = app.lab.panel, app.lab.charts
        width = charts.size.width
        await pilot.press("c")
        await pilot.pause()
        assert not panel.display and app.lab.has_class("-config-hidden")
        assert charts.size.width == 80, "the charts get the whole width"
        await pilot.press("c")
        await pilot.pause()
        assert panel.display and charts.size.width == width


async def test_help_lists_keys_and_explains_l2_and_dropout(tiny: Any) -> None:
    from regtui.ui.screens.help import HELP, HelpScreen

    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-text").render())
        for text in ("λ·Σw²", "DROP probability", "space", "ctrl+s", "ctrl+o", "Esc"):
            assert text in shown
        for key in "rxvlcq?":
            assert f"[b]{key}[/b]" in HELP
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_key_is_in_the_footer_bindings_and_the_palette(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE):
        keys = {b.key for b in app.lab.BINDINGS if getattr(b, "show", True)}
        assert {"r", "space", "x", "v", "l", "c", "ctrl+s", "ctrl+o", "question_mark", "q"} <= keys
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Run", "Pause / resume", "Stop", "Switch chart view", "Log scale", "Show / hide config",
                "Save preset", "Open preset", "Help"} <= titles


async def test_pause_and_stop_are_disabled_when_nothing_runs(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        assert app.lab.check_action("pause", ()) is None and app.lab.check_action("stop", ()) is None
        await pilot.press("space", "x")
        assert app.lab.run_state == "idle"


async def test_preset_dialogs_open(tiny: Any, tmp_path: Any) -> None:
    from regtui.ui.screens.preset_open import OpenPresetScreen
    from regtui.ui.screens.preset_save import SavePresetScreen

    app = create_app(tiny, presets_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SavePresetScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, OpenPresetScreen)
        await pilot.press("escape")


async def test_size_classes_follow_the_terminal(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.has_class("-narrow") and app.has_class("-short")
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert app.has_class("-wide") and not app.has_class("-narrow") and not app.has_class("-short")
