"""``regtui presets``: list, show, save, delete presets and print where they live.

Each action is a small function over ``regtui.core.presets``; errors are one
line on stderr and exit code 2, never a traceback.  Writes go to the user
presets folder only (bundled presets are read-only).  Imports no UI code and
no torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2


def _dir_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the top-level --presets-dir stays in force unless given here too.
    parser.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="folder of user presets (default: $REGTUI_PRESETS_DIR or the user config folder)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "presets", help="list, show, save and delete presets",
        description=(
            "Presets are TOML files that describe a comparison so it can be repeated exactly. "
            "Bundled presets ship with regtui and are read-only; user presets live in the user "
            "config folder (or $REGTUI_PRESETS_DIR / --presets-dir). A user preset with the name "
            "of a bundled one shadows it. Without an action, lists them."
        ),
    )
    _dir_option(p)
    psub = p.add_subparsers(dest="presets_command", metavar="ACTION")

    ls = psub.add_parser("list", help="list presets (the default)",
                         description="List bundled and user presets with their origin and description; "
                                     "broken files are listed with their error.")
    _dir_option(ls)
    ls.set_defaults(handler=list_command)

    show = psub.add_parser("show", help="print a preset as resolved TOML (every key)",
                           description="Print a preset with every key resolved to its value, defaults included.")
    show.add_argument("name", metavar="NAME|PATH", help="a preset name (user presets shadow bundled ones) or a .toml path")
    _dir_option(show)
    show.set_defaults(handler=show_command)

    save = psub.add_parser(
        "save", help="derive a new user preset from another, with overrides",
        description=(
            "Load PRESET, apply the --set overrides and write the result, every key resolved, as the "
            "user preset NAME. Refuses to replace an existing user preset unless --force is given; "
            "never writes into the bundled folder."
        ),
    )
    save.add_argument("name", metavar="NAME", help="the new preset's name: letters, digits, '-', '_' and '.'")
    save.add_argument("--from", dest="source", metavar="PRESET", required=True,
                      help="the preset to start from: a name or a path to a .toml file")
    save.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a value with TOML syntax, e.g. train.epochs=5, model.hidden=[32], "
                           "variants.L2.l2=0.01 (repeatable)")
    save.add_argument("--description", metavar="TEXT", help="the description shown in listings")
    save.add_argument("--force", action="store_true", help="replace an existing user preset of the same name")
    _dir_option(save)
    save.set_defaults(handler=save_command)

    delete = psub.add_parser("delete", help="delete a user preset (bundled presets are read-only)",
                             description="Delete the user preset NAME. Bundled presets cannot be deleted. Asks nothing.")
    delete.add_argument("name", metavar="NAME")
    _dir_option(delete)
    delete.set_defaults(handler=delete_command)

    path = psub.add_parser("path", help="print the user and bundled presets folders",
                           description="Print the user presets folder (where save writes) and the bundled folder.")
    _dir_option(path)
    path.set_defaults(handler=path_command)

    p.set_defaults(handler=list_command)


def _fail(action: str, exc: Exception | str) -> int:
    from regtui.core.text import visible

    print(visible(f"regtui presets {action}: {exc}"), file=sys.stderr)
    return EXIT_USAGE


def list_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from regtui.core import presets
    from regtui.core.text import visible

    table = Table(title="presets", caption=Text(visible(f"user presets: {presets.user_dir(args.presets_dir)}")))
    for col in ("name", "origin", "description and path"):
        table.add_column(col, overflow="fold")
    for entry in presets.list_presets(args.presets_dir):
        # Text, not markup: names and descriptions come from files and may hold "[...]"
        # or control characters (made visible).
        desc = Text(visible(f"broken: {entry.error}"), style="red") if entry.broken else Text(visible(entry.description))
        desc.append(f"\n{visible(_short(entry.path))}", style="dim")
        table.add_row(Text(visible(entry.name)), Text(entry.status), desc)
    Console().print(table)
    return EXIT_OK


def _short(path: Path) -> str:
    """The file's path, with the home folder as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def show_command(args: argparse.Namespace) -> int:
    from regtui.core import presets
    from regtui.core.config import ConfigError

    try:
        experiment = presets.load(args.name, args.presets_dir)
    except ConfigError as exc:
        return _fail("show", exc)
    sys.stdout.write(presets.to_toml(experiment))
    return EXIT_OK


def save_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from regtui.core import presets
    from regtui.core.config import ConfigError
    from regtui.core.overrides import with_overrides
    from regtui.core.text import visible

    try:
        presets.check_name(args.name)
        experiment = with_overrides(presets.load(args.source, args.presets_dir), args.overrides)
        if args.description is not None:
            experiment = replace(experiment, description=args.description)
        path = presets.save_preset(experiment, args.name, args.presets_dir, overwrite=args.force)
    except presets.PresetExistsError:
        where = presets.user_dir(args.presets_dir) / f"{args.name}.toml"
        return _fail("save", f"{where}: a user preset named {args.name!r} exists; use --force to replace it")
    except ConfigError as exc:
        return _fail("save", exc)
    print(visible(f"saved {args.name} to {path}"))
    if presets.is_bundled(args.name):
        print(f"note: the user preset {args.name} shadows the bundled preset of the same name", file=sys.stderr)
    return EXIT_OK


def delete_command(args: argparse.Namespace) -> int:
    from regtui.core.text import visible
    from regtui.core import presets
    from regtui.core.config import ConfigError

    try:
        path = presets.delete_preset(args.name, args.presets_dir)
    except ConfigError as exc:
        return _fail("delete", exc)
    print(visible(f"deleted {path}"))
    if presets.is_bundled(args.name):
        print(f"the bundled preset {args.name} is visible again")
    return EXIT_OK


def path_command(args: argparse.Namespace) -> int:
    from regtui.core.text import visible
    from regtui.core import presets

    print(visible(f"user: {presets.user_dir(args.presets_dir)}"))
    print(visible(f"bundled: {presets.bundled_dir()}"))
    return EXIT_OK
