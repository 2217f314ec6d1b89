"""Benchmark 2: training throughput inside the lab's worker vs headless.

The real lab (``create_app``) runs headless under ``App.run_test()`` at
120×40 with its charts, table and status line live; ``r`` starts the run and
the benchmark waits for it to end.  The same experiment is trained headless
in a plain ``for event in Training(exp).events()`` loop.  Both are timed by
the same probe around ``Training.events()`` (epochs 1..E, wall clock as the
consumer sees it); runs are interleaved, medians compared.

Reported: throughput ratio = headless time / in-lab time (target ≥ 0.85),
and the same ratio for the time spent inside the training steps alone (a
drop there means the UI thread holds the GIL while the trainer needs it).
Where the lab records runs (``regtui.ui.worker.recording.recorded``), the cost of
that recording alone is measured headless too (recorded / plain loop).

    python benchmarks/bench_ui_throughput.py [--quick] [--json out.json]
"""

from __future__ import annotations

import sys
from dataclasses import replace

import _app as A
import _common as C

CASES = {"article": 200, "moons-overfit": 500}
SIZE = (120, 40)


def run(quick: bool) -> list[C.Result]:
    A.require_ui()
    from regtui.core.training import configure_torch

    configure_torch()
    reps = 1 if quick else 3
    results = []
    for preset, epochs in CASES.items():
        e = epochs // 3 if quick else epochs
        exp = C.load_preset(preset)
        exp = replace(exp, train=replace(exp.train, epochs=e, device="cpu"))
        raw = C.interleaved({"headless": lambda: A.headless_run(exp), "lab": lambda: A.app_run(exp, SIZE).record},
                            reps, warmup=1)
        wall = {k: C.median([r.wall_s for r in v]) for k, v in raw.items()}
        steps = {k: C.median([r.steps_s for r in v]) for k, v in raw.items()}
        ratio = wall["headless"] / wall["lab"]
        target, ok = C.check(ratio, ">=", 0.85)
        b = f"ui-throughput/{preset}"
        results.append(C.Result(
            b, "in-lab / headless throughput (whole epochs)", ratio, target=target, met=ok,
            note=f"{e} epochs at {SIZE[0]}×{SIZE[1]}: headless {wall['headless']:.2f} s, in lab {wall['lab']:.2f} s (medians of {reps})",
            extra={"wall_s": wall, "steps_s": steps, "epochs": e, "reps": reps,
                   "all_wall_s": {k: [r.wall_s for r in v] for k, v in raw.items()}},
        ))
        results.append(C.Result(b, "in-lab / headless throughput (steps only)", steps["headless"] / steps["lab"]))
        cost = recording_cost(exp, reps)
        if cost is not None:
            results.append(C.Result(b, "run-history recording: recorded / plain (headless)", cost[0],
                                    note=f"+{cost[1]:.2f} ms per epoch, in the training thread"))
    return results


def recording_cost(exp, reps: int) -> tuple[float, float] | None:
    """(recorded / plain time, extra ms per epoch) of the lab's run recording, headless."""
    try:
        from regtui.ui.worker.recording import recorded
    except Exception:
        return None
    import time

    from regtui.core.training import Training

    C.scratch_home()

    def plain():
        t = Training(exp)
        t0 = time.perf_counter()
        for _ in t.events():
            pass
        return time.perf_counter() - t0

    def rec():
        t = Training(exp)
        t0 = time.perf_counter()
        for _ in recorded(t, lambda message: None, 1):
            pass
        return time.perf_counter() - t0

    raw = C.interleaved({"plain": plain, "recorded": rec}, reps)
    p, r = C.median(raw["plain"]), C.median(raw["recorded"])
    return r / p, 1000 * (r - p) / max(1, exp.train.epochs)


if __name__ == "__main__":
    sys.exit(C.script_main("ui-throughput", __doc__.splitlines()[0], run))
