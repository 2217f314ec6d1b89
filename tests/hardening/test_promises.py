"""One test per promise in the README's "What regtui promises" (the headless side;
the lab's side lives in tests/ui)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from regtui.cli import main
from regtui.core.results import RunHistory
from regtui.core.run_types import EpochMetrics
from tests.conftest import LONG_TOML, child_process, epochs_in_history

ROOT = Path(__file__).resolve().parents[2]



def test_ctrl_c_writes_partial_results_and_exits_130(tmp_path: Path) -> None:
    preset = tmp_path / "long.toml"
    preset.write_text(LONG_TOML.format(epochs=100000))
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    env = {**os.environ, "REGTUI_HOME": str(tmp_path / "home"), "REGTUI_THREADS": "1"}
    argv = [sys.executable, "-m", "regtui", "run", str(preset), "--json", str(out_json), "--csv", str(out_csv)]
    with child_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:
        # Ready when the history holds 3 epochs: torch is loaded and the loop trains, so
        # the signal lands in training however slow a loaded machine makes the start.
        store = tmp_path / "home" / "history.sqlite3"
        deadline = time.monotonic() + 600
        while epochs_in_history(store) < 3:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate(timeout=60)
                pytest.fail(f"the run never recorded 3 epochs (exit {proc.returncode}): {err[-2000:]}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    doc = json.loads(out_json.read_text())
    assert {v["status"] for v in doc["variants"]} == {"stopped"}
    epochs = len(doc["variants"][0]["history"])
    assert 3 <= epochs < 100001
    assert len(out_csv.read_text().splitlines()) == 1 + 2 * epochs


def test_a_run_with_diverged_variants_exits_0_and_writes_no_nan(tmp_path: Path, capsys) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=4)
                      .replace('name = "L2"\nl2 = 0.001', 'name = "L2"\nl2 = 1000000.0'))
    out = tmp_path / "r.json"
    code = main(["run", str(preset), "--json", str(out), "--no-history", "--quiet", "--set", "train.lr=0.5"])
    assert code == 0
    text = out.read_text()
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    statuses = {v["name"]: v["status"] for v in doc["variants"]}
    assert statuses == {"baseline": "finished", "L2": "diverged"}
    assert len(doc["variants"][0]["history"]) == 5


def test_history_stays_compact_over_a_long_run() -> None:
    """20,000 epochs x 4 variants: float64 rows, no per-epoch Python objects kept."""
    from regtui.core import presets

    history = RunHistory(presets.load("moons-overfit"))
    row = EpochMetrics(0, 0.5, 0.6, 0.9, 0.8, 0.5, 0.0, 3.0, 0.1, 0.0)
    statuses = ("running",) * 4
    event = type("E", (), {})()
    for epoch in range(20_001):
        event.epoch, event.seconds, event.statuses = epoch, float(epoch), statuses
        event.metrics = (row,) * 4
        history.add(event)
    total = sum(m._rows.nbytes for m in history.members)
    assert total <= 4 * 2 * 20_001 * 10 * 8  # at most 2x growth slack over the raw float64 rows
    assert len(history.variants[0].series("val_loss")) == 20_001
    assert not history.variants[0].series("val_loss").flags.writeable


SOURCE = sorted((ROOT / "regtui").rglob("*.py"))


@pytest.mark.parametrize("pattern, why", [
    (r"(?<![\w.])eval\(", "eval"),
    (r"(?<![\w.])exec\(", "exec"),
    (r"^\s*import pickle|^\s*from pickle|pickle\.load", "pickle"),
    (r"allow_pickle\s*=\s*True", "numpy pickles"),
    (r"yaml\.load\(", "yaml"),
])
def test_nothing_user_supplied_is_executed_or_unpickled(pattern: str, why: str) -> None:
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in SOURCE
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(pattern, line)]
    assert not offenders, f"{why} in {offenders}"


def test_every_torch_load_uses_weights_only() -> None:
    calls = [(p, line) for p in SOURCE for line in p.read_text(encoding="utf-8").splitlines()
             if "torch.load(" in line]
    assert all("weights_only=True" in line for _, line in calls), calls


def test_saved_models_load_with_weights_only(tmp_path: Path) -> None:
    import torch

    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=1))
    assert main(["run", str(preset), "--save-models", str(tmp_path / "m"), "--no-history", "--quiet"]) == 0
    state = torch.load(tmp_path / "m" / "L2.pt", weights_only=True)
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert np.isfinite(state["0.weight"].numpy()).all()


@pytest.mark.parametrize("name, content", [
    ("d.csv", "a,y\n" + "".join(f"{i},{i * 0.5 + 0.25}\n" for i in range(20)) + "3,nan\n"),
    ("d.csv", "a,a,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(20))),
    ("d.csv", "y\n1\n0\n"),
    ("d.csv", "a,y\n1," + "x" * 200_000 + "\n"),
    ("d.npz", None),
], ids=["nan-target", "duplicate-header", "one-column", "long-field", "npz-promising-8TB"])
def test_a_data_file_is_read_never_trusted(tmp_path: Path, capsys, name: str, content: str | None) -> None:
    """README: a data file's problem is one line naming the file, exit 2, nothing coerced."""
    path = tmp_path / name
    if content is None:  # an npz whose header promises 8 TB
        import zipfile

        with zipfile.ZipFile(path, "w") as zf:
            for key in ("X", "y"):
                import io

                buf = io.BytesIO()
                np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                                           "shape": (10 ** 12,)})
                zf.writestr(f"{key}.npy", buf.getvalue())
    else:
        path.write_text(content)
    kind = "npz" if name.endswith(".npz") else "csv"
    (tmp_path / "p.toml").write_text(f'[data]\ndataset = "{kind}"\npath = "{name}"\n[train]\nepochs = 1\n')
    assert main(["run", str(tmp_path / "p.toml"), "--no-history", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(path) in err, err


def test_outputs_never_destroy_anything(tmp_path: Path, capsys, monkeypatch) -> None:
    """README: an existing file needs --force; the history, links and devices are never overwritten;
    a bad path is one line before training."""
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=1))
    assert main(["run", str(preset), "--quiet"]) == 0
    store = tmp_path / "home" / "history.sqlite3"
    kept = tmp_path / "kept.json"
    kept.write_text("mine")
    os.symlink(kept, tmp_path / "link.json")
    for target in (store, kept, tmp_path / "link.json", tmp_path):
        capsys.readouterr()
        assert main(["run", str(preset), "--quiet", "--json", str(target)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert kept.read_text() == "mine" and store.read_bytes()[:16] == b"SQLite format 3\x00"
    assert main(["run", str(preset), "--quiet", "--json", "/dev/null"]) == 0
    import stat as st

    assert st.S_ISCHR(os.stat("/dev/null").st_mode)


CRASHING_LAB = """
import sys
import regtui.ui.app as ui_app
import regtui.ui.screens.lab as ui_lab

real_mount = ui_lab.LabScreen.on_mount


def on_mount(self):
    real_mount(self)
    self.call_later(lambda: 1 / 0)  # a bug in the lab, after it has painted


ui_lab.LabScreen.on_mount = on_mount
real_run = ui_app.RegTuiApp.run
ui_app.RegTuiApp.run = lambda self: real_run(self, headless=True)
from regtui.cli import main

sys.exit(main(["--preset", "moons-overfit"]))
"""


def test_the_lab_never_exits_0_after_it_crashed(tmp_path: Path) -> None:
    """README: the lab's exit status is 0 only when it was quit (a crash once exited 0)."""
    env = {**os.environ, "REGTUI_HOME": str(tmp_path / "home"), "REGTUI_PRESETS_DIR": str(tmp_path / "p")}
    proc = subprocess.run([sys.executable, "-c", CRASHING_LAB], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "ZeroDivisionError" in proc.stdout + proc.stderr


def test_text_from_files_is_data(tmp_path: Path, capsys, monkeypatch) -> None:
    """README: names and descriptions are text, never markup, and control characters are made visible."""
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=1)
                      .replace('name = "long"', 'name = "[link=file:///etc/passwd]x[/link]"\n'
                                                'description = "\\u001b]0;PWNED\\u0007"')
                      .replace('name = "baseline"', 'name = "[/]"'))
    assert main(["run", str(preset)]) == 0
    assert main(["history", "show", "1"]) == 0
    out = "".join(capsys.readouterr())
    assert "\x1b" not in out and "[/]" in out and "[link=file:///etc/passwd]x[/link]" in out


def test_one_bad_row_never_breaks_the_history(tmp_path: Path, capsys, monkeypatch) -> None:
    """README: a damaged run is listed as damaged, the rest works, and it can be deleted."""
    import sqlite3

    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=1))
    for _ in range(2):
        assert main(["run", str(preset), "--quiet"]) == 0
    with sqlite3.connect(tmp_path / "home" / "history.sqlite3") as db:
        db.execute("UPDATE runs SET variant_names = 'not json' WHERE id = 1")
    capsys.readouterr()
    assert main(["history", "list"]) == 0 and "damaged" in capsys.readouterr().out
    assert main(["history", "show", "2"]) == 0
    assert main(["history", "delete", "1", "--yes"]) == 0


