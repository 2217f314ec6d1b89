"""The output files of ``regtui run``, ``sweep`` and ``history export``.

``plan_outputs(...)`` checks every ``--json``/``--csv``/``--save-models``
target *before* any training starts (``regtui.core.files`` has the rule: a
regular file in a writable folder, replaced only with ``--force``; ``-``, a
character device or FIFO as a stream; never a folder, a link, the run
history, the preset or the data file of the run), so a bad path costs one
line and exit 2, not a run.  ``write_outputs(plan, producers)`` writes each
output independently at the end: if one fails (a full disk), the others are
still written and one line says which failed.  Imports no torch and no UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from regtui.core.files import STDOUT, Output, OutputError, check_distinct, check_model_folder, check_output, write_output

EXIT_OUTPUT = 1
"""Exit code when training went fine but an output could not be written."""


def model_file_stems(names: list[str] | tuple[str, ...]) -> list[str]:
    """File stems for ``--save-models``: safe characters, unique ignoring case."""
    used: set[str] = set()
    stems = []
    for index, name in enumerate(names):
        stem = re.sub(r"[^A-Za-z0-9_.+=-]", "_", name).lstrip(".") or "variant"
        if stem.lower() in used:  # "a b" and "a_b" must not overwrite each other
            stem = f"{stem}-{index + 1}"
        used.add(stem.lower())
        stems.append(stem)
    return stems


def protected_paths(experiment: Any = None, preset: str | None = None) -> dict[Path, str]:
    """regtui's own files, which no output may overwrite: the run history (with its
    journal files), the preset file and the data file of this run."""
    from regtui.core.store import default_path

    store = default_path()
    out = {store: "regtui's run history"}
    for suffix in ("-wal", "-shm", "-journal"):
        out[store.with_name(store.name + suffix)] = "a file of regtui's run history"
    if preset and (preset.endswith(".toml") or "/" in preset) and Path(preset).expanduser().is_file():
        out[Path(preset).expanduser()] = "the preset of this run"
    if experiment is not None:
        data_path = getattr(experiment.data, "path", "") or ""
        if data_path.strip():
            p = Path(data_path).expanduser()
            if not p.is_absolute() and experiment.source_dir:
                p = Path(experiment.source_dir) / p
            out[p] = "the data file of this run"
    return out


@dataclass
class OutputPlan:
    """The checked outputs of one command."""

    json: Output | None = None
    csv: Output | None = None
    models: list[Output] = field(default_factory=list)
    """One per member (``Training.names`` order) for ``--save-models``."""

    @property
    def uses_stdout(self) -> bool:
        """True when an output goes to standard output (the table then goes to stderr)."""
        return any(o is not None and o.kind == STDOUT for o in (self.json, self.csv))


def plan_outputs(*, json_path: str | None = None, csv_path: str | None = None, models_dir: str | None = None,
                 member_names: list[str] | tuple[str, ...] = (), force: bool = False,
                 protected: dict[Path, str] | None = None) -> OutputPlan:
    """Check every output up front; raises ``OutputError`` (one line) for the first bad one."""
    plan = OutputPlan()
    if json_path is not None:
        plan.json = check_output("--json", json_path, force=force, protected=protected)
    if csv_path is not None:
        plan.csv = check_output("--csv", csv_path, force=force, protected=protected)
    if models_dir is not None:
        plan.models = check_model_folder("--save-models", models_dir,
                                         [f"{s}.pt" for s in model_file_stems(member_names)],
                                         force=force, protected=protected)
    check_distinct([o for o in (plan.json, plan.csv, *plan.models) if o is not None])
    return plan


def write_outputs(items: list[tuple[str, list[Output], Callable[[int], bytes | str]]]) -> tuple[list[str], list[str]]:
    """Write each output; ``items`` are (label, outputs, produce(i) -> data of the i-th).

    Returns (written, failed) as short phrases (``"--json r.json"`` /
    ``"--csv r.csv (No space left on device)"``); one failure never stops the others.
    """
    written, failed = [], []
    for label, outputs, produce in items:
        problems = []
        for i, out in enumerate(outputs):
            try:
                write_output(out, produce(i))
            except FileExistsError:
                problems.append(f"{out.path} (appeared meanwhile; pass --force to replace it)")
            except (OSError, OutputError) as exc:
                problems.append(f"{out.path} ({getattr(exc, 'strerror', None) or exc})")
        if problems:
            failed.append(f"{label} " + ", ".join(problems))
        elif outputs:
            written.append(label)
    return written, failed


def failure_line(command: str, written: list[str], failed: list[str]) -> str:
    """One line for outputs that could not be written, naming those that were."""
    line = f"{command}: not written: " + "; ".join(failed)
    return line + (f" (written: {', '.join(written)})" if written else "")
