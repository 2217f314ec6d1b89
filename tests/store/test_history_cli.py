"""``regtui history`` in-process through ``regtui.cli.main``, with REGTUI_HOME in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from regtui.cli import main
from regtui.core import store as store_mod
from regtui.core.results import RunHistory
from regtui.core.store import RunStore
from regtui.core.run_types import EpochEnd
from regtui.core.training import Training


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("REGTUI_HOME", str(folder))
    return folder


@pytest.fixture
def recorded(home: Path, tiny_experiment) -> tuple[int, RunHistory]:
    """One finished tiny run in the history; its id and the history the run produced."""
    exp = tiny_experiment(data={"n_train": 32}, train={"epochs": 3})
    history = RunHistory(exp)
    with RunStore.open() as store, store.recorder(exp, source="cli", preset="tiny") as rec:
        for event in Training(exp).events():
            rec.add(event)
            if isinstance(event, EpochEnd):
                history.add(event)
    return rec.run_id, history


def one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("regtui history"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize("action", [[], ["list"], ["show"], ["export"], ["delete"]])
def test_help(action: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["history", *action, "--help"])
    assert info.value.code == 0
    assert "usage: regtui history" in capsys.readouterr().out


def test_list_empty(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "list"]) == 0
    assert "no runs recorded" in capsys.readouterr().out


def test_list_table_and_json(recorded, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, history = recorded
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "finished" in out and "3/3" in out
    assert main(["history", "list", "--json", "--limit", "5"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["status"], row["preset"], row["variants"]) == (run_id, "finished", "tiny", ["baseline", "L2", "Dropout"])
    assert row["rank_variant"] == history.winner() and row["rank_by"] == "end"
    assert row["rank_value"] == pytest.approx(history.ranked()[0].score.value)
    assert main(["history", "list", "--json", "--query", "nothing-like-this"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_show(recorded, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ = recorded
    assert main(["history", "show", str(run_id)]) == 0
    out = capsys.readouterr().out
    assert f"run       {run_id}: tiny (cli), finished" in out
    assert "baseline" in out and "λ=0.01" in out and "drop p=0.5" in out


def test_export_json_and_csv_match_run_outputs(recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, history = recorded
    assert main(["history", "export", str(run_id), "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(json.dumps(history.to_json()))
    assert main(["history", "export", str(run_id), "--csv", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text() == history.to_csv()
    capsys.readouterr()
    assert main(["history", "export", str(run_id), "--csv", "-"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["variant", "status", "epoch"] and len(rows) == 1 + 3 * 4


def test_export_needs_a_format(recorded) -> None:
    with pytest.raises(SystemExit) as info:
        main(["history", "export", str(recorded[0])])
    assert info.value.code == 2


def test_export_to_an_unwritable_place(recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-folder").mkdir()
    assert main(["history", "export", str(recorded[0]), "--json", str(tmp_path / "a-folder")]) == 2
    one_line_error(capsys, "a-folder")


def test_delete_with_yes(recorded, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ = recorded
    assert main(["history", "delete", str(run_id), "--yes"]) == 0
    assert f"deleted run {run_id}" in capsys.readouterr().out
    assert main(["history", "show", str(run_id)]) == 2
    one_line_error(capsys, f"no run with id {run_id}")


def test_delete_without_a_terminal_refuses(recorded, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a TTY
    assert main(["history", "delete", str(recorded[0])]) == 2
    one_line_error(capsys, "--yes")
    with RunStore.open() as store:
        assert len(store.list_runs()) == 1


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "left"), [("y\n", 0, 0), ("\n", 2, 1), ("", 2, 1)])
def test_delete_asks_on_a_terminal(recorded, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, left: int) -> None:
    monkeypatch.setattr("sys.stdin", FakeTTY(answer))
    assert main(["history", "delete", str(recorded[0])]) == code
    with RunStore.open() as store:
        assert len(store.list_runs()) == left


@pytest.mark.parametrize("action", [["show", "42"], ["export", "42", "--json", "x.json"], ["delete", "42", "--yes"]])
def test_missing_id(home: Path, action: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", *action]) == 2
    one_line_error(capsys, "no run with id 42", str(home / "history.sqlite3"))


@pytest.mark.parametrize("action", [["list"], ["show", "1"], ["export", "1", "--csv", "x.csv"], ["delete", "1", "--yes"]])
def test_newer_schema(home: Path, action: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    RunStore.open().close()
    newer = store_mod.SCHEMA_VERSION + 5
    with sqlite3.connect(home / "history.sqlite3") as db:
        db.execute(f"PRAGMA user_version = {newer}")
    assert main(["history", *action]) == 2
    one_line_error(capsys, f"schema version {newer}", f"up to schema version {store_mod.SCHEMA_VERSION}")


def test_unreadable_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home.mkdir()
    (home / "history.sqlite3").write_bytes(b"\x00garbage, not a database\x01" * 100)
    assert main(["history", "list"]) == 2
    one_line_error(capsys, "history.sqlite3")


def test_a_history_path_that_is_a_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "history.sqlite3").mkdir(parents=True)
    assert main(["history", "list", "--json"]) == 2
    one_line_error(capsys, "history.sqlite3")
