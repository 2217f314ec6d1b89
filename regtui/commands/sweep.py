"""``regtui sweep PRESET --grid KEY=V1,V2,...``: how strong should λ or p be?

Trains every grid point (× seeds) as members of one stacked model and prints,
per point, the ranking statistic (``regtui.core.ranking``: by default the
validation loss where training ends; mean ± std over seeds), the best-epoch
value beside it and the final train loss, with a bar per point so the U shape
shows in a plain terminal.
``--engine ray [--address A]`` runs the shards as Ray tasks instead
(``regtui.core.engines``).  Every training is recorded in the run history.
Exit codes as ``regtui run``: 0, 2 on a usage/preset/engine error, 130 on
Ctrl+C; 1 when a shard failed (its points are marked failed, with the error).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
BAR = 24


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="sweep λ, p or n_train over a grid (and seeds) and find the right strength",
        description=(
            "Vary one or two regularization knobs of one variant over a grid — "
            "variants.NAME.l2, .weight_decay, .dropout, .input_dropout — or data.n_train, "
            "and report each point's validation loss where training ends (mean over the last 10 % of "
            "epochs; --rank-by best: its best epoch), mean ± std over seeds, and final "
            "train loss. Grid points and seeds train together as one stacked model. "
            "Without --grid, the preset's [[sweep]] tables are used."
        ),
        epilog="example: regtui sweep d2l-weight-decay --grid 'variants.λ=3.l2=0,0.1,1,3,10,100' --seeds 3",
    )
    p.add_argument("preset", metavar="PRESET", help="a bundled or user preset name, or a path to a .toml file")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a knob and its values, e.g. variants.L2.l2=0,1e-4,1e-3,1e-2 (at most two --grid)")
    p.add_argument("--seeds", type=int, metavar="N", help="repeat every grid point over N seeds")
    p.add_argument("--rank-by", choices=("end", "best"), default=None,
                   help="judge each point by the val loss where training ends (end, the default) or by "
                        "its best epoch (best: early stopping); sets train.rank_by")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset value (as in regtui run)")
    p.add_argument("--json", dest="json_path", metavar="FILE",
                   help="write one entry per grid point: knob values, mean/std of the ranking statistic, "
                        "of the best val loss and of the final train loss")
    p.add_argument("--force", action="store_true", help="replace an existing --json file")
    p.add_argument("--engine", choices=("in-process", "ray"), help="where to train (engine.kind): in this process "
                   "(default) or as Ray tasks, each a shard of stacked networks (pip install 'regtui[ray]')")
    p.add_argument("--address", metavar="ADDRESS", help="with --engine ray (engine.address): auto or HOST:PORT joins "
                   "a running Ray cluster; without it a local Ray starts on this machine")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    p.add_argument("--no-history", action="store_true", help="do not record the sweep in the history database")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no table; only errors")
    p.set_defaults(handler=sweep_command)


def parse_grid(text: str) -> tuple[str, tuple[float, ...]]:
    from regtui.core.config import ConfigError

    key, sep, values = text.rpartition("=")
    if not sep or not key:
        raise ConfigError(text, "a grid looks like KEY=V1,V2,..., e.g. variants.L2.l2=0,1e-3,1e-2")
    out = []
    for item in values.split(","):
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"sweep.{key}", f"{item.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"sweep.{key}", f"{item.strip()!r} is not a finite number")
        out.append(value)
    return key.strip(), tuple(out)


def _load(args: argparse.Namespace):
    from dataclasses import replace

    from regtui.core import presets
    from regtui.core.config import ConfigError, SweepAxis
    from regtui.core.overrides import with_overrides

    experiment = presets.load(args.preset, getattr(args, "presets_dir", None))
    experiment = with_overrides(experiment, args.overrides)
    if args.seeds is not None:  # its own option, named as such in a complaint
        experiment = with_overrides(experiment, [f"train.seeds={args.seeds}"], source="--seeds")
    if args.rank_by is not None:
        experiment = with_overrides(experiment, [f"train.rank_by={args.rank_by}"], source="--rank-by")
    if args.grid:
        try:
            axes = tuple(SweepAxis(*parse_grid(g)) for g in args.grid)
            experiment = replace(experiment, sweep=axes)
        except ConfigError as exc:
            raise exc.with_source("--grid") from None
    if not experiment.sweep:
        raise ConfigError("sweep", "nothing to sweep: give --grid KEY=V1,V2,... or [[sweep]] tables in the preset", args.preset)
    return _with_engine(experiment, args)


def _with_engine(experiment, args: argparse.Namespace):
    from dataclasses import replace

    from regtui.core.config import ConfigError

    engine = experiment.engine
    try:
        if args.engine is not None:
            engine = replace(engine, kind=args.engine)
        if args.address is not None:
            if engine.kind != "ray":
                raise ConfigError("--address", "joins a Ray cluster: add --engine ray")
            engine = replace(engine, address=args.address)
        return replace(experiment, engine=engine)
    except ConfigError as exc:
        raise exc.with_source("--engine/--address") from None


def sweep_command(args: argparse.Namespace) -> int:
    from regtui.core.config import ConfigError

    from regtui.commands.outputs import plan_outputs, protected_paths
    from regtui.core.files import OutputError

    try:
        experiment = _load(args)
        outputs = plan_outputs(json_path=args.json_path, force=args.force,
                               protected=protected_paths(experiment, args.preset))
    except (ConfigError, OutputError) as exc:
        print(f"regtui sweep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from regtui.core.engines.base import EngineError
    from regtui.core.engines.choose import open_engine
    from regtui.core.text import visible

    try:
        engine = open_engine(experiment.engine)
    except EngineError as exc:
        print(visible(f"regtui sweep: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:  # while a cluster is being joined: nothing ran yet
        from regtui.commands.signals import exit_code

        return exit_code(exc)
    try:
        return _sweep(args, experiment, engine, outputs)
    except EngineError as exc:
        print(visible(f"regtui sweep: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    finally:
        engine.close()


def _sweep(args: argparse.Namespace, experiment, engine, outputs) -> int:
    from regtui.commands.outputs import EXIT_OUTPUT, failure_line, write_outputs
    from regtui.commands.signals import deferred, exit_code, signal_name
    from regtui.core.config import ConfigError
    from regtui.core.sweep import SweepProgress, plan, point_name, run_sweep
    from regtui.core.text import visible

    points: list = []
    code = EXIT_OK
    recording = _history(args)
    runs = recording.runs if recording is not None else []
    stream = run_sweep(experiment, engine=engine, record=recording)
    progress = None
    stopped_by: KeyboardInterrupt | None = None
    try:
        if not args.quiet:
            from rich.console import Console
            from rich.markup import escape
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            label = "sweep epochs" if engine.label == "in-process" else f"shard epochs on {engine.label}"
            progress = Progress(TextColumn(escape(label)), MofNCompleteColumn(), BarColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True))
            progress.start()
            task = progress.add_task("sweep", total=None)
        for item in stream:
            if isinstance(item, SweepProgress):
                if progress is not None:
                    progress.update(task, completed=item.done_epochs, total=item.total_epochs)
            else:
                points.extend(item)
    except ConfigError as exc:
        print(visible(f"regtui sweep: {args.preset}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM or SIGHUP (regtui.commands.signals)
        stopped_by = exc
    finally:
        with deferred():  # a second Ctrl+C waits: what arrived is recorded, the tasks cancelled
            stream.close()
        if progress is not None:
            progress.stop()
        if recording is not None:
            recording.close()
    with deferred() as meanwhile:  # a second signal waits for the outputs instead of losing them
        if stopped_by is not None:
            code = exit_code(stopped_by)
            print(f"stopped by {signal_name(code - 128)}: writing the points finished so far", file=sys.stderr)
        order = [knobs for _, knobs_list in plan(experiment) for knobs in knobs_list]
        points.sort(key=lambda p: order.index(p.knobs))
        if runs and not args.quiet:
            ids = ", ".join(str(r.run_id) for r in runs)
            print(f"recorded as run{'s' if len(runs) > 1 else ''} {ids} (regtui history show ID)", file=sys.stderr)
        failed_points = [p for p in points if p.errors]
        for point in failed_points:
            why = "; ".join(sorted({e for e in point.errors if e}))
            print(visible(f"regtui sweep: point {point_name(point.knobs) or 'base'} failed: {why}"), file=sys.stderr)
        if failed_points and code == EXIT_OK:
            code = EXIT_FAILED
        if outputs.json is not None:
            from regtui.core.schema import experiment_to_dict

            doc = {"experiment": experiment_to_dict(experiment), "points": [p.summary() for p in points]}
            written, failed = write_outputs([(str(outputs.json), [outputs.json],
                                              lambda _: json.dumps(doc, indent=2, allow_nan=False) + "\n")])
            if failed:
                print(visible(failure_line("regtui sweep", written, failed)), file=sys.stderr)
                code = code if code != EXIT_OK else EXIT_OUTPUT
        if not args.quiet:
            _print_table(experiment, points, to_stderr=outputs.uses_stdout)
    if meanwhile and code == EXIT_OK:
        code = exit_code(meanwhile.signum)
    return code


def _history(args: argparse.Namespace):
    """``run_sweep``'s record factory into the history (``regtui.core.sweep.SweepRecording``),
    or None with ``--no-history`` or when the store cannot be opened (said on stderr)."""
    if args.no_history:
        return None
    from regtui.core.sweep import SweepRecording
    from regtui.core.text import visible

    def problem(line: str) -> None:
        print(visible(f"regtui sweep: history: {line}"), file=sys.stderr)

    return SweepRecording.open(source="cli", preset=args.preset, on_problem=problem)


def _print_table(experiment, points, *, to_stderr: bool = False) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from regtui.core.ranking import describe, label
    from regtui.core.sweep import best_point
    from regtui.core.text import visible

    best = best_point(points)
    seeds = experiment.train.seeds
    rank_by = experiment.train.rank_by
    stat = label(rank_by)
    title = (f"sweep of {experiment.name}: {experiment.data.dataset}, {experiment.train.epochs} epochs, "
             f"{seeds} seed{'s' if seeds > 1 else ''}")
    table = Table(title=Text(visible(title)),
                  caption=f"{stat}: {describe(rank_by)} (mean±std over seeds); ★ lowest; bar: {stat} "
                          "(shorter is better); best: lowest val loss at any epoch (early stopping)",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    keys = [a.key for a in experiment.sweep]
    for key in keys:
        table.add_column(Text(visible(key.rsplit(".", 1)[1])), justify="right")
    numeric = (stat, "best", "train")
    for col in numeric + ("", "status"):
        table.add_column(col, justify="right" if col in numeric else "left", no_wrap=True)
    means = [p.score.value for p in points]
    finite = [m for m in means if m is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    for point, mean in zip(points, means):
        summary = point.summary()
        std = point.score.std
        text = "—" if mean is None else (f"{mean:.4g}" + (f"±{std:.2g}" if std is not None else ""))
        early = summary["best_val_loss"]["mean"]
        train = summary["final_train_loss"]["mean"]
        width = 0 if mean is None or hi == lo else round(1 + (BAR - 1) * (mean - lo) / (hi - lo))
        bar = ("█" * width + (" ★" if point is best else "")) if mean is not None else "diverged"
        statuses = sorted(set(point.statuses))
        table.add_row(*(f"{point.knobs[k]:g}" for k in keys), text, "—" if early is None else f"{early:.4g}",
                      "—" if train is None else f"{train:.4g}",
                      bar, ", ".join(statuses), style="bold" if point is best else None)
    Console(stderr=to_stderr).print(table)
    if best is not None:
        knobs = ", ".join(f"{k} = {v:g}" for k, v in best.knobs.items())
        print(visible(f"best: {knobs} (mean {stat} {best.score.value:.4g})"),
              file=sys.stderr if to_stderr else sys.stdout)
