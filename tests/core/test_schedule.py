"""Schedules: ``[[variants.schedule]]`` (λ, η, p) and ``[[train.schedule]]`` (lr).

Parsed and validated like every other key (one line naming the file and the
key), written back exactly, and applied by the trainer at the start of their
epoch: checked against a plain ``nn.Sequential`` trained with PyTorch's own
optimizers whose settings are changed at that epoch by hand.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from reference_impl import data_loss, eval_split, linears, member_generator, shuffle_generator, tensors
from regtui.core import presets
from regtui.core.config import ConfigError, LrChange, VariantChange, VariantConfig, lr_at_epoch
from regtui.core.data import make_dataset
from regtui.core.model import MemberDropout, initial_layers, plain_mlp
from regtui.core.overrides import with_overrides
from regtui.core.run_types import EpochEnd
from regtui.core.training import Training

TOML = """\
name = "scheduled"
[data]
dataset = "moons"
n_train = 48
n_val = 32
[model]
hidden = [8]
[train]
optimizer = "sgd"
lr = 0.1
batch_size = 16
epochs = 6
device = "cpu"
[[train.schedule]]
epoch = 4
lr = 0.02
[[variants]]
name = "late dropout"
[[variants.schedule]]
epoch = 3
dropout = 0.5
[[variants]]
name = "L2 then off"
l2 = 0.01
[[variants.schedule]]
epoch = 2
l2 = 0.0
weight_decay = 0.05
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- parsing

def test_schedules_parse_and_describe(tmp_path: Path) -> None:
    exp = presets.load_file(write(tmp_path, TOML))
    assert exp.train.schedule == (LrChange(4, 0.02),)
    late, l2 = exp.variants
    assert late.schedule == (VariantChange(3, dropout=0.5),)
    assert not late.is_baseline  # dropout switched on later still regularizes
    assert late.describe() == "no regularization; from epoch 3 drop p=0.5"
    assert l2.describe() == "λ=0.01; from epoch 2 λ=0 decay η=0.05"
    assert l2.at_epoch(1).l2 == 0.01 and l2.at_epoch(2) == dataclasses.replace(l2, l2=0.0, weight_decay=0.05)
    assert [lr_at_epoch(exp.train, e) for e in (1, 3, 4, 6)] == [0.1, 0.1, 0.02, 0.02]


def test_schedules_round_trip_through_a_saved_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGTUI_PRESETS_DIR", str(tmp_path / "user"))
    exp = presets.load_file(write(tmp_path, TOML))
    path = presets.save_preset(exp, "again")
    assert "{ epoch = 3, dropout = 0.5 }" in path.read_text(encoding="utf-8")
    assert presets.load("again") == dataclasses.replace(exp, name="again")
    assert presets.parse_toml(presets.to_toml(exp), "x") == exp


def test_a_schedule_can_be_set_from_the_command_line(tmp_path: Path) -> None:
    exp = presets.load_file(write(tmp_path, TOML))
    changed = with_overrides(exp, ["variants.late dropout.schedule=[{epoch=5, dropout=0.2, l2=1e-3}]"])
    assert changed.variants[0].schedule == (VariantChange(5, l2=1e-3, dropout=0.2),)


BAD = {
    # the schedule as written -> (the key the error names, a piece of the problem)
    "[[variants.schedule]]\nepoch = 7\ndropout = 0.5": ("variants.v.schedule[0].epoch", "must be in [1, 6] (train.epochs), got 7"),
    "[[variants.schedule]]\nepoch = 0\ndropout = 0.5": ("variants.v.schedule[0].epoch", "must be in [1, 6]"),
    "[[variants.schedule]]\nepoch = 2\nlr = 0.5": ("variants.v.schedule[0].lr", "unknown key 'lr'; [[variants.schedule]] changes l2"),
    "[[variants.schedule]]\nepoch = 2\ndropuot = 0.5": ("variants.v.schedule[0].dropuot", "unknown key"),
    "[[variants.schedule]]\ndropout = 0.5": ("variants.v.schedule[0].epoch", "missing"),
    "[[variants.schedule]]\nepoch = 2": ("variants.v.schedule[0]", "changes nothing"),
    "[[variants.schedule]]\nepoch = 2\ndropout = 1.0": ("variants.v.schedule[0].dropout", "probability in [0, 1)"),
    "[[variants.schedule]]\nepoch = 2\nl2 = -1": ("variants.v.schedule[0].l2", "must be in [0, 1e6]"),
    "[[variants.schedule]]\nepoch = 2.5\nl2 = 1": ("variants.v.schedule[0].epoch", "must be an integer"),
    "[[variants.schedule]]\nepoch = 4\nl2 = 1\n[[variants.schedule]]\nepoch = 4\nl2 = 2": (
        "variants.v.schedule[1].epoch", "increasing epoch order"),
    "schedule = 3": ("variants.v.schedule", "must be an array of tables"),
    "[[train.schedule]]\nepoch = 2\ndropout = 0.5": ("train.schedule[0].dropout", "[[train.schedule]] changes lr"),
    "[[train.schedule]]\nepoch = 9\nlr = 0.5": ("train.schedule[0].epoch", "must be in [1, 6]"),
    "[[train.schedule]]\nepoch = 2\nlr = 0": ("train.schedule[0].lr", "must be positive"),
}


@pytest.mark.parametrize("schedule", BAD, ids=range(len(BAD)))
def test_bad_schedules_are_one_line_errors_naming_file_and_key(tmp_path: Path, schedule: str) -> None:
    key, problem = BAD[schedule]
    head = '[data]\nn_train = 20\n[train]\nepochs = 6\n'
    text = head + "[[variants]]\nname = \"v\"\n" + schedule if "train.schedule" not in schedule else \
        head.replace("[train]\nepochs = 6\n", "") + "[train]\nepochs = 6\n" + schedule + "\n[[variants]]\nname = \"v\"\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        presets.load_file(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message


