"""Writing files safely: atomic writes, and where an output may go.

``write_atomic(path, data, replace=True)`` writes a temporary file in the same
folder, fsyncs it and renames it over ``path`` (keeping an existing file's
mode), then fsyncs the folder: a crash (or Ctrl+C) never leaves a
half-written file.  With ``replace=False`` it refuses, atomically, to replace
a file that exists (``FileExistsError``).  Used for presets and exports.

The outputs a command writes (``--json``, ``--csv``, ``--save-models``,
``history export``) are checked *before* any work starts with
``check_output`` / ``check_model_folder`` and written at the end with
``write_output``.  The rule, the same for every output:

* ``-`` (and ``/dev/stdout``, ``/dev/fd/1``) is standard output, a
  character device (``/dev/null``, a terminal) or a FIFO is written as a
  stream: opened and written, never renamed over or replaced;
* anything else must be a regular file in a folder that exists and is
  writable; it is written atomically; an existing file is replaced only with
  ``force`` (the command's ``--force``);
* refused, always: a folder, a symbolic link (nothing is written through or
  over a link), a block device or socket, regtui's own files (the run
  history, the preset and the data file of the run: ``protected``), and the
  same path named by two outputs.

Problems are ``OutputError``: one line naming the option and the path.
Standard library and ``regtui.core.text`` only.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from regtui.core.text import visible

STDOUT, STREAM, FILE = "stdout", "stream", "file"
_STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


class OutputError(Exception):
    """An output path that regtui will not write; ``str()`` is one line (paths made visible)."""

    def __init__(self, message: str) -> None:
        super().__init__(visible(message))


@dataclass(frozen=True)
class Output:
    """A checked output: where it goes and how it is written."""

    option: str
    """The option that named it (``--json``), for messages."""
    path: Path
    kind: str
    """``stdout``, ``stream`` (character device or FIFO) or ``file`` (written atomically)."""
    force: bool = False
    """May an existing regular file be replaced?"""

    def __str__(self) -> str:
        return f"{self.option} {'-' if self.kind == STDOUT else self.path}"


# --------------------------------------------------------------------------- atomic writes

def write_atomic(path: Path, data: str | bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` so a crash never leaves a half-written file.

    The data goes to a hidden temporary file in the same folder, is flushed to
    disk, then renamed over ``path`` (``os.replace`` is atomic and replaces a
    link at ``path`` rather than writing through it).  With ``replace=False``
    the temporary file is hard-linked to ``path`` instead, which fails with
    ``FileExistsError`` if anything exists there (checked atomically by the
    file system; where hard links are not supported, checked just before).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
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
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _fsync_dir(path.parent)


def _link_new(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(path):  # no hard links here: the check and the rename are two steps
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)


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


# --------------------------------------------------------------------------- outputs

def _is_protected(path: Path, protected: Mapping[Path, str]) -> str | None:
    """What regtui file ``path`` is (the run history, …), or None."""
    try:
        real = path.resolve()
    except OSError:
        real = path.absolute()
    for other, what in protected.items():
        try:
            if real == other.resolve() or (path.exists() and other.exists() and os.path.samefile(path, other)):
                return what
        except OSError:
            continue
    return None


def _check_folder(option: str, folder: Path, shown: str) -> None:
    """The folder exists, is a folder, and a file can be created in it."""
    if not folder.exists():
        raise OutputError(f"{option} {shown}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{option} {shown}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".regtui-write-check-", dir=folder)
    except OSError as exc:
        raise OutputError(f"{option} {shown}: cannot write in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


def check_output(option: str, given: str, *, force: bool = False,
                 protected: Mapping[Path, str] | None = None) -> Output:
    """Check where ``option`` (e.g. ``--json``) may write ``given``; see the module docstring."""
    protected = protected or {}
    if given in _STDOUT_NAMES:
        return Output(option, Path("-"), STDOUT)
    if not given:
        raise OutputError(f"{option}: an empty path")
    path = Path(given).expanduser()
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{option} {given}: {exc.strerror or exc}") from None
    what = _is_protected(path, protected)
    if what:
        raise OutputError(f"{option} {given}: is {what}; refusing to overwrite it")
    if st is not None and stat.S_ISLNK(st.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            target = None
        if target is not None and (stat.S_ISCHR(target.st_mode) or stat.S_ISFIFO(target.st_mode)):
            return _stream(option, path, given)
        raise OutputError(f"{option} {given}: is a symbolic link (to {os.readlink(path)}); regtui writes "
                          "neither through nor over links: give the file itself")
    if st is None:
        _check_folder(option, path.parent, given)
        return Output(option, path, FILE, force)
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{option} {given}: is a folder; give a file name")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return _stream(option, path, given)
    if not stat.S_ISREG(st.st_mode):
        kind = "a block device" if stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else \
            "not a regular file"
        raise OutputError(f"{option} {given}: is {kind}; regtui writes regular files, character devices, "
                          "FIFOs or - (standard output)")
    if not force:
        raise OutputError(f"{option} {given}: exists; pass --force to replace it")
    _check_folder(option, path.parent, given)
    return Output(option, path, FILE, force)


def _stream(option: str, path: Path, given: str) -> Output:
    if not os.access(path, os.W_OK):
        raise OutputError(f"{option} {given}: not writable")
    return Output(option, path, STREAM)


def check_model_folder(option: str, given: str, names: Iterable[str], *, force: bool = False,
                       protected: Mapping[Path, str] | None = None) -> list[Output]:
    """Check ``--save-models DIR`` for the files ``names`` (created: DIR itself, not its parents)."""
    folder = Path(given).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {given}: is not a folder")
    if not folder.exists():
        _check_folder(option, folder.parent if str(folder.parent) else Path("."), given)
        return [Output(option, folder / name, FILE, force) for name in names]
    outputs = []
    for name in names:
        try:
            outputs.append(check_output(option, str(folder / name), force=force, protected=protected))
        except OutputError as exc:
            raise OutputError(str(exc)) from None
    bad = [o for o in outputs if o.kind != FILE]
    if bad:
        raise OutputError(f"{option} {bad[0].path}: is not a regular file")
    return outputs


def check_distinct(outputs: Iterable[Output]) -> None:
    """Two outputs naming the same file (or both standard output) are refused."""
    seen: dict[str, Output] = {}
    for out in outputs:
        key = "-" if out.kind == STDOUT else str(out.path.absolute())
        if key in seen:
            raise OutputError(f"{seen[key].option} and {out.option} both name {'-' if out.kind == STDOUT else out.path}")
        seen[key] = out


def write_output(out: Output, data: str | bytes) -> None:
    """Write ``data`` where ``out`` says; raises ``OSError`` (or ``FileExistsError``
    when a file appeared at the path since it was checked and ``force`` was not given)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if out.kind == STDOUT:
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:
            sys.stdout.write(raw.decode("utf-8"))
        else:
            stream.write(raw)
        sys.stdout.flush()
    elif out.kind == STREAM:
        fd = os.open(out.path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
    else:
        write_atomic(out.path, raw, replace=out.force)
