"""The lab's preset actions, mixed into the App (``app.py`` stays a router).

``ctrl+s`` opens the save dialog on the config panel's experiment (refused,
with a message, while the config is invalid); ``ctrl+o`` opens the picker and
hands the chosen experiment to the App's ``load_experiment``.  The dialogs
themselves live in ``regtui.ui.screens.preset_save`` / ``preset_open``.
"""

from __future__ import annotations

from typing import Any


class PresetActions:
    """Mixin for ``RegTuiApp``: save and open presets."""

    presets_dir: str | None
    panel: Any

    def action_save_preset(self) -> None:
        experiment = self.panel.experiment
        if experiment is None:
            self.notify("fix the config before saving it", severity="error")
            return
        from regtui.ui.screens.preset_save import SavePresetScreen

        self.push_screen(SavePresetScreen(experiment, self.presets_dir), self._preset_saved)

    def _preset_saved(self, path: object) -> None:
        if path is not None:
            self.panel.base = self.panel.experiment  # saved: q keeps nothing more (regtui.ui.unsaved)
            self.notify(f"saved {path}")

    def action_open_preset(self) -> None:
        from regtui.ui.screens.preset_open import OpenPresetScreen

        self.push_screen(OpenPresetScreen(self.presets_dir), self.load_experiment)
