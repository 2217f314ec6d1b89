"""What a run achieved: per-variant histories kept compactly, and their exports.

``RunHistory`` consumes ``EpochEnd`` events.  Each variant's metrics live in
one growing float64 numpy array (a row per epoch), so a 20,000-epoch run stays
small; ``series(name, metric)`` hands the charts a view.  ``ranked`` and
``winner`` rank the variants by ``regtui.core.ranking``'s statistic.
``to_json`` and ``to_csv`` give the documented ``--json`` / ``--csv`` shapes
(non-finite numbers become null).  Imports numpy only.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from regtui.core.config import Experiment
from regtui.core.ranking import Ranked, describe, end_window, ranked, winner
from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus, plan_members
from regtui.core.schema import experiment_to_dict

METRICS = (
    "epoch", "train_loss", "val_loss", "train_acc", "val_acc",
    "objective", "penalty", "weight_norm", "gap", "seconds",
)
_COL = {name: i for i, name in enumerate(METRICS)}


@dataclass(frozen=True)
class Best:
    epoch: int
    val_loss: float


class VariantHistory:
    """One variant's rows, appended epoch by epoch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.status = RunStatus.RUNNING
        self._rows = np.full((64, len(METRICS)), np.nan)
        self._n = 0
        self._best: Best | None = None
        """The lowest finite validation loss so far (the first epoch that had it), kept
        as rows arrive: the table asks for it at every refresh."""

    def __len__(self) -> int:
        return self._n

    @property
    def status_label(self) -> str:
        """The status as the table and the exports show it."""
        return self.status.value

    def append(self, metrics: EpochMetrics) -> None:
        if self._n == len(self._rows):
            grown = np.full((2 * len(self._rows), len(METRICS)), np.nan)
            grown[: self._n] = self._rows
            self._rows = grown
        row = self._rows[self._n]
        row[:] = [np.nan if (v := getattr(metrics, m)) is None else v for m in METRICS]
        self._n += 1
        val = float(row[_COL["val_loss"]])
        if math.isfinite(val) and (self._best is None or val < self._best.val_loss):
            self._best = Best(int(row[0]), val)

    def series(self, metric: str) -> np.ndarray:
        """A read-only view of one metric over the recorded epochs."""
        view = self._rows[: self._n, _COL[metric]]
        view.flags.writeable = False
        return view

    def last(self, metric: str) -> float | None:
        if not self._n:
            return None
        value = float(self._rows[self._n - 1, _COL[metric]])
        return value if math.isfinite(value) else None

    @property
    def best(self) -> Best | None:
        """The epoch with the lowest finite validation loss (the first, on a tie)."""
        return self._best

    def records(self) -> list[dict[str, Any]]:
        out = []
        for row in self._rows[: self._n]:
            rec: dict[str, Any] = {m: (float(v) if math.isfinite(v) else None) for m, v in zip(METRICS, row)}
            rec["epoch"] = int(row[0])
            out.append(rec)
        return out


