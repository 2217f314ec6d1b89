"""Preset files: TOML in, ``Experiment`` out, and back; where presets live.

Bundled presets ship read-only inside the package (``regtui/presets`` in a
wheel, the repository's top-level ``presets/`` in a checkout).  User presets
live in the platform's user config folder, overridden by
``REGTUI_PRESETS_DIR``.  Nothing in a preset is ever executed; writes are
atomic (temporary file + rename).  ``--set`` overrides are applied here too.

Imports only the standard library, tomli-w and platformdirs.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from regtui.core.config import ConfigError, Experiment, experiment_from_dict, experiment_to_dict

DEFAULT_PRESET = "moons-overfit"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
PRESETS_ENV = "REGTUI_PRESETS_DIR"


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


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe preset name, else raise ``ConfigError``."""
    if not NAME_RE.match(name) or ".." in name:
        raise ConfigError(
            "name",
            f"invalid preset name {name!r}: use letters, digits, '-', '_' and '.', "
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
    try:
        return experiment_from_dict(raw)
    except ConfigError as exc:
        raise exc.with_source(source) from None


def load_file(path: str | os.PathLike[str]) -> Experiment:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", "no such preset file", str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot read: {exc}", str(p)) from None
    exp = parse_toml(text, str(p))
    return exp


def to_toml(exp: Experiment) -> str:
    """The whole experiment as TOML: every key, so the file reproduces the run."""
    import tomli_w

    return tomli_w.dumps(experiment_to_dict(exp, full=True))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------- catalogue

@dataclass(frozen=True)
class PresetEntry:
    """One preset file as a listing shows it."""

    name: str
    path: Path
    bundled: bool
    description: str = ""
    error: str | None = None
    """Why the file does not load; None when it is fine."""

    @property
    def origin(self) -> str:
        return "bundled" if self.bundled else "user"


def _entries(folder: Path, bundled: bool) -> list[PresetEntry]:
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith(".") or not path.is_file():
            continue
        name = path.stem
        try:
            exp = load_file(path)
        except ConfigError as exc:
            out.append(PresetEntry(name, path, bundled, error=str(exc)))
        else:
            out.append(PresetEntry(name, path, bundled, exp.description))
    return out


def list_presets(user: str | os.PathLike[str] | None = None) -> list[PresetEntry]:
    """Bundled presets first, then the user's; broken files are listed with their error."""
    return _entries(bundled_dir(), True) + _entries(user_dir(user), False)


def find(name_or_path: str, user: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a preset name (user presets shadow bundled ones) or a path."""
    as_path = Path(name_or_path).expanduser()
    if name_or_path.endswith(".toml") or os.sep in name_or_path or "/" in name_or_path:
        if as_path.is_file():
            return as_path
        raise ConfigError("", "no such preset file", name_or_path)
    if NAME_RE.match(name_or_path) and ".." not in name_or_path:
        for folder in (user_dir(user), bundled_dir()):
            candidate = folder / f"{name_or_path}.toml"
            if candidate.is_file():
                return candidate
    known = ", ".join(e.name for e in list_presets(user))
    raise ConfigError("", f"no preset named {name_or_path!r}; known presets: {known}", name_or_path)


def load(name_or_path: str, user: str | os.PathLike[str] | None = None) -> Experiment:
    """Load a preset by name or path; raises ``ConfigError`` with the file named."""
    return load_file(find(name_or_path, user))


# --------------------------------------------------------------------------- overrides

def parse_assignment(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=VALUE``; VALUE is TOML (``5``, ``[32]``, ``"x"``) or a bare word."""
    if "=" not in text:
        raise ConfigError(text, "an override must look like KEY=VALUE, e.g. train.epochs=5")
    key, _, value_text = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ConfigError(key, "an override key must be dotted names, e.g. variants.L2.l2")
    value_text = value_text.strip()
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text  # a bare word such as moons
    return parts, value


def with_overrides(exp: Experiment, assignments: Iterable[str], source: str = "--set") -> Experiment:
    """Apply ``--set`` assignments; ``variants.NAME.key`` addresses a variant by name."""
    raw = experiment_to_dict(exp, full=False)
    for text in assignments:
        try:
            parts, value = parse_assignment(text)
            _assign(raw, parts, value)
        except ConfigError as exc:
            raise exc.with_source(source) from None
    try:
        return experiment_from_dict(raw)
    except ConfigError as exc:
        raise exc.with_source(source) from None


def _assign(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    key = ".".join(parts)
    if parts[0] == "variants":
        if len(parts) != 3:
            raise ConfigError(key, "address a variant as variants.NAME.KEY, e.g. variants.L2.l2=0.01")
        _, name, field_name = parts
        for table in raw["variants"]:
            if table["name"] == name:
                table[field_name] = value
                return
        names = ", ".join(t["name"] for t in raw["variants"])
        raise ConfigError(key, f"no variant named {name!r}; variants are: {names}")
    if len(parts) == 1:
        raw[parts[0]] = value
    elif len(parts) == 2:
        table = raw.setdefault(parts[0], {})
        if not isinstance(table, dict):
            raise ConfigError(key, f"{parts[0]} is not a table")
        table[parts[1]] = value
    else:
        raise ConfigError(key, "too many dots; keys look like train.epochs or variants.L2.l2")
