"""What a run needs in memory, checked before it starts (issue 16, item 9)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from regtui.cli import main
from regtui.core import memory
from regtui.core.config import ConfigError
from regtui.core.training import Training


def test_format_bytes() -> None:
    assert memory.format_bytes(512) == "512 B"
    assert memory.format_bytes(1536) == "1.5 KiB"
    assert memory.format_bytes(2 ** 63) == "8 EiB"


def test_available_memory_is_read_from_the_system() -> None:
    has = memory.available_bytes()
    assert has is not None and 0 < has < 2 ** 50


def test_meminfo_and_cgroup_are_parsed(tmp_path: Path) -> None:
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:  16000000 kB\nMemFree:  100 kB\nMemAvailable:   8000000 kB\n")
    assert memory._meminfo_available(info) == 8_000_000 * 1024
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("268435456\n")
    assert memory._cgroup_room(tmp_path) == 768 << 20
    (tmp_path / "memory.max").write_text("max\n")
    assert memory._cgroup_room(tmp_path) is None


@pytest.mark.parametrize("optimizer, formula, momentum, states",
                         [("adam", "torch", 0.0, 2), ("adam", "keras", 0.0, 3), ("sgd", "torch", 0.9, 1),
                          ("sgd", "torch", 0.0, 0)])
def test_parameters_and_optimizer_state_match_what_torch_allocates(tiny_experiment, optimizer: str, formula: str,
                                                                   momentum: float, states: int) -> None:
    exp = tiny_experiment(model={"hidden": (16, 8)}, train={"optimizer": optimizer, "momentum": momentum, "epochs": 1,
                                                            "adam_formula": formula})
    training = Training(exp)
    params = sum(p.numel() * p.element_size() for p in training.params)
    weights = sum(w.numel() * w.element_size() for w in training.model.weights)
    assert training.memory.parameters == params
    assert training.memory.gradients == params + weights  # the [K, P] buffer and the weights' own
    for _ in training.events():
        pass
    state = sum(t.numel() * t.element_size() for t in training.optimizer.state_tensors())
    assert training.memory.optimizer == state == states * params


def _malloc_in_use() -> int:
    """Bytes the C heap has handed out (glibc ``mallinfo2``): torch's CPU tensors live there."""
    import ctypes
    import gc

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                         "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        pytest.skip("needs glibc's mallinfo2")
    mallinfo2.restype = MallInfo2
    gc.collect()
    info = mallinfo2()
    return info.uordblks + info.hblkhd


def test_the_persistent_part_of_the_estimate_is_what_a_cpu_run_keeps_allocated(tiny_experiment) -> None:
    """After an epoch a CPU run holds its parameters, gradient buffers and optimizer state and
    scratch, and little else: measured on the C heap, it is the estimate's parameters +
    gradients + optimizer to within 5 % (without Keras's scratch or the weights' gradient
    buffers the estimate falls a third or more short)."""
    def run(formula: str, optimizer: str, momentum: float) -> tuple[int, int]:
        exp = tiny_experiment(model={"hidden": (384, 384)},
                              train={"optimizer": optimizer, "momentum": momentum, "adam_formula": formula, "epochs": 1})
        before = _malloc_in_use()
        training = Training(exp)
        for _ in training.events():
            pass
        held = _malloc_in_use() - before
        m = training.memory
        return held, m.parameters + m.gradients + m.optimizer

    run("torch", "sgd", 0.0)  # the first run's one-time allocations (kernels, thread pools) are not the run's
    for case in (("keras", "adam", 0.0), ("torch", "adam", 0.0), ("torch", "sgd", 0.9), ("torch", "sgd", 0.0)):
        held, need = run(*case)
        assert need <= held <= 1.05 * need, (case, held, need)


def test_evaluation_chunks_bound_their_own_memory() -> None:
    widths = (2, 4096, 2)
    rows = memory.eval_chunk_rows(256, widths)  # 64 variants x 4 seeds of [4096]
    assert rows < 100 and rows * memory._eval_row_bytes(256, widths) <= memory.EVAL_BUDGET
    assert memory.eval_chunk_rows(4, (2, 128, 64, 2)) == memory.EVAL_CHUNK  # small nets: unchanged


