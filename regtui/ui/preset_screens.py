"""The lab's preset dialogs: save the current experiment, open (or delete) a preset.

``SavePresetScreen`` dismisses with the written ``Path`` (or None on Escape);
``OpenPresetScreen`` dismisses with the loaded ``Experiment`` (or None).
``ConfirmScreen`` is the small yes/no dialog both use before replacing or
deleting a user preset.  All file work goes through ``regtui.core.presets``
(name checks, atomic writes, the bundled folder never written); this module
only asks and shows.  Text from preset files is shown as plain text, never as
markup.  Everything works from the keyboard at 80×24.

Imports Textual and the core; no torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from regtui.core import presets
from regtui.core.config import ConfigError, Experiment


class ConfirmScreen(ModalScreen[bool]):
    """Ask one yes/no question; ``y`` confirms, ``n`` or Escape declines (the default)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-dialog {
        width: 60; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-question { width: 100%; margin: 1 0; }
    ConfirmScreen #confirm-buttons { width: 100%; height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(Content(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (y)", variant="error", id="confirm-yes")
                yield Button("No (n)", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-dialog").border_title = "Confirm"
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class SavePresetScreen(ModalScreen[Path | None]):
    """Save the experiment as a user preset: name and description, checked as you type."""

    DEFAULT_CSS = """
    SavePresetScreen { align: center middle; }
    SavePresetScreen > #save-dialog {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SavePresetScreen .field-label { margin-top: 1; }
    SavePresetScreen #preset-name-hint { color: $text-muted; height: auto; }
    SavePresetScreen #preset-name-hint.-error { color: $error; }
    SavePresetScreen #preset-save-error { color: $error; height: auto; }
    SavePresetScreen #save-buttons { width: 100%; height: auto; align-horizontal: right; }
    SavePresetScreen Button { margin-left: 1; }
    """

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

            self.app.push_screen(ConfirmScreen(f"Replace your user preset {name}?", "Replace"), confirmed)
        else:
            self._write(experiment, name, overwrite=False)

    def _write(self, experiment: Experiment, name: str, *, overwrite: bool) -> None:
        try:
            path = presets.save_preset(experiment, name, self.presets_dir, overwrite=overwrite)
        except ConfigError as exc:
            self.query_one("#preset-save-error", Static).update(Content(str(exc)))
            self._update_hint(name)
            return
        self.dismiss(path)


class OpenPresetScreen(ModalScreen[Experiment | None]):
    """Pick a preset: filter by typing, preview what it sets, Enter opens, ctrl+d deletes."""

    DEFAULT_CSS = """
    OpenPresetScreen { align: center middle; }
    OpenPresetScreen > #open-dialog {
        width: 100%; max-width: 130; height: 100%; max-height: 44;
        border: thick $primary; background: $surface;
    }
    OpenPresetScreen #preset-filter { margin: 0 0; }
    OpenPresetScreen #open-body { height: 1fr; }
    OpenPresetScreen #preset-list {
        width: 1fr; min-width: 28; height: 100%;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    OpenPresetScreen #preset-preview-pane { width: 1fr; height: 100%; padding: 0 1; border-left: vkey $primary-darken-2; }
    OpenPresetScreen #open-status { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    OpenPresetScreen #open-status.-error { color: $error; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+d", "delete", "Delete user preset", priority=True),
        Binding("delete", "delete", "Delete", show=False),
        Binding("ctrl+t", "toggle_toml", "Summary/TOML", priority=True),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("pageup", "page_up", show=False),
    ]

    def __init__(self, presets_dir: str | None = None) -> None:
        super().__init__()
        self.presets_dir = presets_dir
        self.entries: list[presets.PresetEntry] = []
        self.show_toml = False

    def compose(self) -> ComposeResult:
        with Vertical(id="open-dialog"):
            yield Input(placeholder="type to filter by name or description", id="preset-filter")
            with Horizontal(id="open-body"):
                yield OptionList(id="preset-list", markup=False)
                with VerticalScroll(id="preset-preview-pane"):
                    yield Static("", id="preset-preview")
            yield Static("Enter opens · Esc cancels · ctrl+d deletes a user preset", id="open-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#open-dialog").border_title = "Open preset"
        self.reload()
        self.query_one("#preset-filter", Input).focus()

    # ----------------------------------------------------------------- list

    def reload(self) -> None:
        """Read the folders again and refill the list."""
        self.entries = presets.list_presets(self.presets_dir)
        self._refill()

    def matching(self) -> list[int]:
        """Indexes into ``entries`` that match the filter (name or description, any case)."""
        needle = self.query_one("#preset-filter", Input).value.strip().casefold()
        return [i for i, e in enumerate(self.entries)
                if needle in e.name.casefold() or needle in e.description.casefold()]

    def _refill(self, keep: str | None = None) -> None:
        option_list = self.query_one("#preset-list", OptionList)
        current = keep if keep is not None else self._highlighted_id()
        indexes = self.matching()
        option_list.set_options(Option(self._prompt(self.entries[i]), id=str(i)) for i in indexes)
        if indexes:
            ids = [str(i) for i in indexes]
            option_list.highlighted = ids.index(current) if current in ids else 0
        self._show_preview()

    @staticmethod
    def _prompt(entry: presets.PresetEntry) -> Text:
        text = Text(entry.name, style="bold")
        if entry.broken:
            text.append("  broken", style="bold red")
            text.append(f"  ({entry.origin})", style="dim")
            text.append("\n  " + (entry.error or ""), style="red")
        else:
            text.append(f"  {entry.status}", style="cyan" if entry.bundled else "green")
            text.append("\n  " + (entry.description or "(no description)"), style="dim")
        return text

    def _highlighted_id(self) -> str | None:
        option = self.query_one("#preset-list", OptionList).highlighted_option
        return option.id if option is not None else None

    def highlighted_entry(self) -> presets.PresetEntry | None:
        """The preset under the cursor (None when nothing matches)."""
        option_id = self._highlighted_id()
        return self.entries[int(option_id)] if option_id is not None else None

    # ----------------------------------------------------------------- preview

    def _show_preview(self) -> None:
        preview = self.query_one("#preset-preview", Static)
        entry = self.highlighted_entry()
        if entry is None:
            preview.update(Content("No preset matches the filter."))
            return
        text = Text()
        text.append(entry.name, style="bold")
        text.append(f"  {entry.status}\n", style="dim")
        text.append(f"{entry.path}\n", style="dim")
        if entry.shadowed:
            text.append(f"A user preset named {entry.name} is loaded instead by name; "
                        "this one still opens from here.\n", style="yellow")
        if entry.broken or entry.experiment is None:
            text.append("\nbroken: ", style="bold red")
            text.append(f"{entry.error}\n", style="red")
            text.append("\nThis file cannot be opened; fix it in an editor"
                        + (" or delete it (ctrl+d)." if not entry.bundled else "."))
        else:
            exp = entry.experiment
            if exp.description:
                text.append(f"\n{exp.description}\n")
            text.append("\n")
            text.append(presets.to_toml(exp) if self.show_toml else "\n".join(presets.summary_lines(exp)))
        preview.update(text)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._show_preview()

    @on(Input.Changed, "#preset-filter")
    def _filter_changed(self) -> None:
        self._refill()

    def action_toggle_toml(self) -> None:
        self.show_toml = not self.show_toml
        self._show_preview()

    # ----------------------------------------------------------------- cursor

    def action_cursor_down(self) -> None:
        self.query_one("#preset-list", OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#preset-list", OptionList).action_cursor_up()

    def action_page_down(self) -> None:
        self.query_one("#preset-list", OptionList).action_page_down()

    def action_page_up(self) -> None:
        self.query_one("#preset-list", OptionList).action_page_up()

    # ----------------------------------------------------------------- actions

    def _status(self, message: str, error: bool = False) -> None:
        status = self.query_one("#open-status", Static)
        status.update(Content(message))
        status.set_class(error, "-error")

    @on(Input.Submitted, "#preset-filter")
    def _filter_submitted(self) -> None:
        self.action_open()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        entry = self.highlighted_entry()
        if entry is None:
            self._status("No preset matches the filter.", error=True)
            return
        if entry.broken:
            self._status(f"{entry.name} is broken and cannot be opened: {entry.error}", error=True)
            return
        try:
            experiment = presets.load_file(entry.path)  # read again: the file may have changed
        except ConfigError as exc:
            self._status(f"{entry.name} cannot be opened: {exc}", error=True)
            return
        # Named after the file it came from, so "save" proposes that name again.
        self.dismiss(dataclasses.replace(experiment, name=entry.name))

    def action_delete(self) -> None:
        entry = self.highlighted_entry()
        if entry is None:
            return
        if entry.bundled:
            self._status(f"{entry.name} is a bundled preset; bundled presets cannot be deleted.", error=True)
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                self._status(f"{entry.name} was not deleted.")
                return
            try:
                presets.delete_preset(entry.name, self.presets_dir)
            except ConfigError as exc:
                self._status(f"cannot delete {entry.name}: {exc}", error=True)
                return
            self.reload()
            self._status(f"deleted the user preset {entry.name}.")

        self.app.push_screen(ConfirmScreen(f"Delete your user preset {entry.name}?\n{entry.path}", "Delete"),
                             confirmed)
