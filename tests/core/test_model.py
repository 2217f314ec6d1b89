"""The stacked model: initial weights, plain layout, inverted dropout on/off."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from regtui.core.model import StackedMLP, dropout_mask, initial_layers, layer_sizes, plain_mlp


def test_initial_layers_follow_torch_default_linear_init():
    layers = initial_layers(5, (16, 8), 3, seed=1)
    assert [tuple(w.shape) for w, _ in layers] == [(5, 16), (16, 8), (8, 3)]
    assert [tuple(b.shape) for _, b in layers] == [(16,), (8,), (3,)]
    for (w, b), (fan_in, _) in zip(layers, layer_sizes(5, (16, 8), 3)):
        bound = 1 / math.sqrt(fan_in)
        assert w.abs().max() <= bound and b.abs().max() <= bound
        assert w.abs().max() > 0.8 * bound  # spread over the range, not squeezed
    again = initial_layers(5, (16, 8), 3, seed=1)
    other = initial_layers(5, (16, 8), 3, seed=2)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(layers, again))
    assert not torch.equal(layers[0][0], other[0][0])


def test_plain_mlp_layout_and_forward():
    layers = initial_layers(4, (8, 6), 3, seed=0)
    net = plain_mlp(layers, "tanh")
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    x = torch.randn(7, 4)
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = torch.tanh(h)
    torch.testing.assert_close(net(x), h)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "sigmoid"])
def test_stacked_forward_equals_plain_members(activation):
    members = [initial_layers(3, (8, 4), 2, seed=s) for s in range(3)]
    gens = [torch.Generator().manual_seed(i) for i in range(3)]
    model = StackedMLP(members, activation, [0.0] * 3, [0.0] * 3, gens)
    x = torch.randn(10, 3)
    out = model(x)
    assert out.shape == (3, 10, 2)
    for k in range(3):
        torch.testing.assert_close(out[k], plain_mlp(members[k], activation)(x))
        state = model.member_state_dict(k)
        ref = plain_mlp(members[k], activation).state_dict()
        assert list(state) == list(ref)
        for key in ref:
            assert torch.equal(state[key], ref[key])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_is_inverted_with_drop_probability_p(p):
    gen = torch.Generator().manual_seed(0)
    mask = dropout_mask((200_000,), p, gen, torch.device("cpu"))
    values = set(mask.unique().tolist())
    scale = torch.tensor(1.0 / (1.0 - p), dtype=torch.float32).item()
    assert values == {0.0, scale}
    dropped = float((mask == 0).float().mean())
    sigma = math.sqrt(p * (1 - p) / mask.numel())
    assert abs(dropped - p) < 5 * sigma
    assert float(mask.mean()) == pytest.approx(1.0, abs=5 * sigma / (1 - p))


def _identity_members(d: int, n_layers: int) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    """Layers that pass x through unchanged (for x > 0 under relu)."""
    return [[(torch.eye(d), torch.zeros(d)) for _ in range(n_layers)] for _ in range(2)]


@pytest.mark.parametrize("where", ["hidden", "input"])
def test_stacked_dropout_scales_kept_units_by_exactly_1_over_1_minus_p(where):
    d, p = 64, 0.25
    gens = [torch.Generator().manual_seed(10), torch.Generator().manual_seed(11)]
    if where == "hidden":
        model = StackedMLP(_identity_members(d, 2), "relu", [0.0, p], [0.0, 0.0], gens)
    else:
        model = StackedMLP(_identity_members(d, 1), "relu", [0.0, 0.0], [0.0, p], gens)
    x = torch.rand(32, d) + 0.5  # positive: relu is the identity
    model.train()
    model.requires_grad_(False)
    out = model(x)
    torch.testing.assert_close(out[0], x, atol=0, rtol=0)  # the p = 0 member is untouched
    kept = out[1] != 0
    scale = torch.tensor(1.0 / (1.0 - p))
    torch.testing.assert_close(out[1][kept], (x * scale)[kept], atol=0, rtol=1e-6)
    dropped = 1 - float(kept.float().mean())
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / kept.numel())
    # mean over many draws is the identity (that is what inverted scaling is for)
    total = torch.zeros_like(x)
    draws = 400
    for _ in range(draws):
        total += model(x)[1]
    torch.testing.assert_close(total / draws, x, atol=0, rtol=0.2)  # 7 sigma per unit
    assert float(((total / draws) / x).mean()) == pytest.approx(1.0, abs=0.01)
    # off in eval: exactly the no-dropout model, every time
    model.eval()
    torch.testing.assert_close(model(x)[1], x, atol=0, rtol=0)
    torch.testing.assert_close(model(x)[1], x, atol=0, rtol=0)


def test_dropout_is_off_in_eval_for_stacked_and_plain():
    layers = initial_layers(3, (16, 16), 2, seed=3)
    gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    model = StackedMLP([layers, layers], "relu", [0.0, 0.5], [0.0, 0.3], gens)
    x = torch.randn(20, 3)
    reference = plain_mlp(layers, "relu")(x)
    model.train()
    assert not torch.allclose(model(x)[1], reference)  # active in training
    model.eval()
    out = model(x)
    torch.testing.assert_close(out[0], reference)
    torch.testing.assert_close(out[1], reference)
    dropped = plain_mlp(layers, "relu", 0.5, 0.3, torch.Generator().manual_seed(0))
    dropped.train()
    assert not torch.allclose(dropped(x), reference)
    dropped.eval()
    torch.testing.assert_close(dropped(x), reference)


def test_plain_mlp_draws_the_same_masks_as_the_stacked_member():
    layers = initial_layers(3, (8, 8), 2, seed=0)
    model = StackedMLP([layers, layers], "relu", [0.2, 0.5], [0.1, 0.3],
                       [torch.Generator().manual_seed(5), torch.Generator().manual_seed(6)])
    plain = plain_mlp(layers, "relu", 0.5, 0.3, torch.Generator().manual_seed(6))
    model.train()
    plain.train()
    x = torch.randn(12, 3)
    for _ in range(3):
        torch.testing.assert_close(model(x)[1], plain(x))
    assert isinstance(plain, nn.Sequential)


def test_glorot_uniform_init_is_keras_dense_default():
    """Keras's Dense default: kernels U(±√(6/(fan_in+fan_out))), biases zero."""
    layers = initial_layers(300, (200, 100), 10, seed=4, init="glorot_uniform")
    for (w, b), (fan_in, fan_out) in zip(layers, layer_sizes(300, (200, 100), 10)):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert torch.equal(b, torch.zeros(fan_out))
        assert float(w.abs().max()) <= bound
        assert float(w.abs().max()) > 0.99 * bound  # spread over the whole range
        n = w.numel()
        # U(-a, a): mean 0, variance a²/3 = 2/(fan_in+fan_out) (Glorot's target), 5 sigma
        assert abs(float(w.mean())) < 5 * bound / math.sqrt(3 * n)
        var = float(w.double().var())
        assert var == pytest.approx(2.0 / (fan_in + fan_out), rel=5 * math.sqrt(0.8 / n))
    torch_init = initial_layers(300, (200, 100), 10, seed=4)
    assert float(torch_init[0][0].abs().max()) <= 1 / math.sqrt(300) < 0.99 * math.sqrt(6 / 500)
    assert float(torch_init[0][1].abs().max()) > 0  # PyTorch's biases are not zero
    again = initial_layers(300, (200, 100), 10, seed=4, init="glorot_uniform")
    assert all(torch.equal(a[0], c[0]) for a, c in zip(layers, again))


