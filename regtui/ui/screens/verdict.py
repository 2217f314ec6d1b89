"""The whole verdict (``V``): every sentence of ``regtui.core.verdict.verdict_sentences``,
one paragraph each, in a dialog over the lab (docs/semantics.md, "Ranking", for the
statistic it ranks by).  The panel under the table shows the first ones; this
shows the rest.  ``Escape``, ``V`` or ``q`` closes it.  The sentences carry
variant names, which come from files: they are plain text, never markup.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class VerdictScreen(ModalScreen[None]):
    """The run's story, sentence by sentence."""

    DEFAULT_CSS = """
    VerdictScreen { align: center middle; }
    #verdict-body {
        width: 100%; max-width: 82; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    #verdict-title { margin-bottom: 1; }
    .verdict-sentence { margin-bottom: 1; }
    #verdict-close { height: 1; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("V", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, sentences: Sequence[str]) -> None:
        super().__init__()
        self.sentences = tuple(sentences)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="verdict-body"):
            yield Static(Text("The run's story", style="bold"), id="verdict-title")
            if not self.sentences:
                yield Static(Text("No verdict yet: it comes with the run's first epoch (r runs).", style="dim"))
            for sentence in self.sentences:
                yield Static(Text(sentence), classes="verdict-sentence")
            yield Static(Text("Esc closes", style="dim"), id="verdict-close")

    def on_mount(self) -> None:
        self.query_one("#verdict-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
