"""Is the process that recorded a ``running`` run still there?

On the same host: the pid, checked against a ``boot-id:start-time`` token on
Linux (so a recycled pid or a zombie is not taken for the run); from another
host (a shared home folder) only the heartbeat can tell: no epoch for
``STALE_AFTER_S`` means the run was cut off.  Standard library only.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

STALE_AFTER_S = 3600.0
"""A run from another host with no epoch for this long is reported as cut off."""


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def process_token(pid: int) -> str | None:
    """``boot-id:start-time`` of a process (Linux), None where unknown or a zombie."""
    stat = _read(f"/proc/{pid}/stat")
    boot = _read("/proc/sys/kernel/random/boot_id")
    if stat is None or boot is None:
        return None
    rest = stat.rsplit(")", 1)[-1].split()
    if len(rest) < 20 or rest[0] in ("Z", "X"):
        return None
    return f"{boot.strip()}:{rest[19]}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


HOST = socket.gethostname()
OWN_TOKEN = process_token(os.getpid())


def is_live(host: str, pid: int, token: str | None, heartbeat: float, now: float) -> bool:
    """Is the process that recorded a ``running`` run still there?"""
    if host != HOST:
        return now - heartbeat < STALE_AFTER_S
    if pid == os.getpid():
        return token == OWN_TOKEN
    if token is not None and Path("/proc").is_dir():
        return process_token(pid) == token
    return _pid_exists(pid)
