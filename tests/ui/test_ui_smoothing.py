"""Unit tests of ``regtui.ui.plotting.smoothing``: TensorBoard's debiased EMA against
hand-computed values and a plain loop, the ``m``/``s``/``t`` cycles, and x ticks."""

from __future__ import annotations

import numpy as np
import pytest

from regtui.ui.plotting.curve_view import CurveView
from regtui.ui.plotting.smoothing import ema
from regtui.ui.plotting.ticks import nice_ticks


def tensorboard_loop(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing, written the way its line chart does it."""
    last, count, out = 0.0, 0, []
    for v in values:
        if not np.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight ** count))
    return out


def test_ema_matches_hand_computed_values() -> None:
    # w = 0.5, y = 1, 3, 5:
    # last: 0.5, 0.5·0.5 + 1.5 = 1.75, 0.875 + 2.5 = 3.375
    # debias: 1 − 0.5 = 0.5, 1 − 0.25 = 0.75, 1 − 0.125 = 0.875
    np.testing.assert_allclose(ema(np.array([1.0, 3.0, 5.0]), 0.5), [1.0, 1.75 / 0.75, 3.375 / 0.875])
    # w = 0.9, y = 10, 0: last 1, 0.9 -> 1/0.1 = 10, 0.9/0.19
    np.testing.assert_allclose(ema(np.array([10.0, 0.0]), 0.9), [10.0, 0.9 / 0.19])


def test_first_value_is_unbiased_and_zero_weight_is_off() -> None:
    y = np.array([4.0, 2.0, 7.0])
    assert ema(y, 0.99)[0] == pytest.approx(4.0)
    np.testing.assert_array_equal(ema(y, 0.0), y)
    with pytest.raises(ValueError):
        ema(y, 1.0)


@pytest.mark.parametrize("weight", [0.6, 0.9, 0.99, 0.999])
def test_ema_matches_the_loop_over_many_blocks(weight: float) -> None:
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=1000)) + 50
    np.testing.assert_allclose(ema(y, weight), tensorboard_loop(list(y), weight), rtol=1e-9)


def test_non_finite_values_pass_through_and_do_not_count() -> None:
    y = np.array([1.0, np.nan, 3.0, np.inf, 5.0])
    got = ema(y, 0.5)
    assert np.isnan(got[1]) and got[3] == np.inf
    np.testing.assert_allclose(got[[0, 2, 4]], ema(np.array([1.0, 3.0, 5.0]), 0.5))
    np.testing.assert_allclose(got, tensorboard_loop(list(y), 0.5))
    assert np.isnan(ema(np.full(3, np.nan), 0.9)).all()
    np.testing.assert_array_equal(ema(np.full(4, 0.3), 0.9), np.full(4, 0.3))


def test_curve_view_cycles() -> None:
    view = CurveView()
    assert (view.metric, view.smoothing, view.x_axis) == ("loss", 0.0, "epochs")
    assert view.next_metric().next_metric().next_metric() == view
    metrics = [CurveView().next_metric().metric, CurveView().next_metric().next_metric().metric]
    assert metrics == ["accuracy", "gap"]
    steps, view = [], CurveView()
    for _ in range(4):
        view = view.next_smoothing()
        steps.append(view.smoothing)
    assert steps == [0.6, 0.9, 0.99, 0.0]
    assert CurveView().next_x_axis().x_axis == "seconds" and CurveView().next_x_axis().next_x_axis().x_axis == "epochs"
    assert CurveView(metric="gap").columns == (None, "gap")
    assert CurveView(smoothing=0.9, x_axis="seconds").header() == "EMA 0.9 · x: seconds"
    assert CurveView().header() == ""


def test_nice_ticks() -> None:
    assert nice_ticks(100, 4) == ([0, 50, 100], ["0", "50", "100"])
    assert nice_ticks(1.3, 4) == ([0, 0.5, 1.0], ["0.0", "0.5", "1.0"])
    assert nice_ticks(0) == ([0.0], ["0"])
