"""How regtui writes a number where room is short: tables in the lab and the CLI.

One rule everywhere (docs/semantics.md, "Numbers on screen"): at most ``width``
characters, as many decimals as fit, and never a small value rounded to zero —
``3.3e-5`` stays ``3.3e-5``, not ``0.0000``.  Missing or non-finite values are
``–``.  Plain Python; no UI imports.
"""

from __future__ import annotations

import math


def fixed_width(value: float | None, width: int = 6) -> str:
    """``value`` in at most ``width`` characters, keeping its significant digits."""
    if value is None or not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 10 ** (width - 2):
        for decimals in (4, 3, 2, 1, 0):
            text = f"{value:.{decimals}f}"
            if len(text) <= width and float(text) != 0:  # -0.001 in 5 characters is not "-0"
                return text
    mantissa, exponent = f"{value:.1e}".split("e")
    text = f"{mantissa}e{int(exponent)}"
    if len(text) <= width:
        return text
    mantissa, exponent = f"{value:.0e}".split("e")  # rounded whole: 9.8e-4 is 1e-3, never 10e-4
    return f"{mantissa}e{int(exponent)}"
