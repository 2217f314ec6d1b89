"""Branching a run: a branch at epoch N is, bit for bit, the run whose schedule changes
at N; the parent goes on unchanged; the history records the branch as its child."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from regtui.core.branch import BranchChanges, branch_experiment, edited_changes, fork, record_branch, replay
from regtui.core.config import ConfigError, LrChange, VariantChange, VariantConfig
from regtui.core.results import RunHistory
from regtui.core.run import BranchPoint, Run, RunReady
from regtui.core.run_types import EpochEnd, RunStatus
from regtui.core.store import RunStore
from regtui.core.training import Training

VARIANTS = (VariantConfig("baseline"), VariantConfig("L2", l2=0.01), VariantConfig("Dropout", dropout=0.3),
            VariantConfig("WD", weight_decay=0.05))
CHANGES = BranchChanges({"baseline": {"dropout": 0.5}, "L2": {"l2": 0.1}, "WD": {"weight_decay": 0.0, "l2": 1e-3}},
                        lr=0.003)


def experiment(tiny_experiment: Any, **train: Any) -> Any:
    return tiny_experiment(variants=VARIANTS, train={"optimizer": "adam", "lr": 0.01, "epochs": 8, "seeds": 2, **train})


def ends(events: Any) -> list[EpochEnd]:
    return [e for e in events if isinstance(e, EpochEnd)]


def without_time(end: EpochEnd) -> tuple:
    return end.epoch, end.statuses, tuple(None if m is None else dataclasses.replace(m, seconds=0.0) for m in end.metrics)


def run_to(training: Training, epoch: int) -> list[EpochEnd]:
    """Train up to and including ``epoch``, then stop between two epochs (as the lab does)."""
    got = []
    events = training.events()
    for event in events:
        if isinstance(event, EpochEnd):
            got.append(event)
            if event.epoch == epoch:
                break
    events.close()
    return got


def states(training: Training) -> list[torch.Tensor]:
    return [p.detach().clone() for p in training.model.parameters()]


def test_branch_experiment_is_the_parent_plus_schedule_entries_at_the_branch_epoch(tiny_experiment: Any) -> None:
    parent = experiment(tiny_experiment)
    child = branch_experiment(parent, 4, CHANGES)
    assert child.train.schedule == (LrChange(4, 0.003),)
    assert [v.schedule for v in child.variants] == [
        (VariantChange(4, dropout=0.5),), (VariantChange(4, l2=0.1),), (), (VariantChange(4, l2=1e-3, weight_decay=0.0),)]
    assert dataclasses.replace(child, train=parent.train, variants=parent.variants) == parent
    later = branch_experiment(child, 6, BranchChanges({"baseline": {"dropout": 0.0}}))
    assert later.variants[0].schedule == (VariantChange(4, dropout=0.5), VariantChange(6, dropout=0.0))
    merged = branch_experiment(child, 4, BranchChanges({"baseline": {"l2": 0.2}}))
    assert merged.variants[0].schedule == (VariantChange(4, l2=0.2, dropout=0.5),)
    early = branch_experiment(child, 2, BranchChanges({"L2": {"l2": 0.0}}))
    assert early.variants[1].schedule == (VariantChange(2, l2=0.0), VariantChange(4, l2=0.1))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_branch_at_epoch_n_equals_the_run_whose_schedule_changes_at_n_bit_for_bit(tiny_experiment: Any, optimizer: str) -> None:
    parent_exp = experiment(tiny_experiment, optimizer=optimizer, momentum=0.9 if optimizer == "sgd" else 0.0)
    parent = Training(parent_exp)
    before = run_to(parent, 3)
    child_exp = branch_experiment(parent_exp, 4, CHANGES)
    child = fork(parent, child_exp)
    after = ends(child.events())
    assert [e.epoch for e in after] == [4, 5, 6, 7, 8]
    scheduled = Training(child_exp)
    reference = ends(scheduled.events())
    assert [without_time(e) for e in before + after] == [without_time(e) for e in reference]
    for a, b in zip(states(child), states(scheduled)):
        assert torch.equal(a, b)
    assert child.optimizer.lr == 0.003
    # and the change did something: the parent's own continuation differs
    parent_after = ends(parent.events())
    assert [e.epoch for e in parent_after] == [4, 5, 6, 7, 8]
    assert without_time(parent_after[-1]) != without_time(after[-1])


def test_the_parent_goes_on_unchanged_after_a_fork(tiny_experiment: Any) -> None:
    exp = experiment(tiny_experiment)
    parent = Training(exp)
    first = run_to(parent, 5)
    fork(parent, branch_experiment(exp, 6, CHANGES))
    rest = ends(parent.events())
    alone = Training(exp)
    assert [without_time(e) for e in first + rest] == [without_time(e) for e in ends(alone.events())]
    for a, b in zip(states(parent), states(alone)):
        assert torch.equal(a, b)


def test_a_branch_of_a_longer_run_and_a_diverged_member_stays_frozen(tiny_experiment: Any) -> None:
    exp = tiny_experiment(variants=(VariantConfig("ok"), VariantConfig("boom")), train={"optimizer": "sgd", "lr": 0.1, "epochs": 4})
    parent = Training(exp)
    run_to(parent, 4)
    parent.statuses[1] = "diverged"  # as the guard marks it
    parent.guard.alive[1] = False
    longer = BranchChanges({"ok": {"l2": 0.01}}, epochs=6)
    child = fork(parent, branch_experiment(exp, 5, longer))
    out = ends(child.events())
    assert [e.epoch for e in out] == [5, 6] and out[-1].statuses == ("finished", "diverged")
    with pytest.raises(ValueError, match="nothing to train"):
        fork(parent, exp)


def test_fork_refuses_the_middle_of_an_epoch(tiny_experiment: Any) -> None:
    exp = experiment(tiny_experiment)
    training = Training(exp)
    events = training.events()
    next(events), next(events)  # epoch 0, then one batch
    with pytest.raises(RuntimeError, match="between two epochs"):
        fork(training, exp)


def test_changes_are_read_off_the_edited_config(tiny_experiment: Any) -> None:
    parent = experiment(tiny_experiment)
    edited = dataclasses.replace(parent, variants=(dataclasses.replace(VARIANTS[0], dropout=0.5),) + VARIANTS[1:],
                                 train=dataclasses.replace(parent.train, lr=0.003, epochs=12))
    changes = edited_changes(parent, edited, 4)
    assert changes == BranchChanges({"baseline": {"dropout": 0.5}}, lr=0.003, epochs=12)
    assert changes.describe() == "baseline: drop p=0.5; lr=0.003; epochs=12"
    assert not edited_changes(parent, parent, 4)
    bigger = dataclasses.replace(parent, model=dataclasses.replace(parent.model, hidden=(16,)))
    with pytest.raises(ConfigError, match=r"^model.hidden: a branch changes only .* changed too: model.hidden"):
        edited_changes(parent, bigger, 4)
    renamed = dataclasses.replace(parent, variants=(VariantConfig("other"),) + VARIANTS[1:])
    with pytest.raises(ConfigError, match="added, removed or renamed"):
        edited_changes(parent, renamed, 4)
    with pytest.raises(ConfigError, match="after the run's last epoch 8"):
        edited_changes(parent, parent, 9)


def test_replay_gives_back_the_recorded_epochs(tiny_experiment: Any) -> None:
    exp = experiment(tiny_experiment)
    history = RunHistory(exp)
    original = ends(Training(exp).events())
    for e in original:
        history.add(e)
    again = list(replay(history, 5))
    assert [without_time(e)[2] for e in again] == [without_time(e)[2] for e in original[:6]]


def test_the_history_records_a_branch_as_a_child_and_leaves_the_parent_alone(tiny_experiment: Any) -> None:
    exp = experiment(tiny_experiment)
    with RunStore.open() as store:
        parent, history = Training(exp), RunHistory(exp)
        parent_rec = store.recorder(exp, source="tui", preset="tiny")
        for e in run_to(parent, 3):
            history.add(e)
            parent_rec.add(e)
        child_exp = branch_experiment(exp, 4, CHANGES)
        child = fork(parent, child_exp)
        child_rec = record_branch(store, parent_rec.run_id, child_exp, history, 4, CHANGES, source="tui", preset="tiny")
        for e in ends(child.events()):
            child_rec.add(e)
        child_rec.finish(child.statuses)
        for e in ends(parent.events()):
            parent_rec.add(e)
        parent_rec.finish(parent.statuses)
        alone_rec = store.recorder(exp, source="cli")
        alone = Training(exp)
        for e in ends(alone.events()):
            alone_rec.add(e)
        alone_rec.finish(alone.statuses)
        scheduled_rec = store.recorder(child_exp, source="cli")
        scheduled = Training(child_exp)
        for e in ends(scheduled.events()):
            scheduled_rec.add(e)
        scheduled_rec.finish(scheduled.statuses)

        branch = store.branch_of(child_rec.run_id)
        assert (branch.parent_id, branch.epoch) == (parent_rec.run_id, 4)
        assert branch.changes == CHANGES.to_json()
        assert store.branches(parent_rec.run_id) == [branch]
        assert store.branch_of(parent_rec.run_id) is None
        stored_parent, stored_alone = store.load_run(parent_rec.run_id), store.load_run(alone_rec.run_id)
        stored_child, stored_scheduled = store.load_run(child_rec.run_id), store.load_run(scheduled_rec.run_id)

        def curves(stored: Any) -> list:
            return [[{k: v for k, v in r.items() if k != "seconds"} for r in m.records()] for m in stored.history.members]

        assert stored_parent.experiment == exp and curves(stored_parent) == curves(stored_alone)
        assert stored_child.experiment == child_exp and curves(stored_child) == curves(stored_scheduled)
        assert stored_child.summary.status == stored_scheduled.summary.status == "finished"
        store.delete_run(parent_rec.run_id)
        assert store.branch_of(child_rec.run_id).parent_id is None
        assert store.load_run(child_rec.run_id).experiment == child_exp


def test_a_run_branches_into_a_run_recorded_as_its_child(tiny_experiment: Any, tmp_path: Any) -> None:
    """``Run.branch``: the lab's branch key, in core.  A preset's relative data path
    (as the config panel holds it) is no change; parent and branch train and record
    on their own, the branch's first epochs are the parent's."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 3},{(i * 7) % 5},{i % 2}\n" for i in range(40)))
    exp = dataclasses.replace(tiny_experiment(variants=VARIANTS, data={"dataset": "csv", "path": "d.csv",
                                                                        "n_train": 0, "n_val": 0},
                                              train={"epochs": 8, "seeds": 2}), source_dir=str(folder))
    path = tmp_path / "h.sqlite3"
    parent = Run(exp, source="tui", preset="tiny", store_path=path)
    events = parent.events()
    assert isinstance(next(events), RunReady)
    for event in events:
        if isinstance(event, EpochEnd) and event.epoch == 3:
            break
    edited = dataclasses.replace(exp, variants=(dataclasses.replace(VARIANTS[0], dropout=0.5),) + VARIANTS[1:])
    with pytest.raises(ConfigError, match="model.hidden"):
        parent.branch(dataclasses.replace(exp, model=dataclasses.replace(exp.model, hidden=(16,))))
    child = parent.branch(edited)
    assert child.branched_from == BranchPoint(parent.history_id, 4, BranchChanges({"baseline": {"dropout": 0.5}}))
    assert child.experiment == branch_experiment(parent.experiment, 4, child.branched_from.changes)
    assert child.history.epoch == 3 and child.epoch == 3
    child_events = child.events()
    ready = next(child_events)
    assert isinstance(ready, RunReady) and ready.history_id == child.history_id != parent.history_id
    assert ends(child_events)[0].epoch == 4
    assert ends(events)[-1].epoch == 8  # the parent goes on after the branch
    assert child.outcome.status is parent.outcome.status is RunStatus.FINISHED
    with RunStore.open(path) as store:
        assert store.branch_of(child.history_id).parent_id == parent.history_id
        assert store.branch_of(child.history_id).epoch == 4
        stored_child, stored_parent = store.load_run(child.history_id), store.load_run(parent.history_id)
    assert stored_child.experiment == child.experiment and stored_child.experiment.data.path == str(folder / "d.csv")
    shared = [m.records()[:4] for m in stored_child.history.members]
    assert shared == [m.records()[:4] for m in stored_parent.history.members]
    after = [{k: v for k, v in h.members[0].records()[5].items() if k != "seconds"}
             for h in (stored_child.history, stored_parent.history)]
    assert after[0] != after[1], "from the branch on, the baseline trains with dropout"


