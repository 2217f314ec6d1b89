"""Benchmark 3: UI responsiveness while training.

The real lab runs headless under ``App.run_test()``; a 10 ms
``set_interval`` inside the running app records when it fires.  Lateness of
a tick = its gap to the previous tick minus 10 ms (Textual's timers skip
missed ticks, so a 120 ms block shows as one 110 ms-late tick).  Measured
while the ``article`` preset trains (from the first epoch to the last), at
120×40 and at a large 200×60 terminal, plus an idle baseline (the 0.6 s before ``r``).
Targets: p95 < 50 ms, max < 150 ms.  Also reported, to locate the cost: the
UI's own per-call costs during training (frame = one compositor refresh;
chart render = plotext ``build()``; layout reflows).

    python benchmarks/bench_ui_latency.py [--quick] [--json out.json]
"""

from __future__ import annotations

import sys
from dataclasses import replace

import _app as A
import _common as C

TICK = 0.010
SIZES = ((120, 40), (200, 60))
EPOCHS = 200


def run(quick: bool) -> list[C.Result]:
    A.require_ui()
    from regtui.core.training import configure_torch

    configure_torch()
    reps = 1 if quick else 2
    epochs = 80 if quick else EPOCHS
    exp = C.load_preset("article")
    exp = replace(exp, train=replace(exp.train, epochs=epochs, device="cpu"))
    A.app_run(exp, SIZES[0], TICK)  # warm-up: first-use costs of Textual and plotext
    results = []
    for size in SIZES:
        runs = [A.app_run(exp, size, TICK) for _ in range(reps)]
        late: list[float] = []
        idle: list[float] = []
        costs: dict[str, list[float]] = {}
        for r in runs:
            late += A.lateness_ms(r.ticks, TICK, r.record.started, r.record.ended)
            idle += A.lateness_ms(r.ticks, TICK, r.pressed - 0.6, r.pressed)
            for k, v in r.costs.items():
                costs.setdefault(k, []).extend(v)
        b = f"ui-latency/{size[0]}x{size[1]}"
        p95, worst = A.percentile(late, 95), max(late, default=float("nan"))
        target, ok = C.check(p95, "<", 50)
        train_s = sum(r.record.wall_s for r in runs)
        results.append(C.Result(b, "timer lateness p95 while training", p95, "ms", target, ok,
                                note=f"{len(late)} ticks over {train_s:.1f} s of training ({reps} run(s), {epochs} epochs)"))
        target, ok = C.check(worst, "<", 150)
        results.append(C.Result(b, "timer lateness max while training", worst, "ms", target, ok))
        results.append(C.Result(b, "timer lateness p95 idle", A.percentile(idle, 95), "ms"))
        cost_extra = {}
        for k, v in costs.items():
            if v:
                cost_extra[k] = {"calls_per_s": len(v) / train_s, "p50_ms": A.percentile(v, 50),
                                 "p95_ms": A.percentile(v, 95), "max_ms": max(v),
                                 "share_of_wall": sum(v) / 1000 / train_s}
        frames = cost_extra.get("frame (compositor refresh)")
        if frames:
            results.append(C.Result(b, "frame cost p95 (compositor refresh)", frames["p95_ms"], "ms",
                                    note=f"{frames['calls_per_s']:.1f} frames/s; UI thread busy in frames "
                                         f"{100 * frames['share_of_wall']:.0f} % of the training time",
                                    extra=cost_extra))
        chart = cost_extra.get("chart render (plotext build)")
        if chart:
            results.append(C.Result(b, "one chart render p95 (plotext build)", chart["p95_ms"], "ms",
                                    note=f"{chart['calls_per_s']:.1f} chart renders/s"))
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("ui-latency", __doc__.splitlines()[0], run))
