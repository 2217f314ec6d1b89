"""The help screen (``?``): every key, what L2 and Dropout do, how to read the charts.

Words follow docs/semantics.md: λ adds λ·Σw² to the loss; dropout p is the DROP
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
  [b]ctrl+s[/b]  save a preset ([b]S[/b])     [b]ctrl+o[/b]  open a preset ([b]O[/b])
  [b]b[/b]       decision maps (2-D data) [b]w[/b]       weights: histograms, norm
  [b]m[/b]       chart metric: loss → accuracy → gap (val − train loss)
  [b]s[/b]       smoothing: EMA 0 / 0.6 / 0.9 / 0.99   [b]t[/b] x-axis: epochs / seconds
  [b]y[/b]       y-range: shared by the per-variant charts / one per chart
  [b]R[/b]       ranking: end val (where training ends) / best epoch (early stopping)
  [b]V[/b]       the whole verdict, every sentence (the panel shows the first)
  [b]ctrl+p[/b]  command palette         [b]?[/b] help  [b]q[/b] quit
  [b]h[/b]       history: past runs (Enter opens, ^g ghost, ^r re-run, ^d delete)
  [b]g[/b]       ghost: a past run dimmed under the curves / clear it
  [b]e[/b]       export the run on screen (JSON, CSV, SVG, Markdown report)
  [b]k[/b]       sweep view: best val loss against λ, p or n train; [b]r[/b] there runs it
  [b]1[/b]–[b]9[/b]     that variant's λ field ([b]↓[/b]: its p), even with the panel hidden
  [b]i[/b]       epoch cursor on every chart, each variant's train/val read out there
  [b], .[/b]     move the cursor ([b]< >[/b] ten steps);  [b]z Z[/b]  zoom in around it / out
  [b]f[/b]       branch: from the next epoch on, go on with the panel's λ η p lr;
          the parent goes on dimmed, a line marks the branch point
  [b]a[/b]       the tour: the article in six steps ([b]n[/b] next, [b]p[/b] previous, [b]r[/b] re-run)
On a [b]λ[/b] or [b]η[/b] field [b]+[/b]/[b]-[/b] step 0, 1e-5, 3e-5, 1e-4 … 1, 3, 10;
on a [b]p[/b] field by 0.05. Invalid values turn red with a message and
block [b]r[/b]. [b]+ add variant[/b] and [b]✕[/b] (Enter) add or remove a variant;
edit a name to rename it.

[b]In a browser[/b] ([b]regtui serve[/b]) the browser keeps ctrl+w/t/n, ctrl+1–9 and
the F-keys, and some browsers ctrl+s/o/d/r/g. There [b]S[/b] saves and [b]O[/b] opens
a preset; in the history Enter opens a run, then [b]g[/b] ghosts and [b]r[/b] re-runs
it; deleting a run or a preset and the preset preview's TOML are in the
palette ([b]ctrl+p[/b]) of their dialog. [b]e[/b] also downloads the export as a zip.

[b]L2 (λ)[/b] adds λ·Σw² to the loss (over the weight matrices, not the
biases): large weights cost more, so the net prefers smoother functions.
[b]η[/b] is decoupled weight decay: each step also shrinks w ← w − lr·η·w,
applied to the weights before the optimizer's update, as AdamW does.
[b]Dropout (p)[/b]: p is the DROP probability. While training, each hidden
unit's output is zeroed with probability p (kept ones are scaled by
1/(1−p)); it is off when losses are measured. [b]pᵢₙ[/b] drops input features.

[b]Reading the charts[/b]: losses are measured on the whole training and
validation sets with dropout off. Training loss falling while validation
loss turns up is overfitting; [b]gap[/b] = val − train. A regularized variant
should keep validation loss lower, even with a higher training loss.
The per-variant charts share one y-range ([b]y[/b]: one each), so heights compare;
when epoch 0 alone would stretch it (digits: 2.30), it is left
off-scale and the title says so ([b]ep0 ↑2.30[/b]). Accuracy is in %.
[b]end val[/b]: the mean val loss over the last 10 % of the epochs — where
training ends; [b]best@ep[/b]: the lowest val loss and its epoch, what early
stopping would keep. The column marked ★ is the one the run is ranked
by ([b]R[/b] switches); the ★ row is the variant it ranks first (never a
diverged one).
[b]✗ diverged[/b]: its loss became NaN/inf or grew past 1000× its
epoch-0 training loss; it is frozen there and the others go on.
Smoothing is TensorBoard's debiased moving average; the table stays raw.

[b]Why[/b]: [b]b[/b] shades each variant's predicted class over the input plane
(dark = unsure; ● a training point, ✕ one it gets wrong): an overfit net
bends around single points, L2 and Dropout draw smoother boundaries.
[b]w[/b] bins every weight of every variant on the same bins: L2 pulls them
toward 0, and ‖w‖ over epochs shows the shrinking. The line under the
table is a verdict in words, from the same numbers as the table.

[b]Seeds[/b] (Training section): every variant trains once per seed; the
charts show the mean curve with a band from the min to the max over the
seeds, and [b]best±std[/b] is the mean ± std of each seed's best val loss.
[b]Sweep[/b] (the config's Sweep section, then [b]k[/b] and [b]r[/b]): pick a variant,
one or two knobs and their values (0, 1e-4, 1e-3 …); each value trains
over the seeds. One knob draws best val loss against it (the U: its
bottom is the right strength; grey: final train loss; ★ the best point),
two knobs a heat map (brighter = lower loss).
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
