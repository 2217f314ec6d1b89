"""Pilot tests of the run history in the lab: every run is recorded (finished or
stopped), ``h`` lists, filters and opens past runs, a ghost reaches the charts,
re-run loads the config, delete asks first, a store failure never stops a run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from regtui.core.config import DataConfig, Experiment
from regtui.core.store import RunStore
from regtui.ui.app import create_app
from regtui.ui.plotting.colors import color_rgb
from regtui.ui.plotting.ghost import dim
from regtui.ui.screens.confirm import ConfirmScreen
from regtui.ui.screens.history import HistoryScreen, RunViewScreen
from regtui.ui.widgets.loss_charts import LossChart
from regtui.ui.widgets.results_table import ResultsTable

SIZE = (80, 24)


@pytest.fixture
def two_runs(ui_experiment: Any, record_run: Any) -> tuple[Experiment, Experiment]:
    """Two past runs in the history: #1 ``alpha`` (moons, 5 epochs), #2 ``beta`` (circles, 8)."""
    first = replace(ui_experiment(epochs=5), name="alpha")
    second = replace(ui_experiment(epochs=8), name="beta",
                     data=DataConfig(dataset="circles", n_train=30, n_val=40, seed=2))
    record_run(first)
    record_run(second)
    return first, second


def rows(screen: HistoryScreen) -> list[str]:
    return [str(r.id) for r in screen.runs]


async def test_a_lab_run_is_recorded_with_every_epoch(tiny: Any, wait_for: Any, run_to_end: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await wait_for(pilot, lambda: app.lab.session.control is not None and app.lab.session.control.done.is_set())
        history_id = app.lab.session.history_id
    assert history_id is not None
    with RunStore.open() as store:
        (summary,) = store.list_runs()
        assert summary.id == history_id
        assert (summary.source, summary.status, summary.last_epoch) == ("tui", "finished", 20)
        stored = store.load_run(summary.id)
    live = app.lab.session.history  # the history list's ranking is what the lab's table stars
    assert (summary.rank_variant, summary.rank_value) == (live.winner(), live.ranked()[0].score.value)
    assert stored.experiment == tiny
    for live, kept in zip(app.lab.session.history.variants, stored.history.variants):
        assert len(kept) == 21  # epoch 0..20
        assert list(kept.series("val_loss")) == list(live.series("val_loss"))
        assert kept.status == "finished"


async def test_a_run_stopped_with_x_is_recorded_as_stopped(long_run: Any, wait_for: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 3)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.lab.run_state == "stopped")
        assert app.lab.session.control is not None and app.lab.session.control.done.wait(5)
        seen = app.lab.session.history.epoch
    with RunStore.open() as store:
        (summary,) = store.list_runs()
        assert summary.status == "stopped"
        assert summary.last_epoch >= seen >= 3  # every epoch the screen showed is in the store
        stored = store.load_run(summary.id)
    assert {h.status for h in stored.history.variants} == {"stopped"}
    assert len(stored.history.variants[0]) == summary.last_epoch + 1


async def test_q_during_a_run_records_it_as_stopped(long_run: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 2)
        await pilot.press("q")
    with RunStore.open() as store:
        (summary,) = store.list_runs()
    assert summary.status == "stopped" and summary.last_epoch >= 2


async def test_history_lists_filters_and_opens_a_run(ui_experiment: Any, two_runs: Any, wait_for: Any) -> None:
    first, second = two_runs
    app = create_app(ui_experiment())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        screen = app.screen
        assert rows(screen) == ["2", "1"]  # newest first
        listed = screen.query_one("#history-list")
        assert "beta" in str(listed.get_row("2")) and "circles" in str(listed.get_row("2"))
        await pilot.press(*"moons")
        await wait_for(pilot, lambda: rows(screen) == ["1"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunViewScreen))
        view = app.screen
        title = str(view.query_one("#run-view-title").render())
        assert "run #1 from " in title and "read-only" in title
        table = view.query_one(ResultsTable)
        assert table.names == ("baseline", "L2", "Dropout", "L2+Dropout")
        assert str(table.get_cell("0", "epoch")) == "5"
        charts = list(view.query("#per-variant LossChart").results(LossChart))
        await wait_for(pilot, lambda: all(c.draw_count for c in charts))
        assert [s.x.size for s in charts[0].series] == [6, 6]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen))


