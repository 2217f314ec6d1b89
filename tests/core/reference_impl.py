"""The reference answer: one variant trained alone as a plain ``nn.Sequential``.

Written from docs/semantics.md with PyTorch's own pieces (micrograd style), not
from ``regtui.core.training``: the coupled penalty is added to the loss and
differentiated by autograd, decoupled decay is ``torch.optim.AdamW`` (or
``SGD(weight_decay=η)`` where the two coincide), dropout is ``plain_mlp``'s
``MemberDropout`` drawing from the member's own generator.  The only things
copied from the implementation are its seeding conventions, which the
reference must share to see the same batches and masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from regtui.core.config import Experiment, VariantConfig, covered_layers
from regtui.core.data import Dataset, make_dataset
from regtui.core.model import initial_layers, plain_mlp
from regtui.core.run_types import dropout_seed


def member_generator(train_seed: int, index: int) -> torch.Generator:
    """The dropout generator of variant ``index`` at one seed (Training.__init__'s convention)."""
    return torch.Generator().manual_seed(dropout_seed(train_seed, index))


def shuffle_generator(train_seed: int) -> torch.Generator:
    """The generator of the batch order (Training.__init__'s convention)."""
    return torch.Generator().manual_seed(train_seed)


def linears(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


def data_loss(out: Tensor, y: Tensor, task: str) -> Tensor:
    if task == "classification":
        return nn.functional.cross_entropy(out, y)
    return ((out.squeeze(-1) - y) ** 2).mean()


def covered(net: nn.Sequential, layers) -> list[nn.Linear]:
    """The Linear layers an ``l2_layers`` / ``weight_decay_layers`` value names."""
    lins = linears(net)
    return [lins[i] for i in sorted(covered_layers(layers, len(lins)))]


def penalty(net: nn.Sequential, v: VariantConfig) -> Tensor:
    """``λ·Σw²`` over the covered weight matrices (and their biases with l2_biases)."""
    lins = covered(net, v.l2_layers)
    total = sum(((lin.weight ** 2).sum() for lin in lins), torch.zeros(()))
    if v.l2_biases:
        total = total + sum(((lin.bias ** 2).sum() for lin in lins), torch.zeros(()))
    return v.l2 * total


def weight_norm(net: nn.Sequential) -> float:
    return math.sqrt(sum(float((lin.weight.detach().double() ** 2).sum()) for lin in linears(net)))


@dataclass
class Row:
    epoch: int
    train_loss: float
    val_loss: float
    train_acc: float | None
    val_acc: float | None
    objective: float
    penalty: float
    weight_norm: float
    gap: float


@torch.no_grad()
def eval_split(net: nn.Sequential, x: Tensor, y: Tensor, task: str) -> tuple[float, float | None]:
    was = net.training
    net.eval()
    out = net(x)
    loss = float(data_loss(out, y, task))
    acc = float((out.argmax(-1) == y).float().mean()) if task == "classification" else None
    net.train(was)
    return loss, acc


def make_reference_optimizer(net: nn.Sequential, v: VariantConfig, exp: Experiment) -> tuple[torch.optim.Optimizer, float]:
    """PyTorch's optimizer for this variant; returns it and the decay to apply by hand.

    Decoupled decay η: AdamW(weight_decay=η) under adam/adamw; under plain SGD
    it is SGD(weight_decay=η); with momentum no torch optimizer has it, so it
    is applied by hand (``w ← w − lr·η·w`` before the update, as AdamW does;
    ``manual_decay_params`` lists the tensors).  Only the layers that
    ``weight_decay_layers`` covers get η, their biases only with l2_biases.
    """
    t = exp.train
    decayed = {id(p) for p in manual_decay_params(net, v)}
    decay_groups = [
        {"params": [p for p in net.parameters() if id(p) in decayed], "weight_decay": v.weight_decay},
        {"params": [p for p in net.parameters() if id(p) not in decayed], "weight_decay": 0.0},
    ]
    decay_groups = [g for g in decay_groups if g["params"]]
    if t.optimizer == "sgd":
        if t.momentum == 0.0:
            return torch.optim.SGD(decay_groups, lr=t.lr), 0.0
        return torch.optim.SGD(net.parameters(), lr=t.lr, momentum=t.momentum), v.weight_decay
    return torch.optim.AdamW(decay_groups, lr=t.lr, eps=t.adam_epsilon), 0.0


def manual_decay_params(net: nn.Sequential, v: VariantConfig) -> list[Tensor]:
    """The tensors decoupled decay scales: covered weights, and their biases with l2_biases."""
    lins = covered(net, v.weight_decay_layers)
    return [lin.weight for lin in lins] + ([lin.bias for lin in lins] if v.l2_biases else [])


def tensors(ds: Dataset) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    return (torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train),
            torch.from_numpy(ds.x_val), torch.from_numpy(ds.y_val))


def reference_run(exp: Experiment, index: int, dataset: Dataset | None = None) -> tuple[list[Row], nn.Sequential]:
    """Train variant ``index`` alone; return its per-epoch rows and the final net."""
    ds = dataset if dataset is not None else make_dataset(exp.data)
    v = exp.variants[index]
    t = exp.train
    x_tr, y_tr, x_va, y_va = tensors(ds)
    init = initial_layers(ds.n_features, exp.model.hidden, ds.n_outputs, t.seed, exp.model.init)
    net = plain_mlp(init, exp.model.activation, v.dropout, v.input_dropout, member_generator(t.seed, index))
    opt, manual_decay = make_reference_optimizer(net, v, exp)
    shuffle = shuffle_generator(t.seed)
    n = x_tr.shape[0]
    bs = min(t.batch_size, n)
    n_batches = -(-n // bs)

    def row(epoch: int, objective: float | None) -> Row:
        tl, ta = eval_split(net, x_tr, y_tr, ds.task)
        vl, va = eval_split(net, x_va, y_va, ds.task)
        with torch.no_grad():
            pen = float(penalty(net, v))
        obj = tl + pen if objective is None else objective
        return Row(epoch, tl, vl, ta, va, obj, pen, weight_norm(net), vl - tl)

    rows = [row(0, None)]
    net.train()
    for epoch in range(1, t.epochs + 1):
        order = torch.randperm(n, generator=shuffle)
        objectives = []
        for i in range(n_batches):
            idx = order[i * bs:(i + 1) * bs]
            opt.zero_grad()
            loss = data_loss(net(x_tr[idx]), y_tr[idx], ds.task) + penalty(net, v)
            loss.backward()
            if manual_decay:
                with torch.no_grad():
                    for p in manual_decay_params(net, v):
                        p.mul_(1 - t.lr * manual_decay)
            opt.step()
            objectives.append(float(loss.detach()))
        rows.append(row(epoch, sum(objectives) / len(objectives)))
    return rows, net


def run_stacked(exp: Experiment, dataset: Dataset | None = None):
    """Run ``Training`` to the end; return it and its ``EpochEnd`` events."""
    from regtui.core.run_types import EpochEnd
    from regtui.core.training import Training

    training = Training(exp, dataset)
    ends = [e for e in training.events() if isinstance(e, EpochEnd)]
    return training, ends


def metric_rows(ends, index: int) -> list:
    """Variant ``index``'s ``EpochMetrics`` over the run (None entries dropped)."""
    return [e.metrics[index] for e in ends if e.metrics[index] is not None]
