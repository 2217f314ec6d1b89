"""The results table that ``regtui run`` prints (rich), one row per variant.

Sized for 80 columns: numbers in 4 significant digits, the regularization in
a dim second line under the variant name.  Names are text, never markup, with
control characters made visible (``regtui.core.text.visible``).
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from regtui.core.numbers import fixed_width
from regtui.core.results import RunHistory
from regtui.core.text import visible
from regtui.core.run_types import RunStatus

STATUS_STYLE = {RunStatus.FINISHED: "green", RunStatus.DIVERGED: "bold red", RunStatus.STOPPED: "yellow",
                RunStatus.RUNNING: "cyan"}


def _num(value: float | None, fmt: str = "") -> str:
    """A loss in the table's 6 characters (small values keep their digits), or ``fmt``."""
    if value is None:
        return "—"
    if fmt and abs(value) < 1e4:
        return format(value, fmt)
    return fixed_width(value).replace("–", "—")


def results_table(history: RunHistory) -> Table:
    exp = history.experiment
    table = Table(
        title=Text(visible(f"{exp.name}: {exp.data.dataset}, n_train={exp.data.n_train}, epoch {max(history.epoch, 0)}")),
        caption="best: lowest val loss (at its epoch); losses in eval mode, no penalty; gap = val − train",
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, padding=(0, 1),
    )
    columns = ("variant", "best", "at", "train", "val", "acc", "gap", "‖w‖", "status")
    for col in columns:
        table.add_column(col, justify="left" if col in ("variant", "status") else "right",
                         no_wrap=col != "variant", min_width=8 if col == "status" else len(col))
    winner = history.best_variant()
    seeds = len(history.seeds)
    if seeds > 1:
        table.caption = f"means over {seeds} seeds; best: mean±std of the seeds' best val losses"
    for cfg, h in zip(exp.variants, history.variants):
        best = h.best
        acc = h.last("val_acc")
        name = Text(visible(h.name) + (" ★" if h.name == winner else ""), style="bold" if h.name == winner else "")
        name.append("\n" + cfg.describe(), style="dim")
        best_text = _num(best.val_loss if best else None)
        if seeds > 1:
            values = [v for v in h.best_values() if v == v]
            if len(values) > 1:
                import statistics

                best_text = f"{statistics.mean(values):.3f}±{statistics.stdev(values):.3f}".replace("±0.", "±.")
        table.add_row(
            name,
            best_text, str(best.epoch) if best else "—",
            _num(h.last("train_loss")), _num(h.last("val_loss")),
            "—" if acc is None else f"{acc:.1%}",
            _num(h.last("gap"), "+.3f"), _num(h.last("weight_norm"), ".1f"),
            Text(h.status_label, style=STATUS_STYLE.get(h.status_label, "")),
        )
    return table
