"""Curve smoothing: ``ema(y, weight)``, TensorBoard's debiased exponential moving average.

``last = w·last + (1 − w)·y_t``; ``smoothed_t = last / (1 − w^n)`` where ``n``
counts the finite values so far; non-finite values pass through unsmoothed.
In numpy without a Python loop per point.  Pure: imports numpy only.
"""

from __future__ import annotations

import math

import numpy as np

_CHUNK = 128
"""Points per vectorized block of ``ema`` (keeps ``w^-i`` finite in float64)."""


def ema(y: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased EMA of ``y`` with smoothing ``weight`` in [0, 1).

    Non-finite values are copied through and do not advance the average; a
    constant series is returned as it is (TensorBoard does the same).
    """
    y = np.asarray(y, dtype=np.float64)
    out = y.copy()
    if not 0.0 < weight < 1.0:
        if weight == 0.0:
            return out
        raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
    finite = np.isfinite(y)
    values = y[finite]
    if values.size == 0 or np.all(values == values[0]):
        return out
    chunk = max(1, min(_CHUNK, int(250 / -math.log10(weight))))
    steps = np.arange(1, chunk + 1, dtype=np.float64)
    grow, shrink = weight ** -steps, weight ** steps  # w^-(i+1), w^(j+1)
    last = 0.0
    biased = np.empty_like(values)
    for start in range(0, values.size, chunk):
        v = values[start:start + chunk]
        n = v.size
        # last_j = w^(j+1) · (last + (1 − w) · Σ_{i<=j} w^-(i+1) · v_i)
        block = shrink[:n] * (last + (1.0 - weight) * np.cumsum(grow[:n] * v))
        biased[start:start + n] = block
        last = float(block[-1])
    count = np.arange(1, values.size + 1, dtype=np.float64)
    out[finite] = biased / (1.0 - weight ** count)
    return out
