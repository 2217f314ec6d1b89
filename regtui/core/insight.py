"""Why a variant generalizes: its decision boundary and its weight distribution.

``decision_map(training, width, height)`` evaluates every member on a grid over
the (standardized) input plane of a 2-D data set and returns class-1
probabilities (or the arg-max class), with the training points and which of
them each member gets wrong.  ``weight_histogram(training, bins)`` bins every
weight-matrix entry of every member with the *same* edges, so the variants
compare.  Both run in eval mode under ``no_grad``; plain numpy out, as
``regtui.core.insight_types``'s ``DecisionMap`` and ``WeightHistogram`` (no
torch there: the lab, which receives them from its training process, never
imports torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from regtui.core.insight_types import DecisionMap, WeightHistogram


def has_plane(training: Any) -> bool:
    """Whether the data set is a 2-D classification problem (a map can be drawn)."""
    ds = training.dataset
    return ds.task == "classification" and ds.n_features == 2


@torch.no_grad()
def _predict(training: Any, x: np.ndarray) -> np.ndarray:
    model = training.model
    was = model.training
    model.eval()
    try:
        out = model(torch.from_numpy(x.astype(np.float32)).to(training.device))
        return torch.softmax(out, -1).cpu().numpy()  # [K, n, C]
    finally:
        model.train(was)


def decision_map(training: Any, cols: int = 40, rows: int = 20, margin: float = 0.15) -> DecisionMap:
    """Predictions of every member over a ``rows × cols`` grid covering the training points."""
    if not has_plane(training):
        raise ValueError("decision maps need a 2-D classification data set")
    pts = training.dataset.x_train
    lo, hi = pts.min(0), pts.max(0)
    pad = (hi - lo) * margin + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], cols)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], rows)
    gx, gy = np.meshgrid(xs, ys)
    probs = _predict(training, np.stack([gx.ravel(), gy.ravel()], 1))
    k, n_classes = probs.shape[0], probs.shape[2]
    label = probs.argmax(-1).reshape(k, rows, cols)
    shown = probs[..., 1] if n_classes == 2 else probs.max(-1)
    train_pred = _predict(training, pts).argmax(-1)
    targets = training.dataset.y_train
    return DecisionMap(xs, ys, np.nan_to_num(shown.reshape(k, rows, cols), nan=0.5), label,
                       pts, targets, train_pred != targets[None, :])


@torch.no_grad()
def weight_histogram(training: Any, bins: int = 30, clip: float = 0.995) -> WeightHistogram:
    """Histogram of all weight-matrix entries per member, on common edges.

    The range covers the central ``clip`` fraction of all finite entries (so one
    diverged member cannot squash everyone else's histogram into one bin);
    entries outside it land in the outermost bins.
    """
    weights = [torch.cat([w[k].flatten() for w in training.model.weights]).cpu().numpy()
               for k in range(training.model.k)]
    everything = np.concatenate(weights)
    finite = everything[np.isfinite(everything)]
    if not len(finite):
        finite = np.zeros(1)
    tail = (1 - clip) / 2
    lo, hi = np.quantile(finite, [tail, 1 - tail])
    bound = max(abs(lo), abs(hi), 1e-6)  # symmetric: 0 in the middle, shrinkage reads at a glance
    edges = np.linspace(-bound, bound, bins + 1)
    counts = np.stack([np.histogram(np.clip(w[np.isfinite(w)], -bound, bound), edges)[0] for w in weights])
    return WeightHistogram(edges, counts)
