"""The history screens (``h``): every recorded run, and one past run read-only.

``HistoryScreen`` lists runs from the store (date, preset, data set, variants,
best val loss, status), filtered as you type.  Enter opens the highlighted
run in a ``RunViewScreen`` (its charts and table as they were, labelled
"run #N from DATE"); ``ctrl+g`` picks it as the ghost, ``ctrl+r`` re-runs its
config, ``ctrl+d`` deletes it after a yes/no question.  Both dismiss with a
``HistoryChoice`` (``ghost`` or ``rerun`` and the ``StoredRun``), or None; the
lab screen acts on it (``regtui.ui.screens.lab``: ``show_ghost`` draws a ghost,
``HistoryChoice.note`` says what was done); ``e`` in the run view exports
the past run (``regtui.ui.export.start_export``).  The run view ranks as the lab
does: by the ranking ``R`` chose there, else by the past run's own
``train.rank_by`` (``rank_by`` None), and exports that ranking.  The store is opened on the
UI thread: listing and loading are SQLite reads of a few milliseconds.

Imports Textual, the core's store and the lab's chart and table widgets; no torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from regtui.core.config import Experiment
from regtui.core.results import RunHistory
from regtui.core.run_records import RunSummary, StoredRun, StoreError
from regtui.core.store import RunStore
from regtui.core.text import visible
from regtui.ui.widgets.loss_charts import ChartsPane
from regtui.core.numbers import fixed_width
from regtui.ui.widgets.results_table import STATUS_STYLE, ResultsTable

LIST_LIMIT = 500
COLUMNS = (("id", "#"), ("date", "date"), ("preset", "preset"), ("data", "data"),
           ("variants", "variants"), ("best", "★ val"), ("status", "status"))
WIDTHS = {"preset": 14, "data": 9, "variants": 16}


@dataclass(frozen=True)
class HistoryChoice:
    """What to do with a past run: overlay it as the ghost, or run its config again."""

    kind: Literal["ghost", "rerun"]
    run: StoredRun

    @property
    def note(self) -> str:
        """What the lab says once it acted on the choice."""
        label = run_label(self.run.summary)
        if self.kind == "ghost":
            return f"ghost: {label}, dimmed under the curves · g clears it"
        return f"re-running the config of {label}"


def when(started: float, fmt: str = "%Y-%m-%d %H:%M") -> str:
    try:
        return time.strftime(fmt, time.localtime(started))
    except (OverflowError, ValueError, OSError):  # a damaged row's time
        return "?"


def run_label(summary: RunSummary) -> str:
    """``run #N from DATE`` (how a past run is named everywhere)."""
    return f"run #{summary.id} from {when(summary.started)}"


def show_ghost(charts: ChartsPane, stored: StoredRun | None, experiment: Experiment | None = None) -> None:
    """Draw the past run ``stored`` dimmed under ``charts``' curves (``ghost #N``), or clear
    the ghost (None); with nothing shown yet and an ``experiment``, the ghost alone on its
    variants (before any run)."""
    if stored is None:
        charts.set_ghost(None)
        return
    if charts.shown is None and experiment is not None:
        charts.show(RunHistory(experiment))
    charts.set_ghost(stored.history, f"ghost #{stored.summary.id}")


def _cut(text: str, width: int) -> str:
    """Untrusted text (from the history file) made visible, cut to ``width`` with a mark."""
    text = visible(text)
    return text if len(text) <= width else text[: width - 1] + "…"


