"""Ctrl+C, SIGTERM and SIGHUP on the command line: never a traceback, nothing lost.

``stop_on_termination()`` makes SIGTERM and SIGHUP raise ``Interrupted`` (a
``KeyboardInterrupt``) as Ctrl+C does, so ``regtui run`` and ``regtui sweep``
stop, write their partial outputs and exit ``128 + signal`` (130, 143, 129)
whichever of the three stopped them.  ``deferred()`` holds the three signals
back while outputs are written: a second Ctrl+C then waits for the files
instead of losing them (``interrupted`` says which signal came meanwhile).
``quit_lab_on_termination(app)`` turns SIGTERM into the lab's own ``q``
(asked of its event loop), so the terminal is restored (alternate screen,
mouse tracking) and the run recorded as stopped.  How a lab process ends:
``lab_exit_code`` (0 only when it was quit) and
``exit_without_waiting_for_the_worker`` (used by ``regtui`` and ``regtui tour``).
Standard library only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

TERMINATING = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)
HELD = (signal.SIGINT, *TERMINATING)


class Interrupted(KeyboardInterrupt):
    """A signal that asks regtui to stop (Ctrl+C, SIGTERM, SIGHUP)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


def signal_name(signum: int) -> str:
    return "Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_code(exc: BaseException | int | None) -> int:
    """``128 + signal`` of what stopped the command (130 for a plain Ctrl+C)."""
    if isinstance(exc, int):
        return 128 + exc
    return 128 + getattr(exc, "signum", signal.SIGINT)


def _raise(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


def stop_on_termination() -> None:
    """SIGTERM and SIGHUP raise ``Interrupted`` in the main thread, as Ctrl+C does."""
    for signum in TERMINATING:
        signal.signal(signum, _raise)


class Deferred:
    """What ``deferred()`` yields: the first signal that arrived, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None


@contextmanager
def deferred() -> Iterator[Deferred]:
    """Hold Ctrl+C, SIGTERM and SIGHUP back inside the block (they are noted, not raised)."""
    caught = Deferred()

    def note(signum: int, _frame: Any) -> None:
        if caught.signum is None:
            caught.signum = signum

    before = {s: signal.getsignal(s) for s in HELD}
    for s in HELD:
        signal.signal(s, note)
    try:
        yield caught
    finally:
        for s, handler in before.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def quit_lab_on_termination(app: Any, on_quit: Callable[[int], None]) -> None:
    """SIGTERM asks the running lab to quit as ``q`` does (on its own event loop);
    ``on_quit(signum)`` is called first, so the caller can choose the exit status."""

    def ask(signum: int, _frame: Any) -> None:
        loop = getattr(app, "_loop", None)
        if loop is None or loop.is_closed():  # not running (yet or any more): nothing to restore
            raise SystemExit(exit_code(signum))
        on_quit(signum)
        loop.call_soon_threadsafe(lambda: app.call_later(app.action_quit))

    signal.signal(signal.SIGTERM, ask)


def lab_exit_code(return_code: int | None) -> int:
    """The lab's exit status: 0 only when it was quit; a crash (Textual sets a
    non-zero return code when an exception ends the app) is never 0."""
    return 0 if not return_code else (return_code if 0 < return_code < 256 else 1)


def exit_without_waiting_for_the_worker(code: int) -> None:
    """``q`` must exit within a second, but a worker still inside ``import torch``
    or a data load cannot be interrupted, and Python would wait for it at exit.
    The app has already stopped it from training and the history store commits
    per epoch, so nothing is lost by leaving now."""
    if any(t.is_alive() for t in threading.enumerate() if t is not threading.main_thread()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
