"""The tour in the lab (``a``), mixed into the App (``app.py`` stays a router).

``a`` opens the tour at its first step (``regtui tour --step N``: at step N)
or leaves it.  A step loads its preset into the config panel (an ordinary
preset: change it and ``r`` re-runs the step with the change), puts the
``TourPanel`` where the config panel was and starts the step's run at once:
the comparison, or for a sweep step the sweep view's sweep.  When the run
ends, the step's check (``regtui.core.tour``) reads that run and the card
shows what it found.  ``n`` / ``p`` go to the next / previous step, ``r``
re-runs.  Relies on the App's ``panel``, ``history``, ``start_run``,
``start_sweep``, ``sweep_view``, ``load_experiment`` and ``notify``.
"""

from __future__ import annotations

from typing import Any

from regtui.core.tour import STEPS, SWEEP, Finding, Step
from regtui.ui.widgets.tour_panel import TourPanel


class TourActions:
    """Mixin for ``RegTuiApp``: the tour's keys and its checks."""

    tour_step: int | None = None
    """The index in ``STEPS`` of the step on screen (None: no tour)."""
    tour_overrides: tuple[str, ...] = ()
    """``--set`` assignments applied to every step's preset (``regtui tour --set``)."""
    tour_run: Any = None
    """The control of the step's run (its check reads that run only)."""

    @property
    def tour_panel(self) -> TourPanel:
        return self.query_one(TourPanel)  # type: ignore[attr-defined]

    @property
    def in_tour(self) -> bool:
        return self.tour_step is not None

    def action_tour(self) -> None:
        if self.in_tour:
            self.tour_leave()
        else:
            self.tour_go(0)

    def action_tour_next(self) -> None:
        if self.in_tour:
            if self.tour_step + 1 < len(STEPS):  # type: ignore[operator]
                self.tour_go(self.tour_step + 1)  # type: ignore[operator]
            else:
                self.notify("the last step of the tour: p goes back, a leaves")  # type: ignore[attr-defined]

    def action_tour_previous(self) -> None:
        if self.in_tour:
            if self.tour_step > 0:  # type: ignore[operator]
                self.tour_go(self.tour_step - 1)  # type: ignore[operator]
            else:
                self.notify("the first step of the tour: n goes on, a leaves")  # type: ignore[attr-defined]

    def tour_leave(self) -> None:
        self.tour_step = None
        self.set_class(False, "-tour")  # type: ignore[attr-defined]
        self.panel.display = True  # type: ignore[attr-defined]
        self.set_class(False, "-config-hidden")  # type: ignore[attr-defined]
        self.notify("left the tour: the config panel is back (a returns)")  # type: ignore[attr-defined]

    def tour_go(self, index: int) -> None:
        """Show step ``index`` and start its run."""
        from regtui.core import presets
        from regtui.core.config import ConfigError
        from regtui.core.overrides import with_overrides

        step = STEPS[index]
        try:
            experiment = with_overrides(presets.load(step.preset, self.presets_dir), self.tour_overrides)  # type: ignore[attr-defined]
        except ConfigError as exc:
            self.notify(f"tour step {step.number}: {exc}", severity="error", timeout=10)  # type: ignore[attr-defined]
            return
        self.tour_step = index
        self.set_class(True, "-tour")  # type: ignore[attr-defined]
        self.panel.display = False  # type: ignore[attr-defined]
        self.set_class(True, "-config-hidden")  # type: ignore[attr-defined]
        self.tour_panel.show_step(step, len(STEPS))
        self.panel.load(experiment)  # type: ignore[attr-defined]
        self._tour_start(step, experiment)

    def _tour_start(self, step: Step, experiment: Any) -> None:
        wants_sweep = step.kind == SWEEP
        if wants_sweep != self.sweep_shown:  # type: ignore[attr-defined]
            self.action_sweep()  # type: ignore[attr-defined]
        (self.start_sweep if wants_sweep else self.start_run)(experiment)  # type: ignore[attr-defined]
        self.tour_run = self.control  # type: ignore[attr-defined]
        self.tour_panel.show_state("running")

    def tour_rerun(self) -> None:
        """``r`` in the tour: the step again, with the panel's config (its preset, or as changed)."""
        step = STEPS[self.tour_step]  # type: ignore[index]
        experiment = self.panel.experiment  # type: ignore[attr-defined]
        if experiment is None:
            self.notify("fix the config first", severity="error")  # type: ignore[attr-defined]
            return
        self.tour_panel.show_step(step, len(STEPS))
        self._tour_start(step, experiment)

    def tour_run_ended(self, stopped: bool) -> None:
        """The step's run ended: check it, show what the check found."""
        if not self.in_tour or self.tour_run is None or self.tour_run is not self.control:  # type: ignore[attr-defined]
            return
        step = STEPS[self.tour_step]  # type: ignore[index]
        if stopped:
            self.tour_panel.show_state("stopped")
            return
        self.tour_panel.show_finding(self.tour_finding(step))

    def tour_finding(self, step: Step) -> Finding:
        if step.kind == SWEEP:
            return step.check(list(self.sweep_view.raw_points))  # type: ignore[attr-defined]
        return step.check(self.history)  # type: ignore[attr-defined]