def test_fewer_epochs_than_a_schedule_names_the_entry(tmp_path: Path) -> None:
    exp = presets.load_file(write(tmp_path, TOML))
    with pytest.raises(ConfigError, match=r"--set: variants.late dropout.schedule\[0\].epoch: must be in \[1, 2\]"):
        with_overrides(exp, ["train.epochs=2"])


# --------------------------------------------------------------------------- training

def scheduled_reference(exp, index: int) -> tuple[list[tuple[float, float, float, float]], nn.Sequential]:
    """Variant ``index`` alone as ``nn.Sequential``, its schedule applied by hand: at the
    start of each epoch the penalty's λ, the dropout modules' p, the optimizer's
    weight decay (SGD: decoupled η is SGD's weight_decay) and lr are set to the
    values in force.  Rows: (train loss, val loss, objective, weight norm) per epoch."""
    ds = make_dataset(exp.data)
    t, v = exp.train, exp.variants[index]
    assert t.optimizer == "sgd" and t.momentum == 0 and not v.l2_biases
    x_tr, y_tr, x_va, y_va = tensors(ds)
    init = initial_layers(ds.n_features, exp.model.hidden, ds.n_outputs, t.seed)
    net = plain_mlp(init, exp.model.activation, 0.5, v.input_dropout, member_generator(t.seed, index))
    drops = [m for m in net if isinstance(m, MemberDropout)]
    weights, biases = [lin.weight for lin in linears(net)], [lin.bias for lin in linears(net)]
    opt = torch.optim.SGD([{"params": weights}, {"params": biases, "weight_decay": 0.0}], lr=t.lr)
    shuffle, n = shuffle_generator(t.seed), x_tr.shape[0]
    bs = min(t.batch_size, n)

    def row(objective: float) -> tuple[float, float, float, float]:
        norm = math.sqrt(sum(float((w.detach().double() ** 2).sum()) for w in weights))
        return eval_split(net, x_tr, y_tr, ds.task)[0], eval_split(net, x_va, y_va, ds.task)[0], objective, norm

    rows = []
    for epoch in range(1, t.epochs + 1):
        now = v.at_epoch(epoch)
        for m in drops:
            m.p = now.dropout
        opt.param_groups[0]["weight_decay"] = now.weight_decay
        for group in opt.param_groups:
            group["lr"] = lr_at_epoch(t, epoch)
        net.train()
        order, objectives = torch.randperm(n, generator=shuffle), []
        for i in range(-(-n // bs)):
            idx = order[i * bs:(i + 1) * bs]
            opt.zero_grad()
            loss = data_loss(net(x_tr[idx]), y_tr[idx], ds.task) + now.l2 * sum((w ** 2).sum() for w in weights)
            loss.backward()
            opt.step()
            objectives.append(float(loss.detach()))
        rows.append(row(sum(objectives) / len(objectives)))
    return rows, net


def test_training_applies_each_schedule_entry_at_the_start_of_its_epoch(tmp_path: Path) -> None:
    exp = presets.load_file(write(tmp_path, TOML))
    training = Training(exp)
    ends = [e for e in training.events() if isinstance(e, EpochEnd)]
    for k, v in enumerate(exp.variants):
        ref, net = scheduled_reference(exp, k)
        got = [(m.train_loss, m.val_loss, m.objective, m.weight_norm) for m in (e.metrics[k] for e in ends[1:])]
        assert len(got) == len(ref) == exp.train.epochs
        for epoch, (a, b) in enumerate(zip(got, ref), start=1):
            assert a == pytest.approx(b, abs=1e-5, rel=1e-5), (v.name, epoch)
        state = training.state_dict(v.name)
        for key, value in nn.Sequential(*[m for m in net if not isinstance(m, MemberDropout)]).state_dict().items():
            torch.testing.assert_close(state[key], value, atol=1e-5, rtol=1e-5)
    assert training.optimizer.lr == 0.02


def test_a_schedule_leaves_every_epoch_before_it_bit_for_bit(tmp_path: Path) -> None:
    exp = presets.load_file(write(tmp_path, TOML))
    plain = dataclasses.replace(exp, train=dataclasses.replace(exp.train, schedule=()),
                                variants=tuple(dataclasses.replace(v, schedule=()) for v in exp.variants))
    a = [e for e in Training(exp).events() if isinstance(e, EpochEnd)]
    b = [e for e in Training(plain).events() if isinstance(e, EpochEnd)]
    assert a[0].metrics[0] == dataclasses.replace(b[0].metrics[0], seconds=a[0].metrics[0].seconds)
    same = lambda x, y: dataclasses.replace(x, seconds=0.0) == dataclasses.replace(y, seconds=0.0)  # noqa: E731
    assert all(same(x, y) for x, y in zip(a[1].metrics[1:], b[1].metrics[1:]))  # L2 changes at epoch 2
    assert all(same(x.metrics[0], y.metrics[0]) for x, y in zip(a[:3], b[:3]))  # dropout from epoch 3
    assert not same(a[3].metrics[0], b[3].metrics[0])


def test_regtui_run_honours_schedules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from regtui.cli import main

    path = write(tmp_path, TOML)
    assert main(["run", str(path), "--json", str(tmp_path / "out.json"), "--no-history", "-q"]) == 0
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["experiment"]["train"]["schedule"] == [{"epoch": 4, "lr": 0.02}]
    ends = [e for e in Training(presets.load_file(path)).events() if isinstance(e, EpochEnd)]
    assert [r["val_loss"] for r in doc["variants"][0]["history"]] == [e.metrics[0].val_loss for e in ends]
