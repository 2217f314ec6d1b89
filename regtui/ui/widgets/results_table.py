"""The live results table: one row per variant, the one ranked first marked ★.

Columns: variant, epoch, train loss, val loss (the last epoch's), val acc, gap,
weight norm, **end val** (the ranking statistic where training ends, see
``regtui.core.ranking`` and docs/semantics.md "Ranking"), **best@ep** (the
lowest val loss and its epoch: what early stopping would keep), status.  With
seeds the two statistics are ``mean±std`` over the seeds (``end±std``,
``best±std``).  The column the run is ranked by carries a ★ in its header
(``★end val`` or ``★best@ep``), the variant it ranks first (never a diverged
one) a ★ before its name and its value in bold green.

``rank_by`` switches the ranking of the table (``set_rank_by``, the lab's
ranking key); None follows the run's ``train.rank_by``.  ``show(history)``
refreshes the cells from a ``RunHistory``.  Below ``FULL_WIDTH`` cells the
table leaves out the last epoch's ``val`` (the gap is val − train, the
``end val`` beside it is where val is heading) and writes numbers in five
characters, so that every column, the ranked one included, fits at 80
columns; what still does not fit scrolls sideways under a scrollbar.  The
variant's colour is the one the charts use.
"""

from __future__ import annotations

from typing import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from regtui.core.numbers import fixed_width
from regtui.core.config import RANKINGS
from regtui.core.ranking import score
from regtui.core.results import RunHistory, VariantHistory
from regtui.ui.plotting.bands import best_over_seeds, mean_std, seed_count
from regtui.ui.plotting.colors import color_hex

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "variant"),
    ("epoch", "ep"),
    ("train", "train"),
    ("val", "val"),
    ("acc", "acc%"),
    ("gap", "gap"),
    ("norm", "‖w‖"),
    ("end", "end val"),
    ("best", "best@ep"),
    ("status", "status"),
)
"""Every column (key, header); ``end`` and ``best`` get their header from ``headers``."""
NARROW_LEFT_OUT = ("val",)
"""Columns a table narrower than ``FULL_WIDTH`` leaves out."""
FULL_WIDTH = 96
"""From this many cells on the table shows every column with six-character numbers."""
RANKED_MARK = "★"
STATUS_STYLE = {
    "running": "",
    "finished": "green",
    "diverged": "bold red",
    "stopped": "yellow",
    "waiting": "dim",
}
NAME_WIDTH = 12


def headers(rank_by: str, seeds: int) -> dict[str, str]:
    """The headers of the two statistics' columns: ``end val`` / ``best@ep`` (with seeds
    ``end±std`` / ``best±std``), the one ``rank_by`` ranks by marked ★."""
    out = {"end": "end±std" if seeds > 1 else "end val", "best": "best±std" if seeds > 1 else "best@ep"}
    out[rank_by] = RANKED_MARK + out[rank_by]
    return out


