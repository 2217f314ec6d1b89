"""``regtui run`` end to end on a tiny preset: outputs, exit codes, errors."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from regtui.cli import main
from regtui.core import presets
from regtui.core.data import make_dataset
from regtui.core.model import initial_layers, plain_mlp

METRICS = ["epoch", "train_loss", "val_loss", "train_acc", "val_acc", "objective", "penalty", "weight_norm", "gap", "seconds"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("regtui")
    for needle in needles:
        assert needle in err, (needle, err)


def test_run_writes_json_csv_and_models(capsys, tiny_preset_file, tmp_path):
    out_json, out_csv, models = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "models"
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--json", str(out_json), "--csv", str(out_csv),
                         "--save-models", str(models))
    assert code == 0, err
    assert "baseline" in out and "Dropout" in out  # the results table
    exp = presets.load_file(tiny_preset_file)

    data = json.loads(out_json.read_text())
    assert {"experiment", "variants"} <= set(data)
    assert presets.experiment_from_dict(data["experiment"]) == exp
    assert [v["name"] for v in data["variants"]] == ["baseline", "L2", "Dropout"]
    for v in data["variants"]:
        assert {"name", "status", "history", "best"} <= set(v)
        assert v["status"] == "finished"
        assert [row["epoch"] for row in v["history"]] == [0, 1, 2, 3]
        for row in v["history"]:
            assert list(row) == METRICS
            assert isinstance(row["epoch"], int)
            assert all(isinstance(row[m], float) and math.isfinite(row[m]) for m in METRICS[1:])
            assert row["gap"] == pytest.approx(row["val_loss"] - row["train_loss"], abs=1e-7)
        vals = [row["val_loss"] for row in v["history"]]
        assert v["best"] == {"epoch": vals.index(min(vals)), "val_loss": min(vals)}
    penalties = {v["name"]: v["history"][-1]["penalty"] for v in data["variants"]}
    assert penalties["baseline"] == 0.0 and penalties["L2"] > 0.0

    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 3 * 4  # one per variant and epoch
    assert list(rows[0]) == ["variant", "status", *METRICS]
    assert [(r["variant"], int(r["epoch"])) for r in rows] == [(n, e) for n in ("baseline", "L2", "Dropout") for e in range(4)]
    by_json = {(v["name"], row["epoch"]): row for v in data["variants"] for row in v["history"]}
    for r in rows:
        assert float(r["val_loss"]) == by_json[(r["variant"], int(r["epoch"]))]["val_loss"]

    ds = make_dataset(exp.data)
    x_val, y_val = torch.from_numpy(ds.x_val), torch.from_numpy(ds.y_val)
    assert sorted(p.name for p in models.iterdir()) == ["Dropout.pt", "L2.pt", "baseline.pt"]
    for v in data["variants"]:
        state = torch.load(models / f"{v['name']}.pt", weights_only=True)
        assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        net = plain_mlp(initial_layers(2, (8,), 2, 0), "relu")
        net.load_state_dict(state)
        net.eval()
        with torch.no_grad():
            val_loss = float(torch.nn.functional.cross_entropy(net(x_val), y_val))
        assert val_loss == pytest.approx(v["history"][-1]["val_loss"], abs=1e-6)  # the final weights


def test_run_by_name_from_the_user_folder_with_overrides(capsys, tiny_preset_file, isolated_user_folders, tmp_path):
    user = isolated_user_folders / "user-presets"
    user.mkdir()
    (user / "mine.toml").write_text(tiny_preset_file.read_text())
    out_json = tmp_path / "o.json"
    code, _, err = run(capsys, "run", "mine", "-q", "--json", str(out_json), "--set", "train.epochs=1",
                       "--set", "variants.L2.l2=0.5", "--set", "model.hidden=[4]")
    assert code == 0, err
    data = json.loads(out_json.read_text())
    assert data["experiment"]["train"]["epochs"] == 1
    assert data["experiment"]["model"]["hidden"] == [4]
    assert data["experiment"]["variants"][1]["l2"] == 0.5
    assert all(len(v["history"]) == 2 for v in data["variants"])


def test_quiet_prints_nothing(capsys, tiny_preset_file):
    code, out, err = run(capsys, "run", str(tiny_preset_file), "-q", "--set", "train.epochs=1")
    assert code == 0 and out == "" and err == ""


def test_divergence_is_a_result_exit_0_and_json_has_nulls(capsys, tiny_preset_file, tmp_path):
    out_json = tmp_path / "d.json"
    code, _, err = run(capsys, "run", str(tiny_preset_file), "-q", "--json", str(out_json),
                       "--set", "variants.L2.l2=1000000", "--set", "train.batch_size=4", "--set", "train.lr=1")
    assert code == 0, err
    text = out_json.read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    statuses = {v["name"]: v["status"] for v in data["variants"]}
    assert statuses == {"baseline": "finished", "L2": "diverged", "Dropout": "finished"}


def test_interrupt_writes_partial_results_and_exits_130(capsys, tiny_preset_file, tmp_path, monkeypatch):
    """Ctrl+C (a KeyboardInterrupt out of the event stream) after epoch 1."""
    from regtui.core.run_types import EpochEnd
    from regtui.core.training import Training

    original = Training.events

    def events_then_interrupt(self):
        for event in original(self):
            yield event
            if isinstance(event, EpochEnd) and event.epoch == 1:
                raise KeyboardInterrupt

    monkeypatch.setattr(Training, "events", events_then_interrupt)
    out_json = tmp_path / "i.json"
    code, _, _ = run(capsys, "run", str(tiny_preset_file), "-q", "--json", str(out_json))
    assert code == 130
    data = json.loads(out_json.read_text())
    assert all(v["status"] == "stopped" and len(v["history"]) == 2 for v in data["variants"])


# --------------------------------------------------------------------------- errors

def test_missing_preset_is_exit_2_one_line(capsys):
    code, out, err = run(capsys, "run", "no-such-preset")
    assert_one_line_error(code, err, "no-such-preset", "moons-overfit")
    assert out == ""


def test_missing_preset_file_is_exit_2_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "run", str(tmp_path / "gone.toml"))
    assert_one_line_error(code, err, "gone.toml", "no such preset file")


@pytest.mark.parametrize("override,needles", [
    ("train.epochs=abc", ("train.epochs", "must be an integer")),
    ("variants.Nope.l2=1", ("Nope", "baseline, L2, Dropout")),
    ("train.epochs", ("KEY=VALUE",)),
    ("model.hidden=[0]", ("model.hidden[0]",)),
])
def test_bad_set_is_exit_2_one_line(capsys, tiny_preset_file, override, needles):
    code, _, err = run(capsys, "run", str(tiny_preset_file), "--set", override)
    assert_one_line_error(code, err, "--set", *needles)


@pytest.mark.parametrize("text,needles", [
    ("[data\n", ("not valid TOML",)),
    ("[data]\nsize = 5\n", ("data.size", "unknown key")),
    ("variants = 5\n", ("variants", "[[variants]]")),
    ("[[variants]]\nname = \"D\"\ndropout = 1.0\n", ("variants.D.dropout", "[0, 1)")),
])
def test_malformed_file_is_exit_2_one_line_naming_the_file(capsys, tmp_path, text, needles):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    code, _, err = run(capsys, "run", str(path))
    assert_one_line_error(code, err, str(path), *needles)


def test_too_many_samples_is_exit_2_one_line(capsys, tiny_preset_file):
    code, _, err = run(capsys, "run", str(tiny_preset_file), "--set", "data.dataset=digits", "--set", "data.n_train=5000")
    assert_one_line_error(code, err, "data.n_train", "1797")


def test_errors_from_a_real_process_have_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nlr = nan\n")
    proc = subprocess.run([sys.executable, "-m", "regtui", "run", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr and "train.lr" in proc.stderr and "finite" in proc.stderr


def test_main_with_an_argv_leaves_the_callers_collector_alone(tiny_preset_file):
    """``regtui.startup`` holds the collector only in a process that runs
    ``main()`` as itself (tests/core/test_headless.py checks that process)."""
    import gc

    before = gc.get_freeze_count()
    assert gc.isenabled()
    assert main(["run", str(tiny_preset_file), "--quiet", "--no-history"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == before


def test_unknown_option_is_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "x", "--no-such-option"])
    assert info.value.code == 2


def test_save_models_keeps_every_variant(capsys, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[data]\nn_train = 20\nn_val = 10\n[model]\nhidden = [4]\n[train]\nepochs = 1\ndevice = "cpu"\n'
                    '[[variants]]\nname = "a b"\n[[variants]]\nname = "a_b"\nl2 = 0.1\n')
    models = tmp_path / "m"
    code, _, _ = run(capsys, "run", str(path), "-q", "--save-models", str(models))
    assert code == 0
    assert len(list(models.iterdir())) == 2


def test_a_run_on_a_relative_data_file_can_be_rerun_from_the_history(capsys, tmp_path, monkeypatch):
    """The preset names ``d.csv`` next to itself; the history keeps where that is,
    so the stored run trains again from any folder (the lab's re-run)."""
    from regtui.core.store import RunStore

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "d.csv").write_text("x1,x2,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    (folder / "p.toml").write_text('[data]\ndataset = "csv"\npath = "d.csv"\n[model]\nhidden = [4]\n'
                                   '[train]\nepochs = 1\ndevice = "cpu"\n[[variants]]\nname = "baseline"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run(capsys, "run", str(folder / "p.toml"), "-q")
    assert code == 0, err
    with RunStore.open() as store:
        (summary,) = store.list_runs()
        stored = store.load_run(summary.id)
    assert Path(stored.experiment.data.path) == folder / "d.csv"
    monkeypatch.chdir(tmp_path)
    again = make_dataset(stored.experiment.data, stored.experiment.source_dir or None)
    assert again.n_features == 2 and again.task == "classification"


def test_the_table_names_its_ranking_statistic_and_rank_by_switches_it(capsys, tiny_preset_file, tmp_path):
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--no-history", "--json", str(out_json))
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("variant"))
    assert header.split()[:3] == ["variant", "end", "val"] and "best@ep" in header
    data = json.loads(out_json.read_text())
    assert data["ranking"]["by"] == "end" and data["ranking"]["winner"] in out
    assert f"{data['ranking']['winner']} ★" in out  # the ★ is the ranking's winner
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--no-history", "--rank-by", "best", "--json", str(out_json), "--force")
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("variant"))
    assert header.split()[:3] == ["variant", "best", "val"]
    data = json.loads(out_json.read_text())
    assert data["experiment"]["train"]["rank_by"] == "best" and data["ranking"]["by"] == "best"
    bests = {v["name"]: v["best"]["val_loss"] for v in data["variants"]}
    assert data["ranking"]["winner"] == min(bests, key=bests.get)
    assert "Ranked by best val (each variant's best epoch: early stopping)" in " ".join(out.split())


def test_run_reports_each_claim_of_the_preset(capsys, tiny_preset_file):
    tiny_preset_file.write_text(tiny_preset_file.read_text() + '\n[[claims]]\nbetter = ["L2"]\nthan = "baseline"\n')
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--no-history")
    assert code == 0, err
    assert "claim: L2 beats baseline by end val: not checked, needs at least 2 seeds" in " ".join(out.split())
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--no-history", "--seeds", "2")
    assert code == 0, err
    line = " ".join(out.split())
    assert "claim: L2 beats baseline by end val: " in line and " over 2 seeds (paired t-test: L2 p = " in line
