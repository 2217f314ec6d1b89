"""Bring your own data: CSV files, MNIST-style IDX folders and NumPy ``.npz``.

``load_file_dataset(cfg, base_dir) -> RawData`` reads the file(s) named by
``data.path`` (relative paths resolve against the preset's folder) and
returns features, targets, the task, class names and an optional validation
split the file provides itself.  Every problem is a ``ConfigError`` naming the
file, and for CSV the first offending line and column; nothing is silently
coerced, and nothing is unpickled (``np.load(allow_pickle=False)``).
Imports numpy and the standard library only.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regtui.core.config import ConfigError, DataConfig

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "val_x": "t10k-images-idx3-ubyte",
    "val_y": "t10k-labels-idx1-ubyte",
}
MAX_CLASSES = 1000


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


def resolve_path(cfg: DataConfig, base_dir: str | Path | None) -> Path:
    if not cfg.path:
        raise ConfigError("data.path", f"data set {cfg.dataset!r} needs a path to the file or folder")
    path = Path(cfg.path).expanduser()
    if not path.is_absolute() and base_dir:
        path = Path(base_dir) / path
    if not path.exists():
        raise ConfigError("data.path", f"no such file or folder: {path}")
    if cfg.dataset == "idx" and not path.is_dir():
        raise ConfigError("data.path", f"{path} must be a folder holding the IDX files")
    if cfg.dataset != "idx" and not path.is_file():  # a FIFO or /dev/zero would hang or fill memory
        raise ConfigError("data.path", f"{path} is not a regular file")
    return path


def load_file_dataset(cfg: DataConfig, base_dir: str | Path | None = None) -> RawData:
    path = resolve_path(cfg, base_dir)
    loader = {"csv": _load_csv, "idx": _load_idx, "npz": _load_npz}[cfg.dataset]
    return loader(cfg, path)


# --------------------------------------------------------------------------- CSV

def _is_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


def _load_csv(cfg: DataConfig, path: Path) -> RawData:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("data.path", f"cannot read {path}: {exc}") from None
    head = [r for r in csv.reader(io.StringIO("\n".join(text.splitlines()[:50]))) if r and any(c.strip() for c in r)]
    if not head:
        raise ConfigError("data.path", f"{path} is empty")
    first = head[0]
    header = not all(_is_number(c) for c in first) and len(head) > 1 and any(_is_number(c) for c in head[1])
    names = [c.strip() for c in first] if header else [f"column{i + 1}" for i in range(len(first))]
    target = cfg.target or names[-1]
    if target not in names:
        raise ConfigError("data.target", f"no column {target!r} in {path}; columns: {', '.join(names)}")
    t_col = names.index(target)
    features = list(cfg.features) or [n for n in names if n != target]
    for f in features:
        if f not in names:
            raise ConfigError("data.features", f"no column {f!r} in {path}; columns: {', '.join(names)}")
        if f == target:
            raise ConfigError("data.features", f"the target {target!r} cannot also be a feature")
    f_cols = [names.index(f) for f in features]
    fast = _fast_numeric(text, header, f_cols, t_col)
    if fast is not None:
        x, targets = fast
        task = _infer_task(cfg, targets, target)
        if all(targets) and (task == "classification" or _all_numbers(targets)):
            return _csv_result(x, targets, task, 0)
    return _csv_checked(cfg, path, text, header, names, target, t_col, f_cols)


def _csv_checked(cfg: DataConfig, path: Path, text: str, header: bool, names: list[str],
                 target: str, t_col: int, f_cols: list[int]) -> RawData:
    """Row by row: finds, counts and names invalid cells (or drops their rows)."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    body = rows[1:] if header else rows
    first_line = 2 if header else 1
    raw_targets = [r[t_col].strip() if t_col < len(r) else "" for r in body]
    task = _infer_task(cfg, raw_targets, target)
    keep, bad, first_bad = [], 0, None
    for i, row in enumerate(body):
        cols = f_cols + ([t_col] if task == "regression" else [])
        problem = next((c for c in cols if c >= len(row) or not _is_number(row[c])), None)
        if problem is None and task == "classification" and not raw_targets[i]:
            problem = t_col
        if problem is None:
            keep.append(i)
            continue
        bad += 1
        if first_bad is None:
            value = row[problem] if problem < len(row) else ""
            first_bad = (first_line + i, names[problem], value)
    if bad and not cfg.drop_invalid:
        line, col, value = first_bad
        raise ConfigError("data.path", f"{path}: {bad} row(s) with missing or non-numeric values, first at line "
                          f"{line}, column {col!r} ({value!r}); fix them or set drop_invalid = true")
    if not keep:
        raise ConfigError("data.path", f"{path} has no valid rows")
    x = np.array([[float(body[i][c]) for c in f_cols] for i in keep], dtype=np.float64)
    return _csv_result(x, [raw_targets[i] for i in keep], task, bad)


def _all_numbers(values: list[str]) -> bool:
    return all(_is_number(v) for v in values)


def _fast_numeric(text: str, header: bool, f_cols: list[int], t_col: int) -> tuple[np.ndarray, list[str]] | None:
    """numpy's C parser for the common clean case; None sends the caller to the
    row-by-row path that finds and names the offending cell."""
    try:
        x = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=int(header), usecols=f_cols,
                       dtype=np.float64, ndmin=2, comments=None)
        y = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=int(header), usecols=[t_col],
                       dtype=str, ndmin=1, comments=None)
    except (ValueError, IndexError):
        return None
    if len(x) != len(y) or not np.isfinite(x).all():
        return None
    return x, [v.strip().strip('"') for v in y.tolist()]


