"""The lab's footer: Textual's ``Footer``, rebuilt only when the keys it shows change.

Textual's ``Footer`` recomposes every key (a ``FooterKey`` each, mounted and
styled anew) whenever the screen's bindings are refreshed: at every focus move,
every run-state change, every reactive bound to the keys.  Mounting the lab alone
did that five times.  ``KeysFooter`` compares what it would draw (each shown
binding, whether it is enabled, its tooltip, how its key is written, and the
palette's key) with what it drew last and skips a recompose that would draw the
same keys.  When the keys to draw are some of those drawn, in the same order and
the same state (focus entering a config field hides the lab's letter keys, which
type into the field; leaving it brings them back), it hides the others instead
of mounting new ones: a recompose mounts ~10 widgets and lays the screen out
twice (the new keys' sizes change once more after the first layout).  What it
shows is Textual's footer, unchanged (the lab's keys: ``regtui.ui.keys``).
"""

from __future__ import annotations

from typing import Any, Hashable

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """``Footer`` that recomposes only when its keys changed, and hides keys that go."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._drawn: Hashable | None = None
        """What the keys on screen were composed from (None: no key composed yet)."""
        self._shown: Hashable | None = None
        """What the keys on screen show now (some of the composed ones may be hidden)."""
        self._entries: tuple[Hashable, ...] = ()
        """One entry per composed ``FooterKey`` but the palette's, in order (``_entries``)."""

    def _keys(self) -> Hashable:
        """What ``Footer.compose`` draws the keys from."""
        app = self.app
        active = self.screen.active_bindings
        keys = tuple((key, binding, enabled, tooltip, app.get_key_display(binding))
                     for key, (_, binding, enabled, tooltip) in active.items() if binding.show)
        palette = active.get(app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        return keys, palette and palette[1:], self.combine_groups, app.ENABLE_COMMAND_PALETTE

    @staticmethod
    def _keys_drawn(keys: Any) -> tuple[Hashable, ...] | None:
        """The ``FooterKey``s ``Footer.compose`` makes of ``keys`` (its first binding of
        each action), in order; None if it would group some (not drawn key by key)."""
        first: dict[str, Hashable] = {}
        for key, binding, enabled, tooltip, display in keys[0]:
            if binding.group is not None:
                return None
            first.setdefault(binding.action, (key, binding, enabled, tooltip, display))
        return tuple(first.values())

    def compose(self) -> ComposeResult:
        drawn = False
        for widget in super().compose():  # nothing until the screen's bindings are first ready
            drawn = True
            yield widget
        self._drawn = self._shown = self._keys() if drawn else None
        self._entries = (self._keys_drawn(self._drawn) or ()) if drawn else ()

    def _hide_the_others(self, keys: Any) -> bool:
        """Show only the composed keys that ``keys`` would draw; False (nothing changed)
        unless they are some of them, in the same order, state and palette."""
        assert self._drawn is not None
        entries = self._keys_drawn(keys)
        if entries is None or keys[1:] != self._drawn[1:] or not self._entries:  # type: ignore[index]
            return False
        keep = set(entries)
        if [e for e in self._entries if e in keep] != list(entries):
            return False
        widgets = [w for w in self.query_children(FooterKey) if not w.has_class("-command-palette")]
        if len(widgets) != len(self._entries):
            return False
        for widget, entry in zip(widgets, self._entries):
            widget.display = entry in keep
        self._shown = keys
        return True

    async def recompose(self) -> None:
        if self._drawn is not None and self.is_attached:
            keys = self._keys()
            if keys == self._shown or self._hide_the_others(keys):
                return
        await super().recompose()
