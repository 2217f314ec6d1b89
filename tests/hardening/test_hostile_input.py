"""Hostile input: any preset text and any ``--set`` either loads or gives one clear
line naming the key — never a traceback, never a hang (README: "What regtui promises").
"""

from __future__ import annotations

import math
import string
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.cli import main
from regtui.core import presets
from regtui.core.config import ConfigError, DataConfig, Experiment, ModelConfig, TrainConfig, VariantConfig
from regtui.core.overrides import with_overrides
from regtui.core.schema import experiment_from_dict

KNOWN_KEYS = {
    "data": [f for f in DataConfig.__dataclass_fields__],
    "model": [f for f in ModelConfig.__dataclass_fields__],
    "train": [f for f in TrainConfig.__dataclass_fields__],
    "variants": [f for f in VariantConfig.__dataclass_fields__],
}

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e-300, 1e300, 0.999999, 1.0, 2, 10**12]),
    st.text(max_size=12),
    st.sampled_from(["", "moons", "relu", "adam", "cuda", "λ", "../x", "\x00", "ü" * 50]),
    st.booleans(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(string.ascii_letters, max_size=6), inner, max_size=3)),
    max_leaves=12)


@st.composite
def raw_presets(draw: st.DrawFn) -> dict:
    """Mostly-plausible preset dicts: real keys with wrong or extreme values, some unknown keys."""
    raw: dict = {}
    for section in ("data", "model", "train"):
        if draw(st.booleans()):
            keys = draw(st.lists(st.one_of(st.sampled_from(KNOWN_KEYS[section]), st.text(max_size=8)),
                                 max_size=4))
            raw[section] = {k: draw(values) for k in keys}
    if draw(st.booleans()):
        tables = []
        for _ in range(draw(st.integers(0, 4))):
            keys = draw(st.lists(st.sampled_from(KNOWN_KEYS["variants"]), max_size=4))
            tables.append({k: draw(values) for k in keys})
        raw["variants"] = draw(st.one_of(st.just(tables), values))
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.text(max_size=6))] = draw(values)
    return raw


def _one_line_naming_a_key(exc: ConfigError) -> None:
    text = str(exc)
    assert "\n" not in text.strip(), text
    assert "Traceback" not in text
    assert exc.key or "TOML" in text or "table" in text, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_presets())
def test_any_preset_dict_loads_or_names_the_key(raw: dict) -> None:
    try:
        exp = experiment_from_dict(raw)
    except ConfigError as exc:
        _one_line_naming_a_key(exc)
    else:
        assert isinstance(exp, Experiment)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_fails_in_one_line(text: str) -> None:
    try:
        presets.parse_toml(text, "random.toml")
    except ConfigError as exc:
        assert str(exc).startswith("random.toml: ")
        assert "\n" not in str(exc).strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_presets())
def test_written_presets_round_trip_through_toml(raw: dict) -> None:
    """The same dicts, written as real TOML files (NaN/inf included), behave the same:
    the same experiment, or refused with a one-line error naming a key."""
    try:
        text = tomli_w.dumps(raw)
    except (TypeError, ValueError):  # not representable in TOML (e.g. mixed arrays): nothing to test
        return
    try:
        direct: Experiment | ConfigError = experiment_from_dict(raw)
    except ConfigError as exc:
        direct = exc
    try:
        written: Experiment | ConfigError = presets.parse_toml(text, "p.toml")
    except ConfigError as exc:
        _one_line_naming_a_key(exc)
        written = exc
    if isinstance(direct, ConfigError):
        # refused both ways (which bad key is named first may differ: TOML writes a
        # table's plain keys before its sub-tables, so the order of keys changes)
        assert isinstance(written, ConfigError), (direct, text)
        assert written.source == "p.toml"
    else:
        assert written == direct, text


assignments = st.tuples(
    st.one_of(st.sampled_from([
        "train.epochs", "train.lr", "model.hidden", "data.dataset", "data.n_train", "variants.L2.l2",
        "variants.Dropout.dropout", "variants.nope.l2", "train", "x.y.z.w", "variants.L2", "", ".",
    ]), st.text(max_size=10)),
    st.one_of(st.sampled_from(["5", "-1", "nan", "inf", "1e400", "[32]", "[]", "[0]", '"x"', "moons", "", "[1, [2]]",
                               "true", "{a = 1}", "0.5", "1.0", "9" * 40]), st.text(max_size=10)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(assignments, min_size=1, max_size=3))
def test_any_set_override_applies_or_names_the_key(items: list[tuple[str, str]]) -> None:
    exp = presets.load("moons-overfit")
    try:
        out = with_overrides(exp, [f"{k}={v}" for k, v in items])
    except ConfigError as exc:
        assert str(exc).startswith("--set: ")
        assert "\n" not in str(exc).strip()
    else:
        for value in (out.train.lr, out.data.noise):
            assert math.isfinite(value)


@pytest.mark.parametrize("override", [
    "train.lr=nan", "train.epochs=1e400", "variants.L2.l2=-1", "variants.Dropout.dropout=1",
    "model.hidden=[0]", "data.n_train=1", "train.batch_size=99999999999999999999", "model.hidden=[1, [2]]",
])
def test_regtui_run_rejects_bad_overrides_with_exit_2_and_one_line(
        override: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "moons-overfit", "--no-history", "--quiet", "--set", override])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("regtui run: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_a_malformed_preset_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    text = "[data]\ndataset = 'moons'\nn_train = 'many'\n"
    bad.write_text(text)
    assert main(["run", str(bad), "--no-history", "--quiet"]) == 2
    assert "data.n_train" in capsys.readouterr().err
    assert bad.read_text() == text
