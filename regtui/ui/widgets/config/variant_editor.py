"""One variant's block in the config panel: name, λ, decay η, drop p, input drop p.

``VariantEditor`` holds the ``VariantConfig`` it was built from (so fields the
panel does not show, like ``l2_biases``, survive) and one ``ConfigInput`` per
shown field; the panel validates and reports errors back with ``show_errors``.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from regtui.core.config import VariantConfig
from regtui.ui.plotting.colors import color_hex
from regtui.ui.widgets.config.fields import ConfigInput, FieldMessage

VARIANT_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    # field, label, kind, tooltip
    ("l2", "λ", "ladder", "L2 λ: adds λ·Σw² to the loss. +/- step 0, 1e-5, 3e-5 … 10"),
    ("weight_decay", "η", "ladder", "decoupled weight decay η: each step also shrinks w ← w − lr·η·w (before the update, as AdamW). +/- step"),
    ("dropout", "p", "prob", "dropout: DROP probability p after every hidden layer. +/- step 0.05"),
    ("input_dropout", "pᵢₙ", "prob", "input dropout: DROP probability of input features. +/- step 0.05"),
)
GRID_MOVES = {
    ("l2", "down"): "dropout", ("weight_decay", "down"): "input_dropout",
    ("dropout", "up"): "l2", ("input_dropout", "up"): "weight_decay",
    ("name", "down"): "l2", ("l2", "up"): "name", ("weight_decay", "up"): "name",
}
"""↓ / ↑ between the rows of a variant's fields: λ η over p pᵢₙ."""
LABELS = {"name": "name", **{f: label for f, label, _, _ in VARIANT_FIELDS}}


class VariantEditor(Vertical):
    """The inputs of one variant."""

    def __init__(self, variant: VariantConfig, index: int) -> None:
        super().__init__(classes="variant")
        self.base = variant
        self.index = index
        self.inputs: dict[str, ConfigInput] = {
            "name": ConfigInput(variant.name, "name", classes="variant-name", tooltip="variant name (unique)"),
        }
        for field, _label, kind, tip in VARIANT_FIELDS:
            self.inputs[field] = ConfigInput(getattr(variant, field), kind, classes=f"vf-{field}",  # type: ignore[arg-type]
                                             tooltip=tip)
        self.marker = Static(self._square(index), classes="variant-marker")
        self.remove_button = Button("✕", classes="remove-variant", compact=True, tooltip="remove this variant")
        self.errors = FieldMessage()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="variant-head"):
            yield self.marker
            yield self.inputs["name"]
            yield self.remove_button
        for pair in (VARIANT_FIELDS[:2], VARIANT_FIELDS[2:]):
            with Horizontal(classes="variant-row"):
                for field, label, _kind, _tip in pair:
                    yield Label(label, classes="vlabel")
                    yield self.inputs[field]
        yield self.errors

    def on_key(self, event: events.Key) -> None:
        """↓ / ↑ move between the λ η row and the p pᵢₙ row (``1``–``9`` reach λ)."""
        if event.key not in ("down", "up"):
            return
        focused = next((f for f, w in self.inputs.items() if w.has_focus), None)
        target = GRID_MOVES.get((focused, event.key))
        if target is not None:
            event.stop()
            self.inputs[target].focus()

    def focus_first_knob(self) -> None:
        """Put the cursor in λ (the lab's ``1``–``9`` keys)."""
        self.inputs["l2"].focus()

    def set_index(self, index: int) -> None:
        """Its position, which decides its colour."""
        if index != self.index:
            self.index = index
            self.marker.update(self._square(index), layout=False)  # one cell, always

    @staticmethod
    def _square(index: int) -> Text:
        return Text("■", style=color_hex(index))

    def show_errors(self, errors: dict[str, str]) -> None:
        """``{field: message}`` -> red fields and one message line per field."""
        for field, widget in self.inputs.items():
            widget.set_class(field in errors, "-invalid")
        self.errors.show("\n".join(f"{LABELS[f]}: {msg}" for f, msg in errors.items()))
