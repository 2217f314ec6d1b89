"""Sweeps: how strong should λ or p be?  One or two knobs over a grid, over seeds.

Every grid point of a ``variants.NAME.*`` knob becomes a copy of that variant,
and every (point, seed) pair a member of one stacked model, so a 5-point ×
5-seed sweep trains as one run.  A ``data.n_train`` knob needs other data, so
each of its values is a training of its own.  ``run_sweep`` hands the
trainings to an engine (``regtui.core.engines``: in this process, one after
another, or as Ray tasks, each a shard of stacked members) and is a generator
like ``Training.events()``: it yields ``SweepProgress`` after every batch (in
process) and epoch, and the ``SweepPoint`` results as their shards finish (so
an n_train sweep shows its points as they come).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence

import numpy as np

from regtui.core.config import RANKINGS, Experiment, SweepAxis, VariantConfig, absolute_data_path
from regtui.core.ranking import Score, rank_scores, seeds_score
from regtui.core.results import RunHistory, VariantHistory
from regtui.core.run_types import RunStatus, plan_members


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
    errors: tuple[str, ...] = ()
    """Per seed, why its engine task failed ("" where it did not); empty when none failed."""
    scores: tuple[Score, ...] = ()
    """The statistic under every ranking (``RANKINGS``), so a view can rank by the other one."""

    def score_by(self, rank_by: str) -> Score:
        """The ranking statistic under ``rank_by`` (``score`` is the one of the sweep's ``train.rank_by``)."""
        return next((s for s in (self.score, *self.scores) if s.rank_by == rank_by), self.score)

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
        } | ({"errors": list(self.errors)} if self.errors else {})


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


class SweepRecorder(Protocol):
    """What ``run_sweep`` records into: ``RunStore.recorder(...)``'s ``Recorder``."""

    def add(self, event: Any) -> None: ...
    def placed(self, members: Sequence[int], worker: str) -> None: ...
    def finish(self, statuses: Sequence[str] | None = None) -> str: ...


RecordFactory = Callable[[Experiment, dict[str, Any], str], "SweepRecorder | None"]
"""``(training's experiment, data summary, engine label) -> recorder``, once per training."""


class SweepRecording:
    """``run_sweep``'s record factory into the run history, as ``regtui sweep`` and the
    lab's sweep record: each training a run of the history (its grid points are the
    run's variants), with ``source`` and ``preset`` as given.  A training that cannot
    be recorded is reported once through ``on_problem`` (one line) and trains anyway.

    ``open`` opens the history (``RunStore.open(store_path)``); ``close`` closes it
    once the sweep's stream is closed (the stream finishes its recorders)."""

    def __init__(self, store: Any, *, source: str, preset: str | None,
                 on_problem: Callable[[str], object]) -> None:
        self.store = store
        self.source = source
        self.preset = preset
        self.on_problem = on_problem
        self.runs: list[Any] = []
        """The recorders opened, one per training recorded, in order."""

    @classmethod
    def open(cls, *, source: str, preset: str | None, on_problem: Callable[[str], object],
             store_path: Any = None) -> "SweepRecording | None":
        """The recording, or None (``on_problem`` told why) when the history cannot be opened."""
        from regtui.core.run_records import StoreError
        from regtui.core.store import RunStore

        try:
            store = RunStore.open(store_path)
        except StoreError as exc:
            on_problem(f"not recorded: {exc}")
            return None
        return cls(store, source=source, preset=preset, on_problem=on_problem)

    def __call__(self, experiment: Experiment, data: dict[str, Any], engine_label: str) -> SweepRecorder | None:
        from regtui.core.run_records import StoreError

        try:
            rec = self.store.recorder(experiment, source=self.source, preset=self.preset, data=data,
                                      engine=engine_label)
        except StoreError as exc:
            self.on_problem(f"not recorded: {exc}")
            return None
        self.runs.append(rec)
        return rec

    def close(self) -> None:
        self.store.close()


