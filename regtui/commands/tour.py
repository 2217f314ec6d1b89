"""``regtui tour``: the guided tour through the article, in the lab or as a report.

``regtui tour`` opens the lab on the tour's first step (``--step N`` another);
``regtui tour --report FILE.md`` runs every step headless (or the ``--step``
ones) and writes a Markdown report: each step's text, what its check found
with the numbers, the results table, the verdict and text charts, with an SVG
chart per step beside the report.  ``--set KEY=VALUE`` applies to every step's
preset (``train.epochs=5`` makes a quick report).  The steps, their presets
and their checks live in ``regtui.core.tour``; the report's text in
``regtui.commands.tour_report``.  Exit codes as ``regtui run``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "tour",
        help="a guided tour: overfitting, L2, Dropout, both, L2 vs weight decay, more data",
        description=(
            "Walk through the article in six steps, each a bundled preset run live in the lab, "
            "with a short text, what to watch, and a check computed from the run saying whether "
            "the effect appeared. With --report, run every step headless and write a Markdown report."
        ),
        epilog="example: regtui tour --report tour.md --set train.epochs=50",
    )
    p.add_argument("--report", metavar="FILE.md", help="run the steps headless and write a Markdown report")
    p.add_argument("--step", dest="steps", action="append", default=[], metavar="N",
                   help="the step to open (lab), or a step to include in the report (repeatable); 1-6 or a key")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value in every step's preset, e.g. train.epochs=20 (repeatable)")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    p.add_argument("--force", action="store_true", help="replace an existing report and its SVG files")
    p.add_argument("--no-history", action="store_true", help="do not record the report's runs in the history")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress; only errors")
    p.set_defaults(handler=tour_command, starts_itself=True)  # regtui.startup


def _steps(args: argparse.Namespace) -> list[Any]:
    from regtui.core.config import ConfigError
    from regtui.core.tour import STEPS, step

    chosen = []
    for text in args.steps:
        try:
            chosen.append(step(int(text) if text.isdigit() else text))
        except KeyError:
            keys = ", ".join(f"{s.number} ({s.key})" for s in STEPS)
            raise ConfigError("--step", f"no step {text!r}; steps are {keys}") from None
    return chosen or list(STEPS)


def load_step(step: Any, overrides: list[str], presets_dir: str | None = None) -> Any:
    """The step's preset with ``overrides`` applied; raises ``ConfigError``."""
    from regtui.core import presets
    from regtui.core.overrides import with_overrides

    return with_overrides(presets.load(step.preset, presets_dir), overrides)


def tour_command(args: argparse.Namespace) -> int:
    from regtui.startup import started
    from regtui.core.config import ConfigError

    try:
        steps = _steps(args)
        experiments = [load_step(s, args.overrides, args.presets_dir) for s in steps]
    except ConfigError as exc:
        print(f"regtui tour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.report:
        from regtui.ui.app import create_app  # the UI only when the lab opens

        from regtui.commands.signals import exit_without_waiting_for_the_worker, lab_exit_code

        app = create_app(experiments[0], presets_dir=args.presets_dir, tour_step=steps[0].number,
                         tour_overrides=tuple(args.overrides))
        started()
        app.run()
        code = lab_exit_code(app.return_code)
        exit_without_waiting_for_the_worker(code)
        return code
    return _report(args, steps, experiments)


def check_report_paths(given: str, steps: list[Any], force: bool) -> list[Any]:
    """The report and, beside it, one SVG per step, checked before anything runs
    (``regtui.core.files``); raises ``OutputError``."""
    from regtui.commands.tour_report import svg_path
    from regtui.core.files import FILE, OutputError, check_output

    report = check_output("--report", given, force=force)
    if report.kind != FILE:
        raise OutputError(f"--report {given}: needs a file (its SVG charts are written beside it)")
    return [report] + [check_output("--report", str(svg_path(report.path, s.number)), force=force) for s in steps]


def _report(args: argparse.Namespace, steps: list[Any], experiments: list[Any]) -> int:
    from regtui.startup import started
    from regtui.commands.tour_report import StepReport, write_report
    from regtui.core.files import OutputError
    from regtui.core.training import configure_torch

    try:
        check_report_paths(args.report, steps, args.force)
    except OutputError as exc:
        print(f"regtui tour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_torch()
    started()
    path = Path(args.report).expanduser()
    done: list[StepReport] = []
    code = EXIT_OK
    try:
        for step, experiment in zip(steps, experiments):
            if not args.quiet:
                print(f"step {step.number}/{len(steps)}: {step.title} ({step.preset})", file=sys.stderr)
            done.append(run_step(step, experiment, record=not args.no_history))
    except KeyboardInterrupt:
        print("interrupted: writing the steps that finished", file=sys.stderr)
        code = EXIT_INTERRUPTED
    written = write_report(path, done, args.overrides)
    if not args.quiet:
        for p in written:
            print(f"written: {p}", file=sys.stderr)
    return code


def run_step(step: Any, experiment: Any, *, record: bool = True) -> Any:
    """Run one step headless and check it; returns a ``StepReport``."""
    from regtui.commands.tour_report import StepReport
    from regtui.core.tour import SWEEP

    if step.kind == SWEEP:
        from regtui.core.sweep import run_sweep

        points: list[Any] = []
        for item in run_sweep(experiment):
            if isinstance(item, list):
                points.extend(item)
        return StepReport(step, experiment, step.check(points), points=points)
    from regtui.core.run import Run

    run = Run(experiment, record=record, source="tour", preset=step.preset)
    for _ in run.events():
        pass
    if run.outcome is not None and run.outcome.history_error:
        print(f"history: {run.outcome.history_error}", file=sys.stderr)
    return StepReport(step, run.experiment, step.check(run.history), history=run.history,
                      run_id=run.outcome.history_id if run.outcome is not None else None)
