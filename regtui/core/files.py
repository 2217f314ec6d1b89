"""Atomic file writes: a crash (or Ctrl+C) never leaves a half-written file.

``write_atomic(path, text)`` writes a temporary file in the same folder,
fsyncs it, renames it over ``path`` (keeping an existing file's mode) and
fsyncs the folder.  Used for presets, ``--json``/``--csv`` outputs and exports.
Standard library only.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash never leaves a half-written file.

    The text goes to a hidden temporary file in the same folder, is flushed to
    disk, then renamed over ``path`` (``os.replace`` is atomic and replaces a
    link at ``path`` rather than writing through it).
    """
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # keep an existing file's permissions
    except OSError:
        mode = 0o644  # mkstemp's 0o600 would surprise: a preset is not a secret
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (best effort; not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
