"""One bad row never breaks the whole history (issue 16, item 7): it is listed as
damaged with what is wrong, the rest works, and it can be deleted; a read-only
history can be listed; odd ids and limits and a closed pipe are one line or work."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.cli import main
from regtui.core.run_types import RunStatus
from regtui.core.store import RunStore, StoreError
from regtui.core.training import Training

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("REGTUI_HOME", str(folder))
    monkeypatch.setenv("COLUMNS", "200")
    return folder


@pytest.fixture
def three_runs(home: Path, tiny_experiment) -> Path:
    """Three finished tiny runs (ids 1, 2, 3); returns the history file."""
    exp = tiny_experiment(data={"n_train": 32}, train={"epochs": 2})
    with RunStore.open() as store:
        for _ in range(3):
            with store.recorder(exp, source="cli", preset="tiny") as rec:
                for event in Training(exp).events():
                    rec.add(event)
    return home / "history.sqlite3"


def damage(store: Path, sql: str) -> None:
    with sqlite3.connect(store) as db:
        db.execute(sql)


DAMAGE = {
    "variant_names": "UPDATE runs SET variant_names = 'not json' WHERE id = 2",
    "status": "UPDATE runs SET status = 'exploded' WHERE id = 2",
    "started": "UPDATE runs SET started = 'yesterday' WHERE id = 2",
    "config": "UPDATE runs SET config = '" + "[" * 100_000 + "' WHERE id = 2",
    "data_info": "UPDATE runs SET data_info = '{broken' WHERE id = 2",
    "member": "UPDATE members SET status = 'melted' WHERE run_id = 2 AND idx = 0",
    "epoch": "UPDATE epochs SET val_loss = 'lots' WHERE run_id = 2 AND epoch = 1",
    "epoch-member": "UPDATE epochs SET member = 99 WHERE run_id = 2 AND epoch = 1 AND member = 0",
}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("what", list(DAMAGE))
def test_a_damaged_run_is_named_and_the_rest_works(capsys, three_runs: Path, what: str) -> None:
    damage(three_runs, DAMAGE[what])
    code, out, _ = cli(capsys, "history", "list")
    assert code == 0 and all(f" {i} " in f" {out} " for i in ("1", "3"))
    code, out, _ = cli(capsys, "history", "list", "--json")
    listed = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and set(listed) == {1, 2, 3}
    for good in ("1", "3"):
        assert cli(capsys, "history", "show", good)[0] == 0
        assert cli(capsys, "history", "export", good, "--json", "-")[0] == 0
    code, _, err = cli(capsys, "history", "show", "2")
    assert code == 2 and err.count("\n") == 1 and "run 2" in err and ("damaged" in err or "no longer loads" in err)
    code, _, err = cli(capsys, "history", "export", "2", "--csv", "-")
    assert code == 2 and err.count("\n") == 1
    assert cli(capsys, "history", "delete", "2", "--yes")[0] == 0  # a damaged run can be deleted
    code, out, _ = cli(capsys, "history", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [3, 1]


def test_a_damaged_row_says_what_is_wrong(capsys, three_runs: Path) -> None:
    damage(three_runs, DAMAGE["variant_names"])
    with RunStore.open(three_runs) as store:
        runs = {r.id: r for r in store.list_runs()}
        assert runs[2].status is RunStatus.DAMAGED and "variant_names is not JSON" in runs[2].problem
        assert runs[1].problem is None and runs[1].status is RunStatus.FINISHED
        with pytest.raises(StoreError, match="run 2 is damaged.*history delete 2 removes it.*variant_names"):
            store.load_run(2)
    code, out, _ = cli(capsys, "history", "list")
    assert "damaged" in out and "run 2 is damaged: variant_names is not JSON" in out


@pytest.mark.parametrize("argv", [["history", "show", str(2 ** 63)], ["history", "delete", str(2 ** 64), "--yes"],
                                  ["history", "export", str(10 ** 30), "--json", "-"], ["history", "show", "-1"]])
def test_ids_beyond_sqlite_integers_are_no_run(capsys, three_runs: Path, argv: list[str]) -> None:
    code, _, err = cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "no run with id" in err


def test_a_negative_limit_is_one_line(capsys, three_runs: Path) -> None:
    code, _, err = cli(capsys, "history", "list", "-n", "-5")
    assert code == 2 and err.count("\n") == 1 and "--limit: must be 0 or more, got -5" in err


def test_a_closed_pipe_ends_quietly(three_runs: Path, home: Path) -> None:
    """``regtui history list --json | head -c 100``: the reader leaves early."""
    with sqlite3.connect(three_runs) as db:  # enough rows to fill a pipe's buffer many times over
        row = db.execute("SELECT * FROM runs WHERE id = 1").fetchone()
        marks = ",".join("?" * len(row))
        db.executemany(f"INSERT INTO runs VALUES ({marks})", [(None, *row[1:]) for _ in range(1500)])
    env = {**os.environ, "REGTUI_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "regtui", "history", "list", "--json", "-n", "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.read(100)
    proc.stdout.close()  # what head does after its bytes
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=120) == 141, err
    assert err == "", err


def _without_root_overrides() -> None:
    """In the child, before exec: drop the capabilities that let root write anyway
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) from its bounding set."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_a_read_only_history_can_be_listed_and_shown(three_runs: Path, home: Path, tmp_path: Path) -> None:
    """The file and its folder read-only; as root, asked by a process that cannot override permissions."""
    ro_home = tmp_path / "ro"
    shutil.copytree(home, ro_home)
    for p in ro_home.iterdir():
        p.chmod(0o444)
    ro_home.chmod(0o555)
    env = {**os.environ, "REGTUI_HOME": str(ro_home), "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    preexec = _without_root_overrides if os.geteuid() == 0 else None
    try:
        if preexec is not None:
            probe = subprocess.run([sys.executable, "-c", f"open({str(ro_home / 'x')!r}, 'w')"],
                                   capture_output=True, preexec_fn=preexec)
            if probe.returncode == 0:
                pytest.skip("cannot make a read-only folder that this root process respects")
        for argv, words in ((["history", "list"], "finished"), (["history", "show", "1"], "run       1"),
                            (["history", "list", "--json"], '"id": 3'),
                            (["history", "delete", "1", "--yes"], "read-only")):
            proc = subprocess.run([sys.executable, "-m", "regtui", *argv], capture_output=True, text=True,
                                  env=env, timeout=120, preexec_fn=preexec)
            assert "Traceback" not in proc.stderr, proc.stderr
            assert words in proc.stdout + proc.stderr, (argv, proc.stdout, proc.stderr)
            assert proc.returncode == (2 if argv[1] == "delete" else 0), (argv, proc.stderr)
    finally:
        ro_home.chmod(0o755)
