"""The "terminal too small" notice that replaces the lab's layout below its minimum size.

Below ``MIN_WIDTH`` × ``MIN_HEIGHT`` the per-variant charts have no rows left
to plot in (plotext then draws empty boxes with upside-down tick labels) and
the table loses its columns, so the lab screen gets the CSS class ``-too-small``: the
stylesheet hides the layout and shows ``TooSmallNotice`` centred instead,
saying what size is needed and what size there is.  Keys keep working (``q``
quits, a run goes on); growing the terminal brings the layout back as it was.

The minimum was measured in tmux with the default preset (four variants) at
widths 40…80 and heights 12…24: at 20 rows and fewer the top charts of the 2×2
grid lose their last plot row (the table's horizontal scrollbar takes it below
80 columns), below 60 columns the charts are a few dots wide.  Imports Textual
only.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Static

MIN_WIDTH = 60
"""Columns the lab needs (config panel 30 + two charts side by side)."""
MIN_HEIGHT = 21
"""Rows the lab needs (two rows of charts with a plot row each, the table, status, footer)."""
CSS_CLASS = "-too-small"
"""Set on the lab screen while the terminal is smaller than the minimum."""


def is_too_small(size: Size) -> bool:
    return size.width < MIN_WIDTH or size.height < MIN_HEIGHT


def notice_text(size: Size) -> str:
    """What the notice says at ``size``."""
    return (f"terminal too small: need at least {MIN_WIDTH}×{MIN_HEIGHT}, have {size.width}×{size.height}\n\n"
            "enlarge the window (a run goes on meanwhile) · q quits")


class TooSmallNotice(Static):
    """Centred message shown instead of the layout on a too-small terminal."""

    def fit(self, size: Size) -> bool:
        """Follow the terminal's new ``size``; returns whether it is too small
        (the lab screen sets ``CSS_CLASS`` from it)."""
        small = is_too_small(size)
        if small:
            self.update(notice_text(size))
        return small
