"""The training step as a CUDA graph (``regtui.core.cuda_graph``), checked on the CPU.

No GPU runs these tests.  ``EmulatedGraphs`` stands in for ``torch.cuda``'s
graphs: its capture records every aten operation the step runs, with the
tensors and Python numbers it was given (what a CUDA graph bakes in: kernels,
their pointers, their scalar arguments), and its replay runs that record
again, writing each fresh result into the tensor the capture produced (the
graph's fixed addresses); random draws come again from the generators
(a registered generator's next Philox offsets).  A read of a tensor's value on
the host (``.item()``, ``bool()``, ``nonzero``) or a tensor made from host data
inside the capture is refused, as a CUDA capture refuses it or bakes it in.
One difference: a CUDA capture runs nothing and ``StepGraph`` replays after
it; this capture runs the step while recording.

What only a GPU can check: that CUDA accepts the capture, that the replay's
dropout masks are those the eager step draws (Philox offsets), and the speed
(``benchmarks/bench_cuda.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Any, Callable, Sequence

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from regtui.core import cuda_graph
from regtui.core.config import LrChange, VariantChange, VariantConfig
from regtui.core.cuda_graph import CaptureFailed, KerasAdamOnDevice, StepGraph
from regtui.core.optimizers import KerasAdam
from regtui.core.run_types import BatchEnd, EpochEnd
from regtui.core.training import Training

aten = torch.ops.aten
HOST_READS = {aten._local_scalar_dense.default, aten.nonzero.default, aten.is_nonzero.default,
              aten.equal.default, aten.lift_fresh.default, aten.lift_fresh_copy.default}
"""Operations a captured step may not run: they read a tensor on the host, or make a
tensor from host data (a value that would be baked into the graph)."""


class HostRead(RuntimeError):
    pass


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[Any, tuple, dict, Any]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in HOST_READS:
            raise HostRead(f"{func} inside the captured step")
        out = func(*args, **kwargs)
        self.ops.append((func, args, kwargs, out))
        return out


class _Replay:
    def __init__(self, ops: list[tuple[Any, tuple, dict, Any]]) -> None:
        self.ops = ops
        self.replays = 0

    @torch.no_grad()
    def replay(self) -> None:
        for func, args, kwargs, out in self.ops:
            fresh = func(*args, **kwargs)
            outs, fresh_outs = (out, fresh) if isinstance(out, tuple) else ((out,), (fresh,))
            for ret, recorded, new in zip(func._schema.returns, outs, fresh_outs):
                if ret.alias_info is not None:  # a view or the written argument: already in place
                    continue
                if isinstance(recorded, torch.Tensor):
                    recorded.copy_(new)
                elif isinstance(recorded, list):  # _foreach_* results
                    for r, n in zip(recorded, new):
                        r.copy_(n)
        self.replays += 1


class EmulatedGraphs:
    """A ``GraphBackend`` on the CPU: warm-up runs the step, capture records it, replay reruns it."""

    def __init__(self) -> None:
        self.warmups = 0
        self.graphs: list[_Replay] = []

    def warm_up(self, step: Callable[[], None]) -> None:
        self.warmups += 1
        step()

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> _Replay:
        recorder = _Recorder()
        with recorder:
            step()
        graph = _Replay(recorder.ops)
        self.graphs.append(graph)
        return graph

    @property
    def replays(self) -> int:
        return sum(g.replays for g in self.graphs)


class RefusingGraphs(EmulatedGraphs):
    """Capture fails, as CUDA's does on an operation it cannot record."""

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> _Replay:
        raise RuntimeError("operation not permitted when stream is capturing\nsecond line")


def graphed(exp: Any, backend: EmulatedGraphs | None = None, warmup_steps: int = 1) -> tuple[Training, EmulatedGraphs]:
    training = Training(exp)
    backend = backend if backend is not None else EmulatedGraphs()
    training.use_step_graph(StepGraph(training.model.generators, backend, warmup_steps))
    return training, backend


