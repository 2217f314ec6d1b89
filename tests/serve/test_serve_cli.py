"""``regtui serve``'s command line: the install hint, the no-authentication
warning, bad presets and busy ports as one line, the command each tab runs.

Nothing here listens on a non-loopback address: where the address matters,
textual-serve's ``Server.serve`` is replaced by a recorder."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from regtui.cli import main
from regtui.commands.serve import INSTALL_HINT, is_loopback, lab_command
from serving import ROOT, TINY_PRESET, page_answers, start_server, wait_until


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-web.toml"
    path.write_text(TINY_PRESET, encoding="utf-8")
    return path


@pytest.fixture
def recorded_serve(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """textual-serve's Server, whose ``serve()`` records the server instead of listening."""
    server_module = pytest.importorskip("textual_serve.server")
    calls: list[object] = []
    monkeypatch.setattr(server_module.Server, "serve", lambda self, debug=False: calls.append(self))
    return calls


def test_without_textual_serve_one_line_says_how_to_install_it(monkeypatch, capsys, tiny):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import textual_serve raises ImportError
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve", "--preset", str(tiny)]) == 2
    err = capsys.readouterr().err
    assert err == INSTALL_HINT + "\n"
    assert "pip install 'regtui[web]'" in err


def test_loopback_by_default_without_a_warning(recorded_serve, capsys, tiny):
    assert main(["serve", "--preset", str(tiny)]) == 0
    (server,) = recorded_serve
    assert (server.host, server.port) == ("127.0.0.1", 8000)
    assert shlex.split(server.command)[1:] == ["-m", "regtui", "--preset", str(tiny)]
    assert "warning" not in capsys.readouterr().err


def test_another_address_warns_that_the_page_has_no_authentication(recorded_serve, capsys, tiny):
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--preset", str(tiny)]) == 0
    (server,) = recorded_serve
    assert (server.host, server.port) == ("0.0.0.0", 8123)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" in err and "no authentication" in err and "0.0.0.0:8123" in err


def test_the_preset_and_presets_dir_reach_every_lab(recorded_serve, tmp_path, tiny):
    folder = tmp_path / "my presets; rm -rf ~"
    folder.mkdir()
    (folder / "mine.toml").write_text(TINY_PRESET.replace("tiny-web", "mine"), encoding="utf-8")
    assert main(["--presets-dir", str(folder), "serve", "--preset", "mine"]) == 0
    (server,) = recorded_serve
    assert shlex.split(server.command) == [sys.executable, "-m", "regtui", "--preset", "mine", "--presets-dir", str(folder)]
    assert lab_command("a b", None) == shlex.join([sys.executable, "-m", "regtui", "--preset", "a b"])


def test_a_bad_preset_is_one_line_before_anything_listens(recorded_serve, capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nn_trian = 3\n', encoding="utf-8")
    assert main(["serve", "--preset", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("regtui serve: ") and err.count("\n") == 1 and "n_trian" in err
    assert recorded_serve == []


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("10.0.0.1", False),
])
def test_which_addresses_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_a_busy_port_is_one_line_and_exit_2(tmp_path, tiny):
    pytest.importorskip("textual_serve")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "regtui", "serve", "--port", str(port), "--preset", str(tiny)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
                 "REGTUI_HOME": str(tmp_path / "home")},
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"regtui serve: cannot listen on 127.0.0.1:{port}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stdout + done.stderr


def test_public_url_names_the_address_behind_a_proxy(tmp_path, tiny):
    pytest.importorskip("textual_serve")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "REGTUI_HOME": str(tmp_path / "home")}
    proc, port, log = start_server(tmp_path, "--preset", str(tiny), "--public-url", "https://lab.example.org/", env=env)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until(lambda: proc.poll() is not None or page_answers(url), "the page to answer")
        with urllib.request.urlopen(url, timeout=30) as response:
            page = response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert 'data-session-websocket-url="wss://lab.example.org/ws"' in page
    assert 'src="https://lab.example.org/static/js/textual.js"' in page
    assert "regtui serve: the lab on https://lab.example.org/ " in log.read_text()
