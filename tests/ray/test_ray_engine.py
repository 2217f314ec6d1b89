"""The Ray engine on a real local cluster (worker processes, not local mode): the
same numbers and history rows as in-process, rows trained in other processes,
a killed worker retried or its points failed (never a hang), cancellation,
and clear errors for what cannot run."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray")

from regtui.cli import main  # noqa: E402
from regtui.core.config import EngineConfig, SweepAxis  # noqa: E402
from regtui.core.engines.base import EngineError  # noqa: E402
from regtui.core.engines.ray_engine import RayEngine, describe  # noqa: E402
from regtui.core.results import METRICS  # noqa: E402
from regtui.core.store import RunStore  # noqa: E402
from regtui.core.sweep import SweepProgress, run_sweep  # noqa: E402

pytestmark = pytest.mark.xdist_group("ray")


def _sweep(tiny_experiment, **train: Any):
    exp = tiny_experiment(train={"seeds": 2, **train})
    return replace(exp, sweep=(SweepAxis("variants.L2.l2", (0.0, 0.01, 0.1)), SweepAxis("data.n_train", (24, 40))))


def _long_sweep(tiny_experiment, epochs: int):
    """Two points × two seeds whose shards train for seconds (many batches per epoch)."""
    exp = tiny_experiment(data={"n_train": 1000}, train={"seeds": 2, "epochs": epochs, "batch_size": 8})
    return replace(exp, sweep=(SweepAxis("variants.L2.l2", (0.0, 0.01)),))


class Recording:
    """``run_sweep``'s record factory into one store; optionally kills the worker of
    the first shard that reports, as soon as it reports."""

    def __init__(self, store: RunStore, kill_first: bool = False) -> None:
        self.store = store
        self.recorders: list[Any] = []
        self.placements: list[tuple[tuple[int, ...], str]] = []
        self.kill_first = kill_first
        self.killed: int | None = None

    def __call__(self, experiment, data, label):
        rec = self.store.recorder(experiment, data=data, engine=label)
        outer = self
        self.recorders.append(rec)

        class Placing:
            add, finish = rec.add, rec.finish

            def placed(self, members, worker):
                rec.placed(members, worker)
                outer.placements.append((tuple(members), worker))
                if outer.kill_first and outer.killed is None:
                    outer.killed = _pid(worker)
                    os.kill(outer.killed, signal.SIGKILL)

        return Placing()

    def runs(self) -> list[Any]:
        return [self.store.load_run(r.run_id) for r in self.recorders]


def _pid(worker: str) -> int:
    return int(worker.split(" pid ")[1].split()[0])


def _rows(stored) -> list[list[list[float | None]]]:
    return [[[r[m] for m in METRICS if m != "seconds"] for r in h.records()] for h in stored.history.members]


def _close(a, b) -> None:
    assert len(a) == len(b)
    for member_a, member_b in zip(a, b):
        assert len(member_a) == len(member_b)
        for row_a, row_b in zip(member_a, member_b):
            for x, y in zip(row_a, row_b):
                assert (x is None and y is None) or math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9), (row_a, row_b)


def test_a_ray_sweep_gives_the_in_process_numbers_rows_and_points(ray_cluster, tiny_experiment) -> None:
    exp = _sweep(tiny_experiment, epochs=4)
    with RunStore.open() as store:
        here = Recording(store)
        local = [p for item in run_sweep(exp, record=here) if isinstance(item, list) for p in item]
        there = Recording(store)
        engine = RayEngine(EngineConfig(kind="ray", shard_size=2))  # 6 networks per training: 3 tasks each
        items = list(run_sweep(exp, engine=engine, record=there))
        remote = [p for item in items if isinstance(item, list) for p in item]
        assert sorted(tuple(p.knobs.items()) for p in remote) == sorted(tuple(p.knobs.items()) for p in local)
        by_knobs = {tuple(p.knobs.items()): p for p in local}
        for point in remote:
            twin = by_knobs[tuple(point.knobs.items())]
            assert point.statuses == twin.statuses and not point.errors
            for x, y in zip(point.best_val_loss + point.final_train_loss, twin.best_val_loss + twin.final_train_loss):
                assert math.isclose(x, y, rel_tol=1e-6)
        progress = [i for i in items if isinstance(i, SweepProgress)]
        assert progress[-1].done_epochs == progress[-1].total_epochs == 4 * 6  # 6 shards of 4 epochs
        for a, b in zip(here.runs(), there.runs(), strict=True):
            _close(_rows(a), _rows(b))
            assert a.summary.status == b.summary.status == "finished"
            assert a.summary.best_variant == b.summary.best_variant and a.summary.last_epoch == b.summary.last_epoch
            assert math.isclose(a.summary.best_val_loss, b.summary.best_val_loss, rel_tol=1e-6)
            assert a.summary.engine == "in-process" and b.summary.engine.startswith("ray ")
            assert a.workers == {} and sorted(b.workers) == list(range(6))
            pids = {_pid(w) for w in b.workers.values()}
            assert os.getpid() not in pids  # trained in Ray's worker processes, not here


def test_a_killed_worker_has_its_shard_retried_and_nothing_is_lost(ray_cluster, tiny_experiment) -> None:
    exp = _long_sweep(tiny_experiment, epochs=3)
    with RunStore.open() as store:
        here = Recording(store)
        list(run_sweep(exp, record=here))
        there = Recording(store, kill_first=True)
        engine = RayEngine(EngineConfig(kind="ray", retries=2))
        points = [p for item in run_sweep(exp, engine=engine, record=there) if isinstance(item, list) for p in item]
        assert there.killed is not None
        assert all(s == "finished" for p in points for s in p.statuses) and not any(p.errors for p in points)
        first = there.placements[0][0]
        again = [w for members, w in there.placements[1:] if members == first]
        assert again and _pid(again[-1]) != there.killed  # the shard ran again, in another worker
        (a,), (b,) = here.runs(), there.runs()
        _close(_rows(a), _rows(b))  # every epoch of every member, once, with the in-process numbers
        assert b.summary.status == "finished" and _pid(b.workers[first[0]]) != there.killed


def test_a_worker_that_dies_past_its_retries_fails_its_points_not_the_sweep(ray_cluster, tiny_experiment) -> None:
    exp = _long_sweep(tiny_experiment, epochs=3)
    with RunStore.open() as store:
        there = Recording(store, kill_first=True)
        engine = RayEngine(EngineConfig(kind="ray", retries=0))
        points = [p for item in run_sweep(exp, engine=engine, record=there) if isinstance(item, list) for p in item]
        assert len(points) == 2  # no point goes missing
        failed = [p for p in points if "failed" in p.statuses]
        assert failed and all("worker died" in e for p in failed for e in p.errors if e)
        assert any(s == "finished" for p in points for s in p.statuses)  # the other shard went on
        (stored,) = there.runs()
        assert stored.summary.status == "failed"
        statuses = [m.status for m in stored.history.members]
        assert "failed" in statuses and "finished" in statuses
        killed = [i for i, w in stored.workers.items() if _pid(w) == there.killed]
        assert killed and all(len(stored.history.members[i]) >= 1 for i in killed)  # what arrived is kept


def test_stopping_a_sweep_cancels_its_tasks_and_records_what_arrived(ray_cluster, tiny_experiment) -> None:
    exp = _long_sweep(tiny_experiment, epochs=500)
    with RunStore.open() as store:
        there = Recording(store)
        stream = run_sweep(exp, engine=RayEngine(EngineConfig(kind="ray")), record=there)
        for item in stream:
            if isinstance(item, SweepProgress) and item.done_epochs >= 4 and len(there.placements) == 2:
                break  # both shards are training and have reported
        stream.close()
        (stored,) = there.runs()
        assert stored.summary.status == "stopped" and stored.summary.ended is not None
        lengths = [len(m) for m in stored.history.members]
        assert min(lengths) >= 1 and max(lengths) < 501
        assert {m.status for m in stored.history.members} == {"stopped"}
    deadline = time.monotonic() + 60
    while ray_cluster.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray_cluster.available_resources().get("CPU", 0) == 2  # the cancelled tasks gave their CPUs back


def test_regtui_sweep_on_ray_writes_the_same_points_and_records_the_engine(
        ray_cluster, tiny_preset_file: Path, tmp_path: Path, capsys) -> None:
    args = ["sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1", "--seeds", "2"]
    assert main(args + ["--json", str(tmp_path / "here.json"), "--quiet"]) == 0
    assert main(args + ["--json", str(tmp_path / "there.json"), "--engine", "ray"]) == 0
    err = capsys.readouterr().err
    assert "recorded as run 2" in err
    here, there = (json.loads((tmp_path / f"{n}.json").read_text())["points"] for n in ("here", "there"))
    assert [p["knobs"] for p in here] == [p["knobs"] for p in there]
    for a, b in zip(here, there):
        assert math.isclose(a["best_val_loss"]["mean"], b["best_val_loss"]["mean"], rel_tol=1e-6)
    with RunStore.open() as store:
        assert store.summary(2).engine.startswith("ray ") and store.summary(1).engine == "in-process"
    assert main(["history", "show", "2"]) == 0
    shown = capsys.readouterr().out
    assert "engine    ray " in shown and " pid " in shown and "l2=0.1 · seed 1" in shown  # who trained what


def test_what_the_cluster_cannot_run_is_refused_before_anything_runs(ray_cluster, tiny_experiment) -> None:
    exp = _sweep(tiny_experiment, epochs=1)
    with pytest.raises(EngineError, match="has no GPUs"):
        list(run_sweep(replace(exp, train=replace(exp.train, device="cuda")),
                       engine=RayEngine(EngineConfig(kind="ray"))))
    with pytest.raises(EngineError, match="engine.cpus_per_task = 3"):
        list(run_sweep(exp, engine=RayEngine(EngineConfig(kind="ray", cpus_per_task=3))))


def test_a_failure_is_one_line_and_a_missing_dependency_says_what_to_install() -> None:
    from ray.exceptions import RayTaskError, WorkerCrashedError

    text = describe(RayTaskError("_shard_task", "Traceback ...\n", ModuleNotFoundError("No module named 'torch'")), 3)
    assert text.startswith("ModuleNotFoundError: No module named 'torch'") and "pip install 'regtui[ray]'" in text
    assert describe(WorkerCrashedError(), 1) == "its worker died (WorkerCrashedError), after 1 retry"
    assert "\n" not in describe(RayTaskError("f", "tb", ValueError("two\nlines")), 0)


def test_an_unreachable_address_is_one_line_and_exit_2(tiny_preset_file: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOME": str(tmp_path), "REGTUI_HOME": str(tmp_path / "h")}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1",
         "--engine", "ray", "--address", f"127.0.0.1:{port}"],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"regtui sweep: cannot reach a Ray cluster at 127.0.0.1:{port}: Connection refused"
