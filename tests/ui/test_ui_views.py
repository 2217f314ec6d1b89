"""Pilot tests of the view keys (v, l, c), help, the command palette's commands,
the preset dialogs, the footer's keys, the run state's watcher, shutdown and the
responsive size classes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from regtui.ui import keys
from regtui.ui.app import create_app
from regtui.ui.session import RunState
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


def footer_keys(app: Any) -> dict[str, Any]:
    """The footer's keys as drawn, by action (not those it hides)."""
    return {k.action: k for k in app.lab.query("FooterKey") if k.display}


async def palette_pick(pilot: Any, title: str) -> list[str]:
    """ctrl+p, the entry ``title`` typed, Enter: as a person picks it; returns every title
    the palette offered before anything was typed."""
    from textual.command import CommandList, CommandPalette
    from textual.widgets import Input

    await pilot.press("ctrl+p")
    await pilot.pause()
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    commands = palette.query_one(CommandList)
    for _ in range(100):  # the palette lists its commands in the background
        await pilot.pause(0.05)
        if commands.option_count >= len(keys.PALETTE):
            break
    offered = [str(commands.get_option_at_index(i).prompt).split("\n")[0] for i in range(commands.option_count)]
    palette.query_one(Input).value = title
    for _ in range(100):
        await pilot.pause(0.05)
        if commands.option_count and str(commands.get_option_at_index(0).prompt).startswith(title):
            break
    await pilot.press("enter")
    await pilot.pause()
    return offered


