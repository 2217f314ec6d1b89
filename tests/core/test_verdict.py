"""The verdict names the right winner, margin, drift and noise call on constructed
histories (ties included), and the paired test matches scipy."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from regtui.core.config import Experiment, TrainConfig, VariantConfig
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochMetrics
from regtui.core.verdict import paired_test, verdict


def history(curves: dict[str, list[float]], *, seeds: int = 1, train: float = 0.1,
            statuses: dict[str, str] | None = None, shift: dict[str, list[float]] | None = None) -> RunHistory:
    """A RunHistory whose val losses follow ``curves`` (per variant; every seed the same
    curve plus ``shift[name][seed]``); the first variant with no regularizer is the baseline."""
    variants = tuple(VariantConfig(n) if n == "baseline" else VariantConfig(n, l2=1e-3) for n in curves)
    exp = Experiment(variants=variants, train=TrainConfig(epochs=len(next(iter(curves.values()))) - 1, seeds=seeds))
    h = RunHistory(exp)
    epochs = len(next(iter(curves.values())))
    for epoch in range(epochs):
        metrics, st = [], []
        for name, curve in curves.items():
            for s in range(seeds):
                val = curve[epoch] + (shift or {}).get(name, [0.0] * seeds)[s]
                metrics.append(EpochMetrics(epoch, train, val, None, None, train, 0.0, 1.0, val - train, float(epoch)))
                st.append((statuses or {}).get(name, "running" if epoch < epochs - 1 else "finished"))
        h.add(SimpleNamespace(epoch=epoch, seconds=float(epoch), metrics=tuple(metrics), statuses=tuple(st)))
    return h


def test_names_the_winner_its_epoch_and_margin_over_the_baseline() -> None:
    h = history({"baseline": [1.0, 0.5, 0.6, 0.9], "L2": [1.0, 0.6, 0.4, 0.45], "Dropout": [1.0, 0.7, 0.5, 0.5]})
    text = verdict(h)
    assert text.startswith("L2 reached the lowest validation loss (0.4 at epoch 2), 20% below the baseline's best.")
    assert "baseline's validation loss rose to 0.9 by epoch 3" in text
    assert "One seed only" in text


def test_a_tie_goes_to_the_first_listed_variant_and_is_called_too_close() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.5], "Dropout": [1.0, 0.6]})
    assert h.best_variant() == "baseline"
    text = verdict(h)
    assert text.startswith("baseline reached the lowest validation loss (0.5 at epoch 1).")
    assert "too close to call" in text and "within 0.0%" in text


def test_within_one_percent_is_too_close_with_one_seed() -> None:
    text = verdict(history({"baseline": [1.0, 0.500], "L2": [1.0, 0.497]}))
    assert text.startswith("L2 reached the lowest")
    assert "L2 and baseline are within 0.6% of each other: too close to call" in text


def test_over_seeds_a_consistent_winner_is_significant() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.4]}, seeds=4,
                shift={"baseline": [0.0, 0.01, -0.01, 0.02], "L2": [0.0, 0.012, -0.011, 0.018]})
    text = verdict(h)
    assert "Over 4 seeds L2 beats the runner-up baseline (paired t-test p = " in text


def test_over_seeds_a_noisy_difference_is_within_noise() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.49]}, seeds=4,
                shift={"baseline": [0.0, 0.1, -0.1, 0.05], "L2": [0.08, -0.1, 0.05, -0.02]})
    assert "within noise" in verdict(h)


def test_diverged_variants_are_named_and_no_improvement_is_said() -> None:
    h = history({"baseline": [0.7, 5.0], "L2": [0.7, math.nan]}, statuses={"L2": "diverged"})
    text = verdict(h)
    assert text.startswith("No variant improved on the initial weights' validation loss (0.7 at epoch 0)")
    assert "Diverged: L2" in text


def test_no_finite_value_at_all() -> None:
    h = history({"baseline": [math.nan], "L2": [math.nan]}, statuses={"baseline": "diverged", "L2": "diverged"})
    assert verdict(h).startswith("No variant produced a finite validation loss yet.")


@pytest.mark.parametrize("seed", range(5))
def test_paired_test_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.3, 0.05, 6), rng.normal(0.32, 0.05, 6)
    ours = paired_test(a, b)
    ref = stats.ttest_rel(a, b)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.mean_diff == pytest.approx(float(np.mean(a - b)))
    assert ours.n == 6


def test_paired_test_skips_non_finite_pairs_and_small_samples() -> None:
    assert paired_test([0.1, math.nan, 0.3], [0.2, 0.1, math.nan]).n == 1
    assert paired_test([0.1], [0.2]).p_value is None
    assert paired_test([0.1, 0.2], [0.1, 0.2]).p_value == 1.0  # identical: no difference at all
