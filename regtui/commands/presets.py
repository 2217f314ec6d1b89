"""``regtui presets``: list the bundled and user presets, show one resolved."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser("presets", help="list and show presets",
                       description="List bundled and user presets, or print one as resolved TOML.")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    psub = p.add_subparsers(dest="presets_command", metavar="ACTION")
    ls = psub.add_parser("list", help="list presets (the default)", description="List bundled and user presets with their descriptions and paths.")
    ls.set_defaults(handler=list_command)
    show = psub.add_parser("show", help="print a preset as resolved TOML (every key)",
                           description="Print a preset with every key resolved to its value, defaults included.")
    show.add_argument("name", metavar="NAME|PATH")
    show.set_defaults(handler=show_command)
    p.set_defaults(handler=list_command)


def list_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from regtui.core import presets

    table = Table(title="presets")
    for col in ("name", "origin", "description", "path"):
        table.add_column(col)
    for entry in presets.list_presets(args.presets_dir):
        desc = f"[red]broken: {entry.error}[/]" if entry.error else entry.description
        table.add_row(entry.name, entry.origin, desc, str(entry.path))
    Console().print(table)
    return EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    from regtui.core import presets
    from regtui.core.config import ConfigError

    try:
        experiment = presets.load(args.name, args.presets_dir)
    except ConfigError as exc:
        print(f"regtui presets show: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(presets.to_toml(experiment))
    return EXIT_OK