async def test_a_past_run_is_ranked_and_exported_as_the_lab_ranks(ui_experiment: Any, record_run: Any,
                                                                   wait_for: Any) -> None:
    """R ranks by the best epoch: a past run (recorded ranked by its preset's end val) opened
    from the history shows the same ranking, and e on it exports that ranking."""
    import json

    record_run(ui_experiment(epochs=12, lr=0.05))
    app = create_app(ui_experiment())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunViewScreen))
        view = app.screen
        history = view.stored.history
        assert history.experiment.train.rank_by == "end"
        table = view.query_one(ResultsTable)
        assert table.ranking == "best" and table.column_header("best") == "★best@ep"
        assert table.best == history.winner("best")
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        folder = app.last_export
    assert json.loads((folder / "run.json").read_text())["ranking"]["by"] == "best"
    assert "Ranked by best val" in (folder / "report.md").read_text()


async def test_a_ghost_reaches_the_charts_and_g_clears_it(ui_experiment: Any, two_runs: Any, wait_for: Any, run_to_end: Any) -> None:
    app = create_app(ui_experiment(epochs=3))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("down", "ctrl+g")  # run #1 (alpha, 5 epochs)
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        assert app.lab.session.ghost is not None and app.lab.session.ghost.summary.id == 1
        charts = list(app.query("#per-variant LossChart").results(LossChart))
        ghost = charts[1].series[0]  # under the live curves, in the variant's colour dimmed
        assert ghost.color == dim(color_rgb(1)) and ghost.x.size == 6
        await run_to_end(pilot)
        await wait_for(pilot, lambda: len(charts[1].series) == 3 and charts[1].series[1].x.size == 4)
        overlay = app.query_one("#overlay-val", LossChart)
        assert sum(s.color == dim(color_rgb(i)) for s in overlay.series for i in range(4)) == 4
        assert "ghost #1" in str(app.query_one("#chart-legend").render())
        await pilot.press("g")
        assert app.lab.session.ghost is None
        assert len(charts[1].series) == 2


async def test_rerun_loads_the_past_config(ui_experiment: Any, two_runs: Any, wait_for: Any) -> None:
    first, second = two_runs
    app = create_app(ui_experiment(epochs=50))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("ctrl+r")  # the newest: beta on circles
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        assert app.lab.panel.experiment == second
        assert app.lab.session.experiment == second
        assert app.lab.panel.fields["data.dataset"].value == "circles"


async def test_a_lab_run_on_a_relative_csv_path_re_runs_from_the_history_in_another_folder(
        ui_experiment: Any, wait_for: Any, tmp_path: Path, monkeypatch: Any, run_to_end: Any) -> None:
    """The lab's worker records through ``core.run.Run``, which anchors a preset's
    relative data path before it is stored: the run trains again from anywhere."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(40)))
    preset = replace(ui_experiment(epochs=3), source_dir=str(project),
                     data=DataConfig(dataset="csv", path="d.csv", n_train=0, n_val=0))
    monkeypatch.chdir(project)
    app = create_app(preset)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        with RunStore.open() as store:
            (summary,) = store.list_runs()
            assert summary.source == "tui"
            assert store.load_run(summary.id).experiment.data.path == str(project / "d.csv")
        monkeypatch.chdir(elsewhere)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.lab.run_state in ("finished", "failed")
                       and app.lab.session.history_id != summary.id)
        assert app.lab.run_state == "finished", app.lab.failure
    with RunStore.open() as store:
        assert [r.status for r in store.list_runs()] == ["finished", "finished"]


async def test_delete_asks_first(ui_experiment: Any, two_runs: Any, wait_for: Any) -> None:
    app = create_app(ui_experiment())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is history)
        assert rows(history) == ["2", "1"]
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: rows(history) == ["1"])
    with RunStore.open() as store:
        assert [r.id for r in store.list_runs()] == [1]


async def test_a_broken_store_never_stops_a_run(tiny: Any, tmp_path: Path,
                                                monkeypatch: Any, notifications: list[str], run_to_end: Any) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the history folder should be")
    monkeypatch.setenv("REGTUI_HOME", str(blocker))
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        notes = list(notifications)
        assert sum("not recorded" in n for n in notes) == 1
        assert app.lab.session.history_id is None
