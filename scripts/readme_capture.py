"""Re-take the README's screen capture from a real run of the lab, as a user sees it.

    python scripts/readme_capture.py [--preset spirals] [--size 80x24]

Opens ``regtui --preset PRESET`` in a tmux window of the given size (a real
terminal, not a headless test driver), presses ``r``, waits until every
variant has finished, and writes what the screen shows between the
``<!-- capture:begin -->`` / ``<!-- capture:end -->`` markers of README.md.
The run history goes to a temporary REGTUI_HOME.  tests/test_readme.py checks
that the numbers in the capture equal a fresh headless ``regtui run`` of the
same preset, so a capture left behind by a change of numbers fails the suite.

Needs tmux on PATH; run it from the repository root after a change that moves
the README's numbers or layout.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- capture:begin -->", "<!-- capture:end -->"
PORTABLE = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
"""PyTorch's and MKL's portable kernels: the capture's numbers are then what any x86-64 CPU
prints (docs/semantics.md, "Same numbers, which machine"); tests/test_readme.py reads these
settings off the capture's line and runs with them."""
SESSION = "regtui-readme-capture"


def _pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=True,
                          capture_output=True, text=True).stdout


def _wait(session: str, done, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _pane(session)
        if done(screen):
            return screen
        time.sleep(0.5)
    raise SystemExit(f"readme_capture: timed out waiting for {what}; the screen was:\n{_pane(session)}")


def capture(preset: str, width: int, height: int, timeout: float) -> str:
    """The lab's screen after ``r`` on ``preset`` has run to the end."""
    if shutil.which("tmux") is None:
        raise SystemExit("readme_capture: needs tmux (apt-get install tmux)")
    home = tempfile.mkdtemp(prefix="regtui-capture-")
    portable = " ".join(f"{key}={value}" for key, value in PORTABLE.items())
    command = (f"REGTUI_HOME={shlex.quote(home)} REGTUI_THREADS=1 {portable} "
               f"{shlex.quote(sys.executable)} -m regtui --preset {shlex.quote(preset)}")
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height),
                    "-c", str(ROOT), command], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait(SESSION, lambda s: "r run" in s or "Data" in s, 60, "the lab to open")
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "r"], check=True)
        screen = _wait(SESSION, lambda s: "finished epoch" in s and "running" not in s, timeout,
                       "the run to finish")
        time.sleep(1.5)  # the charts' last redraw (they trail the table by at most ~0.5 s)
        return _pane(SESSION).rstrip("\n") or screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def write_readme(screen: str, preset: str, width: int, height: int) -> None:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"readme_capture: {path}: no {BEGIN} … {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    lines = [line.rstrip() for line in screen.splitlines()]
    portable = " ".join(f"{key}={value}" for key, value in PORTABLE.items())
    block = (f"{BEGIN}\n`{portable} regtui --preset {preset}`, `r`, once the run has ended, in an "
             f"{width}×{height} terminal (taken by `scripts/readme_capture.py`; the two settings pick "
             f"portable kernels, so any x86-64 CPU prints these numbers: docs/semantics.md):\n\n"
             f"```text\n" + "\n".join(lines) + "\n```\n")
    path.write_text(head + block + END + tail, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="spirals", help="the preset to run (default: spirals)")
    parser.add_argument("--size", default="80x24", help="terminal size WxH (default: 80x24)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds the run may take")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    write_readme(capture(args.preset, width, height, args.timeout), args.preset, width, height)
    print(f"README.md: capture of {args.preset} at {width}×{height} re-taken")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
