"""The lab's keys in one table: the lab screen's bindings (shown in the Footer) and the
command-palette entries that call the same actions.  The help screen lists them too.

In a browser (``regtui serve``) the browser keeps some keys for itself: ctrl+w,
ctrl+t, ctrl+n, ctrl+1–9 and the F-keys always, ctrl+s, ctrl+o, ctrl+d, ctrl+r
and ctrl+g on some browsers.  Each such key the lab binds has a plain key
beside it (``BROWSER_KEYS``) or, on the dialogs whose text field takes plain
keys, a command-palette entry: the screen's ``PALETTE``, offered by the App
while that screen is on top.  The palette itself is ctrl+p, which browsers
let a page have.
"""

from __future__ import annotations

from textual.binding import Binding

KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # key, action, footer label, palette title, palette help
    ("r", "run", "run", "Run", "Run, or restart with the current config (r)"),
    ("space", "pause", "pause", "Pause / resume", "Pause or resume the run (space)"),
    ("x", "stop", "stop", "Stop", "Stop the run (x)"),
    ("v", "view", "view", "Switch chart view", "One chart per variant or all variants overlaid (v)"),
    ("l", "log", "log y", "Log scale", "Toggle a log y-axis on the charts (l)"),
    ("c", "config", "config", "Show / hide config", "Give the charts the whole width (c)"),
    ("ctrl+s", "save_preset", "save", "Save preset", "Save the current config as a preset (ctrl+s or S)"),
    ("ctrl+o", "open_preset", "open", "Open preset", "Load a preset into the config panel (ctrl+o or O)"),
    ("question_mark", "help", "help", "Help", "Keys, what L2 and Dropout do, how to read the charts (?)"),
    ("q", "quit", "quit", "Quit", "Stop the run and quit (q)"),
)

HISTORY_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # kept out of the footer (full at 80 columns); in the palette and the help
    ("h", "history", "history", "History", "Past runs: open, ghost, re-run, delete (h)"),
    ("e", "export", "export", "Export run", "Write JSON, CSV, an SVG screenshot and a Markdown report (e)"),
    ("g", "ghost", "ghost", "Ghost run", "Overlay a past run dimmed on the charts, or clear it (g)"),
)

INSIGHT_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # kept out of the footer (it holds the KEYS row whole at 80 columns); in the palette and the help
    ("b", "boundary", "map", "Decision maps", "Each variant's decision boundary over the 2-D input plane (b)"),
    ("w", "weights", "weights", "Weights", "Weight histograms and the weight norm over epochs (w)"),
    ("m", "metric", "metric", "Chart metric", "Plot loss, accuracy or the generalization gap (m)"),
    ("s", "smooth", "smooth", "Smoothing", "Smooth the curves: EMA 0 / 0.6 / 0.9 / 0.99 (s)"),
    ("t", "time", "x-axis", "X-axis: epochs / seconds", "Plot against epochs or seconds (t)"),
    ("y", "y_range", "y-range", "Y-range: shared / per chart",
     "One y-range across the per-variant charts, so heights compare, or one per chart (y)"),
    ("R", "rank", "rank", "Ranking: end / best epoch",
     "Rank by the val loss where training ends or by each variant's best epoch (early stopping) (R)"),
    ("V", "verdict", "verdict", "Whole verdict", "The run's whole story in words, every sentence (V)"),
)

CURSOR_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # the epoch cursor: one line across every chart and a readout of every variant there
    ("i", "cursor('toggle')", "inspect", "Epoch cursor", "Mark one epoch on every chart and read each variant's values there (i)"),
    ("comma", "cursor('left')", "◂", "Cursor left", "Move the epoch cursor left (, — < ten times as far)"),
    ("full_stop", "cursor('right')", "▸", "Cursor right", "Move the epoch cursor right (. — > ten times as far)"),
    ("less_than_sign", "cursor('far_left')", "◂◂", "Cursor far left", "Move the epoch cursor left ten steps (<)"),
    ("greater_than_sign", "cursor('far_right')", "▸▸", "Cursor far right", "Move the epoch cursor right ten steps (>)"),
    ("z", "cursor('zoom_in')", "zoom", "Zoom in", "Show half the epochs, around the cursor or the latest ones (z)"),
    ("Z", "cursor('zoom_out')", "unzoom", "Zoom out", "Show twice the epochs, back to the whole run (Z)"),
)

SWEEP_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # the sweep view (its grid is defined in the config panel's Sweep section); r there runs the sweep
    ("k", "sweep", "sweep", "Sweep view", "Best val loss against λ, p or n_train over a grid; r runs the sweep (k)"),
)

BRANCH_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # the branch key and the tour (issue 19); in the palette and the help
    ("f", "branch", "branch", "Branch the run",
     "Go on from this epoch with the config panel's λ, η, p or lr; the parent stays as a ghost (f)"),
    ("a", "tour", "tour", "Tour", "The article in six steps, each run live with a check of what it shows (a)"),
)

TOUR_KEYS: tuple[tuple[str, str, str], ...] = (
    # key, action, label: only while the tour is on (check_action); the tour's card names them
    ("n", "tour_next", "next"),
    ("p", "tour_previous", "previous"),
)

BROWSER_KEYS: tuple[tuple[str, str], ...] = (
    # key, action: a key no browser keeps, beside a ctrl key that some keep
    ("S", "save_preset"),
    ("O", "open_preset"),
)

BINDINGS: list[Binding] = [Binding(key, action, label) for key, action, label, _, _ in KEYS] + [
    Binding(key, action, label, show=False) for key, action, label, _, _ in INSIGHT_KEYS] + [
    Binding(key, action, label, show=False) for key, action, label, _, _ in HISTORY_KEYS + SWEEP_KEYS + CURSOR_KEYS + BRANCH_KEYS] + [
    Binding(key, action, show=False) for key, action in BROWSER_KEYS] + [
    Binding(key, action, label, show=False) for key, action, label in TOUR_KEYS] + [
    Binding("escape", "leave_field", "leave field", show=False),
] + [Binding(str(n), f"variant_knobs({n})", f"variant {n}", show=False) for n in range(1, 10)]
"""Plain (non-priority) bindings: a focused text field takes printable keys first.
``1``–``9`` put the cursor in that variant's λ field (↓ then reaches its p): any
variant's λ or p in two keys, without tabbing through the panel."""

PALETTE: tuple[tuple[str, str, str], ...] = tuple(
    (action, title, help_text) for _, action, _, title, help_text in KEYS + HISTORY_KEYS + INSIGHT_KEYS + SWEEP_KEYS + CURSOR_KEYS
    + BRANCH_KEYS
    if action != "quit"
)
"""(action, title, help) for the command palette; Textual adds its own Quit."""
