"""Processes that die mid-run and processes that write at the same time."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.core.config import Experiment, TrainConfig, VariantConfig
from regtui.core.store import RunStore
from regtui.core.run_types import EpochEnd, EpochMetrics

CHILD = Path(__file__).with_name("_recorder_child.py")
N_VARIANTS = 4


def start_child(path: Path, epochs: int, sleep: float, go: Path | None = None) -> subprocess.Popen[str]:
    args = [str(path), str(epochs), str(sleep)] + ([str(go)] if go else [])
    return subprocess.Popen([sys.executable, str(CHILD), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def epoch_counts(path: Path, run_id: int) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT epoch, COUNT(*) FROM epochs WHERE run_id = ? GROUP BY epoch ORDER BY epoch",
                          (run_id,)).fetchall()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_keeps_every_committed_epoch_and_reads_as_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    child = start_child(path, epochs=100_000, sleep=0.002)
    try:
        assert child.stdout is not None
        header = child.stdout.readline()
        assert header.startswith("run "), header + child.stderr.read()
        run_id = int(header.split()[1])
        committed = -1
        while committed < 25:  # each number is printed after its epoch committed
            committed = int(child.stdout.readline())
        with RunStore.open(path) as store:
            assert store.summary(run_id).status == "running"  # the child is alive
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with RunStore.open(path) as store:
        summary = store.summary(run_id)
        assert summary.status == "cut off" and summary.ended is None
        stored = store.load_run(run_id)
        assert [r.status for r in store.list_runs()] == ["cut off"]
    counts = epoch_counts(path, run_id)
    last = counts[-1][0]
    assert last >= committed and summary.last_epoch == last
    assert counts == [(e, N_VARIANTS) for e in range(last + 1)]  # whole epochs, none torn
    assert all(len(h) == last + 1 and h.status == "cut off" for h in stored.history.variants)


def test_two_writers_at_once_both_complete(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    go, epochs = tmp_path / "go", 3000  # long enough to overlap even on a loaded machine
    children = [start_child(path, epochs=epochs, sleep=0.0, go=go) for _ in range(2)]
    run_ids = []
    for child in children:  # both have created their run and wait for the start signal
        assert child.stdout is not None
        header = child.stdout.readline()
        assert header.startswith("run "), header + child.stderr.read()
        run_ids.append(int(header.split()[1]))
    go.touch()
    spans = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, out[-500:] + err
        done = out.splitlines()[-1].split()
        assert done[0] == "done", out[-500:]
        spans.append((float(done[1]), float(done[2])))
    assert max(s[0] for s in spans) < min(s[1] for s in spans)  # they did write at the same time
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with RunStore.open(path) as store:
        assert sorted(r.id for r in store.list_runs()) == sorted(run_ids)
        for run_id in run_ids:
            summary = store.summary(run_id)
            assert (summary.status, summary.last_epoch) == ("finished", epochs)
            assert epoch_counts(path, run_id) == [(e, N_VARIANTS) for e in range(epochs + 1)]
            assert all(len(h) == epochs + 1 for h in store.load_run(run_id).history.variants)


def test_two_stores_in_one_process_interleave(tmp_path: Path) -> None:
    """Two connections (as the lab and a headless run would hold) writing turn about."""
    exp = Experiment(train=TrainConfig(epochs=20, device="cpu"), variants=(VariantConfig("a"),))
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as s1, RunStore.open(path) as s2:
        r1, r2 = s1.recorder(exp), s2.recorder(exp)
        for epoch in range(21):
            for rec in (r1, r2):
                rec.add(EpochEnd(epoch, (EpochMetrics(epoch, 1.0, 1.0, None, None, 1.0, 0.0, 1.0, 0.0, 0.0),),
                                 ("running",), 0.0))
            assert [r.last_epoch for r in s1.list_runs()] == [epoch, epoch]
        r1.finish()
        r2.finish()
        assert r1.error is None and r2.error is None
        assert [len(s2.load_run(r.run_id).history["a"]) for r in (r1, r2)] == [21, 21]
