"""A plain-words verdict that tells a run's story in the numbers its table shows.

In this order, one sentence each (``verdict_sentences``):

1. did the baseline overfit — its validation loss rose from its best (X at
   epoch a) to Y where training ends, with the final gap;
2. what each regularizer did — held its validation loss at …, or let it
   rise to …; its weights shrank from ‖w‖ … to … (or stayed below the
   baseline's);
3. who wins by the ranking statistic (``regtui.core.ranking``) and by how
   much, against the baseline and the runner-up;
4. whether that holds over seeds: a paired t-test over seeds of the winner's
   per-seed statistic against the baseline's *and* the runner-up's, both named;
5. with the end statistic, whether stopping the baseline at its best epoch
   would have matched the regularizers (early stopping).

Diverged variants are named last and never win.  The first sentence is kept
short enough for one 80-column line with ordinary names (the lab shows it,
the rest one key away).  Every number comes from the history; nothing is
canned.  Imports numpy (and scipy, lazily, for the t distribution) only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from regtui.core.ranking import Ranked, end_window, label, member_value, ranked

ALPHA = 0.05
CLOSE = 0.01
"""With one seed, statistics within 1 % of each other are called too close."""
ROSE = 0.10
"""A variant overfit when its end validation loss is over 10 % above its best."""
MATCH = 0.05
"""The stopped baseline "matches" the winner when its best is at most 5 % above it."""


@dataclass(frozen=True)
class Paired:
    """Paired comparison of two variants' per-seed statistics."""

    n: int
    mean_diff: float
    """mean(a − b): negative when a is lower (better)."""
    p_value: float | None
    """Two-sided paired t-test; None with fewer than two seeds."""

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


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _pct(a: float, b: float) -> float:
    """How far ``a`` is below ``b``, as a fraction of ``b``."""
    return (b - a) / abs(b) if b else 0.0


@dataclass(frozen=True)
class _Story:
    """What one variant did, in the numbers of the table."""

    ranked: Ranked
    best: float
    """Its lowest validation loss (with seeds: the mean of the seeds' lowest, as the table shows)."""
    best_epoch: int
    end: float
    """Its end validation loss (the end statistic, whatever the run is ranked by)."""
    gap: float | None
    norm0: float | None
    norm: float | None

    @property
    def name(self) -> str:
        return self.ranked.name

    @property
    def rose(self) -> bool:
        return self.end > self.best * (1 + ROSE) and self.end - self.best > 1e-12

    @property
    def overfit(self) -> bool:
        """Whether it rose after falling first (what the first sentence calls overfitting)."""
        return self.rose and self.best_epoch > 0


def _story(r: Ranked) -> _Story | None:
    h = r.history
    best = h.best
    if best is None:
        return None
    members = list(getattr(h, "members", None) or [h])
    bests = [m.best.val_loss for m in members if m.best is not None]
    end = [v for v in (_end(m) for m in members) if math.isfinite(v)]
    norms = h.series("weight_norm")
    return _Story(r, float(np.mean(bests)), best.epoch, float(np.mean(end)) if end else math.nan,
                  h.last("gap"), float(norms[0]) if len(norms) and math.isfinite(norms[0]) else None,
                  h.last("weight_norm"))


def _end(member: Any) -> float:
    return member_value(member.series("val_loss"), "end")


def verdict(history: Any, rank_by: str | None = None) -> str:
    """The whole verdict as one paragraph (see ``verdict_sentences``)."""
    return " ".join(verdict_sentences(history, rank_by))