class HistoryScreen(ModalScreen[HistoryChoice | None]):
    """Pick a past run: filter by typing, Enter opens, ctrl+g / ctrl+r / ctrl+d act on it."""

    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("ctrl+g", "ghost", "ghost", priority=True),
        Binding("ctrl+r", "rerun", "re-run", priority=True),
        Binding("ctrl+d", "delete", "delete", priority=True),
        Binding("down", "cursor(1)", show=False),
        Binding("up", "cursor(-1)", show=False),
    ]
    PALETTE = (  # the filter takes plain keys, and some browsers keep ctrl+g/r/d (regtui serve)
        ("ghost", "Ghost this run", "Draw the highlighted run dimmed under the live curves (ctrl+g)"),
        ("rerun", "Re-run this run", "Run the highlighted run's config again (ctrl+r)"),
        ("delete", "Delete this run", "Delete the highlighted run from the history, after asking (ctrl+d)"),
    )

    def __init__(self, rank_by: str | None = None) -> None:
        super().__init__()
        self.rank_by = rank_by
        """How the run view ranks (the lab's ``R``; None: each run's ``train.rank_by``)."""
        self.store: RunStore | None = None
        self.runs: list[RunSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog"):
            yield Input(placeholder="type to filter: preset, data set, variant…", id="history-filter", compact=True)
            yield DataTable(id="history-list", cursor_type="row", zebra_stripes=True)
            yield Static("Enter open · ^g ghost · ^r re-run · ^d delete · Esc close", id="history-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#history-list", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        try:
            self.store = RunStore.open()
        except StoreError as exc:
            self._status(f"cannot open the run history: {exc}", error=True)
        self.reload()
        self.query_one("#history-filter", Input).focus()

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()

    # ----------------------------------------------------------------- list

    def reload(self) -> None:
        """Read the runs matching the filter again, newest first."""
        table = self.query_one("#history-list", DataTable)
        query = self.query_one("#history-filter", Input).value.strip() or None
        if self.store is not None:
            try:
                self.runs = self.store.list_runs(limit=LIST_LIMIT, query=query)
            except StoreError as exc:
                self.runs = []
                self._status(str(exc), error=True)
        table.clear()
        for run in self.runs:
            table.add_row(*self._cells(run), key=str(run.id))
        title = f"Run history · {len(self.runs)} run(s)" + (f" matching {query!r}" if query else "")
        self.query_one("#history-dialog").border_title = Content(title)  # the filter is typed text, not markup

    @staticmethod
    def _cells(run: RunSummary) -> list[Text | str]:
        return [
            str(run.id),
            when(run.started, "%m-%d %H:%M"),
            Text(_cut(run.preset or run.name, WIDTHS["preset"])),  # Text: a str cell is read as markup
            Text(_cut(run.dataset, WIDTHS["data"])),
            Text(_cut(", ".join(run.variants), WIDTHS["variants"])),
            fixed_width(run.rank_value) + (" best" if run.rank_by == "best" else ""),  # the winner's ranking value
            Text(run.status, style=STATUS_STYLE.get(run.status, "dim")),
        ]

    def highlighted(self) -> RunSummary | None:
        table = self.query_one("#history-list", DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        return self.runs[min(table.cursor_row, len(self.runs) - 1)]

    def load(self) -> StoredRun | None:
        """The highlighted run, loaded whole (None, with a message, when it cannot be)."""
        summary = self.highlighted()
        if summary is None or self.store is None:
            self._status("No run matches the filter.", error=True)
            return None
        try:
            return self.store.load_run(summary.id)
        except StoreError as exc:
            self._status(str(exc), error=True)
            return None

    def _status(self, message: str, error: bool = False) -> None:
        status = self.query_one("#history-status", Static)
        status.update(Text(visible(message)))
        status.set_class(error, "-error")

    # ----------------------------------------------------------------- events

    @on(Input.Changed, "#history-filter")
    def _filter_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#history-filter")
    @on(DataTable.RowSelected)
    def _open(self) -> None:
        stored = self.load()
        if stored is not None:
            self.app.push_screen(RunViewScreen(stored, self.rank_by), self._from_view)

    def _from_view(self, choice: HistoryChoice | None) -> None:
        if choice is not None:
            self.dismiss(choice)

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#history-list", DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_ghost(self) -> None:
        stored = self.load()
        if stored is not None:
            self.dismiss(HistoryChoice("ghost", stored))

    def action_rerun(self) -> None:
        stored = self.load()
        if stored is not None:
            self.dismiss(HistoryChoice("rerun", stored))

    def action_delete(self) -> None:
        summary = self.highlighted()
        if summary is None or self.store is None:
            return
        from regtui.ui.screens.confirm import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if not yes or self.store is None:
                self._status(f"run #{summary.id} was not deleted.")
                return
            try:
                self.store.delete_run(summary.id)
            except StoreError as exc:
                self._status(f"cannot delete run #{summary.id}: {exc}", error=True)
                return
            self.reload()
            self._status(f"deleted {run_label(summary)}.")

        question = f"Delete {run_label(summary)} ({summary.preset or summary.name}, {summary.status})?"
        self.app.push_screen(ConfirmScreen(question, "Delete"), confirmed)


class RunViewScreen(ModalScreen[HistoryChoice | None]):
    """One past run, read-only: its charts and results table as they were."""

    BINDINGS = [
        Binding("escape", "close", "back"),
        Binding("g", "choose('ghost')", "ghost"),
        Binding("r", "choose('rerun')", "re-run"),
        Binding("e", "export", "export"),
        Binding("v", "view", "view"),
        Binding("l", "log", "log y"),
    ]

    def __init__(self, stored: StoredRun, rank_by: str | None = None) -> None:
        super().__init__()
        self.stored = stored
        self.rank_by = rank_by
        """The lab's ranking (None: the run's own ``train.rank_by``)."""

    @property
    def label(self) -> str:
        return run_label(self.stored.summary)

    def compose(self) -> ComposeResult:
        s = self.stored.summary
        head = Text(f" {self.label} ", style="bold reverse")
        head.append(f"  {s.preset or s.name} · {s.dataset} · {s.status} · read-only", style="dim")
        yield Static(head, id="run-view-title")
        yield ChartsPane(id="run-view-charts")
        yield ResultsTable(id="run-view-results")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        history = self.stored.history
        names = [h.name for h in history.variants]
        charts = self.query_one(ChartsPane)
        charts.set_variants(names)
        charts.show(history)
        table = self.query_one(ResultsTable)
        table.set_variants(names)
        table.set_rank_by(self.rank_by)
        table.show(history)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_choose(self, kind: Literal["ghost", "rerun"]) -> None:
        self.dismiss(HistoryChoice(kind, self.stored))

    def action_export(self) -> None:
        from regtui.ui.export import start_export

        start_export(self.app, self.stored.history, run_id=self.stored.summary.id, title=self.label, data=None,
                     rank_by=self.query_one(ResultsTable).ranking)

    def action_view(self) -> None:
        charts = self.query_one(ChartsPane)
        charts.set_overlay(not charts.overlay)

    def action_log(self) -> None:
        charts = self.query_one(ChartsPane)
        charts.set_log(not charts.log_y)
