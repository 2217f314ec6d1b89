"""The config panel's Sweep section: which variant, up to two knobs, their values.

``SweepEditor`` shows an experiment's ``sweep`` (``SweepAxis`` tuples) as a
variant picker and two rows of *knob* (λ, η, p, pᵢₙ of that variant, or
n train) and *values* (comma-separated numbers), then where the sweep runs
(``engine.kind``: in this process or on Ray, and ``engine.address``).  ``apply(experiment)`` parses
the fields, lets the core validate ``replace(experiment, sweep=axes)`` and
shows each problem at its field, as the rest of the panel does; the panel
calls it after its own validation.  ``parse_values`` only converts text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Select, Static

from regtui.core.config import ConfigError, EngineConfig, Experiment, SweepAxis
from regtui.ui.widgets.config.dropdown import Dropdown
from regtui.ui.widgets.config.fields import ConfigInput, FieldError, FieldMessage, FieldRow, parse_float

N_TRAIN = "data.n_train"
KNOBS: tuple[tuple[str, str], ...] = (
    # label in the picker, the knob ("" = none; variant fields are VariantConfig fields)
    ("none", ""),
    ("λ  (l2)", "l2"),
    ("η  (decay)", "weight_decay"),
    ("p  (dropout)", "dropout"),
    ("pᵢₙ (input)", "input_dropout"),
    ("n train", N_TRAIN),
)
KNOB_SYMBOL = {"l2": "λ", "weight_decay": "η", "dropout": "p", "input_dropout": "pᵢₙ", N_TRAIN: "n train"}
"""How the sweep view names a knob."""
ROWS = 2
"""At most two knobs (the core's limit)."""
ENGINES: tuple[tuple[str, str], ...] = (("in-process", "in-process"), ("Ray", "ray"))
"""The engine picker: label, ``engine.kind`` (labels fit the 14-column field at 80×24)."""


def parse_values(text: str) -> tuple[float, ...]:
    """``"0, 1e-4, 1e-3"`` -> ``(0.0, 0.0001, 0.001)``; commas or spaces between numbers."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise FieldError("needs values, e.g. 0, 1e-4, 1e-3, 1e-2")
    try:
        return tuple(parse_float(p) for p in parts)
    except FieldError as exc:
        raise FieldError(f"{exc} (values are numbers separated by commas)") from None


def knob_of(axis: SweepAxis) -> str:
    """The picker value of an axis: a variant field, or ``data.n_train``."""
    return axis.field if axis.variant else axis.key


class SweepEditor(Vertical):
    """The Sweep section of the config panel."""

    def __init__(self, sweep: tuple[SweepAxis, ...], names: Sequence[str],
                 engine: EngineConfig | None = None) -> None:
        super().__init__(id="sweep-editor")
        self.names: tuple[str, ...] = tuple(names)
        self.errors: dict[Widget, str] = {}
        self.general_error = ""
        self.variant: Select[str] = Dropdown([(Content(n), n) for n in self.names], allow_blank=False, compact=True,
                                           id="sweep-variant", value=self._variant_of(sweep))
        self.knobs: list[Select[str]] = []
        self.values: list[ConfigInput] = []
        for i in range(ROWS):
            axis = sweep[i] if i < len(sweep) else None
            self.knobs.append(Dropdown([(label, k) for label, k in KNOBS], allow_blank=False, compact=True,
                                     id=f"sweep-knob-{i + 1}", value=knob_of(axis) if axis else ""))
            text = ", ".join(f"{v:g}" for v in axis.values) if axis else ""
            self.values.append(ConfigInput(text, "float", id=f"sweep-values-{i + 1}",
                                           tooltip="values to try, separated by commas, e.g. 0, 1e-4, 1e-3, 1e-2"))
        engine = engine or EngineConfig()
        self.engine: Select[str] = Dropdown(ENGINES, allow_blank=False, compact=True, id="sweep-engine", value=engine.kind,
                                          tooltip="where the sweep trains: in this process, or as Ray tasks "
                                                  "(pip install 'regtui[ray]')")
        self.address = ConfigInput(engine.address, "name", id="sweep-address",
                                   tooltip="Ray: empty starts a local Ray; auto or HOST:PORT joins a running cluster")
        self.labels: dict[Widget, FieldMessage] = {w: FieldMessage() for w in self.widgets()}
        self.general_label = FieldMessage(id="sweep-error")

    def _variant_of(self, sweep: tuple[SweepAxis, ...]) -> str:
        named = next((a.variant for a in sweep if a.variant), None)
        return named if named in self.names else self.names[0]

    def widgets(self) -> list[Widget]:
        """Every field, in the order shown."""
        out: list[Widget] = [self.variant]
        for knob, values in zip(self.knobs, self.values):
            out += [knob, values]
        return out + [self.engine, self.address]

    def compose(self) -> ComposeResult:
        yield Static("Sweep  (k: sweep view)", classes="section")
        captions = ["variant"] + [c for i in range(ROWS) for c in (f"knob {i + 1}", "  values")] + ["run on", "  address"]
        for caption, widget in zip(captions, self.widgets()):
            yield FieldRow(caption, widget)
            yield self.labels[widget]
        yield self.general_label

    # ------------------------------------------------------------------ public

    def load(self, sweep: tuple[SweepAxis, ...], names: Sequence[str], engine: EngineConfig | None = None) -> None:
        """Show ``sweep`` and ``engine`` (an opened preset's) in the fields."""
        self.set_variants(names)
        self.variant.value = self._variant_of(sweep)
        for i in range(ROWS):
            axis = sweep[i] if i < len(sweep) else None
            self.knobs[i].value = knob_of(axis) if axis else ""
            self.values[i].value = ", ".join(f"{v:g}" for v in axis.values) if axis else ""
        engine = engine or EngineConfig()
        self.engine.value = engine.kind
        self.address.value = engine.address

    def set_variants(self, names: Sequence[str]) -> None:
        """Offer the experiment's variant names; a renamed variant stays picked."""
        names = tuple(names)
        if names == self.names or not names or not self.variant.is_mounted:
            return
        old = self.variant.value
        if old in names:
            keep = old
        elif len(names) == len(self.names) and old in self.names:
            keep = names[self.names.index(old)]  # renamed in place
        else:
            keep = names[0]
        self.names = names
        self.variant.set_options([(Content(n), n) for n in names])  # names are plain text, not markup
        self.variant.value = keep

    def axes(self) -> list[tuple[SweepAxis, int]]:
        """The knobs set, with their row; raises nothing: unparsable rows go to ``errors``."""
        out = []
        for i, (knob, values) in enumerate(zip(self.knobs, self.values)):
            key = knob.value
            if not isinstance(key, str) or not key:
                continue
            try:
                parsed = parse_values(values.value)
            except FieldError as exc:
                self.errors[values] = str(exc)
                continue
            full = key if key == N_TRAIN else f"variants.{self.variant.value}.{key}"
            out.append((SweepAxis(full, parsed), i))
        return out

    def apply(self, experiment: Experiment | None) -> Experiment | None:
        """``experiment`` with this sweep, or None while a field (here or elsewhere) is invalid."""
        if experiment is not None:
            self.set_variants([v.name for v in experiment.variants])
        self.errors, self.general_error = {}, ""
        axes = self.axes()
        result: Experiment | None = None
        if experiment is not None and not self.errors:
            try:
                kind = self.engine.value if isinstance(self.engine.value, str) else experiment.engine.kind
                engine = replace(experiment.engine, kind=kind, address=self.address.value.strip())
                result = replace(experiment, sweep=tuple(a for a, _ in axes), engine=engine)
            except ConfigError as exc:
                self._place(exc, axes)
        self._show_errors()
        return result if not self.errors and not self.general_error else None

    def _place(self, exc: ConfigError, axes: list[tuple[SweepAxis, int]]) -> None:
        """Show a core error at the field it is about."""
        if exc.key.startswith("engine."):
            self.errors[self.address if exc.key == "engine.address" else self.engine] = exc.problem
            return
        for axis, row in axes:
            if exc.key == f"sweep.{axis.key}":
                widget: Widget = self.variant if "no variant named" in exc.problem else self.values[row]
                self.errors[widget] = exc.problem
                return
        if exc.key == "sweep" and "twice" in exc.problem:
            self.errors[self.knobs[-1]] = exc.problem
        else:
            self.general_error = f"sweep: {exc.problem}"

    def error_messages(self) -> list[str]:
        captions: dict[Widget, str] = {self.variant: "sweep variant", self.engine: "sweep engine",
                                       self.address: "sweep address"}
        for i in range(ROWS):
            captions[self.knobs[i]] = f"sweep knob {i + 1}"
            captions[self.values[i]] = f"sweep values {i + 1}"
        out = [f"{captions[w]}: {msg}" for w, msg in self.errors.items()]
        return out + ([self.general_error] if self.general_error else [])

    def first_invalid(self) -> Widget | None:
        if self.errors:
            return next(w for w in self.widgets() if w in self.errors)
        return self.values[0] if self.general_error else None

    def _show_errors(self) -> None:
        for widget, label in self.labels.items():
            message = self.errors.get(widget, "")
            widget.set_class(bool(message), "-invalid")
            label.show(message)
        self.general_label.show(self.general_error)
