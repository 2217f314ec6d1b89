"""Benchmark 1: K variants stacked in one model vs trained one after another.

For each network (``article`` = the digits preset, ``moons-overfit``, and a
synthetic 784-input MNIST-sized net) it times, interleaved:

* ``one``        -- ``Training`` of a single-variant experiment (the baseline:
                    the cheapest member, so the strictest reference);
* ``stacked4``   -- ``Training`` of the preset's four variants, stacked;
* ``sequential4``-- the four single-variant trainings one after another;
* ``stacked16``  -- sixteen variants (the preset's four, each at 4 strengths);
* ``plain4``     -- four unregularized copies of the baseline, stacked: the
                    cost of stacking alone, without L2 and dropout work.

"One variant" is the baseline alone, the cheapest single-variant training
(the strict reference the targets are checked against); ``sequential4 / 4``
is the mean single variant, also reported.

Two costs are reported, from the same runs: **steps** = the time spent in the
training steps only (the generator's work before each ``BatchEnd``: batch
order, indexing, forward, backward, regularizers, optimizer), and **epochs**
= whole epochs (steps + the per-epoch evaluation of train and val splits
before each ``EpochEnd``).  Epoch 0 (initial evaluation) and construction are
excluded.  Targets: stacked K=4 ≤ 2× one variant, K=16 ≤ 4× one variant.

    python benchmarks/bench_stacking.py [--quick] [--json out.json]
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import _common as C

# network -> (epochs per timed run, default reps), quick reps
NETS = {
    "article": 12,
    "moons-overfit": 30,
    "mnist784": 2,
}


def _events_timing(training) -> tuple[float, float]:
    """Run ``training.events()``; return (step seconds, whole-epoch seconds), epoch 0 excluded."""
    from regtui.core.run_types import BatchEnd

    gen = training.events()
    next(gen)  # epoch 0: the initial evaluation, not timed
    steps = 0.0
    t_start = time.perf_counter()
    t0 = t_start
    for event in gen:
        t1 = time.perf_counter()
        if isinstance(event, BatchEnd):
            steps += t1 - t0
        t0 = time.perf_counter()
    return steps, t0 - t_start


def variants16(variants):
    """The preset's variants at four strengths each (same dropout share as K=4)."""
    out = []
    for scale in (1, 2, 4, 8):
        for v in variants:
            out.append(replace(v, name=f"{v.name} ×{scale}", l2=v.l2 * scale, weight_decay=v.weight_decay * scale))
    return tuple(out)


def mnist_like(n_train: int, n_val: int, seed: int = 0):
    """A synthetic 784-feature, 10-class data set (MNIST-shaped, no download)."""
    import numpy as np

    from regtui.core.data import Dataset

    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (10, 784))
    def draw(n):
        y = rng.integers(0, 10, n)
        x = centres[y] + rng.normal(0, 2.0, (n, 784))
        return x.astype(np.float32), y.astype(np.int64)
    xt, yt = draw(n_train)
    xv, yv = draw(n_val)
    return Dataset(xt, yt, xv, yv, "classification", 10)


def _setup(net: str, epochs: int):
    from regtui.core.data import make_dataset

    if net == "mnist784":
        exp = C.load_preset("article")
        ds = mnist_like(1000, 1000)
    else:
        exp = C.load_preset(net)
        ds = make_dataset(exp.data)
    exp = replace(exp, train=replace(exp.train, epochs=epochs, device="cpu"))
    return exp, ds


def bench_net(net: str, epochs: int, reps: int) -> list[C.Result]:
    from regtui.core.training import Training

    exp, ds = _setup(net, epochs)
    singles = [replace(exp, variants=(v,)) for v in exp.variants]
    exp16 = replace(exp, variants=variants16(exp.variants))
    plain = replace(exp, variants=tuple(replace(singles[0].variants[0], name=f"copy {i}") for i in range(4)))

    def run(e):
        return _events_timing(Training(e, dataset=ds))

    def sequential():
        parts = [run(e) for e in singles]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    cases = {
        "one": lambda: run(singles[0]),
        "stacked4": lambda: run(exp),
        "sequential4": sequential,
        "stacked16": lambda: run(exp16),
        "plain4": lambda: run(plain),
    }
    raw = C.interleaved(cases, reps)
    med = {name: (C.median([s for s, _ in v]), C.median([e for _, e in v])) for name, v in raw.items()}
    n_steps = epochs * -(-ds.x_train.shape[0] // min(exp.train.batch_size, ds.x_train.shape[0]))
    extra = {
        name: {"step_ms": 1000 * s / n_steps, "epoch_ms": 1000 * e / epochs}
        for name, (s, e) in med.items()
    }
    extra["epochs"] = epochs
    extra["reps"] = reps
    extra["n_train"] = int(ds.x_train.shape[0])
    extra["n_val"] = int(ds.x_val.shape[0])
    results = []
    b = f"stacking/{net}"
    for kind, idx in (("steps", 0), ("epochs", 1)):
        one = med["one"][idx]
        r4 = med["stacked4"][idx] / one
        r16 = med["stacked16"][idx] / one
        seq = med["sequential4"][idx] / one
        target, ok = C.check(r4, "<=", 2.0)
        results.append(C.Result(b, f"K=4 stacked / one ({kind})", r4, target=target, met=ok, extra=extra if idx == 0 else {}))
        target, ok = C.check(r16, "<=", 4.0)
        results.append(C.Result(b, f"K=16 stacked / one ({kind})", r16, target=target, met=ok))
        results.append(C.Result(b, f"K=4 sequential / one ({kind})", seq))
        results.append(C.Result(b, f"K=4 stacked / mean single ({kind})", r4 / (seq / 4),
                                note="mean single = sequential / 4" if idx == 0 else ""))
        if idx == 0:
            results.append(C.Result(b, "K=4 unregularized stacked / one (steps)", med["plain4"][0] / one,
                                    note="stacking alone; the rest of K=4's cost is L2 and dropout work"))
        results.append(C.Result(b, f"K=4 sequential / stacked ({kind})", med["sequential4"][idx] / med["stacked4"][idx],
                                note="speed-up of stacking" if idx == 0 else ""))
    ev = {name: (e - s) for name, (s, e) in med.items()}
    results.append(C.Result(b, "evaluation share of one variant's epoch", 100 * ev["one"] / med["one"][1], "%",
                            note="evaluation = whole epochs − steps (train + val splits, eval mode)"))
    results.append(C.Result(b, "evaluation per epoch, K=4 / one", ev["stacked4"] / ev["one"]))
    results.append(C.Result(b, "evaluation per epoch, K=16 / one", ev["stacked16"] / ev["one"]))
    print(f"  {net}: " + ", ".join(f"{n} {v['step_ms']:.2f} ms/step {v['epoch_ms']:.1f} ms/epoch"
                                   for n, v in extra.items() if isinstance(v, dict)), file=sys.stderr)
    return results


def run(quick: bool) -> list[C.Result]:
    from regtui.core.training import configure_torch

    configure_torch()  # one thread, as the lab and `regtui run` use
    reps = 2 if quick else 7
    results: list[C.Result] = []
    for net, epochs in NETS.items():
        e = max(1, epochs // 3) if quick else epochs
        results += bench_net(net, e, reps)
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("stacking", __doc__.splitlines()[0], run))
