"""Adam's ε: ``train.adam_epsilon`` and ``train.adam_formula`` against hand-written Adams.

docs/semantics.md: PyTorch adds ε to the bias-corrected √v̂, Keras to the
uncorrected √v with the corrections folded into the step size.  The reference
here is the textbook update written element by element in float64, not
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
from regtui.core.optimizers import KerasAdam, make_optimizer
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


@pytest.mark.parametrize("formula,cls", [("torch", torch.optim.Adam), ("keras", KerasAdam)])
def test_make_optimizer_honours_epsilon_and_formula(formula, cls):
    p = nn.Parameter(torch.zeros(3))
    for name in ("adam", "adamw"):
        opt = make_optimizer([p], TrainConfig(optimizer=name, adam_epsilon=1e-7, adam_formula=formula))
        assert isinstance(opt, cls) and opt.param_groups[0]["eps"] == 1e-7
    sgd = make_optimizer([p], TrainConfig(optimizer="sgd", momentum=0.5, adam_formula=formula))
    assert isinstance(sgd, torch.optim.SGD)  # Adam's options do not touch SGD


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
