"""Shared helpers of the benchmark scripts: timing, interleaving, results.

Every benchmark reports *ratios measured in one run*: the A/B cases are
interleaved (A, B, A, B, ... in a rotating order) and compared by their
medians, so noise from other processes on the machine hits both sides alike.
A benchmark whose prerequisites are missing (e.g. the UI is not written yet)
raises ``Skipped``; ``run_all.py`` prints "skipped: <why>" and goes on.

Imports the standard library only; torch and textual are imported by the
benchmarks that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "presets"


class Skipped(Exception):
    """A benchmark cannot run here; ``str()`` says why."""


@dataclass
class Result:
    """One measured number, its target and whether the target is met."""

    benchmark: str
    metric: str
    value: float
    unit: str = "×"
    target: str = ""
    """Human-readable target, e.g. ``≤ 2.0``; empty when informational."""
    met: bool | None = None
    """None when there is no target."""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def check(value: float, op: str, limit: float) -> tuple[str, bool]:
    """``(target text, met)`` for ``value op limit``; op is ``<=``, ``<``, ``>=``."""
    ok = {"<=": value <= limit, "<": value < limit, ">=": value >= limit, ">": value > limit}[op]
    pretty = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}[op]
    return f"{pretty} {limit:g}", ok


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def interleaved(cases: dict[str, Callable[[], Any]], reps: int, warmup: int = 1) -> dict[str, list[Any]]:
    """Run every case ``reps`` times, rotating the order each round.

    A case returns either a float (seconds) or any object the caller reduces.
    ``warmup`` rounds run first and are dropped.
    """
    names = list(cases)
    out: dict[str, list[Any]] = {n: [] for n in names}
    for r in range(warmup + reps):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            value = cases[name]()
            if r >= warmup:
                out[name].append(value)
    return out


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


_SCRATCH: str | None = None


def scratch_home() -> str:
    """Point ``REGTUI_HOME`` (the lab's run history) at a temporary folder for
    this process and its children, so benchmark runs never land in the user's
    history; removed at exit."""
    global _SCRATCH
    if _SCRATCH is None:
        import atexit
        import shutil
        import tempfile

        _SCRATCH = tempfile.mkdtemp(prefix="regtui-bench-")
        atexit.register(shutil.rmtree, _SCRATCH, True)
        os.environ["REGTUI_HOME"] = _SCRATCH
    return _SCRATCH


def load_preset(name: str):
    from regtui.core.presets import load_file

    return load_file(PRESETS / f"{name}.toml")


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        info["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        pass
    return info


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a ~20 s smoke run (fewer repetitions, smaller sizes)")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    return p


def fmt_value(r: Result) -> str:
    if r.unit == "ms":
        return f"{r.value:.1f} ms"
    if r.unit == "s":
        return f"{r.value:.2f} s"
    if r.unit == "%":
        return f"{r.value:.0f} %"
    if r.unit == "×":
        return f"{r.value:.2f}×"
    return f"{r.value:.3g} {r.unit}".strip()


def print_table(results: Sequence[Result], file=sys.stdout) -> None:
    rows = [("benchmark", "metric", "value", "target", "met")]
    for r in results:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        rows.append((r.benchmark, r.metric, fmt_value(r), r.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=file)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=file)
    for r in results:
        if r.note:
            print(f"  note [{r.benchmark} / {r.metric}]: {r.note}", file=file)


def write_json(path: str, results: Sequence[Result], skipped: dict[str, str] | None = None, **meta: Any) -> None:
    payload = {
        "machine": machine(),
        "results": [asdict(r) for r in results],
        "skipped": skipped or {},
        **meta,
    }
    Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def script_main(name: str, description: str, run: Callable[[bool], list[Result]], argv: Sequence[str] | None = None) -> int:
    """The ``__main__`` of one benchmark script."""
    args = parser(description).parse_args(argv)
    try:
        results = run(args.quick)
    except Skipped as why:
        print(f"{name}: skipped: {why}")
        if args.json:
            write_json(args.json, [], {name: str(why)})
        return 0
    print_table(results)
    if args.json:
        write_json(args.json, results)
    return 0
