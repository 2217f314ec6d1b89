"""The stacked trainer against PyTorch's own optimizers on a plain nn.Sequential.

docs/semantics.md: ``l2 = λ`` is SGD/Adam(weight_decay=2λ) on the weight matrices
(biases free unless ``l2_biases``); ``weight_decay = η`` is AdamW(weight_decay=η);
the stacked model equals each variant trained alone.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from reference_impl import linears, member_generator, metric_rows, reference_run, run_stacked, shuffle_generator
from regtui.core.config import VariantConfig
from regtui.core.data import make_dataset
from regtui.core.model import initial_layers, plain_mlp
from regtui.core.run_types import BatchEnd
from regtui.core.training import Training

ATOL = 1e-5
RTOL = 1e-5


def _steps(training: Training, n_steps: int) -> None:
    """Advance the generator by exactly ``n_steps`` optimizer steps."""
    events = training.events()
    done = 0
    for event in events:
        if isinstance(event, BatchEnd):
            done += 1
            if done == n_steps:
                break
    assert done == n_steps
    events.close()


def _plain(exp, index=0):
    ds = make_dataset(exp.data)
    init = initial_layers(ds.n_features, exp.model.hidden, ds.n_outputs, exp.train.seed)
    return ds, plain_mlp(init, exp.model.activation)


def _torch_steps(exp, net, opt, ds, n_steps: int) -> None:
    """``n_steps`` steps of ``opt`` with the batches the trainer draws."""
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    shuffle = shuffle_generator(exp.train.seed)
    n = x.shape[0]
    bs = min(exp.train.batch_size, n)
    done = 0
    while done < n_steps:
        order = torch.randperm(n, generator=shuffle)
        for i in range(-(-n // bs)):
            idx = order[i * bs:(i + 1) * bs]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
            done += 1
            if done == n_steps:
                return


def _assert_state_equal(state: dict, net: nn.Sequential, atol: float = ATOL) -> None:
    ref = net.state_dict()
    assert set(state) == set(ref)
    for key in ref:
        torch.testing.assert_close(state[key], ref[key], atol=atol, rtol=RTOL, msg=key)


def _weights_groups(net, wd_weights, wd_biases):
    return [
        {"params": [lin.weight for lin in linears(net)], "weight_decay": wd_weights},
        {"params": [lin.bias for lin in linears(net)], "weight_decay": wd_biases},
    ]


LAMBDA = 0.05


@pytest.mark.parametrize("momentum,n_steps", [(0.0, 1), (0.0, 4), (0.9, 6)])
@pytest.mark.parametrize("l2_biases", [False, True])
def test_l2_under_sgd_is_torch_sgd_weight_decay_2lambda(tiny_experiment, momentum, n_steps, l2_biases):
    v = VariantConfig("L2", l2=LAMBDA, l2_biases=l2_biases)
    exp = tiny_experiment(variants=(VariantConfig("base"), v), model={"hidden": (16, 8)},
                          train={"optimizer": "sgd", "lr": 0.5, "momentum": momentum})
    training = Training(exp)
    _steps(training, n_steps)
    ds, net = _plain(exp)
    opt = torch.optim.SGD(_weights_groups(net, 2 * LAMBDA, 2 * LAMBDA if l2_biases else 0.0), lr=0.5, momentum=momentum)
    _torch_steps(exp, net, opt, ds, n_steps)
    _assert_state_equal(training.state_dict("L2"), net)
    # and the regularization made a difference (the test could fail)
    ds, plain = _plain(exp)
    _torch_steps(exp, plain, torch.optim.SGD(plain.parameters(), lr=0.5, momentum=momentum), ds, n_steps)
    _assert_state_equal(training.state_dict("base"), plain)
    diff = (training.state_dict("L2")["0.weight"] - training.state_dict("base")["0.weight"]).abs().max()
    assert diff > 1e-3
    if n_steps == 1:  # after one step biases differ only if they are penalized
        bias_diff = (training.state_dict("L2")["0.bias"] - training.state_dict("base")["0.bias"]).abs().max()
        assert (bias_diff > 1e-6) == l2_biases


def test_l2_does_not_touch_biases_after_one_sgd_step(tiny_experiment):
    """One step: λ changes the weights' update by exactly -lr·2λ·w and leaves biases alone."""
    exp = tiny_experiment(variants=(VariantConfig("base"), VariantConfig("L2", l2=LAMBDA)),
                          train={"optimizer": "sgd", "lr": 0.5})
    training = Training(exp)
    init = initial_layers(2, (8,), 2, 0)
    _steps(training, 1)
    base, l2 = training.state_dict("base"), training.state_dict("L2")
    for i, (w, b) in enumerate(init):
        key = f"{2 * i}"
        torch.testing.assert_close(l2[f"{key}.weight"] - base[f"{key}.weight"], -0.5 * 2 * LAMBDA * w.T, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(l2[f"{key}.bias"], base[f"{key}.bias"], atol=0, rtol=0)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
@pytest.mark.parametrize("l2_biases", [False, True])
def test_l2_under_adam_is_torch_adam_weight_decay_2lambda(tiny_experiment, optimizer, l2_biases):
    v = VariantConfig("L2", l2=LAMBDA, l2_biases=l2_biases)
    exp = tiny_experiment(variants=(VariantConfig("base"), v), model={"hidden": (16, 8)},
                          train={"optimizer": optimizer, "lr": 0.01})
    training = Training(exp)
    _steps(training, 5)
    ds, net = _plain(exp)
    opt = torch.optim.Adam(_weights_groups(net, 2 * LAMBDA, 2 * LAMBDA if l2_biases else 0.0), lr=0.01)
    _torch_steps(exp, net, opt, ds, 5)
    _assert_state_equal(training.state_dict("L2"), net)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
@pytest.mark.parametrize("l2_biases", [False, True])
def test_weight_decay_under_adam_is_torch_adamw(tiny_experiment, optimizer, l2_biases):
    eta = 0.5
    v = VariantConfig("WD", weight_decay=eta, l2_biases=l2_biases)
    exp = tiny_experiment(variants=(VariantConfig("base"), v), model={"hidden": (16, 8)},
                          train={"optimizer": optimizer, "lr": 0.01})
    training = Training(exp)
    _steps(training, 5)
    ds, net = _plain(exp)
    opt = torch.optim.AdamW(_weights_groups(net, eta, eta if l2_biases else 0.0), lr=0.01)
    _torch_steps(exp, net, opt, ds, 5)
    _assert_state_equal(training.state_dict("WD"), net)


def test_weight_decay_equals_half_l2_under_plain_sgd_but_not_under_adam(tiny_experiment):
    eta = 0.2
    variants = (VariantConfig("WD", weight_decay=eta), VariantConfig("L2", l2=eta / 2))
    sgd = tiny_experiment(variants=variants, train={"optimizer": "sgd", "lr": 0.5, "epochs": 3})
    training, ends = run_stacked(sgd)
    wd, l2 = training.state_dict("WD"), training.state_dict("L2")
    for key in wd:
        torch.testing.assert_close(wd[key], l2[key], atol=1e-5, rtol=1e-5)
    for a, b in zip(metric_rows(ends, 0), metric_rows(ends, 1)):
        assert a.train_loss == pytest.approx(b.train_loss, abs=1e-5)
        assert a.val_loss == pytest.approx(b.val_loss, abs=1e-5)
        assert a.weight_norm == pytest.approx(b.weight_norm, abs=1e-5)
        assert a.penalty == 0.0  # decoupled decay is not part of the loss
    adam = dataclasses.replace(sgd, train=dataclasses.replace(sgd.train, optimizer="adam", lr=0.05))
    training, _ = run_stacked(adam)
    wd, l2 = training.state_dict("WD"), training.state_dict("L2")
    assert (wd["0.weight"] - l2["0.weight"]).abs().max() > 1e-3


# --------------------------------------------------------------------------- per-layer regularization

def _layer_groups(net, coefficient, layers, biases=False):
    """weight_decay=coefficient on the listed layers' weights (and biases), 0 on every other tensor."""
    lins = linears(net)
    chosen = [lins[i].weight for i in layers] + ([lins[i].bias for i in layers] if biases else [])
    ids = {id(p) for p in chosen}
    return [{"params": chosen, "weight_decay": coefficient},
            {"params": [p for p in net.parameters() if id(p) not in ids], "weight_decay": 0.0}]


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("adam", 0.01)])
@pytest.mark.parametrize("layers,indices,l2_biases", [("hidden", [0, 1], False), ((0, 2), [0, 2], False),
                                                      ("hidden", [0, 1], True)])
