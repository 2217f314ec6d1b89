"""CSV data files: header detection, strict numbers, bad rows named by line and column.

``load_csv(cfg, path) -> RawData``.  The first row is a header when one of
its cells is text in a column whose other cells are numbers; a header names
each column once.  Text targets become classes, numeric class labels are
compared exactly (``2**63`` and ``2**63 + 1`` are two, ``1`` and ``1.0`` one);
a missing, non-numeric or non-finite cell, or a row of another width, is an
error naming the file, the count of bad rows and the first line and column
(``drop_invalid = true`` drops those rows instead).  Clean files go through
numpy's C parser; the rest row by row.  Linear in rows × columns (columns are
found through a dict).  A field longer than the csv module's limit (131,072
characters) is an error naming its line.
"""

from __future__ import annotations

import csv
import io
from array import array
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from regtui.core.config import ConfigError, DataConfig
from regtui.core.memory import check_fits, format_bytes
from regtui.core.rawdata import (
    MAX_CLASSES,
    NON_FINITE,
    NUMBER,
    RawData,
    check_features,
    check_targets,
    data_error,
    listing,
    number,
    too_many_classes,
    why_not_a_number,
)

HEADER_SAMPLE_ROWS = 50
"""Rows read to decide whether the first row is a header."""
READ_FACTOR = 3
"""A CSV in memory takes about this many times its size while it is parsed."""


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row; a csv module error names the line."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. "field larger than field limit (131072)"
            raise data_error(f"{path}: line {reader.line_num}: {exc}") from None
        if row and any(c.strip() for c in row):
            yield reader.line_num, row


def _is_header(sample: list[list[str]]) -> bool:
    """The first row is a header when one of its cells is text in a column whose
    other (non-empty) cells are all numbers; a row of numbers and labels is data."""
    first, body = sample[0], sample[1:]
    if not body:
        return False
    for j, cell in enumerate(first):
        cell = cell.strip()
        if not cell or NUMBER.fullmatch(cell) or NON_FINITE.fullmatch(cell):
            continue
        below = [r[j].strip() for r in body if j < len(r) and r[j].strip()]
        if below and all(NUMBER.fullmatch(v) or NON_FINITE.fullmatch(v) for v in below):
            return True
    return False


def _column_index(names: list[str], path: Path) -> dict[str, int]:
    index: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in index:
            raise data_error(f"{path}: the header names column {name!r} twice (columns {index[name] + 1} and "
                             f"{j + 1}); rename one, names must be unique")
        index[name] = j
    return index


def _read_csv_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        check_fits(size * READ_FACTOR, f"{path}: reading this {format_bytes(size)} CSV", "data.path")
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise data_error(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise data_error(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_csv(cfg: DataConfig, path: Path) -> RawData:
    text = _read_csv_text(path)
    sample = []
    for _, row in _csv_rows(path, text):
        sample.append(row)
        if len(sample) >= HEADER_SAMPLE_ROWS:
            break
    if not sample:
        raise data_error(f"{path} is empty")
    header = _is_header(sample)
    first = sample[0]
    if len(sample) == 1 and not any(NUMBER.fullmatch(c.strip()) for c in first):
        raise data_error(f"{path} holds one row of text (a header?) and no data rows")
    names = [c.strip() for c in first] if header else [f"column{i + 1}" for i in range(len(first))]
    if len(names) < 2:
        raise data_error(f"{path} has one column; it needs a target and at least one feature column")
    index = _column_index(names, path)
    target = cfg.target or names[-1]
    if target not in index:
        raise ConfigError("data.target", f"no column {target!r} in {path}; columns: {listing(names)}")
    t_col = index[target]
    features = list(cfg.features) or [n for n in names if n != target]
    seen: set[str] = set()
    for f in features:
        if f not in index:
            raise ConfigError("data.features", f"no column {f!r} in {path}; columns: {listing(names)}")
        if f == target:
            raise ConfigError("data.features", f"the target {target!r} cannot also be a feature")
        if f in seen:
            raise ConfigError("data.features", f"column {f!r} is listed twice")
        seen.add(f)
    f_cols = [index[f] for f in features]
    fast = _fast_numeric(text, header, len(names), f_cols, t_col)
    if fast is not None:
        x, targets = fast
        task = _infer_task(cfg, targets, target, path)
        if all(_target_problem(v, task) is None for v in targets):
            return _csv_result(x, targets, task, 0, path, features)
    return _csv_checked(cfg, path, text, header, names, target, t_col, f_cols, features)


def _fast_numeric(text: str, header: bool, n_fields: int, f_cols: list[int],
                  t_col: int) -> tuple[np.ndarray, list[str]] | None:
    """numpy's C parser for the common clean case (no quotes, every row as wide as
    the first); None sends the caller to the row-by-row path that names the problem."""
    if '"' in text:
        return None
    lines = [line for line in text.splitlines() if line.strip(" \t,")]
    if any(line.count(",") != n_fields - 1 for line in lines):
        return None
    try:
        x = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=int(header), usecols=f_cols,
                       dtype=np.float64, ndmin=2, comments=None)
        y = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=int(header), usecols=[t_col],
                       dtype=str, ndmin=1, comments=None)
    except (ValueError, IndexError):
        return None
    if len(x) != len(y) or len(x) != len(lines) - int(header) or not np.isfinite(x).all():
        return None
    return x, [v.strip() for v in y.tolist()]


