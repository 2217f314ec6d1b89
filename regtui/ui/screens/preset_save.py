"""The save-preset dialog (``ctrl+s``): name and description, checked as you type.

``SavePresetScreen`` dismisses with the written ``Path`` (or None on Escape);
it asks ``ConfirmScreen`` before replacing a user preset.  All file work goes
through ``regtui.core.presets`` (name checks, atomic writes, the bundled
folder never written); this module only asks and shows.  Text from preset
files is shown as plain text, never as markup.  Everything works from the
keyboard at 80×24.  The picker (``ctrl+o``) is ``preset_open``.

Imports Textual and the core; no torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from regtui.core import presets
from regtui.core.config import ConfigError, Experiment
from regtui.core.text import visible


from regtui.ui.screens.confirm import ConfirmScreen


class SavePresetScreen(ModalScreen[Path | None]):
    """Save the experiment as a user preset: name and description, checked as you type."""


    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, experiment: Experiment, presets_dir: str | None = None) -> None:
        super().__init__()
        self.experiment = experiment
        self.presets_dir = presets_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label("Name (letters, digits, - _ .)", classes="field-label")
            yield Input(presets.suggest_name(self.experiment.name, self.presets_dir), id="preset-name",
                        placeholder="my-comparison")
            yield Static("", id="preset-name-hint")
            yield Label("Description (one line, shown in lists)", classes="field-label")
            yield Input(self.experiment.description, id="preset-description", placeholder="what this comparison shows")
            yield Static("", id="preset-save-error")
            with Horizontal(id="save-buttons"):
                yield Button("Save", variant="primary", id="save-button")
                yield Button("Cancel", id="cancel-button")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#save-dialog").border_title = "Save preset"
        self._update_hint(self.query_one("#preset-name", Input).value)
        self.query_one("#preset-name", Input).focus()

    # ----------------------------------------------------------------- checks

    def _name_problem(self, name: str) -> str | None:
        """Why ``name`` cannot be saved to, or None."""
        try:
            presets.user_preset_path(name, self.presets_dir)
        except ConfigError as exc:
            return exc.problem
        return None

    def _update_hint(self, name: str) -> None:
        hint = self.query_one("#preset-name-hint", Static)
        problem = self._name_problem(name) if name else "a name is required"
        if problem:
            text = problem
        elif presets.user_preset_problem(name, self.presets_dir):
            text = f"replaces your BROKEN user preset {name}: its file does not load (you will be asked first)"
        elif presets.user_preset_exists(name, self.presets_dir):
            text = f"replaces your user preset {name} (you will be asked first)"
        elif presets.is_bundled(name):
            text = f"a new user preset that shadows the bundled {name} (the bundled one is not changed)"
        else:
            text = f"new user preset in {presets.user_dir(self.presets_dir)}"
        hint.update(Content(text))
        hint.set_class(problem is not None, "-error")
        self.query_one("#preset-name", Input).set_class(problem is not None, "-invalid")

    @on(Input.Changed, "#preset-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self.query_one("#preset-save-error", Static).update("")
        self._update_hint(event.value.strip())

    # ----------------------------------------------------------------- actions

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save-button")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel-button")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        description = self.query_one("#preset-description", Input).value
        self._update_hint(name)
        if not name or self._name_problem(name):
            self.query_one("#preset-name", Input).focus()
            return
        experiment = dataclasses.replace(self.experiment, name=name, description=description)
        if presets.user_preset_exists(name, self.presets_dir):

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._write(experiment, name, overwrite=True)

            self.app.push_screen(ConfirmScreen(self._replace_question(name), "Replace"), confirmed)
        else:
            self._write(experiment, name, overwrite=False)

    def _replace_question(self, name: str) -> str:
        """What replacing says: a broken file is named as such, with what is lost."""
        problem = presets.user_preset_problem(name, self.presets_dir)
        if problem is None:
            return f"Replace your user preset {name}?"
        path = presets.user_dir(self.presets_dir) / f"{name}.toml"
        try:
            size = f"{path.stat().st_size:,} bytes"
        except OSError:
            size = "its contents"
        return visible(f"Your user preset {name} is broken and does not load: {problem}. Replacing it "
                       f"discards that file ({size}, hand-edited text included) for the preset on screen. Replace?")

    def _write(self, experiment: Experiment, name: str, *, overwrite: bool) -> None:
        try:
            path = presets.save_preset(experiment, name, self.presets_dir, overwrite=overwrite)
        except ConfigError as exc:
            self.query_one("#preset-save-error", Static).update(Content(str(exc)))
            self._update_hint(name)
            return
        self.dismiss(path)
