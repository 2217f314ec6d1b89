"""The optimizers a run steps with: SGD, PyTorch's Adam, and Adam as Keras writes it.

Each is a plain class over a list of tensors whose ``step()`` calls one fused
(or foreach) kernel on all of them: the stacked members' parameters are a few
large tensors, so the step is one or two torch calls.  They do not go through
``torch.optim.Optimizer``: its ``__init__`` and ``step`` import
``torch._dynamo`` on first use (as long again as ``import torch`` itself,
benchmarks/README.md, start-up), and its per-step Python is a large part of a
small net's step.  ``SGD`` and ``Adam`` call the kernels ``torch.optim.SGD`` /
``torch.optim.Adam`` call with ``fused=True`` (``torch._fused_sgd_``,
``torch._fused_adam_``), with the same arguments, so their numbers are
PyTorch's; tests/core/test_optimizers.py checks them against torch's own.

``make_optimizer`` builds the optimizer of ``train.optimizer`` without weight
decay (regularizers are applied per member by ``regtui.core.training``).
``KerasAdam`` is Keras 3's Adam update, written out so regtui can reproduce a
Keras program to float32 noise (``train.adam_formula = "keras"``).  The two
Adams differ only in where ε enters (docs/semantics.md, "Adam's ε"):

- PyTorch: ``w ← w − lr·m̂ / (√v̂ + ε)`` with ``m̂ = m/(1−β₁ᵗ)``, ``v̂ = v/(1−β₂ᵗ)``;
- Keras: ``w ← w − α·m / (√v + ε)`` with ``α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)``,

so Keras's ε acts like PyTorch's ``ε/√(1−β₂ᵗ)``: up to 31.6× larger at the
first step, the same once ``β₂ᵗ`` has decayed.  Imports torch and the config.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

from regtui.core.config import TrainConfig

BETAS = (0.9, 0.999)
CACHE_CHUNK = 65536
"""Elements per piece of ``KerasAdam``'s update: a piece of each of its five tensors
(parameters, gradient, moments, scratch) together, 1.3 MB, stays in a core's 2 MB L2
cache over the update's eight passes (measured best of 2^15..2^18; benchmarks/README.md,
issue 20, fourth step)."""


def has_fused(device: torch.device) -> bool:
    """Whether torch's fused SGD/Adam kernels run on ``device`` (CPU and CUDA do)."""
    return device.type in ("cpu", "cuda")


class StackedOptimizer:
    """What the trainer needs of an optimizer: ``lr`` (set by a schedule), ``zero_grad()``,
    ``step()`` (every tensor has a gradient), and ``state_tensors()``."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def state_tensors(self) -> list[Tensor]:
        """The per-element state (momentum, moments) and scratch: what memory estimates count."""
        return []


class SGD(StackedOptimizer):
    """``torch.optim.SGD(lr, momentum)`` (no dampening, no Nesterov, no weight decay)."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, fused: bool | None = None) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.fused = has_fused(self.params[0].device) if fused is None else fused
        self.buffers: list[Tensor] = []
        """One momentum buffer per tensor, made at the first step (empty without momentum)."""

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        first = self.momentum != 0 and not self.buffers
        if first:
            self.buffers = [torch.empty_like(g) for g in grads]
        if self.fused:
            torch._fused_sgd_(self.params, grads, self.buffers, weight_decay=0.0, momentum=self.momentum,
                              lr=self.lr, dampening=0.0, nesterov=False, maximize=False, is_first_step=first)
            return
        if self.momentum:  # torch.optim.SGD's foreach path: buf = g at the first step, then buf·μ + g
            if first:
                torch._foreach_copy_(self.buffers, grads)
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            grads = self.buffers
        torch._foreach_add_(self.params, grads, alpha=-self.lr)

    def state_tensors(self) -> list[Tensor]:
        return list(self.buffers)


