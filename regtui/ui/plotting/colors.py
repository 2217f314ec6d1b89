"""Variant colours: one colour per variant, the same in charts, table and config.

Okabe–Ito colours (readable for colour-blind users), ordered so the first four
stay distinct on dark and light themes.  Imports nothing from the UI.
"""

from __future__ import annotations

COLORS: tuple[str, ...] = (
    "#56B4E9",  # sky blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#999999",  # grey
)

TRAIN_GREY = "#8a8a8a"
"""The training curve in a per-variant chart (validation gets the variant's colour)."""


def color_hex(index: int) -> str:
    """The variant's colour as ``#rrggbb`` (Rich / Textual)."""
    return COLORS[index % len(COLORS)]


def color_rgb(index: int) -> tuple[int, int, int]:
    """The variant's colour as an RGB tuple (plotext)."""
    return hex_to_rgb(color_hex(index))


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