def _csv_result(x: np.ndarray, targets: list[str], task: str, dropped: int) -> RawData:
    if task == "regression":
        return RawData(x, np.array([float(v) for v in targets]), task, (), dropped=dropped)
    classes = _class_names(targets)
    index = {c: k for k, c in enumerate(classes)}
    return RawData(x, np.array([index[v] for v in targets], dtype=np.int64), task, classes, dropped=dropped)


def _class_names(labels: list[str]) -> tuple[str, ...]:
    unique = set(labels)
    if len(unique) > MAX_CLASSES:
        raise ConfigError("data.target", f"{len(unique)} distinct classes; at most {MAX_CLASSES}")
    if all(_is_number(v) for v in unique):
        return tuple(sorted(unique, key=float))
    return tuple(sorted(unique))


def _infer_task(cfg: DataConfig, values: list[str], target: str) -> str:
    if cfg.task != "auto":
        return cfg.task
    present = [v for v in values if v]
    if not all(_is_number(v) for v in present):
        return "classification"
    numbers = {float(v) for v in present}
    if any(not n.is_integer() for n in numbers):
        return "regression"
    if len(numbers) <= 2:
        return "classification"
    raise ConfigError("data.task", f"cannot tell whether target {target!r} ({len(numbers)} distinct integers) "
                      "holds classes or a quantity; set task = \"classification\" or \"regression\"")


# --------------------------------------------------------------------------- IDX

def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise ConfigError("data.path", f"{folder} has no {stem}[.gz]")


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one IDX file (gzip or plain), checking magic number, dimensions and length."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ConfigError("data.path", f"cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise ConfigError("data.path", f"{path}: wrong magic number {raw[:4].hex()} "
                          f"(expected 0000080{ndim}: unsigned bytes, {ndim} dimension(s))")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ConfigError("data.path", f"{path}: truncated header")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise ConfigError("data.path", f"{path}: holds {len(raw) - header} data bytes but its header "
                          f"{'×'.join(map(str, dims))} promises {expected} (truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_idx(cfg: DataConfig, folder: Path) -> RawData:
    if not folder.is_dir():
        raise ConfigError("data.path", f"{folder} must be a folder holding the IDX files")
    arrays = {}
    for key, stem in IDX_FILES.items():
        arrays[key] = read_idx(_find_idx(folder, stem), 3 if key.endswith("x") else 1)
    for split in ("train", "val"):
        n_x, n_y = len(arrays[f"{split}_x"]), len(arrays[f"{split}_y"])
        if n_x != n_y:
            stem = IDX_FILES[f"{split}_y"]
            raise ConfigError("data.path", f"{folder / stem}: {n_y} labels for {n_x} images")
    if arrays["train_x"].shape[1:] != arrays["val_x"].shape[1:]:
        raise ConfigError("data.path", f"{folder}: train and t10k images differ in size")
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255.0  # noqa: E731
    y, y_val = arrays["train_y"].astype(np.int64), arrays["val_y"].astype(np.int64)
    n_classes = int(max(y.max(initial=0), y_val.max(initial=0))) + 1
    return RawData(flat(arrays["train_x"]), y, "classification", tuple(str(i) for i in range(n_classes)),
                   flat(arrays["val_x"]), y_val)


# --------------------------------------------------------------------------- NPZ

def _load_npz(cfg: DataConfig, path: Path) -> RawData:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ConfigError("data.path", f"cannot read {path} as .npz: {exc}") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise ConfigError("data.path", f"{path} has no array {key!r} (has: {', '.join(arrays) or 'none'})")
    if ("X_val" in arrays) != ("y_val" in arrays):
        raise ConfigError("data.path", f"{path}: X_val and y_val come together")
    x, y = _npz_pair(arrays["X"], arrays["y"], path, "X", "y")
    val = _npz_pair(arrays["X_val"], arrays["y_val"], path, "X_val", "y_val") if "X_val" in arrays else (None, None)
    if val[0] is not None and val[0].shape[1] != x.shape[1]:
        raise ConfigError("data.path", f"{path}: X_val has {val[0].shape[1]} features, X has {x.shape[1]}")
    all_y = y if val[1] is None else np.concatenate([y, val[1]])
    integer = np.all(np.mod(all_y, 1) == 0)
    task = cfg.task if cfg.task != "auto" else ("classification" if integer and len(np.unique(all_y)) <= 2 else None)
    if task is None:
        if not integer:
            task = "regression"
        else:
            raise ConfigError("data.task", f"{path}: y holds {len(np.unique(all_y))} distinct integers; "
                              "set task = \"classification\" or \"regression\"")
    if task == "classification":
        classes = np.unique(all_y)
        if len(classes) > MAX_CLASSES:
            raise ConfigError("data.target", f"{len(classes)} distinct classes; at most {MAX_CLASSES}")
        lookup = {v: i for i, v in enumerate(classes.tolist())}
        to_idx = lambda a: np.array([lookup[v] for v in a.tolist()], dtype=np.int64)  # noqa: E731
        names = tuple(f"{c:g}" for c in classes.tolist())
        return RawData(x, to_idx(y), task, names, val[0], None if val[1] is None else to_idx(val[1]))
    return RawData(x, y.astype(np.float64), task, (), val[0], val[1])


def _npz_pair(x: np.ndarray, y: np.ndarray, path: Path, xn: str, yn: str) -> tuple[np.ndarray, np.ndarray]:
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise ConfigError("data.path", f"{path}: {xn} and {yn} must be numeric arrays")
    x = x.reshape(len(x), -1).astype(np.float64) if x.ndim != 2 else x.astype(np.float64)
    y = y.reshape(-1).astype(np.float64)
    if len(x) != len(y):
        raise ConfigError("data.path", f"{path}: {xn} has {len(x)} rows but {yn} has {len(y)}")
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise ConfigError("data.path", f"{path}: {xn}/{yn} contain NaN or infinite values")
    return x, y
