"""The App's routes for the *why* views, kept out of ``app.py`` (a mixin of ``RegTuiApp``).

Keys ``b`` (decision maps), ``w`` (weights), ``m`` (metric: loss → accuracy →
gap), ``s`` (smoothing 0 / 0.6 / 0.9 / 0.99) and ``t`` (x-axis epochs / seconds);
the worker's ``InsightReady`` messages; the verdict under the table.  The
visible view is a CSS class on the app (``-view-boundary`` / ``-view-weights``).
The views tell ``InsightAsk`` (UI thread only) what to compute; each change is
handed to the run's ``RunControl`` as a new frozen ``regtui.core.run.InsightRequest``
(one reference swapped whole), so nothing the worker reads changes under it and
the worker writes nothing back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Sequence

from regtui.core.results import RunHistory
from regtui.core.run import InsightRequest
from regtui.ui.plotting.curve_view import CurveView
from regtui.ui.widgets.verdict_panel import VerdictPanel
from regtui.ui.widgets.views.boundary import BoundaryView
from regtui.ui.widgets.views.weights import WeightsView
from regtui.ui.worker.messages import InsightReady

if TYPE_CHECKING:
    from regtui.ui.app import RegTuiApp

VIEWS = ("charts", "boundary", "weights")


class InsightAsk:
    """What the visible *why* views ask the worker for (UI thread only).

    The views set ``boundary`` (the map grid's (cols, rows)) and ``bins`` (None
    while hidden); every change makes a new ``request`` and hands it to
    ``publish``, which swaps it into the run's ``RunControl``.  The maps and
    histograms are per variant (``by_variant``)."""

    def __init__(self, publish: Callable[[InsightRequest], None]) -> None:
        self._publish = publish
        self.request = InsightRequest(by_variant=True)
        """The latest request (immutable: replaced, never changed)."""

    @property
    def boundary(self) -> tuple[int, int] | None:
        return self.request.boundary

    @boundary.setter
    def boundary(self, value: tuple[int, int] | None) -> None:
        self._ask(replace(self.request, boundary=value))

    @property
    def bins(self) -> int | None:
        return self.request.bins

    @bins.setter
    def bins(self, value: int | None) -> None:
        self._ask(replace(self.request, bins=value))

    def _ask(self, request: InsightRequest) -> None:
        if request != self.request:
            self.request = request
            self._publish(request)


class InsightRouting:
    """Mixed into ``RegTuiApp``; every method runs on the UI thread."""

    curve_view: CurveView = CurveView()
    """What the charts plot (``m``, ``s``, ``t``)."""
    insight_view: str = "charts"
    """Which of ``VIEWS`` fills the main area."""

    @property
    def boundary(self: RegTuiApp) -> BoundaryView:
        return self.query_one(BoundaryView)

    @property
    def weights(self: RegTuiApp) -> WeightsView:
        return self.query_one(WeightsView)

    @property
    def verdict(self: RegTuiApp) -> VerdictPanel:
        return self.query_one(VerdictPanel)

    def insight_setup(self: RegTuiApp, names: Sequence[str]) -> None:
        """On mount: one ``InsightAsk`` the views tell; it hands each request to the run."""
        self.insight_wish = InsightAsk(self._hand_insight_request)
        self.boundary.wish = self.weights.wish = self.insight_wish
        self._show_view("charts")
        self.insight_variants(names)

    def _hand_insight_request(self: RegTuiApp, request: InsightRequest) -> None:
        if self.control is not None:
            self.control.insight = request  # one reference: the worker reads it whole

    def insight_variants(self: RegTuiApp, names: Sequence[str]) -> None:
        self.boundary.set_variants(names)
        self.weights.set_variants(names)
        self.verdict.clear()

    def insight_refresh(self: RegTuiApp, history: RunHistory, final: bool) -> None:
        """With the table: the weight norms and the verdict (the verdict throttled)."""
        self.weights.show(history, self.curve_view)
        self.verdict.show(history, final)

    def on_insight_ready(self: RegTuiApp, message: InsightReady) -> None:
        if self.control is not None and message.run_id == self.control.run_id:
            self.boundary.show_map(message.epoch, message.boundary, message.no_plane)
            self.weights.show_histogram(message.epoch, message.weights)

    # ------------------------------------------------------------------ actions

    def action_boundary(self: RegTuiApp) -> None:
        self._show_view("charts" if self.insight_view == "boundary" else "boundary")

    def action_weights(self: RegTuiApp) -> None:
        self._show_view("charts" if self.insight_view == "weights" else "weights")

    def action_metric(self: RegTuiApp) -> None:
        self._set_curve_view(self.curve_view.next_metric())

    def action_smooth(self: RegTuiApp) -> None:
        self._set_curve_view(self.curve_view.next_smoothing())

    def action_time(self: RegTuiApp) -> None:
        self._set_curve_view(self.curve_view.next_x_axis())

    def action_cursor(self: RegTuiApp, how: str) -> None:
        """The epoch cursor and zoom shared by every chart (``CurveView.cursor_command``)."""
        self._set_curve_view(self.curve_view.cursor_command(how, self.charts.last_epoch()))

    def _set_curve_view(self: RegTuiApp, view: CurveView) -> None:
        self.curve_view = view
        self.charts.set_curve_view(view)
        if self.history is not None:
            self.charts.show(self.history)
            self.weights.show(self.history, view)

    def _show_view(self: RegTuiApp, view: str) -> None:
        self.insight_view = view
        for name in VIEWS[1:]:
            self.set_class(view == name, f"-view-{name}")
        self.boundary.set_visible(view == "boundary")
        self.weights.set_visible(view == "weights")
