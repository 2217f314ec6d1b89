"""Engines without Ray: the [engine] table, shard plans, merging shard epochs back
into the whole run's epochs, the in-process engine's recording, and what
``--engine ray`` says when Ray is not installed."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import sys
from dataclasses import replace

import pytest

from regtui.cli import main
from regtui.core import presets
from regtui.core.config import ConfigError, EngineConfig, SweepAxis, VariantConfig
from regtui.core.engines.base import EngineError, Shard, plan_shards, split
from regtui.core.engines.choose import open_engine
from regtui.core.engines.merge import EpochMerger
from regtui.core.engines.shard import train_shard
from regtui.core.ranking import Score
from regtui.core.results import METRICS
from regtui.core.run_types import EpochEnd, plan_members
from regtui.core.schema import experiment_from_dict
from regtui.core.store import RunStore
from regtui.core.sweep import SweepPoint, run_sweep
from regtui.core.training import Training

# --------------------------------------------------------------------------- the [engine] table

ENGINE_TOML = """\
[data]
dataset = "moons"

[engine]
kind = "ray"
address = "10.0.0.5:6379"
shard_size = 8
cpus_per_task = 2
gpus_per_task = 0.25
retries = 1
"""


def test_an_engine_table_loads_and_round_trips_through_a_saved_preset(tmp_path) -> None:
    exp = presets.parse_toml(ENGINE_TOML, "cluster.toml")
    assert exp.engine == EngineConfig("ray", "10.0.0.5:6379", 8, 2.0, 0.25, 1)
    path = presets.save_preset(exp, "cluster", tmp_path)
    assert presets.load("cluster", tmp_path).engine == exp.engine
    assert "[engine]" in path.read_text(encoding="utf-8")


def test_a_preset_without_an_engine_table_runs_in_process() -> None:
    assert presets.load("moons-overfit").engine == EngineConfig()
    assert EngineConfig().kind == "in-process"


@pytest.mark.parametrize("table, key, problem", [
    ({"kind": "spark"}, "engine.kind", "unknown engine 'spark'"),
    ({"address": "10.0.0.5"}, "engine.address", "HOST:PORT"),
    ({"address": "host:99999"}, "engine.address", "HOST:PORT"),
    ({"address": " auto"}, "engine.address", "HOST:PORT"),
    ({"shard_size": -1}, "engine.shard_size", "0 (automatic) to 256"),
    ({"cpus_per_task": 0}, "engine.cpus_per_task", "(0, 1024]"),
    ({"gpus_per_task": 1.5}, "engine.gpus_per_task", "whole number"),
    ({"retries": 101}, "engine.retries", "[0, 100]"),
    ({"shard": 4}, "engine.shard", "unknown key 'shard'"),
    ({"shard_size": "8"}, "engine.shard_size", "must be an integer"),
])
def test_bad_engine_values_are_named(table, key, problem) -> None:
    with pytest.raises(ConfigError) as err:
        experiment_from_dict({"engine": table})
    assert err.value.key == key and problem in str(err.value)


def test_good_addresses_are_accepted() -> None:
    for address in ("", "auto", "head:6379", "10.0.0.5:6379", "ray://head:10001"):
        assert experiment_from_dict({"engine": {"kind": "ray", "address": address}}).engine.address == address


# --------------------------------------------------------------------------- shard plans

def test_split_cuts_contiguous_pieces_of_near_equal_size() -> None:
    assert [list(r) for r in split(7, 3)] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [list(r) for r in split(2, 5)] == [[0], [1]]


def test_shards_cover_every_member_once_and_respect_the_size_limit() -> None:
    shards = plan_shards([96], shard_size=10, slots=2)
    assert len(shards) == 10 and max(len(s.members) for s in shards) == 10
    assert sorted(m for s in shards for m in s.members) == list(range(96))


def test_automatic_shards_spread_a_training_over_the_slots_and_keep_n_train_points_apart() -> None:
    assert [len(s.members) for s in plan_shards([96], 0, 2)] == [48, 48]
    assert [len(s.members) for s in plan_shards([96], 0, 16)] == [6] * 16
    five = plan_shards([32] * 5, 0, 2)  # an n_train sweep: one task per n_train value at least
    assert [s.training for s in five] == [0, 1, 2, 3, 4] and all(len(s.members) == 32 for s in five)
    assert [s.index for s in five] == list(range(5))


# --------------------------------------------------------------------------- merging shard epochs

def _diverging_experiment(tiny_experiment):
    variants = (VariantConfig("baseline"), VariantConfig("Dropout", dropout=0.5),
                VariantConfig("L2", l2=0.01), VariantConfig("blow-up", l2=1e5))
    return tiny_experiment(variants=variants, train={"epochs": 6, "seeds": 2})


def _same(a: EpochEnd, b: EpochEnd) -> None:
    assert (a.epoch, a.statuses) == (b.epoch, b.statuses)
    for x, y in zip(a.metrics, b.metrics, strict=True):
        assert (x is None) == (y is None)
        if x is not None:
            assert dataclasses.replace(x, seconds=0.0) == dataclasses.replace(y, seconds=0.0)


def test_shards_trained_apart_and_merged_in_any_order_equal_the_whole_stack(tiny_experiment) -> None:
    exp = _diverging_experiment(tiny_experiment)
    training = Training(exp)
    whole = [e for e in training.events() if isinstance(e, EpochEnd)]
    assert "diverged" in whole[-1].statuses and len(whole) == 7
    shards = [Shard(0, 0, (0, 1, 2)), Shard(1, 0, (3, 4, 5)), Shard(2, 0, (6, 7))]  # the blow-up alone in one
    streams = {s.index: list(train_shard(exp, training.dataset, s.members)) for s in shards}
    assert len(streams[2]) < len(whole)  # every member of that shard diverged: it stopped early
    merger = EpochMerger(len(plan_members(exp)), shards)
    released = []
    order = [2, 2, 0, 1, 1, 1, 0, 2, 2, 0, 0, 1, 0, 1, 1, 0, 0, 2, 1, 2, 2]  # shards at their own pace
    for index in itertools.chain(order, itertools.cycle([0, 1, 2])):
        if not any(streams.values()):
            break
        shard = shards[index]
        if streams[index]:
            event = streams[index].pop(0)
            released += merger.add(shard, event)
            if index == 0:
                released += merger.add(shard, event)  # a retried task repeating itself counts once
            if not streams[index]:
                released += merger.end(shard)
    assert merger.done and len(released) == len(whole)
    for a, b in zip(released, whole):
        _same(a, b)
    assert merger.final_statuses() == list(whole[-1].statuses)


def test_a_failed_shard_reads_failed_and_the_others_go_on(tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 4})
    training = Training(exp)
    shards = [Shard(0, 0, (0,)), Shard(1, 0, (1, 2))]
    a, b = (list(train_shard(exp, training.dataset, s.members)) for s in shards)
    merger = EpochMerger(3, shards)
    out = merger.add(shards[0], a[0]) + merger.add(shards[0], a[1])
    out += merger.end(shards[0], "its worker died")
    for event in b:
        out += merger.add(shards[1], event)
    out += merger.end(shards[1])
    assert [e.epoch for e in out] == [0, 1, 2, 3, 4]
    assert out[1].metrics[0] is not None and all(e.metrics[0] is None for e in out[2:])
    assert [e.statuses[0] for e in out] == ["running", "running", "failed", "failed", "failed"]
    assert merger.final_statuses() == ["failed", "finished", "finished"]


def test_flush_releases_what_arrived_when_a_sweep_stops(tiny_experiment) -> None:
    exp = tiny_experiment(train={"epochs": 5})
    training = Training(exp)
    shards = [Shard(0, 0, (0, 1)), Shard(1, 0, (2,))]
    a, b = (list(train_shard(exp, training.dataset, s.members)) for s in shards)
    merger = EpochMerger(3, shards)
    out = []
    for event in a[:4]:
        out += merger.add(shards[0], event)
    for event in b[:2]:
        out += merger.add(shards[1], event)
    assert [e.epoch for e in out] == [0, 1]
    rest = merger.flush()
    assert [e.epoch for e in rest] == [2, 3]
    assert all(e.metrics[2] is None and e.metrics[0] is not None for e in rest)
    assert merger.final_statuses() == ["stopped"] * 3 and not merger.done


def test_shards_must_cover_every_member() -> None:
    with pytest.raises(ValueError):
        EpochMerger(3, [Shard(0, 0, (0, 1))])


# --------------------------------------------------------------------------- in-process sweeps record

def _rows(stored) -> list[list[list[float | None]]]:
    return [[[r[m] for m in METRICS if m != "seconds"] for r in h.records()] for h in stored.history.members]


def test_an_in_process_sweep_records_each_training_as_one_stacked_run(tiny_experiment) -> None:
    exp = replace(tiny_experiment(train={"seeds": 2}),
                  sweep=(SweepAxis("variants.L2.l2", (0.0, 0.1)), SweepAxis("data.n_train", (20, 30))))
    with RunStore.open() as store:
        recorders = []

        def record(e, data, label):
            recorders.append(store.recorder(e, data=data, engine=label))
            return recorders[-1]

        points = [p for item in run_sweep(exp, record=record) if isinstance(item, list) for p in item]
        assert len(points) == 4 and len(recorders) == 2
        for rec, n_train in zip(recorders, (20, 30)):
            stored = store.load_run(rec.run_id)
            assert stored.summary.status == "finished" and stored.summary.engine == "in-process"
            assert stored.data["n_train"] == n_train and stored.workers == {}
            alone = stored.experiment  # the training as recorded: the grid points as variants
            assert [v.name for v in alone.variants] == ["l2=0", "l2=0.1"]
            with store.recorder(alone) as again:
                for event in Training(alone).events():
                    again.add(event)
            assert _rows(store.load_run(again.run_id)) == _rows(stored)


# --------------------------------------------------------------------------- without Ray installed

def test_the_ray_engine_without_ray_says_how_to_install_it(monkeypatch, tiny_preset_file, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(EngineError, match=r"pip install 'regtui\[ray\]'"):
        open_engine(EngineConfig(kind="ray"))
    code = main(["sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1", "--engine", "ray", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install 'regtui[ray]'" in err


def test_an_address_needs_the_ray_engine(tiny_preset_file, capsys) -> None:
    code = main(["sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1", "--address", "auto"])
    err = capsys.readouterr().err
    assert code == 2 and "--address" in err and "--engine ray" in err


def test_a_bad_address_is_a_usage_error(tiny_preset_file, capsys) -> None:
    code = main(["sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1", "--engine", "ray",
                 "--address", "no-port"])
    assert code == 2 and "engine.address" in capsys.readouterr().err


def test_points_carry_their_errors_into_the_json_summary() -> None:
    nan = math.nan
    score = Score("end", (0.5, nan), (False, False))
    point = SweepPoint({"variants.L2.l2": 0.1}, score, (0.5, nan), (0.4, nan), (0.5, nan), ("finished", "failed"),
                       ("", "its worker died"))
    summary = json.loads(json.dumps(point.summary()))
    assert summary["errors"] == ["", "its worker died"] and summary["statuses"] == ["finished", "failed"]
    one = Score("end", (0.5,), (False,))
    assert "errors" not in SweepPoint({}, one, (0.5,), (0.4,), (0.5,), ("finished",)).summary()


def test_a_point_with_a_failed_seed_is_never_ranked_first(tiny_experiment) -> None:
    """What arrived of a failed seed is kept, but its point has no value to rank by."""
    from regtui.core.results import VariantHistory
    from regtui.core.sweep import _point, best_point

    exp = tiny_experiment(train={"epochs": 2})
    events = [e for e in Training(exp).events() if isinstance(e, EpochEnd)]
    good, broken = VariantHistory("a"), VariantHistory("b")
    for e in events:
        good.append(e.metrics[0])
        broken.append(dataclasses.replace(e.metrics[0], val_loss=e.metrics[0].val_loss / 10))  # "better"
    good.status, broken.status = "finished", "failed"
    points = [_point({"k": 0.0}, [good], "end"), _point({"k": 1.0}, [broken], "end", ["its worker died"])]
    assert not points[1].score.rankable and best_point(points) is points[0]


def test_tasks_ask_for_fractions_of_gpus_and_one_that_fits_nowhere_is_refused() -> None:
    """The resource arithmetic of the Ray engine (no Ray needed: the module imports it lazily)."""
    from regtui.core.engines.ray_engine import task_options, task_slots, uses_gpu

    nodes = [{"CPU": 16.0, "GPU": 1.0}, {"CPU": 8.0, "GPU": 2.0}, {"CPU": 4.0}]
    quarter = EngineConfig(kind="ray", gpus_per_task=0.25, cpus_per_task=2)
    assert task_options(quarter, gpu=True) == {"num_cpus": 2.0, "num_gpus": 0.25, "max_retries": 3,
                                               "retry_exceptions": False}
    assert task_options(quarter, gpu=False)["num_gpus"] == 0
    assert task_slots(nodes, quarter, gpu=False, where="x") == 8 + 4 + 2  # CPUs / 2 per node
    assert task_slots(nodes, quarter, gpu=True, where="x") == 12  # 3 GPUs / 0.25, fewer than the CPU slots
    assert task_slots(nodes, EngineConfig(gpus_per_task=0.1), gpu=True, where="x") == 28  # 3 / 0.1 is 30: CPUs cap
    assert uses_gpu("auto", 3.0, "x") and not uses_gpu("auto", 0.0, "x") and not uses_gpu("cpu", 3.0, "x")
    with pytest.raises(EngineError, match="has no GPUs"):
        uses_gpu("cuda", 0.0, "ray 10.0.0.5:6379")
    with pytest.raises(EngineError, match="engine.gpus_per_task = 3"):
        task_slots(nodes, EngineConfig(gpus_per_task=3), gpu=True, where="x")
    with pytest.raises(EngineError, match="engine.cpus_per_task = 32"):
        task_slots(nodes, EngineConfig(cpus_per_task=32), gpu=False, where="x")
