"""``Dropdown``: the config panel's compact ``Select``, with fewer widgets to mount.

Textual's ``Select`` composes its option list (``SelectOverlay``, hidden until
opened) and, in the line showing the value (``SelectCurrent``), three
``Static``s: the value, ▼ and ▲ (one of the two arrows hidden).  The panel
holds nine of them, and every widget costs CPU at each mount of the lab
(styling, compose, its messages, layout).  A ``Dropdown`` mounts its option
list when it is first opened (Enter, Space, ↓ or ↑, or a click) and draws its
arrow in one ``Static`` whose text turns with it.  Otherwise it is a
``Select``: same look, keys, messages and CSS type names.

The option list is Textual's own; this leans on ``Select``'s private parts
(``_options``, ``_setup_options_renderables``, ``_watch_value``), as a
subclass that changes what it composes must.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select, Static
from textual.widgets._select import NonSelectableStatic, SelectCurrent, SelectOverlay

UP, DOWN = "▲", "▼"


class DropdownCurrent(SelectCurrent):
    """The value line: the value, then one arrow (▼ closed, ▲ open)."""

    def compose(self) -> ComposeResult:
        yield NonSelectableStatic(self.placeholder, id="label")
        yield NonSelectableStatic(DOWN, classes="arrow")  # not .down-arrow: Select hides that one when open

    def point(self, up: bool) -> None:
        self.query_one(".arrow", Static).update(UP if up else DOWN)


class Dropdown(Select[Any]):
    """A ``Select`` whose option list is mounted when first opened."""

    def compose(self) -> ComposeResult:
        yield DropdownCurrent(self.prompt)

    @property
    def option_list(self) -> SelectOverlay | None:
        """The option list, once it has been opened (None before)."""
        return next((c for c in self.children if isinstance(c, SelectOverlay)), None)

    async def _mount_option_list(self) -> None:
        if self.option_list is None:
            overlay = SelectOverlay(type_to_search=self._type_to_search)
            overlay.compact = self.compact
            await self.mount(overlay)
            super()._setup_options_renderables()

    def _setup_options_renderables(self) -> None:
        if self.option_list is not None:  # else: done when it is mounted
            super()._setup_options_renderables()

    def _watch_value(self, value: Any) -> None:
        if self.option_list is not None:
            super()._watch_value(value)  # also moves the list's highlight
            return
        self._value = value
        current = next((c for c in self.children if isinstance(c, SelectCurrent)), None)
        if current is None:
            return
        if value == self.NULL:
            current.update(self.NULL)
        else:
            prompt = next((prompt for prompt, v in self._options if v == value), None)
            if prompt is not None:
                current.update(prompt)
        self.post_message(self.Changed(self, value))

    def _watch_expanded(self, expanded: bool) -> None:
        super()._watch_expanded(expanded)  # highlights the value in the list when it opens
        for current in self.query_children(DropdownCurrent):
            current.point(expanded)

    async def action_show_overlay(self) -> None:
        await self._mount_option_list()
        super().action_show_overlay()

    @on(SelectCurrent.Toggle)
    async def _toggle(self, event: SelectCurrent.Toggle) -> None:
        """A click on the value line: open (mounting the list first) or close."""
        event.stop()
        event.prevent_default()  # Select's own handler would look for the list first
        await self._mount_option_list()
        self.expanded = not self.expanded
