"""Every action without a key a browser keeps (``regtui serve``): S and O beside
ctrl+s and ctrl+o, the dialogs' ctrl keys in the command palette of their
dialog, the help saying what works where, and ``e`` also downloading the
export as one zip, but only when the lab runs in a browser."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from regtui.ui.app import create_app
from regtui.ui.export import FILES
from regtui.ui.screens.confirm import ConfirmScreen
from regtui.ui.screens.help import HelpScreen
from regtui.ui.screens.history import HistoryScreen
from regtui.ui.screens.preset_open import OpenPresetScreen
from regtui.ui.screens.preset_save import SavePresetScreen

SIZE = (80, 24)
BROWSER_KEPT = {"ctrl+w", "ctrl+t", "ctrl+n", *(f"ctrl+{n}" for n in range(1, 10)), *(f"f{n}" for n in range(1, 13))}


async def test_shift_s_and_shift_o_save_and_open_presets(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        assert isinstance(app.screen, SavePresetScreen)
        await pilot.press("escape")
        await pilot.press("O")
        assert isinstance(app.screen, OpenPresetScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, OpenPresetScreen)


async def test_in_a_text_field_s_and_o_are_letters(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query(Input).first()
        field.focus()
        await pilot.pause()
        before = field.value
        await pilot.press("end", "S", "O")
        assert field.value == before + "SO"
        assert not isinstance(app.screen, (SavePresetScreen, OpenPresetScreen))


async def test_no_lab_key_is_one_a_browser_always_keeps(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE):
        keys = set(app.screen.active_bindings)  # the lab screen's and the App's
    assert not keys & BROWSER_KEPT


async def _palette_run(pilot: Any, query: str) -> None:
    """ctrl+p, type ``query``, Enter: as a person picks a palette entry."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    pilot.app.screen.query_one(Input).value = query  # as if typed: the palette searches for it
    commands = pilot.app.screen.query_one(CommandList)
    for _ in range(200):  # the search runs in the background
        await pilot.pause(0.05)
        if commands.option_count and query in str(commands.get_option_at_index(0).prompt):
            break
    await pilot.press("enter")
    await pilot.pause()


async def test_the_history_dialogs_ctrl_keys_are_in_its_palette(ui_experiment: Any, wait_for: Any) -> None:
    app = create_app(ui_experiment(epochs=2))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await wait_for(pilot, lambda: app.lab.session.history_id is not None)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.runs))
        history = app.screen
        titles = {c.title for c in app.get_system_commands(history)}
        assert {"Ghost this run", "Re-run this run", "Delete this run"} <= titles
        await _palette_run(pilot, "Delete this run")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is history and not history.runs)


async def test_the_preset_pickers_toml_preview_is_in_its_palette(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("O")
        picker = app.screen
        assert isinstance(picker, OpenPresetScreen) and not picker.show_toml
        assert "Delete user preset" in {c.title for c in app.get_system_commands(picker)}
        await _palette_run(pilot, "Preview: summary / TOML")
        assert app.screen is picker and picker.show_toml
        assert "[data]" in str(picker.query_one("#preset-preview").render())


async def test_the_help_says_what_works_in_a_browser(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-text").render())
    assert "In a browser" in shown and "regtui serve" in shown
    assert "S saves" in shown and "O opens" in shown and "palette" in shown and "zip" in shown


async def test_e_downloads_one_zip_in_a_browser_only(ui_experiment: Any, wait_for: Any, monkeypatch: Any, notifications: list[str]) -> None:
    app = create_app(ui_experiment(epochs=2))
    delivered: list[tuple[bytes, dict[str, Any]]] = []
    monkeypatch.setattr(type(app), "deliver_binary",
                        lambda self, file, **kw: delivered.append((file.read(), kw)) or "key")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await wait_for(pilot, lambda: app.lab.session.history_id is not None)
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)  # written in a thread of its own
        assert delivered == []  # a terminal: the files, no download
        first = app.last_export
        monkeypatch.setattr(type(app), "is_web", property(lambda self: True))
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export != first)
        folder = app.last_export
        assert any("your browser downloads" in n for n in notifications)
    ((data, options),) = delivered
    assert options["save_filename"] == f"{folder.name}.zip" and options["mime_type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(f"{folder.name}/{name}" for name in FILES)
        assert archive.read(f"{folder.name}/run.csv") == (folder / "run.csv").read_bytes()
