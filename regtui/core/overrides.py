"""``--set`` overrides: ``KEY=VALUE`` assignments applied to an ``Experiment``.

``train.epochs=5``, ``model.hidden=[32]``, ``data.dataset=circles`` (a bare
word is a string) and ``variants.NAME.KEY=VALUE`` (NAME may hold ``.`` or
``=``, as in ``λ=3``).  Values are TOML; the result is validated like a preset,
and every mistake is a one-line ``ConfigError`` with ``source`` (``--set``).
Imports only the standard library and the config.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from regtui.core.config import ConfigError, Experiment
from regtui.core.schema import experiment_from_dict, experiment_to_dict


def parse_assignment(text: str, variant_names: Iterable[str] = ()) -> tuple[list[str], Any]:
    """Split ``a.b.c=VALUE``; VALUE is TOML (``5``, ``[32]``, ``"x"``) or a bare word.

    ``variants.NAME.KEY=VALUE`` matches the longest of ``variant_names`` first, so
    names holding ``.`` or ``=`` (``λ=3``, ``p=0.5``) can be addressed."""
    if "=" not in text:
        raise ConfigError(text, "an override must look like KEY=VALUE, e.g. train.epochs=5")
    for name in sorted(variant_names, key=len, reverse=True):
        prefix = f"variants.{name}."
        if text.startswith(prefix) and "=" in text[len(prefix):]:
            field_name, _, value_text = text[len(prefix):].partition("=")
            return ["variants", name, field_name.strip()], _parse_value(value_text)
    key, _, value_text = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ConfigError(key, "an override key must be dotted names, e.g. variants.L2.l2")
    return parts, _parse_value(value_text)


def _parse_value(value_text: str) -> Any:
    value_text = value_text.strip()
    try:
        return tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        return value_text  # a bare word such as moons
    except RecursionError:  # [[[[...]]]]: tomllib parses nesting recursively
        raise ConfigError("", "malformed value: arrays or tables nested too deeply to read") from None


def with_overrides(exp: Experiment, assignments: Iterable[str], source: str = "--set") -> Experiment:
    """Apply ``--set`` assignments; ``variants.NAME.key`` addresses a variant by name."""
    raw = experiment_to_dict(exp, full=False)
    for text in assignments:
        try:
            parts, value = parse_assignment(text, [v["name"] for v in raw["variants"]])
            _assign(raw, parts, value)
        except ConfigError as exc:
            raise exc.with_source(source) from None
    try:
        changed = experiment_from_dict(raw)
    except ConfigError as exc:
        raise exc.with_source(source) from None
    return dataclasses.replace(changed, source_dir=exp.source_dir)  # relative data paths keep their anchor


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
