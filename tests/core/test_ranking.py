"""The ranking statistic on constructed histories: where training ends beats the
luckiest early epoch, ties go to the first listed, a diverged variant never wins,
and with seeds the mean over seeds of the per-seed statistic ranks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from regtui.core.config import ConfigError, Experiment, TrainConfig
from regtui.core.ranking import Score, end_window, member_value, ranked, winner
from regtui.core.sweep import SweepPoint, best_point

from verdict_histories import history, overfit_curves


@pytest.mark.parametrize(("epochs", "window"), [(0, 1), (1, 1), (9, 1), (10, 1), (11, 2), (30, 3), (150, 15), (3000, 300)])
def test_the_end_window_is_a_tenth_of_the_epochs_at_least_one(epochs: int, window: int) -> None:
    assert end_window(epochs) == window


def test_the_end_statistic_is_the_mean_over_the_window_and_best_is_the_minimum() -> None:
    val = np.array([2.0] + [1.0] * 8 + [0.5, 0.9, 1.1])  # epochs 0..11: the window is the last 2
    assert member_value(val, "end") == pytest.approx(1.0)
    assert member_value(val, "best") == 0.5
    assert member_value(np.array([0.7]), "end") == 0.7  # only epoch 0: the initial weights
    assert math.isnan(member_value(np.array([math.nan, math.nan]), "end"))
    with_nan = np.array([1.0] * 10 + [0.5, math.nan])  # a non-finite value is skipped in the window
    assert member_value(with_nan, "end") == 0.5 and member_value(with_nan, "best") == 0.5
    assert math.isnan(member_value(np.array([1.0, 0.5, math.nan]), "end"))  # a window of nothing finite


def test_an_overfitting_baseline_loses_to_a_steady_regularizer_even_with_a_lower_early_minimum() -> None:
    h = history(overfit_curves())
    assert h["baseline"].best.val_loss < h["L2"].best.val_loss  # the baseline's luckiest epoch is lower ...
    assert h.winner() == "L2"  # ... but it ends far higher
    assert [r.name for r in h.ranked()] == ["L2", "baseline"]
    assert h.winner("best") == "baseline"  # early stopping's view of the same run
    assert h.ranked("best")[0].score.value == h["baseline"].best.val_loss


def test_rank_by_comes_from_the_config_and_is_validated() -> None:
    curves = overfit_curves()
    assert history(curves, rank_by="best").winner() == "baseline"
    with pytest.raises(ConfigError, match="train.rank_by: unknown ranking 'last'; choose one of end, best"):
        Experiment(train=TrainConfig(rank_by="last"))


def test_ties_go_to_the_first_listed_variant() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.5], "Dropout": [1.0, 0.6]})
    assert h.winner() == "baseline"
    assert [r.name for r in h.ranked()] == ["baseline", "L2", "Dropout"]


def test_a_diverged_variant_is_never_ranked_first() -> None:
    # "wild" had the lowest losses of all before it blew up; it is frozen and marked
    h = history({"baseline": [1.0, 0.6, 0.6], "wild": [1.0, 0.1, math.nan]}, statuses={"wild": "diverged"})
    assert h.winner() == "baseline" and h.winner("best") == "baseline"
    assert [r.name for r in h.ranked()] == ["baseline", "wild"]
    alone = history({"wild": [1.0, 0.1, math.nan]}, statuses={"wild": "diverged"})
    assert alone.winner() is None  # nothing may be ranked first


def test_one_diverged_seed_puts_the_variant_behind_every_steady_one() -> None:
    h = history({"baseline": [1.0, 0.6], "L2": [1.0, 0.2]}, seeds=3, seed_status={"L2": ["finished", "diverged", "finished"]})
    order = h.ranked()
    assert [r.name for r in order] == ["baseline", "L2"]
    assert order[1].score.diverged == (False, True, False) and not order[1].score.rankable
    assert h.winner() == "baseline"


def test_with_seeds_the_mean_of_the_per_seed_statistic_ranks() -> None:
    # L2's mean curve is not what ranks: each seed's end statistic is, then their mean
    h = history({"baseline": [1.0, 0.5, 0.5], "L2": [1.0, 0.5, 0.5]}, seeds=3,
                shift={"baseline": [0.0, 0.0, 0.0], "L2": [-0.1, 0.0, 0.07]})
    scores = {r.name: r.score for r in h.ranked()}
    assert scores["L2"].per_seed == pytest.approx((0.4, 0.5, 0.57))
    assert scores["L2"].value == pytest.approx(np.mean([0.4, 0.5, 0.57]))
    assert scores["L2"].std == pytest.approx(np.std([0.4, 0.5, 0.57], ddof=1))
    assert h.winner() == "L2"


def test_the_json_names_the_statistic_order_and_winner() -> None:
    h = history(overfit_curves())
    doc = h.to_json()
    assert doc["ranking"] == {"by": "end", "statistic": "mean val loss over the last 10 % of epochs",
                              "window_epochs": 2, "order": ["L2", "baseline"], "winner": "L2"}
    l2 = doc["variants"][1]
    assert l2["rank"]["place"] == 1 and l2["rank"]["value"] == pytest.approx(np.mean(overfit_curves()["L2"][-2:]))
    assert doc["variants"][0]["best"] == {"epoch": 3, "val_loss": 0.30}  # the early-stopping value stays, labelled
    assert doc["variants"][0]["rank"]["place"] == 2
    assert h.to_json("best")["ranking"]["winner"] == "baseline"


def _point(end: tuple[float, ...], best: tuple[float, ...], statuses: tuple[str, ...] | None = None) -> SweepPoint:
    statuses = statuses or ("finished",) * len(end)
    return SweepPoint({"variants.L2.l2": 0.0}, Score("end", end, tuple(s == "diverged" for s in statuses)),
                      best, end, end, statuses)


def test_sweep_points_rank_by_the_statistic_and_never_crown_a_diverged_one() -> None:
    early_luck = _point((0.9, 0.8), (0.1, 0.1))
    steady = _point((0.4, 0.42), (0.35, 0.36))
    blown = _point((0.1, 0.1), (0.05, 0.05), ("finished", "diverged"))
    assert best_point([early_luck, steady, blown]) is steady
    assert steady.summary()["score"] == {"by": "end", "mean": pytest.approx(0.41), "std": pytest.approx(np.std([0.4, 0.42], ddof=1)),
                                         "rankable": True, "per_seed": [0.4, 0.42]}
    assert best_point([blown]) is None
    assert winner([], "end") is None and ranked([], "end") == []
