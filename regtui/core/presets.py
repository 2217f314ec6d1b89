"""Preset files: TOML in, ``Experiment`` out, and back; where presets live.

Bundled presets ship read-only inside the package (``regtui/presets`` in a
wheel, the repository's top-level ``presets/`` in a checkout).  User presets
live in the platform's user config folder, overridden by
``REGTUI_PRESETS_DIR`` (or ``--presets-dir``); a user preset shadows a bundled
one of the same name when loading by name.

Safety: a preset name is checked (``check_name``) before it becomes a path;
writes and deletes happen only in the user folder, never in the bundled one,
and never through a link that leads outside the user folder; writes are
atomic (temporary file + rename); nothing in a preset is ever executed, it is
parsed as TOML data.  ``--set`` overrides live in ``overrides.py``, atomic
writes in ``files.py``.

Imports only the standard library, tomli-w and platformdirs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from regtui.core.config import DATASETS_2D, DATASETS_FILE, ConfigError, Experiment, absolute_data_path, expand_home
from regtui.core.files import write_atomic
from regtui.core.schema import experiment_from_dict, experiment_to_dict

DEFAULT_PRESET = "moons-overfit"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
PRESETS_ENV = "REGTUI_PRESETS_DIR"
MAX_PRESET_BYTES = 1 << 20
"""A preset file larger than this is refused unread (a preset is a few hundred bytes)."""


NESTED_TOO_DEEPLY = "malformed: arrays or tables nested too deeply to read"


class PresetExistsError(ConfigError):
    """Saving would replace an existing user preset and overwriting was not asked for."""


def bundled_dir() -> Path:
    """The folder of presets shipped with regtui."""
    inside = Path(__file__).resolve().parent.parent / "presets"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parents[2] / "presets"


def user_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the user's own presets (not created here)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(PRESETS_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("regtui")) / "presets"


def is_valid_name(name: str) -> bool:
    """True when ``name`` may become a preset file name (see ``check_name``); a name
    ending in ``.toml`` may not (it would be saved as ``NAME.toml.toml`` and read as a path)."""
    return bool(NAME_RE.fullmatch(name)) and ".." not in name and not name.lower().endswith(".toml")


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe preset name, else raise ``ConfigError``."""
    if name.lower().endswith(".toml") and is_valid_name(name[:-5]):
        raise ConfigError("name", f"invalid preset name {name!r}: leave out .toml (the file becomes "
                                  f"{name[:-5]}.toml, loaded as {name[:-5]})")
    if not is_valid_name(name):
        raise ConfigError(
            "name",
            f"invalid preset name {name!r}: use letters, digits, '-', '_' and '.' (no '..'), "
            "at most 64 characters, not starting with '.' or '-'",
        )
    return name


# --------------------------------------------------------------------------- TOML

def parse_toml(text: str, source: str) -> Experiment:
    """Parse preset text; errors name ``source``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"not valid TOML: {exc}", source) from None
    except RecursionError:  # x = [[[[...]]]]: tomllib parses nesting recursively
        raise ConfigError("", NESTED_TOO_DEEPLY, source) from None
    try:
        return experiment_from_dict(raw)
    except ConfigError as exc:
        raise exc.with_source(source) from None
    except RecursionError:
        raise ConfigError("", NESTED_TOO_DEEPLY, source) from None


def load_file(path: str | os.PathLike[str]) -> Experiment:
    """Read and strictly parse one preset file; raises ``ConfigError`` naming it."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_PRESET_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError("", "no such preset file", str(p)) from None
    except OSError as exc:
        raise ConfigError("", f"cannot read: {exc.strerror or exc}", str(p)) from None
    if len(data) > MAX_PRESET_BYTES:
        raise ConfigError("", f"too large for a preset (over {MAX_PRESET_BYTES} bytes)", str(p))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("", f"not UTF-8 text: {exc.reason} at byte {exc.start}", str(p)) from None
    exp = parse_toml(text, str(p))
    # A relative data.path resolves next to the preset file.
    return dataclasses.replace(exp, source_dir=str(p.absolute().parent))


def to_toml(exp: Experiment) -> str:
    """The whole experiment as TOML: every key, so the file reproduces the run."""
    import tomli_w

    return tomli_w.dumps(experiment_to_dict(exp, full=True))


# --------------------------------------------------------------------------- catalogue

@dataclass(frozen=True)
class PresetEntry:
    """One preset file as a listing shows it."""

    name: str
    """The file name without ``.toml``: what ``load`` and ``--preset`` take."""
    path: Path
    bundled: bool
    description: str = ""
    error: str | None = None
    """Why the file does not load; None when it is fine."""
    shadowed: bool = False
    """Bundled only: a user preset of the same name is loaded instead of this one."""
    shadows: bool = False
    """User only: this preset hides a bundled preset of the same name."""
    experiment: Experiment | None = None
    """The parsed preset (None when broken)."""

    @property
    def origin(self) -> str:
        return "bundled" if self.bundled else "user"

    @property
    def status(self) -> str:
        """``bundled``/``user`` plus shadowing, e.g. ``user, shadows bundled``."""
        if self.shadowed:
            return "bundled, shadowed by user"
        if self.shadows:
            return "user, shadows bundled"
        return self.origin

    @property
    def broken(self) -> bool:
        return self.error is not None


