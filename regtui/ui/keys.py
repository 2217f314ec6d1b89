"""The lab's keys in one table: the App's bindings (shown in the Footer) and the
command-palette entries that call the same actions.  The help screen lists them too.
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
    ("ctrl+s", "save_preset", "save", "Save preset", "Save the current config as a preset (ctrl+s)"),
    ("ctrl+o", "open_preset", "open", "Open preset", "Load a preset into the config panel (ctrl+o)"),
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
    # b and w show in the footer when it has room; m, s, t in the palette and the help
    ("b", "boundary", "map", "Decision maps", "Each variant's decision boundary over the 2-D input plane (b)"),
    ("w", "weights", "weights", "Weights", "Weight histograms and the weight norm over epochs (w)"),
    ("m", "metric", "metric", "Chart metric", "Plot loss, accuracy or the generalization gap (m)"),
    ("s", "smooth", "smooth", "Smoothing", "Smooth the curves: EMA 0 / 0.6 / 0.9 / 0.99 (s)"),
    ("t", "time", "x-axis", "X-axis: epochs / seconds", "Plot against epochs or seconds (t)"),
)

SWEEP_KEYS: tuple[tuple[str, str, str, str, str], ...] = (
    # the sweep view (its grid is defined in the config panel's Sweep section); r there runs the sweep
    ("k", "sweep", "sweep", "Sweep view", "Best val loss against λ, p or n_train over a grid; r runs the sweep (k)"),
)

BINDINGS: list[Binding] = [Binding(key, action, label) for key, action, label, _, _ in KEYS] + [
    Binding(key, action, label, show=key in ("b", "w")) for key, action, label, _, _ in INSIGHT_KEYS] + [
    Binding(key, action, label, show=False) for key, action, label, _, _ in HISTORY_KEYS + SWEEP_KEYS] + [
    Binding("escape", "leave_field", "leave field", show=False),
]
"""Plain (non-priority) bindings: a focused text field takes printable keys first."""

PALETTE: tuple[tuple[str, str, str], ...] = tuple(
    (action, title, help_text) for _, action, _, title, help_text in KEYS + HISTORY_KEYS + INSIGHT_KEYS + SWEEP_KEYS if action != "quit"
)
"""(action, title, help) for the command palette; Textual adds its own Quit."""
