"""``regtui serve``: the lab as a web page, served with textual-serve.

textual-serve runs one lab process per browser connection (``python -m regtui
--preset NAME``, with this process's environment, so ``REGTUI_HOME``,
``REGTUI_PRESETS_DIR`` and ``HOME`` carry over) and relays its screen and keys
between that process's standard streams and the page's xterm.js over a
websocket.  The page has no authentication: the server listens on the loopback
address unless told otherwise, and warns when it is told.

textual-serve is the optional extra ``regtui[web]``; without it this command
prints how to install it and exits 2.  Imports neither torch nor the UI.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2
CLOSE_WAIT_S = 1.0
"""After Ctrl+C, how long an open tab's page has to answer the websocket's close."""
LAB_STOP_WAIT_S = 10.0
"""... and then how long the server waits for the tabs' labs to quit."""
INSTALL_HINT = "regtui serve: needs textual-serve; install it with: python3 -m pip install 'regtui[web]'"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="serve the lab as a web page (each browser tab gets its own lab)",
        description=(
            "Serve the lab on http://HOST:PORT with textual-serve: every browser connection starts "
            "its own lab process on PRESET, recording into the same run history. The page has no "
            "authentication, so it listens on 127.0.0.1 unless --host says otherwise; to reach it "
            "from another machine, forward the port over SSH (ssh -L 8000:127.0.0.1:8000 HOST) or "
            "put it behind a proxy that authenticates. Needs the extra regtui[web]. Ctrl+C stops it."
        ),
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s; anything else is reachable "
                        "by whoever can reach that address)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    p.add_argument("--preset", metavar="NAME|PATH", default=argparse.SUPPRESS,
                   help="preset each lab opens on (default: moons-overfit)")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, when it is not the one they typed (behind a proxy: "
                        "https://lab.example.org); by default the page follows the address in the request")
    p.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from regtui.core import presets
    from regtui.core.config import ConfigError

    preset = args.preset or presets.DEFAULT_PRESET
    if not 0 <= args.port <= 65535:
        print(f"regtui serve: --port {args.port}: not a port number (0 to 65535)", file=sys.stderr)
        return EXIT_USAGE
    try:
        presets.load(preset, args.presets_dir)  # a bad preset is one line here, not an error in every tab
    except ConfigError as exc:
        print(f"regtui serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        server_class = _lab_server_class()
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
    if not is_loopback(args.host):
        print(f"regtui serve: warning: listening on {args.host}:{args.port}, the page has no "
              "authentication: anyone who can reach that address can run labs on this machine "
              "(see the README for SSH forwarding or a proxy)", file=sys.stderr)
    server = server_class(lab_command(preset, args.presets_dir), host=args.host, port=args.port,
                          public_url=args.public_url)
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's, ...
        print(f"regtui serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def lab_command(preset: str, presets_dir: str | None) -> str:
    """The shell command textual-serve runs for each connection (it uses a shell)."""
    argv = [sys.executable, "-m", "regtui", "--preset", preset]
    if presets_dir:
        argv += ["--presets-dir", presets_dir]
    return shlex.join(argv)


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback one (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # the server will say it cannot listen there
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def _lab_server_class() -> type:
    """textual-serve's Server with three changes: the page's own URLs (websocket,
    scripts) follow the address the browser used, so an SSH-forwarded port or a
    LAN name works without --public-url; the start-up banner names regtui; and
    Ctrl+C ends every open tab's connection and lab at once (textual-serve
    leaves them to aiohttp's graceful shutdown, which waited for the websocket's
    heartbeat: 15–20 s with a tab open).  Raises ImportError when textual-serve
    is not installed."""
    import asyncio

    import aiohttp_jinja2  # a dependency of textual-serve
    from aiohttp import web
    from textual_serve.server import Server

    class LabServer(Server):
        def __init__(self, command: str, *, host: str, port: int, public_url: str | None) -> None:
            super().__init__(command, host=host, port=port, title="regtui", public_url=public_url)
            self._public_url_given = public_url is not None
            self._connections: set[asyncio.Task[Any]] = set()
            """The tasks serving an open tab's websocket (each runs one lab)."""

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                self._connections.discard(task)

        async def on_shutdown(self, app: web.Application) -> None:
            # Cancelled, textual-serve's handler closes the websocket, then stops the
            # tab's lab (its ``except CancelledError`` and ``finally``).  A page that
            # does not answer the close (a dropped SSH tunnel) would hold that close
            # for its 10 s timeout: cancelled again, the handler goes on to the lab.
            for patience in (CLOSE_WAIT_S, LAB_STOP_WAIT_S):
                tasks = [task for task in self._connections if not task.done()]
                if not tasks:
                    return
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=patience)

        async def handle_index(self, request: web.Request) -> web.Response:
            base = self.public_url if self._public_url_given else f"{request.scheme}://{request.host}"
            base = base.rstrip("/")
            ws_base = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
            static = request.app.router["static"].url_for(filename="/")
            context = {
                "font_size": _int(request.query.get("fontsize"), 16),
                "app_websocket_url": f"{ws_base}{request.app.router['websocket'].url_for()}",
                "config": {"static": {"url": f"{base}{static}".rstrip("/") + "/"}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template("app_index.html", request, context)

        async def on_startup(self, app: web.Application) -> None:
            shown = self.public_url if self._public_url_given else f"http://{_url_host(self.host)}:{self.port}"
            print(f"regtui serve: the lab on {shown} (one lab per browser tab; Ctrl+C stops)", flush=True)

    return LabServer


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
