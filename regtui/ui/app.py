"""The lab's App: the stylesheet, the terminal's size classes, the command palette,
and the lab screen (``regtui.ui.screens.lab``) as its default screen.

``create_app(experiment, presets_dir)`` builds it (the CLI and the tests use
the same factory).  Everything the lab does lives in ``LabScreen`` (keys,
views, the run session); ``app.lab`` is that screen.  Sizes become CSS
classes on the App (``-narrow`` / ``-wide`` / ``-short``), for every screen.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from regtui.core.config import Experiment
from regtui.core.text import visible
from regtui.ui.screens.lab import LabScreen


class RegTuiApp(App[None]):
    """The regtui lab."""

    CSS_PATH = "regtui.tcss"
    TITLE = "regtui"

    def __init__(self, lab: LabScreen) -> None:
        super().__init__()
        self.lab = lab
        """The lab screen (the bottom of the screen stack)."""
        self.last_export: Path | None = None
        """The folder of the latest export (``regtui.ui.export.start_export``)."""

    def get_default_screen(self) -> Screen[Any]:
        return self.lab

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < 100, "-narrow")
        self.set_class(event.size.width >= 160, "-wide")
        self.set_class(event.size.height < 30, "-short")

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """Notifications carry user text (values, names, paths): plain unless asked for
        markup, with control characters made visible (``regtui.core.text.visible``)."""
        super().notify(message if markup else visible(message), markup=markup, **kwargs)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, the lab's (``keys.PALETTE``) and those of the dialog on top."""
        yield from super().get_system_commands(screen)
        for owner in dict.fromkeys((self.lab, screen)):
            for action, title, help_text in getattr(owner, "PALETTE", ()):  # some take arguments: cursor('left')
                yield SystemCommand(title, help_text, partial(owner.run_action, action))

    def action_quit(self) -> None:
        """ctrl+q and a SIGTERM (``regtui.commands.signals``) quit as ``q`` does, but
        ask nothing, not even about invalid edits (``LabScreen.quit_now``)."""
        self.lab.quit_now()


def create_app(experiment: Experiment, presets_dir: str | None = None, *,
               clock: Callable[[], float] = time.monotonic, tour_step: int | None = None,
               tour_overrides: tuple[str, ...] = ()) -> RegTuiApp:
    """The lab, opened on ``experiment`` (``clock`` is injectable for tests); with
    ``tour_step`` on that step of the tour (``regtui tour``), its presets changed by
    ``tour_overrides``."""
    return RegTuiApp(LabScreen(experiment, presets_dir, clock, tour_step, tour_overrides))
