"""The training loop: one generator that the lab and ``regtui run`` both consume.

``Training(experiment)`` loads the data and builds every variant as a member
of one ``StackedMLP``; ``Training.events()`` yields ``EpochEnd`` for epoch 0
(the initial weights) and after every epoch, and a ``BatchEnd`` after every
batch, so a consumer that stops iterating pauses or stops within one batch.

One step (``Training._step``) reads top to bottom: the forward pass, the data
loss per member and its gradient at the output, the divergence guard,
backward (written out in ``StackedMLP.backward``, no autograd), the
regularizers, the optimizer, the frozen members held in place.  Its two named pieces live here too:
``Regularizers`` holds each member's coefficients (coupled L2 adds ``2λw`` to
the gradient and ``λΣw²`` to the reported objective; decoupled decay scales
``w ← w − lr·η·w`` before the update, as ``torch.optim.AdamW`` does) and
``DivergenceGuard`` the limit, the alive mask and the frozen copy (a member
whose loss turns NaN/inf or exceeds ``BLOWUP`` × its epoch-0 loss stops; the
others go on).  Batches come from a seeded ``randperm`` that dropout never
touches.  On CUDA (``train.cuda_graph``) every full-size batch's step is
``_static_step`` — the same step with nothing read back to the host — replayed
as a CUDA graph (``regtui.core.cuda_graph``); on the CPU every step is
``_step``.  What every knob and metric means: docs/semantics.md.
"""

from __future__ import annotations

import time
from typing import Iterator, Sequence

import torch
from torch import Tensor

from regtui.core import cuda_graph, memory
from regtui.core.config import Experiment, VariantConfig, covered_layers, lr_at_epoch
from regtui.core.data import Dataset, make_dataset
from regtui.core.model import StackedMLP, initial_layers
from regtui.core.optimizers import make_optimizer
from regtui.core.run_types import BatchEnd, EpochEnd, EpochMetrics, Event, Member, RunStatus, dropout_seed, plan_members

BLOWUP = 1000.0
"""A member diverges when its loss turns NaN/inf or exceeds BLOWUP × its epoch-0
training loss (floored at 0.01): lr = 100 explodes without ever reaching NaN."""


def configure_torch() -> None:
    """One intra-op thread (``REGTUI_THREADS`` overrides): fastest for small nets
    on few cores, and it leaves a core to the UI (PERFORMANCE.md)."""
    import os

    torch.set_num_threads(max(1, int(os.environ.get("REGTUI_THREADS", "1") or 1)))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from regtui.core.config import ConfigError

        raise ConfigError("train.device", "cuda was asked for, but no CUDA device is available")
    return torch.device(name)


# --------------------------------------------------------------------------- the step's pieces

