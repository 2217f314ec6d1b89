"""Diagnosis (not part of run_all): where does the lab's training throughput go?

Runs the ``moons-overfit`` and ``article`` presets in the lab with parts of
the UI switched off by monkeypatching (never by editing the code), interleaved
with headless runs, and prints for each variant its throughput relative to
headless (wall time: on a loaded machine this moves by ±50 %), the training
thread's CPU per epoch and the UI thread's CPU per second of training (the
process's CPU minus the training thread's: what the UI takes from the core the
trainer could use, and how long it holds the GIL):

* ``lab``          -- the lab as it is;
* ``no-charts``    -- ``ChartsPane.redraw_next`` does nothing (no plotext);
* ``no-views``     -- ``LabScreen.refresh_views`` does nothing (no table,
                      chart data or status updates; messages still handled);
* ``no-verdict``   -- ``VerdictPanel.show`` does nothing (its text, a
                      ``Static`` of ``height: auto``, is laid out anew on update);
* ``no-layout``    -- every ``Static.update`` without a layout of the screen
                      (what updating text costs when no size changes);
* ``switch-1ms``   -- the lab as it is, with ``sys.setswitchinterval(0.001)``;
* ``redraw-1s``    -- ``charts.MIN_REDRAW_INTERVAL`` = 1.0 (each chart at most
                      once a second).

    python benchmarks/diagnose_ui.py [--quick] [--presets NAME ...] [--variants NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace

import _app as A
import _common as C


@contextlib.contextmanager
def patched(obj, name, value):
    old = obj.__dict__[name]
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextlib.contextmanager
def switch_interval(seconds):
    old = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--presets", nargs="+", default=["moons-overfit", "article"], metavar="NAME")
    p.add_argument("--variants", nargs="+", metavar="NAME", help="only these lab variants (headless always runs)")
    args = p.parse_args()
    A.require_ui("ChartsPane")
    from textual.widgets import Static

    from regtui.core.training import configure_torch
    from regtui.ui.screens.lab import LabScreen
    from regtui.ui.widgets import loss_charts as charts
    from regtui.ui.widgets.loss_charts import ChartsPane
    from regtui.ui.widgets.verdict_panel import VerdictPanel

    configure_torch()
    reps = 1 if args.quick else 3
    epochs_of = {"moons-overfit": 500, "article": 200}
    static_update = Static.__dict__["update"]
    for preset in args.presets:
        exp = C.load_preset(preset)
        epochs = epochs_of.get(preset, exp.train.epochs) // (3 if args.quick else 1)
        exp = replace(exp, train=replace(exp.train, epochs=epochs, device="cpu"))

        def lab(ctx=contextlib.nullcontext):
            def go():
                with ctx():
                    return A.app_run(exp).record
            return go

        cases = {
            "headless": lambda: A.headless_run(exp),
            "lab": lab(),
            "no-charts": lab(lambda: patched(ChartsPane, "redraw_next", lambda self, force=False: None)),
            "no-views": lab(lambda: patched(LabScreen, "refresh_views", lambda self: None)),
            "no-verdict": lab(lambda: patched(VerdictPanel, "show", lambda self, history, final=False: None)),
            "no-layout": lab(lambda: patched(Static, "update", lambda self, content="", *, layout=True:
                                             static_update(self, content, layout=False))),
            "switch-1ms": lab(lambda: switch_interval(0.001)),
            "redraw-1s": lab(lambda: patched(charts, "MIN_REDRAW_INTERVAL", 1.0)),
        }
        if args.variants:
            cases = {k: v for k, v in cases.items() if k == "headless" or k in args.variants}
        raw = C.interleaved(cases, reps, warmup=1)
        base = C.median([r.wall_s for r in raw["headless"]])
        base_cpu = C.median([r.thread_cpu_s for r in raw["headless"]])
        print(f"{preset} ({epochs} epochs): headless {base:.2f} s, training thread {1000 * base_cpu / epochs:.2f} ms CPU per epoch")
        for name, records in raw.items():
            wall = C.median([r.wall_s for r in records])
            cpu = C.median([r.thread_cpu_s for r in records])
            ui = C.median([1000 * (r.process_cpu_s - r.thread_cpu_s) / r.wall_s for r in records])
            print(f"  {name:11s} throughput vs headless {base / wall:.2f}×  ({wall:.2f} s); training thread "
                  f"{1000 * cpu / epochs:.2f} ms CPU per epoch; UI thread {ui:.0f} ms CPU per s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
