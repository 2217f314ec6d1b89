"""The tour's Markdown report (``regtui tour --report FILE.md``) and its SVG charts.

``write_report(path, steps, overrides)`` writes ``FILE.md`` and, beside it, one
``FILE-step-N.svg`` per step (validation and training loss per variant over
epochs; for the sweep step the end validation loss against n_train).  The
Markdown holds each step's text, what to watch, what its check found (with the
numbers), the results table, the verdict and text charts.  Text from presets
(variant names) is data: Markdown table cells escape ``|``, SVG text is
XML-escaped.  Imports plotext and the core; no Textual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence
from xml.sax.saxutils import escape

from regtui.core.files import write_atomic
from regtui.core.tour import Finding, Step, fmt, knob
from regtui.core.verdict import verdict
from regtui.ui.export import results_markdown, text_chart

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
MARK = {True: "✓ appeared", False: "✗ did not appear this time", None: "? cannot tell"}


@dataclass
class StepReport:
    """One step as run: its experiment, what it produced and what the check found."""

    step: Step
    experiment: Any
    finding: Finding
    history: Any = None
    """The ``RunHistory`` of a compare step."""
    points: Sequence[Any] = ()
    """The ``SweepPoint`` list of a sweep step."""
    run_id: int | None = None
    """Its id in the run history, when recorded."""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _numeric(text: str) -> bool:
    try:
        float(str(text).replace(" %", "").replace("–", "0") or "0")
    except ValueError:
        return False
    return True


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns of numbers right-aligned, the others left."""
    right = [i > 0 and all(_numeric(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join("---:" if r else "---" for r in right) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sweep_lines(points: Sequence[Any]) -> list[tuple[str, list[float], list[float]]]:
    """(label, n_train values, end val losses) per value of the sweep's other knob."""
    lines: dict[str, tuple[list[float], list[float]]] = {}
    for p in points:
        n = p.knobs.get("data.n_train")
        if n is None:
            continue
        label = " ".join(f"{k.rsplit('.', 1)[1]}={knob(v)}" for k, v in p.knobs.items() if k != "data.n_train") or "net"
        value = p.score.value
        if value is not None:
            xs, ys = lines.setdefault(label, ([], []))
            xs.append(float(n))
            ys.append(value)
    return [(label, xs, ys) for label, (xs, ys) in lines.items()]


def sweep_text_chart(points: Sequence[Any], size: tuple[int, int] = (78, 18)) -> str:
    """End validation loss against n_train (log x), one line per knob value, as plain text."""
    import plotext as plt

    from regtui.ui.export import _ANSI, MARKERS

    plt.clear_figure()
    plt.plot_size(*size)
    plt.theme("clear")
    plt.title("end validation loss against n_train (log10 n)")
    drawn = False
    for i, (label, xs, ys) in enumerate(_sweep_lines(points)):
        plt.plot([math.log10(x) for x in xs], ys, marker=MARKERS[i % len(MARKERS)], label=label)
        drawn = True
    text = plt.build() if drawn else "no finite sweep points"
    plt.clear_figure()
    return "\n".join(line.rstrip() for line in _ANSI.sub("", text).splitlines())


# --------------------------------------------------------------------------- SVG

def svg_chart(title: str, lines: Sequence[tuple[str, Sequence[float], Sequence[float], bool]],
              x_label: str, *, log_x: bool = False, width: int = 720, height: int = 360) -> str:
    """A line chart as standalone SVG: ``lines`` are (label, xs, ys, dashed)."""
    left, right, top, bottom = 64, 170, 34, 44
    pw, ph = width - left - right, height - top - bottom
    tx = (lambda x: math.log10(x)) if log_x else (lambda x: x)  # noqa: E731
    pts = [(tx(x), y) for _, xs, ys, _ in lines for x, y in zip(xs, ys) if math.isfinite(y) and (x > 0 or not log_x)]
    if not pts:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60">'
                f'<text x="10" y="30">{escape(title)}: no finite values</text></svg>\n')
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    sx = lambda x: left + (tx(x) - x0) / (x1 - x0) * pw  # noqa: E731
    sy = lambda y: top + (1 - (y - y0) / (y1 - y0)) * ph  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for i in range(5):
        y = y0 + (y1 - y0) * i / 4
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{fmt(y)}</text>')
        xv = x0 + (x1 - x0) * i / 4
        label = fmt(10 ** xv) if log_x else fmt(xv)
        out.append(f'<text x="{left + pw * i / 4:.1f}" y="{top + ph + 16}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>')
    for i, (label, xs, ys, dashed) in enumerate(lines):
        colour = COLOURS[i // 2 % len(COLOURS)] if any(d for *_, d in lines) else COLOURS[i % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys) if math.isfinite(y) and (x > 0 or not log_x))
        if path:
            dash = ' stroke-dasharray="4 3" stroke-opacity="0.6"' if dashed else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        y_key = top + 14 + 16 * i
        key_dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(f'<line x1="{left + pw + 10}" y1="{y_key - 4}" x2="{left + pw + 30}" y2="{y_key - 4}" '
                   f'stroke="{colour}" stroke-width="2"{key_dash}/>')
        out.append(f'<text x="{left + pw + 36}" y="{y_key}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def step_svg(report: StepReport) -> str:
    if report.history is not None:
        lines = []
        for h in report.history.variants:
            x = list(h.series("epoch"))
            lines.append((f"{h.name} val", x, list(h.series("val_loss")), False))
            lines.append((f"{h.name} train", x, list(h.series("train_loss")), True))
        return svg_chart(f"Step {report.step.number}: {report.step.title}", lines, "epoch")
    lines = [(label, xs, ys, False) for label, xs, ys in _sweep_lines(report.points)]
    return svg_chart(f"Step {report.step.number}: {report.step.title}", lines, "n_train (log scale)", log_x=True)


# --------------------------------------------------------------------------- Markdown

def step_markdown(report: StepReport, svg_name: str | None) -> str:
    step, finding = report.step, report.finding
    parts = [f"## Step {step.number}: {step.title}", "", step.text, "",
             f"**Preset:** `{step.preset}` (`regtui run {step.preset}`, or open it in the lab) — "
             f"{_run_line(report)}", "", f"**What to watch:** {step.watch}", "",
             f"### Check: {MARK[finding.appeared]}", "", finding.summary, ""]
    if finding.rows:
        parts += [markdown_table(finding.header, finding.rows), ""]
    if report.history is not None:
        parts += ["### Results", "", results_markdown(report.history), "", "### Verdict", "",
                  verdict(report.history), ""]
        parts += ["### Validation loss", "", "```text", text_chart(report.history, "val_loss", "validation loss"),
                  "```", ""]
    else:
        parts += ["### End validation loss against n_train", "", "```text", sweep_text_chart(report.points), "```", ""]
    if svg_name:
        parts += [f"![Step {step.number} chart]({svg_name})", ""]
    return "\n".join(parts)


def _run_line(report: StepReport) -> str:
    exp = report.experiment
    text = f"{exp.data.dataset}, n_train {exp.data.n_train}, {exp.train.optimizer} lr {knob(exp.train.lr)}, " \
           f"{exp.train.epochs} epochs"
    if report.run_id is not None:
        text += f"; recorded as run {report.run_id}"
    return text + "."


def report_markdown(reports: Sequence[StepReport], overrides: Sequence[str], svg_names: Sequence[str | None]) -> str:
    head = ["# The regtui tour", "",
            "Six steps through the article: a network overfitting, L2, Dropout, the two side by side, "
            "coupled L2 against decoupled decay under Adam, and more data. Every check below was "
            "computed from this report's own runs.", ""]
    if overrides:
        head += ["Overrides applied to every step: " + ", ".join(f"`{o}`" for o in overrides), ""]
    rows = [(f"{r.step.number}. {r.step.title}", r.step.preset, MARK[r.finding.appeared]) for r in reports]
    head += [markdown_table(("step", "preset", "check"), rows), ""]
    body = [step_markdown(r, name) for r, name in zip(reports, svg_names)]
    configs = ["## Configs", "", "What each step ran: the keys its preset (with the overrides) sets; every other key "
               "has its default.", ""]
    for r in reports:
        configs += [f"### Step {r.step.number}: `{r.step.preset}`", "", "```toml", _short_toml(r.experiment),
                    "```", ""]
    return "\n".join(head + body + configs)


def _short_toml(experiment: Any) -> str:
    """The keys the preset sets (every other key has its default)."""
    import tomli_w

    from regtui.core.schema import experiment_to_dict

    return tomli_w.dumps(experiment_to_dict(experiment, full=False)).rstrip()


def svg_path(report: Path, number: int) -> Path:
    """Where step ``number``'s SVG chart goes: beside the report, ``REPORT-step-N.svg``."""
    return report.with_name(f"{report.stem}-step-{number}.svg")


def write_report(path: Path, reports: Sequence[StepReport], overrides: Sequence[str] = ()) -> list[Path]:
    """Write the report and its SVG charts (paths checked by the caller, written
    atomically); returns the written paths (the report first)."""
    written, names = [], []
    for r in reports:
        svg = svg_path(path, r.step.number)
        write_atomic(svg, step_svg(r))
        written.append(svg)
        names.append(svg.name)
    write_atomic(path, report_markdown(reports, overrides, names))
    return [path] + written
