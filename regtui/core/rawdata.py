"""What a data file yields, and the checks every file format shares.

``RawData`` is what a reader returns (features, targets, task, class names,
the file's own validation split).  The checks: ``number(text)`` reads a
number strictly (no ``_``, no hex, ASCII digits, finite), ``check_features``
and ``check_targets`` refuse values that float32 training cannot hold, and
``data_error`` makes the one-line ``ConfigError`` every reader raises.  Used by
``csvfile`` and ``arrayfiles``; numpy, the standard library and
``regtui.core.config`` only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from regtui.core.config import ConfigError

MAX_CLASSES = 1000
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Features and targets train as float32: a larger magnitude would become infinite."""


@dataclass(frozen=True)
class RawData:
    x: np.ndarray
    y: np.ndarray
    task: str
    classes: tuple[str, ...]
    """Class names in label order (empty for regression)."""
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    dropped: int = 0
    """Rows dropped for invalid values (``drop_invalid = true``)."""


def data_error(problem: str, key: str = "data.path") -> ConfigError:
    return ConfigError(key, problem)


NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)


def number(text: str) -> float | None:
    """The finite number ``text`` spells (strictly: no ``_``, no hex, ASCII digits), else None."""
    text = text.strip()
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def why_not_a_number(text: str) -> str:
    """Why a cell is not a number: missing, not finite, or not a number at all."""
    if not text.strip():
        return "missing"
    if NON_FINITE.fullmatch(text.strip()) or NUMBER.fullmatch(text.strip()):
        return f"{shown(text)} is not a finite number"
    return f"{shown(text)} is not a number"


def shown(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: repr, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def listing(names: list[str], limit: int = 20) -> str:
    """Names for a message: the first ``limit``, then how many there are."""
    text = ", ".join(names[:limit])
    return text + (f", … ({len(names)} in all)" if len(names) > limit else "")


def check_features(x: np.ndarray, path: Path, column_name: Callable[[int], str]) -> None:
    """Every feature finite and within float32's range (training runs in float32)."""
    if x.size == 0:
        return
    with np.errstate(invalid="ignore"):
        big = np.abs(x) > FLOAT32_MAX
        bad = big | ~np.isfinite(x)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        value = x[row, col]
        why = "is not finite" if not np.isfinite(value) else f"is beyond float32's range (±{FLOAT32_MAX:.3g})"
        raise data_error(f"{path}: {int(bad.sum())} feature value(s) that cannot be trained on; the first, "
                         f"{value:g} in {column_name(col)} (row {row + 1}), {why}; rescale the column")


def check_targets(y: np.ndarray, path: Path, what: str) -> None:
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(y) | (np.abs(y) > FLOAT32_MAX)
    if bad.any():
        row = int(np.argmax(bad))
        raise data_error(f"{path}: {what} value {y[row]:g} (row {row + 1}) is not finite or beyond float32's "
                         f"range (±{FLOAT32_MAX:.3g})")


def too_many_classes(n: int, path: Path) -> ConfigError:
    return ConfigError("data.target", f"{path}: {n} distinct classes; at most {MAX_CLASSES}")
