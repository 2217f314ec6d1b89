"""``regtui serve`` for real: a server subprocess on 127.0.0.1 with
``REGTUI_HOME``, ``REGTUI_PRESETS_DIR`` and ``HOME`` in a temporary folder, on
a tiny preset (3 epochs), on a free port; and connections to it as the page
makes them (see ``serving.py``).  Every wait polls, none sleeps a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import ROOT, TINY_PRESET, Served, WebTerminal, page_answers, start_server, wait_until


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``regtui serve --preset tiny.toml`` on a free loopback port, until the page answers."""
    home = tmp_path / "home"
    preset = tmp_path / "tiny-web.toml"
    preset.write_text(TINY_PRESET, encoding="utf-8")
    env = {**os.environ, "REGTUI_HOME": str(home), "REGTUI_PRESETS_DIR": str(tmp_path / "presets"),
           "HOME": str(tmp_path), "REGTUI_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for _attempt in range(3):  # another process may take the free port before the server binds it
        proc, port, log = start_server(tmp_path, "--preset", str(preset), env=env)
        server = Served(proc, port, home, log)
        wait_until(lambda: proc.poll() is not None or page_answers(server.url + "/"), "the page to answer")
        if proc.poll() is None:
            break
    else:
        raise AssertionError(f"regtui serve did not start:\n{server.output()}")
    try:
        yield server
    finally:
        labs = server.lab_pids()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pid in labs:  # a lab the test left open ends with its websocket; do not leave strays
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


@pytest.fixture
def web_terminal(served: Served):
    """``async with web_terminal(width, height) as term`` opens a connection to ``served``."""
    import aiohttp

    @contextlib.asynccontextmanager
    async def connect(width: int = 100, height: int = 30):
        async with aiohttp.ClientSession() as session:
            ws_url = served.url.replace("http:", "ws:") + f"/ws?width={width}&height={height}"
            async with session.ws_connect(ws_url) as ws:
                yield WebTerminal(ws, width, height)

    return connect