def test_a_version_2_history_gains_branches_and_keeps_its_runs(tmp_path: Any, tiny_experiment: Any) -> None:
    import sqlite3

    from regtui.core import store as store_mod

    path = tmp_path / "history.sqlite3"
    exp = tiny_experiment()
    with RunStore.open(path) as s, s.recorder(exp) as rec:
        for e in ends(Training(exp).events()):
            rec.add(e)
    with sqlite3.connect(path) as db:  # what version 2 wrote
        db.execute("DROP TABLE branches")
        for column in ("rank_by", "rank_value", "rank_variant"):  # added by version 4
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("ALTER TABLE runs DROP COLUMN engine")  # and what version 5 added
        db.execute("ALTER TABLE members DROP COLUMN worker")
        db.execute("PRAGMA user_version = 2")
    with RunStore.open(path) as s:
        assert s._db.execute("PRAGMA user_version").fetchall() == [(store_mod.SCHEMA_VERSION,)]
        assert s.branch_of(rec.run_id) is None and s.branches(rec.run_id) == []
        assert s.load_run(rec.run_id).history.epoch == exp.train.epochs


def test_history_show_names_the_parent_of_a_branch(tiny_experiment: Any, capsys: Any) -> None:
    from regtui.cli import main

    exp = experiment(tiny_experiment)
    with RunStore.open() as store:
        parent, history = Training(exp), RunHistory(exp)
        with store.recorder(exp) as parent_rec:
            for e in run_to(parent, 3):
                history.add(e)
                parent_rec.add(e)
        child_exp = branch_experiment(exp, 4, CHANGES)
        child = fork(parent, child_exp)
        with record_branch(store, parent_rec.run_id, child_exp, history, 4, CHANGES) as rec:
            for e in ends(child.events()):
                rec.add(e)
        assert store.load_run(rec.run_id).branch == store.branch_of(rec.run_id)
        assert store.load_run(parent_rec.run_id).branch is None
    assert main(["history", "show", str(rec.run_id)]) == 0
    out = capsys.readouterr().out
    assert (f"branch    of run {parent_rec.run_id}, changed from epoch 4: baseline: drop p=0.5; L2: λ=0.1; "
            "WD: η=0 λ=0.001; lr=0.003") in out
    assert "schedule  lr 0.003 from epoch 4" in out