def test_a_run_that_cannot_fit_is_refused_before_it_starts(tmp_path: Path, capsys, monkeypatch) -> None:
    """README: one line saying how much it needs and has, before any net is built."""
    from regtui.core import memory

    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 64 << 20)
    preset = tmp_path / "p.toml"
    preset.write_text(LONG_TOML.format(epochs=100000).replace("hidden = [8]", "hidden = [4096, 4096]"))
    assert main(["run", str(preset)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs about" in err and "64 MiB is available" in err


def test_a_busy_history_loses_no_epoch(tmp_path: Path, monkeypatch) -> None:
    """README: while another process holds the history's lock, epochs wait and are written later."""
    import sqlite3

    from regtui.core import recorder as recorder_mod
    from regtui.core.run_types import EpochEnd, RunStatus
    from regtui.core.store import RunStore

    from regtui.core import presets

    monkeypatch.setattr(recorder_mod, "EPOCH_WAIT_S", 0.01)

    exp = presets.parse_toml(LONG_TOML.format(epochs=100000), "long")
    path = tmp_path / "history.sqlite3"
    with RunStore.open(path) as store:
        rec = store.recorder(exp)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        for epoch in range(10):
            row = EpochMetrics(epoch, 0.5, 0.6, 0.9, 0.8, 0.5, 0.0, 3.0, 0.1, 0.0)
            rec.add(EpochEnd(epoch, (row, row), (RunStatus.RUNNING,) * 2, 0.0))
        other.execute("COMMIT")
        rec.finish()
        assert rec.error is None
        assert len(store.load_run(rec.run_id).history.variants[0]) == 10
