"""Fair comparison, metrics, divergence and the event stream of ``Training``."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from torch import nn

from reference_impl import data_loss, eval_split, metric_rows, run_stacked, tensors
from regtui.core.config import VariantConfig
from regtui.core.data import make_dataset
from regtui.core.model import initial_layers, plain_mlp
from regtui.core.results import RunHistory
from regtui.core.run_types import BatchEnd, EpochEnd, EpochMetrics
from regtui.core.training import Training

NUMERIC = ("train_loss", "val_loss", "train_acc", "val_acc", "objective", "penalty", "weight_norm", "gap")
FOUR = (
    VariantConfig("baseline"),
    VariantConfig("L2", l2=0.01),
    VariantConfig("Dropout", dropout=0.5),
    VariantConfig("InDrop", input_dropout=0.2, l2=0.001),
)


def _values(m: EpochMetrics) -> tuple:
    return tuple(getattr(m, f) for f in ("epoch",) + NUMERIC)


def _history(ends, k) -> list[tuple]:
    return [_values(m) for m in metric_rows(ends, k)]


# --------------------------------------------------------------------------- fair comparison

def test_same_seed_gives_identical_histories_and_weights(tiny_experiment):
    exp = tiny_experiment(variants=FOUR, train={"optimizer": "adam", "lr": 0.01})
    t1, e1 = run_stacked(exp)
    t2, e2 = run_stacked(exp)
    for k, v in enumerate(exp.variants):
        assert _history(e1, k) == _history(e2, k)
        s1, s2 = t1.state_dict(v.name), t2.state_dict(v.name)
        assert all(torch.equal(s1[key], s2[key]) for key in s1)


def test_different_train_seed_changes_initial_weights_not_data(tiny_experiment):
    a = Training(tiny_experiment())
    b = Training(tiny_experiment(train={"seed": 1}))
    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.state_dict("baseline")["0.weight"], b.state_dict("baseline")["0.weight"])


def test_every_variant_starts_from_the_same_weights_epoch_0(tiny_experiment):
    exp = tiny_experiment(variants=FOUR)
    training = Training(exp)
    first = training.state_dict("baseline")
    for v in exp.variants:
        state = training.state_dict(v.name)
        assert all(torch.equal(state[key], first[key]) for key in first)
    epoch0 = next(training.events())
    assert isinstance(epoch0, EpochEnd) and epoch0.epoch == 0
    base = epoch0.metrics[0]
    for k, m in enumerate(epoch0.metrics):
        for f in ("train_loss", "val_loss", "train_acc", "val_acc", "weight_norm", "gap"):
            assert getattr(m, f) == getattr(base, f), (k, f)
        assert m.penalty == pytest.approx(exp.variants[k].l2 * base.weight_norm ** 2, rel=1e-5)
        assert m.objective == pytest.approx(m.train_loss + m.penalty, rel=1e-6)
    assert epoch0.statuses == ("running",) * 4


def test_changing_one_variants_dropout_leaves_the_others_untouched(tiny_experiment):
    """Batches and masks are independent: another variant's p changes nothing else."""
    exp = tiny_experiment(variants=FOUR, train={"epochs": 3})
    changed = dataclasses.replace(exp, variants=(FOUR[0], FOUR[1], dataclasses.replace(FOUR[2], dropout=0.2), FOUR[3]))
    _, e1 = run_stacked(exp)
    _, e2 = run_stacked(changed)
    for k in (0, 1, 3):
        assert _history(e1, k) == _history(e2, k), exp.variants[k].name
    assert _history(e1, 2) != _history(e2, 2)  # the change itself did something


def test_giving_the_baseline_dropout_leaves_other_variants_untouched(tiny_experiment):
    exp = tiny_experiment(variants=FOUR, train={"epochs": 2, "optimizer": "adam", "lr": 0.01})
    changed = dataclasses.replace(exp, variants=(dataclasses.replace(FOUR[0], dropout=0.4, input_dropout=0.1),) + FOUR[1:])
    _, e1 = run_stacked(exp)
    _, e2 = run_stacked(changed)
    for k in (1, 2, 3):
        assert _history(e1, k) == _history(e2, k)


def test_removing_a_variant_after_the_others_changes_nothing_for_them(tiny_experiment):
    exp = tiny_experiment(variants=FOUR)
    fewer = dataclasses.replace(exp, variants=FOUR[:2])
    _, e1 = run_stacked(exp)
    _, e2 = run_stacked(fewer)
    for k in (0, 1):
        assert _history(e1, k) == _history(e2, k)


