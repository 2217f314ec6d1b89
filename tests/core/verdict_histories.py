"""Constructed run histories for the ranking and verdict tests: every number is chosen."""

from __future__ import annotations

from types import SimpleNamespace

from regtui.core.config import Experiment, TrainConfig, VariantConfig
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochMetrics


def variant(name: str) -> VariantConfig:
    """``baseline`` has no regularizer, ``Dropout…`` drops, anything else is L2."""
    if name.startswith("baseline"):
        return VariantConfig(name)
    if name.startswith("Dropout"):
        return VariantConfig(name, dropout=0.5)
    return VariantConfig(name, l2=1e-3)


def history(curves: dict[str, list[float]], *, seeds: int = 1, train: dict[str, list[float]] | None = None,
            norms: dict[str, list[float]] | None = None, statuses: dict[str, str] | None = None,
            seed_status: dict[str, list[str]] | None = None, shift: dict[str, list[float]] | None = None,
            rank_by: str = "end") -> RunHistory:
    """A RunHistory whose val losses follow ``curves`` (per variant; each seed the same
    curve plus ``shift[name][seed]``), train losses ``train`` (default 0.1), weight norms
    ``norms`` (default 1.0); ``statuses`` / ``seed_status`` are the final statuses."""
    epochs = len(next(iter(curves.values())))
    exp = Experiment(variants=tuple(variant(n) for n in curves),
                     train=TrainConfig(epochs=epochs - 1, seeds=seeds, rank_by=rank_by))
    h = RunHistory(exp)
    for epoch in range(epochs):
        metrics, st = [], []
        last = epoch == epochs - 1
        for name, curve in curves.items():
            for s in range(seeds):
                val = curve[epoch] + (shift or {}).get(name, [0.0] * seeds)[s]
                tr = (train or {}).get(name, [0.1] * epochs)[epoch]
                norm = (norms or {}).get(name, [1.0] * epochs)[epoch]
                metrics.append(EpochMetrics(epoch, tr, val, None, None, tr, 0.0, norm, val - tr, float(epoch)))
                final = (seed_status or {}).get(name, [(statuses or {}).get(name, "finished")] * seeds)[s]
                st.append(final if last else "running")
        h.add(SimpleNamespace(epoch=epoch, seconds=float(epoch), metrics=tuple(metrics), statuses=tuple(st)))
    return h


def overfit_curves() -> dict[str, list[float]]:
    """21 epochs: the baseline dips to 0.30 at epoch 3, then climbs to 1.0; L2 settles at 0.40."""
    baseline = [1.0, 0.6, 0.4, 0.30] + [0.30 + 0.7 * (e - 3) / 17 for e in range(4, 21)]
    l2 = [1.0, 0.7, 0.5, 0.45] + [0.40] * 17
    return {"baseline": baseline, "L2": l2}
