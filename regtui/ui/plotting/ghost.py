"""The ghost: a past run drawn dimmed under the live curves, variant by variant.

``ghost_curves(ghost, name, metric, index)`` gives the ``(x, y, rgb)`` curve
of the ghost run's variant called ``name`` (none when the ghost has no such
variant), in the live variant's colour blended toward the background, so
"did raising λ help compared with yesterday?" is one glance.  The charts
(``regtui.ui.widgets.loss_charts``) plot these first, under the live series.  Imports
numpy and the palette only.
"""

from __future__ import annotations

import numpy as np

from regtui.core.results import RunHistory
from regtui.ui.plotting.colors import color_rgb

DIM = 0.4
"""How much of the variant's colour a ghost keeps (the rest is the background)."""
BACKGROUND = (30, 30, 30)

Curve = tuple[np.ndarray, np.ndarray, tuple[int, int, int]]


def dim(rgb: tuple[int, int, int], keep: float = DIM) -> tuple[int, int, int]:
    """``rgb`` blended toward the dark background."""
    return tuple(round(keep * c + (1 - keep) * b) for c, b in zip(rgb, BACKGROUND))  # type: ignore[return-value]


def ghost_curves(ghost: RunHistory | None, name: str, metric: str, index: int) -> tuple[Curve, ...]:
    """The ghost's ``metric`` curve for the variant ``name``, dimmed (empty if none)."""
    if ghost is None:
        return ()
    for hist in ghost.variants:
        if hist.name == name and len(hist):
            return ((hist.series("epoch"), hist.series(metric), dim(color_rgb(index))),)
    return ()
