"""``regtui history``: list, show, export and delete recorded runs.

Each action is a small function over ``regtui.core.store``; errors (a missing
id, a history file from a newer regtui, an unreadable file, an unwritable
export) are one line on stderr and exit code 2, never a traceback.  Imports
no torch and no UI code, so it answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from regtui.core.numbers import fixed_width

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "history", help="list, show, export and delete recorded runs",
        description=(
            "Every run, in the lab or headless, is recorded epoch by epoch in history.sqlite3 in the "
            "user data folder ($REGTUI_HOME replaces the folder). A run whose process was killed keeps "
            "every completed epoch and is listed as 'cut off'. Without an action, lists the latest runs."
        ),
    )
    hsub = p.add_subparsers(dest="history_command", metavar="ACTION")

    ls = hsub.add_parser("list", help="list recorded runs, newest first (the default)",
                         description="List recorded runs, newest first: id, start time, preset, data set, "
                                     "epochs, the winner and its ranking statistic (by default the "
                                     "validation loss where training ends), and the status.")
    _list_options(ls)
    ls.set_defaults(handler=list_command)

    show = hsub.add_parser("show", help="print a run's details and results table",
                           description="Print where a run came from, when it ran, its settings and, per "
                                       "variant, what it achieved (the table of regtui run).")
    show.add_argument("run_id", metavar="ID", type=int, help="the run's id (see regtui history list)")
    show.set_defaults(handler=show_command)

    export = hsub.add_parser(
        "export", help="write a run as JSON or CSV",
        description="Write a run's config and every epoch's metrics in the shapes regtui run writes "
                    "with --json and --csv. FILE '-' writes to stdout; an existing FILE is replaced only with --force.")
    export.add_argument("run_id", metavar="ID", type=int, help="the run's id")
    fmt = export.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--json", dest="json_path", metavar="FILE", help="write the config and every epoch as JSON")
    fmt.add_argument("--csv", dest="csv_path", metavar="FILE", help="write one row per variant and epoch as CSV")
    export.add_argument("--force", action="store_true", help="replace an existing FILE")
    export.set_defaults(handler=export_command)

    delete = hsub.add_parser(
        "delete", help="delete a recorded run",
        description="Delete a run and its epochs. Asks for confirmation; without a terminal, refuses "
                    "unless --yes is given. A run still being recorded cannot be deleted.")
    delete.add_argument("run_id", metavar="ID", type=int, help="the run's id")
    delete.add_argument("--yes", "-y", action="store_true", help="delete without asking")
    delete.set_defaults(handler=delete_command)

    _list_options(p)
    p.set_defaults(handler=list_command)


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", "-n", type=int, default=20, metavar="N", help="show at most N runs (default: %(default)s)")
    parser.add_argument("--query", metavar="TEXT", help="only runs whose preset, name, data set or a variant contains TEXT")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print the list as JSON")


def _fail(action: str, exc: Exception | str) -> int:
    from regtui.core.text import visible

    print(visible(f"regtui history {action}: {exc}"), file=sys.stderr)
    return EXIT_USAGE


def _open(action: str):
    """The store, or the exit code of a one-line error."""
    from regtui.core.run_records import StoreError
    from regtui.core.store import RunStore

    try:
        return RunStore.open()
    except StoreError as exc:
        return _fail(action, exc)


def _when(t: float | None, *, compact: bool = False) -> str:
    """Local time; ``compact`` leaves out the year."""
    if t is None:
        return "—"
    try:
        return time.strftime("%m-%d %H:%M" if compact else "%Y-%m-%d %H:%M", time.localtime(t))
    except (OverflowError, ValueError, OSError):  # a damaged row's time
        return "?"


def _num(value: float | None) -> str:
    return "—" if value is None else fixed_width(value).replace("–", "—")


_MIN_WIDTH = {"started": 11, "status": 8, "preset": 8}


def list_command(args: argparse.Namespace) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from regtui.commands.report import STATUS_STYLE
    from regtui.core.run_records import StoreError
    from regtui.core.text import visible

    if args.limit < 0:
        return _fail("list", f"--limit: must be 0 or more, got {args.limit}")
    store = _open("list")
    if isinstance(store, int):
        return store
    with store:
        try:
            runs = store.list_runs(limit=args.limit, query=args.query)
        except StoreError as exc:
            return _fail("list", exc)
    if args.as_json:
        print(json.dumps([r.to_dict() for r in runs], indent=2, allow_nan=False))
        return EXIT_OK
    if not runs:
        print(visible(f"no runs recorded in {store.path}" + (f" matching {args.query!r}" if args.query else "")))
        return EXIT_OK
    from regtui.core.ranking import describe, label

    kinds = sorted({r.rank_by for r in runs})
    stat = label(kinds[0]) if len(kinds) == 1 else "ranked val"
    caption = f"history: {store.path}; {stat}: the winner's " + (
        describe(kinds[0]) if len(kinds) == 1 else "statistic, by end or best as marked")
    table = Table(title="recorded runs", caption=Text(visible(caption)), box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, collapse_padding=True, padding=(0, 1))
    columns = (("id", "right"), ("started", "left"), ("preset", "left"), ("data", "left"), ("vars", "right"),
               ("epoch", "right"), (stat, "right"), ("of", "left"), ("status", "left"))
    for col, justify in columns:
        names = col in ("preset", "data", "of")  # these give way on a narrow terminal, the rest never wrap
        table.add_column(col, justify=justify, no_wrap=not names, overflow="ellipsis",  # type: ignore[arg-type]
                         min_width=_MIN_WIDTH.get(col, len(col)), max_width=16 if names else None)
    this_year = time.localtime().tm_year
    for r in runs:
        value = _num(r.rank_value) + (f" {r.rank_by}" if len(kinds) > 1 else "")
        # Text, not markup: names come from presets and may hold "[...]" or control characters.
        table.add_row(
            str(r.id), _when(r.started, compact=_year(r.started) == this_year),
            Text(visible(r.preset or r.name)), Text(visible(r.dataset)),
            f"{len(r.variants)}" + (f"×{r.seeds}" if r.seeds > 1 else ""),
            f"{r.last_epoch if r.last_epoch >= 0 else '—'}/{r.epochs}", value,
            Text(visible(r.rank_variant or "—")), Text(r.status, style=STATUS_STYLE.get(r.status, "magenta")),
        )
    Console().print(table)
    for r in runs:
        if r.problem is not None:
            print(visible(f"run {r.id} is damaged: {r.problem}; regtui history delete {r.id} removes it"))
    return EXIT_OK


def _year(t: float) -> int | None:
    try:
        return time.localtime(t).tm_year
    except (OverflowError, ValueError, OSError):
        return None


def _load_run(action: str, run_id: int):
    """The stored run, or the exit code after a one-line error."""
    from regtui.core.run_records import StoreError

    store = _open(action)
    if isinstance(store, int):
        return store
    with store:
        try:
            return store.load_run(run_id)
        except StoreError as exc:
            return _fail(action, exc)


def show_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from regtui.commands.report import results_table
    from regtui.core.presets import summary_lines
    from regtui.core.text import visible
    run = _load_run("show", args.run_id)
    if isinstance(run, int):
        return run
    s = run.summary
    lines = [
        f"run       {s.id}: {s.preset or s.name} ({s.source}), {s.status}",
        f"started   {_when(s.started)}, " + (f"ended {_when(s.ended)}" if s.ended else f"last epoch at {_when(s.updated)}"),
        f"epochs    {s.last_epoch if s.last_epoch >= 0 else 'none'} of {s.epochs}, {s.seconds:.1f} s of training",
        f"process   pid {s.pid} on {s.host}",
    ]
    if s.engine is not None:  # where it trained: a sweep on Ray names each worker
        lines.append(f"engine    {s.engine}")
        workers: dict[str, list[str]] = {}
        for i, worker in sorted(run.workers.items()):
            workers.setdefault(worker, []).append(run.history.members[i].name)
        lines += [f"  {worker}: {', '.join(names)}" for worker, names in workers.items()]
    if run.branch is not None:
        from regtui.core.branch import BranchChanges

        c = run.branch.changes
        changes = BranchChanges(c.get("variants", {}), c.get("lr"), c.get("epochs")).describe()
        parent = f"run {run.branch.parent_id}" if run.branch.parent_id is not None else "a deleted run"
        lines.append(f"branch    of {parent}, changed from epoch {run.branch.epoch}: {changes}")
    print("\n".join(visible(line) for line in lines + summary_lines(run.experiment)))
    Console().print(results_table(run.history, n_train=(run.data or {}).get("n_train")))
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    from regtui.core.text import visible
    from regtui.commands.outputs import plan_outputs, protected_paths
    from regtui.core.files import OutputError, write_output

    try:
        plan = plan_outputs(json_path=args.json_path, csv_path=args.csv_path, force=args.force,
                            protected=protected_paths())
    except OutputError as exc:
        return _fail("export", exc)
    run = _load_run("export", args.run_id)
    if isinstance(run, int):
        return run
    if plan.json is not None:
        target, text = plan.json, json.dumps(run.to_json(), indent=2, allow_nan=False) + "\n"
    else:
        target, text = plan.csv, run.to_csv()
    try:
        write_output(target, text)
    except FileExistsError:
        return _fail("export", f"{target.path}: exists; pass --force to replace it")
    except OSError as exc:
        return _fail("export", f"{target.path}: {exc.strerror or exc}")
    if target.kind != "stdout":
        print(visible(f"run {args.run_id} written to {target.path}"), file=sys.stderr)
    return EXIT_OK


def delete_command(args: argparse.Namespace) -> int:
    from regtui.core.text import visible
    from regtui.core.run_records import StoreError

    store = _open("delete")
    if isinstance(store, int):
        return store
    with store:
        try:
            s = store.summary(args.run_id)
            if not args.yes:
                if not sys.stdin.isatty():
                    return _fail("delete", f"run {s.id}: not deleted without confirmation; pass --yes")
                prompt = visible(f"delete run {s.id} ({s.preset or s.name}, {_when(s.started)}, {s.status})? [y/N] ")
                try:
                    answer = input(prompt)
                except EOFError:
                    answer = ""
                if answer.strip().lower() not in ("y", "yes"):
                    print("not deleted", file=sys.stderr)
                    return EXIT_USAGE
            store.delete_run(s.id)
        except StoreError as exc:
            return _fail("delete", exc)
    print(f"deleted run {args.run_id}")
    return EXIT_OK
