"""The verdict tells the run's story on constructed histories — the baseline's
overfitting, what each regularizer did, the winner by the ranking statistic,
the paired tests over seeds (against scipy) and the early-stopping note — in
the numbers the table shows; ties and divergence included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console
from scipy import stats

from regtui.commands.report import mean_std, results_table
from regtui.core.verdict import paired_test, verdict, verdict_sentences

from verdict_histories import history, overfit_curves


def test_an_overfitting_baseline_loses_to_a_steady_regularizer_and_the_story_is_told_in_order() -> None:
    curves = overfit_curves()
    norms = {"baseline": [5.0] * 21, "L2": list(np.linspace(5.0, 2.0, 21))}
    h = history(curves, norms=norms, train={"baseline": [0.05] * 21, "L2": [0.3] * 21})
    overfit, regs, win, noise, early = verdict_sentences(h)
    end_base, end_l2 = np.mean(curves["baseline"][-2:]), np.mean(curves["L2"][-2:])
    assert overfit == f"baseline overfit: val loss rose from 0.3 at epoch 3 to {end_base:.3g} (gap 0.95)."
    assert len(overfit) <= 80, "the first sentence fits one line at 80 columns"
    assert regs == "L2 held it at 0.4, gap 0.1, its weights shrank from ‖w‖ 5 to 2."
    margin = (end_base - end_l2) / end_base
    assert win == (f"Ranked by end val (mean of the last 2 epochs), L2 wins with 0.4, "
                   f"{margin:.0%} below the baseline's {end_base:.3g}.")
    assert noise == "One seed only: repeat over seeds (train.seeds) to see whether this holds."
    assert early == ("Stopped at its best epoch (3), baseline would have matched the regularizers: "
                     "0.3 against L2's 0.4 (early stopping).")


def test_ranked_by_best_the_early_minimum_wins_and_no_early_stopping_note_is_needed() -> None:
    h = history(overfit_curves(), rank_by="best")
    text = verdict(h)
    assert "Ranked by best val (each variant's best epoch: early stopping), baseline wins with 0.3" in text
    assert "regularization did not help here" in text
    assert "Stopped at its best epoch" not in text
    assert verdict(h, "end") == verdict(history(overfit_curves()))  # the lab's switch: same run, other ranking


def test_when_the_stopped_baseline_stays_above_the_regularizer_it_says_so() -> None:
    curves = overfit_curves()
    curves["L2"] = [1.0, 0.5, 0.3] + [0.2] * 18
    text = verdict(history(curves))
    assert "Even stopped at its best epoch (3), baseline (0.3) stays above L2's 0.2." in text


def test_a_baseline_that_did_not_overfit_is_said_to_have_held() -> None:
    h = history({"baseline": [1.0, 0.5, 0.45, 0.44], "L2": [1.0, 0.55, 0.5, 0.5]})
    first = verdict_sentences(h)[0]
    assert first == "baseline did not overfit: val loss ended at 0.44, best 0.44, gap 0.34."
    assert "regularization did not help here" in verdict(h)
    assert "Stopped at its best epoch" not in verdict(h)


def test_a_regularizer_that_rises_as_much_as_the_baseline_is_not_said_to_hold() -> None:
    curves = overfit_curves()
    curves["Dropout"] = [1.0, 0.6, 0.4, 0.32] + [0.32 + 0.65 * (e - 3) / 17 for e in range(4, 21)]
    regs = verdict_sentences(history(curves))[1]
    assert regs.startswith("L2 held it at 0.4")
    assert "Dropout's rose too, to 0.951 (from 0.32 at epoch 3), gap 0.87." in regs


def test_a_regularizer_that_overfits_where_the_baseline_did_not_is_not_said_to_rise_too() -> None:
    """The article's story: the baseline stays near its best, Dropout dips and climbs; "Dropout's
    rose too" after "baseline did not overfit" said something that did not happen."""
    h = history({"baseline": [1.0, 0.5, 0.45, 0.44, 0.44, 0.45],
                 "L2": [1.0, 0.5, 0.42, 0.4, 0.4, 0.4],
                 "Dropout": [1.0, 0.5, 0.32, 0.35, 0.40, 0.45]})
    first, regs = verdict_sentences(h)[:2]
    assert first.startswith("baseline did not overfit")
    assert regs == ("L2 held it at 0.4, gap 0.3; Dropout overfit where the baseline did not: "
                    "its val loss rose from 0.32 at epoch 2 to 0.45, gap 0.35.")
    assert "too" not in regs