# --------------------------------------------------------------------------- metrics

def test_epoch_0_is_measured_on_the_initial_weights(tiny_experiment):
    exp = tiny_experiment(variants=FOUR)
    ds = make_dataset(exp.data)
    x_tr, y_tr, x_va, y_va = tensors(ds)
    net = plain_mlp(initial_layers(2, (8,), 2, 0), "relu")
    ends = [e for e in Training(exp).events() if isinstance(e, EpochEnd)]
    m = ends[0].metrics[0]
    with torch.no_grad():
        assert m.train_loss == pytest.approx(float(nn.functional.cross_entropy(net(x_tr), y_tr)), abs=1e-6)
        assert m.val_loss == pytest.approx(float(nn.functional.cross_entropy(net(x_va), y_va)), abs=1e-6)
        assert m.train_acc == pytest.approx(float((net(x_tr).argmax(1) == y_tr).float().mean()))
        assert m.val_acc == pytest.approx(float((net(x_va).argmax(1) == y_va).float().mean()))
    assert m.epoch == 0 and m.seconds == 0.0


def test_metrics_at_the_end_are_those_of_the_final_weights(tiny_experiment):
    exp = tiny_experiment(variants=FOUR, train={"epochs": 2})
    training, ends = run_stacked(exp)
    ds = make_dataset(exp.data)
    x_tr, y_tr, x_va, y_va = tensors(ds)
    for k, v in enumerate(exp.variants):
        m = ends[-1].metrics[k]
        state = training.state_dict(v.name)
        net = plain_mlp(initial_layers(2, (8,), 2, 0), "relu")
        net.load_state_dict(state)
        tl, ta = eval_split(net, x_tr, y_tr, "classification")
        vl, va = eval_split(net, x_va, y_va, "classification")
        sq = sum(float((state[key].double() ** 2).sum()) for key in state if key.endswith("weight"))
        assert m.train_loss == pytest.approx(tl, abs=1e-6)  # eval mode: no dropout noise
        assert m.val_loss == pytest.approx(vl, abs=1e-6)
        assert (m.train_acc, m.val_acc) == pytest.approx((ta, va))
        assert m.penalty == pytest.approx(v.l2 * sq, rel=1e-5)
        assert m.weight_norm == pytest.approx(math.sqrt(sq), rel=1e-6)
        assert m.gap == pytest.approx(m.val_loss - m.train_loss, abs=1e-7)
        assert m.epoch == 2 and m.seconds > 0


def test_penalty_with_l2_biases_counts_biases_but_norm_does_not(tiny_experiment):
    exp = tiny_experiment(variants=(VariantConfig("Lb", l2=0.1, l2_biases=True),), train={"epochs": 1})
    training, ends = run_stacked(exp)
    state = training.state_dict("Lb")
    w2 = sum(float((state[k].double() ** 2).sum()) for k in state if k.endswith("weight"))
    b2 = sum(float((state[k].double() ** 2).sum()) for k in state if k.endswith("bias"))
    m = ends[-1].metrics[0]
    assert m.penalty == pytest.approx(0.1 * (w2 + b2), rel=1e-5)
    assert m.weight_norm == pytest.approx(math.sqrt(w2), rel=1e-6)


def test_objective_is_the_mean_batch_loss_plus_penalty_before_each_step(tiny_experiment):
    """For a variant without dropout, recompute what the optimizer minimized batch by batch."""
    exp = tiny_experiment(variants=(VariantConfig("L2", l2=0.05),), train={"epochs": 2, "batch_size": 20})
    ds = make_dataset(exp.data)
    x_tr, y_tr, _, _ = tensors(ds)
    training = Training(exp)
    per_epoch: dict[int, list[float]] = {}
    shuffle = torch.Generator().manual_seed(0)
    ends = []
    state = training.state_dict("L2")  # weights before the next step
    order = None
    for event in training.events():
        if isinstance(event, EpochEnd):
            ends.append(event)
            continue
        if event.batch == 1:
            order = torch.randperm(48, generator=shuffle)
        idx = order[(event.batch - 1) * 20:event.batch * 20]
        net = plain_mlp(initial_layers(2, (8,), 2, 0), "relu")
        net.load_state_dict(state)
        with torch.no_grad():
            loss = nn.functional.cross_entropy(net(x_tr[idx]), y_tr[idx])
            pen = 0.05 * sum(float((state[k] ** 2).sum()) for k in state if k.endswith("weight"))
        per_epoch.setdefault(event.epoch, []).append(float(loss) + pen)
        state = training.state_dict("L2")
    assert [len(v) for v in per_epoch.values()] == [3, 3]  # 48 samples, batches of 20: 20, 20, 8
    for end in ends[1:]:
        expected = sum(per_epoch[end.epoch]) / 3  # mean over batches, not over samples
        assert end.metrics[0].objective == pytest.approx(expected, rel=1e-5)
    assert ends[0].metrics[0].objective == pytest.approx(ends[0].metrics[0].train_loss + ends[0].metrics[0].penalty)


