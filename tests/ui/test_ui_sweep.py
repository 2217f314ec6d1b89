"""Pilot tests of the sweep: the config panel's Sweep section (validated at its
fields, loaded from and saved to presets), ``k`` + ``r`` running a sweep to the
end with the best point marked, a two-knob heat map."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import DataTable, Static

from regtui.core import presets
from regtui.core.config import SweepAxis
from regtui.core.schema import experiment_to_dict
from regtui.core.sweep import best_point
from regtui.ui.app import create_app
from regtui.ui.widgets.config.sweep_editor import parse_values
from regtui.ui.widgets.sweep_chart import SweepChart, cell_value, log_axis, positions

SIZE = (80, 24)

SWEEP_PRESET = """\
name = "tiny-sweep"

[data]
dataset = "moons"
n_train = 30
n_val = 50
seed = 1

[model]
hidden = [16]

[train]
lr = 0.01
batch_size = 30
epochs = 4
seeds = 2
device = "cpu"

[[variants]]
name = "baseline"

[[variants]]
name = "Dropout"
dropout = 0.5

[[sweep]]
key = "variants.Dropout.dropout"
values = [0.0, 0.25, 0.5]

[[sweep]]
key = "data.n_train"
values = [20, 30]
"""


def sweep_fields(app: Any) -> Any:
    return app.lab.panel.sweep_editor


def test_parse_values_and_log_positions() -> None:
    assert parse_values("0, 1e-4,1e-3 0.01") == (0.0, 1e-4, 1e-3, 0.01)
    assert log_axis("variants.L2.l2", (0, 1e-4, 1e-2)) and not log_axis("variants.L2.dropout", (0.1, 0.5))
    x = positions((0.0, 1e-4, 1e-3, 1e-2), log=True)
    assert list(x[1:]) == [-4.0, -3.0, -2.0] and x[0] == -5.0  # 0 sits one step left of the ladder


async def test_sweep_values_are_validated_at_the_field(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        editor = sweep_fields(app)
        assert app.lab.panel.experiment is not None and app.lab.panel.experiment.sweep == ()
        editor.variant.value = "Dropout"
        editor.knobs[0].value = "dropout"
        values = editor.values[0]
        await pilot.pause()
        assert values.has_class("-invalid") and "needs values" in str(editor.labels[values].render())
        values.value = "0.1, abc"
        await pilot.pause()
        assert values.has_class("-invalid")
        assert "must be a number, got 'abc'" in str(editor.labels[values].render())
        assert app.lab.panel.experiment is None
        values.value = "0.2, 1"
        await pilot.pause()
        assert "must be a probability in [0, 1), got 1.0" in str(editor.labels[values].render())
        assert any("sweep values 1" in e for e in app.lab.panel.error_messages())
        await pilot.press("k", "r")
        assert app.lab.run_state == "idle" and app.lab.session.control is None, "an invalid sweep does not run"
        assert app.focused is values, "r takes the user to the invalid field"
        values.value = "0.2, 0.5"
        editor.knobs[1].value = "dropout"  # the same knob twice
        editor.values[1].value = "0.1"
        await pilot.pause()
        assert editor.knobs[1].has_class("-invalid") and "twice" in str(editor.labels[editor.knobs[1]].render())
        editor.knobs[1].value = ""  # a knob of "none" ignores its values
        await pilot.pause()
        assert not values.has_class("-invalid") and not editor.knobs[1].has_class("-invalid")
        assert app.lab.panel.experiment.sweep == (SweepAxis("variants.Dropout.dropout", (0.2, 0.5)),)
        app.lab.panel.editors[2].inputs["name"].value = "Drop"  # renaming keeps the knob on the variant
        await pilot.pause()
        assert app.lab.panel.experiment.sweep == (SweepAxis("variants.Drop.dropout", (0.2, 0.5)),)


async def test_l2_sweep_runs_to_the_end_and_marks_the_best(ui_experiment: Any, wait_for: Any) -> None:
    exp = ui_experiment(epochs=15, seeds=2)
    exp = replace(exp, sweep=(SweepAxis("variants.L2.l2", (0.0, 1e-3, 0.3, 3.0)),))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")
        assert app.lab.sweep_shown and app.lab.sweep_view.display
        assert not app.lab.table.display and not app.lab.charts.display, "the sweep view takes their place"
        header = str(app.query_one("#sweep-header", Static).render())
        assert "λ of L2" in header and "r runs it" in header
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        view = app.lab.sweep_view
        assert app.lab.session.history is None, "a sweep does not touch the plain run's history"
        assert [p.knobs for p in view.points] == [{"variants.L2.l2": v} for v in (0.0, 1e-3, 0.3, 3.0)]
        means = [p.score_mean for p in view.points]
        best = view.best
        assert best is not None and best.score_mean == min(means)
        assert all(p.score_std is not None for p in view.points), "two seeds give a std"
        chart = app.query_one(SweepChart)
        assert chart.draw_count >= 1 and chart.points == tuple(view.points)
        assert log_axis(chart.knob, chart.values)
        table = app.query_one("#sweep-points", DataTable)
        marked = [r for r in range(table.row_count) if str(table.get_row_at(r)[0]).startswith("★")]
        assert marked == [means.index(min(means))]
        best_line = str(app.query_one("#sweep-best", Static).render())
        assert best_line.startswith("★") and f"λ = {best.knobs['variants.L2.l2']:g}" in best_line
        assert "finished" in str(app.lab.status.text()) and "epoch 15/15" in str(app.lab.status.text())
        # the core agrees on the best point
        from regtui.core.sweep import run_sweep

        core_points = [p for item in run_sweep(exp) if isinstance(item, list) for p in item]
        assert best_point(core_points).knobs == best.knobs


async def test_preset_with_sweep_loads_runs_and_saves(tmp_path: Path, tiny: Any, wait_for: Any) -> None:
    path = tmp_path / "tiny-sweep.toml"
    path.write_text(SWEEP_PRESET, encoding="utf-8")
    loaded = presets.load(str(path))
    app = create_app(tiny)
    async with app.run_test(size=(120, 40)) as pilot:
        app.lab.load_experiment(loaded)  # what ctrl+o hands the app
        await pilot.pause()
        editor = sweep_fields(app)
        assert editor.variant.value == "Dropout"
        assert [k.value for k in editor.knobs] == ["dropout", "data.n_train"]
        assert [v.value for v in editor.values] == ["0, 0.25, 0.5", "20, 30"]
        experiment = app.lab.panel.experiment
        assert experiment is not None and experiment.sweep == loaded.sweep and experiment.train.seeds == 2
        saved = experiment_to_dict(experiment)
        assert saved["sweep"] == [{"key": "variants.Dropout.dropout", "values": [0.0, 0.25, 0.5]},
                                  {"key": "data.n_train", "values": [20.0, 30.0]}]
        assert saved["train"]["seeds"] == 2
        await pilot.press("k", "r")  # two knobs: a heat map, filled as each n_train finishes
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        view = app.lab.sweep_view
        assert view.has_class("-grid") and len(view.points) == 6
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.query_one("#sweep-heat", Static).content)
        heat = console.export_text()
        assert heat.count("★") == 1 and "p \\ n train" in heat
        assert all(cell_value(p.score_mean) in heat for p in view.points)
        await pilot.press("k")
        assert not app.lab.sweep_shown and app.lab.charts.display


async def test_the_sweep_section_chooses_where_the_sweep_runs(tmp_path: Path, tiny: Any) -> None:
    """engine.kind and engine.address: validated at their fields, loaded from a preset, saved."""
    from regtui.core.config import EngineConfig

    app = create_app(tiny)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = sweep_fields(app)
        assert editor.engine.value == "in-process" and editor.address.value == ""
        editor.engine.value = "ray"
        editor.address.value = "head-without-port"
        await pilot.pause()
        assert editor.address.has_class("-invalid") and app.lab.panel.experiment is None
        assert "HOST:PORT" in str(editor.labels[editor.address].render())
        assert any(m.startswith("sweep address:") for m in app.lab.panel.error_messages())
        editor.address.value = "head:6379"
        await pilot.pause()
        assert not editor.address.has_class("-invalid")
        assert app.lab.panel.experiment.engine == EngineConfig(kind="ray", address="head:6379")
        assert experiment_to_dict(app.lab.panel.experiment)["engine"]["address"] == "head:6379"
        cluster = replace(tiny, engine=EngineConfig(kind="ray", address="auto", shard_size=4))
        app.lab.load_experiment(cluster)  # an opened preset shows its engine
        await pilot.pause()
        assert (editor.engine.value, editor.address.value) == ("ray", "auto")
        assert app.lab.panel.experiment.engine == cluster.engine  # the keys without a field are kept


async def test_a_lab_sweep_is_recorded_in_the_history_with_its_points(ui_experiment: Any, wait_for: Any) -> None:
    """As ``regtui sweep`` records: each training (here one per n_train) a run of the
    history, its grid points the run's variants, every seed's epochs, the lab's source."""
    from regtui.core.ranking import score
    from regtui.core.store import RunStore

    exp = ui_experiment(epochs=4, seeds=2)
    exp = replace(exp, sweep=(SweepAxis("variants.L2.l2", (0.0, 0.3)), SweepAxis("data.n_train", (20, 30))))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k", "r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await wait_for(pilot, lambda: app.lab.session.control is not None and app.lab.session.control.done.is_set())
        points = {(p.knobs["data.n_train"], p.knobs["variants.L2.l2"]): p for p in app.lab.sweep_view.points}
    assert len(points) == 4
    with RunStore.open() as store:
        runs = sorted(store.list_runs(), key=lambda r: r.id)
        assert [(r.source, r.preset, r.status, r.last_epoch, r.seeds) for r in runs] == [("tui", "tiny-ui", "finished", 4, 2)] * 2
        for run, n_train in zip(runs, (20, 30)):
            assert run.variants == ("l2=0", "l2=0.3") and run.engine == "in-process"
            stored = store.load_run(run.id)
            assert stored.data["n_train"] == n_train
            assert all(len(m) == 5 for m in stored.history.members)  # epoch 0..4 of every seed
            for name, l2 in (("l2=0", 0.0), ("l2=0.3", 0.3)):  # the point the view shows, from the stored epochs
                assert score(stored.history[name], exp.train.rank_by).value == points[(n_train, l2)].score_mean
