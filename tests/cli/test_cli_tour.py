"""``regtui tour --report``: every step run headless on tiny settings, one Markdown report."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from regtui.cli import main
from regtui.core import tour
from regtui.core.store import RunStore

TINY = ["--set", "train.epochs=4", "--set", "data.n_val=40", "--set", "model.hidden=[8]"]


def test_report_runs_every_step_and_writes_text_checks_tables_and_charts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tour.md"
    assert main(["tour", "--report", str(out), "-q", *TINY]) == 0
    text = out.read_text(encoding="utf-8")
    for step in tour.STEPS:
        section = text.split(f"## Step {step.number}: {step.title}", 1)[1].split("\n## ", 1)[0]
        assert step.text in section and step.watch in section and f"`{step.preset}`" in section
        assert re.search(r"### Check: (✓ appeared|✗ did not appear this time|\? cannot tell)", section)
        assert "4 epochs" in section  # the override reached every step
        assert "```text" in section  # a text chart
        if step.kind == tour.COMPARE:
            assert "### Results" in section and "### Verdict" in section and "| variant | status |" in section
        svg = out.with_name(f"tour-step-{step.number}.svg")
        ElementTree.fromstring(svg.read_text(encoding="utf-8"))  # well-formed SVG
        assert f"](tour-step-{step.number}.svg)" in section
    assert "`train.epochs=4`" in text and "## Configs" in text
    with RunStore.open() as store:  # the compare steps are in the history, as tour runs
        runs = store.list_runs()
    assert sorted(r.preset for r in runs) == sorted(s.preset for s in tour.STEPS if s.kind == tour.COMPARE)
    assert {r.source for r in runs} == {"tour"}


def test_report_of_one_step_with_the_check_built_from_its_run(tmp_path: Path) -> None:
    out = tmp_path / "one.md"
    assert main(["tour", "--report", str(out), "--step", "1", "--no-history", "-q",
                 "--set", "train.epochs=30", "--set", "data.n_val=100"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Step 1:" in text and "## Step 2:" not in text
    assert re.search(r"Validation loss (fell to|was lowest at epoch) \S+", text)
    assert "30 epochs" in text
    with RunStore.open() as store:
        assert store.list_runs() == []


def test_unknown_step_and_bad_override_are_one_line_errors(tmp_path: Path, capsys) -> None:
    assert main(["tour", "--report", str(tmp_path / "x.md"), "--step", "9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--step: no step '9'" in err and "1 (overfitting)" in err
    assert main(["tour", "--report", str(tmp_path / "x.md"), "--set", "train.epochs=-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.epochs" in err
    assert not (tmp_path / "x.md").exists()


def test_report_paths_are_checked_before_anything_runs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tour.md"
    out.write_text("mine", encoding="utf-8")
    assert main(["tour", "--report", str(out), "--step", "1", "--no-history", "-q", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists; pass --force" in err and out.read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "tour-step-1.svg").exists()
    assert main(["tour", "--report", str(tmp_path / "nowhere" / "t.md"), "-q", *TINY]) == 2
    assert main(["tour", "--report", "-", "-q", *TINY]) == 2
    assert "needs a file" in capsys.readouterr().err
    assert main(["tour", "--report", str(out), "--step", "1", "--no-history", "-q", "--force", *TINY]) == 0
    assert out.read_text(encoding="utf-8").startswith("# The regtui tour")
