"""Branching a run: from an epoch on, the same networks train on with changed knobs.

A branch of a run at epoch ``E`` is the parent's experiment plus schedule
entries at ``E`` (``[[variants.schedule]]`` for λ / η / p, ``[[train.schedule]]``
for lr): ``branch_experiment`` builds it, so re-running the branch's recorded
config reproduces it exactly.  ``edited_changes`` reads those changes off an
edited config (the lab's config panel) and refuses anything a branch cannot
change (the data, the network, the optimizer, the variants themselves).
``fork`` copies a live ``Training`` between two epochs — weights, optimizer
state, random generators, divergence guard — so the copy trains on with the
branch's experiment while the parent goes on unchanged; ``replay`` turns the
parent's recorded epochs before the branch point into the events that record
them again for the branch.

Standard library and the config only at import (``fork`` deep-copies a
``Training`` without importing torch itself); no UI code.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator

from regtui.core.config import (
    SCHEDULE_VARIANT_KEYS,
    ConfigError,
    Experiment,
    LrChange,
    VariantChange,
    absolute_data_path,
    lr_at_epoch,
)
from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus

BRANCH_KNOBS = SCHEDULE_VARIANT_KEYS + ("lr",)
"""What a branch may change: each variant's λ, η, p, input p, and the learning rate."""


@dataclass(frozen=True)
class BranchChanges:
    """What a branch changes at its epoch: per variant name its new knob values, and the lr."""

    variants: dict[str, dict[str, float]] = field(default_factory=dict)
    lr: float | None = None
    epochs: int | None = None
    """A new ``train.epochs`` (a branch may train longer or shorter than its parent)."""

    def __bool__(self) -> bool:
        return bool(self.variants or self.lr is not None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"variants": {k: dict(v) for k, v in self.variants.items()}}
        if self.lr is not None:
            out["lr"] = self.lr
        if self.epochs is not None:
            out["epochs"] = self.epochs
        return out

    def describe(self) -> str:
        """e.g. ``baseline: drop p=0.5; lr=0.001``."""
        parts = [f"{name}: " + " ".join(f"{_KNOB_LABEL[k]}={v:g}" for k, v in knobs.items())
                 for name, knobs in self.variants.items()]
        if self.lr is not None:
            parts.append(f"lr={self.lr:g}")
        if self.epochs is not None:
            parts.append(f"epochs={self.epochs}")
        return "; ".join(parts) or "no change"


_KNOB_LABEL = {"l2": "λ", "weight_decay": "η", "dropout": "drop p", "input_dropout": "input drop p"}


def branch_experiment(parent: Experiment, epoch: int, changes: BranchChanges) -> Experiment:
    """``parent`` plus schedule entries that start at ``epoch``; validated like a preset.

    An entry the parent already has at ``epoch`` is merged with the change (the
    change wins); the parent's later entries stay, so the branch keeps the
    parent's plan after its own change."""
    train = parent.train
    if changes.epochs is not None:
        train = dataclasses.replace(train, epochs=changes.epochs)
    if changes.lr is not None:
        train = dataclasses.replace(train, schedule=_insert(train.schedule, LrChange(epoch, changes.lr)))
    known = {v.name for v in parent.variants}
    unknown = [name for name in changes.variants if name not in known]
    if unknown:
        raise ConfigError("variants", f"no variant named {unknown[0]!r} to branch; variants are: {', '.join(sorted(known))}")
    variants = []
    for v in parent.variants:
        knobs = changes.variants.get(v.name)
        if knobs:
            v = dataclasses.replace(v, schedule=_insert(v.schedule, VariantChange(epoch, **knobs)))
        variants.append(v)
    return dataclasses.replace(parent, train=train, variants=tuple(variants))


def _insert(entries: tuple[Any, ...], new: Any) -> tuple[Any, ...]:
    """``entries`` (in epoch order) with ``new`` in its place, merged with an entry of its epoch."""
    out, placed = [], False
    for e in entries:
        if e.epoch == new.epoch:
            merged = {f.name: getattr(e, f.name) for f in dataclasses.fields(e)}
            merged.update({f.name: getattr(new, f.name) for f in dataclasses.fields(new) if getattr(new, f.name) is not None})
            out.append(type(e)(**merged))
            placed = True
        else:
            if e.epoch > new.epoch and not placed:
                out.append(new)
                placed = True
            out.append(e)
    if not placed:
        out.append(new)
    return tuple(out)