def test_a_tie_goes_to_the_first_listed_variant_and_is_called_too_close() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.5], "Dropout": [1.0, 0.6]})
    assert h.winner() == "baseline"
    text = verdict(h)
    assert "Ranked by end val (its last epoch), baseline wins with 0.5" in text
    assert "the runner-up L2 (0.5) is within 0.0%: too close to call with one seed." in text
    assert "One seed only" not in text  # said once


def test_within_one_percent_of_the_runner_up_is_too_close_with_one_seed() -> None:
    text = verdict(history({"baseline": [1.0, 0.6], "L2": [1.0, 0.500], "Dropout": [1.0, 0.497]}))
    assert "Dropout wins with 0.497, 17% below the baseline's 0.6; the runner-up L2 (0.5) is within 0.6%" in text
    assert "too close to call with one seed" in text


def test_over_seeds_table_and_verdict_agree_and_both_rivals_are_tested_against_scipy() -> None:
    shift = {"baseline": [0.0, 0.03, -0.02, 0.05, 0.01],
             "L2": [0.0, 0.011, -0.01, 0.02, 0.004],
             "Dropout": [0.02, 0.0, 0.01, -0.01, 0.03]}
    curves = overfit_curves()
    curves["Dropout"] = [1.0, 0.7, 0.5, 0.45] + [0.405] * 17
    h = history(curves, seeds=5, shift=shift)
    order = h.ranked()
    assert [r.name for r in order] == ["L2", "Dropout", "baseline"]
    per_seed = {r.name: np.array(r.score.per_seed) for r in order}
    # the table: ★ on the winner, the ranking column is the mean ± std of the same per-seed numbers
    table = Console(width=100, record=True)
    table.print(results_table(h))
    text = table.export_text()
    assert "L2 ★" in text
    for name, values in per_seed.items():
        assert mean_std(list(values)) in text
        assert f"{values.mean():.3f}" == mean_std(list(values)).split("±")[0]
    # the verdict: the same winner, its p-values those of scipy's paired t-test on the same numbers
    p_base = stats.ttest_rel(per_seed["L2"], per_seed["baseline"]).pvalue
    p_second = stats.ttest_rel(per_seed["L2"], per_seed["Dropout"]).pvalue
    assert p_base < 0.05 and p_second > 0.05
    noise = next(s for s in verdict_sentences(h) if s.startswith("Over 5 seeds"))
    assert noise == (f"Over 5 seeds L2 beats the baseline (p = {p_base:.2g}), but not the runner-up Dropout "
                     f"(p = {p_second:.2g}): within noise in a paired t-test.")


def test_over_seeds_a_consistent_winner_beats_both_rivals() -> None:
    curves = {"baseline": [1.0, 0.8, 0.9], "L2": [1.0, 0.5, 0.4], "Dropout": [1.0, 0.55, 0.5]}
    shift = {"baseline": [0.0, 0.01, -0.01, 0.02], "L2": [0.0, 0.012, -0.011, 0.018], "Dropout": [0.0, 0.01, -0.012, 0.02]}
    text = verdict(history(curves, seeds=4, shift=shift))
    assert "Over 4 seeds L2 beats the baseline (p = " in text and "and the runner-up Dropout (p = " in text
    assert "in a paired t-test." in text


def test_over_seeds_a_noisy_lead_is_within_noise() -> None:
    h = history({"baseline": [1.0, 0.5], "L2": [1.0, 0.49]}, seeds=4,
                shift={"baseline": [0.0, 0.1, -0.1, 0.05], "L2": [0.08, -0.1, 0.05, -0.02]})
    assert "Over 4 seeds L2's lead over the baseline (p = " in verdict(h) and "is within noise" in verdict(h)


def test_diverged_variants_never_win_and_are_named_last() -> None:
    h = history({"baseline": [1.0, 0.6, 0.65], "L2": [1.0, 0.62, 0.6], "wild": [1.0, 0.1, math.nan]},
                statuses={"wild": "diverged"})
    text = verdict(h)
    assert "L2 wins with 0.6" in text
    assert "wild" not in text.split("Diverged:")[0]
    assert text.endswith("Diverged: wild (loss became NaN, infinite or over 1000× its start; marked and frozen).")


def test_training_that_made_everything_worse_is_said() -> None:
    h = history({"baseline": [0.7, 5.0], "L2": [0.7, math.nan]}, statuses={"L2": "diverged"})
    text = verdict(h)
    assert text.startswith("No variant ended below the initial weights' validation loss (0.7 at epoch 0)")
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