def _entries(folder: Path, bundled: bool) -> list[PresetEntry]:
    try:
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    except OSError:
        return []
    out = []
    for path in paths:
        if path.name.startswith(".") or not path.is_file():
            continue
        name = path.stem
        if not is_valid_name(name):
            problem = "the file name is not a valid preset name (letters, digits, '-', '_', '.'); rename it"
            out.append(PresetEntry(name, path, bundled, error=f"{path}: {problem}"))
            continue
        try:
            exp = load_file(path)
        except ConfigError as exc:
            out.append(PresetEntry(name, path, bundled, error=str(exc)))
        else:
            out.append(PresetEntry(name, path, bundled, exp.description, experiment=exp))
    return out


def list_presets(user: str | os.PathLike[str] | None = None) -> list[PresetEntry]:
    """Bundled presets first, then the user's; broken files are listed with their error.

    Shadowing is marked: a bundled entry whose name a user preset also has is
    ``shadowed`` (loading by name gives the user's), and that user entry ``shadows``.
    """
    bundled = _entries(bundled_dir(), True)
    user_entries = _entries(user_dir(user), False)
    user_names = {e.name for e in user_entries}
    bundled_names = {e.name for e in bundled}
    return [dataclasses.replace(e, shadowed=e.name in user_names) for e in bundled] + [
        dataclasses.replace(e, shadows=e.name in bundled_names) for e in user_entries
    ]