def verdict_sentences(history: Any, rank_by: str | None = None) -> list[str]:
    """The verdict about ``history`` (a ``RunHistory``), sentence by sentence, ranked by
    ``rank_by`` (default: the experiment's ``train.rank_by``)."""
    rank_by = rank_by or history.experiment.train.rank_by
    order = ranked(history.variants, rank_by)
    diverged = [r.name for r in order if any(r.score.diverged)]
    tail = [_diverged_text(diverged)] if diverged else []
    live = [r for r in order if r.score.rankable]
    if not live:
        if any(r.score.value is not None for r in order):
            return ["No variant may be ranked: each diverged on some seed."] + tail
        return ["No variant produced a finite validation loss yet."] + tail
    stat = label(rank_by)
    win = live[0]
    if len(history.variants) == 1:
        s = _story(win)
        assert s is not None
        return [f"{win.name} ended at {stat} {_fmt(win.score.value)}; its lowest validation loss was "
                f"{_fmt(s.best)} at epoch {s.best_epoch}."] + tail
    epoch0 = [float(v[0]) for r in live if len(v := r.history.series("val_loss")) and math.isfinite(v[0])]
    if history.epoch > 0 and epoch0 and win.score.value >= min(epoch0):
        return [f"No variant ended below the initial weights' validation loss ({_fmt(min(epoch0))} at epoch 0): "
                f"training made things worse (learning rate too high?)."] + tail
    stories = {r.index: s for r in live if (s := _story(r)) is not None}
    base = _baseline(history, live)
    sentences = []
    if base is not None and base.index in stories:
        sentences.append(_overfit_sentence(stories[base.index]))
    regs = [stories[r.index] for r in sorted(live, key=lambda r: r.index)
            if (base is None or r.index != base.index) and r.index in stories]
    if base is not None and regs:
        sentences.append(_regularizer_sentence(regs, stories.get(base.index)))
    winner_text = _winner_sentence(win, live, base, stat, rank_by, len(history.seeds))
    sentences.append(winner_text)
    if not winner_text.endswith("too close to call with one seed."):
        sentences.append(_noise_sentence(win, live, base, len(history.seeds)))
    if rank_by == "end" and base is not None and base is not win and base.index in stories:
        sentences.append(_early_stopping_sentence(stories[base.index], win, stat))
    return [s for s in sentences if s] + tail


def _baseline(history: Any, live: list[Ranked]) -> Ranked | None:
    """The first variant without regularization, if it may be ranked."""
    for i, cfg in enumerate(history.experiment.variants):
        if cfg.is_baseline:
            return next((r for r in live if r.index == i), None)
    return None


def _overfit_sentence(b: _Story) -> str:
    gap = f" (gap {_fmt(b.gap)})" if b.gap is not None else ""
    if b.overfit:
        return f"{b.name} overfit: val loss rose from {_fmt(b.best)} at epoch {b.best_epoch} to {_fmt(b.end)}{gap}."
    gap = f", gap {_fmt(b.gap)}" if b.gap is not None else ""
    return f"{b.name} did not overfit: val loss ended at {_fmt(b.end)}, best {_fmt(b.best)}{gap}."


def _held(s: _Story, base: _Story | None) -> bool:
    """Whether a regularized variant kept its validation loss down: it did not rise
    (10 %) above its best, or rose by at most half as much as an overfitting baseline."""
    if base is not None and base.rose:
        return s.end - s.best <= 0.5 * (base.end - base.best)
    return not s.rose


def _regularizer_sentence(regs: list[_Story], base: _Story | None) -> str:
    return "; ".join(_regularizer_text(s, base) for s in regs) + "."


def _regularizer_text(s: _Story, base: _Story | None) -> str:
    """What one regularizer did to the validation loss: held it, rose as the baseline's did
    ("too" only after a baseline that overfit), or overfit where the baseline did not."""
    if _held(s, base):
        text = f"{s.name} held it at {_fmt(s.end)}"
    elif base is not None and base.overfit:
        text = f"{s.name}'s rose too, to {_fmt(s.end)} (from {_fmt(s.best)} at epoch {s.best_epoch})"
    else:
        rise = f"val loss rose from {_fmt(s.best)} at epoch {s.best_epoch} to {_fmt(s.end)}"
        where = " where the baseline did not" if base is not None else ""
        text = f"{s.name} overfit{where}: its {rise}" if s.overfit else f"{s.name}'s {rise}"
    if s.gap is not None:
        text += f", gap {_fmt(s.gap)}"
    if s.norm is not None and s.norm0 is not None and s.norm < s.norm0 * 0.98:
        text += f", its weights shrank from ‖w‖ {_fmt(s.norm0)} to {_fmt(s.norm)}"
    elif s.norm is not None and base is not None and base.norm is not None and s.norm < base.norm * 0.9:
        text += f", ‖w‖ {_fmt(s.norm)} against the baseline's {_fmt(base.norm)}"
    return text


