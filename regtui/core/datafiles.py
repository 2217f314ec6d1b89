"""Bring your own data: which reader a file data set uses, and where its file is.

``load_file_dataset(cfg, base_dir) -> RawData`` resolves ``data.path``
(relative paths against the preset's folder; the file must be a regular file,
or for IDX a folder, so a FIFO or ``/dev/zero`` never hangs or fills memory)
and hands it to its reader: ``csvfile.load_csv``, ``arrayfiles.load_idx`` or
``arrayfiles.load_npz``.  Every problem is a one-line ``ConfigError`` naming
the file and what is wrong; nothing is silently coerced and nothing is
unpickled (see the readers' docstrings for the rules, ``rawdata`` for the
checks they share).  Imports numpy and the standard library only.
"""

from __future__ import annotations

from pathlib import Path

from regtui.core.arrayfiles import load_idx, load_npz
from regtui.core.config import ConfigError, DataConfig, resolve_data_path
from regtui.core.csvfile import load_csv
from regtui.core.rawdata import RawData


def resolve_path(cfg: DataConfig, base_dir: str | Path | None) -> Path:
    if not cfg.path:
        raise ConfigError("data.path", f"data set {cfg.dataset!r} needs a path to the file or folder")
    path = resolve_data_path(cfg.path, base_dir)
    if not path.exists():
        raise ConfigError("data.path", f"no such file or folder: {path}")
    if cfg.dataset == "idx" and not path.is_dir():
        raise ConfigError("data.path", f"{path} must be a folder holding the IDX files")
    if cfg.dataset != "idx" and not path.is_file():  # a FIFO or /dev/zero would hang or fill memory
        raise ConfigError("data.path", f"{path} is not a regular file")
    return path


def load_file_dataset(cfg: DataConfig, base_dir: str | Path | None = None) -> RawData:
    path = resolve_path(cfg, base_dir)
    loader = {"csv": load_csv, "idx": load_idx, "npz": load_npz}[cfg.dataset]
    return loader(cfg, path)
