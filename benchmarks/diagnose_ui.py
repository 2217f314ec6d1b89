"""Diagnosis (not part of run_all): where does the lab's training throughput go?

Runs the ``moons-overfit`` and ``article`` presets in the lab with parts of
the UI switched off by monkeypatching (never by editing the code), interleaved
with headless runs, and prints each variant's throughput relative to headless:

* ``lab``          -- the lab as it is;
* ``no-charts``    -- ``ChartsPane.redraw_next`` does nothing (no plotext);
* ``no-views``     -- ``LabScreen.refresh_views`` does nothing (no table,
                      chart data or status updates; messages still handled);
* ``switch-1ms``   -- the lab as it is, with ``sys.setswitchinterval(0.001)``;
* ``redraw-1s``    -- ``charts.MIN_REDRAW_INTERVAL`` = 1.0 (each chart at most
                      once a second instead of every 0.3 s).

    python benchmarks/diagnose_ui.py [--quick] [--variants NAME ...]
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
    p.add_argument("--variants", nargs="+", metavar="NAME", help="only these lab variants (headless always runs)")
    args = p.parse_args()
    A.require_ui("ChartsPane")
    from regtui.core.training import configure_torch
    from regtui.ui.screens.lab import LabScreen
    from regtui.ui.widgets import loss_charts as charts
    from regtui.ui.widgets.loss_charts import ChartsPane

    configure_torch()
    reps = 1 if args.quick else 3
    for preset, epochs in (("moons-overfit", 500), ("article", 200)):
        exp = C.load_preset(preset)
        exp = replace(exp, train=replace(exp.train, epochs=epochs // (3 if args.quick else 1), device="cpu"))

        def lab(ctx=contextlib.nullcontext):
            def go():
                with ctx():
                    r = A.app_run(exp)
                return r.record.wall_s
            return go

        cases = {
            "headless": lambda: A.headless_run(exp).wall_s,
            "lab": lab(),
            "no-charts": lab(lambda: patched(ChartsPane, "redraw_next", lambda self, force=False: None)),
            "no-views": lab(lambda: patched(LabScreen, "refresh_views", lambda self: None)),
            "switch-1ms": lab(lambda: switch_interval(0.001)),
            "redraw-1s": lab(lambda: patched(charts, "MIN_REDRAW_INTERVAL", 1.0)),
        }
        if args.variants:
            cases = {k: v for k, v in cases.items() if k == "headless" or k in args.variants}
        raw = C.interleaved(cases, reps, warmup=1)
        base = C.median(raw["headless"])
        print(f"{preset} ({exp.train.epochs} epochs): headless {base:.2f} s")
        for name, values in raw.items():
            print(f"  {name:11s} throughput vs headless {base / C.median(values):.2f}×  ({C.median(values):.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
