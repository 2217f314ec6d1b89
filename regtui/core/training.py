"""The training loop: one generator that the lab and ``regtui run`` both consume.

``Training(experiment)`` loads the data and builds every variant as a member
of one ``StackedMLP``; ``Training.events()`` yields ``EpochEnd`` for epoch 0
(the initial weights) and after every epoch, and a ``BatchEnd`` after every
batch, so a consumer that stops iterating pauses or stops within one batch.

Regularization follows SEMANTICS.md: coupled L2 adds ``2λw`` to the gradient
(the penalty ``λΣw²`` is part of the reported objective), decoupled decay
scales ``w ← w − lr·η·w``; both per member, weights only unless l2_biases.
Batches come from a seeded ``randperm`` that dropout never touches.  A member
whose loss turns NaN/inf, or exceeds ``BLOWUP`` × its epoch-0 loss, is marked
diverged and frozen; the others go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor

from regtui.core.config import Experiment
from regtui.core.data import Dataset, make_dataset
from regtui.core.model import StackedMLP, initial_layers

EVAL_CHUNK = 8192
BLOWUP = 1000.0
"""A member diverges when its loss turns NaN/inf or exceeds BLOWUP × its epoch-0
training loss (floored at 0.01): lr = 100 explodes without ever reaching NaN."""


@dataclass(frozen=True, slots=True)
class EpochMetrics:
    """What one variant achieved at the end of one epoch (SEMANTICS.md)."""

    epoch: int
    train_loss: float
    val_loss: float
    train_acc: float | None
    val_acc: float | None
    objective: float
    penalty: float
    weight_norm: float
    gap: float
    seconds: float


@dataclass(frozen=True, slots=True)
class BatchEnd:
    epoch: int
    batch: int
    n_batches: int


@dataclass(frozen=True, slots=True)
class EpochEnd:
    epoch: int
    metrics: tuple[EpochMetrics | None, ...]
    """One entry per variant; None for a variant that stopped earlier (diverged)."""
    statuses: tuple[str, ...]
    """"running", "finished" or "diverged" per variant, after this epoch."""
    seconds: float


Event = BatchEnd | EpochEnd


def configure_torch() -> None:
    """One intra-op thread (``REGTUI_THREADS`` overrides): fastest for small nets
    on few cores, and it leaves a core to the UI (PERFORMANCE.md)."""
    import os

    torch.set_num_threads(max(1, int(os.environ.get("REGTUI_THREADS", "1") or 1)))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from regtui.core.config import ConfigError

        raise ConfigError("train.device", "cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def make_optimizer(params: list[Tensor], name: str, lr: float, momentum: float) -> torch.optim.Optimizer:
    """The base optimizer, without weight decay: regularizers are applied per member."""
    kind = torch.optim.SGD if name == "sgd" else torch.optim.Adam
    options = {"lr": lr, "momentum": momentum} if name == "sgd" else {"lr": lr}
    try:  # fused kernels are faster; not every build and device has them
        return kind(params, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover
        return kind(params, **options)


@dataclass(frozen=True, slots=True)
class Member:
    """One trained network of the stack: a variant at one seed."""

    name: str
    """The variant's name, with `` · seed N`` when the run has several seeds."""
    variant: str
    variant_index: int
    seed: int


def dropout_seed(seed: int, variant_index: int) -> int:
    """Seed of a member's own dropout generator, independent of every other member's."""
    import numpy as np

    return int(np.random.SeedSequence([seed, variant_index, 0xD50]).generate_state(1, np.uint64)[0] >> 1)


def plan_members(experiment: Experiment) -> list[Member]:
    """Variant-major: every seed of the first variant, then of the next, ..."""
    t = experiment.train
    seeds = [t.seed + i for i in range(t.seeds)]
    return [
        Member(v.name if len(seeds) == 1 else f"{v.name} · seed {s}", v.name, i, s)
        for i, v in enumerate(experiment.variants)
        for s in seeds
    ]