def outcome(training: Training) -> tuple[list[Any], list[Any]]:
    """Every ``EpochEnd``'s metrics and statuses (seconds blanked), then the parameters and
    the optimizer's state (not its scratch)."""
    ends = []
    for event in training.events():
        if isinstance(event, EpochEnd):
            metrics = tuple(None if m is None else dataclasses.replace(m, seconds=0.0) for m in event.metrics)
            ends.append((event.epoch, metrics, event.statuses, dict(training.diverged_at)))
    opt = training.optimizer
    state = opt.m + opt.v if isinstance(opt, KerasAdam) else opt.state_tensors() + getattr(opt, "steps", [])
    ends.append(("iterations", getattr(opt, "iterations", None)))
    return ends, [training.model.flat.clone()] + [t.clone() for t in state]


def assert_same(a: tuple[list[Any], list[Any]], b: tuple[list[Any], list[Any]]) -> None:
    """Bit for bit: metrics compare as floats (NaN == NaN where both are), tensors with ``equal``."""
    assert len(a[0]) == len(b[0])
    for ea, eb in zip(a[0], b[0]):
        assert repr(ea) == repr(eb)
    assert len(a[1]) == len(b[1])
    for ta, tb in zip(a[1], b[1]):
        assert torch.equal(ta.nan_to_num(), tb.nan_to_num())


VARIANTS = (
    VariantConfig("baseline"),
    VariantConfig("L2", l2=0.01, l2_layers="hidden"),
    VariantConfig("decay", weight_decay=0.05, l2_biases=True),
    VariantConfig("drop", dropout=0.4, input_dropout=0.2),
    VariantConfig("L2+drop", l2=0.003, dropout=0.5),
    VariantConfig("boom", l2=1e6),
)
RECIPES = {
    "sgd": {"optimizer": "sgd", "lr": 0.05},
    "sgd-momentum": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.01},
    "adamw": {"optimizer": "adamw", "lr": 0.01},
    "keras-adam": {"optimizer": "adam", "lr": 0.01, "adam_formula": "keras", "adam_epsilon": 1e-7},
}


def _experiment(tiny_experiment: Any, recipe: dict[str, Any], **more: Any) -> Any:
    # 70 rows in batches of 16: four full batches (the graph) and a partial one of 6 (eager)
    return tiny_experiment(variants=VARIANTS, data={"n_train": 70},
                           model={"hidden": (8, 6)}, train={"batch_size": 16, "epochs": 4, **recipe, **more})


@pytest.mark.parametrize("recipe", list(RECIPES), ids=list(RECIPES))
def test_graph_replays_give_the_eager_steps_numbers(tiny_experiment, recipe):
    exp = _experiment(tiny_experiment, RECIPES[recipe])
    training, backend = graphed(exp)
    graph_run = outcome(training)
    assert backend.warmups == 1 + 2 and len(backend.graphs) == 1  # the capture's check: 2 eager steps
    # 16 full batches: one warm-up, one capture (checked: its run and one replay), the rest replays
    assert backend.replays == 4 * 4 - 2 + 1
    assert_same(graph_run, outcome(Training(exp)))
    if recipe.startswith("sgd"):  # λ = 1e6 under SGD explodes within the first epoch
        assert graph_run[0][-2][3] == {5: 1} and graph_run[0][-2][2][5] == "diverged"


def test_several_seeds_and_regression(tiny_experiment):
    exp = tiny_experiment(variants=VARIANTS[:4] + (VARIANTS[5],),
                          data={"dataset": "regression", "n_features": 5, "n_train": 45, "n_val": 16},
                          train={"optimizer": "sgd", "lr": 0.01, "momentum": 0.5, "batch_size": 8, "epochs": 3, "seeds": 2})
    training, backend = graphed(exp, warmup_steps=2)
    graph_run = outcome(training)
    assert backend.replays > 0
    assert graph_run[0][-2][3] == {8: 1, 9: 1}  # both seeds of λ = 1e6
    assert_same(graph_run, outcome(Training(exp)))


def test_a_schedule_captures_again_and_keeps_the_numbers(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["keras-adam"])
    variants = tuple(dataclasses.replace(v, schedule=(VariantChange(3, dropout=0.1),)) if v.name == "drop" else v
                     for v in exp.variants)
    exp = dataclasses.replace(exp, variants=variants,
                              train=dataclasses.replace(exp.train, schedule=(LrChange(2, 0.003),)))
    training, backend = graphed(exp)
    graph_run = outcome(training)
    assert training.step_graph is not None and training.step_graph.captures == 3  # epoch 1, the lr, the dropout
    assert_same(graph_run, outcome(Training(exp)))


