"""Prototype (not part of run_all): dropout masks drawn into one buffer.

``StackedMLP._drop`` builds each dropout member's mask with four torch calls
(``rand``, ``>=``, ``to(float32)``, ``* 1/(1-p)``), then ``stack`` and, when
only some members use dropout, ``ones_like`` + an indexed assignment: about
4·U + 4 calls per layer for U dropout members.  The prototype keeps a ``[K,
*shape]`` buffer of ones, lets each dropout member's generator ``rand`` into
its own slice (same generator, same shape: the same numbers), then builds
every member's multiplier at once: ``(buf >= p) * 1/(1-p)`` with ``p = 0``
(multiplier 1) for the others: U + 3 calls per layer.  It checks that the
trained weights are bit-identical to the original, then times the training
steps of the ``article`` preset at K = 1, 4, 16 (original vs prototype,
interleaved, medians).

    python benchmarks/prototype_dropout.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import types
from dataclasses import replace

import _common as C
from bench_stacking import _events_timing, _setup, variants16


def fast_drop(model):
    """Replace ``model._drop`` on this instance by the buffered version."""
    import torch

    cache: dict = {}

    def _drop(self, h, probs):
        if not self.training:
            return h
        key = (tuple(probs), tuple(h.shape[1:]))
        entry = cache.get(key)
        if entry is None:
            users = [k for k, p in enumerate(probs) if p > 0.0]
            if not users:
                cache[key] = entry = (None, None, None, ())
            else:
                shape = (self.k, *h.shape[1:])
                view = (self.k,) + (1,) * (len(shape) - 1)
                p = torch.tensor(probs, dtype=torch.float32, device=h.device).view(view)
                inv = torch.tensor([1.0 / (1.0 - q) for q in probs], dtype=torch.float32, device=h.device).view(view)
                cache[key] = entry = (torch.ones(shape, device=h.device), p, inv, users)
        buf, p, inv, users = entry
        if not users:
            return h
        for k in users:
            torch.rand(buf.shape[1:], generator=self.generators[k], out=buf[k])
        return h * ((buf >= p) * inv)

    model._drop = types.MethodType(_drop, model)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    import torch

    from regtui.core.training import Training, configure_torch

    configure_torch()
    exp, ds = _setup("article", 2)
    # n_train = 150, batch 32: the last batch has 22 rows -> a second buffer shape, also checked
    a, b = Training(exp, dataset=ds), Training(exp, dataset=ds)
    fast_drop(b.model)
    for _ in a.events():
        pass
    for _ in b.events():
        pass
    same = all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    print(f"bit-identical weights after 2 epochs (4 variants, 2 with dropout): {same}")
    if not same:
        return 1
    epochs = 4 if args.quick else 12
    exp, ds = _setup("article", epochs)
    experiments = {"K=1 baseline": replace(exp, variants=exp.variants[:1]),
                   "K=1 dropout": replace(exp, variants=exp.variants[2:3]),
                   "K=4": exp, "K=16": replace(exp, variants=variants16(exp.variants))}

    def run(e, fast):
        t = Training(e, dataset=ds)
        if fast:
            fast_drop(t.model)
        return _events_timing(t)[0]

    cases = {}
    for name, e in experiments.items():
        cases[f"{name} original"] = lambda e=e: run(e, False)
        cases[f"{name} prototype"] = lambda e=e: run(e, True)
    raw = C.interleaved(cases, 2 if args.quick else 7)
    med = {k: C.median(v) for k, v in raw.items()}
    one = med["K=1 baseline original"]
    for name in experiments:
        o, f = med[f"{name} original"], med[f"{name} prototype"]
        print(f"{name:13s} steps: original {o / one:.2f}× one, prototype {f / med['K=1 baseline prototype']:.2f}× one;"
              f" prototype / original {f / o:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