def _target_problem(value: str, task: str) -> str | None:
    """Why a target cell is invalid for ``task``, or None."""
    if not value:
        return "missing"
    if number(value) is not None:
        return None
    if task == "regression" or NON_FINITE.fullmatch(value) or NUMBER.fullmatch(value):
        return why_not_a_number(value)
    return None  # a text class label


def _csv_checked(cfg: DataConfig, path: Path, text: str, header: bool, names: list[str], target: str,
                 t_col: int, f_cols: list[int], features: list[str]) -> RawData:
    """Row by row: finds, counts and names invalid cells (or drops their rows)."""
    rows = _csv_rows(path, text)
    if header:
        next(rows)
    n_fields = len(names)
    values = array("d")
    targets: list[str] = []
    problems: list[tuple[int, str] | None] = []  # per row: (line, what is wrong) for a feature problem
    lines: list[int] = []
    for line, row in rows:
        lines.append(line)
        if len(row) != n_fields:
            problems.append((line, f"{len(row)} fields where the {'header' if header else 'first row'} has {n_fields}"))
            values.extend([0.0] * len(f_cols))
            targets.append("")
            continue
        problem = None
        for c in f_cols:
            v = number(row[c])
            if v is None:
                problem = problem or (line, f"column {names[c]!r}: {why_not_a_number(row[c])}")
                v = 0.0
            values.append(v)
        problems.append(problem)
        targets.append(row[t_col].strip())
    if not lines:
        raise data_error(f"{path} has a header but no data rows")
    task = _infer_task(cfg, targets, target, path)
    keep, bad, first_bad = [], 0, None
    for i, (line, problem) in enumerate(zip(lines, problems)):
        if problem is None:
            why = _target_problem(targets[i], task)
            problem = None if why is None else (line, f"column {target!r}: {why}")
        if problem is None:
            keep.append(i)
            continue
        bad += 1
        first_bad = first_bad or problem
    if bad and not cfg.drop_invalid:
        line, what = first_bad
        raise data_error(f"{path}: {bad} row(s) with missing or invalid values, first at line {line}, {what}; "
                         "fix them or set drop_invalid = true")
    if not keep:
        raise data_error(f"{path} has no valid rows")
    x = np.frombuffer(values, dtype=np.float64).reshape(len(lines), len(f_cols))[keep]
    return _csv_result(x, [targets[i] for i in keep], task, bad, path, features)


def _csv_result(x: np.ndarray, targets: list[str], task: str, dropped: int, path: Path,
                features: list[str]) -> RawData:
    check_features(x, path, lambda j: f"column {features[j]!r}")
    if task == "regression":
        y = np.array([float(v) for v in targets])
        check_targets(y, path, "target")
        return RawData(x, y, task, (), dropped=dropped)
    keys = _class_keys(targets)
    order: dict[Any, str] = {}
    for key, spelling in zip(keys, targets):
        order.setdefault(key, spelling)
    if len(order) > MAX_CLASSES:
        raise too_many_classes(len(order), path)
    ranked = sorted(order)
    index = {k: i for i, k in enumerate(ranked)}
    return RawData(x, np.array([index[k] for k in keys], dtype=np.int64), task,
                   tuple(order[k] for k in ranked), dropped=dropped)


def _class_keys(labels: list[str]) -> list[Any]:
    """What identifies a class: the exact number when every label is one (``1`` and
    ``1.0`` are one class, ``2**63`` and ``2**63 + 1`` two), else the text."""
    if all(number(v) is not None for v in labels):
        return [Decimal(v) for v in labels]
    return labels


def _infer_task(cfg: DataConfig, values: list[str], target: str, path: Path) -> str:
    if cfg.task != "auto":
        return cfg.task
    present = [v for v in values if v]
    if not all(NUMBER.fullmatch(v) or NON_FINITE.fullmatch(v) for v in present):
        return "classification"
    numbers = {Decimal(v) for v in present if number(v) is not None}
    if any(n != n.to_integral_value() for n in numbers):
        return "regression"
    if len(numbers) <= 2:
        return "classification"
    raise ConfigError("data.task", f"{path}: cannot tell whether target {target!r} ({len(numbers)} distinct "
                      "integers) holds classes or a quantity; set task = \"classification\" or \"regression\"")
