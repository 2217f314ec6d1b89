"""The served lab, driven over textual-serve's websocket as the page drives it:
the page carries the terminal, a connection gets its own lab process, ``r``
trains (charts and ``finished`` on screen), ``e`` offers the export as a
download, ``q`` ends that process."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import urllib.request
import zipfile

import pytest

from serving import DEADLINE, wait_until

pytest.importorskip("textual_serve", reason="regtui serve needs the extra regtui[web]")
pytest.importorskip("pyte", reason="the test's terminal emulator (the test extra)")

from regtui.ui.export import FILES  # noqa: E402

BRAILLE = re.compile("[\u2801-\u28ff]")
"""plotext draws curves in braille dots."""


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.headers["Content-Type"] == "application/zip"
        assert "attachment" in response.headers["Content-Disposition"]
        return response.read()


def test_the_page_carries_the_terminal_and_its_websocket(served):
    with urllib.request.urlopen(served.url + "/", timeout=30) as response:
        page = response.read().decode()
    assert 'id="terminal"' in page and 'class="textual-terminal"' in page
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
    assert f'src="http://127.0.0.1:{served.port}/static/js/textual.js"' in page


def test_the_page_follows_the_address_the_browser_used(served):
    """Behind ``ssh -L 9000:127.0.0.1:PORT`` the browser asks for localhost:9000;
    the page must send it there, not to the server's own port."""
    request = urllib.request.Request(served.url + "/", headers={"Host": "localhost:9000"})
    with urllib.request.urlopen(request, timeout=30) as response:
        page = response.read().decode()
    assert 'data-session-websocket-url="ws://localhost:9000/ws"' in page
    assert 'src="http://localhost:9000/static/js/textual.js"' in page


async def test_a_connection_runs_its_own_lab_until_q(served, web_terminal):
    assert served.lab_pids() == set()
    async with web_terminal(100, 30) as term:
        await term.until(lambda: "waiting" in term.text and "palette" in term.screen.display[29], "the first screen")
        labs = served.lab_pids()
        assert len(labs) == 1, "one lab process per connection"

        await term.resize(120, 34)  # as the page does when the window changes
        await term.until(lambda: "palette" in term.screen.display[33], "the lab laid out on 120×34")
        assert term.screen.display[33].rstrip().endswith("palette")  # the footer reaches the new right edge

        await term.press("r")
        await term.until(lambda: re.search(r"finished\s+epoch 3/3", term.text), "the run to finish")
        await term.until(lambda: len(BRAILLE.findall(term.text)) > 40, "the curves to be drawn")
        assert term.text.count("finished") >= 3  # the status line and both variants' rows

        await term.press("e")  # export: the files on the server, and one zip for the browser
        start = await term.until(lambda: next((t for t in term.texts if t[0] == "deliver_file_start"), None),
                                 "the export's download to be offered")
        zipped = await asyncio.to_thread(_download, f"{served.url}/download/{start[1]}")
        folder = next((served.home / "exports").iterdir())
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            assert sorted(archive.namelist()) == sorted(f"{folder.name}/{name}" for name in FILES)
            assert archive.read(f"{folder.name}/run.json") == (folder / "run.json").read_bytes()

        await term.press("q")
        await term.until(lambda: term.closed, "the lab to close the connection")
    wait_until(lambda: not served.lab_pids() & labs, "the lab process to end", deadline=DEADLINE)
    logs = list((served.home / "logs").glob("lab-*.log"))
    assert len(logs) == 1, "the served lab keeps its warnings and standard error in a log"
    assert "Traceback" not in logs[0].read_text() + served.output()


async def test_two_tabs_get_two_labs_and_closing_a_tab_ends_its_lab(served, web_terminal):
    async with web_terminal() as first:
        async with web_terminal() as second:
            for term in (first, second):
                await term.until(lambda term=term: "waiting" in term.text, "a lab's first screen")
            assert len(served.lab_pids()) == 2
        # the second tab closed without q: textual-serve tells its lab to quit
        wait_until(lambda: len(served.lab_pids()) == 1, "the closed tab's lab to end")
        await first.press("q")
        await first.until(lambda: first.closed, "the first lab to close")
    wait_until(lambda: not served.lab_pids(), "no lab left")


async def test_ctrl_c_stops_the_server_and_every_lab(served, web_terminal):
    assert f"regtui serve: the lab on {served.url} " in served.output()
    async with web_terminal() as term:
        await term.until(lambda: "waiting" in term.text, "the lab's first screen")
        labs = served.lab_pids()
        assert len(labs) == 1
        served.proc.send_signal(signal.SIGINT)
        # At once: not after the websocket's 15 s heartbeat (textual-serve left an open
        # tab to aiohttp's graceful shutdown, which waited ~16 s for it).
        assert served.proc.wait(timeout=10) == 0
        await term.until(lambda: term.closed, "the connection to close")
    wait_until(lambda: all(not _alive(pid) for pid in labs), "the lab process to end")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
