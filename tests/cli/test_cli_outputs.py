"""Where --json, --csv, --save-models and history export may write (issue 16, items 1 and 2).

The rule (regtui.core.files): a regular file in a writable folder, written
atomically and replaced only with --force; -, a character device or a FIFO as
a stream; never a folder, a link, the run history, the preset or the data file;
every path checked before training, a failure at the end named in one line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from regtui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def recorded_runs(home: Path) -> int:
    store = home / "history.sqlite3"
    if not store.exists():
        return 0
    with sqlite3.connect(store) as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _folder(t: Path) -> Path:
    (t / "a-folder").mkdir()
    return t / "a-folder"


def _existing(t: Path) -> Path:
    (t / "r.json").write_text("old")
    return t / "r.json"


def _link(t: Path) -> Path:
    os.symlink(t / "elsewhere.json", t / "link.json")
    return t / "link.json"


@pytest.mark.parametrize("make, words", [
    (_folder, "is a folder"),
    (lambda t: t / "no-such-folder" / "r.json", "does not exist"),
    (lambda t: Path("/proc/regtui-cannot-write-here.json"), "cannot write in /proc"),
    (_existing, "exists; pass --force"),
    (_link, "is a symbolic link"),
], ids=["folder", "missing-folder", "unwritable-folder", "existing-file", "symlink"])
def test_a_bad_output_path_is_one_line_before_training(capsys, tiny_preset_file: Path, tmp_path: Path,
                                                        make, words: str) -> None:
    target = make(tmp_path)
    before = target.read_text() if target.is_file() and not target.is_symlink() else None
    code, _, err = run(capsys, "run", str(tiny_preset_file), "--json", str(target))
    assert code == 2
    line = one_line(err)
    assert line.startswith("regtui run: --json ") and words in line, line
    assert recorded_runs(tmp_path / "regtui-home") == 0  # refused before the run started
    assert not (tmp_path / "elsewhere.json").exists()
    if before is not None:
        assert target.read_text() == before


def test_an_existing_file_is_replaced_with_force_atomically(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    inode = target.stat().st_ino
    code, _, err = run(capsys, "run", str(tiny_preset_file), "-q", "--json", str(target), "--force")
    assert code == 0, err
    assert json.loads(target.read_text())["variants"]
    assert target.stat().st_ino != inode  # a new file renamed over the old one
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_the_run_history_is_never_overwritten(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    assert run(capsys, "run", str(tiny_preset_file), "-q")[0] == 0
    store = tmp_path / "regtui-home" / "history.sqlite3"
    for argv in (["history", "export", "1", "--json", str(store), "--force"],
                 ["history", "export", "1", "--csv", str(store) + "-wal", "--force"],
                 ["run", str(tiny_preset_file), "--json", str(store), "--force"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "run history" in one_line(err), err
    assert recorded_runs(tmp_path / "regtui-home") == 1  # still a database, still one run


def test_the_preset_and_the_data_file_are_never_outputs(capsys, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    preset = tmp_path / "p.toml"
    preset.write_text('[data]\ndataset = "csv"\npath = "d.csv"\n[train]\nepochs = 1\n')
    for option, target, words in (("--json", preset, "the preset of this run"),
                                  ("--csv", tmp_path / "d.csv", "the data file of this run")):
        code, _, err = run(capsys, "run", str(preset), option, str(target), "--force")
        assert code == 2 and words in one_line(err)
    assert (tmp_path / "d.csv").read_text().startswith("a,y\n")


def test_devices_and_fifos_are_written_as_streams(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = run(capsys, "run", str(tiny_preset_file), "-q", "--csv", str(fifo), "--json", "/dev/null")
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert received and received[0].decode().startswith("variant,")


def test_dash_writes_to_stdout_and_the_table_moves_to_stderr(capsys, tiny_preset_file: Path) -> None:
    code, out, err = run(capsys, "run", str(tiny_preset_file), "--json", "-")
    assert code == 0
    assert json.loads(out)["variants"]  # stdout is the JSON alone
    assert "baseline" in err  # the table went to stderr


def test_two_outputs_cannot_name_the_same_file(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, "run", str(tiny_preset_file), "--json", str(tmp_path / "x"), "--csv", str(tmp_path / "x"))
    assert code == 2 and "--json and --csv both name" in one_line(err)


def test_a_failure_at_the_end_keeps_the_other_outputs_and_says_which(capsys, tiny_preset_file: Path,
                                                                     tmp_path: Path) -> None:
    """/dev/full accepts the open and fails the write with ENOSPC: a full disk, at the end."""
    out_json = tmp_path / "r.json"
    code, _, err = run(capsys, "run", str(tiny_preset_file), "-q", "--json", str(out_json), "--csv", "/dev/full",
                       "--save-models", str(tmp_path / "m"))
    assert code == 1
    line = one_line(err)
    assert "not written: --csv /dev/full" in line and "No space left on device" in line
    assert "written: --json" in line and "--save-models" in line
    assert json.loads(out_json.read_text())["variants"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["Dropout.pt", "L2.pt", "baseline.pt"]


def test_save_models_never_writes_through_a_link(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    models = tmp_path / "m"
    models.mkdir()
    os.symlink(victim, models / "L2.pt")
    code, _, err = run(capsys, "run", str(tiny_preset_file), "--save-models", str(models), "--force")
    assert code == 2 and "is a symbolic link" in one_line(err)
    assert victim.read_text() == "precious" and recorded_runs(tmp_path / "regtui-home") == 0


def test_save_models_refuses_to_replace_without_force_and_replaces_atomically_with_it(
        capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    import torch

    models = tmp_path / "m"
    assert run(capsys, "run", str(tiny_preset_file), "-q", "--save-models", str(models))[0] == 0
    inode = (models / "L2.pt").stat().st_ino
    code, _, err = run(capsys, "run", str(tiny_preset_file), "-q", "--save-models", str(models))
    assert code == 2 and "baseline.pt: exists; pass --force" in one_line(err)
    assert (models / "L2.pt").stat().st_ino == inode
    assert run(capsys, "run", str(tiny_preset_file), "-q", "--save-models", str(models), "--force")[0] == 0
    assert (models / "L2.pt").stat().st_ino != inode
    assert sorted(torch.load(models / "L2.pt", weights_only=True)) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_history_export_follows_the_same_rule(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    assert run(capsys, "run", str(tiny_preset_file), "-q")[0] == 0
    target = tmp_path / "e.csv"
    assert run(capsys, "history", "export", "1", "--csv", str(target))[0] == 0
    code, _, err = run(capsys, "history", "export", "1", "--csv", str(target))
    assert code == 2 and "exists; pass --force" in one_line(err)
    assert run(capsys, "history", "export", "1", "--csv", str(target), "--force")[0] == 0


def test_sweep_json_follows_the_same_rule(capsys, tiny_preset_file: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, "sweep", str(tiny_preset_file), "--grid", "variants.L2.l2=0,0.1",
                       "--json", str(tmp_path))
    assert code == 2 and one_line(err).startswith("regtui sweep: --json") and "is a folder" in err
