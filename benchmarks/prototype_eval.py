"""Prototype (not part of run_all): the evaluation and cross-entropy changes of issue 20, A/B.

"old" puts back, by monkeypatching, what ``regtui.core.training`` /
``regtui.core.model`` did before: ``F.cross_entropy`` in ``_data_loss``,
and out-of-place activations.  "new" is the code
as it is.  Each case (the ``article`` preset at K = 1, 4, 16 and the synthetic
784-input net at K = 4, 16) trains a few epochs, interleaved old/new, and
reports the median step time and evaluation time per epoch in **CPU time of
the training thread** (``time.thread_time``): on a shared machine that is far
steadier than wall time.  Results: benchmarks/README.md, "Issue 20".

    python benchmarks/prototype_eval.py
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import bench_stacking as B  # noqa: E402
import regtui.core.training as T  # noqa: E402
from regtui.core import presets  # noqa: E402
from regtui.core.model import ACTIVATIONS  # noqa: E402

torch.set_num_threads(1)
new_loss = T.Training._data_loss


def old_loss(self, out, y):
    k, b = out.shape[0], out.shape[1]
    if self.dataset.task == "classification":
        flat_y = y.repeat(k) if y.dim() == 1 else y.reshape(k * b)
        flat = torch.nn.functional.cross_entropy(out.reshape(k * b, -1), flat_y, reduction="none")
        return flat.view(k, b).mean(1)
    return ((out.squeeze(-1) - y) ** 2).mean(1)


def run(which, e, ds):
    T.Training._data_loss = old_loss if which == "old" else new_loss
    t = T.Training(e, dataset=ds)
    if which == "old":
        t.model.act = ACTIVATIONS[e.model.activation]
    clock = time.thread_time
    g = t.events()
    next(g)
    steps, n = 0.0, 0
    t0 = start = clock()
    for ev in g:
        t1 = clock()
        if type(ev).__name__ == "BatchEnd":
            steps += t1 - t0
            n += 1
        t0 = clock()
    return steps / n * 1e3, (t0 - start - steps) / e.train.epochs * 1e3


def main() -> None:
    exp = presets.load("article")
    exp = dataclasses.replace(exp, train=dataclasses.replace(exp.train, device="cpu", epochs=6))
    mn_exp, mn_ds = B._setup("mnist784", 1)
    cases = {"article K1": (dataclasses.replace(exp, variants=exp.variants[:1]), None), "article K4": (exp, None),
             "article K16": (dataclasses.replace(exp, variants=B.variants16(exp.variants)), None),
             "mnist784 K4": (mn_exp, mn_ds),
             "mnist784 K16": (dataclasses.replace(mn_exp, variants=B.variants16(mn_exp.variants)), mn_ds)}
    res: dict = {}
    for r in range(5):
        for name, (e, ds) in cases.items():
            for which in (("old", "new") if r % 2 else ("new", "old")):
                res.setdefault((name, which), []).append(run(which, e, ds))

    def med(v):
        v = sorted(v)[1:]  # the warm-up rep dropped
        return v[len(v) // 2]

    for name in cases:
        o, n = res[(name, "old")], res[(name, "new")]
        so, sn = med([a for a, _ in o]), med([a for a, _ in n])
        eo, en = med([b for _, b in o]), med([b for _, b in n])
        print(f"{name}: step old {so:.3f} new {sn:.3f} ms ({sn/so:.2f}x); eval/epoch old {eo:.2f} new {en:.2f} ms ({en/eo:.2f}x)")


if __name__ == "__main__":
    main()
