"""Exporting a run from the lab (``e``): four files in one folder.

``write_export(folder, history, ...)`` writes

- ``run.json``: ``RunHistory.to_json(rank_by)`` (the shape of ``regtui run --json``),
  plus ``data`` (what it trained on) when known;
- ``run.csv``: ``RunHistory.to_csv()``;
- ``dashboard.svg``: the screen as it was (``App.export_screenshot()``);
- ``report.md``: the config (TOML), the results table, the verdict
  (``regtui.core.verdict``) and the loss charts as text (plotext ``build()``).

Every file ranks by ``rank_by``: the ranking the screen shows (the lab's ``R``),
None for the run's ``train.rank_by``; the JSON's ``ranking`` and the report's
results say which.

``export_folder(run_id)`` names a new folder under ``exports/`` beside the run
history (``REGTUI_HOME`` respected).  Files are written atomically.
``zip_export(paths)`` packs them into one zip, the download a browser gets
under ``regtui serve`` (one download: a browser blocks the pop-ups of four).
``start_export(app, history, ...)`` is ``e`` itself (the lab screen's and a past
run's): it takes the folder, the screenshot, writes in the background and says
when it is done.  Imports the core and plotext (the standalone one, not the
widgets' copy); no Textual (the App is handed in).
"""

from __future__ import annotations

import copy
import io
import json
import math
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

from regtui.core.files import write_atomic
from regtui.core.presets import to_toml
from regtui.core.ranking import describe, label
from regtui.core.results import RunHistory
from regtui.core.verdict import verdict

FILES = ("run.json", "run.csv", "dashboard.svg", "report.md")
MARKERS = ("•", "+", "x", "o", "*", "#", "@", "%")
"""Text charts have no colour: each variant gets its own marker."""
CHART_SIZE = (78, 20)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def exports_dir() -> Path:
    """``exports/`` beside the run history (``$REGTUI_HOME`` or the user data folder)."""
    from regtui.core.store import default_path

    return default_path().parent / "exports"


def export_folder(run_id: int | None, now: float | None = None) -> Path:
    """A folder that does not exist yet: ``run-<id>`` or ``lab-<timestamp>``, then ``-2``, ``-3``…"""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = exports_dir() / (f"run-{run_id}" if run_id is not None else f"lab-{stamp}")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def write_export(folder: Path, history: RunHistory, *, svg: str, title: str,
                 data: dict[str, Any] | None = None, rank_by: str | None = None) -> list[Path]:
    """Write the four files into ``folder`` (created), ranked by ``rank_by``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = history.to_json(rank_by)
    if data is not None:
        doc["data"] = data
    texts = (
        json.dumps(doc, indent=2, allow_nan=False) + "\n",
        history.to_csv(),
        svg,
        markdown_report(history, title, data, rank_by),
    )
    paths = [folder / name for name in FILES]
    for path, text in zip(paths, texts):
        write_atomic(path, text)
    return paths


def export_in_background(folder: Path, history: RunHistory, *, svg: str, title: str, zipped: bool,
                         done: Callable[[list[Path] | None, bytes | None, str | None], None],
                         data: dict[str, Any] | None = None, rank_by: str | None = None) -> threading.Thread:
    """``write_export`` (and ``zip_export`` when ``zipped``) in a daemon thread of its own,
    on a copy of ``history`` (a live run goes on meanwhile); ``done(paths, archive,
    error)`` is called from that thread when it ends (the caller hands it to its UI
    thread).  ``q`` never waits for it: a 20,000-epoch report took 8.5 s on the UI thread,
    and an export cut short by quitting leaves only whole files (each written atomically)."""
    snapshot = copy.deepcopy(history)

    def work() -> None:
        try:
            paths = write_export(folder, snapshot, svg=svg, title=title, data=data, rank_by=rank_by)
            archive = zip_export(paths) if zipped else None
        except (OSError, ValueError) as exc:
            done(None, None, str(exc))
            return
        done(paths, archive, None)

    thread = threading.Thread(target=work, name="regtui-export", daemon=True)
    thread.start()
    return thread


def start_export(app: Any, history: RunHistory, *, run_id: int | None, title: str,
                 data: dict[str, Any] | None, rank_by: str | None) -> None:
    """``e``: export ``history`` ranked by ``rank_by`` (the screen's ranking; the screen as it
    is now its screenshot) into a new folder,
    written in a thread of its own so the lab never waits for it; the App says when it is
    done, sets ``app.last_export`` and, in a browser (``regtui serve``), hands over the zip."""
    folder = export_folder(run_id)
    try:
        folder.mkdir(parents=True)  # taken now: a second e names the next folder
    except OSError as exc:
        app.notify(f"export failed: {exc}", severity="error", timeout=10)
        return
    svg = app.export_screenshot(title=f"regtui · {title}")

    def done(paths: list[Path] | None, archive: bytes | None, error: str | None) -> None:
        try:  # from the export's thread to the UI thread; the lab may have quit meanwhile
            app.call_from_thread(_export_done, app, folder, archive, error)
        except RuntimeError:
            pass

    app.notify(f"exporting to {folder}…", title="export", timeout=5)
    export_in_background(folder, history, svg=svg, title=f"regtui {title}", data=data, rank_by=rank_by,
                         zipped=bool(app.is_web), done=done)


def _export_done(app: Any, folder: Path, archive: bytes | None, error: str | None) -> None:
    """The export's thread finished (on the UI thread): say so, and in a browser hand over the zip."""
    if error is not None:
        app.notify(f"export failed: {error}", severity="error", timeout=10)
        return
    app.last_export = folder
    if archive is None:
        app.notify(f"exported to {folder}", title="export", timeout=10)
        return
    # Under regtui serve the files are on the server: the browser downloads them too.
    # (Only there: in a terminal, deliver_binary would also write to ~/Downloads.)
    app.deliver_binary(io.BytesIO(archive), save_directory=folder.parent,
                       save_filename=f"{folder.name}.zip", mime_type="application/zip")
    app.notify(f"exported to {folder} on the server; your browser downloads {folder.name}.zip",
               title="export", timeout=10)


