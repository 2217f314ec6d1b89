"""The training step on CUDA: eager against a captured CUDA graph, and the CPU (issue 20).

    python benchmarks/bench_cuda.py [--ks 4 16 64] [--steps N] [--rounds N] [--no-check] [--json out.json]

For the ``article`` net (digits, 64-128-64-10, Keras's Adam, L2 + dropout) at
K = 4, 16, 64 members (the preset's four variants at 1, 4, 16 strengths), it
measures **steps per second** of full-size batches (32 rows), three ways,
interleaved over ``--rounds`` rounds (median reported):

* ``cpu``: the eager step on the CPU (one torch thread, as the lab trains);
* ``cuda eager``: the eager step on CUDA (``train.cuda_graph = false``);
* ``cuda graph``: the step replayed as a CUDA graph (``train.cuda_graph = true``).

Each case drives ``Training``'s own step (``_step`` / ``_graph_step``) over
the batches of an epoch order, after enough steps for the warm-up and the
capture, and synchronizes the device before the clock stops.

Before timing it checks (unless ``--no-check``) that a few epochs of the
article at K = 4 give the same numbers bit for bit with and without the graph
on CUDA — the one claim of ``regtui.core.cuda_graph`` the CPU tests cannot
check (the replayed dropout masks come from the members' registered Philox
generators) — and prints where they differ if they do.

Without a CUDA device it says so and exits 0: nothing is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import warnings

import _common as C


def _experiment(k: int, device: str, graph: bool, epochs: int = 1):
    from bench_stacking import variants16

    exp = C.load_preset("article")
    variants = exp.variants
    while len(variants) < k:  # 4 -> 16 -> 64: the preset's four at more strengths
        variants = variants16(variants)
    if len(variants) != k:
        raise ValueError(f"K = {k}: use 4, 16 or 64")
    return dataclasses.replace(exp, variants=variants,
                               train=dataclasses.replace(exp.train, device=device, cuda_graph=graph, epochs=epochs))


def steps_per_second(k: int, device: str, graph: bool, steps: int) -> float:
    """Full-size steps per second of ``Training``'s own step, after the warm-up and capture."""
    import torch

    from regtui.core.training import Training

    training = Training(_experiment(k, device, graph))
    events = training.events()
    next(events)  # epoch 0: the initial weights' evaluation and the divergence limits
    bs = training.batch_size
    full = training.x_train.shape[0] // bs

    def batches():
        while True:
            order = training._epoch_order()
            for i in range(full):
                yield order[..., i * bs:(i + 1) * bs]

    source = batches()

    def step(rows):
        if training.step_graph is not None:
            training._graph_step(rows)
        else:
            training._step(training.x_train[rows], training.y_train[rows], 1)

    for _ in range(8):  # warm-up steps, the capture, the allocator's first blocks
        step(next(source))
    rows = [next(source) for _ in range(steps)]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for r in rows:
        step(r)
    sync()
    seconds = time.perf_counter() - start
    events.close()
    if graph and training.step_graph is None:
        raise RuntimeError(f"the graph fell back to eager steps: {training.step_note}")
    return steps / seconds


def check_same_numbers(epochs: int = 3) -> list[str]:
    """Differences between a K = 4 article run with and without the graph on CUDA (empty: none)."""
    import torch

    from regtui.core.run_types import EpochEnd
    from regtui.core.training import Training

    runs = []
    for graph in (False, True):
        training = Training(_experiment(4, "cuda", graph, epochs))
        ends = [e for e in training.events() if isinstance(e, EpochEnd)]
        if graph and training.step_graph is None:
            return [f"the graph fell back to eager steps: {training.step_note}"]
        runs.append((training, ends))
    (eager, eager_ends), (graphed, graph_ends) = runs
    problems = []
    for a, b in zip(eager_ends, graph_ends):
        for k, (ma, mb) in enumerate(zip(a.metrics, b.metrics)):
            ra = None if ma is None else dataclasses.replace(ma, seconds=0.0)
            rb = None if mb is None else dataclasses.replace(mb, seconds=0.0)
            if ra != rb:
                problems.append(f"epoch {a.epoch}, member {k}: eager {ra} / graph {rb}")
    diff = (eager.model.flat - graphed.model.flat).abs().max().item()
    if not torch.equal(eager.model.flat, graphed.model.flat):
        problems.append(f"final weights differ: largest difference {diff:.3g}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--steps", type=int, default=300, help="timed steps per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-check", action="store_true", help="skip the eager-vs-graph numbers check")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print(f"bench_cuda: no CUDA device here (torch {torch.__version__}, "
              f"built with CUDA {torch.version.cuda or 'none'}): nothing measured.")
        return 0
    torch.set_num_threads(1)
    print(f"bench_cuda: {torch.cuda.get_device_name()} (torch {torch.__version__}, CUDA {torch.version.cuda})")
    warnings.simplefilter("always", RuntimeWarning)
    same = None
    if not args.no_check:
        problems = check_same_numbers()
        same = not problems
        print("graph vs eager on CUDA, article K=4, 3 epochs: " + ("the same numbers, bit for bit" if same else
              "DIFFERENT:\n  " + "\n  ".join(problems[:10])))
    cases = {(k, name): (k, device, graph) for k in args.ks
             for name, device, graph in (("cpu", "cpu", False), ("cuda eager", "cuda", False),
                                         ("cuda graph", "cuda", True))}
    raw: dict[tuple[int, str], list[float]] = {key: [] for key in cases}
    for round_ in range(args.rounds):
        keys = list(cases)
        keys = keys[round_ % len(keys):] + keys[:round_ % len(keys)]  # a rotating order
        for key in keys:
            raw[key].append(steps_per_second(*cases[key], steps=args.steps if cases[key][1] == "cuda" else
                                             max(20, args.steps // 10)))
    print(f"\nsteps per second (full-size batches of 32; median of {args.rounds} rounds)")
    print(f"{'K':>4} {'cpu':>10} {'cuda eager':>11} {'cuda graph':>11} {'graph/eager':>12} {'graph/cpu':>10}")
    results = []
    for k in args.ks:
        cpu, eager, graph = (statistics.median(raw[(k, n)]) for n in ("cpu", "cuda eager", "cuda graph"))
        print(f"{k:>4} {cpu:>10.0f} {eager:>11.0f} {graph:>11.0f} {graph / eager:>11.2f}× {graph / cpu:>9.2f}×")
        results.append({"k": k, "cpu": cpu, "cuda_eager": eager, "cuda_graph": graph})
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "same_numbers": same,
                       "results": results, "raw": {f"{k} {n}": v for (k, n), v in raw.items()}}, f, indent=1)
    return 0 if same is not False else 1


if __name__ == "__main__":
    sys.exit(main())
