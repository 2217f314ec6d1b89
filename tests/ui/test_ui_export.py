"""Pilot tests of ``e``: the run on screen (live, or a past one opened from the
history) is written as JSON, CSV, an SVG screenshot and a Markdown report into
a folder under ``$REGTUI_HOME/exports`` that the notification names."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from regtui.core.ranking import describe
from regtui.core.verdict import verdict
from regtui.ui.app import create_app
from regtui.ui.export import FILES
from regtui.ui.screens.history import HistoryScreen, RunViewScreen

SIZE = (80, 24)


async def test_e_exports_the_four_files(tiny: Any, wait_for: Any, notifications: list[str], run_to_end: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await wait_for(pilot, lambda: app.lab.session.history_id is not None)
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)  # written in a thread of its own
        folder = app.last_export
        assert folder == Path(os.environ["REGTUI_HOME"]) / "exports" / f"run-{app.lab.session.history_id}"
        assert any(str(folder) in n for n in notifications)
        expected_verdict = verdict(app.lab.session.history)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    doc = json.loads((folder / "run.json").read_text())
    assert [v["name"] for v in doc["variants"]] == ["baseline", "L2", "Dropout", "L2+Dropout"]
    assert len(doc["variants"][0]["history"]) == 21 and doc["experiment"]["name"] == "tiny-ui"
    assert doc["data"] == {"task": "classification", "n_train": 30, "n_val": 50, "n_features": 2,
                           "n_classes": 2, "classes": None}
    table = list(csv.DictReader(io.StringIO((folder / "run.csv").read_text())))
    assert len(table) == 4 * 21 and table[0]["variant"] == "baseline"
    svg = (folder / "dashboard.svg").read_text()
    assert svg.lstrip().startswith("<svg") and "baseline" in svg
    report = (folder / "report.md").read_text()
    assert "## Verdict" in report and expected_verdict in report
    assert "| L2+Dropout |" in report or "**L2+Dropout**" in report
    assert "validation loss" in report and "┤" in report and "\x1b" not in report  # a text chart, no colour codes
    assert 'dataset = "moons"' in report


async def test_e_exports_the_ranking_the_lab_shows(ui_experiment: Any, wait_for: Any, run_to_end: Any) -> None:
    """After R (rank by the best epoch) the report's ★, verdict and JSON follow the lab's
    ranking, not the preset's ``train.rank_by``, and the report says which it used."""
    app = create_app(ui_experiment(epochs=12, lr=0.05))
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await pilot.press("R")
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        folder, history = app.last_export, app.lab.session.history
    assert history.experiment.train.rank_by == "end"
    doc = json.loads((folder / "run.json").read_text())
    assert doc["ranking"]["by"] == "best" and doc == json.loads(json.dumps(history.to_json("best") | {"data": doc["data"]}))
    report = (folder / "report.md").read_text()
    assert verdict(history, "best") in report and verdict(history, "end") not in report
    assert f"Ranked by best val: {describe('best')}" in report
    assert f"| **{history.winner('best')}** ★ |" in report
    header = next(line for line in report.splitlines() if line.startswith("| variant |"))
    assert "| best val |" in header, "the ranked column is the lab's statistic"


async def test_e_on_a_past_run_exports_that_run(tiny: Any, ui_experiment: Any, wait_for: Any, run_to_end: Any) -> None:
    app = create_app(ui_experiment(epochs=4))
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await wait_for(pilot, lambda: app.lab.session.control is not None and app.lab.session.control.done.is_set())
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunViewScreen))
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        folder = app.last_export
    assert folder is not None and folder.name == "run-1"
    assert "run #1 from" in (folder / "report.md").read_text()
    assert "read-only" in (folder / "dashboard.svg").read_text()


async def test_e_before_any_run_says_so(tiny: Any, notifications: list[str]) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert app.last_export is None
        assert any("nothing to export" in n for n in notifications)