def test_a_failed_capture_falls_back_to_the_eager_step_and_says_why_once(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["adam"])
    training, backend = graphed(exp, RefusingGraphs())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph_run = outcome(training)
    assert [str(w.message) for w in caught] == [
        "CUDA graph off: the step could not be captured (RuntimeError: operation not permitted when stream "
        "is capturing); every step runs eagerly"]
    assert training.step_note == str(caught[0].message)
    assert training.step_graph is None and backend.warmups == 1 + 2  # the capture's check ran 2 eager steps
    assert_same(graph_run, outcome(Training(exp)))


def test_the_emulated_capture_refuses_what_cuda_would(tiny_experiment):
    """The checks above can fail: the eager step reads the guard's verdict on the host,
    and ``KerasAdam`` makes its step count from a host number."""
    training = Training(_experiment(tiny_experiment, RECIPES["keras-adam"]))
    rows = torch.arange(16)
    training._step(training.x_train[rows], training.y_train[rows], 1)  # its lazy buffers, as a warm-up
    with pytest.raises(HostRead, match="is_nonzero|_local_scalar_dense"):
        EmulatedGraphs().capture_and_run(lambda: training._step(training.x_train[rows], training.y_train[rows], 1), [])
    with pytest.raises(HostRead, match="lift_fresh"):
        EmulatedGraphs().capture_and_run(training.optimizer.step, [])
    graph = StepGraph([], EmulatedGraphs(), warmup_steps=0)
    with pytest.raises(CaptureFailed, match="HostRead: aten.lift_fresh"):
        graph.run(training.optimizer.step, None, dict)


def test_a_baked_in_number_changes_the_replays():
    """A replay keeps the Python numbers of capture time (why ``Training._graph_key`` holds
    the lr): the emulation bakes them in as CUDA does, so the comparisons above would see
    a step that read a changed number."""
    p, g = torch.ones(5), torch.full((5,), 3.0)
    lr = [0.01]
    graph = EmulatedGraphs().capture_and_run(lambda: p.add_(g, alpha=-lr[0]), [])
    lr[0] = 0.5
    graph.replay()
    baked = torch.ones(5).add_(g, alpha=-0.01).add_(g, alpha=-0.01)
    assert torch.equal(p, baked)
    assert not torch.equal(p, torch.ones(5).add_(g, alpha=-0.01).add_(g, alpha=-0.5))


def test_keras_adam_on_device_is_keras_adam(tiny_experiment):
    torch.manual_seed(0)
    params = [torch.randn(4, 300_000), torch.randn(3, 7)]  # the first one is updated in pieces on the CPU
    grads = [[torch.randn_like(p) for p in params] for _ in range(5)]
    plain, moved = [p.clone() for p in params], [p.clone() for p in params]
    a = KerasAdam(plain, lr=0.01)
    for step in grads[:2]:
        for p, g in zip(plain, step):
            p.grad = g
        a.step()
    for p, q in zip(moved, plain):
        p.copy_(q)
    b = KerasAdamOnDevice.taking_over(a)  # takes over after two steps, sharing nothing but values
    b.params = moved
    b.m, b.v = [m.clone() for m in a.m], [v.clone() for v in a.v]
    b._scratch = [torch.empty_like(p) for p in moved]
    for step in grads[2:]:
        for p, q, g in zip(plain, moved, step):
            p.grad, q.grad = g, g.clone()
        a.step()
        b.step()
    assert a.iterations == b.iterations == 5
    for p, q in zip(plain, moved):
        assert torch.equal(p, q)
    assert cuda_graph.on_device(b) is b


def test_on_the_cpu_the_step_runs_eagerly_whatever_the_knob(tiny_experiment):
    for knob in (True, False):
        training = Training(tiny_experiment(train={"cuda_graph": knob}))
        assert training.step_graph is None and training.step_note is None


