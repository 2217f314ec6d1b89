"""The tour's steps and checks: each check read on constructed histories, where the
answer is known, and every step's preset loads and fits its check."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from regtui.core import presets, tour
from regtui.core.config import Experiment, TrainConfig, VariantConfig
from regtui.core.results import METRICS, RunHistory


def history(variants: list[VariantConfig], curves: dict[str, dict[str, Any]], statuses: dict[str, str] | None = None,
            **exp: Any) -> RunHistory:
    """A RunHistory fed with made-up epochs: ``curves[name][metric]`` is a list over
    epochs 0…E (a number means constant); metrics not given are 0."""
    epochs = len(next(iter(curves.values()))["val_loss"]) - 1
    train = exp.pop("train", TrainConfig())
    e = Experiment(variants=tuple(variants), train=dataclasses.replace(train, epochs=epochs), **exp)
    h = RunHistory(e)
    n = e.train.epochs + 1
    for epoch in range(n):
        metrics = []
        for v in variants:
            c = curves[v.name]
            values = {m: (c[m][epoch] if isinstance(c.get(m), (list, np.ndarray)) else c.get(m, 0.0)) for m in METRICS}
            values["epoch"] = epoch
            metrics.append(SimpleNamespace(**values))
        last = epoch == n - 1
        states = tuple((statuses or {}).get(v.name, "finished") if last else "running" for v in variants)
        h.add(SimpleNamespace(epoch=epoch, metrics=tuple(metrics), statuses=states, seconds=float(epoch)))
    return h


def u_curve(low: float, at: int, end: float, n: int = 41) -> np.ndarray:
    """Falls from 1.0 to ``low`` at epoch ``at``, then rises linearly to ``end``."""
    x = np.arange(n, dtype=float)
    return np.where(x <= at, 1.0 + (low - 1.0) * x / at, low + (end - low) * (x - at) / (n - 1 - at))


def falling(start: float, end: float, n: int = 41) -> np.ndarray:
    """Falls linearly to ``end`` by the middle epoch, then stays (so the end statistic,
    the mean over the last 10 % of epochs, is ``end``)."""
    return np.concatenate([np.linspace(start, end, n // 2), np.full(n - n // 2, end)])


# --------------------------------------------------------------------------- 1

def test_overfitting_appears_when_val_turns_up_while_train_falls() -> None:
    val = u_curve(0.4, 5, 1.2)
    h = history([VariantConfig("baseline")], {"baseline": {"val_loss": val, "train_loss": falling(1.0, 0.01)}})
    f = tour.check_overfitting(h)
    assert f.appeared is True
    end = val[-4:].mean()  # the last 10 % of 40 epochs
    assert tour.end_val(h.variants[0]) == pytest.approx(end)
    assert "0.4 at epoch 5" in f.summary and f"rose to {tour.fmt(end)}" in f.summary
    assert tour.pct(end, 0.4) in f.summary and "its 100 training points" in f.summary
    assert f.rows[1][:2] == ("lowest val", "5")


def test_overfitting_not_seen_when_val_keeps_falling() -> None:
    h = history([VariantConfig("baseline")],
                {"baseline": {"val_loss": np.linspace(1.0, 0.3, 41), "train_loss": falling(1.0, 0.2)}})
    f = tour.check_overfitting(h)
    assert f.appeared is False
    assert "lowest at epoch 40 (0.3)" in f.summary and "No clear turn upward" in f.summary


def test_overfitting_cannot_tell_from_one_epoch_or_a_diverged_run() -> None:
    short = history([VariantConfig("baseline")], {"baseline": {"val_loss": [1.0, 0.9], "train_loss": [1, 0.5]}})
    assert tour.check_overfitting(short).appeared is None
    gone = history([VariantConfig("baseline")], {"baseline": {"val_loss": u_curve(0.4, 5, 1.2)}},
                   statuses={"baseline": "diverged"})
    assert tour.check_overfitting(gone).appeared is None


# --------------------------------------------------------------------------- 2

LAMBDAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)


def ladder(knob: str, values: tuple[float, ...], ends: list[float], norms: list[float] | None = None,
           objective: list[np.ndarray] | None = None) -> RunHistory:
    variants = [VariantConfig(f"v{i}", **{knob: v}) for i, v in enumerate(values)]
    curves = {}
    for i, v in enumerate(variants):
        curves[v.name] = {"val_loss": falling(1.0, ends[i]), "train_loss": falling(1.0, 0.1),
                          "weight_norm": (norms or [1.0] * len(values))[i]}
        if objective is not None:
            curves[v.name]["objective"] = objective[i]
    return history(variants, curves)


def test_l2_appears_with_shrinking_weights_and_a_u() -> None:
    f = tour.check_l2(ladder("l2", LAMBDAS, [1.0, 0.8, 0.6, 0.5, 0.7], [15.0, 12.0, 8.0, 4.0, 0.1]))
    assert f.appeared is True
    assert "lowest at λ=0.01" in f.summary and "15" in f.summary and "0.1 at λ=0.1" in f.summary
    assert [r[0] for r in f.rows] == ["0", "0.0001", "0.001", "0.01", "0.1"]


def test_l2_without_a_turn_up_says_so() -> None:
    f = tour.check_l2(ladder("l2", LAMBDAS, [1.0, 0.8, 0.6, 0.5, 0.4], [15.0, 12.0, 8.0, 4.0, 0.1]))
    assert f.appeared is False and "strongest setting" in f.summary


def test_l2_when_weights_do_not_shrink() -> None:
    f = tour.check_l2(ladder("l2", LAMBDAS, [1.0, 0.8, 0.6, 0.5, 0.7], [15.0, 16.0, 15.0, 15.5, 15.0]))
    assert f.appeared is False and "shrinking at" in f.summary


def test_l2_reads_the_order_of_lambda_not_of_the_variants() -> None:
    order = [3, 0, 4, 1, 2]
    lams = tuple(LAMBDAS[i] for i in order)
    ends = [[1.0, 0.8, 0.6, 0.5, 0.7][i] for i in order]
    norms = [[15.0, 12.0, 8.0, 4.0, 0.1][i] for i in order]
    assert tour.check_l2(ladder("l2", lams, ends, norms)).appeared is True


# --------------------------------------------------------------------------- 3

def jittery(level: float, jitter: float, n: int = 41) -> np.ndarray:
    return level + jitter * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def test_dropout_appears_with_noisier_objective_and_a_better_p() -> None:
    ps = (0.0, 0.2, 0.5)
    f = tour.check_dropout(ladder("dropout", ps, [1.0, 0.7, 0.8],
                                  objective=[jittery(0.5, 0.0), jittery(0.5, 0.05), jittery(0.5, 0.1)]))
    assert f.appeared is True
    assert "p=0 0.0%" in f.summary and "p=0.5 40.0%" in f.summary and "lowest at p=0.2" in f.summary
    assert tour.roughness(SimpleNamespace(series=lambda m: jittery(0.5, 0.1))) == pytest.approx(0.4)


def test_dropout_not_seen_when_p0_ends_lowest() -> None:
    f = tour.check_dropout(ladder("dropout", (0.0, 0.5), [0.5, 0.8], objective=[jittery(0.5, 0.0), jittery(0.5, 0.1)]))
    assert f.appeared is False and "p=0 ended lowest" in f.summary


def test_dropout_needs_a_p0_variant() -> None:
    assert tour.check_dropout(ladder("dropout", (0.2, 0.5), [0.5, 0.8])).appeared is None


# --------------------------------------------------------------------------- 4

ARTICLE = [VariantConfig("baseline"), VariantConfig("L2", l2=1e-3), VariantConfig("Dropout", dropout=0.5),
           VariantConfig("L2+Dropout", l2=1e-3, dropout=0.5)]


def four(ends: list[float], norms: list[float] = [12.0, 8.0, 13.0, 10.0]) -> RunHistory:  # noqa: B006
    return history(ARTICLE, {v.name: {"val_loss": falling(1.0, e), "train_loss": 0.01, "weight_norm": w}
                             for v, e, w in zip(ARTICLE, ends, norms)})


def test_side_by_side_appears_when_both_beat_the_baseline() -> None:
    f = tour.check_side_by_side(four([1.0, 0.8, 0.9, 0.7]))
    assert f.appeared is True
    assert "L2 0.8 (-20 %)" in f.summary and "Dropout 0.9 (-10 %)" in f.summary and "both" in f.summary
    assert "‖w‖ to 8" in f.summary


def test_side_by_side_names_the_one_that_did_not_help() -> None:
    f = tour.check_side_by_side(four([1.0, 0.8, 1.1, 0.9]))
    assert f.appeared is False and "only L2 beat the baseline" in f.summary and "(+10 %)" in f.summary


# --------------------------------------------------------------------------- 5

def coupled(norms: list[float], optimizer: str = "adam", eta: float = 1e-2) -> RunHistory:
    vs = [VariantConfig("base"), VariantConfig("Adam+L2", l2=5e-3), VariantConfig("AdamW", weight_decay=eta)]
    return history(vs, {v.name: {"val_loss": falling(1.0, 0.5), "weight_norm": n} for v, n in zip(vs, norms)},
                   train=TrainConfig(optimizer=optimizer))


def test_coupled_and_decoupled_apart_under_adam() -> None:
    f = tour.check_coupled_vs_decoupled(coupled([13.0, 6.0, 12.0]))
    assert f.appeared is True and "6 with coupled L2 and 12 with decoupled decay (50% apart)" in f.summary


def test_coupled_and_decoupled_together_is_not_the_effect() -> None:
    assert tour.check_coupled_vs_decoupled(coupled([13.0, 12.0, 12.2])).appeared is False


def test_coupled_check_needs_the_twin_at_two_lambda() -> None:
    f = tour.check_coupled_vs_decoupled(coupled([13.0, 6.0, 12.0], eta=0.5))
    assert f.appeared is None and "η = 2λ = 0.01" in f.summary


# --------------------------------------------------------------------------- 6

def point(n: int, lam: float, train: float, val: float) -> Any:
    return SimpleNamespace(knobs={"data.n_train": float(n), "variants.net.l2": lam}, score=SimpleNamespace(value=val),
                           final_train_loss=(train,), final_val_loss=(val,), best_val_loss=(val,))


def test_more_data_shrinks_the_gap_and_the_gain() -> None:
    points = [point(30, 0.0, 0.05, 0.8), point(30, 0.01, 0.3, 0.5),
              point(300, 0.0, 0.2, 0.3), point(300, 0.01, 0.3, 0.32)]
    f = tour.check_more_data(points)
    assert f.appeared is True
    assert "0.75 (n=30) → 0.1 (n=300)" in f.summary and "0.3 → -0.02" in f.summary
    assert [r[0] for r in f.rows] == ["30", "300"]


def test_more_data_not_seen_when_the_gap_grows() -> None:
    points = [point(30, 0.0, 0.2, 0.3), point(30, 0.01, 0.3, 0.32), point(300, 0.0, 0.05, 0.8), point(300, 0.01, 0.3, 0.5)]
    f = tour.check_more_data(points)
    assert f.appeared is False and "did not shrink" in f.summary


def test_more_data_needs_an_n_train_sweep() -> None:
    f = tour.check_more_data([point(30, 0.0, 0.1, 0.2), SimpleNamespace(knobs={"variants.net.l2": 0.0})])
    assert f.appeared is None


# --------------------------------------------------------------------------- the steps

def test_steps_are_numbered_in_order_and_found_by_number_or_key() -> None:
    assert [s.number for s in tour.STEPS] == list(range(1, len(tour.STEPS) + 1))
    assert tour.step(2) is tour.step("l2")
    with pytest.raises(KeyError):
        tour.step(99)


@pytest.mark.parametrize("step", tour.STEPS, ids=lambda s: s.key)
def test_every_step_runs_an_ordinary_bundled_preset_that_fits_its_check(step: tour.Step) -> None:
    exp = presets.load(step.preset)
    assert presets.is_bundled(step.preset)
    assert bool(exp.sweep) == (step.kind == tour.SWEEP)
    assert len(step.text) > 200 and len(step.watch) > 50
    if step.kind == tour.SWEEP:
        assert {a.key for a in exp.sweep} >= {"data.n_train"}
