"""The config panel: every setting of the experiment, editable with the keyboard.

Data set, sizes and noise; hidden layers and activation; optimizer, lr, batch
size, epochs and seeds; then one ``VariantEditor`` per variant, with buttons to
add and remove variants (rename by editing the name); last the Sweep section
(``SweepEditor``, checked after the rest).  After every edit the
panel rebuilds the ``Experiment`` with ``dataclasses.replace`` so the core's
validation decides, shows each problem at its field, and posts
``ConfigPanel.Changed`` with the experiment (or ``None`` while invalid).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from regtui.core.config import (
    ACTIVATIONS, DATASETS, OPTIMIZERS, ConfigError, DataConfig, Experiment, ModelConfig,
    TrainConfig, VariantConfig,
)
from regtui.ui.widgets.config.data_fields import DataFileFields
from regtui.ui.widgets.config.dropdown import Dropdown
from regtui.ui.widgets.config.fields import ConfigInput, FieldError, FieldMessage, FieldRow, format_value
from regtui.ui.widgets.config.sweep_editor import SweepEditor
from regtui.ui.widgets.config.variant_editor import LABELS, VariantEditor

SECTIONS: tuple[tuple[str, tuple[tuple[str, str, Any], ...]], ...] = (
    ("Data", (
        ("data.dataset", "data set", DATASETS),
        ("data.n_train", "n train", "int"),
        ("data.n_val", "n val", "int"),
        ("data.noise", "noise", "float"),
        ("data.label_noise", "label noise", "float"),
        ("data.seed", "data seed", "int"),
    )),
    ("Model", (
        ("model.hidden", "hidden", "hidden"),
        ("model.activation", "activation", ACTIVATIONS),
    )),
    ("Training", (
        ("train.optimizer", "optimizer", OPTIMIZERS),
        ("train.lr", "lr", "float"),
        ("train.momentum", "momentum", "float"),
        ("train.batch_size", "batch size", "int"),
        ("train.epochs", "epochs", "int"),
        ("train.seed", "seed", "int"),
        ("train.seeds", "seeds", "int"),
    )),
)
DEFAULTS = {"data": DataConfig(), "model": ModelConfig(), "train": TrainConfig()}
MAX_VARIANTS = 16


def _get(exp: Experiment, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(exp, section), name)


class ConfigPanel(VerticalScroll):
    """Left-hand panel holding the editable experiment."""

    can_focus = False  # Tab goes straight to the fields; focusing one scrolls it into view

    @dataclass
    class Changed(Message):
        """The fields changed; ``experiment`` is None while some field is invalid."""

        experiment: Experiment | None
        errors: tuple[str, ...]

    def __init__(self, experiment: Experiment, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.base = experiment
        self.experiment: Experiment | None = experiment
        self.errors: dict[Widget, str] = {}
        self.panel_error = ""
        self.fields: dict[str, ConfigInput | Select[str]] = {}
        self.error_labels: dict[str, FieldMessage] = {}
        self.panel_error_label = FieldMessage(id="panel-error")
        self.editors: list[VariantEditor] = []
        self.file_fields = DataFileFields(experiment.data, experiment.source_dir or "")  # csv / idx / npz: path, target, task, drop invalid
        self.sweep_editor = SweepEditor(experiment.sweep, [v.name for v in experiment.variants], experiment.engine)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        for title, rows in SECTIONS:
            yield Static(title, classes="section")
            for key, label, kind in rows:
                value = _get(self.base, key)
                if isinstance(kind, tuple):
                    widget: ConfigInput | Select[str] = Dropdown([(k, k) for k in kind], value=value,
                                                               allow_blank=False, compact=True)
                else:
                    widget = ConfigInput(value, kind)
                widget.id = "f-" + key.replace(".", "-").replace("_", "-")
                self.fields[key] = widget
                self.error_labels[key] = FieldMessage()
                yield FieldRow(label, widget)
                yield self.error_labels[key]
                if key == "data.dataset":
                    yield self.file_fields
        yield Static("Variants  λ · η · p · pᵢₙ", classes="section")
        self.editors = [VariantEditor(v, i) for i, v in enumerate(self.base.variants)]
        with Vertical(id="variants"):
            yield from self.editors
        yield Button("+ add variant", id="add-variant", compact=True)
        yield self.sweep_editor
        yield self.panel_error_label

    def on_mount(self) -> None:
        self.revalidate()

    # ------------------------------------------------------------------ public

    @property
    def valid(self) -> bool:
        return self.experiment is not None

    def first_invalid(self) -> Widget | None:
        return next(iter(self.errors), None) or self.sweep_editor.first_invalid()

    def load(self, experiment: Experiment) -> None:
        """Show ``experiment`` in every field (an opened preset)."""
        self.base = experiment
        self.file_fields.load(experiment.data, experiment.source_dir or "")
        for key, widget in self.fields.items():
            value = _get(experiment, key)
            if isinstance(widget, Select):
                widget.value = value
            else:
                widget.value = format_value(value)
        for editor in self.editors:
            editor.remove()
        self.editors = [VariantEditor(v, i) for i, v in enumerate(experiment.variants)]
        self.query_one("#variants", Vertical).mount(*self.editors)
        self.sweep_editor.load(experiment.sweep, [v.name for v in experiment.variants], experiment.engine)
        self.revalidate()

    def add_variant(self) -> VariantEditor | None:
        if len(self.editors) >= MAX_VARIANTS:
            self.notify(f"at most {MAX_VARIANTS} variants in the lab", severity="warning")
            return None
        names = {e.inputs["name"].value.strip() for e in self.editors}
        n = len(self.editors) + 1
        while f"variant {n}" in names:
            n += 1
        editor = VariantEditor(VariantConfig(f"variant {n}"), len(self.editors))
        self.editors.append(editor)
        self.query_one("#variants", Vertical).mount(editor)
        self.call_after_refresh(editor.inputs["name"].focus)
        self.revalidate()
        return editor

    def remove_variant(self, editor: VariantEditor) -> None:
        if len(self.editors) <= 1:
            self.notify("an experiment needs at least one variant", severity="warning")
            return
        index = self.editors.index(editor)
        self.editors.remove(editor)
        editor.remove()
        neighbour = self.editors[min(index, len(self.editors) - 1)]
        self.revalidate()  # enables or disables the remove buttons
        if neighbour.remove_button.disabled:
            self.query_one("#add-variant", Button).focus()
        else:
            neighbour.remove_button.focus()

    # ------------------------------------------------------------------ events

    @on(Input.Changed)
    @on(Select.Changed)
    @on(DataFileFields.Checked)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        self.revalidate()

    @on(Button.Pressed, "#add-variant")
    def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.add_variant()

    @on(Button.Pressed, ".remove-variant")
    def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        for editor in self.editors:
            if editor.remove_button is event.button:
                self.remove_variant(editor)

    # ------------------------------------------------------------------ validation

    def _widgets(self) -> list[Widget]:
        out: list[Widget] = list(self.fields.values()) + list(self.file_fields.inputs.values())
        for editor in self.editors:
            out.extend(editor.inputs.values())
        return out

    def _build(self, values: dict[Widget, Any]) -> Experiment:
        changes: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
        for key, widget in self.fields.items():
            section, name = key.split(".")
            changes[section][name] = values[widget]
        changes["data"].update(self.file_fields.changes(values, changes["data"]["dataset"]))
        variants = tuple(
            replace(e.base, **{f: values[w] for f, w in e.inputs.items()}) for e in self.editors
        )
        b = self.base
        return replace(b, data=replace(b.data, **changes["data"]), model=replace(b.model, **changes["model"]),
                       train=replace(b.train, **changes["train"]), variants=variants, sweep=())

    def _fallback(self, widget: Widget, values: dict[Widget, Any]) -> Any:
        """A value that passes validation alone, used while the field is invalid."""
        if self.file_fields.owns(widget):
            return self.file_fields.fallback(widget)
        for key, w in self.fields.items():
            if w is widget:
                section, name = key.split(".")
                return getattr(DEFAULTS[section], name)
        for i, editor in enumerate(self.editors):
            for field, w in editor.inputs.items():
                if w is widget:
                    return self._stand_in_name(i, values) if field == "name" else getattr(VariantConfig(), field)
        raise KeyError(widget)  # pragma: no cover

    def _stand_in_name(self, index: int, values: dict[Widget, Any]) -> str:
        """A valid name for variant ``index`` while its own is invalid: printable,
        short, and unlike every other name (typed or stood in), so the core never
        reports a second problem about a name the user did not type."""
        taken = {str(values.get(e.inputs["name"], e.inputs["name"].value.strip())) for e in self.editors}
        name, n = f"variant {index + 1}", 1
        while name in taken:
            n += 1
            name = f"variant {index + 1} ({n})"
        return name

    def _widget_for(self, key: str, values: dict[Widget, Any]) -> Widget | None:
        """The field a ``ConfigError`` key points at."""
        if not key.startswith("variants."):  # model.hidden[0]; a variant name may hold "["
            key = key.split("[")[0]
        if key in self.file_fields.inputs:
            return self.file_fields.inputs[key]
        if key in self.fields:
            return self.fields[key]
        if key == "variants.name":  # an empty name
            return next((e.inputs["name"] for e in self.editors if not values[e.inputs["name"]]), None)
        if key.startswith("variants."):
            name, _, field = key[len("variants."):].rpartition(".")
            matches = [e for e in self.editors if values[e.inputs["name"]] == name]
            if matches and field in matches[-1].inputs:
                return matches[-1].inputs[field]
        return None

    def revalidate(self) -> Experiment | None:
        """Parse and validate every field, show the problems, post ``Changed``."""
        values: dict[Widget, Any] = {}
        errors: dict[Widget, str] = {}
        for widget in self._widgets():
            if isinstance(widget, Select):
                values[widget] = widget.value
                continue
            try:
                values[widget] = widget.parsed()  # type: ignore[attr-defined]
            except FieldError as exc:
                errors[widget] = str(exc)
                values[widget] = self._fallback(widget, values)
        experiment: Experiment | None = None
        self.panel_error = ""
        for _ in range(len(values) + 1):
            try:
                experiment = self._build(values)
                break
            except ConfigError as exc:
                widget = self._widget_for(exc.key, values)
                if widget is None or widget in errors:
                    self.panel_error = str(exc)
                    break
                errors[widget] = exc.problem
                values[widget] = self._fallback(widget, values)
        self.file_fields.check(values[self.fields["data.dataset"]], experiment if not self.panel_error else None,
                               errors, lambda key: self._widget_for(key, values))  # loads the file, off the loop
        self.errors = errors
        self.experiment = experiment if not errors and not self.panel_error else None
        self.experiment = self.sweep_editor.apply(self.experiment)  # the sweep is checked last
        self._show_errors()
        self.post_message(self.Changed(self.experiment, self.error_messages()))
        return self.experiment

    def error_messages(self) -> tuple[str, ...]:
        """Every problem as ``field: message`` (the field named as the panel shows it)."""
        out = [f"{self._label(widget)}: {msg}" for widget, msg in self.errors.items()]
        if self.panel_error:
            out.append(self.panel_error)
        return tuple(out + self.sweep_editor.error_messages())

    def _label(self, widget: Widget) -> str:
        if self.file_fields.owns(widget):
            return self.file_fields.label(widget) or "data file"
        for key, w in self.fields.items():
            if w is widget:
                return next(label for _, rows in SECTIONS for k, label, _ in rows if k == key)
        for i, editor in enumerate(self.editors):
            for field, w in editor.inputs.items():
                if w is widget:
                    return f"variant {i + 1} {LABELS[field]}"
        return "config"

    def _show_errors(self) -> None:
        for key, widget in self.fields.items():
            message = self.errors.get(widget, "")
            widget.set_class(bool(message), "-invalid")
            self.error_labels[key].show(message)
        self.file_fields.show_errors(self.errors)
        for i, editor in enumerate(self.editors):
            editor.set_index(i)
            editor.remove_button.disabled = len(self.editors) <= 1
            editor.show_errors({f: self.errors[w] for f, w in editor.inputs.items() if w in self.errors})
        self.panel_error_label.show(self.panel_error)
