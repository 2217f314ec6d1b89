"""Config inputs: parsing text into config values, and ``+``/``-`` stepping.

``ConfigInput`` is a compact ``Input`` that knows what kind of value it holds
(int, float, hidden-layer list, variant name, λ on a log ladder, drop p).  On
a λ or p field ``+``/``-`` step the value (``ladder_step`` / ``p_step``)
instead of being typed, except right after an ``e`` so ``1e-3`` can be typed.
Range checks are the core's (``Experiment`` validation); here only the
conversion from text.  ``FieldRow`` is a field's line (caption, then the field);
``FieldMessage`` is the line under it that names its problem; it touches the
screen only when its text changes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from textual import events
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Input, Static

Kind = Literal["int", "float", "hidden", "name", "ladder", "prob"]

LADDER: tuple[float, ...] = (
    0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0,
)
"""The values ``+``/``-`` walk through on a λ (or decay η) field."""
P_STEP = 0.05
P_MAX = 0.95


class FieldError(ValueError):
    """Text that is not a value of the field's kind; ``str()`` is the message."""


def ladder_step(value: float, up: bool) -> float:
    """The next ladder value above (or below) ``value``; clamps at the ends."""
    tol = 1e-9 * max(1.0, abs(value))
    if up:
        return next((v for v in LADDER if v > value + tol), LADDER[-1])
    return next((v for v in reversed(LADDER) if v < value - tol), LADDER[0])


def p_step(value: float, up: bool) -> float:
    """``value`` ± 0.05 on the 0.05 grid, kept in [0, 0.95]."""
    steps = value / P_STEP
    k = math.floor(steps + 1e-9) + 1 if up else math.ceil(steps - 1e-9) - 1
    return round(min(P_MAX, max(0.0, k * P_STEP)), 2)


def format_value(value: Any, kind: Kind | None = None) -> str:
    """How a config value is written in its field.  A λ / η (``"ladder"``) value
    below 0.01 is written in one scientific form, ``1e-5`` … ``3e-3``, so the
    ladder reads 0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1 …"""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        if kind == "ladder" and 0 < abs(value) < 1e-2:
            mantissa, exponent = f"{value:e}".split("e")
            return f"{float(mantissa):g}e{int(exponent)}"
        return f"{value:g}"
    return str(value)


def parse_int(text: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise FieldError(f"must be an integer, got {text!r}") from None
    if not number.is_integer():
        raise FieldError(f"must be an integer, got {text!r}")
    return int(number)


def parse_float(text: str) -> float:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        raise FieldError(f"must be a number, got {text!r}") from None
    if not math.isfinite(number):
        raise FieldError(f"must be a finite number, got {text!r}")
    return number


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"128, 64"`` -> ``(128, 64)``; empty means no hidden layer."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        return tuple(parse_int(p) for p in parts)
    except FieldError:
        raise FieldError(f"must be layer widths like '128, 64', got {text.strip()!r}") from None


PARSERS = {
    "int": parse_int,
    "float": parse_float,
    "ladder": parse_float,
    "prob": parse_float,
    "hidden": parse_hidden,
    "name": str.strip,
}


class ConfigInput(Input):
    """A one-line input for one config value."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    """The text's width (how far it scrolls): a change repaints the field, without
    ``Widget.virtual_size``'s layout of the whole screen (~60 ms of CPU at 80×24 on
    every key that changes the text's length), since the stylesheet fixes the field's
    size and its scrollbar is 0 wide."""

    def __init__(self, value: Any, kind: Kind, *, id: str | None = None, classes: str | None = None,
                 tooltip: str | None = None) -> None:
        super().__init__(format_value(value, kind), id=id, classes=classes, compact=True, tooltip=tooltip)
        self.kind: Kind = kind
        self._after_leaving: str | None = None
        """A key that came fused to an Esc (alt+key), pressed again once the field has lost focus."""

    def on_blur(self) -> None:
        key, self._after_leaving = self._after_leaving, None
        if key is not None:
            self.app.simulate_key(key)

    def parsed(self) -> Any:
        """The value the text stands for; raises ``FieldError``."""
        return PARSERS[self.kind](self.value)

    def step(self, up: bool) -> None:
        """Step a λ or p value; text that is not a number starts from 0."""
        try:
            current = max(0.0, parse_float(self.value))
        except FieldError:
            current = 0.0
        new = ladder_step(current, up) if self.kind == "ladder" else p_step(current, up)
        self.value = format_value(new, self.kind)
        self.cursor_position = len(self.value)

    async def _on_key(self, event: events.Key) -> None:
        if event.key.startswith("alt+") and len(event.key) > 4:
            # A terminal sends Esc then a key typed within Textual's escape delay (~50 ms)
            # as one alt+key: it is both keys, so leave the field and let the key act.
            event.stop()
            event.prevent_default()
            self._after_leaving = event.key.removeprefix("alt+")  # pressed once the focus has left (on_blur)
            self.app.simulate_key("escape")
            return
        if event.key != "escape":
            self._after_leaving = None
        if self.kind in ("ladder", "prob") and event.character in ("+", "-"):
            before = self.value[: self.cursor_position]
            if not before.lower().endswith("e"):  # "1e-3" is typed, not stepped
                event.stop()
                event.prevent_default()
                self.step(event.character == "+")


class FieldRow(Horizontal):
    """One field's line (class ``field-row``): its caption, then the field.

    The row draws the caption itself, in the columns left of the field (the
    stylesheet puts the field 12 columns in), instead of holding a ``Label``: the
    lab mounts ~30 of these rows, and each widget costs ~2–3 ms of CPU at every
    mount (styling, compose, messages, layout); a container's own content shows
    where its children do not cover it."""

    def __init__(self, caption: str, field: Widget) -> None:
        super().__init__(field, classes="field-row")
        self.caption = Content(caption)  # plain text, never markup
        self.field = field

    def render(self) -> Content:
        return self.caption


class FieldMessage(Static):
    """Text under a field, plain (it shows what was typed, never markup): a problem
    (class ``error``, hidden while empty) or a note (``hide_empty=False``).

    The panel re-checks every field on every key and re-shows every message, so
    ``show`` does nothing when the text is the same, and when it changes repaints
    only this widget unless the wrapped text's height changes: a relayout of the lab
    costs ~60 ms of CPU at 80×24, and typing into a field changes its message on
    every key."""

    def __init__(self, text: str = "", *, classes: str = "error", hide_empty: bool = True,
                 id: str | None = None) -> None:
        super().__init__(text, classes=classes, id=id, markup=False)
        self.text = text
        self.hide_empty = hide_empty

    def show(self, text: str) -> None:
        """Show ``text`` (and hide the widget while it is empty, if it hides)."""
        shown = bool(text) or not self.hide_empty
        if text == self.text and self.display == shown:
            return
        self.text = text
        if self.display != shown:
            self.update(text, layout=False)
            self.display = shown  # lays out: the rows below move
            return
        height, width = self.size.height, self.size.width
        self.update(text, layout=False)
        if not width or self.visual.get_height(self.styles, width) != height:
            self.refresh(layout=True)  # it wraps to another height
