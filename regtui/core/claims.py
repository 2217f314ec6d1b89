"""Checking what a preset claims to demonstrate (``[[claims]]``) on a run over seeds.

A ``Claim`` (``regtui.core.config``) says that every variant in ``better``
ends with a lower ranking statistic (``regtui.core.ranking``; the claim's
``by``, else the run's ``train.rank_by``) than ``than``; or, as ``overfit``,
that each variant's end validation loss lies over 10 % (``verdict.ROSE``)
above its own best.  ``check`` tests each with a two-sided paired t-test over
seeds (``regtui.core.verdict``): the claim holds when every one goes the
claimed way on average with p < 0.05 and no seed of either side diverged.  With one seed nothing can be tested: the check says
so rather than pass.  ``describe`` words a check in one line for ``regtui run``.

Imports numpy (through ``ranking``/``verdict``) and the config only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regtui.core.config import Claim
from regtui.core.ranking import label, score
from regtui.core.verdict import ALPHA, ROSE, Paired, paired_test


@dataclass(frozen=True)
class ClaimCheck:
    """One claim checked on one run."""

    claim: Claim
    by: str
    """The ranking statistic it was checked with."""
    tests: tuple[tuple[str, Paired], ...]
    """Per named variant: the paired test over seeds (``better`` against ``than``; ``overfit``:
    1.1 × its best against its end)."""
    problem: str | None = None
    """Why it could not be checked or fails outright (a missing or diverged variant, one seed)."""

    @property
    def holds(self) -> bool:
        return self.problem is None and all(t.significant and t.mean_diff < 0 for _, t in self.tests)


def check(history: Any, claim: Claim) -> ClaimCheck:
    """Test ``claim`` on ``history`` (a ``RunHistory``)."""
    by = "end" if claim.overfit else claim.by or history.experiment.train.rank_by
    names = {h.name: h for h in history.variants}
    missing = [n for n in claim.names() if n not in names]
    if missing:
        return ClaimCheck(claim, by, (), f"no variant named {', '.join(repr(n) for n in missing)}")
    if len(history.seeds) < 2:
        return ClaimCheck(claim, by, (), "needs at least 2 seeds (train.seeds)")
    diverged = [n for n in claim.names() if any(score(names[n], by).diverged)]
    if claim.overfit:  # (1 + ROSE) · best − end < 0: the end lies over 10 % above the best
        tests = tuple((n, paired_test([(1 + ROSE) * b for b in score(names[n], "best").per_seed],
                                      score(names[n], "end").per_seed)) for n in claim.overfit)
    else:
        base = score(names[claim.than], by)
        tests = tuple((n, paired_test(score(names[n], by).per_seed, base.per_seed)) for n in claim.better)
    if diverged:
        return ClaimCheck(claim, by, tests, f"diverged on some seed: {', '.join(diverged)}")
    return ClaimCheck(claim, by, tests)


def check_all(history: Any) -> list[ClaimCheck]:
    """Every claim of the run's experiment, checked."""
    return [check(history, c) for c in history.experiment.claims]


def describe(result: ClaimCheck) -> str:
    """``claim: L2, Dropout beat baseline by end val: holds over 5 seeds (L2 p = 3e-05, …)``."""
    head = f"claim: {result.claim.text()}" + (
        f" (end val over {ROSE:.0%} above its best)" if result.claim.overfit else f" by {label(result.by)}")
    if result.problem is not None and not result.tests:
        return f"{head}: not checked, {result.problem}"
    n = max((t.n for _, t in result.tests), default=0)
    ps = ", ".join(f"{name} p = {'n/a' if t.p_value is None else f'{t.p_value:.2g}'}"
                   + ("" if t.mean_diff < 0 else ", the other way") for name, t in result.tests)
    if result.holds:
        return f"{head}: holds over {n} seeds (paired t-test: {ps})"
    why = f"; {result.problem}" if result.problem else f" (needs p < {ALPHA:g}, the claimed way)"
    return f"{head}: NOT shown over {n} seeds (paired t-test: {ps}){why}"
