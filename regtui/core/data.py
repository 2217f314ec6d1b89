"""Data sets: generated or loaded offline, seeded, split and standardized.

``make_dataset(DataConfig) -> Dataset`` draws ``n_train + n_val`` samples once
from ``data.seed``, splits them, flips ``label_noise`` of the training labels,
and standardizes with the training split's statistics (docs/semantics.md).

2-D classification sets are generated with numpy (TensorFlow Playground
style); ``regression`` is the Dive-into-Deep-Learning weight-decay problem;
``digits``, ``breast_cancer`` and ``wine`` come bundled with scikit-learn
(imported lazily: it is slow to import).  Imports numpy only, never torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regtui.core.config import DATASETS_2D, DATASETS_FILE, ConfigError, DataConfig


@dataclass(frozen=True)
class Dataset:
    """Arrays ready for training: float32 features, int64 labels or float32 targets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: str
    """"classification" or "regression"."""
    n_classes: int
    """Number of classes (1 for regression: one output)."""
    classes: tuple[str, ...] = ()
    """Class names in label order, where the data names them (CSV / npz / IDX)."""

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else 1

    def summary(self) -> dict:
        """What a run trained on, saved beside its history (class names included)."""
        return {
            "task": self.task,
            "n_train": int(self.x_train.shape[0]),
            "n_val": int(self.x_val.shape[0]),
            "n_features": self.n_features,
            "n_classes": self.n_classes if self.task == "classification" else None,
            "classes": list(self.classes) or None,
        }


# --------------------------------------------------------------------------- generators

def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    x = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    return x, y


def _circles(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 0, 1.0, 0.5)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1), y


def _spirals(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi  # uniform density along the arm
    r = t / (3 * np.pi)
    angle = t + np.pi * y
    return np.stack([r * np.cos(angle), r * np.sin(angle)], 1), y


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, (n, 2))
    x += np.sign(x) * 0.05  # a margin around the axes, as in Playground
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return x, y


def _gaussians(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
    return centres[y] + rng.normal(0, 0.5, (n, 2)), y


_GENERATORS = {"moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor, "gaussians": _gaussians}


def _load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets  # slow import: only when asked for

    loader = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]
    bunch = loader()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


# --------------------------------------------------------------------------- assembly

def _flip_labels(y: np.ndarray, fraction: float, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    y = y.copy()
    count = int(round(fraction * len(y)))
    if count == 0 or n_classes < 2:
        return y
    idx = rng.choice(len(y), size=count, replace=False)
    shift = rng.integers(1, n_classes, size=count)  # to a different class, uniformly
    y[idx] = (y[idx] + shift) % n_classes
    return y


def _file_split(cfg: DataConfig, raw, rng: np.random.Generator):
    """Train/validation arrays of a file data set (its own split, or drawn from its rows)."""
    if raw.x_val is not None:
        def subsample(x, y, n, key):
            if n == 0:
                return x, y
            if n > len(x):
                raise ConfigError(key, f"the file holds {len(x)} rows for this split; asked for {n}")
            pick = rng.permutation(len(x))[:n]
            return x[pick], y[pick]

        return (*subsample(raw.x, raw.y, cfg.n_train, "data.n_train"),
                *subsample(raw.x_val, raw.y_val, cfg.n_val, "data.n_val"))
    n = len(raw.x)
    n_val = cfg.n_val or (n - cfg.n_train if cfg.n_train else max(1, round(0.2 * n)))
    n_train = cfg.n_train or n - n_val
    if n_train < 2 or n_val < 1 or n_train + n_val > n:
        raise ConfigError("data.n_train", f"the file holds {n} valid rows; cannot split {n_train} train + {n_val} validation")
    order = rng.permutation(n)
    tr, va = order[:n_train], order[n_train:n_train + n_val]
    return raw.x[tr], raw.y[tr], raw.x[va], raw.y[va]


def make_dataset(cfg: DataConfig, base_dir: str | None = None) -> Dataset:
    """Build the train/validation split the config describes; ``base_dir`` is where
    a relative ``data.path`` resolves (the preset's folder)."""
    rng = np.random.default_rng(cfg.seed)
    n = cfg.n_train + cfg.n_val
    classes: tuple[str, ...] = ()
    if cfg.dataset in DATASETS_FILE:
        from regtui.core.datafiles import load_file_dataset

        raw = load_file_dataset(cfg, base_dir)
        x_train, y_train, x_val, y_val = _file_split(cfg, raw, rng)
        task, classes = raw.task, raw.classes
        n_classes = len(classes) if task == "classification" else 1
        return _finish(cfg, x_train, y_train, x_val, y_val, task, n_classes, classes, rng)
    if cfg.dataset in DATASETS_2D:
        x, y = _GENERATORS[cfg.dataset](n, rng)
        x = x + rng.normal(0.0, cfg.noise, x.shape)
        task, n_classes = "classification", 2
    elif cfg.dataset == "regression":
        x = rng.normal(0.0, 1.0, (n, cfg.n_features))
        y = 0.05 + 0.01 * x.sum(1) + rng.normal(0.0, 0.01, n)
        task, n_classes = "regression", 1
    else:
        x_all, y_all = _load_sklearn(cfg.dataset)
        if n > len(x_all):
            raise ConfigError(
                "data.n_train",
                f"{cfg.dataset} has {len(x_all)} samples; n_train + n_val = {n} is too many",
            )
        pick = rng.permutation(len(x_all))[:n]
        x, y = x_all[pick], y_all[pick]
        task, n_classes = "classification", int(y_all.max()) + 1
    x_train, x_val = x[: cfg.n_train], x[cfg.n_train:]
    y_train, y_val = y[: cfg.n_train], y[cfg.n_train:]
    return _finish(cfg, x_train, y_train, x_val, y_val, task, n_classes, classes, rng)


def _finish(cfg: DataConfig, x_train, y_train, x_val, y_val, task: str, n_classes: int,
            classes: tuple[str, ...], rng: np.random.Generator) -> Dataset:
    """Label noise, standardization and dtypes, the same for every source."""
    if task == "classification":
        y_train = _flip_labels(y_train, cfg.label_noise, n_classes, rng)
    if cfg.standardize:
        mean = x_train.mean(0)
        std = x_train.std(0)  # population std (ddof=0)
        std = np.where(std > 0, std, 1.0)
        x_train = (x_train - mean) / std
        x_val = (x_val - mean) / std
    label_type = np.int64 if task == "classification" else np.float32
    return Dataset(
        x_train.astype(np.float32), y_train.astype(label_type),
        x_val.astype(np.float32), y_val.astype(label_type),
        task, n_classes, classes,
    )
