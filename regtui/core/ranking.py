"""How variants, seeds and sweep points are ranked: one statistic, defined here only.

Every ★, verdict, sweep point, U-curve, ``history list`` row, ``regtui run``
table and JSON ranks by ``score(h, rank_by)``; nothing else compares variants.

``rank_by`` (``train.rank_by``, ``--rank-by``, the lab's ranking key):

- ``"end"`` (the default) — **the validation loss where training ends**: the
  mean of ``val_loss`` over the last 10 % of the epochs trained, at least one
  epoch (``end_window``: ⌈E/10⌉ of E epochs; epoch 0 only counts when nothing
  was trained yet).  This is what a network that trains on is left with; the
  mean over a window is robust to the last epoch's mini-batch noise, and 10 %
  is short enough to be "the end" on a curve that still moves.
- ``"best"`` — each variant's lowest validation loss at any epoch: what early
  stopping would keep (the table's ``best@ep``).

Per member (a variant at one seed) the statistic is a number; a member that
**diverged** scores +inf for ranking, so a diverged variant is never ranked
first, even if its loss was low before it blew up.  With seeds a variant's
score is the **mean over seeds of the per-seed statistic** (the table's
``mean ± std`` and the verdict's paired test use the same per-seed numbers);
one diverged seed makes the whole variant rank behind every variant without a
diverged seed.  Ties go to the variant listed first.

Imports numpy, ``regtui.core.config`` and ``run_types`` only; reads histories by duck typing (``VariantHistory`` and
``SeedGroup`` of ``regtui.core.results``, or anything with ``series`` and
``status``; a group has ``members``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from regtui.core.config import RANKINGS
from regtui.core.run_types import RunStatus
END_PERCENT = 10
"""The end statistic averages the last ``END_PERCENT`` % of the epochs (at least one)."""

LABELS = {"end": "end val", "best": "best val"}
"""Column headers: the statistic's short name."""
DESCRIPTIONS = {
    "end": f"mean val loss over the last {END_PERCENT} % of epochs",
    "best": "lowest val loss at any epoch (early stopping)",
}


def label(rank_by: str) -> str:
    """The statistic's short name for a column header (``end val`` / ``best val``)."""
    return LABELS[rank_by]


def describe(rank_by: str) -> str:
    """One phrase saying what the statistic is, for captions and help."""
    return DESCRIPTIONS[rank_by]


def end_window(epochs: int) -> int:
    """How many of the last epochs the end statistic averages: ⌈epochs/10⌉, at least 1."""
    return max(1, (max(0, epochs) * END_PERCENT + 99) // 100)


def member_value(val_loss: np.ndarray, rank_by: str) -> float:
    """The statistic of one member's ``val_loss`` series (index = epoch, 0 first).

    NaN when the window (or, for ``best``, the whole series) has no finite value.
    """
    val = np.asarray(val_loss, dtype=float)
    val = np.where(np.isfinite(val), val, np.nan)
    if not len(val) or not np.isfinite(val).any():
        return math.nan
    if rank_by == "best":
        return float(np.nanmin(val))
    if rank_by != "end":
        raise ValueError(f"unknown ranking {rank_by!r}; choose one of {', '.join(RANKINGS)}")
    epochs = len(val) - 1
    window = val[-end_window(epochs):] if epochs > 0 else val
    if not np.isfinite(window).any():
        return math.nan
    return float(np.nanmean(window))


def is_diverged(status: str) -> bool:
    """Whether a member's status (a ``RunStatus``, or its stored text) is diverged."""
    return status == RunStatus.DIVERGED


@dataclass(frozen=True)
class Score:
    """One variant's ranking statistic: per seed, and their mean."""

    rank_by: str
    per_seed: tuple[float, ...]
    """The statistic of each seed (NaN where a seed has no finite value)."""
    diverged: tuple[bool, ...]
    """Which seeds diverged (they rank as +inf)."""

    @property
    def finite(self) -> tuple[float, ...]:
        return tuple(v for v in self.per_seed if math.isfinite(v))

    @property
    def value(self) -> float | None:
        """The mean over the seeds with a finite statistic (None when none has one)."""
        values = self.finite
        return float(np.mean(values)) if values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over the seeds (None with fewer than two)."""
        values = self.finite
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    @property
    def rankable(self) -> bool:
        """A finite statistic on every seed and no diverged seed: it may be ranked first."""
        return not any(self.diverged) and len(self.finite) == len(self.per_seed) > 0

    @property
    def ranking_values(self) -> tuple[float, ...]:
        """Per seed, as ranked: +inf for a diverged seed or one with no finite value."""
        return tuple(math.inf if d or not math.isfinite(v) else v for v, d in zip(self.per_seed, self.diverged))

    @property
    def key(self) -> tuple[int, float]:
        """Sort key: rankable variants first, by their mean; the rest by what they had."""
        value = self.value
        return (0 if self.rankable else 1, math.inf if value is None else value)


def _members(h: Any) -> list[Any]:
    return list(getattr(h, "members", None) or [h])


def score(h: Any, rank_by: str) -> Score:
    """The ranking statistic of a variant's history (one member, or a ``SeedGroup``)."""
    return seeds_score(_members(h), rank_by)


def seeds_score(members: Sequence[Any], rank_by: str) -> Score:
    """The ranking statistic over the given members (one variant, or a sweep point, at each seed)."""
    return Score(rank_by, tuple(member_value(m.series("val_loss"), rank_by) for m in members),
                 tuple(is_diverged(m.status) for m in members))


@dataclass(frozen=True)
class Ranked:
    """A variant's place: its history, its index in the experiment and its score."""

    index: int
    history: Any
    score: Score

    @property
    def name(self) -> str:
        return str(self.history.name)


def rank_scores(scores: Sequence[Score]) -> list[int]:
    """Indices of ``scores`` best first (ties: the first listed)."""
    return sorted(range(len(scores)), key=lambda i: (scores[i].key, i))


def ranked(variants: Iterable[Any], rank_by: str) -> list[Ranked]:
    """Every variant best first by the statistic; unrankable ones (diverged, no value) last."""
    items = [Ranked(i, h, score(h, rank_by)) for i, h in enumerate(variants)]
    return [items[i] for i in rank_scores([r.score for r in items])]


def winner(variants: Iterable[Any], rank_by: str) -> Ranked | None:
    """The first-ranked variant, or None when no variant may be ranked first."""
    order = ranked(variants, rank_by)
    return order[0] if order and order[0].score.rankable else None

