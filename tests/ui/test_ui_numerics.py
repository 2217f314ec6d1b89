"""Hardening the lab (issue #10), numerics and promises: variants that diverge
(Adam with lr = 100, λ = 1e6) are marked and frozen in the epoch they blow up,
in the table, on their chart and in the verdict, while nothing non-finite
reaches plotext; extreme drop probabilities run; and the README's lab-side
promises not tested elsewhere (a diverged run recorded whole, q while a run
still loads, a malformed preset refused in one line and kept).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pytest

from regtui.core.config import VariantConfig
from regtui.core.store import RunStore
from regtui.ui.app import create_app
from regtui.ui.widgets.loss_charts import LossChart

SIZE = (80, 24)

class PlotSpy:
    """Records every call LossChart makes into plotext (x, y, ticks, limits)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from textual_plotext.plot import Plot

        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for name in ("plot", "xticks", "yticks", "xlim", "ylim"):
            original = getattr(Plot, name)

            def spy(plot: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
                self.calls.append((_name, args))
                return _original(plot, *args, **kwargs)

            monkeypatch.setattr(Plot, name, spy)

    def numbers(self) -> list[float]:
        out: list[float] = []
        for _, args in self.calls:
            for arg in args:
                values = arg if isinstance(arg, (list, tuple)) else [arg]
                out += [float(v) for v in values if isinstance(v, (int, float))]
        return out


def blew_up_when_marked(hist: Any) -> None:
    """A diverged variant is frozen in the epoch its loss first became non-finite or 1000× its start."""
    train = hist.series("train_loss")
    limit = 1000 * max(0.01, float(train[0]))
    last = len(train) - 1
    assert all(math.isfinite(v) and v <= limit for v in train[:last]), f"{hist.name} was marked late"
    obj, val = hist.series("objective"), hist.series("val_loss")  # objective: the batches' loss, dropout on
    assert not (all(math.isfinite(v) for v in (train[last], val[last], obj[last]))
                and train[last] <= limit and obj[last] <= limit), f"{hist.name} was marked without blowing up"


async def _diverging_run(app: Any, pilot: Any, wait_for: Any, spy: PlotSpy) -> None:
    await pilot.press("r")
    await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
    await pilot.pause(0.3)
    app.lab.charts.set_overlay(True)  # the overlay charts draw every variant too
    await wait_for(pilot, lambda: not app.lab.charts.pending, 10)
    app.lab.charts.set_overlay(False)
    await wait_for(pilot, lambda: not app.lab.charts.pending, 10)
    numbers = spy.numbers()
    assert numbers and all(math.isfinite(v) for v in numbers), "no NaN or inf reaches plotext"
    for chart in app.lab.charts.charts():
        assert all(np.isfinite(y).all() for _, y, _ in chart.points())


def _row(app: Any, index: int, column: str) -> str:
    return str(app.lab.table.get_cell(str(index), column))


async def test_adam_lr_100_diverges_marked_and_drawn_finite(ui_experiment: Any, wait_for: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spy = PlotSpy(monkeypatch)
    app = create_app(ui_experiment(epochs=40, lr=100.0))
    async with app.run_test(size=SIZE) as pilot:
        await _diverging_run(app, pilot, wait_for, spy)
        charts = list(app.query("#per-variant LossChart").results(LossChart))
        diverged = [i for i, h in enumerate(app.lab.session.history.variants) if h.status == "diverged"]
        assert diverged, [h.status for h in app.lab.session.history.variants]
        for i, hist in enumerate(app.lab.session.history.variants):
            assert _row(app, i, "status") == hist.status
            if i in diverged:
                blew_up_when_marked(hist)
                assert _row(app, i, "epoch") == str(len(hist) - 1), "frozen at its epoch"
                assert "diverged" in charts[i].note
            else:
                assert hist.status == "finished" and _row(app, i, "epoch") == "40"
        assert "Diverged:" in app.lab.verdict.text
        for i in diverged:
            assert app.lab.session.history.variants[i].name in app.lab.verdict.text.split("Diverged:")[1]


async def test_huge_lambda_diverges_the_others_finish(ui_experiment: Any, wait_for: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    spy = PlotSpy(monkeypatch)
    exp = ui_experiment(epochs=30, optimizer="sgd", lr=0.5, variants=(
        VariantConfig("baseline"), VariantConfig("λ 1e6", l2=1e6), VariantConfig("Dropout", dropout=0.5)))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await _diverging_run(app, pilot, wait_for, spy)
        statuses = [h.status for h in app.lab.session.history.variants]
        assert statuses == ["finished", "diverged", "finished"]
        blew_up_when_marked(app.lab.session.history.variants[1])
        assert [_row(app, i, "status") for i in range(3)] == statuses
        assert _row(app, 0, "epoch") == _row(app, 2, "epoch") == "30"
        charts = list(app.query("#per-variant LossChart").results(LossChart))
        assert ["diverged" in c.note for c in charts] == [False, True, False]
        assert charts[0].draw_count >= 1 and charts[2].draw_count >= 1
        assert "Diverged: λ 1e6" in app.lab.verdict.text
        assert "λ 1e6" not in app.lab.verdict.text.split("Diverged:")[0], "a diverged variant never wins"
        assert "Diverged: λ 1e6" in app.lab.verdict.shown, "on screen too, at 80×24"
        labels = [str(label) for name, args in spy.calls if name == "yticks" and len(args) > 1 for label in args[1]]
        assert labels and max(len(label) for label in labels) <= 8, f"short y labels for the blow-up: {labels}"
        await wait_for(pilot, lambda: charts[1].size.area > 0, 10)  # laid out again after the overlay
        assert "λ 1e6 ✗ diverged" in str(charts[1].render()), "its title survives the blow-up's y-axis"


async def test_extreme_drop_probabilities_run(ui_experiment: Any, wait_for: Any) -> None:
    exp = ui_experiment(epochs=15, variants=(
        VariantConfig("p 0", dropout=0.0), VariantConfig("p 0.99", dropout=0.99),
        VariantConfig("pin 0.99", input_dropout=0.99), VariantConfig("both 0.99", dropout=0.99, input_dropout=0.99)))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await wait_for(pilot, lambda: not app.lab.charts.pending, 10)
        for i, hist in enumerate(app.lab.session.history.variants):
            assert hist.status in ("finished", "diverged")
            assert len(hist) >= 1 and math.isfinite(float(hist.series("val_loss")[0]))
            assert _row(app, i, "status") == hist.status
        assert all(c.draw_count >= 1 for c in app.query("#per-variant LossChart").results(LossChart))


# ---------------------------------------------------------------------- promises


async def test_a_lab_run_with_a_diverged_variant_is_recorded_as_such(ui_experiment: Any, wait_for: Any) -> None:
    """Nothing is lost: a diverged variant is in the history with its epochs, the others whole."""
    exp = ui_experiment(epochs=12, optimizer="sgd", lr=0.5, variants=(VariantConfig("baseline"), VariantConfig("huge", l2=1e6)))
    app = create_app(exp)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.lab.run_state == "finished", 60)
        await wait_for(pilot, lambda: app.lab.session.control is not None and app.lab.session.control.done.is_set())
        shown = [len(h) for h in app.lab.session.history.variants]
    with RunStore.open() as store:
        (summary,) = store.list_runs()
        kept = store.load_run(summary.id).history.variants
    assert [h.status for h in kept] == ["finished", "diverged"]
    assert [len(h) for h in kept] == shown and shown[0] == 13


async def test_q_while_the_run_still_loads_exits_within_a_second(tiny: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """README: q exits within a second, also while a run is loading torch or its data."""
    from regtui.core import training

    loading = threading.Event()
    original = training.Training.__init__

    def slow_init(self: Any, *args: Any, **kwargs: Any) -> None:
        loading.set()
        time.sleep(4)  # a big data set loading
        original(self, *args, **kwargs)

    monkeypatch.setattr(training.Training, "__init__", slow_init)
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        while not loading.is_set():
            await pilot.pause(0.02)
        assert app.lab.run_state == "starting"
        start = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - start < 5.0  # not waiting for the load; the 1 s promise is a benchmark's
    assert app.return_code == 0


def test_a_malformed_preset_never_opens_the_lab_and_is_kept(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """README: bad input gets one line naming the file, the key and the problem; the file is kept."""
    from regtui.cli import main

    bad = tmp_path / "bad.toml"
    text = '[data]\nn_trian = 5\n[[variants]]\nname = "[/]"\n'
    bad.write_text(text, encoding="utf-8")
    assert main(["--preset", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.toml" in err and "data.n_trian" in err and "unknown key" in err
    assert bad.read_text(encoding="utf-8") == text
