"""Claims checked on constructed histories: a paired t-test over seeds of the ranking
statistic (``better``/``than``) or of the end against 1.1 × the best (``overfit``);
one seed, a diverged seed and a missing variant never pass."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from regtui.core.claims import check, check_all, describe
from regtui.core.config import Claim, ConfigError, Experiment
from regtui.core.ranking import score

from verdict_histories import history, overfit_curves

SHIFT = {"baseline": [0.0, 0.03, -0.02, 0.05, 0.01], "L2": [0.0, 0.011, -0.01, 0.02, 0.004]}


def with_claims(h, *claims: Claim):
    h.experiment = dataclasses.replace(h.experiment, claims=claims)
    return h


def test_a_better_claim_holds_with_scipys_paired_p_value() -> None:
    h = history(overfit_curves(), seeds=5, shift=SHIFT)
    result = check(h, Claim(("L2",), "baseline"))
    ours, base = (np.array(score(h[n], "end").per_seed) for n in ("L2", "baseline"))
    expected = stats.ttest_rel(ours, base).pvalue
    assert result.holds and result.by == "end"
    (name, test), = result.tests
    assert name == "L2" and test.p_value == pytest.approx(expected, rel=1e-9) and test.n == 5
    assert describe(result) == f"claim: L2 beats baseline by end val: holds over 5 seeds (paired t-test: L2 p = {expected:.2g})"


def test_the_wrong_way_round_is_not_shown_and_by_best_flips_it() -> None:
    h = history(overfit_curves(), seeds=5, shift=SHIFT)
    wrong = check(h, Claim(("baseline",), "L2"))
    assert not wrong.holds and "NOT shown" in describe(wrong) and "the other way" in describe(wrong)
    assert check(h, Claim(("baseline",), "L2", "best")).holds  # early stopping's view: the baseline's dip


def test_an_overfit_claim_compares_the_end_with_the_best() -> None:
    h = history(overfit_curves(), seeds=5, shift=SHIFT)
    assert check(h, Claim(overfit=("baseline",))).holds
    held = check(h, Claim(overfit=("L2",)))  # L2 ends within 10 % of its best
    assert not held.holds
    assert describe(held).startswith("claim: L2 overfits (end val over 10% above its best): NOT shown over 5 seeds")


def test_one_seed_cannot_show_anything() -> None:
    result = check(history(overfit_curves()), Claim(("L2",), "baseline"))
    assert not result.holds and result.problem == "needs at least 2 seeds (train.seeds)"
    assert describe(result).endswith(": not checked, needs at least 2 seeds (train.seeds)")


def test_a_diverged_seed_or_a_missing_variant_fails_the_claim() -> None:
    curves = overfit_curves()
    h = history(curves, seeds=5, shift=SHIFT, seed_status={"L2": ["finished"] * 4 + ["diverged"]})
    result = check(h, Claim(("L2",), "baseline"))
    assert not result.holds and result.problem == "diverged on some seed: L2"
    missing = check(h, Claim(("L3",), "baseline"))
    assert not missing.holds and missing.problem == "no variant named 'L3'"


def test_check_all_checks_the_experiments_claims_in_order() -> None:
    h = with_claims(history(overfit_curves(), seeds=5, shift=SHIFT),
                    Claim(overfit=("baseline",)), Claim(("L2",), "baseline"))
    assert [c.holds for c in check_all(h)] == [True, True]


@pytest.mark.parametrize(("claim", "key", "problem"), [
    (Claim(("L2",), "baseline", overfit=("baseline",)), "claims[0]", "an overfit claim stands alone"),
    (Claim((), "baseline"), "claims[0].better", "needs at least one variant name"),
    (Claim(("L2",), ""), "claims[0].than", "needs the variant they beat"),
    (Claim(overfit=("L2", "L2")), "claims[0].overfit", "appears twice"),
])
def test_a_malformed_claim_names_its_key(claim: Claim, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        Experiment(claims=(claim,))
    assert info.value.key == key and problem in info.value.problem


def test_a_claim_about_a_variant_that_is_gone_no_longer_applies_and_the_file_still_loads(tmp_path) -> None:
    from regtui.core import presets

    exp = Experiment(claims=(Claim(("L2", "Dropout"), "baseline"), Claim(overfit=("baseline",))))
    renamed = dataclasses.replace(exp, variants=tuple(dataclasses.replace(v, name=v.name + "!") if v.name == "L2" else v
                                                      for v in exp.variants))
    assert renamed.claims == (Claim(overfit=("baseline",)),)  # the lab renamed L2: its claim is dropped
    path = tmp_path / "renamed.toml"
    path.write_text(presets.to_toml(renamed), encoding="utf-8")
    assert presets.load_file(path).claims == renamed.claims
    path.write_text('[[claims]]\nbetter = ["L3"]\nthan = "baseline"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="claims\\[0\\].better: no variant named 'L3'"):  # a typo in a file is an error
        presets.load_file(path)
