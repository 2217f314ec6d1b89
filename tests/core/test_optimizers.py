"""regtui's optimizers against PyTorch's own, and Adam's ε against hand-written Adams.

``regtui.core.optimizers`` steps without ``torch.optim.Optimizer``; its SGD and
Adam must give ``torch.optim.SGD`` / ``torch.optim.Adam``'s numbers (and Adam
with the decay applied by hand ``torch.optim.AdamW``'s), fused and foreach.
docs/semantics.md: PyTorch adds ε to the bias-corrected √v̂, Keras to the
uncorrected √v with the corrections folded into the step size.  The reference
for ε is the textbook update written element by element in float64, not
Keras's code and not regtui's.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from reference_impl import linears, shuffle_generator
from regtui.core.config import TrainConfig, VariantConfig
from regtui.core.data import make_dataset
from regtui.core.model import initial_layers, plain_mlp
from regtui.core.optimizers import CACHE_CHUNK, SGD, Adam, KerasAdam, make_optimizer
from regtui.core.training import Training

B1, B2 = 0.9, 0.999


def adam_step(w, m, v, g, t: int, lr: float, eps: float, formula: str):
    """One Adam step in float64, as the two frameworks write it; returns (w, m, v)."""
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    if formula == "keras":  # α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ); w ← w − α·m/(√v + ε)
        w = w - lr * math.sqrt(1 - B2 ** t) / (1 - B1 ** t) * m / (v.sqrt() + eps)
    else:  # w ← w − lr·m̂/(√v̂ + ε)
        w = w - lr * (m / (1 - B1 ** t)) / ((v / (1 - B2 ** t)).sqrt() + eps)
    return w, m, v


def adam_by_hand(w0: torch.Tensor, grads: list[torch.Tensor], lr: float, eps: float, formula: str) -> torch.Tensor:
    w = w0.double().clone()
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w, m, v = adam_step(w, m, v, g.double(), t, lr, eps, formula)
    return w


def _drive(opt_factory, w0: torch.Tensor, grads: list[torch.Tensor]) -> torch.Tensor:
    p = nn.Parameter(w0.clone())
    opt = opt_factory([p])
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return p.detach()


def _gradients(scale: float, steps: int = 30, seed: int = 0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    w0 = torch.randn(64, generator=gen)
    return w0, [torch.randn(64, generator=gen) * scale for _ in range(steps)]


@pytest.mark.parametrize("scale", [1.0, 1e-4, 1e-6])
def test_keras_adam_is_the_keras_formula(scale):
    """Small gradients (1e-6) make ε matter: there the two formulas part."""
    w0, grads = _gradients(scale)
    got = _drive(lambda ps: KerasAdam(ps, lr=0.01, eps=1e-7), w0, grads)
    want = adam_by_hand(w0, grads, 0.01, 1e-7, "keras")
    torch.testing.assert_close(got.double(), want, atol=2e-6, rtol=1e-5)
    other = adam_by_hand(w0, grads, 0.01, 1e-7, "torch")
    if scale == 1e-6:
        assert (want - other).abs().max() > 1e-3  # the formulas really differ here: this test can fail
    torch_opt = _drive(lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7), w0, grads)
    torch.testing.assert_close(torch_opt.double(), other, atol=2e-6, rtol=1e-5)


def test_keras_epsilon_is_torch_epsilon_over_sqrt_of_the_bias_correction():
    """The closed form: Keras's ε at step t is PyTorch's ε/√(1−β₂ᵗ)."""
    w0, grads = _gradients(1e-6)
    p = nn.Parameter(w0.clone())
    opt = torch.optim.Adam([p], lr=0.01, eps=1e-7)
    for t, g in enumerate(grads, start=1):
        opt.param_groups[0]["eps"] = 1e-7 / math.sqrt(1 - B2 ** t)
        p.grad = g.clone()
        opt.step()
    keras = _drive(lambda ps: KerasAdam(ps, lr=0.01, eps=1e-7), w0, grads)
    torch.testing.assert_close(keras, p.detach(), atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("formula,cls", [("torch", Adam), ("keras", KerasAdam)])
def test_make_optimizer_honours_epsilon_and_formula(formula, cls):
    p = nn.Parameter(torch.zeros(3))
    for name in ("adam", "adamw"):
        opt = make_optimizer([p], TrainConfig(optimizer=name, adam_epsilon=1e-7, adam_formula=formula))
        assert isinstance(opt, cls) and opt.eps == 1e-7
    sgd = make_optimizer([p], TrainConfig(optimizer="sgd", momentum=0.5, adam_formula=formula))
    assert isinstance(sgd, SGD) and sgd.momentum == 0.5  # Adam's options do not touch SGD


SHAPES = ((4, 7, 5), (4, 1, 5), (4, 5, 3), (4, 1, 3))
"""Stacked weights and biases, as the trainer hands them to the optimizer."""


def _pair(ours, theirs, steps: int = 12, decay: float = 0.0, seed: int = 1, shapes=SHAPES):
    """The same parameters and gradients through regtui's optimizer ``ours(params)`` and
    torch's ``theirs(params)``; lr is lowered half way (a schedule).  ``decay``: regtui's
    decoupled decay ``w ← w − lr·η·w`` by hand before each step.  Returns both parameter lists."""
    gen = torch.Generator().manual_seed(seed)
    start = [torch.randn(s, generator=gen) for s in shapes]
    a = [nn.Parameter(w.clone()) for w in start]
    b = [nn.Parameter(w.clone()) for w in start]
    opt_a, opt_b = ours(a), theirs(b)
    for i in range(steps):
        lr = opt_a.lr if i < steps // 2 else opt_a.lr / 2
        opt_a.lr = lr
        for group in opt_b.param_groups:
            group["lr"] = lr
        opt_a.zero_grad()
        opt_b.zero_grad()
        for p, q in zip(a, b):
            g = torch.randn(p.shape, generator=gen) * (10.0 ** -(i % 4))
            p.grad, q.grad = g.clone(), g.clone()
        if decay:
            with torch.no_grad():
                for p in a:
                    p.mul_(1 - lr * decay)
        opt_a.step()
        opt_b.step()
    return [p.detach() for p in a], [q.detach() for q in b]


@pytest.mark.parametrize("fused", [True, False])
def test_adam_gives_torch_optim_adams_numbers(fused):
    ours, theirs = _pair(lambda ps: Adam(ps, lr=0.01, eps=1e-7, fused=fused),
                         lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7, fused=fused, foreach=None if fused else True))
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)


@pytest.mark.parametrize("fused", [True, False])
def test_adam_with_the_decay_by_hand_gives_torch_optim_adamws_numbers(fused):
    ours, theirs = _pair(lambda ps: Adam(ps, lr=0.01, fused=fused),
                         lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.3, fused=fused,
                                                      foreach=None if fused else True), decay=0.3)
    moved = _pair(lambda ps: Adam(ps, lr=0.01, fused=fused), lambda ps: torch.optim.Adam(ps, lr=0.01))[1]
    for p, q, r in zip(ours, theirs, moved):
        torch.testing.assert_close(p, q, atol=1e-7, rtol=1e-6)
        assert (q - r).abs().max() > 1e-4  # the decay did something: this test can fail


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_gives_torch_optim_sgds_numbers(fused, momentum):
    ours, theirs = _pair(lambda ps: SGD(ps, lr=0.1, momentum=momentum, fused=fused),
                         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum, fused=fused,
                                                    foreach=None if fused else True))
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)


class KerasCode:
    """Keras 3's ``backend/torch/optimizers/torch_adam.py`` update (amsgrad off), copied
    call for call with ``ops`` spelled in torch, as the bit-for-bit reference."""

    def __init__(self, params, lr, eps=1e-7):
        self.params, self.lr, self.epsilon, self.beta_1, self.beta_2 = params, lr, eps, B1, B2
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.iterations = 0
        self.param_groups = [{}]

    def zero_grad(self):
        pass

    @torch.no_grad()
    def step(self):
        grads, variables = [p.grad for p in self.params], self.params
        dtype = variables[0].dtype
        lr = torch.tensor(self.param_groups[0].get("lr", self.lr), dtype=dtype)
        local_step = torch.tensor(self.iterations + 1, dtype=dtype)
        beta_1_power = torch.pow(torch.tensor(self.beta_1, dtype=dtype), local_step)
        beta_2_power = torch.pow(torch.tensor(self.beta_2, dtype=dtype), local_step)
        alpha = lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        torch._foreach_mul_(self.m, self.beta_1)
        torch._foreach_add_(self.m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(self.v, self.beta_2)
        torch._foreach_add_(self.v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        torch._foreach_add_(variables, torch._foreach_div(torch._foreach_mul(self.m, alpha),
                                                          torch._foreach_add(torch._foreach_sqrt(self.v), self.epsilon)),
                            alpha=-1)
        self.iterations += 1


def test_keras_adam_gives_keras_codes_numbers_bit_for_bit():
    ours, theirs = _pair(lambda ps: KerasAdam(ps, lr=0.01), lambda ps: KerasCode(ps, lr=0.01), steps=40)
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)


def test_keras_adam_updating_a_large_tensor_piece_by_piece_gives_keras_codes_numbers_bit_for_bit():
    """A [K, P] row block of more than two CACHE_CHUNKs (updated in pieces), one not a
    multiple of it, and a small one (updated whole)."""
    shapes = ((3, 2 * CACHE_CHUNK // 3 + 1000), (2 * CACHE_CHUNK + 7,), (5, 7))
    ours, theirs = _pair(lambda ps: KerasAdam(ps, lr=0.01), lambda ps: KerasCode(ps, lr=0.01), steps=6,
                         shapes=shapes)
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)


def test_state_tensors_are_the_per_element_state_and_scratch():
    p = [nn.Parameter(torch.zeros(s)) for s in SHAPES]
    numel = sum(x.numel() for x in p)
    for opt, states in ((Adam(p), 2), (KerasAdam(p), 3), (SGD(p, 0.1, momentum=0.9), 1), (SGD(p, 0.1), 0)):
        for x in p:
            x.grad = torch.ones_like(x)
        opt.step()
        assert sum(t.numel() for t in opt.state_tensors()) == states * numel


def _article_like(tiny_experiment, formula: str, eps: float, epochs: int):
    variants = (VariantConfig("baseline"), VariantConfig("L2", l2=1e-3, l2_layers="hidden"))
    return tiny_experiment(variants=variants, model={"hidden": (16, 8), "init": "glorot_uniform"},
                           train={"optimizer": "adam", "lr": 0.01, "batch_size": 1000, "epochs": epochs,
                                  "adam_epsilon": eps, "adam_formula": formula})


@pytest.mark.parametrize("formula,eps", [("keras", 1e-7), ("keras", 1e-2), ("torch", 1e-2)])
def test_training_with_adam_options_equals_a_plain_net_with_the_hand_written_adam(tiny_experiment, formula, eps):
    """The article's program in plain torch: a penalty on the hidden kernels in the loss,
    the formula's Adam written element by element; regtui's L2 variant matches it."""
    steps = 25
    exp = _article_like(tiny_experiment, formula, eps, steps)
    training = Training(exp)
    for _ in training.events():
        pass
    ds = make_dataset(exp.data)
    init = initial_layers(ds.n_features, (16, 8), ds.n_outputs, 0, "glorot_uniform")
    assert all(float(b.abs().max()) == 0.0 for _, b in init)
    net = plain_mlp(init, "relu").double()
    x, y = torch.from_numpy(ds.x_train).double(), torch.from_numpy(ds.y_train)
    params = list(net.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    shuffle = shuffle_generator(0)
    for t in range(1, steps + 1):
        order = torch.randperm(x.shape[0], generator=shuffle)  # full batch: the order changes nothing but noise
        loss = nn.functional.cross_entropy(net(x[order]), y[order])
        loss = loss + 1e-3 * sum((lin.weight ** 2).sum() for lin in linears(net)[:-1])
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads)):
                w, m[i], v[i] = adam_step(p, m[i], v[i], g, t, 0.01, eps, formula)
                p.copy_(w)
    state = training.state_dict("L2")
    for key, ref in net.state_dict().items():
        torch.testing.assert_close(state[key].double(), ref, atol=5e-5, rtol=1e-4, msg=key)