class Regularizers:
    """Each member's coupled L2 (λ) and decoupled decay (η), per layer's weights and biases.

    A member's coefficient is its variant's λ (η) on the layers its
    ``l2_layers`` (``weight_decay_layers``) cover, on biases only with
    ``l2_biases``, and 0 elsewhere.

    Built once from the members' variants and the model's layout
    (``StackedMLP.segments``): consecutive tensors with the same coefficients
    form one *run*, a column slice ``[:, start:stop]`` of the model's ``[K, P]``
    parameters with one ``[K, 1]`` coefficient column, so each regularizer is a
    few torch calls per run (usually one run: the hidden or all weight
    matrices) whatever the number of layers.  A tensor no member regularizes is
    in no run, so a run without L2 or decay pays nothing for them.
    """

    def __init__(self, variants: Sequence[VariantConfig], model: StackedMLP) -> None:
        n_layers = len(model.weights)
        device = model.flat.device
        columns: dict[tuple[float, ...], Tensor] = {}

        def column(values: list[float]) -> Tensor | None:
            if not any(values):
                return None
            key = tuple(values)
            if key not in columns:
                columns[key] = torch.tensor(values, dtype=torch.float32, device=device).view(-1, 1)
            return columns[key]

        def per_tensor(strength: str, layers: str) -> list[Tensor | None]:
            """Per tensor of ``model.tensors`` (weights, then biases): each member's coefficient
            where its variant covers that tensor, else 0."""
            covered = [covered_layers(getattr(v, layers), n_layers) for v in variants]
            return [column([getattr(v, strength) if i in cover and (v.l2_biases or not biases) else 0.0
                            for v, cover in zip(variants, covered)])
                    for biases in (False, True) for i in range(n_layers)]

        def runs(coefs: list[Tensor | None]) -> tuple[tuple[int, int, Tensor], ...]:
            out: list[tuple[int, int, Tensor]] = []
            for (start, stop), c in zip(model.segments, coefs):
                if c is None:
                    continue
                if out and out[-1][1] == start and out[-1][2] is c:
                    out[-1] = (out[-1][0], stop, c)
                else:
                    out.append((start, stop, c))
            return tuple(out)

        self.l2 = runs(per_tensor("l2", "l2_layers"))
        """``(start, stop, λ [K, 1])`` per run of L2-penalized tensors."""
        self.decay = runs(per_tensor("weight_decay", "weight_decay_layers"))
        """``(start, stop, η [K, 1])`` per run of decayed tensors."""
        self.any_l2 = bool(self.l2)
        self._twice = tuple(2 * c for _, _, c in self.l2)
        """``2λ`` per run: the penalty's gradient's coefficient."""
        self.any_decay = bool(self.decay)
        self._factors: tuple[float, tuple[Tensor, ...]] | None = None
        """``(lr, 1 − lr·η per run)``: the decay's factors, made again when lr changes."""

    @torch.no_grad()
    def penalty(self, model: StackedMLP) -> Tensor:
        """``λ·Σw²`` per member ``[K]`` over the tensors its variant penalizes (zeros without L2):
        per run ``λ·‖w‖²``, the norm one read of the weights (``vector_norm``) without a
        weight-sized temporary (``(λ·w)·w`` summed was three passes and a fresh tensor:
        784-input K=4 0.45 ms a step; benchmarks/README.md, issue 20, fourth step)."""
        total = torch.zeros(model.k, device=model.flat.device)
        for start, stop, c in self.l2:
            norm = torch.linalg.vector_norm(model.flat[:, start:stop], dim=1)
            total.addcmul_(norm.mul_(norm), c.view(-1))
        return total

    @torch.no_grad()
    def add_l2_gradient(self, model: StackedMLP) -> Tensor:
        """``grad += 2λ·w``, the penalty's gradient added instead of differentiated (one
        ``addcmul_`` per run); returns the penalty of the same weights (``penalty``)."""
        for (start, stop, _), twice in zip(self.l2, self._twice):
            model.grad[:, start:stop].addcmul_(model.flat[:, start:stop], twice)
        return self.penalty(model)

    @torch.no_grad()
    def apply_decay(self, model: StackedMLP, lr: float) -> None:
        """``w ← w − lr·η·w`` on the pre-update weights (the optimizer's step follows)."""
        if self._factors is None or self._factors[0] != lr:
            self._factors = (lr, tuple(1 - lr * c for _, _, c in self.decay))
        for (start, stop, _), factor in zip(self.decay, self._factors[1]):
            model.flat[:, start:stop].mul_(factor)