def test_l2_on_some_layers_is_torch_weight_decay_2lambda_on_those_tensors_alone(
        tiny_experiment, optimizer, lr, layers, indices, l2_biases):
    """The article's program: l2(λ) on the hidden Dense kernels, none on the output layer."""
    v = VariantConfig("L2", l2=LAMBDA, l2_layers=layers, l2_biases=l2_biases)
    exp = tiny_experiment(variants=(VariantConfig("all", l2=LAMBDA, l2_biases=l2_biases), v), model={"hidden": (16, 8)},
                          train={"optimizer": optimizer, "lr": lr})
    training = Training(exp)
    _steps(training, 5)
    ds, net = _plain(exp)
    kind = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    _torch_steps(exp, net, kind(_layer_groups(net, 2 * LAMBDA, indices, l2_biases), lr=lr), ds, 5)
    _assert_state_equal(training.state_dict("L2"), net)
    # the uncovered layer differs from the variant that penalizes every layer (the test can fail)
    uncovered = f"{2 * ({0, 1, 2} - set(indices)).pop()}.weight"
    assert (training.state_dict("L2")[uncovered] - training.state_dict("all")[uncovered]).abs().max() > 1e-4


@pytest.mark.parametrize("layers,indices", [("hidden", [0, 1]), ((1,), [1])])
def test_weight_decay_on_some_layers_is_torch_adamw_on_those_tensors_alone(tiny_experiment, layers, indices):
    eta = 0.5
    v = VariantConfig("WD", weight_decay=eta, weight_decay_layers=layers)
    exp = tiny_experiment(variants=(VariantConfig("base"), v), model={"hidden": (16, 8)},
                          train={"optimizer": "adam", "lr": 0.01})
    training = Training(exp)
    _steps(training, 5)
    ds, net = _plain(exp)
    _torch_steps(exp, net, torch.optim.AdamW(_layer_groups(net, eta, indices), lr=0.01), ds, 5)
    _assert_state_equal(training.state_dict("WD"), net)
    ds, everywhere = _plain(exp)
    _torch_steps(exp, everywhere, torch.optim.AdamW(_layer_groups(everywhere, eta, [0, 1, 2]), lr=0.01), ds, 5)
    assert (training.state_dict("WD")["4.weight"] - everywhere[4].weight).abs().max() > 1e-5


