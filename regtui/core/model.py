"""The networks: K MLP members stacked into one model, and the plain reference.

``StackedMLP`` holds weights shaped ``[K, in, out]`` and runs every member in
one ``baddbmm`` per layer; each member has its own drop probabilities and its
own dropout random generator, so its masks do not depend on the others.  All
its weights and biases are views into one ``[K, P]`` tensor (``flat``, a row
per member, every weight matrix first, then every bias): the optimizer and
the regularizers update every tensor of every member in one torch call each.

Training does not go through autograd: ``forward_train`` runs the batch and
keeps what the backward pass needs, ``backward`` is the chain rule written
out (per layer one ``bmm`` for the weights' gradient, a ``sum`` for the
bias's, one ``bmm`` and the activation's and dropout's derivative for the
layer below) and leaves the gradient in ``grad``, the ``[K, P]`` buffer in
``flat``'s layout.  Every member's gradient is its own ``bmm`` slice, so it
does not depend on the others; tests/core/test_model.py checks it against
autograd on ``plain_mlp``.  Autograd cost more than the arithmetic on these
small nets (a graph per step, a gradient tensor per view, then a ``cat``;
benchmarks/README.md, issue 20, third step).
``plain_mlp`` builds the same member as an ``nn.Sequential`` (used by tests as
the reference answer, and for saved ``state_dict`` layouts).

Dropout is inverted dropout (kept units scaled by 1/(1-p)), drawn as
``rand >= p`` from the member's generator, after every hidden activation;
input dropout acts on the features.  Both are off in eval mode.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": nn.functional.gelu,
    "sigmoid": torch.sigmoid,
}
ACTIVATIONS_IN_PLACE = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "gelu": nn.functional.gelu,  # no in-place form (its backward needs the input)
    "sigmoid": torch.sigmoid_,
}
"""The same functions writing over their input: a layer's pre-activation is not
kept for backward (``baddbmm`` saves its inputs, relu/tanh/sigmoid their output),
so overwriting it saves allocating (and page-faulting) one ``[K, B, width]``
tensor per hidden layer: 2.4× faster relu at K=16, B=1000 (benchmarks/README.md)."""
MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}
_aten = torch.ops.aten
DERIVATIVES = {
    "relu": lambda grad, a, z: _aten.threshold_backward(grad, a, 0),
    "tanh": lambda grad, a, z: _aten.tanh_backward(grad, a),
    "sigmoid": lambda grad, a, z: _aten.sigmoid_backward(grad, a),
    "gelu": lambda grad, a, z: _aten.gelu_backward(grad, z),
}
"""``∂loss/∂z`` of a hidden layer from ``∂loss/∂a`` (``a = act(z)``): autograd's own
derivative kernels, given the activation's output ``a`` (relu, tanh, sigmoid) or its
input ``z`` (gelu, which is not computed in place, so ``z`` survives)."""


def layer_sizes(n_in: int, hidden: Sequence[int], n_out: int) -> list[tuple[int, int]]:
    sizes = [n_in, *hidden, n_out]
    return list(zip(sizes[:-1], sizes[1:]))


def initial_layers(
    n_in: int, hidden: Sequence[int], n_out: int, seed: int, init: str = "torch",
) -> list[tuple[Tensor, Tensor]]:
    """The initial weights of one seed, drawn from their own generator.

    ``init = "torch"``: PyTorch's default ``nn.Linear`` init, weights and biases
    U(±1/√fan_in).  ``init = "glorot_uniform"``: Keras's ``Dense`` default,
    weights U(±√(6/(fan_in+fan_out))) and zero biases.  Returns
    ``(W [in, out], b [out])`` per layer; every member of a seed starts here.
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for fan_in, fan_out in layer_sizes(n_in, hidden, n_out):
        if init == "glorot_uniform":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound
            b = torch.zeros(fan_out)
        elif init == "torch":
            bound = 1.0 / math.sqrt(fan_in)
            w = (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound
            b = (torch.rand(fan_out, generator=gen) * 2 - 1) * bound
        else:
            raise ValueError(f"unknown init {init!r}")
        out.append((w, b))
    return out


def dropout_mask(shape: Sequence[int], p: float, gen: torch.Generator, device: torch.device) -> Tensor:
    """Inverted-dropout multiplier: 0 with probability p, else 1/(1-p)."""
    keep = torch.rand(*shape, generator=gen, device=device) >= p
    return keep.to(torch.float32) * (1.0 / (1.0 - p))


class MemberDropout(nn.Module):
    """Dropout drawing from one member's generator, exactly as ``StackedMLP`` does."""

    def __init__(self, p: float, gen: torch.Generator) -> None:
        super().__init__()
        self.p = p
        self.gen = gen

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        return x * dropout_mask(x.shape, self.p, self.gen, x.device)


def plain_mlp(
    layers: list[tuple[Tensor, Tensor]],
    activation: str,
    dropout: float = 0.0,
    input_dropout: float = 0.0,
    gen: torch.Generator | None = None,
) -> nn.Sequential:
    """One member as ``nn.Sequential`` with the given initial weights."""
    gen = gen or torch.Generator()
    mods: list[nn.Module] = []
    if input_dropout:
        mods.append(MemberDropout(input_dropout, gen))
    for i, (w, b) in enumerate(layers):
        lin = nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(w.T)
            lin.bias.copy_(b)
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(MODULES[activation]())
            if dropout:
                mods.append(MemberDropout(dropout, gen))
    return nn.Sequential(*mods)


class StackedMLP(nn.Module):
    """K members in one model: ``forward(x [B, in]) -> [K, B, out]``."""

    def __init__(
        self,
        members: Sequence[list[tuple[Tensor, Tensor]]],
        activation: str,
        dropout: Sequence[float],
        input_dropout: Sequence[float],
        generators: Sequence[torch.Generator],
    ) -> None:
        super().__init__()
        self.k = k = len(members)
        n_layers = len(members[0])
        shapes = [tuple(members[0][i][0].shape) for i in range(n_layers)]
        shapes += [(1, members[0][i][1].shape[0]) for i in range(n_layers)]
        sizes = [a * b for a, b in shapes]
        device = members[0][0][0].device
        self.flat = torch.empty(k, sum(sizes), dtype=members[0][0][0].dtype, device=device)
        """Every member's parameters, a row each: ``weights`` then ``biases``, each flattened."""
        self.grad = torch.zeros_like(self.flat)
        """The gradient in ``flat``'s layout (``backward`` fills it); also ``flat.grad``."""
        self.flat.grad = self.grad
        views: list[Tensor] = []
        self.segments: list[tuple[int, int]] = []
        """Where each of ``tensors`` lies in a row of ``flat``: ``(start, stop)``."""
        start = 0
        for shape, size in zip(shapes, sizes):
            views.append(self.flat[:, start:start + size].view(k, *shape))
            self.segments.append((start, start + size))
            start += size
        with torch.no_grad():
            for i in range(n_layers):
                views[i].copy_(torch.stack([m[i][0] for m in members]))
                views[n_layers + i].copy_(torch.stack([m[i][1] for m in members]).unsqueeze(1))
        self.tensors: tuple[Tensor, ...] = tuple(views)
        """``weights + biases``, in ``flat``'s order."""
        self.weights = self.tensors[:n_layers]
        """``[K, in, out]`` per layer."""
        self.biases = self.tensors[n_layers:]
        """``[K, 1, out]`` per layer."""
        n_weights = self.segments[n_layers - 1][1]
        self._grad_weights = self.grad[:, :n_weights]
        self._weight_grads = [torch.empty_like(w) for w in self.weights]
        """Contiguous ``[K, in, out]`` buffers the weights' gradients are computed into (a
        ``bmm`` into a column slice of ``grad`` runs member by member, 3× slower), then
        copied into ``grad`` with one ``cat``."""
        self._bias_grads = [self.grad[:, start:stop].view(k, 1, stop - start) for start, stop in self.segments[n_layers:]]
        self.activation = activation
        self.act = ACTIVATIONS_IN_PLACE[activation]
        self._derivative = DERIVATIVES[activation]
        self._saved: tuple | None = None
        """What ``forward_train`` kept for ``backward``: each layer's input, each hidden
        layer's activation, pre-activation (gelu) and dropout multiplier."""
        self.dropout = [float(p) for p in dropout]
        self.input_dropout = [float(p) for p in input_dropout]
        self.generators = list(generators)
        self._drop_cache: dict[tuple, tuple] = {}
        """(batch rows, device) -> ``_drop_plan``."""

    def _multipliers(self, batch: int, device: torch.device) -> list[Tensor | None]:
        """Each member's inverted-dropout multipliers for a batch of ``batch`` rows: per layer
        ``[K, batch, width]`` for its input (0: the features, ``i``: hidden layer ``i``'s
        activation), None where no member drops there.  Valid until the next call.

        Every layer's multiplier is a column block of one cached ``[K, N]`` buffer (the
        features' block first, then the hidden layers'), and each dropout member's
        generator draws all of its own blocks in **one** ``rand`` (they are adjacent):
        the numbers ``dropout_mask`` draws layer by layer, in the same order (a CPU
        generator's stream does not depend on how it is cut), in one call per member
        instead of one per member and layer (benchmarks/README.md, issue 20, fourth
        step).  Members with p = 0 keep ones in their blocks; then per group of layers
        with the same probabilities ``buf.ge_(p).mul_(1 / (1 - p))`` turns the draws
        into multipliers in place (a member with p = 0 keeps 1), without a boolean
        tensor (``(buf >= p) * scale`` took 98 µs at K=16, batch 32, width 128; in
        place 16 µs).
        """
        key = (batch, device)
        plan = self._drop_cache.get(key)
        if plan is None:
            plan = self._drop_cache[key] = self._drop_plan(batch, device)
        buf, draws, groups, multipliers = plan
        for k, start, stop in draws:
            torch.rand(stop - start, generator=self.generators[k], out=buf[k, start:stop])
        for block, p, scale in groups:
            block.ge_(p).mul_(scale)
        return multipliers

    def _drop_plan(self, batch: int, device: torch.device) -> tuple:
        """``_multipliers``' buffer, each member's ``(k, start, stop)`` draw, the groups of
        blocks with their ``p`` and ``1 / (1 - p)`` columns, and the per-layer views."""
        widths = [self.weights[0].shape[1]] + [w.shape[2] for w in self.weights[:-1]]
        layer_probs = [self.input_dropout] + [self.dropout] * (len(widths) - 1)
        used = [any(p > 0.0 for p in probs) for probs in layer_probs]
        offsets, n = [], 0
        for width, on in zip(widths, used):
            offsets.append(n)
            n += batch * width if on else 0
        buf = torch.ones(self.k, n, device=device)
        multipliers = [buf[:, o:o + batch * w].view(self.k, batch, w) if on else None
                       for o, w, on in zip(offsets, widths, used)]
        draws = []
        for k in range(self.k):
            mine = [(o, o + batch * w) for o, w, on, probs in zip(offsets, widths, used, layer_probs)
                    if on and probs[k] > 0.0]
            if mine:  # the features' block, then every hidden block: adjacent
                draws.append((k, mine[0][0], mine[-1][1]))
        groups = []
        for first, last, probs in ((0, 1, self.input_dropout), (1, len(widths), self.dropout)):
            blocks = [(offsets[i], offsets[i] + batch * widths[i]) for i in range(first, last) if used[i]]
            if blocks:
                p = torch.tensor(probs, dtype=torch.float32, device=device).view(-1, 1)
                scale = torch.tensor([1.0 / (1.0 - q) for q in probs], dtype=torch.float32, device=device).view(-1, 1)
                groups.append((buf[:, blocks[0][0]:blocks[-1][1]], p, scale))
        return buf, draws, groups, multipliers

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:  # type: ignore[override]
        """The weights, then the biases (views into ``flat``)."""
        return iter(self.tensors)

    def set_dropout(self, dropout: Sequence[float], input_dropout: Sequence[float]) -> None:
        """New drop probabilities per member (a schedule entry); the mask cache starts over."""
        self.dropout = [float(p) for p in dropout]
        self.input_dropout = [float(p) for p in input_dropout]
        self._drop_cache.clear()

    def forward(self, x: Tensor) -> Tensor:
        """``x [B, in]`` (every member) or ``[K, B, in]`` (one batch each) -> ``[K, B, out]``;
        dropout on in training mode (keeping nothing for ``backward``)."""
        if self.training:
            return self._forward(x, keep=False)
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.k, -1, -1)
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = self.act(h)
        return h

    def forward_train(self, x: Tensor) -> Tensor:
        """``forward`` in training mode (dropout on), keeping what ``backward`` needs."""
        return self._forward(x, keep=True)

    def _forward(self, x: Tensor, keep: bool) -> Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.k, -1, -1)
        multipliers = self._multipliers(x.shape[1], x.device)
        h = x if multipliers[0] is None else x * multipliers[0]
        inputs, hidden = [h], []
        last = len(self.weights) - 1
        keep_z = self.activation == "gelu"
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = torch.baddbmm(b, h, w)
            if i == last:
                if keep:
                    self._saved = (inputs, hidden)
                return z
            a = self.act(z)  # in place but gelu: z is overwritten
            multiplier = multipliers[i + 1]
            if multiplier is None:
                h = a
            elif self.activation == "relu":  # relu's derivative reads a > 0, the same as a·m > 0 where m ≠ 0
                h = a.mul_(multiplier)
            else:
                h = a * multiplier
            hidden.append((a, z if keep_z else None, multiplier))
            inputs.append(h)
        raise AssertionError("unreachable")  # pragma: no cover

    def backward(self, grad_out: Tensor) -> Tensor:
        """The gradient of ``Σ_b grad_out[k, b] · out[k, b]`` for every member, from the last
        ``forward_train``, written into ``grad`` (returned)."""
        if self._saved is None:
            raise RuntimeError("backward needs a forward_train first")
        inputs, hidden = self._saved
        self._saved = None
        g = grad_out
        for i in range(len(self.weights) - 1, -1, -1):
            torch.bmm(inputs[i].transpose(1, 2), g, out=self._weight_grads[i])
            torch.sum(g, 1, keepdim=True, out=self._bias_grads[i])
            if i:
                a, z, multiplier = hidden[i - 1]
                g = torch.bmm(g, self.weights[i].transpose(1, 2))
                if multiplier is not None:
                    g.mul_(multiplier)
                g = self._derivative(g, a, z)
        torch.cat([w.view(self.k, -1) for w in self._weight_grads], 1, out=self._grad_weights)
        return self.grad

    def member_state_dict(self, k: int) -> dict[str, Tensor]:
        """Member ``k`` in the key layout of ``plain_mlp`` (without dropout modules)."""
        state = {}
        index = 0
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"{index}.weight"] = w[k].detach().T.contiguous().cpu()
            state[f"{index}.bias"] = b[k, 0].detach().clone().cpu()
            index += 2  # Linear, activation
        return state
