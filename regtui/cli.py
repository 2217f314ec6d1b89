"""The command line: ``regtui`` (open the lab), ``regtui run``, ``regtui presets``, ``regtui serve``, ``regtui data`` ….

Routes only: parsing lives here, the work in ``regtui.commands.*``.  Nothing
heavy is imported at module level, so ``regtui --help`` never imports torch,
and the Textual UI is imported only when the lab is opened.
Exit codes: 0 success, 1 the lab crashed or an output could not be written, 2 usage
or preset error, 128 + the signal when Ctrl+C (130), SIGTERM (143) or SIGHUP (129)
stopped it (``regtui.commands.signals``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from regtui import __version__

EXIT_OK, EXIT_CRASHED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line hint (argparse's own behaviour, kept)."""


def build_parser() -> argparse.ArgumentParser:
    from regtui.commands import data as data_cmd
    from regtui.commands import history as history_cmd
    from regtui.commands import presets as presets_cmd
    from regtui.commands import run as run_cmd
    from regtui.commands import serve as serve_cmd
    from regtui.commands import sweep as sweep_cmd
    from regtui.commands import tour as tour_cmd

    parser = _Parser(
        prog="regtui",
        description=(
            "A terminal lab that trains small neural networks and shows, side by side and live, "
            "how L2 regularization (λ·Σw²) and Dropout (drop probability p) fight overfitting. "
            "Without a command, opens the lab."
        ),
        epilog="Keys in the lab: r run, space pause, x stop, v view, l log scale, c config, ? help, q quit.",
    )
    parser.add_argument("--version", action="version", version=f"regtui {__version__}")
    parser.add_argument("--preset", metavar="NAME|PATH", help="preset to open in the lab (default: %(default)s)", default=None)
    parser.add_argument("--presets-dir", metavar="DIR", help="folder of user presets (default: $REGTUI_PRESETS_DIR or the user config folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run_cmd.add_parser(sub)
    sweep_cmd.add_parser(sub)
    presets_cmd.add_parser(sub)
    history_cmd.add_parser(sub)
    serve_cmd.add_parser(sub)
    data_cmd.add_parser(sub)
    tour_cmd.add_parser(sub)
    return parser


def open_lab(args: argparse.Namespace) -> int:
    from regtui.commands.signals import exit_without_waiting_for_the_worker, lab_exit_code
    from regtui.core import presets
    from regtui.core.config import ConfigError

    name = args.preset or presets.DEFAULT_PRESET
    try:
        experiment = presets.load(name, args.presets_dir)
    except ConfigError as exc:
        print(f"regtui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from regtui.ui.app import create_app  # the UI only when the lab opens

    app = create_app(experiment, presets_dir=args.presets_dir)
    from textual.drivers.web_driver import WebDriver

    from regtui.startup import started

    started()
    if issubclass(app.driver_class, WebDriver):  # under regtui serve: stdout is the protocol channel
        from regtui.commands.serve_log import output_to_log

        with output_to_log() as log_path:
            app.run()
        if app.return_code:
            print(f"regtui: the served lab stopped with an error; see {log_path}", file=sys.stderr)
    else:
        from regtui.commands.signals import exit_code, quit_lab_on_termination

        terminated: list[int] = []
        quit_lab_on_termination(app, terminated.append)
        app.run()
        if terminated:
            app_code = exit_code(terminated[0])
            exit_without_waiting_for_the_worker(app_code)
            return app_code
    code = lab_exit_code(app.return_code)
    exit_without_waiting_for_the_worker(code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``regtui`` with ``argv`` (default: the process's own arguments, and then
    the process is regtui's: its garbage collector is held off while it starts,
    ``regtui.startup``)."""
    from regtui import startup

    if argv is None:
        startup.hold_collector()
    parser = build_parser()
    args = parser.parse_args(argv)
    import signal

    from regtui.commands import signals

    before = {s: signal.getsignal(s) for s in signals.HELD}
    try:
        if args.command is None:
            return open_lab(args)
        if not getattr(args, "starts_itself", False):  # run and tour say so once their nets are built
            startup.started()
        if args.command != "serve":  # the server stops its labs itself
            signals.stop_on_termination()
        return int(args.handler(args))
    except BrokenPipeError:
        return _reader_went_away()
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM or SIGHUP before a command could handle it
        what = "before training started; nothing was written" if args.command in ("run", "sweep") else "nothing changed"
        who = f"regtui {args.command}" if args.command else "regtui"
        print(f"{who}: stopped by {signals.signal_name(getattr(exc, 'signum', signal.SIGINT))} {what}", file=sys.stderr)
        return signals.exit_code(exc)
    finally:
        for s, handler in before.items():
            if handler is not None:
                signal.signal(s, handler)


def _reader_went_away() -> int:
    """``regtui history list --json | head``: the reader closed the pipe.  Nothing is
    wrong with regtui; stop quietly (no traceback, and none at exit when Python
    flushes stdout again) with the status of a process ended by SIGPIPE."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