def _winner_sentence(win: Ranked, live: list[Ranked], base: Ranked | None, stat: str, rank_by: str,
                     seeds: int) -> str:
    value = win.score.value
    window = end_window(len(win.history) - 1)
    span = f"mean of the last {window} epochs" if window > 1 else "its last epoch"
    by = f"by {stat} ({span})" if rank_by == "end" else f"by {stat} (each variant's best epoch: early stopping)"
    text = f"Ranked {by}, {win.name} wins with {_fmt(value)}"
    second = live[1] if len(live) > 1 else None
    if base is not None and base is not win:
        text += f", {_pct(value, base.score.value):.0%} below the baseline's {_fmt(base.score.value)}"
    if second is not None and second is not base:
        rel = _pct(value, second.score.value)
        if seeds < 2 and rel < CLOSE:
            return (text + f"; the runner-up {second.name} ({_fmt(second.score.value)}) is within {rel:.1%}: "
                    "too close to call with one seed.")
        text += f", {rel:.0%} below the runner-up {second.name}'s {_fmt(second.score.value)}"
    elif second is not None and seeds < 2 and _pct(value, second.score.value) < CLOSE:
        return (text + f"; {second.name} is within {_pct(value, second.score.value):.1%}: "
                "too close to call with one seed.")
    if base is win and second is not None:
        text += ": regularization did not help here"
    return text + "."


def _noise_sentence(win: Ranked, live: list[Ranked], base: Ranked | None, seeds: int) -> str:
    second = live[1] if len(live) > 1 else None
    if second is None:
        return ""
    if seeds < 2:
        return "One seed only: repeat over seeds (train.seeds) to see whether this holds."
    rivals = [r for r in (base, second) if r is not None and r is not win]
    tests = [(r, paired_test(win.score.per_seed, r.score.per_seed)) for r in dict.fromkeys(rivals)]
    n = max(t.n for _, t in tests)
    held = [f"{'the baseline' if r is base else 'the runner-up ' + r.name} (p = {_p(t.p_value)})"
            for r, t in tests if t.significant and t.mean_diff < 0]
    noise = [f"{'the baseline' if r is base else 'the runner-up ' + r.name} (p = {_p(t.p_value)})"
             for r, t in tests if not (t.significant and t.mean_diff < 0)]
    if held and not noise:
        return f"Over {n} seeds {win.name} beats {' and '.join(held)} in a paired t-test."
    if held:
        return (f"Over {n} seeds {win.name} beats {' and '.join(held)}, but not {' and '.join(noise)}: "
                "within noise in a paired t-test.")
    return f"Over {n} seeds {win.name}'s lead over {' and '.join(noise)} is within noise in a paired t-test."


def _early_stopping_sentence(b: _Story, win: Ranked, stat: str) -> str:
    if not b.overfit:
        return ""
    value = win.score.value
    if b.best <= value * (1 + MATCH):
        return (f"Stopped at its best epoch ({b.best_epoch}), {b.name} would have matched the regularizers: "
                f"{_fmt(b.best)} against {win.name}'s {_fmt(value)} (early stopping).")
    return (f"Even stopped at its best epoch ({b.best_epoch}), {b.name} ({_fmt(b.best)}) stays above "
            f"{win.name}'s {_fmt(value)}.")


def _diverged_text(names: list[str]) -> str:
    return f"Diverged: {', '.join(names)} (loss became NaN, infinite or over 1000× its start; marked and frozen)."
