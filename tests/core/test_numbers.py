"""The one rule for numbers where room is short (regtui/core/numbers.py)."""

from __future__ import annotations

import math

import pytest

from regtui.core.numbers import fixed_width


@pytest.mark.parametrize("value, text", [
    (0.1234567, "0.1235"), (1.72061, "1.7206"), (24.9104, "24.910"), (3.3e-5, "3.3e-5"),
    (0.00012, "1.2e-4"), (0.0012, "0.0012"), (0.0, "0"), (-0.5, "-0.500"), (123456.0, "1.2e5"),
    (None, "–"), (math.nan, "–"), (math.inf, "–"),
])
def test_fixed_width_keeps_significant_digits(value, text) -> None:
    assert fixed_width(value) == text


@pytest.mark.parametrize("value", [3.3e-5, 1e-9, -2e-7, 0.000499, 7.77e-4, 1e30, -1e30])
@pytest.mark.parametrize("width", [5, 6, 8])
def test_no_nonzero_value_reads_as_zero_and_width_holds(value, width) -> None:
    text = fixed_width(value, width)
    assert len(text) <= width
    assert float(text) != 0 and math.copysign(1, float(text)) == math.copysign(1, value)
    assert math.isclose(float(text), value, rel_tol=0.5)


@pytest.mark.parametrize("value, width, text", [
    (9.8e-4, 5, "1e-3"), (9.96e-5, 5, "1e-4"), (-9.8e-4, 6, "-1e-3"), (4.6e-4, 5, "5e-4"), (9.5e5, 4, "1e6"),
])
def test_a_mantissa_rounded_up_moves_the_exponent_not_the_digits(value, width, text) -> None:
    """Rounding 9.8e-4 to one digit is 1e-3, not 10e-4 (seen in the table at 80×24)."""
    assert fixed_width(value, width) == text