def test_what_this_torch_can_capture(monkeypatch):
    class WithoutGenerators:
        pass

    monkeypatch.setattr(torch.cuda, "CUDAGraph", WithoutGenerators)
    assert cuda_graph.unavailable_reason(uses_dropout=False) is None
    assert "register_generator_state" in cuda_graph.unavailable_reason(uses_dropout=True)
    monkeypatch.delattr(torch.cuda, "CUDAGraph")
    assert "has no CUDA graphs" in cuda_graph.unavailable_reason(uses_dropout=False)


def test_stopping_mid_epoch_reports_a_member_the_graph_stopped(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["sgd"])
    training, _ = graphed(exp)
    events = training.events()
    for event in events:
        if isinstance(event, BatchEnd) and event.batch == 4:
            break
    assert training.diverged_at == {}  # the graph's verdict stays on the device until asked
    events.close()
    assert training.diverged_at == {5: 1}
    assert training.statuses == ["stopped"] * 5 + ["diverged"]


def test_a_fork_captures_its_own_graph(tiny_experiment):
    from regtui.core.branch import fork

    exp = _experiment(tiny_experiment, RECIPES["adam"])
    training, backend = graphed(exp)
    events = training.events()
    for event in events:
        if isinstance(event, EpochEnd) and event.epoch == 2:
            break
    child = fork(training, exp)
    events.close()
    assert child.step_graph is not None and not child.step_graph.captured and training.step_graph.captured
    assert child.step_graph.backend is not backend
    assert_same(outcome(child), outcome(training))
    assert copy.deepcopy(StepGraph([])).backend is not None


def test_the_torch_backend_calls_torch_cuda_as_its_docs_say(monkeypatch):
    """``TorchCudaGraphs`` against stand-ins for ``torch.cuda`` that bind each call to the
    real function's signature: the calls, their order and their arguments (no GPU here)."""
    import inspect

    calls: list[str] = []
    graph_signature = inspect.signature(torch.cuda.graph.__init__)
    stream_signature = inspect.signature(torch.cuda.stream)
    wait_signature = inspect.signature(torch.cuda.Stream.wait_stream)

    class FakeStream:
        def __init__(self, name: str) -> None:
            self.name = name

        def wait_stream(self, other: Any) -> None:
            wait_signature.bind(self, other)
            calls.append(f"{self.name} waits for {other.name}")

    class Context:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            calls.append(f"enter {self.name}")

        def __exit__(self, *exc: Any) -> None:
            calls.append(f"exit {self.name}")

    class FakeGraph:
        def register_generator_state(self, gen: torch.Generator) -> None:
            calls.append(f"register {gen.initial_seed()}")

        def replay(self) -> None:
            calls.append("replay")

    def fake_graph(*args: Any, **kwargs: Any) -> Context:
        bound = graph_signature.bind(None, *args, **kwargs)
        assert isinstance(bound.arguments["cuda_graph"], FakeGraph)
        return Context(f"capture on {bound.arguments['stream'].name}, {bound.arguments['capture_error_mode']}")

    def fake_stream(*args: Any, **kwargs: Any) -> Context:
        return Context(f"stream {stream_signature.bind(*args, **kwargs).arguments['stream'].name}")

    current = FakeStream("current")
    monkeypatch.setattr(torch.cuda, "Stream", lambda: FakeStream("side"))
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: current)
    monkeypatch.setattr(torch.cuda, "stream", fake_stream)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", FakeGraph)
    monkeypatch.setattr(torch.cuda, "graph", fake_graph)
    backend = cuda_graph.TorchCudaGraphs()
    backend.warm_up(lambda: calls.append("step"))
    graph = backend.capture_and_run(lambda: calls.append("step"),
                                    [torch.Generator().manual_seed(5), torch.Generator().manual_seed(6)])
    assert isinstance(graph, FakeGraph)
    assert calls == ["side waits for current", "enter stream side", "step", "exit stream side",
                     "current waits for side",
                     "register 5", "register 6", "enter capture on side, thread_local", "step",
                     "exit capture on side, thread_local", "replay"]


# ------------------------------------------------------------------ the check of every capture


class _PerturbedReplay(_Replay):
    """A replay that leaves one parameter one float step off: a graph that is wrong somewhere."""

    def __init__(self, ops: list[tuple[Any, tuple, dict, Any]], target: torch.Tensor) -> None:
        super().__init__(ops)
        self.target = target

    def replay(self) -> None:
        super().replay()
        first = self.target.view(-1)[:1]
        first.copy_(torch.nextafter(first, torch.full_like(first, float("inf"))))


