"""Helpers for the ``regtui serve`` tests: start the server as a subprocess on a
free loopback port, find its lab processes (through /proc: Linux only), poll
with generous deadlines, and a client that speaks textual-serve's websocket
protocol as its page (textual.js) does, keeping the screen with pyte.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0
"""Seconds any one wait may take: a lab imports torch (2–3 s alone, far more under load)."""

TINY_PRESET = """\
name = "tiny-web"
description = "Three epochs on 48 points: done in a moment."

[data]
dataset = "moons"
n_train = 48
n_val = 32
seed = 0

[model]
hidden = [8]

[train]
optimizer = "sgd"
lr = 0.1
batch_size = 16
epochs = 3
seed = 0
device = "cpu"

[[variants]]
name = "baseline"

[[variants]]
name = "L2"
l2 = 0.01
"""


def wait_until(condition: Callable[[], object], what: str, deadline: float = DEADLINE, every: float = 0.1) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f} s waiting for {what}")
        time.sleep(every)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":  # zombies have ended
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


@dataclass
class Served:
    """A running ``regtui serve``."""

    proc: subprocess.Popen[bytes]
    port: int
    home: Path
    log: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    def lab_pids(self) -> set[int]:
        """The lab processes textual-serve started (``python -m regtui --preset …``)."""
        return {pid for pid in descendants(self.proc.pid) if "regtui" in _cmdline(pid) and "--preset" in _cmdline(pid)}

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int, Path]:
    """``python -m regtui serve --port FREE *extra``; its output goes to a file."""
    port = _free_port()
    log = tmp / f"serve-{port}.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "regtui", "serve", "--port", str(port), *extra],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    return proc, port, log


def page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


class WebTerminal:
    """One browser tab's connection, as textual.js makes it: ``/ws?width=&height=``,
    JSON text frames ``["stdin", keys]`` / ``["resize", {...}]`` / ``["ping", t]``
    out, the app's screen as binary frames in, JSON frames (``deliver_file_start``)
    in.  The screen is kept by pyte, a VT100 emulator, as xterm.js keeps it."""

    def __init__(self, ws: object, width: int, height: int) -> None:
        import pyte

        self.ws = ws
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.texts: list[list[object]] = []
        self.closed = False

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def send(self, *envelope: object) -> None:
        await self.ws.send_str(json.dumps(list(envelope)))  # type: ignore[attr-defined]

    async def press(self, keys: str) -> None:
        await self.send("stdin", keys)

    async def resize(self, width: int, height: int) -> None:
        self.screen.resize(height, width)
        await self.send("resize", {"width": width, "height": height})

    async def _receive_one(self, timeout: float) -> None:
        import aiohttp

        try:
            msg = await self.ws.receive(timeout=timeout)  # type: ignore[attr-defined]
        except asyncio.TimeoutError:
            return
        if msg.type == aiohttp.WSMsgType.BINARY:
            self.stream.feed(msg.data)
        elif msg.type == aiohttp.WSMsgType.TEXT:
            self.texts.append(json.loads(msg.data))
        else:  # CLOSE, CLOSED, ERROR: the lab has gone
            self.closed = True

    async def until(self, condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> object:
        """Read frames until ``condition()`` is truthy; fail with the screen as it is."""
        end = time.monotonic() + deadline
        while not (result := condition()):
            if self.closed:
                raise AssertionError(f"the connection closed while waiting for {what}; screen:\n{self.text}")
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {deadline:.0f} s waiting for {what}; screen:\n{self.text}")
            await self._receive_one(timeout=0.5)
        return result