class Adam(StackedOptimizer):
    """``torch.optim.Adam(lr, eps)`` with β = (0.9, 0.999), no weight decay, no amsgrad."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, eps: float = 1e-8,
                 betas: tuple[float, float] = BETAS, fused: bool | None = None) -> None:
        super().__init__(params, lr)
        self.eps, self.betas = eps, betas
        self.fused = has_fused(self.params[0].device) if fused is None else fused
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        # the step count as torch.optim.Adam keeps it: a float32 tensor per parameter, on its device
        # when fused, on the CPU otherwise
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device if self.fused else "cpu")
                      for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        beta1, beta2 = self.betas
        torch._foreach_add_(self.steps, 1)
        if self.fused:
            torch._fused_adam_(self.params, grads, self.exp_avg, self.exp_avg_sq, [], self.steps, amsgrad=False,
                               lr=self.lr, beta1=beta1, beta2=beta2, weight_decay=0.0, eps=self.eps,
                               maximize=False, grad_scale=None, found_inf=None)
            return
        # torch.optim.Adam's foreach path (capturable off), step by step
        torch._foreach_lerp_(self.exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sq, beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - beta2)
        t = self.steps[0].item()
        step_size = self.lr / (1 - beta1 ** t)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, -step_size)

    def state_tensors(self) -> list[Tensor]:
        return self.exp_avg + self.exp_avg_sq


class KerasAdam(StackedOptimizer):
    """Adam as ``keras.optimizers.Adam`` on Keras 3's torch backend computes it.

    The same operations in the same order as Keras's
    ``backend/torch/optimizers/torch_adam.py`` (amsgrad off): the step counter
    and the powers ``β^t`` in the parameters' dtype, the bias corrections
    folded into the step size ``α``, ε added to the uncorrected ``√v``.
    Defaults are Keras's (ε = 1e-7).  Written in place, with one scratch
    tensor per parameter (two off the CPU, below): the same numbers as Keras's out-of-place
    ``_foreach`` calls without allocating five fresh parameter-sized tensors
    per step (at K=16 on ``article`` 0.35 ms a step instead of 2.6 ms).  On
    the CPU ``α`` is read back as a number and the last two of Keras's passes,
    ``m·α`` and ``p − (m·α)/s``, are one ``addcdiv_(m, s, value=−α)``: its
    kernel computes ``p + (−α·m)/s``, the same roundings (a float32 product,
    then the quotient); one pass over ``[K, P]`` less, 8 instead of 9
    (benchmarks/README.md, issue 20, fourth step).  Elsewhere ``α`` stays a
    device tensor (no read back per step) and ``m·α`` goes through the scratch.
    On the CPU a tensor of more than two ``CACHE_CHUNK`` elements is updated piece
    by piece, so that the eight passes over a piece find it in the cache (784-input K=4,
    ``[4, 109386]``: 0.88 → 0.60 ms; the same numbers, as every operation is
    element by element).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = BETAS,
                 eps: float = 1e-7) -> None:
        super().__init__(params, lr)
        self.eps, self.betas = eps, betas
        self.m = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.v = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        first = self.params[0]
        self._alpha_as_number = first.device.type == "cpu"
        self._scratch = [torch.empty_like(p) for p in self.params]
        """``g²``, then ``√v + ε``."""
        self._products = [] if self._alpha_as_number else [torch.empty_like(p) for p in self.params]
        """``m·α`` where ``α`` stays a tensor (not on the CPU)."""
        self.iterations = 0
        self._powers = tuple(torch.tensor(b, dtype=first.dtype, device=first.device) for b in betas)
        self._lr: tuple[float, Tensor] | None = None

    @torch.no_grad()
    def step(self) -> None:
        first = self.params[0]
        dtype, device = first.dtype, first.device
        if self._lr is None or self._lr[0] != self.lr:
            self._lr = (self.lr, torch.tensor(self.lr, dtype=dtype, device=device))
        local_step = self._next_step(dtype, device)
        beta_1_power = torch.pow(self._powers[0], local_step)
        beta_2_power = torch.pow(self._powers[1], local_step)
        alpha = self._lr[1] * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        minus_alpha = -alpha.item() if self._alpha_as_number else None  # a float32 value: exact as a double
        for i, (p, m, v, s) in enumerate(zip(self.params, self.m, self.v, self._scratch)):
            g = p.grad
            if minus_alpha is None:
                self._update(p, g, m, v, s, alpha, None, self._products[i])
            elif p.numel() > 2 * CACHE_CHUNK and all(t.is_contiguous() for t in (p, g, m, v, s)):
                for piece in zip(*(t.view(-1).split(CACHE_CHUNK) for t in (p, g, m, v, s))):
                    self._update(*piece, alpha, minus_alpha, None)
            else:
                self._update(p, g, m, v, s, alpha, minus_alpha, None)

    def _next_step(self, dtype: torch.dtype, device: torch.device) -> Tensor:
        """Count this step; Keras's ``iterations + 1`` of it as a tensor of the parameters' dtype."""
        self.iterations += 1
        return torch.tensor(self.iterations, dtype=dtype, device=device)

    def _update(self, p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor, alpha: Tensor,
                minus_alpha: float | None, product: Tensor | None) -> None:
        """Keras's update of one tensor (or of a piece: every operation is element by element)."""
        beta_1, beta_2 = self.betas
        m.mul_(beta_1).add_(g, alpha=1 - beta_1)
        v.mul_(beta_2).add_(torch.mul(g, g, out=s), alpha=1 - beta_2)
        torch.add(torch.sqrt(v, out=s), self.eps, out=s)
        if minus_alpha is not None:
            p.addcdiv_(m, s, value=minus_alpha)  # p + (−α·m)/s: Keras's p − (m·α)/s, rounded alike
        else:
            p.addcdiv_(torch.mul(m, alpha, out=product), s, value=-1)  # p − (m·α)/s

    def state_tensors(self) -> list[Tensor]:
        return self.m + self.v + self._scratch + self._products


def make_optimizer(params: list[Tensor], train: TrainConfig) -> StackedOptimizer:
    """SGD (with momentum) for ``sgd``; Adam with ``adam_epsilon`` and ``adam_formula`` otherwise."""
    if train.optimizer == "sgd":
        return SGD(params, lr=train.lr, momentum=train.momentum)
    if train.adam_formula == "keras":
        return KerasAdam(params, lr=train.lr, eps=train.adam_epsilon)
    return Adam(params, lr=train.lr, eps=train.adam_epsilon)
