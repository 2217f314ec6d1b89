"""Snapshot tests pinning the layout of every view and dialog at 80×24 (issue 15),
and of a finished run at 120×40.

The clock is frozen (elapsed time reads 0:00), the experiments run on the CPU with
fixed seeds, and the history's dates are pinned, so the numbers, curves and maps
are the same every time.  Update with ``pytest tests/ui/test_ui_snapshots.py
--snapshot-update`` after looking at the new SVGs (``snapshot_report.html``).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from regtui.core.config import SweepAxis
from regtui.ui.app import RegTuiApp, create_app
from regtui.ui.screens import history as history_screen
from regtui.ui.session import RunState


@pytest.fixture(autouse=True)
def _quick_pilot() -> None:
    """Snapshots keep Textual's own idle wait (20 ms windows, the process's CPU): a screen
    taken after a 5 ms window was once caught before a layout had ended (test_sweep_80x24,
    1 of ~30 runs at -n 2, load 4-5); these tests train nothing, so the slower wait costs
    little.  Overrides tests/ui/conftest.py's."""


SMALL = (80, 24)
Before = Callable[[Pilot[None]], Awaitable[None]]


def frozen_app(experiment: Any) -> RegTuiApp:
    return create_app(experiment, clock=lambda: 0.0)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def settled(pilot: Pilot[None]) -> None:
    """Every visible chart drawn with its latest data, then one more frame."""
    lab = pilot.app.lab  # type: ignore[attr-defined]
    while lab.charts.pending:
        lab.charts.redraw_next(force=True)
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def finished(pilot: Pilot[None]) -> None:
    """``r``, and wait for the run's end."""
    lab = pilot.app.lab  # type: ignore[attr-defined]
    await pilot.press("r")
    await until(pilot, lambda: lab.run_state == RunState.FINISHED, "the run's end")
    await settled(pilot)


def then(*steps: str | Callable[[Pilot[None]], Awaitable[None]]) -> Before:
    """A run to its end, then ``steps``: keys pressed, or coroutines awaited."""
    async def run_before(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, RegTuiApp)
        await finished(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                await step(pilot)
        await settled(pilot)

    return run_before


async def maps_drawn(pilot: Pilot[None]) -> None:
    lab = pilot.app.lab  # type: ignore[attr-defined]
    await until(pilot, lambda: lab.boundary.epoch is not None, "the decision maps")


async def weights_drawn(pilot: Pilot[None]) -> None:
    lab = pilot.app.lab  # type: ignore[attr-defined]
    await until(pilot, lambda: lab.weights.epoch is not None, "the weight histograms")


def on_top(kind: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Wait for the dialog ``kind``; its text fields' cursors then stop blinking, shown (as
    the stored SVGs have them): whether a blinking cursor is on when the screenshot is taken
    is timing, and under load the open and save dialogs' snapshots failed on it."""
    async def wait(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: type(pilot.app.screen).__name__ == kind, kind)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
    return wait


# ---------------------------------------------------------------------------- the lab's views

def test_finished_run_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then())


def test_finished_run_120x40(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=(120, 40), run_before=then())


def test_overlay_log_without_config_120x40(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=(120, 40), run_before=then("v", "l", "c"))


def test_overlay_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("v"))


def test_decision_maps_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("b", maps_drawn))


def test_weights_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("w", weights_drawn))


def test_epoch_cursor_readout_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("i", "comma"))


def test_sweep_80x24(snap_compare: Any, tiny: Any) -> None:
    experiment = replace(tiny, sweep=(SweepAxis("variants.L2.l2", (0.0, 0.01, 0.1)),))

    async def sweep(pilot: Pilot[None]) -> None:
        lab = pilot.app.lab  # type: ignore[attr-defined]
        await pilot.press("k", "r")
        await until(pilot, lambda: lab.run_state == RunState.FINISHED and lab.sweep_view.raw_points, "the sweep")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(experiment), terminal_size=SMALL, run_before=sweep)


# ---------------------------------------------------------------------------- dialogs

def test_help_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("question_mark", on_top("HelpScreen")))


def test_verdict_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("V", on_top("VerdictScreen")))


FIXED_PRESETS = "/regtui-snapshots/presets"
"""The user-presets folder the save and open dialogs name (a test's own temporary one varies)."""


def test_save_preset_80x24(snap_compare: Any, tiny: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGTUI_PRESETS_DIR", FIXED_PRESETS)
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("ctrl+s", on_top("SavePresetScreen")))


def _sync(source: Path, copy: Path) -> None:
    """``copy`` holds exactly ``source``'s presets.  Other checkouts may run this test at the
    same moment on the same fixed folder: each file is replaced whole (a reader sees the old
    or the new one), and the folder itself is never removed."""
    copy.mkdir(parents=True, exist_ok=True)
    wanted = {preset.name: preset for preset in source.glob("*.toml")}
    for name, preset in wanted.items():
        partial = copy / f".{name}.{os.getpid()}"
        shutil.copyfile(preset, partial)
        os.replace(partial, copy / name)
    for stale in copy.glob("*.toml"):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)


def test_open_preset_80x24(snap_compare: Any, tiny: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog shows each preset's path: the bundled ones are read from a copy at a
    fixed place, since a checkout's own folder differs from one machine to the next."""
    from regtui.core import presets

    monkeypatch.setenv("REGTUI_PRESETS_DIR", FIXED_PRESETS)
    bundled = Path("/tmp/regtui-snapshots/presets")  # not $TMPDIR: the same path everywhere
    _sync(presets.bundled_dir(), bundled)
    monkeypatch.setattr(presets, "bundled_dir", lambda: bundled)
    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=then("ctrl+o", on_top("OpenPresetScreen")))


def test_history_80x24(snap_compare: Any, tiny: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_screen, "when", lambda started, fmt="": "12-01 21:00")

    async def recorded(pilot: Pilot[None]) -> None:
        lab = pilot.app.lab  # type: ignore[attr-defined]
        await until(pilot, lambda: lab.session.history_id is not None, "the run in the history")

    assert snap_compare(frozen_app(tiny), terminal_size=SMALL,
                        run_before=then(recorded, "h", on_top("HistoryScreen")))


def test_tour_card_80x24(snap_compare: Any, tiny: Any) -> None:
    async def tour(pilot: Pilot[None]) -> None:
        lab = pilot.app.lab  # type: ignore[attr-defined]
        await pilot.press("a")
        await until(pilot, lambda: lab.run_state == RunState.FINISHED, "the tour step's run", timeout=120)
        await settled(pilot)

    assert snap_compare(frozen_app(tiny), terminal_size=SMALL, run_before=tour)
