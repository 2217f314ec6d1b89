"""Run every regtui benchmark and print one table of ratios vs targets.

    python benchmarks/run_all.py [--quick] [--json out.json] [--only NAME ...]

Benchmarks (one script each, also runnable alone with the same options):
stacking, ui-throughput, ui-latency, charts, startup, long-run.  A benchmark whose
prerequisites are missing prints "skipped: <why>" and the others still run;
one that crashes prints "failed: <error>" and the others still run.
The machine is shared and noisy: every number is a ratio or a percentile
measured within one run, never compared to an absolute time from elsewhere.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

import _common as C

BENCHMARKS = {
    "stacking": "bench_stacking",
    "ui-throughput": "bench_ui_throughput",
    "ui-latency": "bench_ui_latency",
    "charts": "bench_charts",
    "startup": "bench_startup",
    "long-run": "bench_long_run",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a smoke run of every benchmark (~1–2 min in all)")
    p.add_argument("--json", metavar="FILE", help="write every result (and what was skipped) as JSON")
    p.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                   help=f"run only these: {', '.join(BENCHMARKS)}")
    args = p.parse_args(argv)
    results: list[C.Result] = []
    skipped: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name, module in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            found = importlib.import_module(module).run(args.quick)
        except C.Skipped as why:
            skipped[name] = str(why)
            print(f"{name}: skipped: {why}", flush=True)
        except Exception as exc:  # one broken benchmark must not hide the others
            skipped[name] = f"failed: {type(exc).__name__}: {exc}"
            print(f"{name}: failed: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(limit=4)
        else:
            results += found
            C.print_table(found)
        seconds[name] = round(time.perf_counter() - t0, 1)
        print(f"   ({seconds[name]} s)", flush=True)
    print("\n== summary")
    C.print_table(results)
    for name, why in skipped.items():
        print(f"{name}: {why if why.startswith('failed') else 'skipped: ' + why}")
    missed = [r for r in results if r.met is False]
    print(f"\n{sum(r.met is True for r in results)} targets met, {len(missed)} missed, {len(skipped)} benchmark(s) skipped/failed")
    if args.json:
        C.write_json(args.json, results, skipped, quick=args.quick, seconds=seconds)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
