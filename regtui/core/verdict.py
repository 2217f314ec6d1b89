"""A plain-words verdict computed from a run: who won on validation loss, by how
much against the baseline, how the generalization gaps compare, and whether the
ranking holds across seeds (a paired t-test over seeds; "within noise" when not).

Every number and ranking comes from the history; nothing is canned.  Imports
numpy (and scipy, lazily, for the t distribution) only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from regtui.core.run_types import RunStatus

ALPHA = 0.05
CLOSE = 0.01
"""With one seed, best losses within 1 % of each other are called too close."""


@dataclass(frozen=True)
class Paired:
    """Paired comparison of two variants' per-seed best validation losses."""

    n: int
    mean_diff: float
    """mean(a − b): negative when a is lower (better)."""
    p_value: float | None
    """Two-sided paired t-test; None with fewer than two seeds or no spread."""

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


def paired_test(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Two-sided paired t-test of ``a`` against ``b`` over the seeds where both are finite."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(x) & np.isfinite(y)
    d = x[ok] - y[ok]
    n = int(len(d))
    if n == 0:
        return Paired(0, math.nan, None)
    mean = float(d.mean())
    if n < 2:
        return Paired(n, mean, None)
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return Paired(n, mean, 0.0 if mean != 0.0 else 1.0)
    t = mean / (sd / math.sqrt(n))
    from scipy import stats  # scipy comes with scikit-learn

    return Paired(n, mean, float(2 * stats.t.sf(abs(t), df=n - 1)))


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.3e}"


def _baseline(history: Any) -> Any | None:
    for cfg, h in zip(history.experiment.variants, history.variants):
        if cfg.is_baseline:
            return h
    return None


def _per_seed_best(h: Any) -> list[float]:
    if hasattr(h, "best_values"):
        return list(h.best_values())
    return [h.best.val_loss if h.best else math.nan]


def verdict(history: Any) -> str:
    """One to three sentences about the run in ``history`` (a ``RunHistory``)."""
    ranked = sorted((h for h in history.variants if h.best is not None), key=lambda h: h.best.val_loss)
    diverged = [h.name for h in history.variants if h.status == RunStatus.DIVERGED]
    if not ranked:
        return "No variant produced a finite validation loss yet." + _diverged_text(diverged)
    if len(history.variants) == 1:
        h = ranked[0]
        return f"{h.name} reached its lowest validation loss, {_fmt(h.best.val_loss)}, at epoch {h.best.epoch}." + _diverged_text(diverged)
    win = ranked[0]
    if win.best.epoch == 0 and history.epoch > 0:
        return (f"No variant improved on the initial weights' validation loss ({_fmt(win.best.val_loss)} at "
                f"epoch 0): training made things worse (learning rate too high?)." + _diverged_text(diverged))
    parts = [f"{win.name} reached the lowest validation loss ({_fmt(win.best.val_loss)} at epoch {win.best.epoch})"]
    base = _baseline(history)
    if base is not None and base is not win and base.best is not None and base.best.val_loss > 0:
        rel = (base.best.val_loss - win.best.val_loss) / base.best.val_loss
        parts[0] += f", {rel:.0%} below the baseline's best" if rel >= 0.005 else ", level with the baseline's best"
    sentences = [parts[0] + "."]
    gap_text = _gap_sentence(history, base)
    if gap_text:
        sentences.append(gap_text)
    sentences.append(_noise_sentence(history, ranked))
    return " ".join(s for s in sentences if s) + _diverged_text(diverged)


def _gap_sentence(history: Any, base: Any | None) -> str:
    """How far the most overfit variant drifted, against the one that held best."""
    rows = [h for h in history.variants if h.last("gap") is not None and h.best is not None]
    if len(rows) < 2:
        return ""
    rise = lambda h: h.last("val_loss") - h.best.val_loss  # noqa: E731
    worst = base if base in rows else max(rows, key=rise)
    steady = min((h for h in rows if h is not worst), key=lambda h: h.last("val_loss"))
    if rise(worst) > 0.1 * abs(worst.best.val_loss):
        return (f"{worst.name}'s validation loss rose to {_fmt(worst.last('val_loss'))} by epoch {history.epoch} "
                f"(gap {_fmt(worst.last('gap'))}), while {steady.name}'s ended at "
                f"{_fmt(steady.last('val_loss'))} (gap {_fmt(steady.last('gap'))}).")
    return (f"Gaps (val − train) at epoch {history.epoch}: {worst.name} {_fmt(worst.last('gap'))}, "
            f"{steady.name} {_fmt(steady.last('gap'))}.")


def _noise_sentence(history: Any, ranked: list[Any]) -> str:
    if len(ranked) < 2:
        return ""
    win, second = ranked[0], ranked[1]
    seeds = len(getattr(history, "seeds", [0]))
    if seeds < 2:
        rel = (second.best.val_loss - win.best.val_loss) / max(abs(second.best.val_loss), 1e-12)
        if rel < CLOSE:
            return (f"{win.name} and {second.name} are within {rel:.1%} of each other: too close to call "
                    f"with one seed (repeat over seeds to tell).")
        return "One seed only: repeat over seeds to see whether this ranking holds."
    test = paired_test(_per_seed_best(win), _per_seed_best(second))
    if test.significant:
        return (f"Over {test.n} seeds {win.name} beats the runner-up {second.name} "
                f"(paired t-test p = {test.p_value:.3g}).")
    p = "n/a" if test.p_value is None else f"{test.p_value:.2g}"
    return (f"Over {test.n} seeds the difference between {win.name} and {second.name} "
            f"is within noise (paired t-test p = {p}).")


def _diverged_text(names: list[str]) -> str:
    if not names:
        return ""
    return f" Diverged: {', '.join(names)} (loss became NaN, infinite or over 1000× its start; marked and frozen)."
