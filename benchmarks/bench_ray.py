"""Benchmark: a sweep on a local Ray cluster against the same sweep in process.

The sweep: the ``article`` preset (128-64-10 relu, Adam, digits) with its L2
variant's λ over 8 values × its drop p over 4 values = 32 grid points, × 3
seeds = 96 networks.  In process they train as one stack of 96; on Ray the
automatic shards split them over the worker CPUs (2 CPUs: two tasks of 48).

Measured in one run, the cases interleaved (twice each in a rotating order,
medians compared; ``--quick``: once, 4 epochs):

* **in process** — ``run_sweep`` with the in-process engine;
* **Ray, 2 CPUs, cold** — what ``regtui sweep --engine ray`` costs: start a
  local Ray (``ray.init(num_cpus=2)``), the sweep (its workers start and
  import torch), shut Ray down;
* **Ray, 2 CPUs, warm** — the same sweep on a cluster whose workers are
  already up (a 1-epoch sweep ran first): the engine's own overhead, object
  store, tasks, streaming;
* **Ray, 1 CPU, warm** — the same with ``ray.init(num_cpus=1)`` (one task of 96).

Targets: cold Ray / in process ≤ 1.3 (the engine's overhead must be small).
Reported: warm / in process, 1 CPU / 2 CPUs (how the time falls with a
second worker CPU) and 1 CPU / in process (the same one stack of 96 either
way: what the engine itself costs).  Results are checked equal to the in-process ones.  Not
part of ``run_all.py``; needs ``pip install 'regtui[ray]'``.

    python benchmarks/bench_ray.py [--quick] [--json out.json]
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace

import _common as C

LAMBDAS = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
DROPS = (0.0, 0.2, 0.5, 0.8)


def _experiment(epochs: int):
    from regtui.core.config import SweepAxis

    exp = C.load_preset("article")
    name = next(v.name for v in exp.variants if v.l2 and not v.dropout)
    exp = replace(exp, train=replace(exp.train, epochs=epochs, seeds=3, device="cpu"),
                  sweep=(SweepAxis(f"variants.{name}.l2", LAMBDAS), SweepAxis(f"variants.{name}.dropout", DROPS)))
    return exp


def _sweep(exp, engine=None) -> tuple[float, list]:
    from regtui.core.sweep import run_sweep

    points: list = []

    def go() -> None:
        points.extend(p for item in run_sweep(exp, engine=engine) if isinstance(item, list) for p in item)

    return C.timed(go), points


def run(quick: bool) -> list[C.Result]:
    try:
        import ray
    except ImportError:
        raise C.Skipped("Ray is not installed: pip install 'regtui[ray]'") from None
    from regtui.core.config import EngineConfig
    from regtui.core.engines.ray_engine import RayEngine
    from regtui.core.training import configure_torch

    C.scratch_home()
    configure_torch()
    exp = _experiment(epochs=4 if quick else 60)
    root = tempfile.mkdtemp(prefix="rb-", dir="/tmp")  # Ray's sockets want short paths
    os.environ["HOME"] = os.path.join(root, "home")  # Ray writes ~/.ray there, not in the user's home
    options = {"address": "local", "include_dashboard": False, "log_to_driver": False,
               "logging_level": logging.ERROR, "_temp_dir": os.path.join(root, "ray")}
    engine_config = EngineConfig(kind="ray")
    try:
        _sweep(replace(exp, train=replace(exp.train, epochs=1)))  # warm-up: torch, sklearn, the data

        def on_ray(cpus: int, warm: bool) -> tuple[float, list]:
            """(seconds, points); cold: ray.init, the workers' start and ray.shutdown count too."""
            t0 = time.perf_counter()
            ray.init(num_cpus=cpus, **options)
            try:
                if warm:  # the workers start and import torch before the clock runs
                    _sweep(replace(exp, train=replace(exp.train, epochs=1)), RayEngine(engine_config))
                seconds, points = _sweep(exp, RayEngine(engine_config))
            finally:
                ray.shutdown()
            return (seconds if warm else time.perf_counter() - t0), points

        cases = {"here": lambda: _sweep(exp), "cold": lambda: on_ray(2, warm=False),
                 "warm": lambda: on_ray(2, warm=True), "one": lambda: on_ray(1, warm=True)}
        runs = C.interleaved(cases, reps=1 if quick else 2, warmup=0)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    here, ray_cold, ray_warm, one_cpu = (C.median([t for t, _ in runs[k]]) for k in ("here", "cold", "warm", "one"))
    local = {tuple(sorted(p.knobs.items())): p for p in runs["here"][0][1]}
    same = all(len(points) == 32 and all(
        math.isclose(a, b, rel_tol=1e-5) or (math.isnan(a) and math.isnan(b))
        for p in points for a, b in zip(p.best_val_loss, local[tuple(sorted(p.knobs.items()))].best_val_loss))
        for k in ("cold", "warm", "one") for _, points in runs[k])
    label = f"32 points × 3 seeds, digits, {exp.train.epochs} epochs"
    target, ok = C.check(ray_cold / here, "<=", 1.3)
    return [
        C.Result("ray", f"in process ({label})", here, "s"),
        C.Result("ray", "Ray, 2 CPUs, cold (ray.init + worker start + sweep)", ray_cold, "s"),
        C.Result("ray", "Ray, 2 CPUs, warm cluster", ray_warm, "s"),
        C.Result("ray", "Ray, 1 CPU, warm cluster", one_cpu, "s"),
        C.Result("ray", "cold Ray (2 CPUs) / in process", ray_cold / here, target=target, met=ok),
        C.Result("ray", "warm Ray (2 CPUs) / in process", ray_warm / here),
        C.Result("ray", "Ray 1 CPU / Ray 2 CPUs (warm)", one_cpu / ray_warm),
        C.Result("ray", "Ray 1 CPU (warm) / in process: the engine's own cost", one_cpu / here),
        C.Result("ray", "Ray's points equal the in-process ones", float(same), "", target="= 1", met=same),
    ]


if __name__ == "__main__":
    sys.exit(C.script_main("ray", __doc__.splitlines()[0], run))
