"""The verdict under the results table: ``regtui.core.verdict.verdict(history)``
in plain words (who won, by how much against the baseline, how far the most
overfit variant drifted, whether the ranking holds over seeds).

Recomputed at most every ``VERDICT_INTERVAL`` seconds while a run goes on and
once when it ends; wrapped to the width.  On a short terminal only the whole
sentences that fit in ``-short`` lines are kept (the winner first, then any
divergence in short), so the charts keep their rows.
"""

from __future__ import annotations

import re
import textwrap
import time

from rich.text import Text
from textual.widgets import Static

from regtui.core.results import RunHistory
from regtui.core.verdict import verdict

VERDICT_INTERVAL = 1.0
"""Seconds between two recomputations during a run."""
SHORT_LINES = 2
"""Lines the verdict may take when the terminal is short (< 30 rows)."""
TALL_LINES = 4


def fit_sentences(text: str, width: int, lines: int) -> str:
    """The leading whole sentences of ``text`` that wrap into ``lines`` lines of ``width``
    (the first sentence alone, cut with an ellipsis, when even it does not fit)."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    width = max(10, width)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if len(textwrap.wrap(candidate, width)) > lines:
            break
        kept = candidate
    if not kept and sentences:
        return textwrap.shorten(sentences[0], width * lines, placeholder="…")
    return kept


def divergence_second(text: str) -> str:
    """``text`` with its "Diverged: …" sentence, without the explanation in brackets,
    moved right after the first sentence (the table and the charts mark them too)."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    diverged = [s for s in sentences if s.startswith("Diverged:")]
    if not diverged:
        return text
    rest = [s for s in sentences if not s.startswith("Diverged:")]
    return " ".join(rest[:1] + [re.sub(r"\s*\(.*\)\.$", ".", diverged[0])] + rest[1:])


class VerdictPanel(Static):
    """One to three sentences about the run on screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.text = ""
        """The core's whole verdict."""
        self.shown = ""
        """What fits on screen: its first whole sentences."""
        self._last = 0.0

    def clear(self) -> None:
        self.text = self.shown = ""
        self._last = 0.0
        self.update("")

    def show(self, history: RunHistory, final: bool = False) -> None:
        """Recompute the verdict (throttled unless ``final``)."""
        now = time.monotonic()
        if history.epoch < 0 or (not final and now - self._last < VERDICT_INTERVAL):
            return
        self._last = now
        self.text = verdict(history)
        self._render_text()

    def on_resize(self) -> None:
        self._render_text()

    def _render_text(self) -> None:
        if not self.text:
            return
        lines = SHORT_LINES if self.app.has_class("-short") else TALL_LINES
        width = (self.size.width or 80) - 2
        self.shown = fit_sentences(self.text, width, lines)
        if self.shown != self.text.strip():  # too long: a divergence still shows, in short
            self.shown = fit_sentences(divergence_second(self.text), width, lines)
        self.update(Text.assemble(("▸ ", "bold"), self.shown))
