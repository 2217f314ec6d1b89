"""How much memory there is, and how much a run or a data file needs.

``available_bytes()`` is the memory this process can still take without
swapping: ``MemAvailable`` of ``/proc/meminfo`` (else ``os.sysconf``'s
available pages), lowered to what a cgroup (a container's limit) still
allows.  ``format_bytes(n)`` writes a size as people read it (``6.9 EiB``).
``check_fits(need, what, has)`` raises ``MemoryShortage`` (a ``ConfigError``:
one line saying how much is needed and how much there is) when ``need``
exceeds the memory available.

What a run needs: ``estimate_run(...) -> RunMemory`` adds up, in float32
bytes, every member's parameters, their gradients (the ``[K, P]`` buffer and
the weights' contiguous gradients ``StackedMLP.backward`` computes first), the
optimizer's state and scratch (momentum: one copy, Adam: two, Keras's Adam one
more for its in-place arithmetic on the CPU, two elsewhere), the divergence guard's frozen copy, the
activations of one training batch (forward tensors the backward pass keeps,
dropout masks, the backward pass's largest transients), one evaluation chunk
(with the copy of both splits' rows when they are evaluated together) and the
data tensors on the device.  ``eval_chunk_rows`` chooses the evaluation
chunk so that it stays within ``EVAL_BUDGET`` bytes (64 variants × 4 seeds
of a 4096-wide layer once needed 34 GiB for one 8,192-row chunk).
``check_planned_data(cfg)`` refuses a generated data set too large to
generate, before it is drawn; ``check_run_fits(...)`` refuses a run before
its nets are built (``Training`` calls both), with one line saying how much
it needs, for what, and how much there is.  ``available_on(device)`` asks
torch for a CUDA device's free memory (imported only then).  Standard
library and ``regtui.core.config`` only at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from regtui.core.config import DATASETS_2D, ConfigError, DataConfig

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


class MemoryShortage(ConfigError):
    """A run or a data file needs more memory than is available."""


def format_bytes(n: float) -> str:
    """``1536`` -> ``1.5 KiB``; three significant digits, binary units."""
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1024 or unit == _UNITS[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            try:
                return int(parts[1]) * (1024 if parts[-1].lower() == "kb" else 1)
            except (IndexError, ValueError):
                return None
    return None


def _sysconf_available() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """What a cgroup v2 (or v1) memory limit still allows this process, if one is set."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit_text = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max":
            return None
        try:
            limit = int(limit_text)
        except ValueError:
            continue
        if limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
            return None
        return max(0, limit - usage)
    return None


def available_bytes() -> int | None:
    """Memory this process can still allocate without swapping; None when unknown."""
    found = [v for v in (_meminfo_available() or _sysconf_available(), _cgroup_room()) if v is not None]
    return min(found) if found else None


def check_fits(need: int, what: str, key: str = "", has: int | None = None) -> None:
    """Raise ``MemoryShortage`` when ``need`` bytes exceed ``has`` (default: ``available_bytes()``).

    ``what`` says who needs it (``"t10k-images-idx3-ubyte.gz: its header promises 60000×28×28 bytes"``).
    Unknown availability lets everything through: better a run than a false refusal.
    """
    if has is None:
        has = available_bytes()
    if has is not None and need > has:
        raise MemoryShortage(key, f"{what} needs {format_bytes(need)} of memory; {format_bytes(has)} is available")


# --------------------------------------------------------------------------- what a run needs

FLOAT = 4
"""Bytes of a float32 (every tensor of a run but integer labels)."""
EVAL_BUDGET = 256 << 20
"""Bytes one evaluation chunk may take; the chunk shrinks below ``EVAL_CHUNK`` rows to fit."""
EVAL_CHUNK = 8192
"""Rows evaluated at once when they fit in ``EVAL_BUDGET``."""
HEADROOM = 0.9
"""A run may plan to use this share of the memory available (the allocator rounds up)."""
_SKLEARN = {"digits": (1797, 64), "breast_cancer": (569, 30), "wine": (178, 13)}


@dataclass(frozen=True)
class RunMemory:
    """Bytes a run needs, by what needs them."""

    parameters: int
    gradients: int
    """The ``[K, P]`` gradient buffer and the weight matrices' gradient buffers."""
    optimizer: int
    """State (momentum, moments) and scratch tensors."""
    frozen: int
    """The divergence guard's copy of the weights (made when a member diverges)."""
    batch: int
    """Activations of one training batch, forward and backward."""
    evaluation: int
    """One evaluation chunk."""
    data: int
    """The train and validation tensors on the device (0 on the CPU: shared with numpy)."""

    @property
    def total(self) -> int:
        return (self.parameters + self.gradients + self.optimizer + self.frozen + self.batch
                + self.evaluation + self.data)

    def describe(self) -> str:
        parts = (("parameters", self.parameters), ("gradients", self.gradients), ("optimizer state", self.optimizer),
                 ("divergence copy", self.frozen), ("activations per batch", self.batch),
                 ("evaluation chunk", self.evaluation), ("data", self.data))
        return ", ".join(f"{name} {format_bytes(n)}" for name, n in parts if n)


