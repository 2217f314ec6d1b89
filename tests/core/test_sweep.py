"""Sweeps and seeds: the U-shaped curve on the D2L problem, exact reproduction,
seeds independent of each other, n_train sweeps, and the CLI's JSON."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from regtui.cli import main
from regtui.core import presets
from regtui.core.config import ConfigError, SweepAxis
from regtui.core.results import METRICS, RunHistory
from regtui.core.run_types import EpochEnd
from regtui.core.sweep import SweepPoint, SweepProgress, best_point, plan, run_sweep
from regtui.core.training import Training


def _points(experiment) -> list[SweepPoint]:
    return [p for item in run_sweep(experiment) if not isinstance(item, SweepProgress) for p in item]


@pytest.fixture(scope="module")
def d2l_points() -> list[SweepPoint]:
    exp = presets.load("d2l-weight-decay")
    exp = replace(exp, train=replace(exp.train, epochs=60, seeds=2),
                  sweep=(SweepAxis("variants.λ=3.l2", (0.0, 0.03, 0.3, 3.0, 1000.0)),))
    return _points(exp)


def test_a_lambda_sweep_on_the_d2l_problem_finds_a_u_shape(d2l_points: list[SweepPoint]) -> None:
    means = [p.summary()["score"]["mean"] for p in d2l_points]  # the end statistic: where training ends
    best = best_point(d2l_points)
    assert best is not None and best.knobs["variants.λ=3.l2"] > 0
    i = d2l_points.index(best)
    assert means[i] < means[0] and means[i] < means[-1], means  # below both ends: a U
    assert all(len(p.best_val_loss) == 2 for p in d2l_points)


def test_train_loss_rises_with_lambda(d2l_points: list[SweepPoint]) -> None:
    train = [p.summary()["final_train_loss"]["mean"] for p in d2l_points]
    assert train[0] < train[-1]


def test_a_fixed_seed_list_reproduces_exactly() -> None:
    exp = presets.load("moons-overfit")
    exp = replace(exp, train=replace(exp.train, epochs=4, seeds=3))
    runs = []
    for _ in range(2):
        h = RunHistory(exp)
        for event in Training(exp).events():
            if isinstance(event, EpochEnd):
                h.add(event)
        runs.append([[m.series(k).tolist() for k in METRICS if k != "seconds"] for m in h.members])
    assert runs[0] == runs[1]  # bit for bit, every member and metric but wall-clock seconds


def test_seeds_differ_and_seed_0_equals_a_one_seed_run() -> None:
    exp = presets.load("moons-overfit")
    exp = replace(exp, train=replace(exp.train, epochs=3))
    one, three = RunHistory(exp), RunHistory(replace(exp, train=replace(exp.train, seeds=3)))
    for h in (one, three):
        for event in Training(h.experiment).events():
            if isinstance(event, EpochEnd):
                h.add(event)
    first = one.variants[0].series("val_loss")
    members = three.variants[0].members
    assert list(members[0].series("val_loss")) == list(first)
    assert list(members[1].series("val_loss")) != list(first), "another seed: other init and batch order"
    assert list(members[1].series("val_loss"))[0] != list(first)[0], "other initial weights"


def test_an_n_train_axis_runs_one_training_per_size() -> None:
    exp = presets.load("moons-overfit")
    exp = replace(exp, train=replace(exp.train, epochs=2),
                  sweep=(SweepAxis("data.n_train", (20.0, 60.0)), SweepAxis("variants.Dropout.dropout", (0.0, 0.5))))
    trainings = plan(exp)
    assert [t.data.n_train for t, _ in trainings] == [20, 60]
    assert [v.dropout for v in trainings[0][0].variants] == [0.0, 0.5]
    points = _points(exp)
    assert [(p.knobs["data.n_train"], p.knobs["variants.Dropout.dropout"]) for p in points] == [
        (20.0, 0.0), (20.0, 0.5), (60.0, 0.0), (60.0, 0.5)]


def test_sweep_progress_comes_after_every_batch() -> None:
    exp = presets.load("moons-overfit")
    exp = replace(exp, train=replace(exp.train, epochs=2, batch_size=10),
                  sweep=(SweepAxis("variants.L2.l2", (0.0, 0.1)),))
    progress = [i for i in run_sweep(exp) if isinstance(i, SweepProgress)]
    assert sum(1 for p in progress if p.batch) == 2 * 4  # 40 samples, batches of 10
    assert progress[-1].done_epochs == progress[-1].total_epochs == 2


@pytest.mark.parametrize("axes, key", [
    ((SweepAxis("variants.nope.l2", (0.0,)),), "sweep.variants.nope.l2"),
    ((SweepAxis("variants.L2.dropout", (0.5, 1.0)),), "sweep.variants.L2.dropout"),
    ((SweepAxis("train.lr", (0.1,)),), "sweep.train.lr"),
    ((SweepAxis("variants.L2.l2", (0.0,)), SweepAxis("variants.Dropout.dropout", (0.1,))), "sweep"),
    ((SweepAxis("data.n_train", (1.5,)),), "sweep.data.n_train"),
])
def test_bad_sweeps_name_the_key(axes, key: str) -> None:
    exp = presets.load("moons-overfit")
    with pytest.raises(ConfigError) as info:
        replace(exp, sweep=axes)
    assert info.value.key == key


def test_regtui_sweep_writes_one_entry_per_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    code = main(["sweep", "moons-overfit", "--grid", "variants.L2.l2=0,0.01,0.1", "--seeds", "2",
                 "--set", "train.epochs=3", "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert [p["knobs"] for p in doc["points"]] == [{"variants.L2.l2": v} for v in (0.0, 0.01, 0.1)]
    for p in doc["points"]:
        assert set(p["best_val_loss"]) == {"mean", "std"} and math.isfinite(p["best_val_loss"]["std"])
        assert p["seeds"] == 2 and len(p["per_seed_best_val_loss"]) == 2
        score = p["score"]
        assert score["by"] == "end" and score["mean"] == pytest.approx(sum(score["per_seed"]) / 2)
    out = capsys.readouterr().out
    assert "best: variants.L2.l2 = " in out and "(mean end val " in out
    best = min(doc["points"], key=lambda p: p["score"]["mean"])
    assert f"best: variants.L2.l2 = {best['knobs']['variants.L2.l2']:g} " in out  # the ★ goes by the statistic


def test_regtui_sweep_rank_by_best_judges_points_by_their_best_epoch(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main(["sweep", "moons-overfit", "--grid", "variants.L2.l2=0,0.01", "--rank-by", "best", "-q",
                 "--set", "train.epochs=3", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["experiment"]["train"]["rank_by"] == "best"
    for p in doc["points"]:
        assert p["score"]["by"] == "best" and p["score"]["mean"] == pytest.approx(p["best_val_loss"]["mean"])


def test_regtui_sweep_without_a_grid_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "moons-overfit"]) == 2
    assert "nothing to sweep" in capsys.readouterr().err
    assert main(["sweep", "moons-overfit", "--grid", "variants.L2.l2=0,abc"]) == 2
    assert "'abc' is not a number" in capsys.readouterr().err