def test_regression_uses_mse_without_half_and_has_no_accuracy(tiny_experiment):
    exp = tiny_experiment(data={"dataset": "regression", "n_features": 5, "n_train": 30, "n_val": 20},
                          variants=(VariantConfig("b"), VariantConfig("D", dropout=0.2)), train={"epochs": 2, "lr": 0.01})
    ds = make_dataset(exp.data)
    _, ends = run_stacked(exp)
    net = plain_mlp(initial_layers(5, (8,), 1, 0), "relu")
    x_tr, y_tr, x_va, y_va = tensors(ds)
    with torch.no_grad():
        assert ends[0].metrics[0].train_loss == pytest.approx(float(((net(x_tr)[:, 0] - y_tr) ** 2).mean()), rel=1e-6)
        assert ends[0].metrics[0].val_loss == pytest.approx(float(((net(x_va)[:, 0] - y_va) ** 2).mean()), rel=1e-6)
    for end in ends:
        for m in end.metrics:
            assert m.train_acc is None and m.val_acc is None
    history = RunHistory(exp)
    for end in ends:
        history.add(end)
    rec = history.to_json()["variants"][0]["history"][0]
    assert rec["train_acc"] is None and rec["val_acc"] is None


def test_best_epoch_is_argmin_of_val_loss(tiny_experiment):
    exp = tiny_experiment(variants=FOUR, train={"epochs": 5, "lr": 0.5})
    _, ends = run_stacked(exp)
    history = RunHistory(exp)
    for end in ends:
        history.add(end)
    for k, v in enumerate(exp.variants):
        vals = [m.val_loss for m in metric_rows(ends, k)]
        best = history[v.name].best
        assert best.epoch == min(range(len(vals)), key=vals.__getitem__)
        assert best.val_loss == pytest.approx(min(vals))
    end = {v.name: metric_rows(ends, k)[-1].val_loss for k, v in enumerate(exp.variants)}
    assert history.winner() == min(end, key=end.get)  # 5 epochs: the end window is the last epoch


# --------------------------------------------------------------------------- divergence

def _regression(tiny_experiment, variants, **train):
    return tiny_experiment(
        data={"dataset": "regression", "n_features": 4, "n_train": 48, "n_val": 16},
        variants=variants, train={"optimizer": "sgd", "lr": 0.01, "batch_size": 4, "epochs": 3, **train},
    )


def test_huge_lambda_diverges_one_variant_and_the_others_are_unaffected(tiny_experiment):
    healthy = (VariantConfig("baseline"), VariantConfig("L2", l2=0.01), VariantConfig("Dropout", dropout=0.3))
    boom = VariantConfig("boom", l2=1e6)
    with_boom = _regression(tiny_experiment, healthy + (boom,))
    without = _regression(tiny_experiment, healthy)
    t1, e1 = run_stacked(with_boom)
    _, e2 = run_stacked(without)
    assert e1[1].statuses[3] == "diverged"  # within the first epoch
    assert t1.diverged_at == {3: 1}
    assert e1[-1].statuses == ("finished", "finished", "finished", "diverged")
    assert [e.metrics[3] is None for e in e1] == [False, False, True, True]  # reported once, when it diverged
    for k in range(3):
        assert _history(e1, k) == _history(e2, k)
        for row in _history(e1, k):
            assert all(math.isfinite(x) for x in row if x is not None)
    history = RunHistory(with_boom)
    for end in e1:
        history.add(end)
    assert history["boom"].status == "diverged"
    assert len(history["boom"]) == 2
    text = json.dumps(history.to_json(), allow_nan=False)  # no NaN / Infinity in the JSON
    for v in json.loads(text)["variants"]:
        for row in v["history"]:
            assert all(x is None or math.isfinite(x) for x in row.values())
    assert "nan" not in history.to_csv().lower() and "inf" not in history.to_csv().lower()