def test_unknown_init_is_refused():
    with pytest.raises(ValueError):
        initial_layers(3, (4,), 2, seed=0, init="he")


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "sigmoid"])
@pytest.mark.parametrize("per_member_batches", [False, True])
def test_written_out_backward_is_autograds_gradient_of_each_plain_member(activation, per_member_batches):
    """``forward_train`` + ``backward`` against autograd on ``plain_mlp``, member by member:
    the same outputs and masks, the gradient of ``Σ_b g·out`` for every weight and bias."""
    sizes = (5, (9, 7), 3)
    members = [initial_layers(*sizes, seed=s) for s in range(4)]
    drops, input_drops = [0.0, 0.5, 0.0, 0.3], [0.0, 0.0, 0.2, 0.4]
    model = StackedMLP(members, activation, drops, input_drops, [torch.Generator().manual_seed(10 + k) for k in range(4)])
    x = torch.randn(4, 11, 5) if per_member_batches else torch.randn(11, 5)
    for _ in range(2):  # the second step reuses the cached buffers
        grad_out = torch.randn(4, 11, 3)
        out = model.forward_train(x)
        grad = model.backward(grad_out.clone())
        for k in range(4):
            plain = plain_mlp(members[k], activation, drops[k], input_drops[k], torch.Generator().manual_seed(10 + k))
            plain.train()
            if _:  # the plain member's generator catches up with the first step's draws
                plain(x[k] if per_member_batches else x)
            ref = plain(x[k] if per_member_batches else x)
            torch.testing.assert_close(out[k], ref, atol=1e-6, rtol=1e-5)
            (ref * grad_out[k]).sum().backward()
            lins = [m for m in plain if isinstance(m, nn.Linear)]
            expected = torch.cat([lin.weight.grad.T.flatten() for lin in lins] + [lin.bias.grad for lin in lins])
            torch.testing.assert_close(grad[k], expected, atol=1e-6, rtol=1e-5)
            assert grad[k].abs().max() > 0.01  # a gradient, not zeros


def test_backward_of_one_member_does_not_depend_on_the_others():
    """Member 0 alone and member 0 stacked with others: the same gradient, bit for bit."""
    a, b = initial_layers(6, (16,), 4, seed=0), initial_layers(6, (16,), 4, seed=1)
    x, g = torch.randn(8, 6), torch.randn(8, 4)
    alone = StackedMLP([a], "relu", [0.5], [0.0], [torch.Generator().manual_seed(3)])
    stacked = StackedMLP([a, b, b], "relu", [0.5, 0.5, 0.0], [0.0, 0.2, 0.0],
                         [torch.Generator().manual_seed(s) for s in (3, 4, 5)])
    alone.forward_train(x)
    stacked.forward_train(x)
    assert torch.equal(alone.backward(g[None].clone())[0], stacked.backward(g[None].expand(3, -1, -1).clone())[0])
