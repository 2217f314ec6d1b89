"""Branching the running comparison (``f``), mixed into the App (``app.py`` stays a router).

``f`` takes the config panel's λ / η / p / lr (and epochs) as changes and asks
the worker to branch at the next boundary between two epochs
(``regtui.ui.worker.branching``).  Once it has, the run on screen is the
branch: its curves up to the branch point are the parent's, a vertical line
marks the branch point on every chart, and the parent's continuation is drawn
dimmed as the ghost.  A change the panel holds that a branch cannot make
(data, network, optimizer, variants) is refused with one line before anything
is asked.  Relies on the App's ``panel``, ``charts``, ``history``,
``control``, ``run_state``, ``run_experiment`` and ``notify``.
"""

from __future__ import annotations

from typing import Any

from regtui.core.results import RunHistory
from regtui.ui.worker.messages import BranchRefused, BranchStarted, GhostEpochs


class BranchActions:
    """Mixin for ``RegTuiApp``: ``f`` and the worker's branch messages."""

    parent_line: RunHistory | None = None
    """The parent's continuation after a branch (drawn as the ghost), or None."""
    branch_note: str = ""
    """What the status line says about the branch on screen."""
    branch_panel: Any = None
    """The panel's experiment when the branch was asked (the note stays while it is)."""
    branch_pending = False

    def branch_reset(self) -> None:
        """A new run: no branch point, no parent line."""
        self.parent_line, self.branch_note, self.branch_panel, self.branch_pending = None, "", None, False
        self.charts.set_branch(None)  # type: ignore[attr-defined]
        if getattr(self, "ghost_run", None) is None:
            self.charts.set_ghost(None)  # type: ignore[attr-defined]

    def action_branch(self) -> None:
        from regtui.core.branch import edited_changes
        from regtui.core.config import ConfigError
        from regtui.ui.worker.branching import BranchRequest

        control, history = self.control, self.history  # type: ignore[attr-defined]
        if control is None or self.run_state not in ("running", "paused") or history is None or history.epoch < 0:  # type: ignore[attr-defined]
            self.notify("f branches a running comparison: r starts one", severity="warning")  # type: ignore[attr-defined]
            return
        if getattr(self, "sweep_shown", False):
            self.notify("a sweep cannot be branched", severity="warning")  # type: ignore[attr-defined]
            return
        edited = self.panel.experiment  # type: ignore[attr-defined]
        if edited is None:
            self.notify("fix the config first", severity="error")  # type: ignore[attr-defined]
            return
        try:
            changes = edited_changes(self.run_experiment, edited, history.epoch + 1)  # type: ignore[attr-defined]
        except ConfigError as exc:
            self.notify(str(exc), title="cannot branch", severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        if not changes:
            self.notify("nothing to branch with: change λ, η, p or lr in the config panel, then f",  # type: ignore[attr-defined]
                        severity="warning")
            return
        control.branch = BranchRequest(edited)
        self.branch_pending = True
        self.branch_panel = edited
        paused = " (space resumes)" if self.run_state == "paused" else ""  # type: ignore[attr-defined]
        self.branch_note = f"branching at the end of epoch {history.epoch + 1}{paused}: {changes.describe()}"
        self._update_note()  # type: ignore[attr-defined]

    def on_branch_started(self, message: BranchStarted) -> None:
        if not self._current(message) or self.history is None:  # type: ignore[attr-defined]
            return
        from regtui.core.branch import replay

        parent = self.history  # type: ignore[attr-defined]
        child = RunHistory(message.experiment)
        for event in replay(parent, message.epoch - 1):
            child.add(event)
        self.history = child  # type: ignore[attr-defined]
        self.run_experiment = message.experiment  # type: ignore[attr-defined]
        self.parent_line = parent
        self.branch_pending = False
        label = f"parent #{message.parent_id}" if message.parent_id is not None else "parent"
        self.charts.set_ghost(parent, f"{label} goes on")  # type: ignore[attr-defined]
        self.charts.set_branch(message.epoch - 1)  # type: ignore[attr-defined]
        recorded = f" (run #{message.history_id})" if message.history_id is not None else ""
        self.branch_note = f"branched{recorded} after epoch {message.epoch - 1}: {message.changes.describe()}"
        self.notify(self.branch_note + f"; the dimmed curves: the {label} without the change")  # type: ignore[attr-defined]
        self._views_dirty = True  # type: ignore[attr-defined]
        self._update_note()  # type: ignore[attr-defined]

    def on_ghost_epochs(self, message: GhostEpochs) -> None:
        if self._current(message) and self.parent_line is not None:  # type: ignore[attr-defined]
            for event in message.events:
                self.parent_line.add(event)
            self._views_dirty = True  # type: ignore[attr-defined]

    def on_branch_refused(self, message: BranchRefused) -> None:
        if self._current(message):  # type: ignore[attr-defined]
            self.branch_pending, self.branch_note = False, ""
            self.notify(message.message, title="cannot branch", severity="error", timeout=8)  # type: ignore[attr-defined]
            self._update_note()  # type: ignore[attr-defined]

    def branch_status(self) -> str:
        """The status note about a branch, while the panel still holds what it was asked with."""
        if self.branch_note and self.panel.experiment == self.branch_panel:  # type: ignore[attr-defined]
            return self.branch_note
        return ""
