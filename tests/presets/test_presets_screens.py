"""The save and open dialogs, driven with Pilot at 80×24, keyboard only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static

from regtui.core import presets
from regtui.core.config import Experiment
from regtui.ui.screens.confirm import ConfirmScreen
from regtui.ui.screens.preset_open import OpenPresetScreen
from regtui.ui.screens.preset_save import SavePresetScreen

pytestmark = pytest.mark.usefixtures("quick_pilot_idle")  # tests/conftest.py

SIZE = (80, 24)


class Harness(App[None]):
    """A bare app that pushes one screen and records what it dismisses with."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.dialog = screen
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def text_of(widget: Static) -> str:
    return str(widget.render())


def assert_fits(screen: Screen[Any], *selectors: str) -> None:
    """Each widget is visible and lies wholly inside the 80×24 terminal."""
    for selector in selectors:
        region = screen.query_one(selector).region
        assert region.width > 0 and region.height > 0, selector
        assert region.x >= 0 and region.y >= 0 and region.right <= SIZE[0] and region.bottom <= SIZE[1], (selector, region)


# --------------------------------------------------------------------------- save

async def test_save_proposes_a_copy_name_for_a_bundled_preset_and_writes(user_dir: Path) -> None:
    exp = presets.load("moons-overfit")
    app = Harness(SavePresetScreen(exp))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SavePresetScreen)
        assert_fits(screen, "#save-dialog", "#preset-name", "#preset-name-hint", "#preset-description", "#save-button", "#cancel-button")
        name = screen.query_one("#preset-name", Input)
        assert name.has_focus and name.value == "moons-overfit-copy"
        await pilot.press("tab")
        assert screen.query_one("#preset-description", Input).has_focus
        await pilot.press("ctrl+u", *"mine")
        assert screen.query_one("#preset-description", Input).value == "mine"
        screen.query_one("#preset-description", Input).value += " — ünïcødé ✓"  # Pilot types ASCII keys only
        await pilot.press("enter")
        await pilot.pause()
    path = user_dir / "moons-overfit-copy.toml"
    assert app.results == [path]
    assert presets.load_file(path) == replace(exp, name="moons-overfit-copy", description="mine — ünïcødé ✓")
    assert presets.load("moons-overfit") == exp  # the bundled one is untouched


async def test_save_over_a_bundled_name_makes_a_shadowing_user_preset(fake_bundled: Path, user_dir: Path) -> None:
    exp = presets.load("spirals")
    before = (fake_bundled / "spirals.toml").read_bytes()
    app = Harness(SavePresetScreen(exp))
    async with app.run_test(size=SIZE) as pilot:
        name = app.screen.query_one("#preset-name", Input)
        name.value = "spirals"
        await pilot.pause()
        assert "shadows the bundled spirals" in text_of(app.screen.query_one("#preset-name-hint", Static))
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [user_dir / "spirals.toml"]
    assert (fake_bundled / "spirals.toml").read_bytes() == before


@pytest.mark.parametrize("bad", ["../evil", ".hidden", "a/b", "has space", "", "a.toml"])
async def test_save_shows_why_a_name_is_invalid_and_does_not_save(bad: str, user_dir: Path) -> None:
    app = Harness(SavePresetScreen(presets.load("spirals")))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#preset-name", Input).value = bad
        await pilot.pause()
        hint = screen.query_one("#preset-name-hint", Static)
        assert hint.has_class("-error")
        assert ("invalid preset name" if bad else "required") in text_of(hint)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#preset-name", Input).has_focus
    assert app.results == []
    assert not user_dir.exists()