def test_penalty_counts_only_the_covered_layers(tiny_experiment):
    exp = tiny_experiment(variants=(VariantConfig("L2", l2=0.1, l2_layers="hidden"),), model={"hidden": (8, 4)},
                          train={"epochs": 1})
    training, ends = run_stacked(exp)
    state = training.state_dict("L2")
    hidden = sum(float((state[f"{i}.weight"].double() ** 2).sum()) for i in (0, 2))
    every = hidden + float((state["4.weight"].double() ** 2).sum())
    m = ends[-1].metrics[0]
    assert m.penalty == pytest.approx(0.1 * hidden, rel=1e-5)
    assert m.weight_norm ** 2 == pytest.approx(every, rel=1e-5)  # the norm still covers every weight matrix


# --------------------------------------------------------------------------- stacked == alone

VARIANTS = (
    VariantConfig("baseline"),
    VariantConfig("L2", l2=0.01),
    VariantConfig("L2b", l2=0.02, l2_biases=True),
    VariantConfig("WD", weight_decay=0.1),
    VariantConfig("WDb", weight_decay=0.1, l2_biases=True),
    VariantConfig("Dropout", dropout=0.3),
    VariantConfig("InDrop", input_dropout=0.2),
    VariantConfig("All", l2=0.01, weight_decay=0.05, dropout=0.5, input_dropout=0.1),
    VariantConfig("L2hidden", l2=0.02, l2_layers="hidden"),
    VariantConfig("L2first", l2=0.02, l2_layers=(0,), l2_biases=True),
    VariantConfig("WDhidden", weight_decay=0.1, weight_decay_layers="hidden", l2=0.01, l2_layers=(0,)),
)

