"""Pilot tests of "your data" in the config panel: choosing csv / idx / npz shows
the file fields; a missing path, a missing file and a CSV with a text cell are
shown at the field (loaded in a worker thread) and block ``r``; a good file runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from regtui.ui.app import create_app
from regtui.ui.widgets.config.data_fields import DataFileFields

SIZE = (80, 24)


def write_csv(path: Path, bad_cell: bool = False) -> Path:
    rng = np.random.default_rng(0)
    lines = ["x1,x2,label"]
    for i in range(60):
        a, b = rng.normal(size=2)
        lines.append(f"{a:.3f},{'abc' if bad_cell and i == 1 else f'{b:.3f}'},{'yes' if a + b > 0 else 'no'}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def choose(pilot: Any, app: Any, **fields: str) -> None:
    """Set panel fields by config key (``dataset="csv"``, ``path=...``) and let it revalidate."""
    panel = app.lab.panel
    for name, value in fields.items():
        key = f"data.{name}"
        widget = panel.fields.get(key) or panel.file_fields.inputs[key]
        widget.value = value
    await pilot.pause()


def error_at(app: Any, key: str) -> str:
    ff = app.lab.panel.file_fields
    return app.lab.panel.errors.get(ff.inputs[key], "") if key in ff.inputs else app.lab.panel.errors.get(app.lab.panel.fields[key], "")


async def test_choosing_a_file_data_set_shows_its_fields(tiny: Any, wait_for: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        ff = app.lab.panel.query_one(DataFileFields)
        assert not ff.display or not ff.has_class("-file")
        assert ff.region.height == 0
        await choose(pilot, app, dataset="csv")
        assert ff.has_class("-file")
        assert [k for k, row in ff.rows.items() if row.display] == ["data.path", "data.target", "data.task",
                                                                     "data.drop_invalid"]
        assert "needs path" in error_at(app, "data.path")
        assert app.lab.panel.experiment is None
        await choose(pilot, app, dataset="idx")
        assert [k for k, row in ff.rows.items() if row.display] == ["data.path"]
        await choose(pilot, app, dataset="moons")
        assert not ff.has_class("-file") and app.lab.panel.experiment is not None


async def test_a_missing_file_is_shown_at_the_path_and_blocks_r(tiny: Any, wait_for: Any, tmp_path: Path) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, dataset="csv", n_train="0", n_val="0")
        path = app.lab.panel.file_fields.inputs["data.path"]
        path.focus()
        missing = tmp_path / "nope.csv"
        await pilot.press(*str(missing))
        await wait_for(pilot, lambda: "no such file" in error_at(app, "data.path"))
        assert str(missing) in error_at(app, "data.path")
        assert app.lab.panel.experiment is None
        await pilot.press("escape", "r")
        assert app.lab.run_state == "idle"
        assert app.focused is path  # r sends you to the field that blocks it


async def test_a_text_cell_is_named_by_line_and_column(tiny: Any, wait_for: Any, tmp_path: Path,
                                                       monkeypatch: Any) -> None:
    import regtui.core.data as data

    threads: list[str] = []
    real = data.make_dataset

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(data, "make_dataset", spy)
    bad = write_csv(tmp_path / "bad.csv", bad_cell=True)
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, dataset="csv", n_train="0", n_val="0", path=str(bad))
        await wait_for(pilot, lambda: bool(error_at(app, "data.path")))
        message = error_at(app, "data.path")
        assert str(bad) in message and "line 3" in message and "'x2'" in message and "'abc'" in message
        shown = str(app.lab.panel.file_fields.errors["data.path"].render())
        assert "line 3" in shown
        assert threads and threading.main_thread().name not in threads  # loaded off the event loop
        await choose(pilot, app, drop_invalid="yes")
        await wait_for(pilot, lambda: app.lab.panel.experiment is not None and not app.lab.panel.file_fields.checking)
        assert not error_at(app, "data.path")
        assert "59 rows" in str(app.lab.panel.file_fields.status.render())


async def test_a_good_csv_trains(tiny: Any, wait_for: Any, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv")
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, dataset="csv", n_train="0", n_val="0", path=str(good), target="label")
        await wait_for(pilot, lambda: "✓" in str(app.lab.panel.file_fields.status.render()))
        assert "60 rows: 48 train / 12 val · 2 features · 2 classes" in str(app.lab.panel.file_fields.status.render())
        await pilot.press("escape", "r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        assert app.lab.session.experiment is not None and app.lab.session.experiment.data.path == str(good)
        assert app.lab.session.data is not None and app.lab.session.data["classes"] == ["no", "yes"]


async def test_a_relative_path_typed_in_the_lab_is_relative_to_the_start_folder(
        tiny: Any, wait_for: Any, tmp_path: Path, monkeypatch: Any) -> None:
    write_csv(tmp_path / "here.csv")
    monkeypatch.chdir(tmp_path)
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, dataset="csv", n_train="0", n_val="0", path="here.csv")
        await wait_for(pilot, lambda: "✓" in str(app.lab.panel.file_fields.status.render()))
        assert app.lab.panel.experiment is not None
        assert app.lab.panel.experiment.data.path == str(tmp_path / "here.csv")