class Training:
    """One comparison, set up and ready to step; ``events()`` runs it."""

    def __init__(self, experiment: Experiment, dataset: Dataset | None = None) -> None:
        self.experiment = exp = experiment
        self.device = dev = resolve_device(exp.train.device)
        self.dataset = ds = dataset if dataset is not None else make_dataset(exp.data, exp.source_dir or None)
        self.members = members = plan_members(exp)
        self.names = tuple(m.name for m in members)
        k = len(members)
        self.x_train = torch.from_numpy(ds.x_train).to(dev)
        self.y_train = torch.from_numpy(ds.y_train).to(dev)
        self.x_val = torch.from_numpy(ds.x_val).to(dev)
        self.y_val = torch.from_numpy(ds.y_val).to(dev)
        self.seeds = sorted({m.seed for m in members})
        init = {s: initial_layers(ds.n_features, exp.model.hidden, ds.n_outputs, s) for s in self.seeds}
        variants = [exp.variants[m.variant_index] for m in members]
        gens = [torch.Generator(device=dev).manual_seed(dropout_seed(m.seed, m.variant_index)) for m in members]
        self.model = StackedMLP(
            [[(w.to(dev), b.to(dev)) for w, b in init[m.seed]] for m in members], exp.model.activation,
            [v.dropout for v in variants], [v.input_dropout for v in variants], gens,
        )
        self.shuffles = {s: torch.Generator().manual_seed(s) for s in self.seeds}
        self.member_seed_row = torch.tensor([self.seeds.index(m.seed) for m in members], device=dev)
        col = lambda values: torch.tensor(values, dtype=torch.float32, device=dev).view(k, 1, 1)  # noqa: E731
        self.l2_w = col([v.l2 for v in variants])
        self.l2_b = col([v.l2 if v.l2_biases else 0.0 for v in variants])
        self.wd_w = col([v.weight_decay for v in variants])
        self.wd_b = col([v.weight_decay if v.l2_biases else 0.0 for v in variants])
        self.l2_w2, self.l2_b2 = 2 * self.l2_w, 2 * self.l2_b
        self.any_l2 = any(v.l2 for v in variants)
        self.any_wd = any(v.weight_decay for v in variants)
        self.any_bias_reg = any(v.l2_biases and (v.l2 or v.weight_decay) for v in variants)
        t = exp.train
        self.optimizer = make_optimizer(list(self.model.parameters()), t.optimizer, t.lr, t.momentum)
        self.batch_size = min(t.batch_size, ds.x_train.shape[0])
        self.n_batches = -(-ds.x_train.shape[0] // self.batch_size)
        self.alive = torch.ones(k, dtype=torch.bool, device=dev)
        self.statuses = ["running"] * k
        self.diverged_at: dict[int, int] = {}
        """Member index -> the epoch in which it diverged."""
        self._epoch = 0
        self._frozen: list[Tensor] | None = None
        self.limit = torch.full((k,), float("inf"), device=dev)
        """Per member: the loss above which it counts as diverged (set at epoch 0)."""

    def _epoch_order(self) -> Tensor:
        """This epoch's sample order: ``[n]`` with one seed, ``[K, n]`` per member with several."""
        n = self.x_train.shape[0]
        orders = [torch.randperm(n, generator=self.shuffles[s]).to(self.device) for s in self.seeds]
        if len(orders) == 1:
            return orders[0]
        return torch.stack(orders)[self.member_seed_row]

    # ------------------------------------------------------------------ pieces

    def _data_loss(self, out: Tensor, y: Tensor) -> Tensor:
        """Per-member mean data loss: ``out [K, B, C]`` -> ``[K]``."""
        k, b = out.shape[0], out.shape[1]
        if self.dataset.task == "classification":
            flat_y = y.repeat(k) if y.dim() == 1 else y.reshape(k * b)
            flat = torch.nn.functional.cross_entropy(out.reshape(k * b, -1), flat_y, reduction="none")
            return flat.view(k, b).mean(1)
        return ((out.squeeze(-1) - y) ** 2).mean(1)

    def _penalty(self) -> Tensor:
        """``λ·Σw²`` per member (weights; biases too where l2_biases)."""
        m = self.model
        total = sum((w * w).sum((1, 2)) for w in m.weights) * self.l2_w.view(-1)
        if self.any_bias_reg:
            total = total + sum((b * b).sum((1, 2)) for b in m.biases) * self.l2_b.view(-1)
        return total

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """Eval-mode data loss ``[K]`` and accuracy ``[K]`` (None for regression)."""
        was_training = self.model.training
        self.model.eval()
        losses, correct = [], []
        for start in range(0, x.shape[0], EVAL_CHUNK):
            out = self.model(x[start:start + EVAL_CHUNK])
            yb = y[start:start + EVAL_CHUNK]
            losses.append(self._data_loss(out, yb) * yb.shape[0])
            if self.dataset.task == "classification":
                correct.append((out.argmax(-1) == yb).sum(1).to(torch.float32))
        self.model.train(was_training)
        n = x.shape[0]
        acc = torch.stack(correct).sum(0) / n if correct else None
        return torch.stack(losses).sum(0) / n, acc

    def _step(self, xb: Tensor, yb: Tensor) -> Tensor:
        """One optimizer step for every live member; returns the objective ``[K]``."""
        opt = self.optimizer
        opt.zero_grad(set_to_none=True)
        data = self._data_loss(self.model(xb), yb)
        bad = (~torch.isfinite(data) | (data > self.limit)) & self.alive
        if bool(bad.any()):
            self._diverge(bad)
        torch.where(self.alive, data, torch.zeros_like(data)).sum().backward()
        m = self.model
        with torch.no_grad():
            objective = data.detach()
            if self.any_l2:
                objective = objective + self._penalty()
                for w in m.weights:
                    w.grad.add_(w * self.l2_w2)
                if self.any_bias_reg:
                    for b in m.biases:
                        b.grad.add_(b * self.l2_b2)
            if self.any_wd:
                lr = opt.param_groups[0]["lr"]
                for w in m.weights:
                    w.mul_(1 - lr * self.wd_w)
                if self.any_bias_reg:
                    for b in m.biases:
                        b.mul_(1 - lr * self.wd_b)
        opt.step()
        if self._frozen is not None:
            self._restore_frozen()
        return objective

    def _diverge(self, bad: Tensor, epoch: int | None = None) -> None:
        """Mark members diverged and freeze them at their current weights."""
        for k in torch.nonzero(bad).flatten().tolist():
            self.statuses[k] = "diverged"
            self.diverged_at[k] = self._epoch if epoch is None else epoch
        self.alive &= ~bad
        self._frozen = [p.detach().clone() for p in self.model.parameters()]

    def _restore_frozen(self) -> None:
        with torch.no_grad():
            dead = ~self.alive
            for p, frozen in zip(self.model.parameters(), self._frozen):
                shape = (-1,) + (1,) * (p.dim() - 1)
                p.copy_(torch.where(dead.view(shape), frozen, p))

    @torch.no_grad()
    def _metrics(self, epoch: int, objective: Tensor | None, seconds: float) -> EpochEnd:
        train_loss, train_acc = self.evaluate(self.x_train, self.y_train)
        val_loss, val_acc = self.evaluate(self.x_val, self.y_val)
        penalty = self._penalty() if self.any_l2 else torch.zeros_like(train_loss)
        if objective is None:  # epoch 0: no batch yet, the objective without dropout
            objective = train_loss + penalty
        norm = torch.sqrt(sum((w * w).sum((1, 2)) for w in self.model.weights))
        rows = torch.stack([train_loss, val_loss, objective, penalty, norm]).T.tolist()
        if train_acc is not None:
            accs = torch.stack([train_acc, val_acc]).T.tolist()
        else:
            accs = [[None, None]] * len(rows)
        if epoch == 0:
            self.limit = BLOWUP * torch.clamp(train_loss, min=0.01)
        limit = self.limit.tolist()
        bad = torch.tensor([not all(map(_finite, r[:3])) or r[0] > lim for r, lim in zip(rows, limit)],
                           device=self.device)
        bad &= self.alive
        if bool(bad.any()):
            self._diverge(bad, epoch)
        metrics: list[EpochMetrics | None] = []
        for k, (tl, vl, obj, pen, wn) in enumerate(rows):
            if self.diverged_at.get(k, epoch) < epoch:  # reported once, when it diverged
                metrics.append(None)
            else:
                metrics.append(EpochMetrics(epoch, tl, vl, accs[k][0], accs[k][1], obj, pen, wn, vl - tl, seconds))
        return EpochEnd(epoch, tuple(metrics), tuple(self.statuses), seconds)

    # ------------------------------------------------------------------ the loop

    def events(self) -> Iterator[Event]:
        """Epoch 0, then per batch ``BatchEnd`` and per epoch ``EpochEnd``."""
        start = time.perf_counter()
        epochs = self.experiment.train.epochs
        bs = self.batch_size
        if epochs == 0:
            self.statuses = ["finished"] * len(self.names)
        self.model.eval()
        yield self._metrics(0, None, 0.0)
        self.model.train()
        try:
            for epoch in range(1, epochs + 1):
                self._epoch = epoch
                order = self._epoch_order()
                total = torch.zeros(len(self.names), device=self.device)
                for i in range(self.n_batches):
                    idx = order[..., i * bs:(i + 1) * bs]
                    total += self._step(self.x_train[idx], self.y_train[idx])
                    yield BatchEnd(epoch, i + 1, self.n_batches)
                if epoch == epochs:
                    self.statuses = ["finished" if s == "running" else s for s in self.statuses]
                yield self._metrics(epoch, total / self.n_batches, time.perf_counter() - start)
                if not bool(self.alive.any()):
                    return
        finally:
            self.statuses = ["stopped" if s == "running" else s for s in self.statuses]

    def state_dict(self, variant: str) -> dict[str, Tensor]:
        """A member's current weights in ``nn.Sequential`` layout (see ``plain_mlp``)."""
        return self.model.member_state_dict(self.names.index(variant))


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def train(experiment: Experiment) -> Iterator[Event]:
    """Shortcut: ``Training(experiment).events()``."""
    return Training(experiment).events()
