"""The lab and hostile files (issue 16, items 3, 4, 7 and 10): names, descriptions,
labels and history rows are shown as text with control characters made visible;
a damaged history row is listed, not a crash; ``q`` never waits for a data-file
check."""

from __future__ import annotations

import os
import select
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, OptionList, Static

from regtui.core import presets
from regtui.core.store import RunStore
from regtui.ui.app import create_app
from regtui.ui.screens.history import HistoryScreen
from regtui.ui.screens.preset_open import OpenPresetScreen

SIZE = (80, 24)
ROOT = Path(__file__).resolve().parents[2]
ESC_TITLE = "\x1b]2;PWNED\x07"  # would set the terminal's (tmux pane's) title


def record(experiment: Any) -> int:
    from regtui.core.training import Training

    training = Training(experiment)
    with RunStore.open() as store, store.recorder(experiment, source="cli", preset=experiment.name) as rec:
        for event in training.events():
            rec.add(event)
        return rec.run_id


async def test_history_lists_a_damaged_row_and_hostile_names_visibly(ui_experiment: Any, wait_for: Any) -> None:
    exp = ui_experiment(epochs=2)
    record(exp)
    record(exp)
    with RunStore.open() as store:
        path = store.path
    with sqlite3.connect(path) as db:
        db.execute("UPDATE runs SET variant_names = 'not json' WHERE id = 1")
        db.execute("UPDATE runs SET preset = ?, dataset = ? WHERE id = 2", (f"a{ESC_TITLE}b", "[/]"))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        screen = app.screen
        assert [r.id for r in screen.runs] == [2, 1]
        table = screen.query_one("#history-list", DataTable)
        cells = [str(c) for key in ("1", "2") for c in table.get_row(key)]
        assert "damaged" in cells and "[/]" in cells
        assert not any("\x1b" in c or "\x07" in c for c in cells) and any("␛]2;PWNED␇" in c for c in cells)
        await pilot.press("down", "enter")  # open the damaged run
        await pilot.pause()
        assert app.screen is screen and app.is_running
        status = str(screen.query_one("#history-status", Static).render())
        assert "run 1 is damaged" in status
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_the_preset_picker_shows_escapes_visibly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       ui_experiment: Any) -> None:
    folder = tmp_path / "presets"
    monkeypatch.setenv(presets.PRESETS_ENV, str(folder))
    presets.save_preset(replace(ui_experiment(), description=f"nice{ESC_TITLE}"), "hostile")
    (folder / "broken.toml").write_text('name = "x"\n[data]\ndatset = "\\u001b[2J"\n')
    app = create_app(ui_experiment())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpenPresetScreen)
        options = screen.query_one("#preset-list", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        for name in ("hostile", "broken"):
            await pilot.press("ctrl+u", *name)
            await pilot.pause()
            prompts.append(str(screen.query_one("#preset-preview", Static).render()))
        text = "\n".join(prompts)
        assert "nice␛]2;PWNED␇" in text and "\x1b" not in text and "\x07" not in text
        assert app.is_running


STALLED_CHECK = """
import sys, threading
from pathlib import Path
import regtui.core.data as data

marker = Path(sys.argv[1])
real = data.make_dataset


def stalled(cfg, base=None):
    if cfg.dataset == "csv":
        marker.write_text("checking")
        threading.Event().wait()  # a check that never ends (a 10**6-column CSV once took for ever)
    return real(cfg, base)


data.make_dataset = stalled
from regtui.cli import main

sys.exit(main(["--preset", sys.argv[2]]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal of Linux")
def test_q_does_not_wait_for_a_data_file_check(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    preset = tmp_path / "p.toml"
    preset.write_text('[data]\ndataset = "csv"\npath = "d.csv"\n')
    marker = tmp_path / "checking"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "REGTUI_HOME": str(tmp_path / "home"),
           "REGTUI_PRESETS_DIR": str(tmp_path / "presets")}
    proc = subprocess.Popen([sys.executable, "-c", STALLED_CHECK, str(marker), str(preset)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = bytearray()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (marker.exists() and b"quit" in screen):  # readiness
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                screen.extend(os.read(master, 65536))
        assert marker.exists() and b"quit" in screen, bytes(screen[-500:])
        os.write(master, b"q")
        assert proc.wait(timeout=60) == 0  # before: the lab waited for the check, here for ever
    finally:
        proc.kill()
        os.close(master)


async def test_notifications_show_control_characters_visibly(ui_experiment: Any, notifications: list[str]) -> None:
    app = create_app(ui_experiment())
    async with app.run_test(size=SIZE) as pilot:
        app.notify(f"exported to /tmp/{ESC_TITLE}[/]")  # a folder name from REGTUI_HOME, say
        await pilot.pause()
        (note,) = notifications
        assert note == "exported to /tmp/␛]2;PWNED␇[/]"


STALLED_EXPORT = """
import sys, threading
from pathlib import Path
import regtui.ui.export as export

marker = Path(sys.argv[1])


def stalled(*args, **kwargs):
    marker.write_text("exporting")
    threading.Event().wait()  # an export that never ends (20,000 epochs once took 8.5 s)


export.write_export = stalled
from regtui.cli import main

sys.exit(main(["--preset", sys.argv[2]]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal of Linux")
def test_q_does_not_wait_for_an_export(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    preset = tmp_path / "p.toml"
    preset.write_text('[data]\nn_train = 20\nn_val = 20\n[model]\nhidden = [4]\n[train]\nepochs = 3\n'
                      'device = "cpu"\n[[variants]]\nname = "a"\n')
    marker = tmp_path / "exporting"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "REGTUI_HOME": str(tmp_path / "home"),
           "REGTUI_PRESETS_DIR": str(tmp_path / "presets")}
    proc = subprocess.Popen([sys.executable, "-c", STALLED_EXPORT, str(marker), str(preset)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = bytearray()

    def read_until(condition, what: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not condition():
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                screen.extend(os.read(master, 65536))
        assert condition(), f"{what}: {bytes(screen[-500:])!r}"

    try:
        read_until(lambda: b"quit" in screen, "the first screen")
        os.write(master, b"r")
        read_until(lambda: b"3/3" in screen, "the run to finish")
        os.write(master, b"e")
        read_until(marker.exists, "the export to start")
        os.write(master, b"q")
        assert proc.wait(timeout=60) == 0  # before: the export ran on the UI thread, q waited for it
    finally:
        proc.kill()
        os.close(master)
