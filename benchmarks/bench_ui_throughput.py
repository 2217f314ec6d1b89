"""Benchmark 2: training throughput inside the lab's worker vs headless.

The real lab (``create_app``) runs headless under ``App.run_test()`` at
120×40 with its charts, table and status line live; ``r`` starts the run and
the benchmark waits for it to end.  The lab trains in its worker thread
("lab, thread", the default) and, interleaved, with ``REGTUI_WORKER=process``
in a child process ("lab", ``regtui.ui.worker.process``), where
``_app.probe_children`` puts the same probe, so the child's training is timed.
The same experiment is trained headless
in a plain ``for event in Training(exp).events()`` loop.  Both are timed by
the same probe around ``Training.events()`` (epochs 1..E, wall clock as the
consumer sees it); runs are interleaved, medians compared.

Reported: throughput ratio = headless time / in-lab time (target ≥ 0.9,
issue 20), and the same ratio for the time spent inside the training steps
alone (a drop there means the UI thread holds the GIL while the trainer needs
it).  Because wall times lie on a shared machine, CPU times too: the training
thread's CPU per epoch, headless / in lab (below 1: the worker does more than
train — recording, messages), and the lab process's CPU per epoch besides the
training (its UI thread and the worker thread: the whole process's minus the
training thread's in thread mode, all of it when the run trains in a child).  The cost of the run recording the
lab does (``regtui.core.run.Run``, as ``regtui run``) is measured headless:
CPU of a recorded ``Run`` / a plain one (``record=False``).

    python benchmarks/bench_ui_throughput.py [--quick] [--json out.json]
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import _app as A
import _common as C

CASES = {"article": 200, "moons-overfit": 500}
SIZE = (120, 40)


def lab_in_child(exp) -> A.Record:
    """The lab with ``REGTUI_WORKER=process``: the run trains in a child process."""
    os.environ["REGTUI_WORKER"] = "process"
    try:
        return A.app_run(exp, SIZE).record
    finally:
        del os.environ["REGTUI_WORKER"]


def run(quick: bool) -> list[C.Result]:
    A.require_ui()
    from regtui.core.training import configure_torch

    configure_torch()
    A.probe_children()  # before the first lab: its fork server imports the probe
    reps = 1 if quick else 3
    results = []
    for preset, epochs in CASES.items():
        e = epochs // 3 if quick else epochs
        exp = C.load_preset(preset)
        exp = replace(exp, train=replace(exp.train, epochs=e, device="cpu"))
        raw = C.interleaved({"headless": lambda: A.headless_run(exp), "lab": lambda: lab_in_child(exp),
                             "lab, thread": lambda: A.app_run(exp, SIZE).record}, reps, warmup=1)

        def med(field: str) -> dict[str, float]:
            return {k: C.median([getattr(r, field) for r in v]) for k, v in raw.items()}

        wall, steps, cpu, lab_cpu = med("wall_s"), med("steps_s"), med("thread_cpu_s"), med("lab_cpu_s")
        ratio = wall["headless"] / wall["lab"]
        target, ok = C.check(ratio, ">=", 0.9)
        b = f"ui-throughput/{preset}"
        where = "in a child process" if raw["lab"][0].child else "in the lab's thread (no forkserver?)"
        results.append(C.Result(
            b, "in-lab / headless throughput (whole epochs)", ratio, target=target, met=ok,
            note=f"{e} epochs at {SIZE[0]}×{SIZE[1]}, trained {where}: headless {wall['headless']:.2f} s, "
                 f"in lab {wall['lab']:.2f} s, in the lab's thread {wall['lab, thread']:.2f} s (medians of {reps})",
            extra={"wall_s": wall, "steps_s": steps, "thread_cpu_s": cpu, "lab_cpu_s": lab_cpu, "epochs": e,
                   "reps": reps, "all_wall_s": {k: [r.wall_s for r in v] for k, v in raw.items()}},
        ))
        results.append(C.Result(b, "in-lab / headless throughput (steps only)", steps["headless"] / steps["lab"]))
        results.append(C.Result(b, "in-lab, thread / headless throughput (whole epochs; before)",
                                wall["headless"] / wall["lab, thread"]))
        results.append(C.Result(
            b, "training thread CPU per epoch, headless / in lab", cpu["headless"] / cpu["lab"],
            note=f"{1000 * cpu['headless'] / e:.2f} vs {1000 * cpu['lab'] / e:.2f} ms "
                 f"(in the lab's thread {1000 * cpu['lab, thread'] / e:.2f} ms)"))
        results.append(C.Result(
            b, "lab process CPU per epoch besides training (UI), process / thread mode",
            lab_cpu["lab"] / lab_cpu["lab, thread"],
            note=f"{1000 * lab_cpu['lab'] / e:.2f} vs {1000 * lab_cpu['lab, thread'] / e:.2f} ms; "
                 f"per second of training {1000 * lab_cpu['lab'] / wall['lab']:.0f} vs "
                 f"{1000 * lab_cpu['lab, thread'] / wall['lab, thread']:.0f} ms"))
        cost = recording_cost(exp, reps)
        results.append(C.Result(b, "run recording: plain / recorded Run, CPU (headless)", cost[0],
                                note=f"+{cost[1]:.3f} ms CPU per epoch, in the training thread"))
    return results


def recording_cost(exp, reps: int) -> tuple[float, float]:
    """(plain / recorded CPU time, extra CPU ms per epoch) of a ``Run`` recorded as the lab records it."""
    import time

    from regtui.core.run import Run

    C.scratch_home()

    def cpu(record: bool) -> float:
        run = Run(exp, record=record, source="tui")
        run.prepare()
        t0 = time.thread_time()
        for _ in run.events():
            pass
        return time.thread_time() - t0

    raw = C.interleaved({"plain": lambda: cpu(False), "recorded": lambda: cpu(True)}, reps)
    p, r = C.median(raw["plain"]), C.median(raw["recorded"])
    return p / r, 1000 * (r - p) / max(1, exp.train.epochs)


if __name__ == "__main__":
    sys.exit(C.script_main("ui-throughput", __doc__.splitlines()[0], run))
