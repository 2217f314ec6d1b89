"""What ``regtui.core.insight`` computes, as plain numpy: ``DecisionMap`` and ``WeightHistogram``.

Torch-free, so a process that only shows them (the lab, whose runs train in a
child process that sends the snapshots over a pipe) can unpickle them without
importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DecisionMap:
    xs: np.ndarray
    """Column centres (first feature), ascending."""
    ys: np.ndarray
    """Row centres (second feature), ascending (row 0 is the bottom)."""
    prob: np.ndarray
    """``[K, rows, cols]``: probability of class 1 (binary) or of the predicted class."""
    label: np.ndarray
    """``[K, rows, cols]``: the predicted class."""
    points: np.ndarray
    """``[n, 2]`` training inputs."""
    targets: np.ndarray
    """``[n]`` training labels (with label noise, as trained on)."""
    wrong: np.ndarray
    """``[K, n]`` True where a member misclassifies a training point."""

    def to_json(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {
            "x": self.xs.round(5).tolist(),
            "y": self.ys.round(5).tolist(),
            "prob": {n: p.round(4).tolist() for n, p in zip(names, self.prob)},
        }


@dataclass(frozen=True)
class WeightHistogram:
    edges: np.ndarray
    """``bins + 1`` shared edges."""
    counts: np.ndarray
    """``[K, bins]`` entries per bin per member."""

    def to_json(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {"edges": self.edges.round(6).tolist(),
                "counts": {n: c.astype(int).tolist() for n, c in zip(names, self.counts)}}
