"""Pilot tests of the config panel: invalid fields block r, +/- stepping,
adding / removing / renaming variants, keys typed into fields stay there."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import Select, Static
from textual.widgets._select import SelectOverlay

from regtui.ui.app import create_app
from regtui.ui.widgets.config.fields import ConfigInput

SIZE = (80, 24)


def variant_input(app: Any, index: int, field: str) -> ConfigInput:
    return app.lab.panel.editors[index].inputs[field]


async def type_into(pilot: Any, widget: ConfigInput, text: str) -> None:
    """Focus a field, clear it and type ``text`` key by key."""
    widget.focus()
    await pilot.pause()
    widget.value = ""
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])
    await pilot.pause()


async def test_text_in_a_number_field_blocks_r_and_is_shown(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#f-data-n-train", ConfigInput)
        await type_into(pilot, field, "abc")
        assert field.value == "abc", "letters (even r, c, q...) are typed into a focused field"
        assert field.has_class("-invalid")
        message = app.lab.panel.error_labels["data.n_train"]
        assert message.display and "must be an integer" in str(message.render())
        await pilot.press("escape")
        assert app.focused is app.lab.table
        await pilot.press("r")
        assert app.lab.run_state == "idle" and app.lab.session.control is None, "r does not start an invalid config"
        assert app.focused is field, "r takes the user to the invalid field"
        assert "invalid" in str(app.lab.status.note)
        await type_into(pilot, field, "40")
        assert not field.has_class("-invalid") and not message.display
        assert app.lab.panel.experiment is not None and app.lab.panel.experiment.data.n_train == 40


async def test_core_range_checks_show_at_their_fields(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        drop = variant_input(app, 2, "dropout")
        drop.value = "1"
        lam = variant_input(app, 1, "l2")
        lam.value = "-0.1"
        await pilot.pause()
        assert drop.has_class("-invalid") and lam.has_class("-invalid")
        assert "p: must be a probability in [0, 1), got 1.0" in str(app.lab.panel.editors[2].errors.render())
        assert "λ: λ must be in [0, 1e6], got -0.1" in str(app.lab.panel.editors[1].errors.render())
        assert app.lab.panel.experiment is None
        assert len(app.lab.panel.error_messages()) == 2
        await pilot.press("r")
        assert app.lab.run_state == "idle"
        drop.value, lam.value = "0.5", "0.001"
        await pilot.pause()
        assert app.lab.panel.experiment is not None
        assert app.lab.panel.experiment.variants[1].l2 == 0.001


async def test_plus_minus_step_lambda_on_a_ladder_and_p_by_005(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        lam = variant_input(app, 0, "l2")
        lam.focus()
        await pilot.press("plus", "plus", "plus")
        assert lam.value == "1e-4"  # one form along the ladder: not "0.0001" beside "3e-05"
        await pilot.press("minus")
        assert lam.value == "3e-5"
        await pilot.pause()
        assert app.lab.panel.experiment.variants[0].l2 == 3e-5
        await type_into(pilot, lam, "1e-3")  # '-' after 'e' is typed, not a step
        assert lam.value == "1e-3"
        await pilot.press("plus")
        assert lam.value == "3e-3"
        await pilot.press("plus", "plus")
        assert lam.value == "0.03"
        p = variant_input(app, 2, "dropout")
        p.focus()
        await pilot.press("plus")
        assert p.value == "0.55"
        await pilot.press("minus", "minus")
        assert p.value == "0.45"
        await pilot.pause()
        assert app.lab.panel.experiment.variants[2].dropout == 0.45


async def test_add_rename_and_remove_a_variant(tiny: Any) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#add-variant").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert len(app.lab.panel.editors) == 5
        assert app.lab.panel.experiment.variants[-1].name == "variant 5"
        name = variant_input(app, 4, "name")
        assert app.focused is name
        await type_into(pilot, name, "wide drop")
        assert app.lab.panel.experiment.variants[-1].name == "wide drop"
        await type_into(pilot, name, "L2")  # a duplicate name is an error at the field
        assert name.has_class("-invalid") and app.lab.panel.experiment is None
        assert "duplicate variant name" in str(app.lab.panel.editors[4].errors.render())
        await type_into(pilot, name, "wide drop")
        app.lab.panel.editors[4].remove_button.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert [v.name for v in app.lab.panel.experiment.variants] == ["baseline", "L2", "Dropout", "L2+Dropout"]
        assert app.focused is app.lab.panel.editors[3].remove_button, "ready to remove the next one"
        await pilot.press("r")
        assert app.lab.run_state != "idle", "r works from a button (a tiny run may already have finished)"
        await pilot.press("x")


@pytest.mark.parametrize(("typed", "problem"), [
    ("L2", "duplicate variant name 'L2'"),
    ("", "a variant name cannot be empty"),
    ("x" * 41, "a variant name has at most 40 characters"),
])
async def test_a_bad_variant_name_shows_one_error_at_its_field(tiny: Any, typed: str, problem: str) -> None:
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        name = variant_input(app, 3, "name")
        await type_into(pilot, name, typed)
        panel = app.lab.panel
        assert name.has_class("-invalid") and panel.experiment is None
        assert panel.error_messages() == (f"variant 4 name: {problem}",), "one problem, named at its field"
        assert str(panel.editors[3].errors.render()) == f"name: {problem}"
        assert not panel.query_one("#panel-error").display, "no second, panel-wide error"
        await type_into(pilot, name, "fine")
        assert panel.experiment is not None and panel.error_messages() == ()


async def test_last_variant_cannot_be_removed(ui_experiment: Any) -> None:
    from regtui.core.config import VariantConfig

    app = create_app(ui_experiment(variants=(VariantConfig("only"),)))
    async with app.run_test(size=SIZE) as pilot:
        assert app.lab.panel.editors[0].remove_button.disabled
        app.lab.panel.remove_variant(app.lab.panel.editors[0])
        await pilot.pause()
        assert len(app.lab.panel.editors) == 1


async def test_loading_an_experiment_fills_every_field(tiny: Any, ui_experiment: Any) -> None:
    from regtui.core.config import VariantConfig

    other = ui_experiment(epochs=7, lr=0.05, variants=(VariantConfig("a", dropout=0.2), VariantConfig("b", l2=3e-4)))
    app = create_app(tiny)
    async with app.run_test(size=SIZE) as pilot:
        app.lab.load_experiment(other)
        await pilot.pause()
        await pilot.pause()
        assert app.lab.panel.experiment == other
        assert app.query_one("#f-train-epochs", ConfigInput).value == "7"
        assert [t.title for t in app.lab.charts.charts() if t.has_class("variant-chart")] == ["a", "b"]
        assert isinstance(app.lab.panel.query_one("#panel-error"), Static)


class _OneSelect(App[None]):
    """A bare app holding one select of ``kind`` (Dropdown, or Textual's Select to compare)."""

    def __init__(self, kind: type[Select[str]]) -> None:
        super().__init__()
        self.kind = kind
        self.changes: list[object] = []

    def compose(self) -> Any:
        yield self.kind([("adam", "adam"), ("sgd", "sgd"), ("rmsprop", "rmsprop")], value="adam",
                        allow_blank=False, compact=True, id="pick")

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changes.append(event.value)


def _arrows(select: Select[str]) -> list[str]:
    """The arrows the value line shows (visible ones only)."""
    return [str(s.render()) for s in select.query("SelectCurrent Static").results(Static)
            if s.display and str(s.render()) in ("▲", "▼")]


@pytest.mark.parametrize("opens_with", ["click", "enter"])
async def test_dropdown_mounts_its_list_on_first_open_and_picking_closes_it(opens_with: str) -> None:
    from regtui.ui.widgets.config.dropdown import Dropdown

    app = _OneSelect(Dropdown)
    async with app.run_test(size=(40, 12)) as pilot:
        pick = app.query_one("#pick", Dropdown)
        assert not pick.query(SelectOverlay), "no option list before the first open"
        assert _arrows(pick) == ["▼"] and not pick.expanded
        assert app.changes == ["adam"], "the initial value is announced once, as Select does"
        if opens_with == "click":
            await pilot.click("#pick")
        else:
            pick.focus()
            await pilot.press("enter")
        await pilot.pause()
        assert pick.expanded and pick.query_one(SelectOverlay).display
        assert _arrows(pick) == ["▲"]
        assert app.changes == ["adam"], "opening changes nothing"
        await pilot.press("down", "enter")  # the list highlights the value (adam): down is sgd
        await pilot.pause()
        assert pick.value == "sgd" and not pick.expanded
        assert not pick.query_one(SelectOverlay).display and _arrows(pick) == ["▼"]
        assert app.changes == ["adam", "sgd"]
        pick.value = "rmsprop"  # set in code once the list is there: it follows
        await pilot.pause()
        assert app.changes == ["adam", "sgd", "rmsprop"]
        assert "rmsprop" in str(pick.query_one("SelectCurrent #label", Static).render())
