"""Where a lab's output goes when it runs under textual-serve (``regtui serve``).

Such a lab's standard output is the protocol channel to the server (Textual's
web driver writes framed packets to it), and textual-serve keeps everything a
lab writes on standard error in memory until the lab ends.  So while a served
lab runs, ``output_to_log()``:

- sends Python warnings (``warnings.warn`` from torch, scikit-learn, numpy) and
  log records of WARNING and above to a log file instead of the screen;
- points file descriptor 2 at a pipe whose lines go to the same log, so C-level
  writes (torch's own warnings) and tracebacks land there too, not in the
  server's memory;
- caps the log: one session's log rotates at ``MAX_BYTES`` (one old part kept),
  and only the newest ``KEEP_SESSIONS`` session logs are kept.

The logs live in ``logs/`` beside the run history (``$REGTUI_HOME`` or the user
data folder), one per lab process.  Nothing here writes to standard output.
Imports neither torch nor textual.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 1_000_000
"""One session's log rotates at this size; with the one old part kept, a session holds at most twice it."""
KEEP_SESSIONS = 20
"""Session logs kept in ``logs/`` (the oldest beyond this are deleted when a new lab starts)."""
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logs_dir() -> Path:
    """``logs/`` beside the run history (``$REGTUI_HOME`` or the user data folder)."""
    from regtui.core.store import default_path

    return default_path().parent / "logs"


@contextlib.contextmanager
def output_to_log(folder: Path | None = None) -> Iterator[Path]:
    """While the block runs, warnings, log records and everything written to file
    descriptor 2 go to a new, size-capped log in ``folder``; yields its path."""
    folder = logs_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lab-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    _prune(folder, keep=KEEP_SESSIONS - 1)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=1, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    logging.captureWarnings(True)
    stderr_logger = logging.getLogger("regtui.stderr")
    stderr_logger.propagate = False  # straight to the file: a handler on stderr would feed the pipe back
    stderr_logger.addHandler(handler)
    relay = _StderrRelay(stderr_logger)
    try:
        yield path
    finally:
        relay.close()
        logging.captureWarnings(False)
        root.removeHandler(handler)
        stderr_logger.removeHandler(handler)
        handler.close()


class _StderrRelay:
    """File descriptor 2 → a pipe → one log record per line (a thread reads it)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        sys.stderr.flush()
        self._saved = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._read_end = read_end
        self._thread = threading.Thread(target=self._pump, name="regtui-stderr-log", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        pending = b""
        while chunk := os.read(self._read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > MAX_BYTES:  # a run-away line without a newline: log it in pieces
                lines.append(pending)
                pending = b""
            for line in lines:
                if line.strip():
                    self._logger.warning("%s", line.decode("utf-8", "replace").rstrip())
        if pending.strip():
            self._logger.warning("%s", pending.decode("utf-8", "replace").rstrip())
        os.close(self._read_end)

    def close(self) -> None:
        """Give file descriptor 2 back and log what is still in the pipe."""
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(self._saved, 2)  # the pipe's last write end closes: the reader sees its end
        os.close(self._saved)
        self._thread.join(timeout=2.0)  # a child process still holding the pipe may keep it open


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` session logs (and their rotated parts)."""
    def age(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:  # another lab pruned it meanwhile
            return 0.0

    sessions = sorted(folder.glob("lab-*.log"), key=age, reverse=True)
    for old in sessions[keep:]:
        for part in (old, old.with_name(old.name + ".1")):
            with contextlib.suppress(OSError):
                part.unlink()