async def test_save_over_a_user_preset_asks_first(user_dir: Path) -> None:
    presets.save_preset(presets.load("spirals"), "mine")
    before = (user_dir / "mine.toml").read_bytes()
    exp = replace(presets.load("article"), name="mine")
    app = Harness(SavePresetScreen(exp))
    async with app.run_test(size=SIZE) as pilot:
        save_screen = app.screen
        assert save_screen.query_one("#preset-name", Input).value == "mine"
        assert "replaces your user preset mine" in text_of(save_screen.query_one("#preset-name-hint", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert_fits(app.screen, "#confirm-dialog", "#confirm-yes", "#confirm-no")
        await pilot.press("enter")  # "No" has the focus: Enter declines
        await pilot.pause()
        assert app.screen is save_screen and app.results == []
        assert (user_dir / "mine.toml").read_bytes() == before
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
    assert app.results == [user_dir / "mine.toml"]
    assert presets.load("mine") == exp


async def test_save_over_a_broken_user_preset_says_it_is_broken_and_what_is_lost(user_dir: Path) -> None:
    user_dir.mkdir(parents=True)
    (user_dir / "mine.toml").write_text("# my notes, hand-edited\n[train]\nepochz = 5\n")
    before = (user_dir / "mine.toml").read_bytes()
    exp = replace(presets.load("article"), name="mine")
    app = Harness(SavePresetScreen(exp))
    async with app.run_test(size=SIZE) as pilot:
        save_screen = app.screen
        assert "BROKEN user preset mine" in text_of(save_screen.query_one("#preset-name-hint", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text_of(app.screen.query_one("#confirm-question", Static))
        assert "is broken and does not load" in question and "train.epochz: unknown key" in question
        assert f"discards that file ({len(before)} bytes" in question
        assert_fits(app.screen, "#confirm-dialog", "#confirm-yes", "#confirm-no")
        await pilot.press("enter")  # No: nothing is lost
        await pilot.pause()
        assert (user_dir / "mine.toml").read_bytes() == before
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert presets.load("mine") == exp


async def test_escape_cancels_save(user_dir: Path) -> None:
    app = Harness(SavePresetScreen(presets.load("spirals")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]
    assert not user_dir.exists()


async def test_save_shows_a_write_error_at_the_dialog(fake_bundled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(presets.PRESETS_ENV, str(fake_bundled))
    app = Harness(SavePresetScreen(presets.load("spirals")))
    async with app.run_test(size=SIZE) as pilot:
        hint = app.screen.query_one("#preset-name-hint", Static)
        assert "read-only" in text_of(hint) and hint.has_class("-error")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)
    assert app.results == []


# --------------------------------------------------------------------------- open

def listed(screen: OpenPresetScreen) -> list[str]:
    option_list = screen.query_one("#preset-list", OptionList)
    return [screen.entries[int(o.id)].name for o in option_list.options]


async def test_open_lists_everything_filters_previews_and_opens(user_dir: Path, broken_files: list[str]) -> None:
    presets.save_preset(replace(presets.load("spirals"), description="my very own"), "mine")
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, OpenPresetScreen)
        assert_fits(screen, "#open-dialog", "#preset-filter", "#preset-list", "#preset-preview-pane", "#open-status")
        names = listed(screen)
        bundled = [p.stem for p in sorted(presets.bundled_dir().glob("*.toml"))]
        assert names == bundled + sorted([*broken_files, "mine"])
        assert screen.query_one("#preset-filter", Input).has_focus
        # the preview follows the highlight
        assert names[0] in text_of(screen.query_one("#preset-preview", Static))
        await pilot.press("down")
        assert screen.highlighted_entry().name == names[1]
        assert "variants" in text_of(screen.query_one("#preset-preview", Static))
        # filter by description, then by name
        await pilot.press(*"VERY OWN")
        assert listed(screen) == ["mine"]
        await pilot.press("ctrl+u", *"d2l")
        assert listed(screen) == ["d2l-weight-decay"]
        preview = text_of(screen.query_one("#preset-preview", Static))
        assert "regression, 20 train / 100 val" in preview and "λ=3" in preview
        await pilot.press("ctrl+t")
        assert "[train]" in text_of(screen.query_one("#preset-preview", Static))
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [presets.load("d2l-weight-decay")]


async def test_open_from_the_list_with_enter(user_dir: Path) -> None:
    presets.save_preset(presets.load("article"), "spirals")  # a user preset shadowing the bundled one
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press(*"spirals")
        assert [screen.entries[int(o.id)].status for o in screen.query_one("#preset-list", OptionList).options] == [
            "bundled, shadowed by user", "user, shadows bundled"]
        assert "loaded instead" in text_of(screen.query_one("#preset-preview", Static))
        await pilot.press("tab")
        assert screen.query_one("#preset-list", OptionList).has_focus
        await pilot.press("down", "enter")
        await pilot.pause()
    opened = app.results[0]
    assert isinstance(opened, Experiment)
    assert opened == replace(presets.load("article"), name="spirals")


async def test_a_broken_preset_is_shown_but_not_opened(user_dir: Path, broken_files: list[str]) -> None:
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press(*"unknown-key")
        assert listed(screen) == ["unknown-key"]
        assert "train.epochz: unknown key" in text_of(screen.query_one("#preset-preview", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        status = screen.query_one("#open-status", Static)
        assert "unknown-key is broken and cannot be opened" in text_of(status) and status.has_class("-error")
    assert app.results == []


async def test_delete_a_user_preset_after_confirmation(user_dir: Path) -> None:
    presets.save_preset(presets.load("spirals"), "doomed")
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press(*"doomed")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and (user_dir / "doomed.toml").exists()
        assert "not deleted" in text_of(screen.query_one("#open-status", Static))
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen
        assert not (user_dir / "doomed.toml").exists()
        assert listed(screen) == []
        assert "deleted" in text_of(screen.query_one("#open-status", Static))
    assert app.results == []


async def test_bundled_presets_cannot_be_deleted(user_dir: Path) -> None:
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press(*"spirals")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert app.screen is screen  # no confirmation: nothing to confirm
        assert "bundled presets cannot be deleted" in text_of(screen.query_one("#open-status", Static))
        await pilot.press("tab", "delete")  # the Delete key in the list does the same
        await pilot.pause()
        assert app.screen is screen
    assert (presets.bundled_dir() / "spirals.toml").exists()


async def test_escape_cancels_open() -> None:
    app = Harness(OpenPresetScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"no such thing")
        assert listed(app.screen) == []
        assert "No preset matches" in text_of(app.screen.query_one("#preset-preview", Static))
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


# --------------------------------------------------------------------------- in the lab

async def test_the_lab_opens_and_saves_presets_through_its_keys(user_dir: Path) -> None:
    """The real app (same factory as the CLI): ctrl+o opens the picker, ctrl+s the save dialog, at 80×24."""
    from regtui.ui.app import create_app

    app = create_app(presets.load("moons-overfit"), presets_dir=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenPresetScreen)
        assert_fits(app.screen, "#open-dialog", "#preset-filter", "#preset-list", "#preset-preview-pane", "#open-status")
        await pilot.press(*"d2l", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, OpenPresetScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)
        assert_fits(app.screen, "#save-dialog", "#preset-name", "#preset-name-hint", "#preset-description",
                    "#save-button", "#cancel-button")
        assert app.screen.query_one("#preset-name", Input).value == "d2l-weight-decay-copy"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SavePresetScreen)
    saved = presets.load("d2l-weight-decay-copy")
    assert saved == replace(presets.load("d2l-weight-decay"), name="d2l-weight-decay-copy")