class DivergenceGuard:
    """Which members still train, and what stops one (docs/semantics.md, divergence).

    ``limit``: per member, the loss above which it counts as diverged
    (``BLOWUP`` × its epoch-0 training loss, floored at 0.01; infinite until
    epoch 0 is measured).  ``alive``: the members still training; a stopped
    member's loss is left out of backward.  The frozen copy: the weights of
    the moment a member stopped, put back after every step, because the
    optimizer (momentum, Adam's moments, decay) would move it on without a
    gradient.
    """

    def __init__(self, k: int, device: torch.device) -> None:
        self.alive = torch.ones(k, dtype=torch.bool, device=device)
        self.limit = torch.full((k,), float("inf"), device=device)
        self._finite_limit = self.limit.clamp(max=torch.finfo(self.limit.dtype).max)
        """``limit``, infinity lowered to the largest float: ``loss <= _finite_limit`` is False
        exactly for a loss that is NaN, infinite or above the limit (losses are ≥ 0)."""
        self.diverged_at: dict[int, int] = {}
        """Member index -> the epoch in which it diverged."""
        self._frozen: list[Tensor] | None = None
        self.pending: Tensor | None = None
        """``[K]`` bool, with ``prepare_on_device``: members ``stop_on_device`` stopped that
        ``collect`` has not yet reported (None without)."""

    def set_limit(self, initial_train_loss: Tensor) -> None:
        """The limits from epoch 0's training loss, written into the tensors in place (a
        captured step reads them where they are)."""
        self.limit.copy_(BLOWUP * torch.clamp(initial_train_loss, min=0.01))
        self._finite_limit.copy_(self.limit.clamp(max=torch.finfo(self.limit.dtype).max))

    def exceeded(self, loss: Tensor, *also_finite: Tensor) -> Tensor:
        """``[K]`` bool: live members whose ``loss`` (≥ 0) is NaN/inf or above the limit,
        or one of ``also_finite`` is NaN/inf."""
        bad = torch.le(loss, self._finite_limit).logical_not_()
        for values in also_finite:
            bad |= ~torch.isfinite(values)
        return bad.logical_and_(self.alive)

    def stop(self, bad: Tensor, epoch: int, params: Sequence[Tensor]) -> list[int]:
        """Stop the ``bad`` members, frozen at ``params`` as they are now; returns their indices."""
        stopped = torch.nonzero(bad).flatten().tolist()
        for k in stopped:
            self.diverged_at[k] = epoch
        self.alive &= ~bad
        if self._frozen is None:
            self._frozen = [p.detach().clone() for p in params]
        else:  # in place: a captured step reads the frozen copy where it is
            for frozen, p in zip(self._frozen, params):
                frozen.copy_(p)
        return stopped

    # The same guard without a host sync, for a step that is captured (``regtui.core.cuda_graph``):
    # the frozen copy exists from the start, a stop is a ``where``, and the host learns who stopped
    # when it asks (``collect``, at the end of an epoch).

    def prepare_on_device(self, params: Sequence[Tensor]) -> None:
        """Make the frozen copy and ``pending`` before a step that uses ``stop_on_device``."""
        if self._frozen is None:
            self._frozen = [p.detach().clone() for p in params]
        if self.pending is None:
            self.pending = torch.zeros_like(self.alive)

    def stop_on_device(self, bad: Tensor, params: Sequence[Tensor]) -> None:
        """``stop`` without reading ``bad`` on the host: the ``bad`` members' rows of the
        frozen copy take ``params`` as they are now (a live member's rows are not read
        while it lives, a stopped one's equal its params: ``hold_frozen``), they leave
        ``alive`` and join ``pending``."""
        assert self._frozen is not None and self.pending is not None, "prepare_on_device first"
        for frozen, p in zip(self._frozen, params):
            frozen.copy_(torch.where(bad.view((-1,) + (1,) * (p.dim() - 1)), p, frozen))
        self.alive &= ~bad
        self.pending |= bad

    def collect(self, epoch: int) -> list[int]:
        """The members ``stop_on_device`` stopped since the last call, now diverged in
        ``epoch`` (``diverged_at``); one read of ``pending`` on the host."""
        if self.pending is None or not bool(self.pending.any()):
            return []
        stopped = torch.nonzero(self.pending).flatten().tolist()
        for k in stopped:
            self.diverged_at[k] = epoch
        self.pending.zero_()
        return stopped

    def only_alive(self, grad: Tensor) -> Tensor:
        """``grad [K, ...]`` with the stopped members' rows zeroed (in place): their loss is
        left out of backward."""
        return grad.mul_(self.alive.view((-1,) + (1,) * (grad.dim() - 1)))

    @torch.no_grad()
    def hold_frozen(self, params: Sequence[Tensor]) -> None:
        """Put the stopped members' weights back to their frozen copy."""
        if self._frozen is None:
            return
        dead = ~self.alive
        for p, frozen in zip(params, self._frozen):
            p.copy_(torch.where(dead.view((-1,) + (1,) * (p.dim() - 1)), frozen, p))


# --------------------------------------------------------------------------- the run

