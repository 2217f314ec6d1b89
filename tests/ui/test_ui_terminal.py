"""The lab and its terminal (issue #10): resizing during a run, the "terminal too
small" notice below the minimum size, NO_COLOR and TERM variants, and a dropped
connection (SIGHUP) that loses no recorded epoch.

The resize tests drive the real app with Pilot; the terminal tests start the
installed ``regtui`` in tmux (on a tmux server of their own, ``-L``) and are
skipped where tmux is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from textual.widgets import Footer

from regtui.core.store import RunStore
from regtui.ui.app import create_app
from regtui.ui.widgets.loss_charts import Y_AXIS_CELLS, LossChart
from regtui.ui.widgets.too_small import CSS_CLASS, MIN_HEIGHT, MIN_WIDTH, TooSmallNotice

SIZES = ((200, 60), (120, 40), (80, 24), (MIN_WIDTH, MIN_HEIGHT), (MIN_WIDTH - 1, MIN_HEIGHT),
         (MIN_WIDTH, MIN_HEIGHT - 1), (40, 12), (1, 1), (61, 22), (120, 40), (200, 60))
"""Down from 200×60 to 1×1 and back, through both sides of the minimum."""
PLOT_ROWS = 5
"""A chart's rows with one row of curve: title, top border, a plot row, bottom border, x ticks."""


def shown(app: Any, selector: str) -> bool:
    return bool(app.query_one(selector).display)


async def test_resizing_during_a_run_never_crashes_and_small_shows_a_notice(long_run: Any, wait_for: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=SIZES[0]) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.session.history is not None and app.lab.session.history.epoch >= 2)
        notice = app.query_one(TooSmallNotice)
        for width, height in SIZES:
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.15)  # a few chart ticks at this size
            small = width < MIN_WIDTH or height < MIN_HEIGHT
            context = f"{width}×{height}"
            assert app.is_running and app.return_code is None, context
            assert app.size == (width, height), context
            assert app.lab.has_class(CSS_CLASS) is small, context
            assert shown(app, "#too-small") is small and shown(app, "#views") is not small, context
            assert shown(app, "#results") is not small and app.query_one(Footer).display is not small, context
            if small:
                text = str(notice.render())
                assert f"terminal too small: need at least {MIN_WIDTH}×{MIN_HEIGHT}, have {width}×{height}" in text
                assert "q quits" in text
        epoch = app.lab.session.history.epoch
        draws = sum(c.draw_count for c in app.lab.charts.charts())
        await wait_for(pilot, lambda: app.lab.session.history.epoch > epoch + 2, 30)
        await wait_for(pilot, lambda: sum(c.draw_count for c in app.lab.charts.charts()) > draws, 10)
        assert app.lab.run_state == "running", "the run went on through every size"
        await pilot.press("x")


@pytest.mark.parametrize("size", [(MIN_WIDTH, MIN_HEIGHT), (80, 24)])
async def test_at_the_minimum_size_every_chart_has_a_row_to_plot(tiny: Any, wait_for: Any, size: tuple[int, int]) -> None:
    """The minimum is where the 2×2 grid of four variants still plots a row per chart."""
    app = create_app(tiny)
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await wait_for(pilot, lambda: not app.lab.charts.pending)
        assert not app.lab.has_class(CSS_CLASS)
        charts = list(app.query("#per-variant LossChart").results(LossChart))
        assert len(charts) == 4
        assert all(c.size.height >= PLOT_ROWS and c.size.width >= Y_AXIS_CELLS + 6 for c in charts), [c.size for c in charts]
        assert app.lab.table.size.height >= 5, "the header and the four variants"


async def test_q_quits_while_the_terminal_is_too_small(long_run: Any, wait_for: Any) -> None:
    app = create_app(long_run)
    async with app.run_test(size=(40, 12)) as pilot:
        assert app.lab.has_class(CSS_CLASS)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.session.history is not None and app.lab.session.history.epoch >= 1)
        start = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - start < 5.0  # not waiting for the run; the 1 s promise is a benchmark's
    assert app.return_code == 0


async def test_no_color_runs(tiny: Any, wait_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(tiny)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished")
        await pilot.press("q")
    assert app.return_code == 0


# ---------------------------------------------------------------------- a real terminal (tmux)

TINY_TOML = """\
name = "tiny-terminal"
[data]
dataset = "moons"
n_train = 30
n_val = 50
[model]
hidden = [16]
[train]
lr = 0.01
batch_size = 30
epochs = {epochs}
device = "cpu"
[[variants]]
name = "baseline"
[[variants]]
name = "L2"
l2 = 0.001
"""
REGTUI = Path(sys.executable).with_name("regtui")

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None or not REGTUI.exists(),
                                reason="needs tmux and the installed regtui script")


