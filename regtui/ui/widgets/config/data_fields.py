"""Bring your own data in the config panel: the fields of a csv / idx / npz data set.

``DataFileFields`` sits under the panel's "data set" field and shows itself
when that is a file data set: the path (a file; a folder of IDX files for
idx), and for csv the target column and drop-invalid, for csv and npz the
task.  The panel validates these like its other fields (the core decides;
``ConfigError``s land at the field they name) and then asks ``check()``,
which loads the file with the core's ``make_dataset`` in a daemon thread
(debounced; never on the event loop, so a 60,000 × 784 MNIST keeps the lab
responsive).  A failed load shows the core's message (file, line, column) at
the field and blocks ``r``; a good one shows rows, features and classes.

One rule for a relative path, typed here or read from a preset (README, "Your
own data"): it is relative to the preset's folder when the lab was opened on a
preset file of the user's, and to the working folder otherwise (a bundled
preset's folder is inside the package).  The rule and the file it resolves to
are shown under the field, in full.  Imports Textual and the core; torch never (``make_dataset``
is numpy only).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Select

from regtui.core.config import DATASETS_FILE, TASKS, ConfigError, DataConfig, Experiment, expand_home
from regtui.core.text import visible
from regtui.ui.widgets.config.dropdown import Dropdown
from regtui.ui.widgets.config.fields import ConfigInput, FieldMessage, FieldRow

FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # config key, label, which data sets show it
    ("data.path", "path", ("csv", "idx", "npz")),
    ("data.target", "target", ("csv",)),
    ("data.task", "task", ("csv", "npz")),
    ("data.drop_invalid", "drop bad", ("csv",)),  # drop_invalid: rows with bad cells
)
PLACEHOLDERS = {"csv": "data.csv", "idx": "folder of MNIST-style idx files", "npz": "arrays.npz (X, y)"}
DEBOUNCE = 0.3
"""Seconds of quiet typing before the file is loaded."""
HINT = "n train 0 = every row · n val 0 = the file's split (or 20 %)"

CheckKey = tuple[DataConfig, str]
"""What a check loaded: the data config and the folder relative paths resolve in."""


@dataclass(frozen=True)
class CheckResult:
    key: CheckKey
    error_key: str = ""
    """The ``ConfigError`` key ("" when the file loaded)."""
    problem: str = ""
    summary: str = ""


def describe(dataset: Any) -> str:
    """One line about a loaded ``Dataset``."""
    n_train, n_val = len(dataset.x_train), len(dataset.x_val)
    kind = (f"{dataset.n_classes} classes" if dataset.task == "classification" else "regression")
    return f"✓ {n_train + n_val} rows: {n_train} train / {n_val} val · {dataset.n_features} features · {kind}"


class DataFileFields(Vertical):
    """The file data set's inputs, its load check and what the check found."""

    @dataclass
    class Checked(Message):
        """A load check finished (posted from the worker thread)."""

        result: CheckResult

    def __init__(self, data: DataConfig, source_dir: str = "", *, id: str | None = "data-file") -> None:
        super().__init__(id=id)
        self.source_dir = source_dir
        """The folder of the preset the lab opened ("" for none)."""
        self.inputs: dict[str, Widget] = {
            "data.path": ConfigInput(data.path, "name", id="f-data-path"),
            "data.target": ConfigInput(data.target, "name", id="f-data-target"),
            "data.task": Dropdown([(t, t) for t in TASKS], value=data.task, allow_blank=False, compact=True,
                                id="f-data-task"),
            "data.drop_invalid": Dropdown([("no", "no"), ("yes", "yes")], value="yes" if data.drop_invalid else "no",
                                        allow_blank=False, compact=True, id="f-data-drop-invalid"),
        }
        self.inputs["data.target"].placeholder = "last column"  # type: ignore[attr-defined]
        self.rows: dict[str, FieldRow] = {key: FieldRow(label, self.inputs[key]) for key, label, _ in FIELDS}
        self.errors: dict[str, FieldMessage] = {key: FieldMessage() for key in self.inputs}
        self.status = FieldMessage(HINT, classes="file-status", hide_empty=False)  # file names
        self.where = FieldMessage(classes="file-where", hide_empty=False)
        """Where the path resolves: the rule and the whole path (a path is never shown cut)."""
        self.result: CheckResult | None = None
        self.pending: CheckKey | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        for key, label, _ in FIELDS:
            yield self.rows[key]
            yield self.errors[key]
            if key == "data.path":
                yield self.where
        yield self.status

    # ------------------------------------------------------------------ the panel's side

    def load(self, data: DataConfig, source_dir: str = "") -> None:
        """Show a loaded preset's file settings."""
        self.source_dir = source_dir
        self.inputs["data.path"].value = data.path  # type: ignore[attr-defined]
        self.inputs["data.target"].value = data.target  # type: ignore[attr-defined]
        self.inputs["data.task"].value = data.task  # type: ignore[attr-defined]
        self.inputs["data.drop_invalid"].value = "yes" if data.drop_invalid else "no"  # type: ignore[attr-defined]

    def owns(self, widget: Widget) -> bool:
        return widget in self.inputs.values()

    def changes(self, values: dict[Widget, Any], dataset: str) -> dict[str, Any]:
        """The ``DataConfig`` fields these inputs set (none for a data set that is not a file)."""
        if dataset not in DATASETS_FILE:
            return {}
        out = {key.split(".")[1]: values[w] for key, w in self.inputs.items()}
        out["drop_invalid"] = out["drop_invalid"] == "yes"
        path = out["path"]
        if path and not self.relative_to_preset and not expand_home(path).is_absolute():
            out["path"] = str(Path.cwd() / path)  # the working folder: the rule when no user preset anchors it
        return out

    @property
    def relative_to_preset(self) -> bool:
        """Whether a relative path is taken from the opened preset's folder (a user's preset
        file), rather than from the working folder."""
        if not self.source_dir:
            return False
        from regtui.core.presets import bundled_dir

        folder = Path(self.source_dir).resolve()
        return folder != bundled_dir().resolve()

    def show_where(self) -> None:
        """Under the path: which folder a relative path is taken from, and the file it names."""
        from regtui.core.config import resolve_data_path

        typed = str(self.inputs["data.path"].value).strip()  # type: ignore[attr-defined]
        folder = Path(self.source_dir) if self.relative_to_preset else Path.cwd()
        origin = "the preset's folder" if self.relative_to_preset else "the working folder"
        if not typed:
            self.where.show(visible(f"a relative path is taken from {origin}, {folder}"))
        elif expand_home(typed).is_absolute():
            self.where.show(visible(f"→ {expand_home(typed)}"))
        else:
            self.where.show(visible(f"→ {resolve_data_path(typed, folder)} (from {origin})"))

    def fallback(self, widget: Widget) -> Any:
        """A value that passes validation alone (used while the field is invalid)."""
        key = next(k for k, w in self.inputs.items() if w is widget)
        return {"data.path": "\x00", "data.drop_invalid": "no"}.get(key, getattr(DataConfig(), key.split(".")[1]))

    def label(self, widget: Widget) -> str | None:
        return next((label for key, label, _ in FIELDS if self.inputs[key] is widget), None)

    def show_errors(self, errors: dict[Widget, str]) -> None:
        for key, widget in self.inputs.items():
            message = errors.get(widget, "")
            widget.set_class(bool(message), "-invalid")
            self.errors[key].show(message if self.rows[key].display else "")  # a hidden row hides its message

    def check(self, dataset: str, experiment: Experiment | None, errors: dict[Widget, str],
              widget_for: Callable[[str], Widget | None]) -> None:
        """Show the fields ``dataset`` needs; if the config is otherwise valid, add what the
        last load of this very file found to ``errors``, or start loading it."""
        is_file = dataset in DATASETS_FILE
        self.set_class(is_file, "-file")
        for key, _, shown_for in FIELDS:
            self.rows[key].display = dataset in shown_for
        if is_file:
            self.inputs["data.path"].placeholder = PLACEHOLDERS[dataset]  # type: ignore[attr-defined]
            self.show_where()
        if not is_file or experiment is None or errors:
            return
        key = (experiment.data, experiment.source_dir)
        if self.result is not None and self.result.key == key:
            if self.result.error_key:
                widget = widget_for(self.result.error_key) or self.inputs["data.path"]
                errors.setdefault(widget, self.result.problem)
            return
        if self.pending != key:
            self.pending = key
            self.status.show(visible(f"checking {Path(experiment.data.path).name or 'the file'}…"))
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(DEBOUNCE, lambda: self._load(key))

    @property
    def checking(self) -> bool:
        """Whether a load check is under way (or about to start)."""
        return self.pending is not None

    # ------------------------------------------------------------------ the check

    def _load(self, key: CheckKey) -> None:
        """Load the file in a daemon thread of its own, not a Textual thread worker:
        those run in asyncio's default executor, which ``App.run`` waits for at exit,
        so ``q`` would wait for a slow check (a 10^6-column CSV: for ever).  A stale
        result is dropped when it arrives (``on_data_file_fields_checked``)."""
        threading.Thread(target=self._check_file, args=(key,), name="regtui-data-file-check", daemon=True).start()

    def _check_file(self, key: CheckKey) -> None:
        from regtui.core.data import make_dataset

        data, base = key
        try:
            result = CheckResult(key, summary=describe(make_dataset(data, base or None)))
        except ConfigError as exc:
            result = CheckResult(key, exc.key or "data.path", exc.problem)
        except Exception as exc:  # anything else is shown at the path, never a traceback
            result = CheckResult(key, "data.path", f"cannot load it: {type(exc).__name__}: {exc}")
        self.post_message(self.Checked(result))

    def on_data_file_fields_checked(self, message: Checked) -> None:
        """Keep the result if it is the latest asked; the panel then revalidates."""
        if message.result.key != self.pending:
            message.stop()  # a stale check: the config changed meanwhile
            return
        self.pending = None
        self.result = message.result
        self.status.show(visible(message.result.summary) or HINT)
