"""Before/after (not part of run_all): the trainer of two git revisions, side by side.

    python benchmarks/ab_revisions.py BEFORE [AFTER] [--rounds N] [--cases NAME ...] [--threads N]
                                      [--threads-after N] [--stat median|min]

``BEFORE`` and ``AFTER`` are git revisions of this repository (``AFTER``
defaults to the working tree).  Each revision's ``regtui/`` is exported to a
temporary folder; every round starts one child process per revision (in a
rotating order, the first round dropped as a warm-up) that runs every case
and reports, per case, the median over its epochs of

* **step**: CPU time of the training thread per optimizer step (``BatchEnd``);
* **eval**: CPU time per epoch spent outside the steps (the per-epoch
  evaluation of both splits and the report);
* **epoch**: wall time per whole epoch, and **epoch CPU**: CPU time per whole
  epoch (steps + evaluation).

CPU time (``time.thread_time``) is far steadier than wall time on a shared,
loaded machine; the ratios after/before are what to read.  Over the rounds the
median is reported (``--stat min``: the least, which contention with other
processes can only raise).  The cases are the
``article`` preset (digits, 64-128-64-10, Keras's Adam, L2 + dropout) at K = 1,
4, 16, ``moons-overfit`` at K = 1, 4, 16 and the synthetic 784-input net of
``bench_stacking`` at K = 4, 16 (the K=16 variants: the preset's four at four
strengths each).  Results: benchmarks/README.md, "Issue 20".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES = ["article K1", "article K4", "article K16", "moons K1", "moons K4", "moons K16", "784 K4", "784 K16"]

CHILD = r'''
import dataclasses, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(int(sys.argv[3]))
import bench_stacking as B
from regtui.core.run_types import BatchEnd
from regtui.core.training import Training

def case(name):
    net, k = name.split()
    if net == "784":
        exp, ds = B._setup("mnist784", 3)
    else:
        exp = B.C.load_preset("article" if net == "article" else "moons-overfit")
        exp = dataclasses.replace(exp, train=dataclasses.replace(exp.train, device="cpu",
                                                                  epochs=12 if net == "article" else 30))
        ds = None
    exp = dataclasses.replace(exp, variants={"K1": exp.variants[:1], "K4": exp.variants,
                                             "K16": B.variants16(exp.variants)}[k])
    return exp, ds

out = {}
for name in sys.argv[2].split(","):
    exp, ds = case(name)
    t = Training(exp, dataset=ds)
    g = t.events()
    next(g)  # epoch 0, not timed
    steps, evals, walls, cpus = [], [], [], []
    cpu = time.thread_time
    step_sum, n = 0.0, 0
    c_epoch, w_epoch = cpu(), time.perf_counter()
    c0 = cpu()
    for ev in g:
        c1 = cpu()
        if isinstance(ev, BatchEnd):
            step_sum += c1 - c0
            n += 1
        else:
            steps.append(step_sum / n)
            evals.append(c1 - c_epoch - step_sum)
            walls.append(time.perf_counter() - w_epoch)
            cpus.append(c1 - c_epoch)
            step_sum, n = 0.0, 0
            c_epoch, w_epoch = cpu(), time.perf_counter()
        c0 = cpu()
    out[name] = [statistics.median(steps), statistics.median(evals), statistics.median(walls), statistics.median(cpus)]
print("RESULT " + json.dumps(out))
'''


def export(rev: str | None, into: Path) -> Path:
    """``regtui/`` of ``rev`` (None: the working tree) under ``into``."""
    into.mkdir(parents=True)
    if rev is None:
        subprocess.run(["cp", "-r", str(ROOT / "regtui"), str(into)], check=True)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "regtui"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before")
    p.add_argument("after", nargs="?")
    p.add_argument("--rounds", type=int, default=4, help="measured rounds (a warm-up round is added)")
    p.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    p.add_argument("--threads", type=int, default=1, help="torch threads of both (default 1, as regtui)")
    p.add_argument("--threads-after", type=int, help="torch threads of AFTER only: compare thread counts "
                                                       "(give the same revision twice)")
    p.add_argument("--stat", choices=("median", "min"), default="median", help="over the rounds (default median)")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="regtui-ab-") as tmp:
        trees = {"before": export(args.before, Path(tmp) / "before"), "after": export(args.after, Path(tmp) / "after")}
        env = dict(os.environ, PYTHONPATH=str(HERE), REGTUI_HOME=str(Path(tmp) / "home"))
        raw: dict[str, list[dict]] = {"before": [], "after": []}
        names = list(trees)
        for r in range(args.rounds + 1):
            for which in names[r % 2:] + names[:r % 2]:
                proc = subprocess.run([sys.executable, "-c", CHILD, str(trees[which]), ",".join(args.cases),
                                       str(args.threads_after if which == "after" and args.threads_after
                                           else args.threads)], capture_output=True, text=True, env=env, cwd=tmp)
                line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
                if proc.returncode or not line:
                    print(f"{which} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                    return 1
                if r:
                    raw[which].append(json.loads(line[0][7:]))
    stat = statistics.median if args.stat == "median" else min
    print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds ({args.stat}); CPU ms of the training thread "
          f"(wall ms for whole epochs); {args.before} -> {args.after or 'working tree'}")
    print(f"{'case':12s} {'step before':>11s} {'after':>7s} {'ratio':>6s}  {'eval before':>11s} {'after':>7s} "
          f"{'ratio':>6s}  {'epoch before':>12s} {'after':>7s} {'ratio':>6s}")
    summary = {}
    for name in args.cases:
        row = []
        for i in range(4):
            b = stat(x[name][i] for x in raw["before"]) * 1e3
            a = stat(x[name][i] for x in raw["after"]) * 1e3
            row += [b, a, a / b]
        summary[name] = row
        print(f"{name:12s} {row[0]:11.3f} {row[1]:7.3f} {row[2]:5.2f}×  {row[3]:11.2f} {row[4]:7.2f} {row[5]:5.2f}×  "
              f"{row[6]:12.2f} {row[7]:7.2f} {row[8]:5.2f}×")
    print("epoch CPU ms: " + ", ".join(f"{n} {summary[n][9]:.2f} → {summary[n][10]:.2f} ({summary[n][11]:.2f}×)"
                                      for n in args.cases))
    for net, one in (("article", "article K1"), ("moons", "moons K1")):
        if one in summary:
            for k in ("K4", "K16"):
                name = f"{net} {k}"
                if name in summary:
                    a, b = summary[name], summary[one]
                    print(f"{name} / {one}: whole epochs (CPU) before {a[9] / b[9]:.2f}×, after {a[10] / b[10]:.2f}×; "
                          f"(wall) before {a[6] / b[6]:.2f}×, after {a[7] / b[7]:.2f}×; steps before "
                          f"{a[0] / b[0]:.2f}×, after {a[1] / b[1]:.2f}×; evaluation before {a[3] / b[3]:.2f}×, "
                          f"after {a[4] / b[4]:.2f}×")
    if args.json:
        Path(args.json).write_text(json.dumps({"raw": raw, "summary": summary}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
