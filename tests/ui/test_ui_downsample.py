"""The min/max downsampler and the chart helpers it feeds (pure numpy, no app)."""

from __future__ import annotations

import numpy as np
import pytest

from regtui.ui.plotting.downsample import downsample
from regtui.ui.plotting.ticks import epoch_ticks, log_ticks


def columns_of(x: np.ndarray, lo: float, hi: float, width: int) -> np.ndarray:
    return np.minimum(((x - lo) / (hi - lo) * width).astype(int), width - 1)


@pytest.mark.parametrize("n,width", [(5000, 60), (1001, 7), (200, 99), (12345, 200)])
def test_keeps_every_columns_min_and_max(n: int, width: int) -> None:
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float)
    y = np.cumsum(rng.normal(size=n))
    xs, ys = downsample(x, y, width)
    assert xs.size <= 2 * width
    assert np.all(np.diff(xs) > 0), "points stay in x order, without duplicates"
    cols, kept_cols = columns_of(x, x[0], x[-1], width), columns_of(xs, x[0], x[-1], width)
    for c in np.unique(cols):
        assert ys[kept_cols == c].min() == y[cols == c].min()
        assert ys[kept_cols == c].max() == y[cols == c].max()
    assert ys.min() == y.min() and ys.max() == y.max()


def test_kept_points_are_original_points() -> None:
    x = np.arange(3000.0)
    y = np.sin(x / 50.0)
    xs, ys = downsample(x, y, 40)
    np.testing.assert_array_equal(ys, y[xs.astype(int)])


def test_short_series_come_back_whole() -> None:
    x, y = np.arange(50.0), np.linspace(1, 0, 50)
    xs, ys = downsample(x, y, 80)
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)


def test_no_nan_or_inf_survives() -> None:
    x = np.arange(10_000.0)
    y = np.ones_like(x)
    y[::7] = np.nan
    y[5] = np.inf
    y[9] = -np.inf
    y[500] = 42.0
    for width in (10, 10_000):
        xs, ys = downsample(x, y, width)
        assert np.isfinite(xs).all() and np.isfinite(ys).all()
        assert 42.0 in ys


def test_all_nan_and_empty_give_empty() -> None:
    xs, ys = downsample(np.arange(5.0), np.full(5, np.nan), 10)
    assert xs.size == ys.size == 0
    xs, ys = downsample(np.array([]), np.array([]), 10)
    assert xs.size == 0


def test_what_the_chart_gets_does_not_grow_with_length() -> None:
    """The chart draws 2 points per column however long the series: 1,000 or
    1,000,000 epochs hand plotext the same number of points.  (How long the
    downsampling and a frame take is measured in benchmarks/bench_charts.py.)"""
    sizes = set()
    for n in (1_000, 10_000, 100_000, 1_000_000):
        x = np.arange(float(n))
        y = np.sin(x * (40 * np.pi / n)) + np.linspace(0.0, 1.0, n) ** 2  # a min and a max in every column
        xs, ys = downsample(x, y, 70)
        sizes.add(xs.size)
        assert ys.max() == y.max() and ys.min() == y.min()
    assert sizes == {140}


def test_epoch_ticks_are_whole_epochs() -> None:
    assert epoch_ticks(200, 4) == [0, 50, 100, 150, 200]
    assert epoch_ticks(7, 4) == [0, 2, 4, 6]
    assert all(isinstance(t, int) for t in epoch_ticks(5000, 5))


def test_log_ticks_cover_the_range() -> None:
    assert log_ticks(-3.2, 0.4) == [-3.0, -2.0, -1.0, 0.0]
    ticks = log_ticks(-0.5, -0.2)
    assert ticks[0] == pytest.approx(-0.5) and ticks[-1] == pytest.approx(-0.2)
    assert log_ticks(float("nan"), 1.0) == []
