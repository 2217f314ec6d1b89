"""The decision-boundary view (``b``): one map per variant, side by side.

``BoundaryMap`` draws a ``DecisionMap`` (``regtui.core.insight``, computed in the
worker) with half-block cells: ``▀`` with the upper pixel as foreground and the
lower as background, so a cell holds two pixels.  A pixel's hue is the
predicted class, its strength the confidence (dark along the boundary).
Training points sit on top as ``●`` (right) or ``✕`` (misclassified) in a light
shade of their true class.  ``BoundaryView`` holds the maps, their titles and
the legend, and tells the worker (``session.InsightAsk``) the grid size it draws at.
Imports no torch: the maps arrive as numpy in ``InsightReady``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.strip import Strip
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from regtui.ui.plotting.colors import color_hex, hex_to_rgb
from regtui.ui.widgets.row_grid import fill_row_grid

CLASS_COLORS: tuple[str, ...] = ("#F28E2B", "#4E79A7", "#59A14F", "#E15759", "#B07AA1", "#EDC948",
                                 "#76B7B2", "#FF9DA7", "#9C755F", "#BAB0AC")
"""Class colours (class 0 orange, class 1 blue, as in TensorFlow Playground)."""
DARK = np.array([28, 28, 28], dtype=np.float64)
"""What an undecided pixel fades to."""
MAX_COLUMNS = 4


def class_rgb(n: int) -> np.ndarray:
    return np.array([hex_to_rgb(CLASS_COLORS[i % len(CLASS_COLORS)]) for i in range(n)], dtype=np.float64)


def pixels(prob: np.ndarray, label: np.ndarray, n_classes: int, width: int, height: int) -> np.ndarray:
    """``[height, width, 3]`` RGB of a ``[rows, cols]`` map resampled (nearest) to the
    pixel grid, top row first (the map's row 0 is the bottom)."""
    rows, cols = prob.shape
    ci = np.minimum(((np.arange(width) + 0.5) * cols / width).astype(int), cols - 1)
    ri = rows - 1 - np.minimum(((np.arange(height) + 0.5) * rows / height).astype(int), rows - 1)
    p, lab = prob[np.ix_(ri, ci)], label[np.ix_(ri, ci)]
    if n_classes == 2:  # prob is P(class 1)
        confidence = np.abs(2 * p - 1)
    else:  # prob is the predicted class's probability
        confidence = np.clip((p - 1 / n_classes) / (1 - 1 / n_classes), 0, 1)
    strength = (0.15 + 0.6 * confidence)[..., None]
    return DARK + (class_rgb(n_classes)[lab] - DARK) * strength


class BoundaryMap(Widget):
    """One variant's map, drawn from numpy at the widget's size."""

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.map: tuple[np.ndarray, ...] | None = None
        self._strips: list[Strip] | None = None
        self._styles: dict[tuple[Any, ...], Style] = {}

    def set_map(self, prob: np.ndarray, label: np.ndarray, n_classes: int, points: np.ndarray,
                targets: np.ndarray, wrong: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
        self.map = (prob, label, np.array(n_classes), points, targets, wrong, xs, ys)
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        self._strips = None

    def cells(self) -> list[list[tuple[str, tuple[int, ...], tuple[int, ...]]]]:
        """Per row, per column: (glyph, fg rgb, bg rgb); what ``render_line`` draws."""
        width, height = self.size.width, self.size.height
        if self.map is None or width < 1 or height < 1:
            return []
        prob, label, n_classes, points, targets, wrong, xs, ys = self.map
        n = int(n_classes)
        rgb = pixels(prob, label, n, width, 2 * height).round().astype(int).tolist()
        top, bottom = rgb[0::2], rgb[1::2]
        rows = [[("▀", tuple(top[r][c]), tuple(bottom[r][c])) for c in range(width)] for r in range(height)]
        span_x, span_y = max(xs[-1] - xs[0], 1e-9), max(ys[-1] - ys[0], 1e-9)
        cx = np.clip(((points[:, 0] - xs[0]) / span_x * width).astype(int), 0, width - 1)
        cy = np.clip(((ys[-1] - points[:, 1]) / span_y * height).astype(int), 0, height - 1)
        light = (class_rgb(n) + (255 - class_rgb(n)) * 0.55).round().astype(int).tolist()
        for x, y, t, bad in sorted(zip(cx, cy, targets, wrong), key=lambda p: bool(p[3])):  # ✕ on top
            glyph, fg, bg = rows[y][x]
            mean = tuple((a + b) // 2 for a, b in zip(fg, bg))
            rows[y][x] = ("✕" if bad else "●", tuple(light[int(t) % n]), mean)
        return rows

    def _style(self, fg: tuple[int, ...], bg: tuple[int, ...], bold: bool) -> Style:
        key = (fg, bg, bold)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = Style(color=Color.from_rgb(*fg), bgcolor=Color.from_rgb(*bg), bold=bold)
        return style

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = [Strip([Segment(g, self._style(fg, bg, g == "✕")) for g, fg, bg in row], len(row))
                            for row in self.cells()]
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width)


class BoundaryView(Vertical):
    """Every variant's decision map, the legend, and why a map may be missing.

    The lab mounts it when ``b`` first shows it: until then it only keeps what it was
    handed (the variants, the latest maps), and draws that when mounted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self.wish: Any = None
        """The lab's ``session.InsightAsk``; told the grid size while visible."""
        self.epoch: int | None = None
        self.no_plane = ""
        self._shown: tuple[int, Any, str] | None = None
        """The latest ``show_map`` arguments (drawn again when the view is mounted)."""
        self._ready = False
        """Whether the grid of maps is mounted (until then the view only keeps what it is handed)."""

    def compose(self) -> ComposeResult:
        yield Static(id="boundary-legend")
        yield Static(id="boundary-note")
        yield Grid(id="boundary-grid")

    async def on_mount(self) -> None:
        names = None
        while names != self.names:  # again if set_variants came while the cells were mounting
            names = self.names
            await self._fill_grid()  # the maps exist before the latest ones are drawn in them
        self._ready = True
        self._show_note("")
        self._update_legend()
        if self._shown is not None:
            self.show_map(*self._shown)

    def set_variants(self, names: Sequence[str]) -> None:
        names = tuple(names)
        if names == self.names:
            return
        self.names = names
        self.epoch, self._shown = None, None
        if self._ready:
            self._fill_grid()
            self._show_note("")
            self._update_legend()

    def _fill_grid(self) -> AwaitMount:
        return fill_row_grid(self.query_one("#boundary-grid", Grid),
                             [Vertical(Static(self._title(i, None), classes="map-title"), BoundaryMap(classes="map"),
                                       classes="map-cell") for i in range(len(self.names))], MAX_COLUMNS)

    def maps(self) -> list[BoundaryMap]:
        return list(self.query(BoundaryMap).results(BoundaryMap))

    def grid_size(self) -> tuple[int, int] | None:
        """(cols, rows) of the map grid to ask the worker for: one value per pixel."""
        sizes = [m.size for m in self.maps() if m.size.area > 0]
        if not sizes:
            return None
        return max(s.width for s in sizes), 2 * max(s.height for s in sizes)

    def set_visible(self, visible: bool) -> None:
        self.display = visible
        self._tell_wish()

    def on_resize(self) -> None:
        self._tell_wish()

    def _tell_wish(self) -> None:
        if self.wish is not None:
            self.wish.boundary = (self.grid_size() or (64, 40)) if self.display else None

    def show_map(self, epoch: int, decision_map: Any | None, no_plane: str) -> None:
        """Draw a worker's ``DecisionMap`` (one entry per variant)."""
        self.epoch, self.no_plane = epoch, no_plane
        self._shown = (epoch, decision_map, no_plane)
        if not self._ready:
            return
        if decision_map is None:
            if no_plane:
                self._show_note(f"No decision map: {no_plane}.")
            self._update_legend()
            return
        dm = decision_map
        n_classes = max(2, int(dm.targets.max(initial=0)) + 1, int(dm.label.max(initial=0)) + 1)
        titles = list(self.query(".map-title").results(Static))
        for i, widget in enumerate(self.maps()):
            if i < dm.prob.shape[0]:
                widget.set_map(dm.prob[i], dm.label[i], n_classes, dm.points, dm.targets, dm.wrong[i], dm.xs, dm.ys)
                titles[i].update(self._title(i, int(dm.wrong[i].sum())))
        self._show_note("")
        self._update_legend()
        self.call_after_refresh(self._tell_wish)

    def _title(self, index: int, wrong: int | None) -> Text:
        text = Text(self.names[index], style=f"bold {color_hex(index)}")
        if wrong is not None:
            text.append(f"  ✕{wrong}", style="")
        return text

    def _show_note(self, note: str) -> None:
        label = self.query_one("#boundary-note", Static)
        label.update(note)
        label.display = bool(note)
        self.query_one("#boundary-grid").display = not note

    def _update_legend(self) -> None:
        legend = Text("maps ", style="bold")
        legend.append("■ class 0", style=CLASS_COLORS[0])
        legend.append(" ")
        legend.append("■ class 1", style=CLASS_COLORS[1])
        legend.append(" (dark: unsure) · ● train point ✕ wrong")
        if self.epoch is not None:
            legend.append(f" · ep {self.epoch}")
        elif not self.no_plane:
            legend = Text("maps: r runs the comparison; they appear with its first epoch")
        self.query_one("#boundary-legend", Static).update(legend)
