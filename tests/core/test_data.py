"""Data sets: seeded, split, standardized with the training split's statistics."""

from __future__ import annotations

import numpy as np
import pytest

from regtui.core.config import DATASETS_2D, ConfigError, DataConfig, Experiment
from regtui.core.data import make_dataset


@pytest.mark.parametrize("name", DATASETS_2D + ("regression",))
def test_seeded_determinism_sizes_and_types(name):
    cfg = DataConfig(dataset=name, n_train=40, n_val=25, seed=3, n_features=7)
    a, b = make_dataset(cfg), make_dataset(cfg)
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    other = make_dataset(DataConfig(dataset=name, n_train=40, n_val=25, seed=4, n_features=7))
    assert not np.array_equal(a.x_train, other.x_train)
    assert a.x_train.shape == (40, 7 if name == "regression" else 2)
    assert a.x_val.shape == (25, a.x_train.shape[1])
    assert a.y_train.shape == (40,) and a.y_val.shape == (25,)
    assert a.x_train.dtype == np.float32
    if name == "regression":
        assert a.task == "regression" and a.n_outputs == 1 and a.y_train.dtype == np.float32
    else:
        assert a.task == "classification" and a.n_classes == 2 and a.y_train.dtype == np.int64
        assert set(np.unique(a.y_train)) == {0, 1}


@pytest.mark.parametrize("name", DATASETS_2D)
def test_standardized_with_training_statistics(name):
    cfg = DataConfig(dataset=name, n_train=200, n_val=300, seed=1)
    std = make_dataset(cfg)
    raw = make_dataset(DataConfig(dataset=name, n_train=200, n_val=300, seed=1, standardize=False))
    np.testing.assert_allclose(std.x_train.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(std.x_train.std(0), 1.0, atol=1e-5)  # population std (ddof=0)
    mean = raw.x_train.astype(np.float64).mean(0)
    sd = raw.x_train.astype(np.float64).std(0)
    np.testing.assert_allclose(std.x_val, (raw.x_val - mean) / sd, atol=1e-5)  # the same statistics
    assert np.abs(std.x_val.mean(0)).max() > 1e-4  # not re-standardized on its own
    assert np.array_equal(std.y_train, raw.y_train) and np.array_equal(std.y_val, raw.y_val)


def test_population_not_sample_std():
    cfg = DataConfig(dataset="moons", n_train=5, n_val=3, seed=0)
    x = make_dataset(cfg).x_train
    np.testing.assert_allclose(x.std(0, ddof=0), 1.0, atol=1e-5)
    assert abs(x.std(0, ddof=1)[0] - 1.0) > 0.05


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5])
def test_label_noise_flips_that_fraction_of_training_labels_only(fraction):
    clean = make_dataset(DataConfig(dataset="gaussians", n_train=200, n_val=100, seed=2))
    noisy = make_dataset(DataConfig(dataset="gaussians", n_train=200, n_val=100, seed=2, label_noise=fraction))
    flipped = int((clean.y_train != noisy.y_train).sum())
    assert flipped == round(fraction * 200)
    assert np.array_equal(clean.y_val, noisy.y_val)
    assert np.array_equal(clean.x_train, noisy.x_train) and np.array_equal(clean.x_val, noisy.x_val)


def test_label_noise_on_many_classes_moves_to_another_class():
    clean = make_dataset(DataConfig(dataset="wine", n_train=100, n_val=50, seed=0))
    noisy = make_dataset(DataConfig(dataset="wine", n_train=100, n_val=50, seed=0, label_noise=0.3))
    changed = clean.y_train != noisy.y_train
    assert changed.sum() == 30
    assert noisy.y_train.min() >= 0 and noisy.y_train.max() < 3


def test_regression_follows_the_d2l_model():
    """y = 0.05 + Σ 0.01·x + ε, ε ~ N(0, 0.01²): least squares recovers it."""
    cfg = DataConfig(dataset="regression", n_train=4000, n_val=10, n_features=5, seed=0, standardize=False)
    ds = make_dataset(cfg)
    x, y = ds.x_train.astype(np.float64), ds.y_train.astype(np.float64)
    np.testing.assert_allclose(x.mean(0), 0.0, atol=0.06)
    np.testing.assert_allclose(x.std(0), 1.0, atol=0.06)
    design = np.hstack([np.ones((len(x), 1)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(coef[0], 0.05, atol=1e-3)
    np.testing.assert_allclose(coef[1:], 0.01, atol=1e-3)
    residual = y - design @ coef
    assert residual.std() == pytest.approx(0.01, rel=0.1)


@pytest.mark.parametrize("name,classes,features,total", [("digits", 10, 64, 1797), ("breast_cancer", 2, 30, 569), ("wine", 3, 13, 178)])
def test_bundled_sets_load_offline(name, classes, features, total):
    ds = make_dataset(DataConfig(dataset=name, n_train=total - 20, n_val=20, seed=0))
    assert ds.n_classes == classes and ds.n_features == features
    assert ds.x_train.shape == (total - 20, features) and ds.x_val.shape == (20, features)
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) == set(range(classes))
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()  # constant pixels: std 0 handled


def test_bundled_set_with_too_many_samples_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        make_dataset(DataConfig(dataset="digits", n_train=1700, n_val=500))
    assert info.value.key == "data.n_train"
    assert "data.n_train" in str(info.value) and "1797" in str(info.value)


def test_train_and_val_are_disjoint_draws():
    ds = make_dataset(DataConfig(dataset="digits", n_train=300, n_val=300, seed=0, standardize=False))
    train_rows = {row.tobytes() for row in ds.x_train}
    overlap = sum(row.tobytes() in train_rows for row in ds.x_val)
    assert overlap <= 5  # digits has a handful of duplicate images, no shared samples otherwise


def test_experiment_default_data_is_valid():
    ds = make_dataset(Experiment().data)
    assert ds.x_train.shape[0] == Experiment().data.n_train
