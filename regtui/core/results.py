"""What a run achieved: per-variant histories kept compactly, and their exports.

``RunHistory`` consumes ``EpochEnd`` events.  Each variant's metrics live in
one growing float64 numpy array (a row per epoch), so a 20,000-epoch run stays
small; ``series(name, metric)`` hands the charts a view.  ``to_json`` and
``csv_rows`` give the documented ``--json`` / ``--csv`` shapes (non-finite
numbers become null).  Imports numpy only.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from regtui.core.config import Experiment, experiment_to_dict

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
        self.status = "running"
        self._rows = np.full((64, len(METRICS)), np.nan)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, metrics: Any) -> None:
        if self._n == len(self._rows):
            grown = np.full((2 * len(self._rows), len(METRICS)), np.nan)
            grown[: self._n] = self._rows
            self._rows = grown
        self._rows[self._n] = [
            np.nan if (v := getattr(metrics, m)) is None else v for m in METRICS
        ]
        self._n += 1

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
        """The epoch with the lowest finite validation loss."""
        val = self.series("val_loss")
        if not np.isfinite(val).any():
            return None
        i = int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))
        return Best(int(self._rows[i, 0]), float(val[i]))

    def records(self) -> list[dict[str, Any]]:
        out = []
        for row in self._rows[: self._n]:
            rec: dict[str, Any] = {m: (float(v) if math.isfinite(v) else None) for m, v in zip(METRICS, row)}
            rec["epoch"] = int(row[0])
            out.append(rec)
        return out


class RunHistory:
    """Every variant's history for one run."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.variants = [VariantHistory(v.name) for v in experiment.variants]
        self.epoch = -1
        self.seconds = 0.0

    def __getitem__(self, name: str) -> VariantHistory:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def add(self, event: Any) -> None:
        """Record an ``EpochEnd``."""
        self.epoch = event.epoch
        self.seconds = event.seconds
        for hist, metrics, status in zip(self.variants, event.metrics, event.statuses):
            if metrics is not None:
                hist.append(metrics)
            hist.status = status

    def mark_stopped(self) -> None:
        for hist in self.variants:
            if hist.status == "running":
                hist.status = "stopped"

    def best_variant(self) -> str | None:
        """The variant with the lowest best validation loss."""
        scored = [(h.best.val_loss, h.name) for h in self.variants if h.best is not None]
        return min(scored)[1] if scored else None

    def to_json(self) -> dict[str, Any]:
        variants = []
        for h in self.variants:
            best = h.best
            variants.append({
                "name": h.name,
                "status": h.status,
                "history": h.records(),
                "best": {"epoch": best.epoch, "val_loss": best.val_loss} if best else None,
            })
        return {"experiment": experiment_to_dict(self.experiment), "variants": variants}

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("variant", "status") + METRICS)
        for h in self.variants:
            for rec in h.records():
                writer.writerow([h.name, h.status] + ["" if rec[m] is None else rec[m] for m in METRICS])
        return buf.getvalue()
