"""Issue 15: the CLI names the option a person typed, and keeps small numbers readable."""

from __future__ import annotations

import pytest

from regtui.cli import main


@pytest.mark.parametrize("command", [["run", "moons-overfit"], ["sweep", "moons-overfit", "--grid", "variants.L2.l2=0,1"]])
@pytest.mark.parametrize("seeds", ["0", "65"])
def test_a_bad_seeds_option_is_named_as_seeds_not_set(command, seeds, capsys) -> None:
    assert main([*command, "--seeds", seeds, "--no-history"] if command[0] == "run" else [*command, "--seeds", seeds]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"regtui {command[0]}: --seeds: ") and "--set" not in err
    assert len(err.splitlines()) == 1


def test_tiny_losses_keep_their_digits_in_the_results_table() -> None:
    from rich.console import Console

    from regtui.commands.report import results_table
    from regtui.core.results import RunHistory
    from regtui.core.run_types import EpochEnd, EpochMetrics, RunStatus
    from tests.conftest import make_tiny

    exp = make_tiny()
    history = RunHistory(exp)
    for epoch, loss in ((0, 0.7), (1, 3.3e-5)):
        metrics = tuple(EpochMetrics(epoch, loss, loss * 2, None, None, loss, 0.0, 1.0, loss, 0.0)
                        for _ in exp.variants)
        history.add(EpochEnd(epoch, metrics, (RunStatus.FINISHED,) * len(exp.variants), 0.0))
    console = Console(width=120, record=True)
    console.print(results_table(history))
    out = console.export_text()
    assert "3.3e-5" in out and "6.6e-5" in out
    assert "0.0000" not in out


def test_the_title_of_a_file_run_counts_the_rows_it_trained_on(capsys, tmp_path) -> None:
    """A CSV preset leaves ``data.n_train`` at 0 (all rows): the title says how many trained."""
    import re

    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    preset = tmp_path / "p.toml"
    preset.write_text('[data]\ndataset = "csv"\npath = "d.csv"\n[model]\nhidden = [4]\n[train]\nepochs = 1\n')
    assert main(["run", str(preset)]) == 0
    captured = capsys.readouterr()
    trained = int(re.search(r"data: \w+, (\d+) train / ", captured.err).group(1))
    assert trained > 0
    assert f"n_train={trained}," in captured.out and "n_train=0" not in captured.out
    assert main(["history", "show", "1"]) == 0  # the stored run's title says the same
    shown = capsys.readouterr().out
    assert f"n_train={trained}," in shown and "n_train=0" not in shown