class ResultsTable(DataTable[Text | str]):
    """Per-variant numbers, refreshed from the run's history."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False, show_cursor=False)
        self.names: tuple[str, ...] = ()
        self.best: str | None = None
        """The variant ranked first (the ★ row), or None."""
        self.rank_by: str | None = None
        """The ranking the table shows (``end`` / ``best``); None: the run's ``train.rank_by``."""
        self.default_rank_by = "end"
        """The ranking before a run (the preset's ``train.rank_by``, from ``set_variants``)."""
        self.history: RunHistory | None = None
        """The run on screen (None before its first epoch)."""
        self.compact = True
        """Narrower than ``FULL_WIDTH``: no last-epoch val column, five-character numbers."""
        self._layout: tuple[bool, int, str] | None = None

    @property
    def ranking(self) -> str:
        """The ranking in force: ``rank_by``, else the run's, else the preset's."""
        if self.rank_by is not None:
            return self.rank_by
        return self.history.experiment.train.rank_by if self.history is not None else self.default_rank_by

    @property
    def shown_keys(self) -> tuple[str, ...]:
        """The keys of the columns shown at this width."""
        return tuple(k for k, _ in COLUMNS if not (self.compact and k in NARROW_LEFT_OUT))

    def column_header(self, key: str) -> str:
        """The header text of column ``key`` as shown."""
        return str(self.columns[key].label)  # type: ignore[index]

    def on_mount(self) -> None:
        self._build()

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < FULL_WIDTH
        if compact != self.compact:
            self.compact = compact
            self._build()
            if self.history is not None:
                self.show(self.history)

    def set_variants(self, names: Sequence[str], rank_by: str | None = None) -> None:
        """One empty row per variant (before the run's first epoch); ``rank_by``: the
        ranking of the config they come from (the preset's default)."""
        self.names = tuple(names)
        self.best = None
        self.history = None
        if rank_by is not None:
            self.default_rank_by = rank_by
        self._build()

    def set_rank_by(self, rank_by: str | None) -> None:
        """Rank by ``end`` or ``best`` (None: the run's ``train.rank_by``): the ★ row, the
        ★ column and the bold value follow."""
        if rank_by is not None and rank_by not in RANKINGS:
            raise ValueError(f"unknown ranking {rank_by!r}; choose one of {', '.join(RANKINGS)}")
        self.rank_by = rank_by
        if self.history is not None:
            self.show(self.history)
        else:
            self._build()

    def show(self, history: RunHistory) -> None:
        """Put the latest numbers of every variant in its row."""
        self.history = history
        if tuple(h.name for h in history.variants) != self.names:
            self.names = tuple(h.name for h in history.variants)
            self._layout = None
        if self._layout != (self.compact, seed_count(history), self.ranking):
            self._build()
        self.best = history.winner(self.ranking)
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

    def _build(self) -> None:
        """Columns for this width, seeds and ranking, and one empty row per variant (the
        numbers come with the next ``show``)."""
        seeds = seed_count(self.history) if self.history is not None else 1
        self._layout = (self.compact, seeds, self.ranking)
        self.clear(columns=True)
        titles = dict(COLUMNS) | headers(self.ranking, seeds)
        for key in self.shown_keys:
            self.add_column(titles[key], key=key)
        for i, name in enumerate(self.names):
            cells: list[Text | str] = [self._name_cell(i, name, False)] + ["–"] * (len(self.shown_keys) - 2)
            cells.append(Text("waiting", style=STATUS_STYLE["waiting"]))
            self.add_row(*cells, key=str(i))

    def _name_cell(self, index: int, name: str, best: bool) -> Text:
        """``■ name`` in the variant's colour; ``★ name`` (bold) for the best variant."""
        text = Text("★ " if best else "■ ", style=color_hex(index))
        shown = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
        text.append(shown, style="bold" if best else "")
        return text

    def _row(self, index: int, hist: VariantHistory) -> dict[str, Text | str]:
        best_here = hist.name == self.best
        width = 5 if self.compact else 6
        number = lambda v: fixed_width(v, width)  # noqa: E731
        epoch = hist.last("epoch")
        acc = hist.last("val_acc")
        best = hist.best
        over_seeds = best_over_seeds(hist)  # mean±std over seeds, None with one seed
        end = score(hist, "end")
        end_text = mean_std(end.per_seed) if over_seeds is not None else number(end.value)
        best_text = over_seeds or (f"{number(best.val_loss)}@{best.epoch}" if best else "–")
        ranked = {"end": end_text, "best": best_text}
        stats = {k: Text(v, style="bold green" if best_here and k == self.ranking else "") for k, v in ranked.items()}
        row: dict[str, Text | str] = {
            "name": self._name_cell(index, hist.name, best_here),
            "epoch": "–" if epoch is None else str(int(epoch)),
            "train": number(hist.last("train_loss")),
            "val": number(hist.last("val_loss")),
            "acc": "–" if acc is None else f"{100 * acc:.1f}",
            "gap": number(hist.last("gap")),
            "norm": number(hist.last("weight_norm")),
            **stats,
            "status": Text(hist.status_label, style=STATUS_STYLE.get(hist.status_label, "")),
        }
        return {k: row[k] for k in self.shown_keys}