def zip_export(paths: list[Path]) -> bytes:
    """The exported files in one zip, under the export folder's name (``run-3/run.json``, …)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, f"{path.parent.name}/{path.name}")
    return buffer.getvalue()


# --------------------------------------------------------------------------- the report

def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.4g}"


def results_markdown(history: RunHistory, rank_by: str | None = None) -> str:
    """One Markdown row per variant: the numbers of the lab's results table, with the
    ranking statistic (``regtui.core.ranking``; ``rank_by``, default the run's
    ``train.rank_by``) beside the early-stopping value."""
    rank_by = rank_by or history.experiment.train.rank_by
    order = history.ranked(rank_by)
    scores = {r.index: r.score for r in order}
    winner = order[0].index if order and order[0].score.rankable else None
    stat = label(rank_by)
    lines = [f"| variant | status | epoch | train loss | val loss | val acc | gap | ‖w‖ | {stat} | "
             "best val loss (early stopping) | best epoch |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for index, h in enumerate(history.variants):
        best = h.best
        acc = h.last("val_acc")
        epoch = h.last("epoch")
        name = f"**{h.name}** ★" if index == winner else h.name
        lines.append(" | ".join((
            f"| {name}", h.status_label, "–" if epoch is None else str(int(epoch)),
            _num(h.last("train_loss")), _num(h.last("val_loss")), "–" if acc is None else f"{100 * acc:.1f} %",
            _num(h.last("gap")), _num(h.last("weight_norm")), _num(scores[index].value),
            _num(best.val_loss) if best else "–", str(best.epoch) if best else "–",
        )) + " |")
    return "\n".join(lines)


def text_chart(history: RunHistory, metric: str, title: str, size: tuple[int, int] = CHART_SIZE) -> str:
    """``metric`` of every variant on one plotext chart, as plain text (no colour codes)."""
    import plotext as plt

    plt.clear_figure()
    plt.plot_size(*size)
    plt.theme("clear")
    plt.title(title)
    drawn = False
    for i, h in enumerate(history.variants):
        x, y = h.series("epoch"), h.series(metric)
        keep = [j for j in range(len(y)) if math.isfinite(float(y[j]))]
        if keep:
            plt.plot([float(x[j]) for j in keep], [float(y[j]) for j in keep],
                     marker=MARKERS[i % len(MARKERS)], label=h.name)
            drawn = True
    text = plt.build() if drawn else f"{title}: no finite values yet"
    plt.clear_figure()
    return "\n".join(line.rstrip() for line in _ANSI.sub("", text).splitlines())


def markdown_report(history: RunHistory, title: str, data: dict[str, Any] | None = None,
                    rank_by: str | None = None) -> str:
    """The whole report: title, verdict, results, charts, data and config, ranked by
    ``rank_by`` (default the run's ``train.rank_by``), said above the results."""
    exp = history.experiment
    rank_by = rank_by or exp.train.rank_by
    ranking = f"Ranked by {label(rank_by)}: {describe(rank_by)}; ★ marks the first."
    parts = [f"# {title}", "", f"Experiment **{exp.name}**" + (f": {exp.description}" if exp.description else ""),
             "", "## Verdict", "", verdict(history, rank_by), "", "## Results", "", ranking, "",
             results_markdown(history, rank_by), ""]
    for metric, name in (("val_loss", "validation loss"), ("train_loss", "training loss")):
        parts += [f"## {name.capitalize()}", "", "```text", text_chart(history, metric, name), "```", ""]
    if data is not None:
        shown = ", ".join(f"{k} = {v}" for k, v in data.items() if v is not None and k != "classes")
        parts += ["## Data", "", shown + (f"; classes {', '.join(map(str, data['classes']))}" if data.get("classes") else ""), ""]
    parts += ["## Config", "", "```toml", to_toml(exp).rstrip(), "```", ""]
    return "\n".join(parts)