def test_a_small_evaluation_chunk_gives_the_same_losses(tiny_experiment) -> None:
    exp = tiny_experiment(data={"n_val": 500}, model={"hidden": (32,)}, train={"epochs": 0})
    training = Training(exp)
    whole = training.evaluate(training.x_val, training.y_val)
    training.eval_chunk = 7
    pieces = training.evaluate(training.x_val, training.y_val)
    for a, b in zip(whole, pieces):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dataset", ["moons", "regression"])
def test_both_splits_evaluated_at_once_give_each_split_its_own_numbers(tiny_experiment, dataset: str) -> None:
    exp = tiny_experiment(data={"dataset": dataset, "n_train": 90, "n_val": 500}, model={"hidden": (32,)},
                          train={"epochs": 0})
    training = Training(exp)
    apart = (training.evaluate(training.x_train, training.y_train), training.evaluate(training.x_val, training.y_val))
    for chunk in (memory.EVAL_CHUNK, 64):  # one pass over both splits; each split in chunks of its own
        training.eval_chunk, training._both_splits = chunk, None
        together = training.evaluate_splits()
        assert (training._both_splits is not None) == (chunk == memory.EVAL_CHUNK)
        for (loss, acc), (loss_apart, acc_apart), n in zip(together, apart, (90, 500)):
            torch.testing.assert_close(loss, loss_apart, rtol=1e-6, atol=1e-7)
            if acc is None:
                assert acc_apart is None and dataset == "regression"
            else:  # a near tie may round the other way: one sample at most
                torch.testing.assert_close(acc, acc_apart, rtol=0, atol=1.01 / n)
    train, val = apart
    assert not torch.allclose(train[0], val[0], rtol=1e-3)  # the splits differ: mixing them would show


def test_a_run_that_cannot_fit_is_refused_before_its_nets_are_built(tiny_experiment, monkeypatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 << 20)  # 100 MiB
    exp = tiny_experiment(model={"hidden": (2048, 2048)}, train={"optimizer": "adam"})
    built = []
    monkeypatch.setattr("regtui.core.training.StackedMLP", lambda *a, **k: built.append(1))
    with pytest.raises(memory.MemoryShortage) as info:
        Training(exp)
    text = str(info.value)
    assert "this run needs about" in text and "100 MiB is available" in text and "parameters 48.1 MiB" in text
    assert built == [] and "\n" not in text
    assert isinstance(info.value, ConfigError)


def test_generated_data_too_large_is_refused_before_it_is_drawn(tiny_experiment, monkeypatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 50 << 20)
    drawn = []
    monkeypatch.setattr("regtui.core.training.make_dataset", lambda *a: drawn.append(1))
    exp = tiny_experiment(data={"dataset": "regression", "n_train": 20_000, "n_features": 1000})
    with pytest.raises(memory.MemoryShortage, match=r"regression data set \(20,032 rows × 1,000 features\)"):
        Training(exp)
    assert drawn == []


def test_regtui_run_says_how_much_it_needs_and_has_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 30)
    code = main(["run", "moons-overfit", "--set", "model.hidden=[65536,65536]", "--no-history"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "needs about 385 GiB of memory" in err and "1 GiB is available" in err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_estimate_bounds_what_cuda_allocates(tiny_experiment) -> None:
    """On CUDA every byte is counted: the estimate is an upper bound of the measured
    peak, and not a wild one."""
    for hidden, seeds, dropout in (((256, 128), 1, 0.0), ((1024,), 4, 0.5), ((64, 64, 64), 2, 0.2)):
        exp = tiny_experiment(data={"n_train": 4000, "n_val": 3000}, model={"hidden": hidden},
                              train={"device": "cuda", "epochs": 2, "batch_size": 256, "seeds": seeds,
                                     "optimizer": "adam"})
        exp = replace(exp, variants=tuple(replace(v, dropout=dropout) for v in exp.variants))
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        training = Training(exp)
        for _ in training.events():
            pass
        peak = torch.cuda.max_memory_allocated() - base
        need = training.memory.total
        assert peak <= need <= 8 * peak + (64 << 20), (hidden, seeds, peak, need, training.memory)
        del training
    assert np.isfinite(need)