class Tmux:
    """A tmux server of the test's own (``-L``), one window running one command."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"regtui-test-{os.getpid()}-{tmp_path.name}"

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return result.stdout

    def start(self, command: str, width: int = 80, height: int = 24) -> None:
        self.run("new-session", "-d", "-s", "lab", "-x", str(width), "-y", str(height), command)

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", "-t", "lab", *(["-e"] if escapes else []))

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "lab", *keys)

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{self.screen()}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.run("kill-server")


GREYS_256 = {0, 7, 8, 15, 16, 59, 102, 145, 188, 231, *range(232, 256)}
GREYS_16 = {30, 37, 90, 97, 40, 47, 100, 107}


def hues(screen: str) -> set[str]:
    """The SGR colours in ``screen`` (tmux ``capture-pane -e``) that are not grey."""
    out: set[str] = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", screen):
        codes = [int(c) for c in params.split(";") if c]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                if codes[i + 2] not in GREYS_256:
                    out.add(f"{code};5;{codes[i + 2]}")
                i += 3
            elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                r, g, b = codes[i + 2:i + 5]
                if not r == g == b:
                    out.add(f"{code};2;{r};{g};{b}")
                i += 5
            else:
                if 30 <= code <= 47 or 90 <= code <= 107:
                    if code not in GREYS_16 and code not in (39, 49):
                        out.add(str(code))
                i += 1
    return out


@pytest.fixture
def tmux(tmp_path: Path) -> Any:
    server = Tmux(tmp_path)
    yield server
    server.kill()


def lab_command(tmp_path: Path, env: dict[str, str], epochs: int) -> str:
    preset = tmp_path / "tiny.toml"
    preset.write_text(TINY_TOML.format(epochs=epochs), encoding="utf-8")
    settings = {"REGTUI_HOME": os.environ["REGTUI_HOME"], "REGTUI_PRESETS_DIR": os.environ["REGTUI_PRESETS_DIR"],
                "TERM": "xterm-256color", **env}
    assignments = " ".join(f"{k}={v}" for k, v in settings.items())
    return f"env -u NO_COLOR -u COLORTERM {assignments} {REGTUI} --preset {preset}"


@needs_tmux
@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "xterm-256color"}, {"TERM": "screen"}],
                         ids=["NO_COLOR", "xterm-256color", "screen"])
def test_the_lab_starts_runs_and_quits_in_a_real_terminal(tmux: Tmux, tmp_path: Path, env: dict[str, str]) -> None:
    rc_file = tmp_path / "rc"
    tmux.start(f"sh -c '{lab_command(tmp_path, env, 40)}; echo $? > {rc_file}; sleep 30'")
    tmux.wait_for(lambda: "r run" in tmux.screen(), 60, "the first screen")
    tmux.keys("r")
    tmux.wait_for(lambda: "finished epoch 40/40" in tmux.screen(), 60, "the run to finish")
    screen = tmux.screen()
    assert "baseline" in screen and "L2" in screen and "Traceback" not in screen
    found = hues(tmux.screen(escapes=True))
    if "NO_COLOR" in env:
        assert not found, f"NO_COLOR: greys only, found {sorted(found)[:5]}"
    else:
        assert found, "variant colours"
    start = time.monotonic()
    tmux.keys("q")
    tmux.wait_for(rc_file.exists, 10, "regtui to exit")
    assert rc_file.read_text().strip() == "0"
    assert time.monotonic() - start < 3.0, "q exits promptly (1 s in the app, plus tmux polling)"


@needs_tmux
def test_a_dropped_connection_keeps_every_recorded_epoch(tmux: Tmux, tmp_path: Path) -> None:
    """README: a run cut off by a dropped connection is in the history epoch by epoch;
    the lab does not linger without its terminal."""
    tmux.start("exec " + lab_command(tmp_path, {}, 1_000_000))  # the pane's process is the lab
    pid = int(tmux.run("display-message", "-p", "-t", "lab", "#{pane_pid}").strip())
    tmux.wait_for(lambda: "r run" in tmux.screen(), 60, "the first screen")
    tmux.keys("r")

    def recorded() -> int:
        with RunStore.open() as store:
            runs = store.list_runs()
            return runs[0].last_epoch if runs else -1

    tmux.wait_for(lambda: recorded() >= 5, 60, "epochs in the history")
    seen = recorded()
    tmux.kill()  # the terminal goes away: SIGHUP to the lab
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)  # our own child
        raise AssertionError("the lab kept running after its terminal was gone")
    with RunStore.open() as store:
        (summary,) = store.list_runs()
        assert summary.status in ("stopped", "cut off") and summary.last_epoch >= seen
        stored = store.load_run(summary.id)
    assert all(len(h) == summary.last_epoch + 1 for h in stored.history.variants), "whole epochs, none torn"
