"""The training step as one CUDA graph (``train.cuda_graph``, docs/semantics.md).

Small nets on a GPU are launch-bound: a step is some sixty kernels of a few
microseconds each, and the host's time to launch them is the step's time.
``StepGraph`` captures ``Training._static_step`` (the step with no host sync,
reading its batch from a static index buffer) once and then replays it: one
launch per step.  It follows the PyTorch docs (``torch.cuda.graphs``, "whole
network capture"): a few eager warm-up steps on a side stream, so every lazy
buffer (dropout plan, optimizer scratch, the decay's factors) exists before
capture; the members' dropout generators registered with the graph
(``CUDAGraph.register_generator_state``), so each replay draws the next
masks from each member's own Philox stream; and a new warm-up and capture
whenever something the graph baked in changes (the learning rate, the
regularizers' coefficients, the drop probabilities: the ``key`` of ``run``).
The warm-up steps are real training steps.

Every capture is checked before it is used (``StepGraph._capture_checked``):
from the same state, two eager steps and two replays of the new graph (the
capture's own run, then one more) must leave the same bits in every tensor
the step carries to the next one (``state``: parameters, optimizer state,
the guard's tensors, the objective) and the generators in the same state.
Two steps, not one: a number baked in at capture that should change every
step (a host step count, a Philox offset that does not advance) is right in
the first replay and wrong only in the second.  Then the state is set to the
first eager step's result, so the batch counts once whatever the verdict.
A failed capture or a replay that differs raises ``CaptureFailed`` (after
that restore: the step is done); the trainer then runs eagerly and says why
once (``Training.step_note``).  ``unavailable_reason`` is the same
decision made before any step, from what this torch offers.

``KerasAdamOnDevice`` is ``KerasAdam`` with its step count on the device (a
host count would be baked into the graph at its value of capture time): what
``torch.optim.Adam(capturable=True)`` does for PyTorch's Adam; PyTorch's own
fused Adam and SGD already keep everything they read on the device.

Written and tested without a GPU: the CPU tests run this module's logic with
a stand-in for ``torch.cuda`` (tests/core/test_cuda_graph.py); the real
capture has not been run here.  Imports torch and ``regtui.core.optimizers``.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Hashable, Protocol, Sequence

import torch
from torch import Tensor

from regtui.core.optimizers import KerasAdam, StackedOptimizer

WARMUP_STEPS = 3
"""Eager steps on a side stream before each capture (the PyTorch docs' example takes 3)."""


class CaptureFailed(RuntimeError):
    """The step could not be captured; ``str()`` says why, in one line.  The batch's
    step has run all the same (eagerly): the state is the eager step's result."""


class ReplayDiffers(CaptureFailed):
    """The captured step's replay did not give the eager step's bits; ``str()`` names
    the first tensor that differs and in which replay (1 or 2)."""


StepState = Callable[[], dict[str, Tensor]]
"""The tensors a step writes and the next step reads, by name (``Training._step_state``)."""


class Graph(Protocol):
    def replay(self) -> None: ...


class GraphBackend(Protocol):
    """What ``StepGraph`` needs of ``torch.cuda``: a seam, so its logic runs on the CPU in tests.
    Made without arguments (a copy of a ``StepGraph`` makes a new one)."""

    def warm_up(self, step: Callable[[], None]) -> None:
        """Run ``step`` once, eagerly, on a side stream."""

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> Graph:
        """Capture ``step`` (drawing from ``generators``), run it once, return the graph."""


class TorchCudaGraphs:
    """``GraphBackend`` on ``torch.cuda``: side-stream warm-up, ``torch.cuda.graph`` capture."""

    def __init__(self) -> None:
        self._stream: Any = None

    def _side_stream(self) -> Any:
        if self._stream is None:
            self._stream = torch.cuda.Stream()
        return self._stream

    def warm_up(self, step: Callable[[], None]) -> None:
        side = self._side_stream()
        side.wait_stream(torch.cuda.current_stream())  # the batch's index copy is on the current stream
        with torch.cuda.stream(side):
            step()
        torch.cuda.current_stream().wait_stream(side)

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> Graph:
        graph = torch.cuda.CUDAGraph()
        for gen in generators:
            graph.register_generator_state(gen)
        # thread_local: the lab trains in a worker thread; what other threads do is not this capture's
        with torch.cuda.graph(graph, stream=self._side_stream(), capture_error_mode="thread_local"):
            step()
        graph.replay()  # capture recorded the step without running it
        return graph


def unavailable_reason(uses_dropout: bool) -> str | None:
    """Why this torch cannot capture the step (None: it can, as far as can be told before trying)."""
    graph_class = getattr(torch.cuda, "CUDAGraph", None)
    if graph_class is None or not hasattr(torch.cuda, "graph"):
        return f"torch {torch.__version__} has no CUDA graphs"
    if uses_dropout and not hasattr(graph_class, "register_generator_state"):
        return (f"torch {torch.__version__} cannot draw each member's dropout masks from its own "
                "generator inside a CUDA graph (CUDAGraph.register_generator_state)")
    return None


class StepGraph:
    """Runs a step function as a CUDA graph: warm-up, capture, then one replay per call.

    ``run(step, key)`` runs one training step: the first ``warmup_steps`` calls
    with a new ``key`` run ``step`` eagerly (on a side stream), the next captures
    it and replays it, every further call with the same ``key`` replays.  A key
    that differs from the captured one drops the graph and starts over: the
    key holds what the graph baked in (``Training._graph_key``)."""

    def __init__(self, generators: Sequence[torch.Generator], backend: GraphBackend | None = None,
                 warmup_steps: int = WARMUP_STEPS) -> None:
        self.generators = list(generators)
        self.backend: GraphBackend = backend if backend is not None else TorchCudaGraphs()
        self.warmup_steps = warmup_steps
        self.captures = 0
        """How many times a graph was captured (a schedule's change captures again)."""
        self._graph: Graph | None = None
        self._key: Hashable = None
        self._warm = 0

    @property
    def captured(self) -> bool:
        return self._graph is not None

    def run(self, step: Callable[[], None], key: Hashable, state: StepState) -> None:
        """One step: a warm-up, a checked capture, or a replay.  Raises ``CaptureFailed``
        when the capture fails or its replay differs; the step has then run eagerly."""
        if self._graph is not None and key == self._key:
            self._graph.replay()
            return
        if key != self._key or self._graph is not None:
            self._graph, self._key, self._warm = None, key, 0
        if self._warm < self.warmup_steps:
            self.backend.warm_up(step)
            self._warm += 1
            return
        self._graph = self._capture_checked(step, state())
        self.captures += 1

    def _capture_checked(self, step: Callable[[], None], state: dict[str, Tensor]) -> Graph:
        """Capture ``step`` and check it against two eager steps from the same state (the
        module's docstring); leaves the state at the first eager step's result.  One host
        sync for the verdict."""
        start = self._snapshot(state)
        self.backend.warm_up(step)
        after_one = self._snapshot(state)
        self.backend.warm_up(step)
        after_two = self._snapshot(state)
        self._restore(state, start)
        try:
            graph = self.backend.capture_and_run(step, self.generators)
        except Exception as error:  # noqa: BLE001 - any failure of capture means: run eagerly
            self._restore(state, after_one)
            raise CaptureFailed(f"{type(error).__name__}: {error}".splitlines()[0]) from error
        first = self._differences(state, after_one)
        graph.replay()
        second = self._differences(state, after_two)
        both = first[0] + second[0]
        flags = torch.stack(both).tolist() if both else []  # the one host sync
        names = [f"{name} (replay 1)" for name in first[1]] + [f"{name} (replay 2)" for name in second[1]]
        self._restore(state, after_one)
        differs = [name for name, bad in zip(names, flags) if bad]
        if differs:
            raise ReplayDiffers(f"first in {differs[0]}, {len(differs)} tensors or generators in all")
        return graph

    def _snapshot(self, state: dict[str, Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        return [t.detach().clone() for t in state.values()], [g.get_state() for g in self.generators]

    def _restore(self, state: dict[str, Tensor], snapshot: tuple[list[Tensor], list[Tensor]]) -> None:
        tensors, generators = snapshot
        with torch.no_grad():
            for t, saved in zip(state.values(), tensors):
                t.copy_(saved)
        for g, saved in zip(self.generators, generators):
            g.set_state(saved)

    def _differences(self, state: dict[str, Tensor],
                     snapshot: tuple[list[Tensor], list[Tensor]]) -> tuple[list[Tensor], list[str]]:
        """Per tensor of ``state``, a device bool: its bits differ from ``snapshot``'s (NaN,
        −0.0 and all); then the generators, compared on the host (their states live there)."""
        tensors, generators = snapshot
        flags = [torch.ne(_bits(t), _bits(saved)).any() for t, saved in zip(state.values(), tensors)]
        names = list(state)
        for i, (g, saved) in enumerate(zip(self.generators, generators)):
            if not torch.equal(g.get_state(), saved):
                flags.append(torch.ones((), dtype=torch.bool, device=flags[0].device if flags else "cpu"))
                names.append(f"generator {i}")
        return flags, names

    def __deepcopy__(self, memo: dict[int, Any]) -> "StepGraph":
        """A copy (``regtui.core.branch.fork``) captures its own graph: a CUDA graph cannot be copied."""
        return StepGraph(copy.deepcopy(self.generators, memo), type(self.backend)(), self.warmup_steps)


def _bits(t: Tensor) -> Tensor:
    """``t``'s bytes, flat: two tensors are equal bit for bit when these are."""
    return t.detach().reshape(-1).view(torch.uint8)


class KerasAdamOnDevice(KerasAdam):
    """``KerasAdam`` with its step count on the device, so the step can be captured.

    The count is an int64 device tensor, incremented in place and cast to the
    parameters' dtype, as Keras casts ``iterations + 1``; ``α`` stays a device
    tensor (the path ``KerasAdam`` takes off the CPU), so no number is read
    back.  The same numbers as ``KerasAdam``'s on the same device
    (tests/core/test_cuda_graph.py compares them on the CPU)."""

    @classmethod
    def taking_over(cls, optimizer: KerasAdam) -> "KerasAdamOnDevice":
        """The same optimizer, state and all (moments, step count, lr), counting on the device."""
        new = cls.__new__(cls)
        new.__dict__.update(optimizer.__dict__)
        first = new.params[0]
        new._count = torch.tensor(optimizer.iterations, dtype=torch.int64, device=first.device)
        del new.__dict__["iterations"]
        new._alpha_as_number = False
        if not new._products:
            new._products = [torch.empty_like(p) for p in new.params]
        return new

    @property  # type: ignore[override]
    def iterations(self) -> int:
        """Steps taken (read back from the device)."""
        return int(self._count)

    def _next_step(self, dtype: torch.dtype, device: torch.device) -> Tensor:
        """The count, on the device: incremented in place and cast, nothing read back."""
        return self._count.add_(1).to(dtype)


def on_device(optimizer: StackedOptimizer) -> StackedOptimizer:
    """``optimizer`` in a form whose step reads nothing from the host but its Python
    constants (``KerasAdamOnDevice`` for ``KerasAdam``; SGD and PyTorch's Adam as they are)."""
    if isinstance(optimizer, KerasAdam) and not isinstance(optimizer, KerasAdamOnDevice):
        return KerasAdamOnDevice.taking_over(optimizer)
    return optimizer