class Training:
    """One comparison, set up and ready to step; ``events()`` runs it."""

    def __init__(self, experiment: Experiment, dataset: Dataset | None = None,
                 members: list[Member] | None = None) -> None:
        """``members``: a part of ``plan_members(experiment)`` to train alone (a sweep
        shard on another machine); each keeps its seed and dropout generator, so its
        numbers are those it gets in the whole stack."""
        self.experiment = exp = experiment
        self.device = dev = resolve_device(exp.train.device)
        if dataset is None:
            memory.check_planned_data(exp.data)  # a generated set too large to draw: refused before drawing
        self.dataset = ds = dataset if dataset is not None else make_dataset(exp.data, exp.source_dir or None)
        self.members = members = list(members) if members is not None else plan_members(exp)
        self.memory = self._check_memory(ds, dev)
        self.names = tuple(m.name for m in members)
        self.x_train = torch.from_numpy(ds.x_train).to(dev)
        self.y_train = torch.from_numpy(ds.y_train).to(dev)
        self.x_val = torch.from_numpy(ds.x_val).to(dev)
        self.y_val = torch.from_numpy(ds.y_val).to(dev)
        self.seeds = sorted({m.seed for m in members})
        init = {s: initial_layers(ds.n_features, exp.model.hidden, ds.n_outputs, s, exp.model.init) for s in self.seeds}
        variants = [exp.variants[m.variant_index] for m in members]
        gens = [torch.Generator(device=dev).manual_seed(dropout_seed(m.seed, m.variant_index)) for m in members]
        self.model = StackedMLP(
            [[(w.to(dev), b.to(dev)) for w, b in init[m.seed]] for m in members], exp.model.activation,
            [v.dropout for v in variants], [v.input_dropout for v in variants], gens,
        )
        self.params = [self.model.flat]
        self.regularizers = Regularizers(variants, self.model)
        self.guard = DivergenceGuard(len(members), dev)
        self.shuffles = {s: torch.Generator().manual_seed(s) for s in self.seeds}
        self.member_seed_row = torch.tensor([self.seeds.index(m.seed) for m in members], device=dev)
        t = exp.train
        self.optimizer = make_optimizer(self.params, t)
        self.batch_size = min(t.batch_size, ds.x_train.shape[0])
        self.n_batches = -(-ds.x_train.shape[0] // self.batch_size)
        self.statuses = [RunStatus.RUNNING] * len(members)
        self.epochs_done = -1
        """The last epoch reported (-1 before epoch 0): ``events()`` goes on from here."""
        self.seconds = 0.0
        """Training time at that epoch."""
        self._in_epoch = False
        self._both_splits: tuple[Tensor, Tensor] | None = None
        """Both splits' rows and labels, train first (``evaluate_splits``, made at its first call)."""
        self._minus_one: dict[tuple[int, int], Tensor] = {}
        """``[K, B, 1]`` of −1/B per batch shape: the true class's term of the cross-entropy's gradient."""
        self.step_graph: cuda_graph.StepGraph | None = None
        """Runs every full-size batch's step as a CUDA graph (``use_step_graph``); None: each
        step runs eagerly (``_step``), as always on the CPU."""
        self.step_note: str | None = None
        """Why the step is not captured although ``train.cuda_graph`` asked for it (once, in words)."""
        self._batch_rows: Tensor | None = None
        self._objective: Tensor | None = None
        if dev.type == "cuda" and t.cuda_graph:
            uses_dropout = any(v.dropout or v.input_dropout or any(c.dropout or c.input_dropout for c in v.schedule)
                               for v in variants)
            reason = cuda_graph.unavailable_reason(uses_dropout)
            if reason is None:
                self.use_step_graph(cuda_graph.StepGraph(self.model.generators))
            else:
                self._fall_back(reason)

    def _check_memory(self, ds: Dataset, dev: torch.device) -> memory.RunMemory:
        """What the run will need (``regtui.core.memory``); a ``MemoryShortage`` (one line:
        how much, for what, and how much there is) before any net is built."""
        need = memory.estimate_experiment(
            self.experiment, n_features=ds.n_features, n_outputs=ds.n_outputs, n_train=len(ds.x_train),
            n_val=len(ds.x_val), regression=ds.task == "regression", on_cpu=dev.type == "cpu")
        memory.check_run_fits(need, memory.available_on(dev), "GPU memory" if dev.type == "cuda" else "memory")
        self.eval_chunk = memory.eval_chunk_rows(len(self.experiment.variants) * self.experiment.train.seeds,
                                                 (ds.n_features, *self.experiment.model.hidden, ds.n_outputs))
        """Rows evaluated at once: bounded so one chunk stays within ``memory.EVAL_BUDGET``."""
        return need

    @property
    def diverged_at(self) -> dict[int, int]:
        """Member index -> the epoch in which it diverged."""
        return self.guard.diverged_at

    def _epoch_order(self) -> Tensor:
        """This epoch's sample order: ``[n]`` with one seed, ``[K, n]`` per member with several."""
        n = self.x_train.shape[0]
        orders = [torch.randperm(n, generator=self.shuffles[s]).to(self.device) for s in self.seeds]
        if len(orders) == 1:
            return orders[0]
        return torch.stack(orders)[self.member_seed_row]

    def _sample_losses(self, out: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """Each member's data loss per sample and whether it is classified right (the first
        largest logit is the true class's, as ``argmax``; None for regression):
        ``out [K, B, C]``, ``y [B]`` -> ``[K, B]``, ``[K, B]``.

        The cross-entropy is logsumexp − the true class's logit (F.cross_entropy's
        numbers without its log_softmax, slow on CPU for a few classes), computed on
        the logits transposed to ``[K, C, B]``: reductions over a few classes are
        slow along the last dimension and fast across it (K=16, 1,150 rows, 10
        classes: ``amax`` 123 → 21 µs, ``argmax`` alone 415 µs; loss and
        accuracy 1.26 → 0.68 ms; benchmarks/README.md, issue 20, fourth step).
        Right = the true logit equals the largest, where every row has exactly one
        largest logit (no tie, no NaN); otherwise ``argmax`` decides, as before.
        The largest logit is subtracted before ``exp`` unless it is infinite or NaN
        (0 then), as ``torch.logsumexp`` does."""
        k, b = out.shape[0], out.shape[1]
        if self.dataset.task != "classification":
            return (out.squeeze(-1) - y) ** 2, None
        logits = out.transpose(1, 2).contiguous()
        top = logits.amax(1, keepdim=True)
        true = logits.gather(1, y.view(1, 1, b).expand(k, 1, b))
        if bool(logits.eq(top).sum(1).ne(1).any()):
            right = out.argmax(-1) == y
        else:
            right = true.eq(top).view(k, b)
        shift = top.nan_to_num(0.0, 0.0, 0.0)
        lse = logits.sub_(shift).exp_().sum(1, keepdim=True).log_().add_(shift)
        return lse.sub_(true).view(k, b), right

    def _data_loss_and_grad(self, out: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """The mean of the data loss per sample ``[K]`` (``_sample_losses``' numbers up to rounding) and its gradient ``∂(Σ_k loss_k)/∂out [K, B, C]``: the
        cross-entropy's ``(softmax − one-hot) / B``, the squared error's ``2·(out − y) / B``."""
        k, b = out.shape[0], out.shape[1]
        if self.dataset.task == "classification":
            index = (y.view(1, b, 1).expand(k, b, 1) if y.dim() == 1 else y.view(k, b, 1))
            # logsumexp written out (torch.logsumexp's own steps, without its care for an
            # infinite maximum: a member whose logits overflow diverges either way) so that
            # its exponentials are the softmax's numerators: 12 torch calls instead of 16
            top = out.amax(-1, keepdim=True)
            exp = torch.sub(out, top).exp_()
            total = exp.sum(-1, keepdim=True)
            lse = total.log().add_(top).squeeze(-1)
            loss = (lse - out.gather(-1, index).squeeze(-1)).mean(1)
            minus = self._minus_one.get((k, b))
            if minus is None:
                minus = self._minus_one[(k, b)] = torch.full((k, b, 1), -1.0 / b, device=out.device)
            return loss, exp.div_(total.mul_(b)).scatter_add_(-1, index, minus)  # (softmax − one-hot) / B
        diff = out.squeeze(-1) - y
        loss = (diff ** 2).mean(1)
        return loss, diff.mul_(2.0 / b).unsqueeze(-1)

    @torch.no_grad()
    def _measure(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """Eval mode, one chunk: the data loss per sample ``[K, B]`` and whether each is
        classified right ``[K, B]`` (None for regression)."""
        was_training = self.model.training
        self.model.eval()
        out = self.model(x)
        self.model.train(was_training)
        return self._sample_losses(out, y)

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """Eval-mode data loss ``[K]`` and accuracy ``[K]`` (None for regression), in chunks
        of ``eval_chunk`` rows."""
        losses, correct = [], []
        chunk = self.eval_chunk
        for start in range(0, x.shape[0], chunk):
            loss, right = self._measure(x[start:start + chunk], y[start:start + chunk])
            losses.append(loss.sum(1))
            if right is not None:
                correct.append(right.sum(1).to(torch.float32))
        n = x.shape[0]
        acc = torch.stack(correct).sum(0) / n if correct else None
        return torch.stack(losses).sum(0) / n, acc

    @torch.no_grad()
    def evaluate_splits(self) -> tuple[tuple[Tensor, Tensor | None], tuple[Tensor, Tensor | None]]:
        """``evaluate`` of the train and the validation split.  When both fit in one chunk
        they go through the model together (one forward pass instead of two: 10–30 % of
        the evaluation of small nets; benchmarks/README.md, issue 20, third step), each
        split's loss summed from its own rows as ``evaluate`` sums them."""
        n_train, n_val = self.x_train.shape[0], self.x_val.shape[0]
        if n_train + n_val > self.eval_chunk:
            return self.evaluate(self.x_train, self.y_train), self.evaluate(self.x_val, self.y_val)
        if self._both_splits is None:
            self._both_splits = (torch.cat([self.x_train, self.x_val]), torch.cat([self.y_train, self.y_val]))
        loss, right = self._measure(*self._both_splits)
        out = []
        for rows, n in ((slice(0, n_train), n_train), (slice(n_train, None), n_val)):
            acc = right[:, rows].sum(1).to(torch.float32) / n if right is not None else None
            out.append((loss[:, rows].sum(1) / n, acc))
        return out[0], out[1]

    def _stop_diverged(self, bad: Tensor, epoch: int) -> None:
        if bool(bad.any()):
            for k in self.guard.stop(bad, epoch, self.params):
                self.statuses[k] = RunStatus.DIVERGED

    def _step(self, xb: Tensor, yb: Tensor, epoch: int) -> Tensor:
        """One optimizer step for every live member; returns what each minimized ``[K]``."""
        data, grad_out = self._data_loss_and_grad(self.model.forward_train(xb), yb)
        self._stop_diverged(self.guard.exceeded(data), epoch)  # frozen at the weights that did it
        return self._descend(data, grad_out)

    def _descend(self, data: Tensor, grad_out: Tensor) -> Tensor:
        """``_step`` after the divergence guard: backward, the regularizers, the optimizer, the
        frozen members held in place; returns the objective ``[K]``."""
        model, reg = self.model, self.regularizers
        model.backward(self.guard.only_alive(grad_out))
        objective = data
        if reg.any_l2:  # the penalty of the pre-update weights, for the objective
            objective = objective + reg.add_l2_gradient(model)
        if reg.any_decay:
            reg.apply_decay(model, self.optimizer.lr)
        self.optimizer.step()
        self.guard.hold_frozen(self.params)
        return objective

    # ----------------------------------------------------------------- the step as a CUDA graph

    def use_step_graph(self, graph: cuda_graph.StepGraph) -> None:
        """Run every full-size batch's step through ``graph`` (``_static_step``); made on
        CUDA with ``train.cuda_graph``, and by the CPU tests with a stand-in backend.  A
        partial last batch still runs ``_step``."""
        n_seeds = len(self.seeds)
        shape = (self.batch_size,) if n_seeds == 1 else (len(self.members), self.batch_size)
        self._batch_rows = torch.zeros(shape, dtype=torch.int64, device=self.device)
        self._objective = torch.zeros(len(self.members), device=self.device)
        self.guard.prepare_on_device(self.params)
        self.optimizer = cuda_graph.on_device(self.optimizer)
        self.step_graph = graph

    def _static_step(self) -> None:
        """``_step`` with nothing read back to the host, so that it can be captured: the batch
        is the rows in ``_batch_rows``, the guard stops members on the device
        (``DivergenceGuard.stop_on_device``; ``collect`` reports them at the epoch's end),
        the objective lands in ``_objective``."""
        assert self._batch_rows is not None and self._objective is not None
        rows = self._batch_rows
        data, grad_out = self._data_loss_and_grad(self.model.forward_train(self.x_train[rows]), self.y_train[rows])
        self.guard.stop_on_device(self.guard.exceeded(data), self.params)
        self._objective.copy_(self._descend(data, grad_out))

    def _graph_key(self) -> tuple:
        """What a captured step baked in and a schedule may change: the lr (a number in the
        optimizer's kernels and the decay's factors), the regularizers (their coefficient
        tensors), the drop probabilities (the dropout plan's buffers)."""
        return (self.optimizer.lr, self.regularizers, tuple(self.model.dropout), tuple(self.model.input_dropout))

    def _graph_step(self, rows: Tensor) -> Tensor:
        """One step of a full-size batch through ``step_graph``; returns the objective ``[K]``."""
        assert self.step_graph is not None and self._batch_rows is not None and self._objective is not None
        self._batch_rows.copy_(rows)
        try:
            self.step_graph.run(self._static_step, self._graph_key(), self._step_state)
        except cuda_graph.ReplayDiffers as error:  # the batch's step ran eagerly: the rest too
            self.step_graph = None
            self._fall_back(f"a replay of the captured step differs from the eager step ({error})")
        except cuda_graph.CaptureFailed as error:  # the same
            self.step_graph = None
            self._fall_back(f"the step could not be captured ({error})")
        return self._objective

    def _step_state(self) -> dict[str, Tensor]:
        """What ``_static_step`` writes and the next step reads, by name: what the capture's
        check compares (``StepGraph._capture_checked``).  The parameters and their gradient,
        every tensor the optimizer holds (moments, momentum, device step counts, the lr
        tensor), the guard's (alive, pending, the frozen copy, the limits), the objective;
        not the batch rows (read only) nor the dropout masks (drawn anew each step)."""
        assert self._objective is not None
        state: dict[str, Tensor] = {"params": self.model.flat, "grad": self.model.grad}
        seen = {id(self.model.flat), id(self.model.grad)}

        def add(name: str, value: object) -> None:
            if isinstance(value, Tensor) and id(value) not in seen:
                seen.add(id(value))
                state[name] = value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    add(f"{name}[{i}]", item)

        for name, value in vars(self.optimizer).items():
            if name != "params":
                add(f"optimizer {name}", value)
        g = self.guard
        for name, value in (("alive", g.alive), ("pending", g.pending), ("frozen", g._frozen),
                            ("limit", g.limit), ("finite limit", g._finite_limit), ("objective", self._objective)):
            add(name, value)
        return state

    def _fall_back(self, reason: str) -> None:
        """Train eagerly and say why, once (``step_note``, and a ``RuntimeWarning``)."""
        import warnings

        self.step_note = f"CUDA graph off: {reason}; every step runs eagerly"
        warnings.warn(self.step_note, RuntimeWarning, stacklevel=3)

    def _collect_diverged(self, epoch: int) -> None:
        """The members a captured step stopped, marked diverged in ``epoch``."""
        for k in self.guard.collect(epoch):
            self.statuses[k] = RunStatus.DIVERGED

    @torch.no_grad()
    def _epoch_end(self, epoch: int, objective: Tensor | None, seconds: float) -> EpochEnd:
        """Measure every member on both splits, stop the diverged ones, report."""
        (train_loss, train_acc), (val_loss, val_acc) = self.evaluate_splits()
        penalty = self.regularizers.penalty(self.model)
        if objective is None:  # epoch 0: no batch yet, the objective without dropout
            objective = train_loss + penalty
        norm = torch.sqrt(sum((w * w).sum((1, 2)) for w in self.model.weights))
        if epoch == 0:
            self.guard.set_limit(train_loss)
        self._stop_diverged(self.guard.exceeded(train_loss, val_loss, objective), epoch)
        rows = torch.stack([train_loss, val_loss, objective, penalty, norm]).T.tolist()
        accs = torch.stack([train_acc, val_acc]).T.tolist() if train_acc is not None else [[None, None]] * len(rows)
        metrics: list[EpochMetrics | None] = []
        for k, ((tl, vl, obj, pen, wn), (ta, va)) in enumerate(zip(rows, accs)):
            if self.guard.diverged_at.get(k, epoch) < epoch:  # reported once, when it diverged
                metrics.append(None)
            else:
                metrics.append(EpochMetrics(epoch, tl, vl, ta, va, obj, pen, wn, vl - tl, seconds))
        return EpochEnd(epoch, tuple(metrics), tuple(self.statuses), seconds)

    def apply_schedule(self, epoch: int) -> None:
        """The schedule entries that start at ``epoch`` (docs/semantics.md, schedules):
        new L2 / decay coefficients and drop probabilities for the members of the
        variants they name, a new lr for every member; optimizer state is kept."""
        exp = self.experiment
        if any(c.epoch == epoch for v in exp.variants for c in v.schedule):
            variants = [exp.variants[m.variant_index].at_epoch(epoch) for m in self.members]
            self.regularizers = Regularizers(variants, self.model)
            self.model.set_dropout([v.dropout for v in variants], [v.input_dropout for v in variants])
        if any(c.epoch == epoch for c in exp.train.schedule):
            self.optimizer.lr = lr_at_epoch(exp.train, epoch)

    def events(self) -> Iterator[Event]:
        """Epoch 0, then per batch ``BatchEnd`` and per epoch ``EpochEnd``.

        A new call goes on after the last epoch reported (``epochs_done``), so a
        copy taken between two epochs (``regtui.core.branch.fork``) trains on
        from there; it cannot resume in the middle of an epoch."""
        if self._in_epoch:
            raise RuntimeError("a training stopped in the middle of an epoch cannot go on")
        start = time.perf_counter() - self.seconds
        epochs = self.experiment.train.epochs
        bs = self.batch_size
        if epochs == 0:
            self.statuses = [RunStatus.FINISHED] * len(self.names)
        if self.epochs_done < 0:
            self.epochs_done = 0
            yield self._epoch_end(0, None, 0.0)
        elif self.epochs_done < epochs:  # going on after a stop: stopped members train again
            self.statuses = [RunStatus.RUNNING if s == RunStatus.STOPPED else s for s in self.statuses]
        try:
            for epoch in range(self.epochs_done + 1, epochs + 1):
                self._in_epoch = True
                self.apply_schedule(epoch)
                order = self._epoch_order()
                total = torch.zeros(len(self.names), device=self.device)
                for i in range(self.n_batches):
                    idx = order[..., i * bs:(i + 1) * bs]
                    if self.step_graph is not None and idx.shape[-1] == bs:
                        total += self._graph_step(idx)
                    else:
                        total += self._step(self.x_train[idx], self.y_train[idx], epoch)
                    yield BatchEnd(epoch, i + 1, self.n_batches)
                self._collect_diverged(epoch)
                if epoch == epochs:
                    self.statuses = [RunStatus.FINISHED if s == RunStatus.RUNNING else s for s in self.statuses]
                end = self._epoch_end(epoch, total / self.n_batches, time.perf_counter() - start)
                self.epochs_done, self.seconds, self._in_epoch = epoch, end.seconds, False
                yield end
                if not bool(self.guard.alive.any()):
                    return
        finally:
            if self._in_epoch:
                self._collect_diverged(self.epochs_done + 1)
            self.statuses = [RunStatus.STOPPED if s == RunStatus.RUNNING else s for s in self.statuses]

    def state_dict(self, variant: str) -> dict[str, Tensor]:
        """A member's current weights in ``nn.Sequential`` layout (see ``plain_mlp``)."""
        return self.model.member_state_dict(self.names.index(variant))