def run_sweep(experiment: Experiment, *, engine: Any = None,
              record: RecordFactory | None = None) -> Iterator[SweepProgress | list[SweepPoint]]:
    """Train the whole grid on ``engine`` (default: the one ``experiment.engine``
    names, opened and closed here); yields progress and, as their shards end,
    the finished points, in grid order per training.

    ``record`` opens a recorder per training: every epoch of every member is
    written as it would be by one stacked run, and on stop (closing this
    generator, Ctrl+C) what arrived is written before the run is finished.
    Raises ``EngineError`` when the engine cannot run.
    """
    from regtui.core.data import make_dataset
    from regtui.core.engines.base import (
        Planned, ShardBatch, ShardEnded, ShardEpoch, ShardPlaced, TrainingStarted,
    )
    from regtui.core.engines.choose import open_engine
    from regtui.core.engines.merge import EpochMerger

    trainings = plan(experiment)
    exps = [absolute_data_path(exp) for exp, _ in trainings]  # recorded as Run records
    own = engine is None
    if own:
        engine = open_engine(experiment.engine)
    per = experiment.train.epochs
    histories = [RunHistory(exp) for exp in exps]
    errors: list[list[str]] = [[""] * len(plan_members(exp)) for exp in exps]
    recorders: list[Any] = [None] * len(exps)
    mergers: list[EpochMerger | None] = [None] * len(exps)
    yielded: list[set[int]] = [set() for _ in exps]
    progress: dict[int, int] = {}
    stream = engine.run(exps, lambda exp: make_dataset(exp.data, exp.source_dir or None))
    try:
        for item in stream:
            if isinstance(item, Planned):
                for i, exp in enumerate(exps):
                    mergers[i] = EpochMerger(len(errors[i]), [s for s in item.shards if s.training == i])
                progress = {s.index: 0 for s in item.shards}
                total = per * len(item.shards)
                continue
            if isinstance(item, TrainingStarted):
                if record is not None:
                    recorders[item.training] = record(exps[item.training], item.data, engine.label)
                continue
            shard = item.shard
            i = shard.training
            merger, rec = mergers[i], recorders[i]
            if isinstance(item, ShardPlaced):
                if rec is not None:
                    rec.placed(shard.members, item.worker)
                continue
            if isinstance(item, ShardBatch):
                done = sum(progress.values()) - progress[shard.index] + item.event.epoch - 1
                yield SweepProgress(done, total, item.event.batch, item.event.n_batches)
                continue
            if isinstance(item, ShardEpoch):
                released = merger.add(shard, item.event)
                histories[i].add(merger.expand(shard, item.event))
                progress[shard.index] = item.event.epoch
            elif isinstance(item, ShardEnded):
                released = merger.end(shard, item.error)
                final = merger.final_statuses()
                for m in shard.members:
                    histories[i].members[m].status = final[m]
                    errors[i][m] = item.error or ""
                progress[shard.index] = per
            else:  # pragma: no cover - an engine event this sweep does not know
                continue
            if rec is not None:
                for event in released:
                    rec.add(event)
                if merger.done:
                    rec.finish(merger.final_statuses())
            yield SweepProgress(sum(progress.values()), total)
            finished = _finished_points(trainings[i][1], histories[i], merger.ended_members(), yielded[i], errors[i])
            if finished:
                yield finished
    finally:
        stream.close()
        for merger, rec in zip(mergers, recorders):
            if rec is not None and merger is not None and not merger.done:
                for event in merger.flush():
                    rec.add(event)
                rec.finish(merger.final_statuses())
        if own:
            engine.close()


def _finished_points(knobs: list[dict[str, float]], history: RunHistory, ended: set[int], yielded: set[int],
                     errors: list[str]) -> list[SweepPoint]:
    """The points of one training whose members have all ended, not yet yielded, in grid order."""
    planned = plan_members(history.experiment)
    out = []
    for p, point_knobs in enumerate(knobs):
        members = [i for i, m in enumerate(planned) if m.variant_index == p]
        if p not in yielded and all(i in ended for i in members):
            yielded.add(p)
            out.append(_point(point_knobs, [history.members[i] for i in members], history.experiment.train.rank_by,
                              [errors[i] for i in members]))
    return out


def _point(knobs: dict[str, float], members: list[VariantHistory], rank_by: str,
           errors: list[str] | None = None) -> SweepPoint:
    nan = float("nan")

    def scored(by: str) -> Score:
        score = seeds_score(members, by)
        if any(m.status == RunStatus.FAILED for m in members):  # a seed whose task failed has no value: never first
            per_seed = tuple(nan if m.status == RunStatus.FAILED else v for m, v in zip(members, score.per_seed))
            score = dataclasses.replace(score, per_seed=per_seed)
        return score

    return SweepPoint(
        knobs,
        scored(rank_by),
        tuple(m.best.val_loss if m.best else nan for m in members),
        tuple(v if (v := m.last("train_loss")) is not None else nan for m in members),
        tuple(v if (v := m.last("val_loss")) is not None else nan for m in members),
        tuple(m.status for m in members),
        tuple(errors) if errors and any(errors) else (),
        tuple(scored(by) for by in RANKINGS),
    )


def best_point(points: list[SweepPoint]) -> SweepPoint | None:
    """The point ranked first by the ranking statistic (mean over seeds; a point with a
    diverged seed never is; ties: the first listed)."""
    order = rank_scores([p.score for p in points])
    return points[order[0]] if order and points[order[0]].score.rankable else None
