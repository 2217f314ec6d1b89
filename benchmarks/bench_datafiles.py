"""Benchmark: reading a CSV data file is linear in its number of columns.

A 10-row CSV with a header and ``n`` numeric feature columns (plus a binary
target) is read by ``load_file_dataset`` at n = 10,000, 40,000 and 160,000
(``--quick``: 5,000, 20,000, 80,000).  Target: the time per column at the
largest n is at most 2× the time per column at the smallest (linear; the
``list.index`` lookup it replaced was quadratic: 40,000 columns took 15.5 s,
now 0.05 s, measured on the 2-core machine).  Not part of ``run_all.py``.

    python benchmarks/bench_datafiles.py [--quick] [--json out.json]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import _common as C


def _write(folder: Path, n: int) -> Path:
    path = folder / f"cols{n}.csv"
    header = ",".join(f"c{j}" for j in range(n)) + ",y\n"
    rows = "".join(",".join(str((i * j) % 7) for j in range(n)) + f",{i % 2}\n" for i in range(10))
    path.write_text(header + rows)
    return path


def run(quick: bool) -> list[C.Result]:
    from regtui.core.config import DataConfig
    from regtui.core.datafiles import load_file_dataset

    sizes = (5_000, 20_000, 80_000) if quick else (10_000, 40_000, 160_000)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {n: _write(Path(tmp), n) for n in sizes}
        cases = {n: (lambda p=p: C.timed(lambda: load_file_dataset(DataConfig(dataset="csv", path=str(p)))))
                 for n, p in paths.items()}
        times = C.interleaved(cases, reps=2 if quick else 3)
    per_column = {n: C.median(v) / n for n, v in times.items()}
    results = [C.Result("datafiles", f"read a 10-row CSV of {n:,} columns", C.median(times[n]), "s")
               for n in sizes]
    ratio = per_column[sizes[-1]] / per_column[sizes[0]]
    target, ok = C.check(ratio, "<=", 2.0)
    results.append(C.Result("datafiles", f"time per column, {sizes[-1]:,} / {sizes[0]:,} columns (linearity)",
                            ratio, target=target, met=ok))
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("datafiles", __doc__.splitlines()[0], run))
