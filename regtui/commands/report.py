"""The results table that ``regtui run`` prints (rich), one row per variant.

Sized for 80 columns: numbers in 4 significant digits, the regularization in
a dim second line under the variant name.  The second column is the ranking
statistic (``regtui.core.ranking``), named in its header; ``best@ep`` beside it
is the early-stopping value.  Names are text, never markup, with control
characters made visible (``regtui.core.text.visible``).
"""

from __future__ import annotations

import math
import statistics
from typing import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from regtui.core.numbers import fixed_width
from regtui.core.ranking import describe, label
from regtui.core.results import RunHistory
from regtui.core.run_types import RunStatus
from regtui.core.text import visible

STATUS_STYLE = {RunStatus.FINISHED: "green", RunStatus.DIVERGED: "bold red", RunStatus.STOPPED: "yellow",
                RunStatus.RUNNING: "cyan"}


def _num(value: float | None, fmt: str = "") -> str:
    """A loss in the table's 6 characters (small values keep their digits), or ``fmt``."""
    if value is None:
        return "—"
    if fmt and abs(value) < 1e4:
        return format(value, fmt)
    return fixed_width(value).replace("–", "—")


def mean_std(values: Sequence[float]) -> str:
    """``0.312±.021``: mean ± sample std of the finite ``values`` (the lab's format);
    one value alone; ``—`` for none."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "—"
    if len(finite) == 1:
        return _num(finite[0])
    return f"{statistics.mean(finite):.3f}±{statistics.stdev(finite):.3f}".replace("±0.", "±.")


def results_table(history: RunHistory, rank_by: str | None = None, n_train: int | None = None) -> Table:
    """The run's table, ranked by ``rank_by`` (default: the experiment's ``train.rank_by``).

    ``n_train``: the rows it trained on (``Dataset.summary()["n_train"]``), for the title;
    without it, the config's ``data.n_train``, which is 0 (all rows) for a file's data."""
    exp = history.experiment
    if n_train is None:
        n_train = exp.data.n_train
    rank_by = rank_by or exp.train.rank_by
    seeds = len(history.seeds)
    stat = label(rank_by)
    caption = (f"★ lowest {stat}: {describe(rank_by)}; best@ep: the lowest and its epoch (early "
               "stopping); losses in eval mode, no penalty; gap = val − train")
    if seeds > 1:
        caption = (f"means over {seeds} seeds; ★ lowest {stat}: {describe(rank_by)}, mean±std over seeds; "
                   "best: mean of the seeds' lowest val losses (early stopping)")
    table = Table(
        title=Text(visible(f"{exp.name}: {exp.data.dataset}, n_train={n_train}, epoch {max(history.epoch, 0)}")),
        caption=caption,
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, padding=(0, 1),
    )
    columns = ("variant", stat, "best" if seeds > 1 else "best@ep", "train", "val", "acc", "gap", "‖w‖", "status")
    for col in columns:
        table.add_column(col, justify="left" if col in ("variant", "status") else "right",
                         no_wrap=col != "variant", min_width=8 if col == "status" else len(col))
    order = history.ranked(rank_by)
    scores = {r.index: r.score for r in order}
    winner = order[0].index if order and order[0].score.rankable else None
    for index, (cfg, h) in enumerate(zip(exp.variants, history.variants)):
        best = h.best
        acc = h.last("val_acc")
        won = index == winner
        name = Text(visible(h.name) + (" ★" if won else ""), style="bold" if won else "")
        name.append("\n" + cfg.describe(), style="dim")
        if seeds > 1:  # the mean of the seeds' lowest (the lab's best±std); ± only on the ranking, for 80 columns
            bests = [v for v in h.best_values() if math.isfinite(v)]
            best_text = _num(statistics.mean(bests)) if bests else "—"
        else:
            best_text = f"{_num(best.val_loss)}@{best.epoch}" if best else "—"
        table.add_row(
            name, Text(mean_std(scores[index].per_seed), style="bold" if won else ""), best_text,
            _num(h.last("train_loss")), _num(h.last("val_loss")),
            "—" if acc is None else f"{acc:.1%}",
            _num(h.last("gap"), "+.3f"), _num(h.last("weight_norm"), ".1f"),
            Text(h.status_label, style=STATUS_STYLE.get(h.status_label, "")),
        )
    return table
