"""Parsing and stepping of config fields (no app)."""

from __future__ import annotations

import pytest

from regtui.ui.widgets.config.fields import LADDER, FieldError, ladder_step, p_step, parse_float, parse_hidden, parse_int


def test_ladder_walks_up_and_down() -> None:
    value, seen = 0.0, []
    for _ in range(len(LADDER) + 2):
        value = ladder_step(value, up=True)
        seen.append(value)
    assert seen[:4] == [1e-5, 3e-5, 1e-4, 3e-4]
    assert seen[-1] == 10.0
    assert ladder_step(1e-3, up=False) == 3e-4
    assert ladder_step(0.0, up=False) == 0.0
    assert ladder_step(2e-3, up=True) == 3e-3  # off-ladder values snap to the next rung
    assert ladder_step(2e-3, up=False) == 1e-3


def test_p_steps_by_005_within_0_095() -> None:
    assert p_step(0.5, up=True) == 0.55
    assert p_step(0.5, up=False) == 0.45
    assert p_step(0.0, up=False) == 0.0
    assert p_step(0.95, up=True) == 0.95
    assert p_step(0.33, up=True) == 0.35
    assert p_step(1.0, up=False) == 0.95


def test_parsers() -> None:
    assert parse_int(" 40 ") == 40
    assert parse_int("1e3") == 1000
    assert parse_float("3e-4") == 3e-4
    assert parse_hidden("128, 64") == (128, 64)
    assert parse_hidden("") == ()
    for bad, parser in (("abc", parse_int), ("1.5", parse_int), ("x", parse_float), ("nan", parse_float),
                        ("12, x", parse_hidden)):
        with pytest.raises(FieldError):
            parser(bad)