class PerturbingGraphs(EmulatedGraphs):
    def __init__(self, target: torch.Tensor | None = None) -> None:
        super().__init__()
        self.target = target

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> _Replay:
        assert self.target is not None
        graph = _PerturbedReplay(super().capture_and_run(step, generators).ops, self.target)
        self.graphs[-1] = graph
        return graph


class KeepsTheFirstGraph(EmulatedGraphs):
    """A capture after the first runs the step but hands back the first graph: its replays
    keep the lr of the first capture (a stale baked-in number)."""

    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> _Replay:
        if self.graphs:
            step()
            return self.graphs[0]
        return super().capture_and_run(step, generators)


class _FrozenDraws(_Replay):
    """Each replay draws the capture's masks again: a generator the graph did not register,
    its Philox offset baked in."""

    def __init__(self, ops: list[tuple[Any, tuple, dict, Any]], generators: Sequence[torch.Generator],
                 states: list[torch.Tensor]) -> None:
        super().__init__(ops)
        self.generators, self.states = generators, states

    def replay(self) -> None:
        for g, s in zip(self.generators, self.states):
            g.set_state(s)
        super().replay()


class FrozenDrawsGraphs(EmulatedGraphs):
    def capture_and_run(self, step: Callable[[], None], generators: Sequence[torch.Generator]) -> _Replay:
        states = [g.get_state() for g in generators]
        graph = _FrozenDraws(super().capture_and_run(step, generators).ops, generators, states)
        self.graphs[-1] = graph
        return graph


def _falls_back_once(training: Training) -> tuple[tuple[list[Any], list[Any]], str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = outcome(training)
    assert len(caught) == 1 and caught[0].category is RuntimeWarning
    assert training.step_note == str(caught[0].message) and training.step_graph is None
    return run, training.step_note


def test_a_replay_one_bit_off_is_caught_and_the_run_is_the_eager_one(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["adam"])
    training = Training(exp)
    backend = PerturbingGraphs(training.model.flat)
    training.use_step_graph(StepGraph(training.model.generators, backend, 1))
    run, note = _falls_back_once(training)
    assert note == ("CUDA graph off: a replay of the captured step differs from the eager step (first in params "
                    "(replay 2), 1 tensors or generators in all); every step runs eagerly")
    assert backend.replays == 1 and len(backend.graphs) == 1  # the check's replay, then eager steps only
    assert_same(run, outcome(Training(exp)))


def test_a_recapture_that_keeps_a_stale_lr_is_caught(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["adam"])
    exp = dataclasses.replace(exp, train=dataclasses.replace(exp.train, schedule=(LrChange(3, 0.002),)))
    training, backend = graphed(exp, KeepsTheFirstGraph())
    run, note = _falls_back_once(training)
    assert "differs from the eager step (first in params (replay 2)" in note
    assert training.epochs_done == 4 and len(backend.graphs) == 1
    assert_same(run, outcome(Training(exp)))


def test_replays_that_draw_the_same_dropout_masks_again_are_caught(tiny_experiment):
    exp = _experiment(tiny_experiment, RECIPES["sgd-momentum"])
    training, _ = graphed(exp, FrozenDrawsGraphs())
    run, note = _falls_back_once(training)
    assert "(replay 2)" in note and "generators in all" in note
    assert_same(run, outcome(Training(exp)))


def test_the_check_compares_bits_and_each_generator(tiny_experiment):
    """NaN against NaN is equal, −0.0 against 0.0 is not; a generator drawn from differs."""
    nan, zero = torch.tensor([float("nan"), 0.0]), torch.tensor([float("nan"), -0.0])
    gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    graph = StepGraph(gens, EmulatedGraphs())
    state = {"a": nan}
    snap = graph._snapshot(state)
    flags, names = graph._differences(state, snap)
    assert [bool(f) for f in flags] == [False] and names == ["a"]
    state["a"].copy_(zero)
    torch.rand(1, generator=gens[1])
    flags, names = graph._differences(state, snap)
    assert [bool(f) for f in flags] == [True, True] and names == ["a", "generator 1"]
