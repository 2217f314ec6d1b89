"""The README's two commands stay true: CI runs the README's test command verbatim."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_opens_with_the_two_commands() -> None:
    lab, tests = _readme_commands()
    assert lab.endswith("regtui") and "pip install" in lab
    assert "pytest" in tests and "[test]" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, tests = _readme_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests in ci_lines


def _capture() -> tuple[dict[str, str], str, list[str]]:
    """The README capture's settings (``KEY=value`` before ``regtui``), its preset and its
    lines (between the capture markers)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- capture:begin -->", 1)[1].split("<!-- capture:end -->", 1)[0]
    command = block.split("`", 2)[1]
    *settings, program, option, preset = command.split()
    assert (program, option) == ("regtui", "--preset"), f"the capture's command: {command}"
    screen = block.split("```text", 1)[1].split("```", 1)[0]
    return dict(s.split("=", 1) for s in settings), preset, screen.strip("\n").splitlines()


def test_the_capture_is_taken_with_the_portable_kernels() -> None:
    """Without them its numbers are one CPU's: a machine with other vector units prints
    others after 300 epochs (docs/semantics.md, "Same numbers, which machine")."""
    settings, _, _ = _capture()
    assert settings == {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the portable kernels are the same on every x86-64 CPU; other CPUs round otherwise")
def test_readme_capture_is_what_a_fresh_run_of_its_preset_prints(tmp_path) -> None:
    """Every number in the capture's results table equals a fresh headless run of that
    preset with the capture's settings (the lab and ``regtui run`` train identically);
    re-take the capture with ``python scripts/readme_capture.py`` when this fails."""
    import json

    from regtui.core.numbers import fixed_width
    from regtui.ui.widgets.results_table import FULL_WIDTH

    settings, preset, lines = _capture()
    assert len(lines) == 24 and max(map(len, lines)) <= 80, "the capture is an 80×24 screen"
    header_at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["variant"])
    header = lines[header_at].replace("end val", "end_val").replace("★", "").split()  # ★: the ranked column
    rows = {}
    for line in lines[header_at + 1:]:
        tokens = line.split()
        if len(tokens) != len(header) + 1 or tokens[0] not in ("■", "★", "✗"):
            break
        rows[tokens[1]] = dict(zip(header[1:], tokens[2:]))
    assert rows, "the capture shows the results table"

    out = tmp_path / "run.json"
    # A child process: the kernels are chosen when torch and MKL load.
    env = {**os.environ, **settings, "REGTUI_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "regtui", "run", preset, "--no-history", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    data = json.loads(out.read_text())
    run = {v["name"]: v for v in data["variants"]}
    starred = [line.split()[0] for line in printed.splitlines() if " ★" in line]
    shown_star = [name for name, tokens in zip(rows, (l.split() for l in lines[header_at + 1:])) if tokens[0] == "★"]
    assert shown_star == starred, f"the capture stars {shown_star}, regtui run stars {starred}"
    assert set(rows) == set(run)
    digits = 6 if 80 >= FULL_WIDTH else 5  # an 80-column table writes numbers in five characters
    number = lambda v: fixed_width(v, digits)  # noqa: E731
    for name, shown in rows.items():
        last, best = run[name]["history"][-1], run[name]["best"]
        expected = {
            "ep": str(last["epoch"]), "train": number(last["train_loss"]), "val": number(last["val_loss"]),
            "gap": number(last["gap"]), "‖w‖": number(last["weight_norm"]),
            "acc%": "–" if last["val_acc"] is None else f"{100 * last['val_acc']:.1f}",
            "best@ep": f"{number(best['val_loss'])}@{best['epoch']}", "status": run[name]["status"],
            "end_val": number(run[name]["rank"]["value"]) if data["ranking"]["by"] == "end" else None,
        }
        for column, value in shown.items():
            if expected.get(column) is not None:
                assert value == expected[column], f"README capture, {name}, {column}: shows {value}, a run gives {expected[column]}"
