"""The help screen (``?``): every key, what L2 and Dropout do, how to read the charts.

Words follow SEMANTICS.md: λ adds λ·Σw² to the loss; dropout p is the DROP
probability.  ``Escape``, ``?`` or ``q`` closes it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]regtui[/b]: watch L2 and Dropout fight overfitting

[b]Keys[/b] work whenever no text field is focused ([b]Esc[/b] leaves a field,
[b]Tab[/b] / [b]shift+Tab[/b] move between fields):
  [b]r[/b]       run, or restart with the current config
  [b]space[/b]   pause / resume          [b]x[/b]       stop the run
  [b]v[/b]       charts: one per variant / all variants overlaid
  [b]l[/b]       log / linear y-axis     [b]c[/b]       show / hide the config
  [b]ctrl+s[/b]  save a preset           [b]ctrl+o[/b]  open a preset
  [b]ctrl+p[/b]  command palette         [b]?[/b] help  [b]q[/b] quit
On a [b]λ[/b] or [b]η[/b] field [b]+[/b]/[b]-[/b] step 0, 1e-5, 3e-5, 1e-4 … 1, 3, 10;
on a [b]p[/b] field by 0.05. Invalid values turn red with a message and
block [b]r[/b]. [b]+ add variant[/b] and [b]✕[/b] (Enter) add or remove a variant;
edit a name to rename it.

[b]L2 (λ)[/b] adds λ·Σw² to the loss (over the weight matrices, not the
biases): large weights cost more, so the net prefers smoother functions.
[b]η[/b] is decoupled weight decay: w ← w − lr·η·w after each step (AdamW).
[b]Dropout (p)[/b]: p is the DROP probability. While training, each hidden
unit's output is zeroed with probability p (kept ones are scaled by
1/(1−p)); it is off when losses are measured. [b]pᵢₙ[/b] drops input features.

[b]Reading the charts[/b]: losses are measured on the whole training and
validation sets with dropout off. Training loss falling while validation
loss turns up is overfitting; [b]gap[/b] = val − train. A regularized variant
should keep validation loss lower, even with a higher training loss.
[b]best@ep[/b]: lowest validation loss and its epoch; ★ marks the best
variant. [b]✗ diverged[/b]: its loss became NaN/inf; the others go on.
"""


class HelpScreen(ModalScreen[None]):
    """A modal page of help text."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(HELP, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
