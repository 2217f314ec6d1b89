"""``regtui data PRESET --out F.npz``: the exact arrays a preset trains on.

Writes ``X_train``, ``y_train``, ``X_val``, ``y_val`` and ``class_names`` as
a NumPy ``.npz`` (no pickles): the split, label noise and standardization
already applied, in the dtypes training uses (float32 features; int64 class
indices or float32 targets).  With the initial weights from ``regtui run
PRESET --set train.epochs=0 --save-models DIR`` another framework can run the
same program from the same start (docs/semantics.md).  Imports no torch and
no UI code.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from regtui.core.text import visible

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "data",
        help="write the train/validation arrays a preset trains on to an .npz file",
        description=(
            "Build PRESET's data exactly as a run does (split, label noise, standardization) and write "
            "X_train, y_train, X_val, y_val and class_names to FILE as NumPy .npz (no pickles), so "
            "another framework can train on the same arrays. Initial weights: regtui run PRESET "
            "--set train.epochs=0 --save-models DIR. Exits 0; 2 on a preset, data or output-path error "
            "(checked before the data is built); 1 when writing fails."
        ),
    )
    p.add_argument("preset", metavar="PRESET", help="a bundled or user preset name, or a path to a .toml file")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the .npz file to write (- for standard output); an existing file only with --force")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset value with TOML syntax, e.g. data.n_train=500 (repeatable)")
    p.add_argument("--presets-dir", metavar="DIR", default=argparse.SUPPRESS, help="folder of user presets")
    p.set_defaults(handler=data_command)


def class_names(dataset) -> list[str]:
    """The names of the classes in label order: the data's own, else the label numbers; none for regression."""
    if dataset.task != "classification":
        return []
    return list(dataset.classes) or [str(i) for i in range(dataset.n_classes)]


def npz_bytes(dataset) -> bytes:
    """The data set as the bytes of an ``.npz`` archive (``np.load(allow_pickle=False)`` reads it)."""
    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, X_train=dataset.x_train, y_train=dataset.y_train, X_val=dataset.x_val, y_val=dataset.y_val,
             class_names=np.array(class_names(dataset), dtype=str))
    return buf.getvalue()


def data_command(args: argparse.Namespace) -> int:
    from regtui.commands.outputs import EXIT_OUTPUT, protected_paths
    from regtui.core import presets
    from regtui.core.config import ConfigError
    from regtui.core.data import make_dataset
    from regtui.core.files import STDOUT, OutputError, check_output, write_output
    from regtui.core.overrides import with_overrides

    try:
        experiment = with_overrides(presets.load_file(presets.find(args.preset, args.presets_dir)), args.overrides)
        out = check_output("--out", args.out, force=args.force, protected=protected_paths(experiment, args.preset))
        dataset = make_dataset(experiment.data, experiment.source_dir or None)
    except (ConfigError, OutputError) as exc:
        print(f"regtui data: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        write_output(out, npz_bytes(dataset))
    except OSError as exc:
        print(f"regtui data: --out {visible(args.out)}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_OUTPUT
    where = "standard output" if out.kind == STDOUT else visible(args.out)
    print(f"{dataset.x_train.shape[0]} train / {dataset.x_val.shape[0]} validation rows, "
          f"{dataset.n_features} features ({dataset.task}) written to {where}", file=sys.stderr)
    return EXIT_OK
