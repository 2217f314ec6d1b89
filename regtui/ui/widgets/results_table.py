"""The live results table: one row per variant, the best one on val loss marked.

Columns: variant, epoch, train loss, val loss, val acc, gap, weight norm,
best val loss @ its epoch, status.  ``show(history)`` refreshes the cells from
a ``RunHistory``; numbers are formatted to fit six characters so the table
reads at 80 columns.  The variant's colour is the one the charts use.
"""

from __future__ import annotations

from typing import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from regtui.core.numbers import fixed_width
from regtui.core.results import RunHistory, VariantHistory
from regtui.ui.plotting.bands import best_over_seeds, seed_count
from regtui.ui.plotting.colors import color_hex

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "variant"),
    ("epoch", "ep"),
    ("train", "train"),
    ("val", "val"),
    ("acc", "acc%"),
    ("gap", "gap"),
    ("norm", "‖w‖"),
    ("best", "best@ep"),
    ("status", "status"),
)
STATUS_STYLE = {
    "running": "",
    "finished": "green",
    "diverged": "bold red",
    "stopped": "yellow",
    "waiting": "dim",
}
NAME_WIDTH = 12


class ResultsTable(DataTable[Text | str]):
    """Per-variant numbers, refreshed from the run's history."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False, show_cursor=False)
        self.names: tuple[str, ...] = ()
        self.best: str | None = None

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def set_variants(self, names: Sequence[str]) -> None:
        """One empty row per variant (before the run's first epoch)."""
        self.names = tuple(names)
        self.best = None
        self.clear()
        for i, name in enumerate(self.names):
            cells = [self._name_cell(i, name, False)] + ["–"] * (len(COLUMNS) - 2)
            cells.append(Text("waiting", style=STATUS_STYLE["waiting"]))
            self.add_row(*cells, key=str(i))

    def show(self, history: RunHistory) -> None:
        """Put the latest numbers of every variant in its row."""
        if tuple(h.name for h in history.variants) != self.names:
            self.set_variants([h.name for h in history.variants])
        self.best = history.winner()
        label = "best±std" if seed_count(history) > 1 else "best@ep"  # several seeds: mean±std of their bests
        if str(self.columns["best"].label) != label:  # type: ignore[index]
            self.columns["best"].label = Text(label)  # type: ignore[index]
            self.refresh()
        for i, hist in enumerate(history.variants):
            for key, value in self._row(i, hist).items():
                # widen a column only when a value outgrows it: every width change relayouts the
                # screen, and doing that several times a second starved the training thread
                column = self.columns[key]  # type: ignore[index]
                width = value.cell_len if isinstance(value, Text) else cell_len(value)
                grow = width > column.content_width
                if grow:  # at once: DataTable measures on idle, and a frame drawn before that is
                    column.content_width = width  # cached at the old width (cut cells) until the next update
                self.update_cell(str(i), key, value, update_width=grow)

    def _name_cell(self, index: int, name: str, best: bool) -> Text:
        """``■ name`` in the variant's colour; ``★ name`` (bold) for the best variant."""
        text = Text("★ " if best else "■ ", style=color_hex(index))
        shown = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
        text.append(shown, style="bold" if best else "")
        return text

    def _row(self, index: int, hist: VariantHistory) -> dict[str, Text | str]:
        best_here = hist.name == self.best
        epoch = hist.last("epoch")
        acc = hist.last("val_acc")
        best = hist.best
        over_seeds = best_over_seeds(hist)  # mean±std over seeds, None with one seed
        best_text = Text(over_seeds or (f"{fixed_width(best.val_loss)}@{best.epoch}" if best else "–"),
                         style="bold green" if best_here else "")
        return {
            "name": self._name_cell(index, hist.name, best_here),
            "epoch": "–" if epoch is None else str(int(epoch)),
            "train": fixed_width(hist.last("train_loss")),
            "val": fixed_width(hist.last("val_loss")),
            "acc": "–" if acc is None else f"{100 * acc:.1f}",
            "gap": fixed_width(hist.last("gap")),
            "norm": fixed_width(hist.last("weight_norm")),
            "best": best_text,
            "status": Text(hist.status_label, style=STATUS_STYLE.get(hist.status_label, "")),
        }