def test_huge_lr_diverges_everything_and_the_run_ends(tiny_experiment):
    exp = _regression(tiny_experiment, (VariantConfig("a"), VariantConfig("b", dropout=0.5)), lr=1e4, epochs=5)
    training, ends = run_stacked(exp)
    assert ends[-1].statuses == ("diverged", "diverged")
    assert ends[-1].epoch == 1  # no more epochs once every variant diverged
    assert training.statuses == ["diverged", "diverged"]


def test_diverged_variant_is_frozen(tiny_experiment):
    exp = _regression(tiny_experiment, (VariantConfig("ok"), VariantConfig("boom", l2=1e6)), optimizer="adam", lr=1e3)
    exp = dataclasses.replace(exp, variants=(VariantConfig("ok"), VariantConfig("boom", l2=1e6)),
                              train=dataclasses.replace(exp.train, optimizer="sgd", momentum=0.9, lr=0.01, epochs=3))
    training = Training(exp)
    frozen = None
    for event in training.events():
        if 1 in training.diverged_at and frozen is None:
            frozen = {k: v.clone() for k, v in training.state_dict("boom").items()}
    assert frozen is not None
    after = training.state_dict("boom")
    for key in frozen:
        assert torch.equal(after[key].nan_to_num(), frozen[key].nan_to_num())


# --------------------------------------------------------------------------- the event stream

def test_epochs_0_yields_only_epoch_0_finished(tiny_experiment):
    training = Training(tiny_experiment(train={"epochs": 0}))
    events = list(training.events())
    assert len(events) == 1 and isinstance(events[0], EpochEnd)
    assert events[0].epoch == 0 and events[0].statuses == ("finished",) * 3
    assert training.statuses == ["finished"] * 3


@pytest.mark.parametrize("batch_size", [48, 1000])
def test_batch_size_at_least_n_train_is_full_batch(tiny_experiment, batch_size):
    exp = tiny_experiment(train={"batch_size": batch_size, "epochs": 3})
    events = list(Training(exp).events())
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["EpochEnd"] + ["BatchEnd", "EpochEnd"] * 3
    assert all(e.n_batches == 1 and e.batch == 1 for e in events if isinstance(e, BatchEnd))


def test_event_order_and_batch_counts(tiny_experiment):
    exp = tiny_experiment(train={"batch_size": 10, "epochs": 2})  # 48 samples: 5 batches
    events = list(Training(exp).events())
    batches = [(e.epoch, e.batch, e.n_batches) for e in events if isinstance(e, BatchEnd)]
    assert batches == [(ep, b, 5) for ep in (1, 2) for b in range(1, 6)]
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [0, 1, 2]
    assert [e.statuses for e in ends] == [("running",) * 3, ("running",) * 3, ("finished",) * 3]
    assert isinstance(events[-1], EpochEnd)


def test_closing_the_generator_mid_run_marks_running_variants_stopped(tiny_experiment):
    training = Training(tiny_experiment(train={"epochs": 5}))
    events = training.events()
    for event in events:
        if isinstance(event, BatchEnd) and event.epoch == 2:
            break
    events.close()
    assert training.statuses == ["stopped"] * 3


def test_closing_keeps_diverged_variants_diverged(tiny_experiment):
    exp = _regression(tiny_experiment, (VariantConfig("ok"), VariantConfig("boom", l2=1e6)), epochs=4)
    training = Training(exp)
    events = training.events()
    for event in events:
        if isinstance(event, EpochEnd) and event.epoch == 2:
            break
    events.close()
    assert training.statuses == ["stopped", "diverged"]


def test_closing_after_the_last_epoch_keeps_finished(tiny_experiment):
    training = Training(tiny_experiment(train={"epochs": 1}))
    events = training.events()
    for event in events:
        if isinstance(event, EpochEnd) and event.epoch == 1:
            break
    events.close()
    assert training.statuses == ["finished"] * 3


# --------------------------------------------------------------------------- several seeds

