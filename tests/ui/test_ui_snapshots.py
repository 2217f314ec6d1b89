"""Snapshot tests pinning the layout of a finished, deterministic run.

The clock is frozen (elapsed time reads 0:00) and the tiny experiment runs on
the CPU with fixed seeds, so the numbers and curves are the same every time.
Update with ``pytest tests/ui --snapshot-update`` after checking the SVGs.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from textual.pilot import Pilot

from regtui.ui.app import RegTuiApp, create_app


def finished_app(experiment: Any) -> RegTuiApp:
    return create_app(experiment, clock=lambda: 0.0)


def run_to_the_end(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, RegTuiApp)
        await pilot.press("r")
        deadline = time.monotonic() + 60
        while app.lab.run_state != "finished" and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert app.lab.run_state == "finished"
        if keys:
            await pilot.press(*keys)
        while app.lab.charts.pending:
            app.lab.charts.redraw_next(force=True)
            await pilot.pause(0.05)
        await pilot.pause(0.1)

    return run_before


def test_finished_run_80x24(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(finished_app(tiny), terminal_size=(80, 24), run_before=run_to_the_end())


def test_finished_run_120x40(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(finished_app(tiny), terminal_size=(120, 40), run_before=run_to_the_end())


def test_overlay_log_without_config_120x40(snap_compare: Any, tiny: Any) -> None:
    assert snap_compare(finished_app(tiny), terminal_size=(120, 40), run_before=run_to_the_end("v", "l", "c"))
