"""``regtui run PRESET``: the comparison, headless, for scripts and CI.

Drives the core's run (``regtui.core.run.Run``: training, the history, insight),
shows live progress with rich on stderr, prints a results table on stdout and writes ``--json``, ``--csv`` and
``--save-models`` outputs.  Ctrl+C stops training, writes what it has, and
exits 130.  Divergence is a result, not an error: the run still exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
JSON_MAP_SIZE = (60, 30)
"""(cols, rows) of the decision maps in ``--json``."""
JSON_BINS = 30
"""Bins of the weight histograms in ``--json``."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a comparison headless and print what each variant achieved",
        description=(
            "Train every variant of PRESET on the same data from the same initial weights "
            "and report, per variant, the validation loss where training ends (the ranking; "
            "--rank-by best ranks by the best epoch instead), the best validation loss and its "
            "epoch (early stopping), final losses, accuracy, gap and weight norm. Exits 0 (also when variants diverged), "
            "2 on a preset or usage error, 130 on Ctrl+C after writing partial results."
        ),
    )
    p.add_argument("preset", metavar="PRESET", help="a bundled or user preset name, or a path to a .toml file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset value with TOML syntax, e.g. train.epochs=5, model.hidden=[32], "
                        "variants.L2.l2=0.01 (repeatable)")
    p.add_argument("--seeds", type=int, metavar="N", help="repeat every variant over N seeds (train.seeds); "
                   "the table shows mean ± std and the verdict says whether the ranking holds")
    p.add_argument("--rank-by", choices=("end", "best"), default=None,
                   help="rank variants by the val loss where training ends (end: the mean over the last "
                        "10%% of epochs, the default) or by each one's best epoch (best: early stopping); "
                        "sets train.rank_by")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="write the config and every epoch's metrics as JSON")
    p.add_argument("--csv", dest="csv_path", metavar="FILE", help="write one row per variant and epoch as CSV")
    p.add_argument("--save-models", metavar="DIR", help="write each variant's final state_dict as DIR/<variant>.pt")
    p.add_argument("--force", action="store_true",
                   help="replace existing output files (without it, an existing --json/--csv/model file is refused)")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    p.add_argument("--no-history", action="store_true",
                   help="do not record this run in the history database (see regtui history)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no table; only errors")
    p.set_defaults(handler=run_command, starts_itself=True)  # regtui.startup


def _load(args: argparse.Namespace):
    from regtui.core import presets
    from regtui.core.overrides import with_overrides

    source = presets.find(args.preset, args.presets_dir)
    experiment = presets.load_file(source)
    experiment = with_overrides(experiment, args.overrides)
    if args.seeds is not None:  # its own option, named as such in a complaint
        experiment = with_overrides(experiment, [f"train.seeds={args.seeds}"], source="--seeds")
    if args.rank_by is not None:
        experiment = with_overrides(experiment, [f"train.rank_by={args.rank_by}"], source="--rank-by")
    return experiment