def find(name_or_path: str, user: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a preset name (user presets shadow bundled ones) or a path."""
    as_path = Path(name_or_path).expanduser()
    if name_or_path.endswith(".toml") or os.sep in name_or_path or "/" in name_or_path:
        if as_path.is_file():
            return as_path
        raise ConfigError("", "no such preset file", name_or_path)
    if is_valid_name(name_or_path):
        for folder in (user_dir(user), bundled_dir()):
            candidate = folder / f"{name_or_path}.toml"
            if candidate.is_file():
                return candidate
    known = ", ".join(e.name for e in list_presets(user))
    raise ConfigError("", f"no preset named {name_or_path!r}; known presets: {known}", name_or_path)


def load(name_or_path: str, user: str | os.PathLike[str] | None = None) -> Experiment:
    """Load a preset by name or path; raises ``ConfigError`` with the file named."""
    return load_file(find(name_or_path, user))


def is_bundled(name: str) -> bool:
    """True when a bundled preset of this name exists."""
    return is_valid_name(name) and (bundled_dir() / f"{name}.toml").is_file()


# --------------------------------------------------------------------------- writing

def user_preset_path(name: str, user: str | os.PathLike[str] | None = None) -> Path:
    """Where the user preset ``name`` lives; raises ``ConfigError`` if writing there is unsafe.

    Refused: an invalid name; a user folder that is (or lies inside) the bundled
    folder; a path whose resolved target (following links) is not directly
    inside the user folder; a path that is a folder.
    """
    check_name(name)
    folder = user_dir(user)
    real_folder = folder.resolve()
    bundled = bundled_dir().resolve()
    if real_folder == bundled or bundled in real_folder.parents:
        raise ConfigError("", "is the bundled presets folder; bundled presets are read-only, "
                              "choose another folder for user presets", str(folder))
    path = folder / f"{name}.toml"
    target = path.resolve()
    if target.parent != real_folder:
        raise ConfigError("", f"refusing to write or delete through a link that leads outside "
                              f"the presets folder (to {target})", str(path))
    if path.is_dir():
        raise ConfigError("", "is a folder, not a preset file", str(path))
    return path


def user_preset_exists(name: str, user: str | os.PathLike[str] | None = None) -> bool:
    """True when the user folder holds a preset file (or link) of this name."""
    if not is_valid_name(name):
        return False
    path = user_dir(user) / f"{name}.toml"
    return path.is_file() or path.is_symlink()


def user_preset_problem(name: str, user: str | os.PathLike[str] | None = None) -> str | None:
    """Why the existing user preset ``name`` does not load (a hand-broken file), or
    None when it loads or does not exist; saving over it would discard the file."""
    if not user_preset_exists(name, user):
        return None
    try:
        load_file(user_dir(user) / f"{name}.toml")
    except ConfigError as exc:
        return str(exc)
    return None


def save_preset(
    exp: Experiment,
    name: str,
    user: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``exp`` as the user preset ``name`` (its ``name`` field set to ``name``).

    Every key is written, so the file reproduces the run; a relative data
    path is made absolute when the file moves away from its data (see
    ``anchor_data_path``).  Raises
    ``PresetExistsError`` when the user preset exists and ``overwrite`` is
    false, ``ConfigError`` when the name or the target is unsafe or the write
    fails.  Returns the written path.
    """
    path = user_preset_path(name, user)
    folder = str(path.parent.absolute())
    exp = dataclasses.replace(anchor_data_path(exp, folder), name=name, source_dir=folder)
    text = to_toml(exp)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError("", f"cannot be saved: text that is not valid Unicode ({exc.reason})", str(path)) from None
    if parse_toml(text, str(path)) != exp:  # pragma: no cover - a guard on exactness
        raise ConfigError("", "cannot be saved exactly (the written file would load differently)", str(path))
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise PresetExistsError("", f"a user preset named {name!r} exists; overwrite it explicitly", str(path))
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ConfigError("", f"cannot write: {exc.strerror or exc}", str(path)) from None
    return path


def anchor_data_path(exp: Experiment, folder: str | os.PathLike[str]) -> Experiment:
    """``exp`` as it must be written into ``folder`` to read the same data file.

    A relative ``data.path`` of a file data set resolves against the folder
    its preset came from (``source_dir``; the working folder when it has
    none).  Written elsewhere it would name another file, so it becomes
    absolute; in the same folder, or already absolute (``~`` included), it is
    kept as written.
    """
    d = exp.data
    if d.dataset not in DATASETS_FILE or not d.path.strip() or expand_home(d.path).is_absolute():
        return exp
    if Path(exp.source_dir or ".").absolute() == Path(folder).absolute():
        return exp
    return absolute_data_path(exp)


def delete_preset(name: str, user: str | os.PathLike[str] | None = None) -> Path:
    """Delete the user preset ``name``; bundled presets cannot be deleted.

    Raises ``ConfigError`` for an unknown name, a bundled-only name, or an
    unsafe target.  Returns the deleted path.
    """
    check_name(name)
    if not user_preset_exists(name, user):
        if is_bundled(name):
            raise ConfigError("", f"{name!r} is a bundled preset; bundled presets are read-only and cannot be deleted")
        raise ConfigError("", f"no user preset named {name!r} in {user_dir(user)}")
    path = user_preset_path(name, user)
    try:
        path.unlink()
    except OSError as exc:
        raise ConfigError("", f"cannot delete: {exc.strerror or exc}", str(path)) from None
    return path


def suggest_name(current: str, user: str | os.PathLike[str] | None = None) -> str:
    """A name to propose when saving an experiment called ``current``.

    Invalid characters become ``-``.  A bundled name is never proposed as is:
    ``NAME-copy`` (or ``NAME-copy-2``, ...) is, the first one that is free, so a
    bundled preset is neither modified nor shadowed by accident.
    """
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", re.sub(r"(?i)\.toml$", "", current.strip()))
    base = re.sub(r"\.{2,}", ".", base).lstrip(".-")[:54].rstrip(".-") or "untitled"
    if not is_bundled(base):
        return base
    candidate, n = f"{base}-copy", 2
    while is_bundled(candidate) or user_preset_exists(candidate, user):
        candidate, n = f"{base}-copy-{n}", n + 1
    return candidate


def summary_lines(exp: Experiment) -> list[str]:
    """A compact, plain-text account of what a preset sets (for previews)."""
    d, m, t = exp.data, exp.model, exp.train
    if d.dataset in DATASETS_FILE:
        data = f"{d.dataset} file {d.path}, " + (f"{d.n_train} train" if d.n_train else "every row")
        data += f" / {d.n_val} val" if d.n_val else " / automatic val"
        if d.task != "auto":
            data += f", {d.task}"
    else:
        data = f"{d.dataset}, {d.n_train} train / {d.n_val} val"
    if d.dataset == "regression":
        data += f", {d.n_features} features"
    if d.dataset in DATASETS_2D:
        data += f", noise {d.noise:g}"
    if d.label_noise and d.dataset != "regression":
        data += f", label noise {d.label_noise:g}"
    data += f", seed {d.seed}" + ("" if d.standardize else ", not standardized")
    hidden = "-".join(str(w) for w in m.hidden) or "none (linear)"
    optim = f"{t.optimizer}, lr {t.lr:g}"
    if t.optimizer == "sgd" and t.momentum:
        optim += f", momentum {t.momentum:g}"
    optim += f", batch {t.batch_size}, {t.epochs} epochs, seed {t.seed}"
    if t.seeds > 1:
        optim += f" (×{t.seeds} seeds)"
    optim += f", device {t.device}"
    lines = [f"data      {data}", f"model     hidden {hidden}, {m.activation}", f"train     {optim}",
             f"variants  {len(exp.variants)}"]
    width = max(len(v.name) for v in exp.variants)
    for v in exp.variants:
        text = v.describe() + (" (biases too)" if v.l2_biases and not v.is_baseline else "")
        lines.append(f"  {v.name.ljust(width)}  {text}")
    if t.schedule:
        lines.append("schedule  " + ", ".join(f"lr {c.lr:g} from epoch {c.epoch}" for c in t.schedule))
    for axis in exp.sweep:
        lines.append(f"sweep     {axis.key}: {', '.join(f'{x:g}' for x in axis.values)}")
    return lines
