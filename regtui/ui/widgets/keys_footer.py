"""The lab's footer: Textual's ``Footer``, rebuilt only when the keys it shows change.

Textual's ``Footer`` recomposes every key (a ``FooterKey`` each, mounted and
styled anew) whenever the screen's bindings are refreshed: at every focus move,
every run-state change, every reactive bound to the keys.  Mounting the lab alone
did that five times.  ``KeysFooter`` compares what it would draw (each shown
binding, whether it is enabled, its tooltip, how its key is written, and the
palette's key) with what it drew last and skips a recompose that would draw the
same keys.  What it shows is Textual's footer, unchanged (the lab's keys:
``regtui.ui.keys``).
"""

from __future__ import annotations

from typing import Any, Hashable

from textual.app import ComposeResult
from textual.widgets import Footer


class KeysFooter(Footer):
    """``Footer`` that recomposes only when its keys changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._drawn: Hashable | None = None
        """What the keys on screen were composed from (None: no key composed yet)."""

    def _keys(self) -> Hashable:
        """What ``Footer.compose`` draws the keys from."""
        app = self.app
        active = self.screen.active_bindings
        keys = tuple((key, binding, enabled, tooltip, app.get_key_display(binding))
                     for key, (_, binding, enabled, tooltip) in active.items() if binding.show)
        palette = active.get(app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        return keys, palette and palette[1:], self.combine_groups, app.ENABLE_COMMAND_PALETTE

    def compose(self) -> ComposeResult:
        drawn = False
        for widget in super().compose():  # nothing until the screen's bindings are first ready
            drawn = True
            yield widget
        self._drawn = self._keys() if drawn else None

    async def recompose(self) -> None:
        if self._drawn is not None and self.is_attached and self._drawn == self._keys():
            return
        await super().recompose()