OPTIMIZERS = {
    "sgd": {"optimizer": "sgd", "lr": 0.2},
    "sgd+momentum": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.01},
    "adamw": {"optimizer": "adamw", "lr": 0.01},
}

FIELDS = ("train_loss", "val_loss", "train_acc", "val_acc", "objective", "penalty", "weight_norm", "gap")


def _compare(exp, tol=ATOL):
    training, ends = run_stacked(exp)
    assert all(s == "finished" for s in ends[-1].statuses)
    for k, v in enumerate(exp.variants):
        ref_rows, net = reference_run(exp, k)
        got = metric_rows(ends, k)
        assert [m.epoch for m in got] == [r.epoch for r in ref_rows] == list(range(exp.train.epochs + 1))
        for m, r in zip(got, ref_rows):
            for f in FIELDS:
                a, b = getattr(m, f), getattr(r, f)
                if b is None:
                    assert a is None, (v.name, f)
                else:
                    assert a == pytest.approx(b, abs=tol, rel=tol), (v.name, m.epoch, f)
        _assert_state_equal(training.state_dict(v.name), nn.Sequential(*[mod for mod in net if not hasattr(mod, "gen")]), atol=tol)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_stacked_equals_each_variant_alone_classification(tiny_experiment, opt):
    exp = tiny_experiment(variants=VARIANTS, model={"hidden": (16, 8)}, train={**OPTIMIZERS[opt], "epochs": 3, "batch_size": 10})
    _compare(exp)


def test_stacked_equals_each_variant_alone_with_glorot_init_and_adam_epsilon(tiny_experiment):
    exp = tiny_experiment(variants=VARIANTS, model={"hidden": (16, 8), "init": "glorot_uniform"},
                          train={**OPTIMIZERS["adam"], "adam_epsilon": 1e-3, "epochs": 3, "batch_size": 10})
    _compare(exp)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_stacked_equals_each_variant_alone_regression(tiny_experiment, opt):
    exp = tiny_experiment(
        variants=VARIANTS, data={"dataset": "regression", "n_features": 6, "n_train": 40, "n_val": 24},
        model={"hidden": (8,), "activation": "tanh"}, train={**OPTIMIZERS[opt], "lr": 0.01, "epochs": 3, "batch_size": 8},
    )
    _compare(exp)


@pytest.mark.parametrize("activation", ["tanh", "gelu", "sigmoid"])
def test_stacked_equals_alone_for_each_activation(tiny_experiment, activation):
    exp = tiny_experiment(variants=VARIANTS[:1] + VARIANTS[5:7], model={"hidden": (8,), "activation": activation},
                          train={"epochs": 2})
    _compare(exp)


def test_linear_model_without_hidden_layers(tiny_experiment):
    exp = tiny_experiment(variants=(VariantConfig("b"), VariantConfig("L2", l2=0.1), VariantConfig("In", input_dropout=0.3)),
                          model={"hidden": ()}, train={"epochs": 2})
    _compare(exp)


def test_dropout_variant_masks_come_from_its_own_generator(tiny_experiment):
    """The reference reproduces the masks only with the member's generator: a different one differs."""
    exp = tiny_experiment(variants=(VariantConfig("b"), VariantConfig("Dropout", dropout=0.5)), train={"epochs": 1})
    training, _ = run_stacked(exp)
    ds = make_dataset(exp.data)
    init = initial_layers(ds.n_features, (8,), 2, 0)
    wrong = plain_mlp(init, "relu", 0.5, 0.0, member_generator(0, 0))  # the generator of variant 0
    opt = torch.optim.SGD(wrong.parameters(), lr=0.1)
    _torch_steps(exp, wrong, opt, ds, 3)
    got = training.state_dict("Dropout")["0.weight"]
    assert (got - wrong[0].weight).abs().max() > 1e-4
