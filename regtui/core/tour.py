"""The guided tour: six steps through the article, each a preset, a text and a check.

A ``Step`` says what it shows and why (``text``), what to watch on the screen
(``watch``), which bundled preset it runs (``preset``, an ordinary preset a
person can open, change and run alone) and how (``kind``: ``compare`` trains
the preset's variants side by side, ``sweep`` runs its ``[[sweep]]`` grid).
Once the run ends, ``step.check(result)`` looks at that run's numbers and
returns a ``Finding``: whether the effect appeared this time, one or two
sentences built from the numbers, and a small table.  A compare step's result
is a ``RunHistory`` (or anything with its reading interface); a sweep step's is
the list of ``SweepPoint`` the sweep produced.

The steps follow the article: a network overfitting, L2, Dropout, the two
side by side on the article's network, coupled L2 against decoupled weight
decay under Adam, and more data.

Plain Python, numpy and the ranking statistic: no torch, no UI.  Histories and sweep points are read
by duck typing, so tests check the checks on constructed histories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from regtui.core.ranking import score

COMPARE, SWEEP = "compare", "sweep"
RISE = 0.10
"""Step 1: the end validation loss must lie this fraction above the best one to
count as the curve turning up."""
SAME = 0.05
"""Relative differences below this are read as "the same" (step 2's shrinking,
step 5's weight norms)."""


@dataclass(frozen=True)
class Finding:
    """What a step's check read in one run."""

    appeared: bool | None
    """True: the effect showed; False: it did not this time; None: the run cannot
    tell (too short, stopped early, every variant diverged)."""
    summary: str
    """One to three sentences with the run's numbers."""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    """The numbers the summary is built from, as text cells."""

    @property
    def label(self) -> str:
        return {True: "appeared", False: "did not appear this time", None: "cannot tell"}[self.appeared]


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    preset: str
    """The bundled preset this step runs."""
    kind: str
    """``compare`` (the preset's variants side by side) or ``sweep`` (its grid)."""
    text: str
    """What the step shows and why, in a few sentences."""
    watch: str
    """What to look at on the screen while it runs."""
    check: Callable[[Any], Finding]


# --------------------------------------------------------------------------- reading a run

def fmt(x: float | None) -> str:
    """A number as the tour prints it: 3 significant digits, – when missing."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"


def pct(new: float, old: float) -> str:
    """``new`` relative to ``old`` as a signed percentage, e.g. ``+145 %``."""
    if not old or not math.isfinite(new) or not math.isfinite(old):
        return "–"
    return f"{(new - old) / abs(old):+.0%}".replace("%", " %")


def knob(x: float) -> str:
    """A knob's value as a preset writes it: ``0.001``, ``0.5``, ``1e-05``."""
    return f"{x:g}"


def end_val(h: Any) -> float:
    """The validation loss where training ends (``regtui.core.ranking``, ``end``: the
    mean over the last 10 % of the epochs, mean over seeds); NaN without a value."""
    value = score(h, "end").value
    return math.nan if value is None else value


def _epochs(history: Any) -> int:
    return max(0, int(getattr(history, "epoch", 0)))


def _unreadable(history: Any, need: int = 2) -> Finding | None:
    """A Finding for a run too short or too broken to read, else None."""
    if _epochs(history) < need:
        return Finding(None, f"The run trained {_epochs(history)} epoch(s); the check needs at least {need}.")
    live = [h for h in history.variants if not str(h.status).startswith("diverged")]
    if not live:
        return Finding(None, "Every variant diverged, so there is nothing to compare.")
    return None


def _last(h: Any, metric: str) -> float:
    value = h.last(metric)
    return math.nan if value is None else float(value)


def _value_at(h: Any, metric: str, epoch: int) -> float:
    values = h.series(metric)
    return float(values[epoch]) if 0 <= epoch < len(values) else math.nan


def _variants(history: Any) -> list[tuple[Any, Any]]:
    """(config, history) of every variant, in the experiment's order."""
    return list(zip(history.experiment.variants, history.variants))


def _diverged(h: Any) -> bool:
    return str(h.status).startswith("diverged")


# --------------------------------------------------------------------------- 1 overfitting

def check_overfitting(history: Any) -> Finding:
    """The first variant's validation loss turns up while its training loss keeps falling."""
    bad = _unreadable(history)
    if bad:
        return bad
    h = history.variants[0]
    best = h.best
    if best is None or _diverged(h):
        return Finding(None, f"{h.name} diverged before its curves could be read.")
    end, last = end_val(h), _epochs(history)
    train_best, train_end = _value_at(h, "train_loss", best.epoch), _last(h, "train_loss")
    rows = (("start", "0", fmt(_value_at(h, "train_loss", 0)), fmt(_value_at(h, "val_loss", 0))),
            ("lowest val", str(best.epoch), fmt(train_best), fmt(best.val_loss)),
            ("end", str(last), fmt(train_end), fmt(end)))
    header = ("", "epoch", "train loss", "val loss")
    rise = (end - best.val_loss) / best.val_loss if best.val_loss > 0 else 0.0
    n = history.experiment.data.n_train
    if best.epoch < last and rise >= RISE and train_end < train_best:
        text = (f"Validation loss fell to {fmt(best.val_loss)} at epoch {best.epoch}, then rose to {fmt(end)} "
                f"by the end ({pct(end, best.val_loss)}), while training loss kept falling, {fmt(train_best)} → "
                f"{fmt(train_end)}: the network is memorizing its {n} training points (gap {fmt(end - train_end)}).")
        return Finding(True, text, header, rows)
    text = (f"Validation loss was lowest at epoch {best.epoch} ({fmt(best.val_loss)}) and ended at {fmt(end)} "
            f"({pct(end, best.val_loss)}); training loss went {fmt(train_best)} → {fmt(train_end)}. "
            f"No clear turn upward this time (the check wants a rise of {RISE:.0%} or more while training loss falls).")
    return Finding(False, text, header, rows)


# --------------------------------------------------------------------------- 2 L2

def _ladder(history: Any, knob: str) -> list[tuple[float, Any, Any]]:
    """(value of ``knob``, config, history) per variant, sorted by the value."""
    return sorted(((getattr(cfg, knob), cfg, h) for cfg, h in _variants(history)), key=lambda t: t[0])


def _u_shape(values: Sequence[float], scores: Sequence[float]) -> tuple[int | None, str]:
    """Where the lowest score lies along an increasing knob, and a phrase saying so."""
    finite = [i for i, s in enumerate(scores) if math.isfinite(s)]
    if not finite:
        return None, "no variant ended with a finite validation loss"
    i = min(finite, key=lambda j: scores[j])
    if i == 0:
        return i, "the lowest end validation loss is at the weakest setting: regularization did not help this time"
    if i == len(scores) - 1:
        return i, "the lowest end validation loss is at the strongest setting: no turn upward yet (try stronger)"
    return i, "too little regularization overfits, too much underfits: the U-curve"


def check_l2(history: Any) -> Finding:
    """Weights shrink as λ grows, and the end validation loss is lowest at a λ in between."""
    bad = _unreadable(history)
    if bad:
        return bad
    ladder = _ladder(history, "l2")
    if len(ladder) < 3:
        return Finding(None, "The L2 check needs at least three λ values.")
    lams = [lam for lam, _, _ in ladder]
    norms = [_last(h, "weight_norm") for _, _, h in ladder]
    ends = [math.inf if _diverged(h) else end_val(h) for _, _, h in ladder]
    rows = tuple((knob(lam), fmt(norm), fmt(_last(h, "train_loss")), fmt(e), fmt(_last(h, "penalty")))
                 for (lam, _, h), norm, e in zip(ladder, norms, ends))
    header = ("λ", "‖w‖", "train loss", "end val loss", "penalty λΣw²")
    drops = sum(b <= a * (1 + SAME) for a, b in zip(norms, norms[1:]))
    shrinks = norms[-1] < norms[0] * (1 - SAME) and drops == len(norms) - 1
    i, shape = _u_shape(lams, ends)
    weights = (f"‖w‖ went from {fmt(norms[0])} at λ={knob(lams[0])} to {fmt(norms[-1])} at λ={knob(lams[-1])}"
               + ("" if shrinks else f", shrinking at {drops} of {len(norms) - 1} steps up the ladder") + ".")
    if i is None:
        return Finding(None, weights + " " + shape.capitalize() + ".", header, rows)
    ends_text = ", ".join(f"λ={knob(lam)} {fmt(e)}" for lam, e in zip(lams, ends))
    text = f"{weights} End validation loss: {ends_text}; lowest at λ={knob(lams[i])}: {shape}."
    return Finding(shrinks and 0 < i < len(lams) - 1, text, header, rows)


# --------------------------------------------------------------------------- 3 Dropout

def roughness(h: Any) -> float:
    """How much the training objective (dropout active) jumps from epoch to epoch:
    the mean |change| over the second half of the epochs, relative to its mean there."""
    obj = np.asarray(h.series("objective"), dtype=float)[1:]
    obj = obj[len(obj) // 2:]
    obj = obj[np.isfinite(obj)]
    if len(obj) < 2 or not obj.mean():
        return math.nan
    return float(np.abs(np.diff(obj)).mean() / abs(obj.mean()))


def check_dropout(history: Any) -> Finding:
    """Dropout makes the training objective noisier, and some p > 0 ends below p = 0."""
    bad = _unreadable(history, need=4)
    if bad:
        return bad
    ladder = _ladder(history, "dropout")
    if len(ladder) < 2 or ladder[0][0] != 0.0:
        return Finding(None, "The Dropout check needs a variant with p = 0 and at least one with p > 0.")
    ps = [p for p, _, _ in ladder]
    rough = [roughness(h) for _, _, h in ladder]
    ends = [math.inf if _diverged(h) else end_val(h) for _, _, h in ladder]
    rows = tuple((knob(p), fmt(_last(h, "objective")), fmt(_last(h, "train_loss")), fmt(e), f"{r:.1%}")
                 for (p, _, h), r, e in zip(ladder, rough, ends))
    header = ("drop p", "objective (dropout on)", "train loss (eval)", "end val loss", "jitter")
    noisier = all(math.isfinite(r) and r > rough[0] for r in rough[1:])
    best = min(range(len(ends)), key=lambda j: ends[j])
    jitter = ", ".join(f"p={knob(p)} {r:.1%}" for p, r in zip(ps, rough))
    text = (f"Epoch-to-epoch jitter of the training objective: {jitter}"
            + (": every p > 0 trains noisier than p = 0." if noisier else ": dropout did not make training noisier this time.")
            + f" End validation loss: " + ", ".join(f"p={knob(p)} {fmt(e)}" for p, e in zip(ps, ends))
            + (f"; lowest at p={knob(ps[best])}, {pct(ends[best], ends[0])} against p=0." if best
               else "; p=0 ended lowest: dropout did not help this time."))
    return Finding(noisier and best > 0, text, header, rows)


# --------------------------------------------------------------------------- 4 side by side

def _role(cfg: Any) -> str:
    l2, drop = bool(cfg.l2), bool(cfg.dropout)
    if cfg.is_baseline:
        return "baseline"
    return {(True, False): "L2", (False, True): "Dropout", (True, True): "L2+Dropout"}.get((l2, drop), "other")


def check_side_by_side(history: Any) -> Finding:
    """L2 and Dropout each end below the baseline on the article's network."""
    bad = _unreadable(history)
    if bad:
        return bad
    roles = {_role(cfg): h for cfg, h in _variants(history)}
    if not {"baseline", "L2", "Dropout"} <= set(roles):
        return Finding(None, "The side-by-side check needs a baseline, an L2 and a Dropout variant.")
    base = end_val(roles["baseline"])
    rows, parts = [], []
    for cfg, h in _variants(history):
        e = math.inf if _diverged(h) else end_val(h)
        rows.append((h.name, cfg.describe(), fmt(e), pct(e, base) if h is not roles["baseline"] else "",
                     fmt(e - _last(h, "train_loss")), fmt(_last(h, "weight_norm"))))
        parts.append(f"{h.name} {fmt(e)}" + ("" if h is roles["baseline"] else f" ({pct(e, base)})"))
    l2, drop = end_val(roles["L2"]), end_val(roles["Dropout"])
    helped = [name for name, e in (("L2", l2), ("Dropout", drop)) if e < base]
    norms = (f"L2 took ‖w‖ to {fmt(_last(roles['L2'], 'weight_norm'))} against the baseline's "
             f"{fmt(_last(roles['baseline'], 'weight_norm'))}; Dropout left it at {fmt(_last(roles['Dropout'], 'weight_norm'))}.")
    verdict = {2: "both regularizers beat the baseline", 1: f"only {''.join(helped)} beat the baseline",
               0: "neither beat the baseline this time"}[len(helped)]
    text = f"End validation loss: {', '.join(parts)}: {verdict}. {norms}"
    return Finding(len(helped) == 2, text, ("variant", "regularization", "end val loss", "vs baseline", "gap", "‖w‖"),
                   tuple(rows))


# --------------------------------------------------------------------------- 5 L2 vs decay under Adam

def check_coupled_vs_decoupled(history: Any) -> Finding:
    """Under Adam, coupled L2 (λ) and decoupled decay at η = 2λ (the same update under
    plain SGD) end with clearly different weights."""
    bad = _unreadable(history)
    if bad:
        return bad
    pairs = _variants(history)
    coupled = [(c, h) for c, h in pairs if c.l2 and not c.weight_decay and not c.dropout]
    if not coupled:
        return Finding(None, "The check needs a variant with coupled L2 only.")
    lam_cfg, lam_h = coupled[0]
    twin = [(c, h) for c, h in pairs if c.weight_decay and not c.l2 and math.isclose(c.weight_decay, 2 * lam_cfg.l2)]
    if not twin:
        return Finding(None, f"The check needs a decoupled-decay variant with η = 2λ = {knob(2 * lam_cfg.l2)}.")
    eta_cfg, eta_h = twin[0]
    optimizer = history.experiment.train.optimizer
    rows = tuple((h.name, c.describe(), fmt(_last(h, "weight_norm")), fmt(math.inf if _diverged(h) else end_val(h)),
                  fmt(_last(h, "train_loss"))) for c, h in pairs)
    n_l2, n_wd = _last(lam_h, "weight_norm"), _last(eta_h, "weight_norm")
    apart = abs(n_l2 - n_wd) / max(n_l2, n_wd) if max(n_l2, n_wd) > 0 else 0.0
    text = (f"Same nominal strength, η = 2λ = {knob(eta_cfg.weight_decay)} (under plain SGD the same update): "
            f"under {optimizer}, ‖w‖ ended at {fmt(n_l2)} with coupled L2 and {fmt(n_wd)} with decoupled decay "
            f"({apart:.0%} apart); end validation loss {fmt(end_val(lam_h))} against {fmt(end_val(eta_h))}.")
    if optimizer == "sgd" and history.experiment.train.momentum == 0:
        text += " This run used plain SGD, where the two must agree."
    return Finding(apart > SAME if optimizer != "sgd" else None, text,
                   ("variant", "regularization", "‖w‖", "end val loss", "train loss"), rows)


# --------------------------------------------------------------------------- 6 more data

def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def check_more_data(points: Sequence[Any]) -> Finding:
    """With more training data the unregularized gap shrinks, and so does what
    regularization adds (a sweep over data.n_train × a regularizer on/off)."""
    by_n: dict[int, dict[float, Any]] = {}
    other = ""
    for p in points:
        n = p.knobs.get("data.n_train")
        others = [k for k in p.knobs if k != "data.n_train"]
        if n is None or len(others) != 1:
            return Finding(None, "The check needs a sweep over data.n_train and one regularization knob.")
        other = others[0]
        by_n.setdefault(int(n), {})[p.knobs[other]] = p
    sizes = sorted(by_n)
    if len(sizes) < 2 or any(len(v) < 2 for v in by_n.values()):
        return Finding(None, "The check needs at least two n_train values, each with the knob off and on.")
    short = other.rsplit(".", 1)[1]
    rows, gaps, gains = [], [], []
    for n in sizes:
        off_value, on_value = min(by_n[n]), max(by_n[n])
        off, on = by_n[n][off_value], by_n[n][on_value]
        gap = _mean(off.final_val_loss) - _mean(off.final_train_loss)
        e_off, e_on = _point_end(off), _point_end(on)
        gaps.append(gap)
        gains.append(e_off - e_on)
        rows.append((str(n), fmt(e_off), fmt(gap), fmt(e_on), fmt(e_off - e_on)))
    header = ("n_train", f"val {short}={knob(off_value)}", "gap", f"val {short}={knob(on_value)}", "gain")
    if not all(math.isfinite(g) for g in gaps + gains):
        return Finding(None, "Some sweep points have no finite loss (diverged?).", header, tuple(rows))
    gap_text = " → ".join(f"{fmt(g)} (n={n})" for n, g in zip(sizes, gaps))
    gain_text = " → ".join(fmt(g) for g in gains)
    smaller_gap, smaller_gain = gaps[-1] < gaps[0], gains[-1] < gains[0]
    text = (f"Without regularization the gap (val − train at the end) went {gap_text}"
            + ("" if smaller_gap else ": it did not shrink this time")
            + f"; what {short}={knob(on_value)} gained in end validation loss (negative: cost) went {gain_text}"
            + (": more data does much of regularization's work." if smaller_gap and smaller_gain else "."))
    return Finding(smaller_gap and smaller_gain, text, header, tuple(rows))


def _point_end(point: Any) -> float:
    """A sweep point's ranking statistic (``SweepPoint.score``: the end validation
    loss unless the preset ranks by ``best``), mean over seeds."""
    value = point.score.value
    return math.nan if value is None else value


# --------------------------------------------------------------------------- the steps

STEPS: tuple[Step, ...] = (
    Step(1, "overfitting", "A network overfits", "tour-overfit", COMPARE,
         "A 128-64 network has about 8,700 weights and sees 30 noisy points from two moons. It can "
         "fit every training point, noise and all, so training loss keeps falling. Validation loss, "
         "measured on 500 points it never trains on, falls at first and then turns up: from there on "
         "the network learns the noise of its 30 points, not the moons. That turn is overfitting, and "
         "everything after this step is about preventing it.",
         "The chart: the grey training curve keeps falling while the coloured validation curve bottoms "
         "out early and climbs. The table's gap column (val − train) grows. Press b for the decision "
         "map: the boundary bends around single noisy points.",
         check_overfitting),
    Step(2, "l2", "L2: a price on large weights", "tour-l2", COMPARE,
         "L2 adds λ·Σw² to the loss: every weight pays in proportion to its square. The penalty's "
         "gradient is 2λw, so each step pulls every weight towards zero by an amount proportional to "
         "the weight itself, and only weights the data keeps pushing stay large. The same network and "
         "data as step 1, at five strengths from λ = 0 to λ = 0.1: too little λ still overfits, too "
         "much flattens the network until it underfits, and the best lies in between.",
         "Press w: the weight histograms narrow as λ grows, and the weight-norm curves split. In the "
         "table, ‖w‖ falls down the λ ladder and the end validation loss draws a U (press v for all "
         "variants on one chart).",
         check_l2),
    Step(3, "dropout", "Dropout: training with units missing", "tour-dropout", COMPARE,
         "Dropout switches each hidden unit off with probability p at every training step (the kept "
         "ones are scaled by 1/(1−p), so evaluation needs no change). No unit can rely on a particular "
         "other unit being there, so the network learns redundant, smoother features, like an average "
         "over many thinned networks. The price is noise: every batch trains a different thinned "
         "network. Same data again, p from 0 to 0.8.",
         "The objective (what the optimizer sees, with dropout on) jitters more the larger p is, while "
         "the eval-mode curves stay smooth (press m for other metrics). Compare the end validation "
         "losses down the p ladder in the table.",
         check_dropout),
    Step(4, "side-by-side", "L2 and Dropout on the article's network", "tour-article", COMPARE,
         "The article's Keras network: 64 pixels of an 8×8 digit in, hidden layers of 128 and 64 ReLU "
         "units, 10 classes out, Adam at lr 0.001, l2(0.001) on the hidden layers and Dropout(0.5) "
         "after them. It trains on 150 digits, a fifth of them with a wrong label, which the baseline "
         "learns by heart; the question is how much each regularizer gives back, and whether they add up.",
         "Four charts, one per variant: the baseline's gap is the widest. Press w: L2 shrinks the "
         "weights, Dropout hardly does — it regularizes through noise, not size. The verdict under the "
         "table ranks them by the end validation loss.",
         check_side_by_side),
    Step(5, "adamw", "Coupled L2 vs decoupled weight decay under Adam", "adam-l2-vs-adamw", COMPARE,
         "With plain SGD, adding 2λw to the gradient and shrinking w ← w − lr·η·w with η = 2λ are the "
         "same update. Adam divides every gradient by a running size of that gradient, the 2λw term "
         "included, so coupled L2 barely acts on weights with large gradients and over-acts on quiet "
         "ones. Decoupled decay (AdamW) shrinks every weight by lr·η outside Adam's scaling. Same "
         "nominal strength, different outcome.",
         "The ‖w‖ column: coupled L2 and decay at η = 2λ end far apart. Press w to see the weight norms "
         "over epochs, then the end validation losses in the table.",
         check_coupled_vs_decoupled),
    Step(6, "more-data", "More data", "tour-more-data", SWEEP,
         "Regularization is a stand-in for data: it keeps the network from reading too much into few "
         "samples. Give it more samples and the unregularized network overfits less by itself. This "
         "step sweeps the training set from 30 to 1,000 moons points, each with L2 off and on: the "
         "gap shrinks with n, and so does what L2 adds, until the penalty only costs (it biases a fit "
         "that no longer needs help). Only the training labels are noisy, so the gap can dip below zero.",
         "The sweep view plots the end validation loss against n_train, one curve per λ: the two curves "
         "start apart and meet as n grows.",
         check_more_data),
)


def step(number_or_key: int | str) -> Step:
    """A step by its number (1…) or key."""
    for s in STEPS:
        if number_or_key in (s.number, s.key):
            return s
    raise KeyError(number_or_key)
