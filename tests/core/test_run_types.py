"""The run's vocabulary: statuses, members planned once, and torch-free events."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from regtui.core.config import VariantConfig
from regtui.core.results import RunHistory
from regtui.core.run_types import (
    EpochEnd,
    EpochMetrics,
    RunStatus,
    plan_members,
    run_status,
    stopped_if_running,
)


def test_statuses_read_store_and_print_as_their_words() -> None:
    assert RunStatus.DIVERGED == "diverged" and RunStatus("cut off") is RunStatus.CUT_OFF
    assert f"{RunStatus.STOPPED}|{RunStatus.CUT_OFF:>8}" == "stopped| cut off"
    assert json.dumps([RunStatus.FINISHED]) == '["finished"]'
    db = sqlite3.connect(":memory:")
    assert db.execute("SELECT ?", (RunStatus.RUNNING,)).fetchone() == ("running",)


def test_a_runs_status_from_its_members() -> None:
    S = RunStatus
    assert run_status([S.FINISHED, S.DIVERGED]) is S.FINISHED
    assert run_status([S.DIVERGED, S.DIVERGED]) is S.DIVERGED
    assert run_status([S.FINISHED, S.STOPPED]) is S.STOPPED
    assert run_status([S.RUNNING]) is S.STOPPED
    assert stopped_if_running([S.RUNNING, S.DIVERGED, "finished"]) == (S.STOPPED, S.DIVERGED, S.FINISHED)


def test_members_are_variant_major_and_named_by_seed_only_with_several(tiny_experiment) -> None:
    one = plan_members(tiny_experiment())
    assert [(m.name, m.variant_index, m.seed) for m in one] == [("baseline", 0, 0), ("L2", 1, 0), ("Dropout", 2, 0)]
    exp = tiny_experiment(variants=(VariantConfig("a"), VariantConfig("b")), train={"seed": 5, "seeds": 2})
    assert [(m.name, m.variant, m.seed) for m in plan_members(exp)] == [
        ("a · seed 5", "a", 5), ("a · seed 6", "a", 6), ("b · seed 5", "b", 5), ("b · seed 6", "b", 6)]


def test_the_history_follows_the_plan(tiny_experiment) -> None:
    """``RunHistory.members`` index exactly as ``EpochEnd.metrics`` (the plan) does."""
    exp = tiny_experiment(variants=(VariantConfig("a"), VariantConfig("b")), train={"seeds": 3})
    history = RunHistory(exp)
    assert [h.name for h in history.members] == [m.name for m in plan_members(exp)]
    metrics = tuple(EpochMetrics(0, k, k + 1.0, None, None, k, 0.0, 1.0, 1.0, 0.0) for k in range(6))
    statuses = (RunStatus.RUNNING,) * 2 + (RunStatus.DIVERGED,) + (RunStatus.RUNNING,) * 3
    history.add(EpochEnd(0, metrics, statuses, 0.0))
    b = history["b"]
    assert [m.last("train_loss") for m in b.members] == [3.0, 4.0, 5.0]
    assert history["a"].status is RunStatus.RUNNING and history["a"].status_label == "running"
    history.mark_stopped()
    assert history["a"].status is RunStatus.DIVERGED and history["a"].status_label == "diverged 1/3"
    assert history["b"].status is RunStatus.STOPPED and history["b"].status_label == "stopped"


def test_the_vocabulary_imports_without_torch() -> None:
    code = ("import sys, regtui.core.run_types, regtui.core.store, regtui.core.recorder, regtui.core.results; "
            "print(sorted(m for m in ('torch', 'textual', 'rich') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
