"""A process that records a run, for the crash and concurrency tests.

Usage: ``python _recorder_child.py PATH EPOCHS SLEEP [GO]``.  Records
``EPOCHS`` epochs (4 variants) into the history file at PATH, printing each
epoch number after its transaction committed, then finishes the run and prints ``done FIRST LAST`` (the times of the first
and the last epoch's commit).  With GO,
waits after ``run ID`` until the file GO exists, so several children write at
the same time.  Events are the real ``EpochEnd``/``EpochMetrics``
(``regtui.core.run_types`` is torch-free, so each child starts fast).
"""

from __future__ import annotations

import os
import sys
import time

from regtui.core.config import DataConfig, Experiment, ModelConfig, TrainConfig, VariantConfig
from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus
from regtui.core.store import RunStore

VARIANTS = ("baseline", "L2", "Dropout", "L2+Dropout")


def metrics(epoch: int, k: int) -> EpochMetrics:
    loss = 1.0 / (epoch + 1) + 0.01 * k
    return EpochMetrics(epoch, loss, loss + 0.1, 0.5, 0.4, loss + 0.02, 0.01 * k, 1.0 + epoch, 0.1, 0.001 * epoch)


def main() -> int:
    path, epochs, sleep = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    experiment = Experiment(
        name="child", data=DataConfig(n_train=32), model=ModelConfig(hidden=(8,)),
        train=TrainConfig(epochs=epochs, device="cpu"),
        variants=tuple(VariantConfig(n, l2=1e-3 * i) for i, n in enumerate(VARIANTS)),
    )
    store = RunStore.open(path)
    rec = store.recorder(experiment, source="cli", preset="child")
    print(f"run {rec.run_id}", flush=True)
    if len(sys.argv) > 4:
        deadline = time.monotonic() + 60
        while not os.path.exists(sys.argv[4]) and time.monotonic() < deadline:
            time.sleep(0.002)
    first = 0.0
    for epoch in range(epochs + 1):
        status = RunStatus.FINISHED if epoch == epochs else RunStatus.RUNNING
        rec.add(EpochEnd(epoch, tuple(metrics(epoch, k) for k in range(len(VARIANTS))), (status,) * len(VARIANTS), 0.001 * epoch))
        if rec.error is not None:
            print(f"error {rec.error}", flush=True)
            return 1
        print(epoch, flush=True)
        first = first or time.time()
        if sleep:
            time.sleep(sleep)
    last = time.time()
    rec.finish((RunStatus.FINISHED,) * len(VARIANTS))
    print(f"done {first!r} {last!r}" if rec.error is None else f"error {rec.error}", flush=True)
    return 0 if rec.error is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
