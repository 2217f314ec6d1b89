"""Sweeps: how strong should λ or p be?  One or two knobs over a grid, over seeds.

Every grid point of a ``variants.NAME.*`` knob becomes a copy of that variant,
and every (point, seed) pair a member of one stacked model, so a 5-point ×
5-seed sweep trains as one run.  A ``data.n_train`` knob needs other data, so
its values run one after another.  ``run_sweep`` is a generator like
``Training.events()``: it yields ``SweepProgress`` after every batch and epoch
and, after each training, the ``SweepPoint`` results it finished (so an
n_train sweep shows its points as they come).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from regtui.core.config import Experiment, SweepAxis, VariantConfig
from regtui.core.ranking import Score, rank_scores, seeds_score
from regtui.core.results import RunHistory, VariantHistory
from regtui.core.run_types import BatchEnd, EpochEnd, RunStatus, plan_members


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its knob values and, over seeds, what it achieved."""

    knobs: dict[str, float]
    score: Score
    """The ranking statistic per seed (``regtui.core.ranking``): what the U-curve plots."""
    best_val_loss: tuple[float, ...]
    """Per seed, the early-stopping value; NaN where a seed diverged before any finite value."""
    final_train_loss: tuple[float, ...]
    final_val_loss: tuple[float, ...]
    statuses: tuple[RunStatus, ...]

    @staticmethod
    def _stats(values: tuple[float, ...]) -> tuple[float | None, float | None]:
        finite = np.array([v for v in values if math.isfinite(v)])
        if not len(finite):
            return None, None
        return float(finite.mean()), (float(finite.std(ddof=1)) if len(finite) > 1 else None)

    def summary(self) -> dict[str, Any]:
        best_mean, best_std = self._stats(self.best_val_loss)
        train_mean, train_std = self._stats(self.final_train_loss)
        return {
            "knobs": dict(self.knobs),
            "score": {"by": self.score.rank_by, "mean": self.score.value, "std": self.score.std,
                      "rankable": self.score.rankable,
                      "per_seed": [v if math.isfinite(v) else None for v in self.score.per_seed]},
            "best_val_loss": {"mean": best_mean, "std": best_std},
            "final_train_loss": {"mean": train_mean, "std": train_std},
            "seeds": len(self.best_val_loss),
            "statuses": list(self.statuses),
            "per_seed_best_val_loss": [v if math.isfinite(v) else None for v in self.best_val_loss],
        }


@dataclass(frozen=True)
class SweepProgress:
    """Yielded after every batch (``batch`` > 0) and every epoch (``batch`` = 0), so a
    consumer that stops iterating pauses or stops the sweep within one batch."""

    done_epochs: int
    total_epochs: int
    batch: int = 0
    n_batches: int = 0


def point_name(knobs: dict[str, float]) -> str:
    return " ".join(f"{key.rsplit('.', 1)[1]}={value:g}" for key, value in knobs.items())


def grid(axes: tuple[SweepAxis, ...]) -> list[dict[str, float]]:
    """Every combination of the knobs' values, first knob slowest."""
    return [dict(zip([a.key for a in axes], combo)) for combo in itertools.product(*(a.values for a in axes))]


def plan(experiment: Experiment) -> list[tuple[Experiment, list[dict[str, float]]]]:
    """The trainings a sweep needs: one experiment per ``data.n_train`` value (or one),
    whose variants are the variant-knob grid points, each with its knob values."""
    axes = experiment.sweep
    n_axis = next((a for a in axes if a.key == "data.n_train"), None)
    variant_axes = tuple(a for a in axes if a.key != "data.n_train")
    base_name = variant_axes[0].variant if variant_axes else experiment.variants[0].name
    base = experiment.variant(base_name)
    trainings = []
    for n_train in (n_axis.values if n_axis else (None,)):
        exp = experiment
        if n_train is not None:
            exp = dataclasses.replace(exp, data=dataclasses.replace(exp.data, n_train=int(n_train)))
        points = grid(variant_axes) if variant_axes else [{}]
        variants: list[VariantConfig] = []
        for knobs in points:
            changes = {key.rsplit(".", 1)[1]: value for key, value in knobs.items()}
            variants.append(dataclasses.replace(base, name=point_name(knobs) or base.name, **changes))
        full_points = [({"data.n_train": n_train} if n_train is not None else {}) | k for k in points]
        trainings.append((dataclasses.replace(exp, variants=tuple(variants), sweep=()), full_points))
    return trainings


def run_sweep(experiment: Experiment) -> Iterator[SweepProgress | list[SweepPoint]]:
    """Train the whole grid; yields progress per epoch and each training's points.
    Each training is a ``regtui.core.run.Run`` (not recorded in the history)."""
    from regtui.core.run import Run

    trainings = plan(experiment)
    per = experiment.train.epochs
    total = per * len(trainings)
    for index, (exp, points) in enumerate(trainings):
        run = Run(exp, record=False)
        events = run.events()
        try:
            for event in events:
                if isinstance(event, EpochEnd):
                    yield SweepProgress(index * per + event.epoch, total)
                elif isinstance(event, BatchEnd):
                    yield SweepProgress(index * per + event.epoch - 1, total, event.batch, event.n_batches)
        finally:
            events.close()
        rank_by = experiment.train.rank_by
        yield [_point(knobs, group, rank_by) for knobs, group in zip(points, _groups(run.history))]


def _groups(history: RunHistory) -> list[list[VariantHistory]]:
    """Each variant's members (one per seed), in variant order."""
    planned = plan_members(history.experiment)
    return [[h for h, m in zip(history.members, planned) if m.variant_index == i]
            for i in range(len(history.experiment.variants))]


def _point(knobs: dict[str, float], members: list[VariantHistory], rank_by: str) -> SweepPoint:
    nan = float("nan")
    return SweepPoint(
        knobs,
        seeds_score(members, rank_by),
        tuple(m.best.val_loss if m.best else nan for m in members),
        tuple(v if (v := m.last("train_loss")) is not None else nan for m in members),
        tuple(v if (v := m.last("val_loss")) is not None else nan for m in members),
        tuple(m.status for m in members),
    )


def best_point(points: list[SweepPoint]) -> SweepPoint | None:
    """The point ranked first by the ranking statistic (mean over seeds; a point with a
    diverged seed never is; ties: the first listed)."""
    order = rank_scores([p.score for p in points])
    return points[order[0]] if order and points[order[0]].score.rankable else None
