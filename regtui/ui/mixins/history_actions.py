"""The lab's history, ghost and export actions, mixed into the App (``app.py`` stays a router).

``HistoryActions`` gives the App ``h`` (history screen), ``g`` (pick a ghost
run, or clear the one shown), ``e`` (export the run on screen: the live one,
or a past one opened from the history, written in a thread of its own so the
lab never waits for it; in a browser under ``regtui serve`` also downloaded,
as one zip) and the handlers of the worker's
``RunRecorded`` / ``HistoryError`` messages.  It relies on the App's
``panel``, ``charts``, ``history``, ``control``, ``load_experiment`` and
``start_run``.  Imports Textual-free helpers and the history screens.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from regtui.core.results import RunHistory
from regtui.ui.worker.messages import HistoryError, RunRecorded


class HistoryActions:
    """Mixin for ``RegTuiApp``: everything about past runs."""

    recorded_run: tuple[int, int | None] | None = None
    """(worker run id, history id) of the latest run the worker recorded."""
    run_data: tuple[int, dict[str, Any]] | None = None
    """(worker run id, data summary) of the latest run."""
    ghost_run: Any = None
    """The ``StoredRun`` drawn as the ghost, or None."""
    last_export: Path | None = None
    """The folder of the latest export."""

    # ------------------------------------------------------------------ worker messages

    def on_run_recorded(self, message: RunRecorded) -> None:
        self.recorded_run = (message.run_id, message.history_id)
        self.run_data = (message.run_id, message.data)

    def on_history_error(self, message: HistoryError) -> None:
        self.notify(message.message, title="run history", severity="warning", timeout=8)  # type: ignore[attr-defined]

    def current_history_id(self) -> int | None:
        """The history id of the run on screen (None before it is recorded)."""
        control = self.control  # type: ignore[attr-defined]
        if control is None or self.recorded_run is None or self.recorded_run[0] != control.run_id:
            return None
        return self.recorded_run[1]

    # ------------------------------------------------------------------ actions

    def action_history(self) -> None:
        from regtui.ui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen(), self._history_chosen)  # type: ignore[attr-defined]

    def action_ghost(self) -> None:
        if self.ghost_run is not None:
            self.set_ghost(None)
            self.notify("ghost cleared")  # type: ignore[attr-defined]
        else:
            self.action_history()

    def _history_chosen(self, choice: Any) -> None:
        if choice is None:
            return
        from regtui.ui.screens.history import run_label

        label = run_label(choice.run.summary)
        if choice.kind == "ghost":
            self.set_ghost(choice.run)
            self.notify(f"ghost: {label}, dimmed under the curves · g clears it")  # type: ignore[attr-defined]
            return
        self.panel.load(choice.run.experiment)  # type: ignore[attr-defined]
        self.action_run()  # type: ignore[attr-defined]
        self.notify(f"re-running the config of {label}")  # type: ignore[attr-defined]

    def set_ghost(self, stored: Any) -> None:
        """Overlay a past run (a ``StoredRun``) on the charts, or clear it (None)."""
        self.ghost_run = stored
        charts = self.charts  # type: ignore[attr-defined]
        if stored is None:
            charts.set_ghost(None)
            return
        if charts.shown is None:  # nothing run yet: the ghost alone, on the panel's variants
            experiment = self.panel.experiment or self.initial  # type: ignore[attr-defined]
            charts.show(RunHistory(experiment))
        charts.set_ghost(stored.history, f"ghost #{stored.summary.id}")

    def action_export(self) -> None:
        from regtui.ui.export import export_folder, export_in_background
        from regtui.ui.screens.history import RunViewScreen, run_label

        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(screen, RunViewScreen):
            history, data = screen.stored.history, None
            run_id, title = screen.stored.summary.id, run_label(screen.stored.summary)
        else:
            history = self.history  # type: ignore[attr-defined]
            if history is None or history.epoch < 0:
                self.notify("nothing to export yet: r runs, h opens a past run", severity="warning")  # type: ignore[attr-defined]
                return
            run_id = self.current_history_id()
            control = self.control  # type: ignore[attr-defined]
            data = self.run_data[1] if self.run_data and control and self.run_data[0] == control.run_id else None
            title = f"run #{run_id}" if run_id is not None else "lab run (not recorded)"
        folder = export_folder(run_id)
        try:
            folder.mkdir(parents=True)  # taken now: a second e names the next folder
        except OSError as exc:
            self.notify(f"export failed: {exc}", severity="error", timeout=10)  # type: ignore[attr-defined]
            return
        svg = self.export_screenshot(title=f"regtui · {title}")  # type: ignore[attr-defined]

        def done(paths: list[Path] | None, archive: bytes | None, error: str | None) -> None:
            try:  # from the export's thread to the UI thread; the lab may have quit meanwhile
                self.call_from_thread(self._export_done, folder, archive, error)  # type: ignore[attr-defined]
            except RuntimeError:
                pass

        self.notify(f"exporting to {folder}…", title="export", timeout=5)  # type: ignore[attr-defined]
        export_in_background(folder, history, svg=svg, title=f"regtui {title}", data=data,
                             zipped=bool(self.is_web), done=done)  # type: ignore[attr-defined]

    def _export_done(self, folder: Path, archive: bytes | None, error: str | None) -> None:
        """The export's thread finished: say so (and, in a browser, hand over the zip)."""
        if error is not None:
            self.notify(f"export failed: {error}", severity="error", timeout=10)  # type: ignore[attr-defined]
            return
        self.last_export = folder
        if archive is None:
            self.notify(f"exported to {folder}", title="export", timeout=10)  # type: ignore[attr-defined]
            return
        # Under regtui serve the files are on the server: the browser downloads them too.
        # (Only there: in a terminal, deliver_binary would also write to ~/Downloads.)
        self.deliver_binary(io.BytesIO(archive), save_directory=folder.parent,  # type: ignore[attr-defined]
                            save_filename=f"{folder.name}.zip", mime_type="application/zip")
        self.notify(f"exported to {folder} on the server; your browser downloads {folder.name}.zip",  # type: ignore[attr-defined]
                    title="export", timeout=10)
