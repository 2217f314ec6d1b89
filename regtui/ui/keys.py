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

BINDINGS: list[Binding] = [Binding(key, action, label) for key, action, label, _, _ in KEYS] + [
    Binding("escape", "leave_field", "leave field", show=False),
]
"""Plain (non-priority) bindings: a focused text field takes printable keys first."""

PALETTE: tuple[tuple[str, str, str], ...] = tuple(
    (action, title, help_text) for _, action, _, title, help_text in KEYS if action != "quit"
)
"""(action, title, help) for the command palette; Textual adds its own Quit."""
