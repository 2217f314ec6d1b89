"""The verdict under the results table: ``regtui.core.verdict.verdict_sentences(history)``,
the run's story in plain words (did the baseline overfit, what each regularizer
did, who wins by the ranking statistic, whether that holds over seeds, whether
early stopping would have matched).

Recomputed at most every ``VERDICT_INTERVAL`` seconds while a run goes on and
once when it ends; wrapped to the width.  On a short terminal (< 30 rows) it
may take ``SHORT_LINES`` lines, else ``TALL_LINES``: only the leading whole
sentences that fit are kept (a divergence moved up, in short), and when that
leaves any out the last line ends with ``MORE`` (``▸ V for more``; ``V…``
where only that fits, or ``MORE`` on a line of its own); the first
sentence alone, cut with ``…``, when even it does not fit.  ``V`` shows the
whole story (``regtui.ui.screens.verdict.VerdictScreen``).  ``rank_by``
(``set_rank_by``, the lab's ranking key) ranks the verdict as the table does;
None follows the run's ``train.rank_by``.
"""

from __future__ import annotations

import re
import textwrap
import time

from rich.text import Text
from textual.widgets import Static

from regtui.core.config import RANKINGS
from regtui.core.results import RunHistory
from regtui.core.verdict import verdict_sentences

VERDICT_INTERVAL = 1.0
"""Seconds between two recomputations during a run."""
SHORT_LINES = 2
"""Lines the verdict may take when the terminal is short (< 30 rows)."""
TALL_LINES = 4
MORE = "▸ V for more"
"""Ends the panel's last line when sentences were left out (V shows them all)."""
SHORT_MORE = "V…"
"""``MORE`` where it would take a line of its own."""
LEAD = "▸ "


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def fit_sentences(text: str, width: int, lines: int, mark: str = "") -> str:
    """The leading whole sentences of ``text`` that wrap into ``lines`` lines of ``width``
    (the first sentence alone, cut with an ellipsis, when even it does not fit).  When
    some are left out, ``mark`` (if given) must fit after them on the last line."""
    sentences = split_sentences(text)
    width = max(10, width)
    whole = " ".join(sentences)
    if len(textwrap.wrap(whole, width)) <= lines:
        return whole
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if len(textwrap.wrap(f"{candidate} {mark}".strip(), width)) > lines:
            break
        kept = candidate
    if not kept and sentences:
        room = width * lines - (len(mark) + 1 if mark else 0)
        kept = textwrap.shorten(sentences[0], max(10, room), placeholder="…")
        while mark and len(textwrap.wrap(f"{kept} {mark}", width)) > lines and len(kept) > 10:
            room -= 4
            kept = textwrap.shorten(sentences[0], max(10, room), placeholder="…")
    return kept


def divergence_second(text: str) -> str:
    """``text`` with its "Diverged: …" sentence, without the explanation in brackets,
    moved right after the first sentence (the table and the charts mark them too)."""
    sentences = split_sentences(text)
    diverged = [s for s in sentences if s.startswith("Diverged:")]
    if not diverged:
        return text
    rest = [s for s in sentences if not s.startswith("Diverged:")]
    return " ".join(rest[:1] + [re.sub(r"\s*\(.*\)\.$", ".", diverged[0])] + rest[1:])


class VerdictPanel(Static):
    """The first sentences of the run's story; ``V`` shows all of it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.sentences: list[str] = []
        """The core's whole verdict, sentence by sentence."""
        self.text = ""
        """The whole verdict as one paragraph."""
        self.shown = ""
        """What fits on screen: its first whole sentences."""
        self.cut = False
        """Whether sentences were left out (the panel then ends with ``MORE``)."""
        self.rank_by: str | None = None
        """The ranking the verdict tells (``end`` / ``best``); None: the run's ``train.rank_by``."""
        self.history: RunHistory | None = None
        self._last = 0.0

    def clear(self) -> None:
        self.text = self.shown = ""
        self.sentences = []
        self.cut = False
        self.history = None
        self._last = 0.0
        self.update("")

    def set_rank_by(self, rank_by: str | None) -> None:
        """Tell the story ranked by ``end`` or ``best`` (None: the run's ``train.rank_by``)."""
        if rank_by is not None and rank_by not in RANKINGS:
            raise ValueError(f"unknown ranking {rank_by!r}; choose one of {', '.join(RANKINGS)}")
        self.rank_by = rank_by
        if self.history is not None:
            self.show(self.history, final=True)

    def show(self, history: RunHistory, final: bool = False) -> None:
        """Recompute the verdict (throttled unless ``final``)."""
        now = time.monotonic()
        if history.epoch < 0 or (not final and now - self._last < VERDICT_INTERVAL):
            return
        self._last = now
        self.history = history
        self.sentences = verdict_sentences(history, self.rank_by)
        self.text = " ".join(self.sentences)
        self._render_text()

    def on_resize(self) -> None:
        self._render_text()

    def _render_text(self) -> None:
        if not self.text:
            return
        lines = SHORT_LINES if self.app.has_class("-short") else TALL_LINES
        width = (self.size.width or 80) - 2 - len(LEAD)  # padding, and the lead on the first line
        self.shown = fit_sentences(self.text, width, lines, MORE)
        if self.shown != self.text.strip():  # too long: a divergence still shows, in short
            self.shown = fit_sentences(divergence_second(self.text), width, lines, MORE)
        self.cut = self.shown != self.text.strip()
        out = Text.assemble((LEAD, "bold"), self.shown)
        if self.cut:
            out.append(more_mark(self.shown, width), style="bold yellow")
        self.update(out)


def more_mark(shown: str, width: int) -> str:
    """What follows ``shown``: `` ▸ V for more``; `` V…`` where only that fits on its last
    line; else ``MORE`` whole on a line of its own (``fit_sentences`` left room for it)."""
    lines = len(textwrap.wrap(shown, width))
    for mark in (MORE, SHORT_MORE):
        if len(textwrap.wrap(f"{shown} {mark}", width)) == lines:
            return f" {mark}"
    return f"\n{MORE}"
