"""The lab's preset picker: every preset (bundled and user, broken ones marked),
filterable by typing, with a preview; Enter opens, ctrl+d deletes a user preset
after confirmation.  Dismisses with the loaded ``Experiment`` (or None).
Imports Textual and the core; no torch.
"""

from __future__ import annotations

import dataclasses

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from regtui.core import presets
from regtui.core.config import ConfigError, Experiment
from regtui.core.text import visible


from regtui.ui.screens.confirm import ConfirmScreen


class OpenPresetScreen(ModalScreen[Experiment | None]):
    """Pick a preset: filter by typing, preview what it sets, Enter opens, ctrl+d deletes."""


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
    PALETTE = (  # the filter takes plain keys; a browser keeps ctrl+t, some ctrl+d (regtui serve)
        ("toggle_toml", "Preview: summary / TOML", "Show the highlighted preset as a summary or as its TOML (ctrl+t)"),
        ("delete", "Delete user preset", "Delete the highlighted user preset, after asking (ctrl+d)"),
    )

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
        # Names, descriptions and errors come from files: text (never markup) with
        # control characters made visible (an ESC would reach the terminal).
        text = Text(visible(entry.name), style="bold")
        if entry.broken:
            text.append("  broken", style="bold red")
            text.append(f"  ({entry.origin})", style="dim")
            text.append("\n  " + visible(entry.error or ""), style="red")
        else:
            text.append(f"  {entry.status}", style="cyan" if entry.bundled else "green")
            text.append("\n  " + visible(entry.description or "(no description)"), style="dim")
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
        text.append(visible(entry.name), style="bold")
        text.append(f"  {entry.status}\n", style="dim")
        text.append(f"{visible(str(entry.path))}\n", style="dim")
        if entry.shadowed:
            text.append(f"A user preset named {visible(entry.name)} is loaded instead by name; "
                        "this one still opens from here.\n", style="yellow")
        if entry.broken or entry.experiment is None:
            text.append("\nbroken: ", style="bold red")
            text.append(f"{visible(entry.error or '')}\n", style="red")
            text.append("\nThis file cannot be opened; fix it in an editor"
                        + (" or delete it (ctrl+d)." if not entry.bundled else "."))
        else:
            exp = entry.experiment
            if exp.description:
                text.append(f"\n{visible(exp.description)}\n")
            text.append("\n")
            lines = presets.to_toml(exp).splitlines() if self.show_toml else presets.summary_lines(exp)
            text.append("\n".join(visible(line) for line in lines))
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
        status.update(Content(visible(message)))
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