def _eval_row_bytes(members: int, widths: Sequence[int]) -> int:
    """Bytes one evaluation row costs: the largest layer's input and output (and the
    activation's copy) for every member, plus the loss's log-softmax and labels."""
    widest = max(widths[i] + 2 * widths[i + 1] for i in range(len(widths) - 1))
    return members * (FLOAT * widest + FLOAT * widths[-1] + 16)


def eval_chunk_rows(members: int, widths: Sequence[int], budget: int = EVAL_BUDGET) -> int:
    """Rows to evaluate at once: ``EVAL_CHUNK``, fewer when that would exceed ``budget``."""
    return max(1, min(EVAL_CHUNK, budget // _eval_row_bytes(members, widths)))


def estimate_run(*, members: int, widths: Sequence[int], batch_size: int, n_train: int, n_val: int,
                 optimizer: str, momentum: float, dropout: bool, input_dropout: bool, several_seeds: bool,
                 regression: bool, on_cpu: bool, adam_formula: str = "torch") -> RunMemory:
    """What a run needs (see the module docstring); ``widths`` are in, hidden…, out."""
    weights = sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
    params = FLOAT * members * (weights + sum(widths[1:]))
    gradients = params + FLOAT * members * weights
    adam = optimizer in ("adam", "adamw")
    keras_states = 3 if on_cpu else 4  # m, v and √v + ε; off the CPU also m·α (optimizers.KerasAdam)
    states = (keras_states if adam_formula == "keras" else 2) if adam else (1 if momentum else 0)
    b = min(batch_size, n_train)
    hidden, d_in, d_out = widths[1:-1], widths[0], widths[-1]
    kept = sum(hidden) * (2 + (3 if dropout else 0)) + 2 * d_out + (3 * d_in if input_dropout else 0)
    backward = 2 * max(widths[1:])
    gathered = (members if several_seeds else 1) * d_in
    batch = FLOAT * (members * b * (kept + backward) + b * gathered)
    chunk = eval_chunk_rows(members, widths)
    rows = min(chunk, n_train + n_val)  # both splits at once when they fit in one chunk
    together = FLOAT * d_in * rows if n_train + n_val <= chunk else 0  # their rows copied side by side
    evaluation = rows * _eval_row_bytes(members, widths) + together
    label = FLOAT if regression else 8
    data = 0 if on_cpu else (n_train + n_val) * (FLOAT * d_in + label)
    return RunMemory(params, gradients, states * params, params, batch, evaluation, data)


def check_run_fits(need: RunMemory, has: int | None, where: str = "memory") -> None:
    """``MemoryShortage`` when the run needs more than ``HEADROOM`` of ``has``; unknown ``has`` passes."""
    if has is not None and need.total > HEADROOM * has:
        raise MemoryShortage("", f"this run needs about {format_bytes(need.total)} of {where} "
                                      f"({need.describe()}); {format_bytes(has)} is available — "
                                      "use fewer or narrower layers, fewer variants or seeds, a smaller batch or less data")


def check_planned_data(cfg: DataConfig) -> None:
    """Refuse a generated data set that cannot be generated in memory (float64 draws,
    the split, standardization and the float32 copy), before it is drawn.  File data
    sets are checked by their readers."""
    n = cfg.n_train + cfg.n_val
    if cfg.dataset in DATASETS_2D:
        features = 2
    elif cfg.dataset == "regression":
        features = cfg.n_features
    elif cfg.dataset in _SKLEARN:
        n, features = min(n, _SKLEARN[cfg.dataset][0]), _SKLEARN[cfg.dataset][1]
    else:
        return
    need = n * features * (3 * 8 + FLOAT)
    check_fits(need, f"the {cfg.dataset} data set ({n:,} rows × {features:,} features)", "data")


def available_on(device: Any) -> int | None:
    """Free memory on ``device`` (a ``torch.device``): CUDA's own count, else the host's."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        try:
            free, _ = torch.cuda.mem_get_info(device)
        except (RuntimeError, AssertionError):
            return None
        return int(free)
    return available_bytes()


def estimate_experiment(experiment: Any, *, n_features: int, n_outputs: int, n_train: int, n_val: int,
                        regression: bool, on_cpu: bool) -> RunMemory:
    """``estimate_run`` for an ``Experiment`` and the shape of its data."""
    t, variants = experiment.train, experiment.variants
    return estimate_run(
        members=len(variants) * t.seeds, widths=(n_features, *experiment.model.hidden, n_outputs),
        batch_size=t.batch_size, n_train=n_train, n_val=n_val, optimizer=t.optimizer, momentum=t.momentum,
        dropout=any(v.dropout > 0 for v in variants), input_dropout=any(v.input_dropout > 0 for v in variants),
        several_seeds=t.seeds > 1, regression=regression, on_cpu=on_cpu, adam_formula=t.adam_formula)
