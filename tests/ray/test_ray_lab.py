"""The lab's sweep on Ray: the Sweep section's engine runs the grid as Ray tasks,
and the sweep view fills with the in-process numbers."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("ray")

from regtui.core.config import EngineConfig, SweepAxis  # noqa: E402
from regtui.core.sweep import run_sweep  # noqa: E402
from regtui.ui.app import create_app  # noqa: E402

pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.usefixtures("quick_pilot_idle")]  # tests/conftest.py


async def test_the_lab_runs_a_sweep_on_ray_and_shows_every_point(ray_cluster, tiny_experiment) -> None:
    exp = replace(tiny_experiment(train={"epochs": 4, "seeds": 2}),
                  sweep=(SweepAxis("variants.L2.l2", (0.0, 0.01, 0.1)),),
                  engine=EngineConfig(kind="ray", shard_size=2))
    app = create_app(exp)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.lab.panel.sweep_editor.engine.value == "ray"
        await pilot.press("k", "r")
        deadline = time.monotonic() + 120
        while app.lab.run_state != "finished":
            assert time.monotonic() < deadline and app.lab.run_state != "failed", app.lab.run_state
            await pilot.pause(0.1)
        shown = {tuple(p.knobs.items()): p.score_mean for p in app.lab.sweep_view.points}
        assert "epoch 12/12" in str(app.lab.status.text())  # 3 tasks of 2 networks, 4 epochs each: on Ray
    here = [p for item in run_sweep(replace(exp, engine=EngineConfig())) if isinstance(item, list) for p in item]
    assert len(shown) == len(here) == 3
    for point in here:
        assert math.isclose(shown[tuple(point.knobs.items())], point.score.value, rel_tol=1e-6)
