"""RunHistory: compact per-variant rows, best epoch, JSON / CSV exports."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from regtui.core.config import Experiment, VariantConfig
from regtui.core.results import METRICS, RunHistory
from regtui.core.run_types import EpochEnd, EpochMetrics

NAN, INF = float("nan"), float("inf")


def _m(epoch: int, val: float, train: float = 1.0, acc: float | None = 0.5) -> EpochMetrics:
    return EpochMetrics(epoch, train, val, acc, acc, train, 0.0, 2.0, val - train, float(epoch))


def _history(rows_a, rows_b, statuses=("finished", "diverged")) -> RunHistory:
    exp = Experiment(variants=(VariantConfig("a"), VariantConfig("b", l2=0.1)))
    h = RunHistory(exp)
    for i, (ma, mb) in enumerate(zip(rows_a, rows_b)):
        last = i == len(rows_a) - 1
        h.add(EpochEnd(i, (ma, mb), statuses if last else ("running", "running"), float(i)))
    return h


def test_best_is_argmin_of_finite_val_loss_and_non_finite_becomes_null():
    h = _history([_m(0, 3.0), _m(1, 1.0), _m(2, 2.0)], [_m(0, 3.0), _m(1, NAN, train=INF), None])
    assert h["a"].best.epoch == 1 and h["a"].best.val_loss == 1.0
    assert h["b"].best.epoch == 0 and len(h["b"]) == 2  # None (after divergence) adds no row
    assert h.winner() == "a"  # b diverged: never ranked first
    doc = h.to_json()
    text = json.dumps(doc, allow_nan=False)  # would raise on NaN / Infinity
    b = json.loads(text)["variants"][1]
    assert b["status"] == "diverged"
    assert b["history"][1]["val_loss"] is None and b["history"][1]["train_loss"] is None
    assert b["best"] == {"epoch": 0, "val_loss": 3.0}
    assert list(b["history"][0]) == list(METRICS)
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    assert len(rows) == 3 + 2
    assert rows[4]["variant"] == "b" and rows[4]["val_loss"] == "" and rows[4]["status"] == "diverged"


def test_regression_accuracy_is_null():
    h = _history([_m(0, 1.0, acc=None)], [_m(0, 1.0, acc=None)])
    rec = h.to_json()["variants"][0]["history"][0]
    assert rec["train_acc"] is None and rec["val_acc"] is None
    assert h["a"].last("val_acc") is None


def test_best_kept_as_rows_arrive_is_the_first_lowest_finite_val_loss() -> None:
    """``best`` is kept incrementally; it equals the argmin over the whole series
    (NaN and infinities never count, a tie goes to the first epoch) after every row."""
    import numpy as np

    from regtui.core.results import VariantHistory

    rng = np.random.default_rng(0)
    values = rng.choice([0.5, 0.25, 0.75, NAN, INF, -INF, 0.25], size=300)
    h = VariantHistory("a")
    for epoch, val in enumerate(values):
        h.append(_m(epoch, float(val)))
        series = h.series("val_loss")
        finite = np.isfinite(series)
        if not finite.any():
            assert h.best is None
            continue
        i = int(np.nanargmin(np.where(finite, series, np.nan)))
        assert (h.best.epoch, h.best.val_loss) == (i, float(series[i]))
    assert h.best.val_loss == 0.25 and h.best.epoch == int(np.flatnonzero(values == 0.25)[0])


def test_all_nan_has_no_best():
    h = _history([_m(0, NAN)], [_m(0, NAN)])
    assert h["a"].best is None and h.winner() is None
    assert h.to_json()["variants"][0]["best"] is None


def test_history_grows_past_its_initial_capacity():
    n = 300
    h = _history([_m(i, 1.0 / (i + 1)) for i in range(n)], [_m(i, float(i)) for i in range(n)])
    assert len(h["a"]) == n
    assert list(h["a"].series("epoch")) == list(range(n))
    assert h["a"].best.epoch == n - 1 and h["b"].best.epoch == 0
    with pytest.raises(ValueError):
        h["a"].series("val_loss")[0] = 0.0  # a read-only view


def test_mark_stopped_only_touches_running():
    exp = Experiment(variants=(VariantConfig("a"), VariantConfig("b")))
    h = RunHistory(exp)
    h.add(EpochEnd(0, (_m(0, 1.0), _m(0, 1.0)), ("running", "diverged"), 0.0))
    h.mark_stopped()
    assert [v.status for v in h.variants] == ["stopped", "diverged"]
    assert math.isclose(h.to_json()["variants"][0]["history"][0]["val_loss"], 1.0)