async def test_every_key_is_in_the_footer_bindings_and_the_palette(tiny: Any, wait_for: Any) -> None:
    """Each key of ``keys.KEYS`` is drawn in the footer with its label and does what the
    label says when pressed; the palette offers every ``keys.PALETTE`` entry and runs it."""
    from regtui.ui.screens.help import HelpScreen
    from regtui.ui.screens.preset_open import OpenPresetScreen
    from regtui.ui.screens.preset_save import SavePresetScreen
    from regtui.ui.worker.messages import RunFinished

    app = create_app(replace(tiny, train=replace(tiny.train, epochs=1_000_000)))
    async with app.run_test(size=SIZE) as pilot:
        lab = app.lab
        await pilot.pause()
        drawn = footer_keys(app)
        for key, action, label, _, _ in keys.KEYS:
            assert action in drawn and drawn[action].description == label and drawn[action].key == key, action
        await pilot.press("v")
        assert lab.charts.overlay
        await pilot.press("l")
        assert lab.charts.log_y
        await pilot.press("c")
        assert not lab.panel.display
        await pilot.press("c")
        assert lab.panel.display
        for key, dialog in (("question_mark", HelpScreen), ("ctrl+s", SavePresetScreen), ("ctrl+o", OpenPresetScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, dialog), key
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is lab, key
        await pilot.press("r")
        assert lab.run_state.active
        await wait_for(pilot, lambda: lab.run_state is RunState.RUNNING)
        await pilot.press("space")
        assert lab.run_state is RunState.PAUSED and not lab.session.control.resume.is_set()
        await pilot.press("space")
        assert lab.run_state is RunState.RUNNING and lab.session.control.resume.is_set()
        await pilot.press("x")
        await wait_for(pilot, lambda: lab.run_state is RunState.STOPPED)

        offered = await palette_pick(pilot, "Switch chart view")
        assert {title for _, title, _ in keys.PALETTE} <= set(offered)
        assert not lab.charts.overlay, "the palette's entry runs the same action as v"
        await palette_pick(pilot, "Decision maps")
        assert lab.view == "boundary" and lab.boundary.display
        await palette_pick(pilot, "Epoch cursor")
        assert lab.curve_view.cursor is not None
        await pilot.press("q")
        assert not lab.session.current(RunFinished(lab.session.control.run_id, stopped=True)), "q closed the session"
    assert app.return_code == 0


async def test_the_run_state_watcher_updates_the_status_line_the_classes_and_the_keys(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        lab = app.lab
        await pilot.pause()
        # the footer rebuilds its keys by mounting them, which a short idle wait may not see end
        def disabled(action: str) -> bool | None:  # None: not drawn (yet)
            key = footer_keys(app).get(action)
            return None if key is None else key.has_class("-disabled")

        await wait_for(pilot, lambda: disabled("pause") and disabled("stop"), 5)
        assert "r run" in str(lab.status.note)
        lab.run_state = RunState.RUNNING
        await pilot.pause()
        assert lab.status.text().plain.startswith("running")
        assert lab.status.has_class("-running") and not lab.status.has_class("-paused")
        assert lab.query_one("#status-text").styles.text_style.bold
        plain = lab.status.styles.background
        await wait_for(pilot, lambda: disabled("pause") is False, 5)  # space is live in a run
        lab.run_state = RunState.PAUSED
        await pilot.pause()
        assert lab.status.text().plain.startswith("paused")
        assert lab.status.has_class("-running") and lab.status.has_class("-paused")
        assert lab.status.styles.background != plain, "paused: the status line is tinted"
        lab.run_state = RunState.FINISHED
        await pilot.pause()
        assert lab.status.text().plain.startswith("finished")
        assert not lab.status.has_class("-running") and not lab.status.has_class("-paused")
        assert lab.status.styles.background == plain and not lab.query_one("#status-text").styles.text_style.bold
        await wait_for(pilot, lambda: disabled("pause") is True, 5)
        assert str(lab.status.note) == ""
        lab.run_state = RunState.STARTING
        await pilot.pause()
        assert lab.status.text().plain.startswith("starting") and "loading torch" in str(lab.status.note)


async def test_a_worker_message_during_shutdown_is_dropped(long_run: Any, wait_for: Any, monkeypatch: Any) -> None:
    """Messages of the run on screen that arrive while the lab shuts down (its widgets
    going) are dropped, wherever they were posted: the lab exits 0."""
    from regtui.ui.widgets.status_bar import StatusBar
    from regtui.ui.worker.messages import BatchProgress, RunFinished, SweepProgressed

    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_for(pilot, lambda: lab.run_state is RunState.RUNNING)
        rid = lab.session.control.run_id
        late = [SweepProgressed(rid, 1, 2), BatchProgress(rid, 1, 1, 2), RunFinished(rid, stopped=True)]
        targets = (app, lab, lab.sweep_view, lab.status)

        def unmount(self: Any) -> None:  # the status line goes: a worker posts on
            for message in late:
                for node in targets:
                    node.post_message(message)

        monkeypatch.setattr(StatusBar, "on_unmount", unmount, raising=False)
        app.exit()
    assert app.return_code == 0


async def test_the_footer_is_rebuilt_only_when_its_keys_change(tiny: Any) -> None:
    """A bindings refresh that leaves the keys as they are (a focus move from one field
    to another, a refresh asked for nothing) keeps the footer's keys; one that changes
    them shows them: back at the table (where r, space, q... are the lab's) the keys the
    field hid show again, the same widgets; a key whose state changes (space and x once
    a run starts) draws them anew (``regtui.ui.widgets.keys_footer``)."""
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        lab = app.lab
        await pilot.pause()
        assert "run" in footer_keys(app)
        lab.panel.editors[0].focus_first_knob()
        await pilot.pause()
        drawn = list(lab.query("FooterKey"))
        assert "run" not in footer_keys(app), "r types into the field"
        lab.panel.editors[1].focus_first_knob()
        lab.refresh_bindings()
        await pilot.pause()
        assert list(lab.query("FooterKey")) == drawn, "the same keys: the same FooterKey widgets"
        lab.table.focus()
        await pilot.pause()
        assert "run" in footer_keys(app) and list(lab.query("FooterKey")) == drawn, "shown again, not remounted"
        shown = footer_keys(app)
        assert shown["pause"].has_class("-disabled")
        lab.run_state = RunState.RUNNING  # space and x are enabled while a run is active
        await pilot.pause()
        assert footer_keys(app).keys() == shown.keys() and not set(lab.query("FooterKey")) & set(drawn), "drawn anew"
        assert not footer_keys(app)["pause"].has_class("-disabled")


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