def test_each_seed_member_equals_a_single_seed_run(tiny_experiment):
    """``train.seeds = 3``: the member ``V · seed s`` is the run with ``train.seed = s``."""
    exp = tiny_experiment(variants=FOUR, train={"seed": 5, "seeds": 3, "epochs": 2, "optimizer": "adam", "lr": 0.01})
    training, ends = run_stacked(exp)
    assert training.names == tuple(f"{v.name} · seed {s}" for v in FOUR for s in (5, 6, 7))
    for s in (5, 6, 7):
        single = dataclasses.replace(exp, train=dataclasses.replace(exp.train, seed=s, seeds=1))
        t1, e1 = run_stacked(single)
        for k, v in enumerate(FOUR):
            member = training.names.index(f"{v.name} · seed {s}")
            got, want = _history(ends, member), _history(e1, k)
            assert len(got) == len(want)
            for a, b in zip(got, want):
                assert a == pytest.approx(b, abs=1e-6, rel=1e-6), (v.name, s)
            sa, sb = training.state_dict(f"{v.name} · seed {s}"), t1.state_dict(v.name)
            for key in sb:
                torch.testing.assert_close(sa[key], sb[key], atol=1e-6, rtol=1e-6)


def test_seed_group_history_is_the_mean_over_seeds(tiny_experiment):
    exp = tiny_experiment(variants=FOUR[:2], train={"seeds": 3, "epochs": 2})
    _, ends = run_stacked(exp)
    history = RunHistory(exp)
    for end in ends:
        history.add(end)
    group = history["L2"]
    per_seed = [[m.val_loss for m in metric_rows(ends, k)] for k in (3, 4, 5)]
    expected = [sum(col) / 3 for col in zip(*per_seed)]
    assert list(group.series("val_loss")) == pytest.approx(expected, rel=1e-9)
    data = json.loads(json.dumps(history.to_json(), allow_nan=False))
    entry = data["variants"][1]
    assert entry["name"] == "L2" and len(entry["seeds"]) == 3
    assert [s["seed"] for s in entry["seeds"]] == [0, 1, 2]
    assert entry["best_val_loss_over_seeds"]["n"] == 3


def test_evaluation_in_chunks_equals_one_pass(tiny_experiment):
    """A validation split larger than EVAL_CHUNK is evaluated in pieces; the mean must be exact."""
    from regtui.core.memory import EVAL_CHUNK

    exp = tiny_experiment(data={"n_val": EVAL_CHUNK + 808}, train={"epochs": 0})
    ds = make_dataset(exp.data)
    _, _, x_va, y_va = tensors(ds)
    net = plain_mlp(initial_layers(2, (8,), 2, 0), "relu")
    m = next(Training(exp, ds).events()).metrics[0]
    with torch.no_grad():
        out = net(x_va)
        assert m.val_loss == pytest.approx(float(nn.functional.cross_entropy(out, y_va)), rel=1e-5)
        assert m.val_acc == pytest.approx(float((out.argmax(1) == y_va).float().mean()), abs=1e-7)


@pytest.mark.parametrize("seeds", [1, 2])
def test_largest_allowed_train_seed_trains(tiny_experiment, seeds):
    """train.seed may be up to 2^63-1: every generator seeded from it must accept it."""
    exp = tiny_experiment(train={"seed": 2**63 - 1, "seeds": seeds, "epochs": 1})
    _, ends = run_stacked(exp)
    assert ends[-1].statuses == ("finished",) * (3 * seeds)


def test_evaluation_loss_and_accuracy_are_cross_entropy_and_argmax_with_ties_nan_and_inf(tiny_experiment):
    """The evaluation's per-sample loss and 'classified right' (``_sample_losses``) are
    F.cross_entropy's and ``argmax == y``'s, also where logits tie (argmax takes the first
    largest), a member's logits are NaN or infinite, and on ordinary logits."""
    training = Training(tiny_experiment(train={"epochs": 0}))
    gen = torch.Generator().manual_seed(3)
    ordinary = torch.randn(3, 50, 4, generator=gen) * 5
    y = torch.randint(0, 4, (50,), generator=gen)
    tied = ordinary.clone()
    tied[0, :10] = 0.0  # every class ties: argmax says class 0
    tied[1, 10:20, 1:] = tied[1, 10:20].amax(-1, keepdim=True)  # classes 1..3 tie at the top
    odd = ordinary.clone()
    odd[2, 0, 2] = float("nan")
    odd[1, 3, 0] = float("inf")
    odd[0, 4] = float("-inf")
    for out in (ordinary, tied, odd):
        loss, right = training._sample_losses(out.clone(), y)
        assert torch.equal(right, out.argmax(-1) == y)
        reference = nn.functional.cross_entropy(out.reshape(-1, 4), y.repeat(3), reduction="none").view(3, 50)
        assert torch.allclose(loss, reference, rtol=1e-6, atol=1e-6, equal_nan=True)
        assert torch.equal(loss.isnan(), reference.isnan()) and torch.equal(loss.isinf(), reference.isinf())