def run_command(args: argparse.Namespace) -> int:
    from regtui.commands.outputs import EXIT_OUTPUT, failure_line
    from regtui.commands.signals import deferred, exit_code, signal_name
    from regtui.startup import started
    from regtui.core.config import ConfigError
    from regtui.core.files import OutputError
    from regtui.core.run import Run
    from regtui.core.text import visible

    err = _Stderr()
    try:
        experiment = _load(args)
    except ConfigError as exc:
        print(f"regtui run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan = _plan_outputs(args, experiment)
    except OutputError as exc:
        print(f"regtui run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    run = Run(experiment, record=not args.no_history, source="cli", preset=args.preset)
    try:
        training = run.prepare()
    except ConfigError as exc:
        print(visible(f"regtui run: {args.preset}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    started()  # torch imported, data drawn, nets built
    if not args.quiet:
        err.say(visible(_data_line(training.dataset)))
    code = EXIT_OK
    events = run.events()
    stopped_by = None
    try:
        _consume(events, run, err, quiet=args.quiet)
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM or SIGHUP (regtui.commands.signals)
        stopped_by = exc
    with deferred() as meanwhile:  # a second signal waits for the outputs instead of losing them
        if stopped_by is not None:
            events.close()
            code = exit_code(stopped_by)
            err.say(f"stopped by {signal_name(code - 128)}: writing partial results", "yellow")
        outcome = run.outcome
        if outcome is not None and outcome.history_id is not None:
            if outcome.history_error is not None:
                err.say(visible(f"history: {outcome.history_error}"), "yellow")
            elif not args.quiet:
                err.say(f"recorded as run {outcome.history_id} (regtui history show {outcome.history_id})")
        written, failed = _write_outputs(plan, run)
        if failed:
            print(visible(failure_line("regtui run", written, failed)), file=sys.stderr)
            code = code if code != EXIT_OK else EXIT_OUTPUT
        elif not args.quiet:
            for label in written:
                print(visible(f"written: {label}"), file=sys.stderr)
        if not args.quiet:
            from rich.console import Console
            from rich.text import Text

            from regtui.commands.report import results_table
            from regtui.core.claims import check_all, describe
            from regtui.core.verdict import verdict

            out = err.console if plan.uses_stdout else Console()
            out.print(results_table(run.history, n_train=training.dataset.summary()["n_train"]))
            out.print(Text(visible(verdict(run.history))))
            for check in check_all(run.history):  # what the preset claims to show ([[claims]])
                out.print(Text(visible(describe(check)), style="green" if check.holds else "yellow"))
    if meanwhile and code == EXIT_OK:
        code = exit_code(meanwhile.signum)
    return code


def _plan_outputs(args: argparse.Namespace, experiment):
    """Every output checked before training starts (see ``regtui.commands.outputs``)."""
    from regtui.commands.outputs import plan_outputs, protected_paths
    from regtui.core.run_types import plan_members

    return plan_outputs(json_path=args.json_path, csv_path=args.csv_path, models_dir=args.save_models,
                        member_names=[m.name for m in plan_members(experiment)], force=args.force,
                        protected=protected_paths(experiment, args.preset))


class _Stderr:
    """rich's console on stderr, made when first used: a ``--quiet`` run with
    nothing to say imports no rich (~0.1 CPU-s of a start)."""

    def __init__(self) -> None:
        self._console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def say(self, text: str, style: str = "") -> None:
        """One message, as text (never markup)."""
        from rich.text import Text

        self.console.print(Text(text, style=style))


def _consume(events, run, err: _Stderr, *, quiet: bool) -> None:
    """Drive the run to its end, with live progress on stderr unless ``quiet``."""
    from regtui.core.run import EagerSteps, RunReady
    from regtui.core.run_types import EpochEnd
    from regtui.core.text import visible

    def note(event: object) -> None:
        if isinstance(event, RunReady) and event.history_error is not None:
            err.say(visible(f"history: {event.history_error}"), "yellow")
        # a write that fails later (RecordingStopped) is said once, after the run
        if isinstance(event, EagerSteps):  # said once by the run (docs/semantics.md)
            err.say(visible(event.message), "yellow")

    if quiet:
        for event in events:
            note(event)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    total = run.experiment.train.epochs
    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[best]}", markup=False))
    with Progress(*columns, console=err.console, transient=False) as progress:
        task = progress.add_task("train", total=total, best="")
        for event in events:
            note(event)
            if isinstance(event, EpochEnd):
                progress.update(task, completed=event.epoch, best=_best_text(run.history))


def _best_text(history) -> str:
    from regtui.core.ranking import label
    from regtui.core.text import visible

    order = history.ranked()
    if not order or not order[0].score.rankable:
        return ""
    top = order[0]
    return visible(f"leader {top.name} ({label(top.score.rank_by)} {top.score.value:.4g})")


def data_summary(dataset) -> dict[str, Any]:
    """What the run trained on (``Dataset.summary()``)."""
    return dataset.summary()


def _data_line(dataset) -> str:
    info = data_summary(dataset)
    text = f"data: {info['task']}, {info['n_train']} train / {info['n_val']} validation rows, {info['n_features']} features"
    if info["classes"]:
        shown = ", ".join(f"{i}={name}" for i, name in enumerate(info["classes"][:12]))
        text += f"; classes {shown}" + (" …" if len(info["classes"]) > 12 else "")
    return text


def _write_outputs(plan, run) -> tuple[list[str], list[str]]:
    """Write what the plan names; each output on its own, so one failure keeps the rest."""
    from regtui.commands.outputs import write_outputs
    from regtui.core.run import InsightRequest

    history, training = run.history, run.training

    def json_text(_: int) -> str:
        doc = history.to_json()
        doc["data"] = data_summary(training.dataset)
        snapshot = run.insight(InsightRequest(boundary=JSON_MAP_SIZE, bins=JSON_BINS))
        doc["weights"] = snapshot.weights.to_json(snapshot.names)
        if snapshot.boundary is not None:
            doc["boundary"] = snapshot.boundary.to_json(snapshot.names)
        return json.dumps(doc, indent=2, allow_nan=False) + "\n"

    def model_bytes(i: int) -> bytes:
        import io

        import torch

        buffer = io.BytesIO()
        torch.save(training.state_dict(training.names[i]), buffer)
        return buffer.getvalue()

    items = []
    if plan.json is not None:
        items.append((str(plan.json), [plan.json], json_text))
    if plan.csv is not None:
        items.append((str(plan.csv), [plan.csv], lambda _: history.to_csv()))
    if plan.models:
        items.append((f"--save-models {plan.models[0].path.parent}", plan.models, model_bytes))
    return write_outputs(items)