def edited_changes(parent: Experiment, edited: Experiment, epoch: int) -> BranchChanges:
    """The changes that make ``edited`` (the parent's config, edited) a branch at ``epoch``.

    A variant knob counts as changed where ``edited`` differs from the parent's
    own value (what the config panel was loaded with); the lr likewise.  A longer
    or shorter ``train.epochs`` is kept (it must leave room for the branch).  Any
    other difference raises ``ConfigError`` naming it: a branch continues the
    same networks on the same data (a data path counts as the file it names:
    relative or absolute, ``absolute_data_path``)."""
    p, e = absolute_data_path(parent), absolute_data_path(edited)
    different = [f"{section}.{f.name}" for section in ("data", "model", "train")
                 for f in dataclasses.fields(getattr(p, section))
                 if f.name not in ("lr", "epochs", "schedule", "rank_by")
                 and getattr(getattr(p, section), f.name) != getattr(getattr(e, section), f.name)]
    if [v.name for v in p.variants] != [v.name for v in e.variants]:
        different.append("variants (added, removed or renamed)")
    else:
        different += [f"variants.{a.name}.{f.name}" for a, b in zip(p.variants, e.variants)
                      for f in dataclasses.fields(a) if f.name in ("l2_biases", "schedule")
                      and getattr(a, f.name) != getattr(b, f.name)]
    if different:
        raise ConfigError(different[0], "a branch changes only λ, η, drop p, input drop p, lr and epochs; "
                                        f"changed too: {', '.join(different)} (r starts a new run with them)")
    variants = {}
    for a, b in zip(p.variants, e.variants):
        knobs = {k: getattr(b, k) for k in SCHEDULE_VARIANT_KEYS if getattr(a, k) != getattr(b, k)}
        if knobs:
            variants[a.name] = knobs
    lr = e.train.lr if e.train.lr != p.train.lr and e.train.lr != lr_at_epoch(p.train, epoch) else None
    epochs = e.train.epochs if e.train.epochs != p.train.epochs else None
    last = epochs if epochs is not None else p.train.epochs
    if epoch > last:
        raise ConfigError("train.epochs", f"the branch starts at epoch {epoch}, after the run's last epoch {last}; "
                                          "raise epochs to train on")
    return BranchChanges(variants, lr, epochs)


# --------------------------------------------------------------------------- a live training

def fork(training: Any, experiment: Experiment) -> Any:
    """A copy of ``training`` (between two epochs) that trains on with ``experiment``.

    Weights, optimizer state, the shuffling and dropout generators and the
    divergence guard are copied, the data is shared; the copy's ``events()``
    goes on after the parent's last epoch, applying ``experiment``'s schedule.
    ``experiment`` must be ``branch_experiment`` of the parent's at that epoch
    or later, so everything before is the parent's."""
    if getattr(training, "_in_epoch", False):
        raise RuntimeError("fork a training between two epochs, not in the middle of one")
    if training.epochs_done >= experiment.train.epochs:
        raise ValueError(f"nothing to train: the branch ends at epoch {experiment.train.epochs}, "
                         f"and {training.epochs_done} epochs are done")
    shared = (training.dataset, training.x_train, training.y_train, training.x_val, training.y_val)
    child = copy.deepcopy(training, {id(x): x for x in shared})
    child.experiment = experiment
    child.statuses = [s if s == RunStatus.DIVERGED else RunStatus.RUNNING for s in training.statuses]
    return child


def replay(history: Any, upto: int) -> Iterator[EpochEnd]:
    """The ``EpochEnd`` events of a recorded ``RunHistory`` for epochs 0 … ``upto``
    (per member, as ``RunHistory.add`` and the recorder read them)."""
    members = history.members
    records = [m.records() for m in members]
    for epoch in range(upto + 1):
        metrics, statuses = [], []
        for m, recs in zip(members, records):
            rec = recs[epoch] if epoch < len(recs) else None
            metrics.append(None if rec is None else EpochMetrics(**{k: _nan(v) if k in _LOSSES else v
                                                                     for k, v in rec.items()}))
            ended = str(m.status) == RunStatus.DIVERGED and epoch >= len(recs) - 1
            statuses.append(RunStatus.DIVERGED if ended else RunStatus.RUNNING)
        seconds = next((r.seconds for r in metrics if r is not None), 0.0)
        yield EpochEnd(epoch, tuple(metrics), tuple(statuses), seconds)


_LOSSES = ("train_loss", "val_loss", "objective", "penalty", "weight_norm", "gap", "seconds")
"""Metrics a history keeps as NaN where they were not finite (accuracies are None
for regression and stay so)."""


def _nan(value: float | None) -> float | None:
    return float("nan") if value is None else value


def record_branch(store: Any, parent_id: int | None, experiment: Experiment, parent_history: Any, epoch: int,
                  changes: BranchChanges, **recorder_options: Any) -> Any:
    """Start recording a branch in ``store`` (a ``RunStore``) as a child of run
    ``parent_id``: its row holds the branch's whole config, the epochs before
    ``epoch`` are the parent's (``replay``), the rest its recorder adds.
    Returns the ``Recorder``; the parent's record is not touched."""
    from regtui.core.run_records import BranchRecord

    record = BranchRecord(0, parent_id, epoch, changes.to_json())
    recorder = store.recorder(experiment, branch=record, **recorder_options)
    for event in replay(parent_history, epoch - 1):
        recorder.add(event)
    return recorder
