"""Side-by-side grids: how many columns the per-variant charts get, and filling
a grid with one cell per variant (the loss charts, the decision-map and the
weight views)."""

from __future__ import annotations

from typing import Sequence

from textual.containers import Grid
from textual.widget import AwaitMount, Widget


def grid_columns(n: int) -> int:
    """Columns of the per-variant grid: 2×2 for four, 3 wide for five to nine."""
    if n <= 2:
        return max(1, n)
    if n <= 4:
        return 2
    if n <= 9:
        return 3
    return 4


def fill_row_grid(grid: Grid, cells: Sequence[Widget], max_columns: int = 4) -> AwaitMount:
    """Replace ``grid``'s children by ``cells``, up to ``max_columns`` a row (the
    decision-map and weight views put every variant side by side this way); await
    the result to wait until the cells are mounted."""
    grid.remove_children()
    columns = max(1, min(len(cells), max_columns))
    grid.styles.grid_size_columns = columns
    grid.styles.grid_size_rows = max(1, -(-len(cells) // columns))
    return grid.mount(*cells)
