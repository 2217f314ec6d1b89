"""How much memory there is, and how much a run or a data file needs.

``available_bytes()`` is the memory this process can still take without
swapping: ``MemAvailable`` of ``/proc/meminfo`` (else ``os.sysconf``'s
available pages), lowered to what a cgroup (a container's limit) still
allows.  ``format_bytes(n)`` writes a size as people read it (``6.9 EiB``).
``check_fits(need, what, has)`` raises ``MemoryShortage`` (a ``ConfigError``:
one line saying how much is needed and how much there is) when ``need``
exceeds the memory available.

The estimate of a whole run lives beside it (``estimate_run``) and is used
where a run starts, before anything large is allocated.  Standard library
and ``regtui.core.config`` only: no torch, no numpy (CUDA memory is asked
of torch by the caller).
"""

from __future__ import annotations

import os
from pathlib import Path

from regtui.core.config import ConfigError

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


class MemoryShortage(ConfigError):
    """A run or a data file needs more memory than is available."""


def format_bytes(n: float) -> str:
    """``1536`` -> ``1.5 KiB``; three significant digits, binary units."""
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1024 or unit == _UNITS[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            try:
                return int(parts[1]) * (1024 if parts[-1].lower() == "kb" else 1)
            except (IndexError, ValueError):
                return None
    return None


def _sysconf_available() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """What a cgroup v2 (or v1) memory limit still allows this process, if one is set."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit_text = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max":
            return None
        try:
            limit = int(limit_text)
        except ValueError:
            continue
        if limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
            return None
        return max(0, limit - usage)
    return None


def available_bytes() -> int | None:
    """Memory this process can still allocate without swapping; None when unknown."""
    found = [v for v in (_meminfo_available() or _sysconf_available(), _cgroup_room()) if v is not None]
    return min(found) if found else None


def check_fits(need: int, what: str, key: str = "", has: int | None = None) -> None:
    """Raise ``MemoryShortage`` when ``need`` bytes exceed ``has`` (default: ``available_bytes()``).

    ``what`` says who needs it (``"t10k-images-idx3-ubyte.gz: its header promises 60000×28×28 bytes"``).
    Unknown availability lets everything through: better a run than a false refusal.
    """
    if has is None:
        has = available_bytes()
    if has is not None and need > has:
        raise MemoryShortage(key, f"{what} needs {format_bytes(need)} of memory; {format_bytes(has)} is available")
