"""The tour's card (``a``): one step of ``regtui.core.tour`` beside the live charts.

``TourPanel`` takes the config panel's place while the tour is on: the step's
title and number, what it shows and why, what to watch, the preset it runs,
and, once the run ends, what the step's check found in it (``Finding``: the
sentence with the numbers, and its small table).  It scrolls (``↑``/``↓``
with it focused) so the whole card is there at 80×24.  Text from presets
(variant names in the check's table) is shown as plain text, never markup.
The panel also keeps where the tour is (``index``, None: no tour) and which
run is its step's (``run``), loads a step's preset (``go``: a preset that
cannot load is told, and the card stays), says where ``n`` / ``p`` lead
(``neighbour``: past either end nowhere, and says so) and reads the step's run
when it ends (``run_ended``), so that the lab screen's tour keys stay one-liners:
the lab only swaps the card for the config panel and starts the step's run.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from regtui.core.config import ConfigError, Experiment
from regtui.core.tour import STEPS, SWEEP, Finding, Step

MARK = {True: ("✓ appeared", "bold green"), False: ("✗ did not appear this time", "bold yellow"),
        None: ("? cannot tell", "bold")}


class TourPanel(VerticalScroll, can_focus=True):
    """One step of the tour and, after its run, its check."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step: Step | None = None
        self.finding: Finding | None = None
        self.state = ""
        """``running``, ``finished``, ``stopped`` … of the step's run, as the card says it."""
        self.total = 0
        self.index: int | None = None
        """The index in ``STEPS`` of the step on screen (None: no tour)."""
        self.run: Any = None
        """The ``RunControl`` of the step's run (its check reads that run only)."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="tour-card")

    # ------------------------------------------------------------------ the tour's steps

    def go(self, index: int | None, presets_dir: str | None, overrides: tuple[str, ...]) -> Experiment | None:
        """Show step ``index``; returns its preset with ``overrides`` (``regtui tour --set``)
        applied, for the lab to load and run.  None (``index`` None, or a ``ConfigError``,
        which is told) leaves the card as it was."""
        from regtui.core import presets
        from regtui.core.overrides import with_overrides

        if index is None:
            return None
        step = STEPS[index]
        try:
            experiment = with_overrides(presets.load(step.preset, presets_dir), overrides)
        except ConfigError as exc:
            self.notify(f"tour step {step.number}: {exc}", severity="error", timeout=10, markup=False)
            return None
        self.index = index
        self.show_step(step, len(STEPS))
        return experiment

    def neighbour(self, step: int) -> int | None:
        """The index ``step`` steps away (``n``: 1, ``p``: -1) from the step on screen; None
        without a tour, or past either end (which is told)."""
        if self.index is None:
            return None
        index = self.index + step
        if index >= len(STEPS):
            self.notify("the last step of the tour: p goes back, a leaves", markup=False)
        elif index < 0:
            self.notify("the first step of the tour: n goes on, a leaves", markup=False)
        else:
            return index
        return None

    def leave(self) -> None:
        self.index = None

    @property
    def wants_sweep(self) -> bool:
        """Whether the step on screen runs a sweep (its check reads the sweep's points)."""
        return self.step is not None and self.step.kind == SWEEP

    def started(self, control: Any) -> None:
        """The step's run started under ``control`` (``r`` runs it again): the card forgets
        what the last run's check found."""
        self.run = control
        if self.step is not None:
            self.show_step(self.step, self.total)

    def runs(self, control: Any) -> bool:
        """Whether the tour is on and ``control`` steers its step's run."""
        return self.index is not None and self.run is not None and self.run is control

    def run_ended(self, stopped: bool, control: Any, history: Any, sweep_points: Sequence[Any]) -> None:
        """A run under ``control`` ended: if it is the step's, show what the step's check
        (``regtui.core.tour``) found in it (``history``, or a sweep step's points)."""
        if not self.runs(control):
            return
        if stopped:
            self.show_state("stopped")
        elif self.step is not None:
            self.show_finding(self.step.check(list(sweep_points) if self.step.kind == SWEEP else history))

    def run_failed(self) -> None:
        """The run on screen failed: in the tour, the card says so."""
        if self.index is not None:
            self.show_state("failed")

    # ------------------------------------------------------------------ drawing

    def show_step(self, step: Step, total: int) -> None:
        self.step, self.total, self.finding, self.state = step, total, None, "running"
        self.scroll_home(animate=False)
        self._draw()

    def show_state(self, state: str) -> None:
        self.state = state
        self._draw()

    def show_finding(self, finding: Finding | None) -> None:
        self.finding = finding
        self.scroll_home(animate=False)
        self._draw()

    def card_text(self) -> str:
        """The card as plain text, the check's table as ``a | b | c`` rows (for tests)."""
        parts = []
        for item in self._parts():
            parts.append(item.plain if isinstance(item, Text) else
                         "\n".join(" | ".join(row) for row in item.plain_rows))
        return "\n".join(parts)

    def _parts(self) -> list:
        step = self.step
        if step is None:
            return []
        head = Text.assemble((f"Tour {step.number}/{self.total} · ", "bold"), (step.title, "bold"))
        out: list = [head]
        if self.finding is None:
            if self.state in ("starting", "running", "paused"):
                out.append(Text("Running: the check comes when the run ends.", style="dim"))
            elif self.state:
                out.append(Text(f"The run {self.state} before its end: r re-runs it.", style="yellow"))
        else:  # the check first: it is what a finished step is read for
            label, style = MARK[self.finding.appeared]
            out.append(Text.assemble(("Check: ", "bold"), (label, style)))
            out.append(Text(self.finding.summary))
            if self.finding.rows:
                out.append(_table(self.finding))
        out += [Text(step.text), Text.assemble(("Watch: ", "bold"), step.watch),
                Text.assemble(("Preset: ", "bold"), step.preset, (f" ({step.kind})", "dim")),
                Text("n next · p previous · r re-run · a leaves the tour", style="dim")]
        return out

    def _draw(self) -> None:
        card = self.query_one("#tour-card", Static)
        parts = self._parts()
        spaced: list = []
        for item in parts:
            spaced += [item, Text("")]
        card.update(Group(*spaced[:-1]) if spaced else "")


SHORT = {"train loss": "train", "end val loss": "end val", "penalty λΣw²": "λΣw²", "val loss": "val",
         "objective (dropout on)": "objective", "train loss (eval)": "train", "vs baseline": "vs base"}
"""Shorter column headers for the card's narrow column."""
LEFT_OUT = ("regularization",)
"""Columns the card leaves out (the variant's name says it; the report keeps them)."""


def _table(finding: Finding) -> Table:
    keep = [i for i, h in enumerate(finding.header) if h not in LEFT_OUT]
    header = [SHORT.get(finding.header[i], finding.header[i]) for i in keep]
    rows = [[row[i] for i in keep] for row in finding.rows]
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False, header_style="bold")
    for i, h in enumerate(header):
        table.add_column(Text(h), justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    table.plain_rows = [header, *rows]  # type: ignore[attr-defined]
    return table
