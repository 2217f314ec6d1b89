"""Experiment <-> plain dicts (parsed TOML / JSON), strictly.

``experiment_from_dict`` builds an ``Experiment`` from parsed TOML: an
unknown key, a wrong type or a non-finite number is a ``ConfigError`` naming
the key; ``experiment_to_dict`` writes every key back (or only non-defaults).
Standard library only.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import fields
from typing import Any, Mapping

from regtui.core.config import (
    DATASETS_FILE, SCHEDULE_VARIANT_KEYS, Claim, DataConfig, EngineConfig, Experiment, LrChange, ModelConfig, SweepAxis,
    TrainConfig, VariantChange, VariantConfig, _check,
)

_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "engine": EngineConfig}


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(type(value), type(value).__name__)


def _coerce(value: Any, default: Any, key: str) -> Any:
    """Return ``value`` as the type of ``default`` or raise ``ConfigError``."""
    if key.endswith("_layers"):  # variants.*.l2_layers, weight_decay_layers: a name or layer indices
        if isinstance(value, str):
            return value
        _check(isinstance(value, (list, tuple)), key, f"must be all, hidden or a list of layer indices, got {value!r}")
        for i, item in enumerate(value):
            ok = isinstance(item, int) and not isinstance(item, bool)
            _check(ok, f"{key}[{i}]", f"a layer index must be an integer, got {item!r}")
        return tuple(value)
    if isinstance(default, bool):
        _check(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        _check(isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _check(ok, key, f"must be a number, got {value!r}")
        _check(math.isfinite(value), key, f"must be a finite number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        _check(isinstance(value, str), key, f"must be a string, got {value!r}")
        return value
    if isinstance(default, tuple) and key.endswith("features"):  # data.features
        _check(isinstance(value, (list, tuple)), key, f"must be a list of column names, got {value!r}")
        for i, item in enumerate(value):
            _check(isinstance(item, str), f"{key}[{i}]", f"must be a string, got {item!r}")
        return tuple(value)
    if isinstance(default, tuple):  # model.hidden
        _check(isinstance(value, (list, tuple)), key, f"must be a list of integers, got {value!r}")
        out = []
        for i, item in enumerate(value):
            ok = isinstance(item, int) and not isinstance(item, bool)
            _check(ok, f"{key}[{i}]", f"must be an integer, got {item!r}")
            out.append(item)
        return tuple(out)
    raise AssertionError(f"no coercion for {key}")  # pragma: no cover


def _build(cls: type, table: Any, prefix: str) -> Any:
    _check(isinstance(table, Mapping), prefix, f"must be a table, got {_type_name(table)}")
    defaults = cls()
    names = {f.name for f in fields(cls)}
    kwargs = {}
    for key, value in table.items():
        full = f"{prefix}.{key}"
        _check(key in names, full, f"unknown key {key!r}; expected one of {', '.join(sorted(names))}")
        if key == "schedule":
            kwargs[key] = _build_schedule(value, full, LrChange if cls is TrainConfig else VariantChange)
        else:
            kwargs[key] = _coerce(value, getattr(defaults, key), full)
    return cls(**kwargs)


_SCHEDULE_HINT = {
    LrChange: "[[train.schedule]] changes lr (l2, weight_decay, dropout and input_dropout "
              "are changed per variant, in [[variants.schedule]])",
    VariantChange: "[[variants.schedule]] changes " + ", ".join(SCHEDULE_VARIANT_KEYS)
                   + " (lr is changed for every variant, in [[train.schedule]])",
}


def _build_schedule(items: Any, key: str, cls: type) -> tuple[Any, ...]:
    """``[[train.schedule]]`` or ``[[variants.schedule]]``: tables with an epoch and knobs."""
    table_name = "[[train.schedule]]" if cls is LrChange else "[[variants.schedule]]"
    _check(isinstance(items, (list, tuple)), key, f"must be an array of tables ({table_name} with epoch = …)")
    knobs = [f.name for f in fields(cls) if f.name != "epoch"]
    out = []
    for i, table in enumerate(items):
        where = f"{key}[{i}]"
        _check(isinstance(table, Mapping), where, "must be a table with epoch and the values to change")
        for name in table:
            _check(name == "epoch" or name in knobs, f"{where}.{name}", f"unknown key {name!r}; {_SCHEDULE_HINT[cls]}")
        _check("epoch" in table, f"{where}.epoch", "missing: the epoch from whose start the change applies")
        values = {"epoch": _coerce(table["epoch"], 0, f"{where}.epoch")}
        values |= {name: _coerce(v, 0.0, f"{where}.{name}") for name, v in table.items() if name != "epoch"}
        out.append(cls(**values))
    return tuple(out)


def _schedule_to_list(entries: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{f.name: getattr(e, f.name) for f in fields(e) if getattr(e, f.name) is not None} for e in entries]


def _build_variant(table: Any, index: int) -> VariantConfig:
    label = f"variants[{index}]"
    _check(isinstance(table, Mapping), label, "must be a table ([[variants]])")
    name = table.get("name", f"variant{index + 1}")
    _check(isinstance(name, str), f"{label}.name", f"must be a string, got {name!r}")
    return _build(VariantConfig, {**table, "name": name}, f"variants.{name}" if name else label)


def experiment_from_dict(raw: Mapping[str, Any]) -> Experiment:
    """Strictly build an ``Experiment`` from parsed TOML; raises ``ConfigError``."""
    _check(isinstance(raw, Mapping), "", "the top level must be a table")
    allowed = {"name", "description", "data", "model", "train", "variants", "sweep", "claims", "engine"}
    for key in raw:
        _check(key in allowed, str(key) or repr(key), f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}")
    kwargs: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in raw:
            kwargs[key] = _coerce(raw[key], "", key)
    for section, cls in _SECTIONS.items():
        if section in raw:
            kwargs[section] = _build(cls, raw[section], section)
    data = kwargs.get("data")
    if data is not None and data.dataset in DATASETS_FILE:  # a file: every row unless sizes are given
        sizes = {k: 0 for k in ("n_train", "n_val") if k not in raw["data"]}
        kwargs["data"] = dataclasses.replace(data, **sizes)
    if "variants" in raw:
        items = raw["variants"]
        _check(isinstance(items, list), "variants", "must be an array of tables ([[variants]])")
        _check(len(items) >= 1, "variants", "needs at least one [[variants]] table")
        kwargs["variants"] = tuple(_build_variant(t, i) for i, t in enumerate(items))
    if "sweep" in raw:
        kwargs["sweep"] = _build_sweep(raw["sweep"])
    if "claims" in raw:
        names = [v.name for v in kwargs.get("variants", Experiment().variants)]
        kwargs["claims"] = _build_claims(raw["claims"], names)
    return Experiment(**kwargs)


def _build_claims(items: Any, names: list[str]) -> tuple[Claim, ...]:
    """``[[claims]]`` tables: ``better`` (variant names) + ``than`` (a name) + optional
    ``by``, or ``overfit`` (variant names) alone."""
    _check(isinstance(items, list), "claims", "must be an array of tables ([[claims]] with better and than)")
    claims = []
    for i, table in enumerate(items):
        label = f"claims[{i}]"
        _check(isinstance(table, Mapping), label, "must be a table with better and than, or overfit")
        extra = sorted(set(table) - {"better", "than", "by", "overfit"})
        _check(not extra, f"{label}.{extra[0] if extra else ''}",
               f"unknown key {extra[0] if extra else ''!r}; expected better, than, by, overfit")
        lists = {}
        for key in ("better", "overfit"):
            value = table.get(key, [])
            _check(isinstance(value, list) and all(isinstance(b, str) for b in value), f"{label}.{key}",
                   f"must be a list of variant names, got {value!r}")
            lists[key] = tuple(value)
        than = table.get("than", "")
        _check(isinstance(than, str), f"{label}.than", f"must be a variant name, got {than!r}")
        by = _coerce(table.get("by", ""), "", f"{label}.by")
        named = [("better", b) for b in lists["better"]] + ([("than", than)] if than else []) + \
            [("overfit", o) for o in lists["overfit"]]
        for key, name in named:
            _check(name in names, f"{label}.{key}", f"no variant named {name!r}; variants are: {', '.join(names)}")
        claims.append(Claim(lists["better"], than, by, lists["overfit"]))  # its shape: config.validate
    return tuple(claims)


def _build_sweep(items: Any) -> tuple[SweepAxis, ...]:
    _check(isinstance(items, list), "sweep", "must be an array of tables ([[sweep]] with key and values)")
    axes = []
    for i, table in enumerate(items):
        label = f"sweep[{i}]"
        _check(isinstance(table, Mapping), label, "must be a table with key and values")
        extra = set(table) - {"key", "values"}
        _check(not extra, f"{label}.{next(iter(extra), '')}", f"unknown key {next(iter(extra), '')!r}; expected key, values")
        _check("key" in table and isinstance(table["key"], str), f"{label}.key", "must be a string such as variants.L2.l2")
        values = table.get("values")
        _check(isinstance(values, list), f"sweep.{table['key']}.values", "must be a list of numbers")
        axes.append(SweepAxis(table["key"], tuple(_coerce(v, 0.0, f"sweep.{table['key']}.values") for v in values)))
    return tuple(axes)


def experiment_to_dict(exp: Experiment, *, full: bool = True) -> dict[str, Any]:
    """A TOML/JSON-ready dict; ``full=False`` drops values equal to the defaults."""
    out: dict[str, Any] = {"name": exp.name, "description": exp.description}
    for section in _SECTIONS:
        obj = getattr(exp, section)
        table = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            sizes_of_a_file = section == "data" and f.name in ("n_train", "n_val") and exp.data.dataset in DATASETS_FILE
            if full or value != f.default or sizes_of_a_file:  # a file's left-out sizes mean 0, not the default
                if f.name == "schedule":
                    value = _schedule_to_list(value)
                table[f.name] = list(value) if isinstance(value, tuple) else value
        if table:
            out[section] = table
    variants = []
    for v in exp.variants:
        table = {"name": v.name}
        for f in fields(v):
            value = getattr(v, f.name)
            if f.name != "name" and (full or value != f.default):
                table[f.name] = _schedule_to_list(value) if f.name == "schedule" else (
                    list(value) if isinstance(value, tuple) else value)
        variants.append(table)
    out["variants"] = variants
    if exp.sweep:
        out["sweep"] = [{"key": a.key, "values": list(a.values)} for a in exp.sweep]
    if exp.claims:
        out["claims"] = [{"overfit": list(c.overfit)} if c.overfit else
                         {"better": list(c.better), "than": c.than} | ({"by": c.by} if c.by else {})
                         for c in exp.claims]
    return out


