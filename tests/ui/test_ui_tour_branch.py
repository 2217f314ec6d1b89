"""The lab's tour (a; n / p / r) and its branch key (f), driven with Pilot at 80×24."""

from __future__ import annotations

from typing import Any

from regtui.core import presets, tour
from regtui.core.store import RunStore
from regtui.ui.app import create_app
from regtui.ui.widgets.config.fields import ConfigInput

SIZE = (80, 24)
TINY = ("train.epochs=3", "data.n_val=40", "model.hidden=[8]")


def card(app: Any) -> str:
    return app.lab.tour_panel.card_text()


def variant_input(app: Any, index: int, field: str) -> ConfigInput:
    return app.lab.panel.editors[index].inputs[field]


async def test_the_tour_walks_its_steps_with_n_p_and_r_and_checks_each_run(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny, tour_step=1, tour_overrides=TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.lab.in_tour and app.lab.run_state == "finished" and "Check:" in card(app), 60)
        assert app.lab.tour_panel.display and not app.lab.panel.display
        text = card(app)
        assert text.startswith("Tour 1/6 · A network overfits") and tour.STEPS[0].text in text
        assert app.lab.tour_panel.finding == tour.STEPS[0].check(app.lab.session.history)  # the check read this run
        assert app.lab.panel.base.name == "tour-overfit" and app.lab.session.history.experiment.train.epochs == 3
        await pilot.press("n")
        await wait_for(pilot, lambda: app.lab.tour_panel.index == 1 and app.lab.run_state == "finished" and "Check:" in card(app), 60)
        assert card(app).startswith("Tour 2/6 · L2") and app.lab.panel.base.name == "tour-l2"
        assert [v.name for v in app.lab.session.history.experiment.variants] == [v.name for v in presets.load("tour-l2").variants]
        assert "λ | ‖w‖" in card(app)  # the check's table
        first = app.lab.session.control.run_id
        await pilot.press("r")  # re-run the step
        await wait_for(pilot, lambda: app.lab.session.control.run_id > first and app.lab.run_state == "finished"
                       and "Check:" in card(app), 60)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.lab.tour_panel.index == 0 and app.lab.run_state == "finished", 60)
        assert card(app).startswith("Tour 1/6")
        run = app.lab.session.control.run_id
        await pilot.press("p")  # the first step stays, its run is not started again
        assert app.lab.tour_panel.index == 0 and app.lab.session.control.run_id == run
        await pilot.press("a")  # leave: the config panel comes back
        assert not app.lab.in_tour and app.lab.panel.display and not app.lab.tour_panel.display
        await pilot.press("n")  # n does nothing outside the tour
        assert app.lab.tour_panel.index is None


async def test_the_sweep_step_runs_the_sweep_and_checks_its_points(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny, tour_step=6, tour_overrides=TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.lab.run_state == "finished" and "Check:" in card(app), 300)
        assert app.lab.sweep_shown and len(app.lab.sweep_view.raw_points) == 8
        assert app.lab.tour_panel.finding == tour.STEPS[5].check(app.lab.sweep_view.raw_points)
        assert "n_train" in card(app)
        run = app.lab.session.control.run_id
        await pilot.press("n")  # the last step stays, its sweep is not started again
        assert app.lab.tour_panel.index == 5 and app.lab.session.control.run_id == run and app.lab.run_state == "finished"


async def test_a_key_in_the_lab_opens_the_tour(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny, tour_overrides=TINY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert app.lab.in_tour and app.lab.tour_panel.index == 0 and card(app).startswith("Tour 1/6")
        await wait_for(pilot, lambda: app.lab.run_state == "finished" and "Check:" in card(app), 60)
        await pilot.press("x")  # nothing running: nothing happens
        assert "Check:" in card(app)


async def test_f_branches_the_running_comparison_and_the_history_records_the_child(long_run: Any, wait_for: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await run_epochs(pilot, 3)
        parent_history = app.lab.session.history
        variant_input(app, 0, "dropout").value = "0.5"
        variant_input(app, 1, "l2").value = "0.01"
        await pilot.pause()
        await pilot.press("escape", "f")
        await wait_for(pilot, lambda: app.lab.session.parent_line is not None)
        child = app.lab.session.history
        assert child is not parent_history and app.lab.session.parent_line is parent_history
        at = app.lab.charts.branch_epoch
        schedule = child.experiment.variants[0].schedule
        assert schedule[0].epoch == at + 1 and schedule[0].dropout == 0.5
        assert child.experiment.variants[1].schedule[0].l2 == 0.01
        assert app.lab.charts.ghost is parent_history  # the parent's continuation is the ghost
        await wait_for(pilot, lambda: child.epoch >= at + 3 and parent_history.epoch >= at + 3)
        shared = [m.records()[: at + 1] for m in child.members]
        assert shared == [m.records()[: at + 1] for m in parent_history.members]  # the curves up to the branch
        assert child.members[0].records()[at + 2] != parent_history.members[0].records()[at + 2]
        assert "branched" in app.lab.status.note.plain
        shown_id = app.lab.session.history_id  # what e names the run on screen
        await pilot.press("x")
        await wait_for(pilot, lambda: app.lab.run_state == "stopped")
    with RunStore.open() as store:
        runs = store.list_runs()
        assert len(runs) == 2
        child_id, parent_id = runs[0].id, runs[1].id
        assert shown_id == child_id, "the run on screen is the branch: its record, not the parent's"
        branch = store.branch_of(child_id)
        assert branch.parent_id == parent_id and branch.epoch == at + 1
        assert branch.changes["variants"] == {"baseline": {"dropout": 0.5}, "L2": {"l2": 0.01}}
        assert store.load_run(parent_id).experiment == long_run
        assert store.load_run(child_id).experiment == child.experiment


async def test_r_after_a_branch_brings_back_the_past_run_picked_as_the_ghost(
        long_run: Any, ui_experiment: Any, record_run: Any, wait_for: Any, run_epochs: Any) -> None:
    """A branch draws its parent as the ghost; the next run drops that line and draws the
    past run picked from the history again (it kept the parent, labelled "ghost #1")."""
    record_run(ui_experiment(epochs=4))
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen is not app.lab and app.screen.runs)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.lab.session.ghost is not None)
        past = app.lab.session.ghost.history
        assert app.lab.charts.ghost is past
        await run_epochs(pilot, 2)
        variant_input(app, 0, "dropout").value = "0.5"
        await pilot.pause()
        await pilot.press("escape", "f")
        await wait_for(pilot, lambda: app.lab.session.parent_line is not None)
        assert app.lab.charts.ghost is app.lab.session.parent_line
        await run_epochs(pilot, 1)
        assert app.lab.charts.ghost is past and app.lab.charts.ghost_label == "ghost #1"
        await pilot.press("x")


async def test_f_refuses_what_a_branch_cannot_change(long_run: Any, run_epochs: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")  # nothing running
        assert app.lab.session.control is None
        await run_epochs(pilot, 1)
        app.query_one("#f-model-hidden", ConfigInput).value = "32"
        await pilot.pause()
        await pilot.press("escape", "f")
        await pilot.pause(0.3)
        assert app.lab.session.control.branch is None and app.lab.session.parent_line is None
        assert app.lab.run_state == "running"
        await pilot.press("x")
