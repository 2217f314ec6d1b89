"""Binary data files: MNIST-style IDX folders and NumPy ``.npz`` archives.

``load_idx(cfg, folder)`` reads the four IDX files (``train-*`` and
``t10k-*``, gzip or not), ``load_npz(cfg, path)`` the arrays ``X``, ``y`` (and
``X_val``, ``y_val``).  Sizes are checked before anything is allocated: an
IDX header promising more than the memory available is refused unread, gzip
data is decompressed only up to the size its header promises (a gzip bomb
stops there), and an ``.npz`` member's shape and dtype are read from its
header before its data.  0 items, 0×0 images, 0 features and 0-d arrays are
errors; integer labels stay exact.  Nothing is unpickled
(``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import gzip
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from regtui.core.config import ConfigError, DataConfig
from regtui.core.memory import check_fits
from regtui.core.rawdata import MAX_CLASSES, RawData, check_features, check_targets, data_error, too_many_classes

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "val_x": "t10k-images-idx3-ubyte",
    "val_y": "t10k-labels-idx1-ubyte",
}


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise ConfigError("data.path", f"{folder} has no {stem}[.gz]")


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one IDX file (gzip or plain), checking magic number, dimensions and
    length before the data is read: what its header promises must fit in memory,
    and gzip data is decompressed only up to that size."""
    try:
        with path.open("rb") as raw_file:
            gz = raw_file.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:  # type: ignore[operator]
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08 or head[3] != ndim:
                raise data_error(f"{path}: wrong magic number {head.hex()} "
                                 f"(expected 0000080{ndim}: unsigned bytes, {ndim} dimension(s))")
            dim_bytes = fh.read(4 * ndim)
            if len(dim_bytes) < 4 * ndim:
                raise data_error(f"{path}: truncated header")
            dims = [int.from_bytes(dim_bytes[4 * i: 4 * i + 4], "big") for i in range(ndim)]
            _check_idx_dims(path, dims)
            expected = math.prod(dims)
            if not gz:
                held = path.stat().st_size - 4 - 4 * ndim
                if held != expected:
                    raise data_error(f"{path}: holds {held} data bytes but its header {'×'.join(map(str, dims))} "
                                     f"promises {expected} (truncated or corrupt)")
            check_fits(expected * 5, f"{path}: its header's {'×'.join(map(str, dims))} bytes "
                       "(read, then as float32)", "data.path")
            data = fh.read(expected + 1)  # bounded: a gzip bomb stops here
    except ConfigError:
        raise
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise data_error(f"cannot read {path}: {exc}") from None
    if len(data) != expected:
        got = "more" if len(data) > expected else f"only {len(data)}"
        raise data_error(f"{path}: holds {got} data bytes but its header {'×'.join(map(str, dims))} "
                         f"promises {expected} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _check_idx_dims(path: Path, dims: list[int]) -> None:
    if dims[0] == 0:
        raise data_error(f"{path}: holds no items (its header says 0)")
    if len(dims) > 1 and math.prod(dims[1:]) == 0:
        raise data_error(f"{path}: images of {'×'.join(map(str, dims[1:]))} pixels hold no features")


def load_idx(cfg: DataConfig, folder: Path) -> RawData:
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

NPZ_KEYS = ("X", "y", "X_val", "y_val")


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of the arrays regtui reads, from their headers (no data read)."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            members = set(zf.namelist())
            for key in NPZ_KEYS:
                if f"{key}.npy" not in members:
                    continue
                with zf.open(f"{key}.npy") as fh:
                    version = np.lib.format.read_magic(fh)
                    reader = {(1, 0): np.lib.format.read_array_header_1_0,
                              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if reader is None:
                        raise data_error(f"{path}: {key} is in .npy format version {version}, which is not read")
                    shape, _, dtype = reader(fh)
                out[key] = (tuple(int(d) for d in shape), dtype)
            others = sorted(m[:-4] for m in members if m.endswith(".npy"))
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise data_error(f"cannot read {path} as .npz: {exc}") from None
    for key in ("X", "y"):
        if key not in out:
            raise data_error(f"{path} has no array {key!r} (has: {', '.join(others) or 'none'})")
    return out


def load_npz(cfg: DataConfig, path: Path) -> RawData:
    headers = _npz_headers(path)
    if ("X_val" in headers) != ("y_val" in headers):
        raise data_error(f"{path}: X_val and y_val come together")
    need = 0
    for key, (shape, dtype) in headers.items():
        if dtype.hasobject or dtype.kind not in "biuf":
            raise data_error(f"{path}: {key} holds {dtype} values; X and y must be numeric arrays (read without unpickling)")
        if not shape:
            raise data_error(f"{path}: {key} is a single number (a 0-d array); expected one row per sample")
        need += math.prod(shape) * (dtype.itemsize + 8)  # as stored, plus its float64 copy
    shapes = ", ".join(f"{k} {'×'.join(map(str, s))} {d}" for k, (s, d) in headers.items())
    check_fits(need, f"{path}: its arrays ({shapes})", "data.path")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in headers}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise data_error(f"cannot read {path} as .npz: {exc}") from None
    x, y = _npz_pair(arrays["X"], arrays["y"], path, "X", "y")
    val = _npz_pair(arrays["X_val"], arrays["y_val"], path, "X_val", "y_val") if "X_val" in arrays else (None, None)
    if val[0] is not None and val[0].shape[1] != x.shape[1]:
        raise data_error(f"{path}: X_val has {val[0].shape[1]} features, X has {x.shape[1]}")
    all_y = y if val[1] is None else np.concatenate([y, val[1]])
    integer = all_y.dtype.kind in "biu" or bool(np.all(np.mod(all_y, 1) == 0))
    n_distinct = len(np.unique(all_y))
    task = cfg.task if cfg.task != "auto" else ("classification" if integer and n_distinct <= 2 else None)
    if task is None:
        if not integer:
            task = "regression"
        else:
            raise ConfigError("data.task", f"{path}: y holds {n_distinct} distinct integers; "
                              "set task = \"classification\" or \"regression\"")
    if task == "classification":
        classes = np.unique(all_y)  # in y's own dtype: uint64 2**63 and 2**63 + 1 stay apart
        if len(classes) > MAX_CLASSES:
            raise too_many_classes(len(classes), path)
        to_idx = lambda a: np.searchsorted(classes, a).astype(np.int64)  # noqa: E731
        names = tuple(str(c) if classes.dtype.kind in "biu" else repr(float(c)).removesuffix(".0")
                      for c in classes.tolist())
        return RawData(x, to_idx(y), task, names, val[0], None if val[1] is None else to_idx(val[1]))
    y64 = y.astype(np.float64)
    check_targets(y64, path, "y")
    y_val = None if val[1] is None else val[1].astype(np.float64)
    if y_val is not None:
        check_targets(y_val, path, "y_val")
    return RawData(x, y64, task, (), val[0], y_val)


def _npz_pair(x: np.ndarray, y: np.ndarray, path: Path, xn: str, yn: str) -> tuple[np.ndarray, np.ndarray]:
    """Features as float64 rows × columns; targets in their own dtype, one per row."""
    if len(x) == 0:
        raise data_error(f"{path}: {xn} has no rows")
    x = x.reshape(len(x), -1) if x.ndim != 2 else x
    if x.shape[1] == 0:
        raise data_error(f"{path}: {xn} has 0 features per row; nothing to learn from")
    if y.ndim > 1 and math.prod(y.shape[1:]) != 1:
        raise data_error(f"{path}: {yn} has shape {'×'.join(map(str, y.shape))}; expected one target per row")
    y = y.reshape(-1)
    if len(x) != len(y):
        raise data_error(f"{path}: {xn} has {len(x)} rows but {yn} has {len(y)}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise data_error(f"{path}: {yn} holds NaN or infinite values")
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    x = x.astype(np.float64)
    check_features(x, path, lambda j: f"{xn}[:, {j}]")
    return x, y
