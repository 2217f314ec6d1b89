"""The optimizers a run steps with: SGD, PyTorch's Adam, and Adam as Keras writes it.

``make_optimizer`` builds the base optimizer of ``train.optimizer`` without
weight decay (regularizers are applied per member by ``regtui.core.training``).
``KerasAdam`` is Keras 3's Adam update, written out so regtui can reproduce a
Keras program to float32 noise (``train.adam_formula = "keras"``).  The two
Adams differ only in where ε enters (docs/semantics.md, "Adam's ε"):

- PyTorch: ``w ← w − lr·m̂ / (√v̂ + ε)`` with ``m̂ = m/(1−β₁ᵗ)``, ``v̂ = v/(1−β₂ᵗ)``;
- Keras: ``w ← w − α·m / (√v + ε)`` with ``α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)``,

so Keras's ε acts like PyTorch's ``ε/√(1−β₂ᵗ)``: up to 31.6× larger at the
first step, the same once ``β₂ᵗ`` has decayed.  Imports torch and the config.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from torch import Tensor

from regtui.core.config import TrainConfig


def make_optimizer(params: list[Tensor], train: TrainConfig) -> torch.optim.Optimizer:
    """SGD (with momentum) for ``sgd``; Adam with ``adam_epsilon`` and ``adam_formula`` otherwise."""
    if train.optimizer != "sgd" and train.adam_formula == "keras":
        return KerasAdam(params, lr=train.lr, eps=train.adam_epsilon)
    if train.optimizer == "sgd":
        kind: type[torch.optim.Optimizer] = torch.optim.SGD
        options: dict[str, Any] = {"lr": train.lr, "momentum": train.momentum}
    else:
        kind, options = torch.optim.Adam, {"lr": train.lr, "eps": train.adam_epsilon}
    try:  # fused kernels are faster; not every build and device has them
        return kind(params, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover
        return kind(params, **options)


class KerasAdam(torch.optim.Optimizer):
    """Adam as ``keras.optimizers.Adam`` on Keras 3's torch backend computes it.

    The same operations in the same order as Keras's
    ``backend/torch/optimizers/torch_adam.py`` (amsgrad off): the step counter
    and the powers ``β^t`` in the parameters' dtype, the bias corrections
    folded into the step size ``α``, ε added to the uncorrected ``√v``.
    Defaults are Keras's (ε = 1e-7).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-7) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta_1, beta_2 = group["betas"]
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["v"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            first = params[0]
            dtype, device = first.dtype, first.device
            lr = torch.tensor(group["lr"], dtype=dtype, device=device)
            local_step = torch.tensor(states[0]["step"] + 1, dtype=dtype, device=device)
            beta_1_power = torch.pow(torch.tensor(beta_1, dtype=dtype, device=device), local_step)
            beta_2_power = torch.pow(torch.tensor(beta_2, dtype=dtype, device=device), local_step)
            alpha = lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            grads = [p.grad for p in params]
            m_list = [s["m"] for s in states]
            v_list = [s["v"] for s in states]
            torch._foreach_mul_(m_list, beta_1)
            torch._foreach_add_(m_list, grads, alpha=1 - beta_1)
            torch._foreach_mul_(v_list, beta_2)
            torch._foreach_add_(v_list, torch._foreach_mul(grads, grads), alpha=1 - beta_2)
            torch._foreach_add_(
                params,
                torch._foreach_div(
                    torch._foreach_mul(m_list, alpha),
                    torch._foreach_add(torch._foreach_sqrt(v_list), group["eps"]),
                ),
                alpha=-1,
            )
            for state in states:
                state["step"] += 1
        return loss
