"""Ctrl+C, SIGTERM and SIGHUP at any moment of ``regtui run``, and SIGTERM on the
lab: no traceback, outputs kept, the terminal restored (issue 16, item 10).

Every test waits for a readiness signal (a line the child prints, a file
appearing, the first screen painted) before it sends a signal, with generous
timeouts: nothing depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import LONG_TOML, child_process, epochs_in_history

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


ANNOUNCE_TORCH = """
import sys
from importlib.abc import MetaPathFinder


class Announce(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            print("importing torch", file=sys.stderr, flush=True)
        return None


sys.meta_path.insert(0, Announce())
from regtui.cli import main

sys.exit(main(sys.argv[1:]))
"""


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REGTUI_HOME": str(tmp_path / "home"), "REGTUI_THREADS": "1", "PYTHONPATH": str(ROOT),
            "COLUMNS": "120"}


def wait_until(condition, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        assert proc.poll() is None, f"the child ended before {what}: {proc.communicate()}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_ctrl_c_while_torch_imports_is_one_line(tmp_path: Path) -> None:
    preset = tmp_path / "long.toml"
    preset.write_text(LONG_TOML.format(epochs=5))
    argv = [sys.executable, "-c", ANNOUNCE_TORCH, "run", str(preset), "--json", str(tmp_path / "r.json")]
    with child_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(tmp_path)) as proc:
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == "importing torch"  # readiness: the import has begun
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "regtui run: stopped by Ctrl+C before training started; nothing was written"


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_mid_run_writes_partial_outputs(tmp_path: Path, sig: int, code: int) -> None:
    preset = tmp_path / "long.toml"
    preset.write_text(LONG_TOML.format(epochs=100000))
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    argv = [sys.executable, "-m", "regtui", "run", str(preset), "--json", str(out_json), "--csv", str(out_csv), "--quiet"]
    with child_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(tmp_path)) as proc:
        store = tmp_path / "home" / "history.sqlite3"
        wait_until(lambda: epochs_in_history(store) >= 3, "three recorded epochs", proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    doc = json.loads(out_json.read_text())
    assert {v["status"] for v in doc["variants"]} == {"stopped"}
    epochs = len(doc["variants"][0]["history"])
    assert 3 <= epochs < 100001 and len(out_csv.read_text().splitlines()) == 1 + 2 * epochs


def test_ctrl_c_while_outputs_are_written_keeps_them(tmp_path: Path) -> None:
    """The CSV goes to a FIFO: writing it waits for a reader, a moment in which the
    JSON is written and the CSV is not yet; Ctrl+C then must not lose the CSV."""
    preset = tmp_path / "long.toml"
    preset.write_text(LONG_TOML.format(epochs=3))
    out_json, fifo = tmp_path / "r.json", tmp_path / "csv-pipe"
    os.mkfifo(fifo)
    argv = [sys.executable, "-m", "regtui", "run", str(preset), "--json", str(out_json), "--csv", str(fifo), "--quiet"]
    with child_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(tmp_path)) as proc:
        wait_until(out_json.exists, "the JSON output", proc)  # now it waits to open the FIFO
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        csv_text = fifo.read_text()  # the reader arrives: the CSV can be written
        _, err = proc.communicate(timeout=TIMEOUT)
    assert "Traceback" not in err, err
    assert proc.returncode == 130, err
    assert csv_text.startswith("variant,") and len(csv_text.splitlines()) == 1 + 2 * 4
    assert len(json.loads(out_json.read_text())["variants"][0]["history"]) == 4


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal of Linux")
def test_sigterm_on_the_lab_restores_the_terminal(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**env_for(tmp_path), "TERM": "xterm-256color", "REGTUI_PRESETS_DIR": str(tmp_path / "presets")}
    proc = subprocess.Popen([sys.executable, "-m", "regtui"], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    screen = bytearray()

    def read_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not data:
                    return
                screen.extend(data)

    try:
        deadline = time.monotonic() + TIMEOUT
        while b"quit" not in screen and time.monotonic() < deadline:  # readiness: the footer is painted
            read_for(0.2)
        assert b"quit" in screen and b"\x1b[?1049h" in screen  # in the alternate screen, mouse on
        mark = len(screen)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 143
        read_for(1.0)
    finally:
        proc.kill()
        os.close(master)
    after = bytes(screen[mark:])
    assert b"\x1b[?1049l" in after, "left the alternate screen"
    assert b"\x1b[?1000l" in after and b"\x1b[?1006l" in after, "mouse tracking off"
    assert b"Traceback" not in after