class SeedGroup:
    """One variant over several seeds: the mean curve, its band, and the members.

    Offers ``VariantHistory``'s reading interface (``series``, ``last``,
    ``best``, ``status``, ``len``), so charts and tables need no special case.
    """

    def __init__(self, name: str, members: list[VariantHistory]) -> None:
        self.name = name
        self.members = members

    def __len__(self) -> int:
        return max(len(m) for m in self.members)

    def _stack(self, metric: str) -> np.ndarray:
        n = len(self)
        out = np.full((len(self.members), n), np.nan)
        for i, m in enumerate(self.members):
            values = m.series(metric)
            out[i, : len(values)] = np.where(np.isfinite(values), values, np.nan)
        return out

    def series(self, metric: str) -> np.ndarray:
        """Mean over the seeds that have a finite value at each epoch."""
        if metric == "epoch":
            return np.arange(len(self), dtype=float)
        stacked = self._stack(metric)
        with np.errstate(all="ignore"):
            ok = np.isfinite(stacked).any(0)
            mean = np.full(stacked.shape[1], np.nan)
            mean[ok] = np.nanmean(stacked[:, ok], 0)
        return mean

    def band(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Min and max over the seeds at each epoch (the band the charts draw)."""
        stacked = self._stack(metric)
        ok = np.isfinite(stacked).any(0)
        lo, hi = np.full(stacked.shape[1], np.nan), np.full(stacked.shape[1], np.nan)
        lo[ok], hi[ok] = np.nanmin(stacked[:, ok], 0), np.nanmax(stacked[:, ok], 0)
        return lo, hi

    def last(self, metric: str) -> float | None:
        values = self.series(metric)
        return float(values[-1]) if len(values) and np.isfinite(values[-1]) else None

    @property
    def best(self) -> Best | None:
        val = self.series("val_loss")
        if not np.isfinite(val).any():
            return None
        i = int(np.nanargmin(val))
        return Best(i, float(val[i]))

    def best_values(self) -> np.ndarray:
        """Each seed's best validation loss (NaN where a seed never had one)."""
        return np.array([m.best.val_loss if m.best else np.nan for m in self.members])

    def _status(self) -> tuple[RunStatus, int]:
        """The most telling status of the seeds and how many seeds have it."""
        statuses = [m.status for m in self.members]
        for severe in (RunStatus.RUNNING, RunStatus.CUT_OFF, RunStatus.FAILED, RunStatus.DIVERGED, RunStatus.STOPPED):
            if count := statuses.count(severe):
                return severe, count
        return RunStatus.FINISHED, len(statuses)

    @property
    def status(self) -> RunStatus:
        """Running while any seed runs; else cut off, diverged or stopped when any
        seed is (see ``status_label`` for how many); else finished."""
        return self._status()[0]

    @property
    def status_label(self) -> str:
        """``status``, with the count when only some seeds have it: ``diverged 1/3``."""
        status, count = self._status()
        if status is RunStatus.RUNNING or count == len(self.members):
            return status.value
        return f"{status.value} {count}/{len(self.members)}"

    def records(self) -> list[dict[str, Any]]:
        cols = {m: self.series(m) for m in METRICS}
        return [
            {m: (int(i) if m == "epoch" else (float(v) if np.isfinite(v := cols[m][i]) else None)) for m in METRICS}
            for i in range(len(self))
        ]


class RunHistory:
    """Every variant's history for one run (and each seed's, with several seeds)."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        planned = plan_members(experiment)
        self.seeds = sorted({m.seed for m in planned})
        self.members: list[VariantHistory] = [VariantHistory(m.name) for m in planned]
        """One history per member, in ``plan_members`` order (``EpochEnd.metrics``'s)."""
        self.variants: list[VariantHistory | SeedGroup] = []
        for i, v in enumerate(experiment.variants):
            group = [h for h, m in zip(self.members, planned) if m.variant_index == i]
            self.variants.append(group[0] if len(self.seeds) == 1 else SeedGroup(v.name, group))
        self.epoch = -1
        self.seconds = 0.0

    def __getitem__(self, name: str) -> VariantHistory | SeedGroup:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def add(self, event: EpochEnd) -> None:
        """Record an ``EpochEnd`` (its metrics are per member, in ``plan_members`` order)."""
        self.epoch = event.epoch
        self.seconds = event.seconds
        for hist, metrics, status in zip(self.members, event.metrics, event.statuses):
            if metrics is not None:
                hist.append(metrics)
            hist.status = RunStatus(status)

    def mark_stopped(self) -> None:
        """The run ended: members still running become stopped."""
        for hist in self.members:
            if hist.status is RunStatus.RUNNING:
                hist.status = RunStatus.STOPPED

    def ranked(self, rank_by: str | None = None) -> list[Ranked]:
        """Every variant best first by the ranking statistic (``regtui.core.ranking``);
        ``rank_by`` defaults to the experiment's ``train.rank_by``."""
        return ranked(self.variants, rank_by or self.experiment.train.rank_by)

    def winner(self, rank_by: str | None = None) -> str | None:
        """The variant ranked first (the ★), or None when none may be (all diverged)."""
        top = winner(self.variants, rank_by or self.experiment.train.rank_by)
        return top.name if top is not None else None

    @staticmethod
    def _entry(h: VariantHistory | SeedGroup) -> dict[str, Any]:
        best = h.best
        return {
            "name": h.name,
            "status": h.status_label,
            "history": h.records(),
            "best": {"epoch": best.epoch, "val_loss": best.val_loss} if best else None,
        }

    def to_json(self, rank_by: str | None = None) -> dict[str, Any]:
        rank_by = rank_by or self.experiment.train.rank_by
        order = self.ranked(rank_by)
        place = {r.index: i + 1 for i, r in enumerate(order)}
        variants = []
        for index, h in enumerate(self.variants):
            entry = self._entry(h)
            score = next(r.score for r in order if r.index == index)
            entry["rank"] = {
                "place": place[index], "value": score.value, "std": score.std,
                "per_seed": [v if math.isfinite(v) else None for v in score.per_seed],
                "rankable": score.rankable,
            }
            if isinstance(h, SeedGroup):
                bests = h.best_values()
                finite = bests[np.isfinite(bests)]
                entry["best_val_loss_over_seeds"] = {
                    "mean": float(finite.mean()) if len(finite) else None,
                    "std": float(finite.std(ddof=1)) if len(finite) > 1 else None,
                    "n": int(len(finite)),
                }
                entry["seeds"] = [dict(self._entry(m), seed=s) for m, s in zip(h.members, self.seeds)]
            variants.append(entry)
        top = order[0] if order and order[0].score.rankable else None
        ranking = {"by": rank_by, "statistic": describe(rank_by),
                   "window_epochs": end_window(max(self.epoch, 0)) if rank_by == "end" else None,
                   "order": [r.name for r in order], "winner": top.name if top else None}
        return {"experiment": experiment_to_dict(self.experiment), "ranking": ranking, "variants": variants}

    def to_csv(self) -> str:
        """One row per member and epoch (with several seeds, the member names carry the seed)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("variant", "status") + METRICS)
        for h in self.members:
            for rec in h.records():
                writer.writerow([h.name, h.status_label] + ["" if rec[m] is None else rec[m] for m in METRICS])
        return buf.getvalue()
