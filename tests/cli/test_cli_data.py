"""``regtui data PRESET --out F.npz``: the exact arrays a preset trains on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from regtui.cli import main
from regtui.core import presets
from regtui.core.data import make_dataset
from regtui.core.overrides import with_overrides


def _read(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:  # no pickles: plain arrays only
        return {k: npz[k] for k in npz.files}


def test_writes_the_arrays_training_sees(tmp_path, tiny_preset_file, capsys):
    out = tmp_path / "tiny.npz"
    assert main(["data", str(tiny_preset_file), "--out", str(out)]) == 0
    got = _read(out)
    assert set(got) == {"X_train", "y_train", "X_val", "y_val", "class_names"}
    from regtui.core.training import Training

    training = Training(presets.load_file(tiny_preset_file))  # the tensors a run trains on
    for key, tensor in (("X_train", training.x_train), ("y_train", training.y_train),
                        ("X_val", training.x_val), ("y_val", training.y_val)):
        assert got[key].dtype == tensor.numpy().dtype
        assert np.array_equal(got[key], tensor.numpy()), key
    assert got["X_train"].shape == (48, 2) and got["X_val"].shape == (32, 2)
    assert got["class_names"].tolist() == ["0", "1"]
    assert f"48 train / 32 validation rows, 2 features (classification) written to {out}" in capsys.readouterr().err


def test_overrides_and_a_bundled_preset(tmp_path):
    out = tmp_path / "article.npz"
    assert main(["data", "article", "--set", "data.n_train=40", "--set", "data.n_val=30", "--out", str(out)]) == 0
    got = _read(out)
    exp = with_overrides(presets.load("article"), ["data.n_train=40", "data.n_val=30"])
    ds = make_dataset(exp.data)
    assert np.array_equal(got["X_train"], ds.x_train) and np.array_equal(got["y_val"], ds.y_val)
    assert got["X_train"].shape == (40, 64) and got["X_train"].dtype == np.float32
    assert got["y_train"].dtype == np.int64
    assert got["class_names"].tolist() == [str(i) for i in range(10)]
    assert abs(float(got["X_train"].mean())) < 1e-5  # standardized with the training split's statistics


def test_regression_targets_and_no_class_names(tmp_path):
    out = tmp_path / "reg.npz"
    assert main(["data", "d2l-weight-decay", "--set", "data.n_train=20", "--out", str(out)]) == 0
    got = _read(out)
    assert got["y_train"].dtype == np.float32 and got["y_train"].shape == (20,)
    assert got["class_names"].shape == (0,)


def test_a_csv_preset_keeps_its_class_names_and_relative_path(tmp_path):
    rows = ["a,b,kind"] + [f"{i},{i % 3},{'cat' if i % 2 else 'dog'}" for i in range(30)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    preset = tmp_path / "p.toml"
    preset.write_text('[data]\ndataset = "csv"\npath = "d.csv"\nn_train = 20\n', encoding="utf-8")
    out = tmp_path / "d.npz"
    assert main(["data", str(preset), "--out", str(out)]) == 0
    got = _read(out)
    assert got["class_names"].tolist() == ["cat", "dog"]
    assert len(got["y_train"]) == 20 and len(got["y_val"]) == 10


@pytest.mark.parametrize("argv,needle", [
    (["data", "no-such-preset", "--out", "x.npz"], "no-such-preset"),
    (["data", "article", "--set", "data.n_train=1", "--out", "x.npz"], "data.n_train"),
])
def test_bad_preset_is_exit_2_one_line(tmp_path, capsys, argv, needle, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("regtui data: ") and needle in err and "\n" not in err
    assert not (tmp_path / "x.npz").exists()


def test_an_existing_file_needs_force_and_a_folder_is_refused(tmp_path, tiny_preset_file, capsys):
    out = tmp_path / "old.npz"
    out.write_bytes(b"keep me")
    assert main(["data", str(tiny_preset_file), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"regtui data: --out {out}: exists") and "--force" in err and "\n" not in err
    assert out.read_bytes() == b"keep me"  # nothing replaced
    assert main(["data", str(tiny_preset_file), "--out", str(out), "--force"]) == 0
    assert _read(out)["X_train"].shape == (48, 2)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert main(["data", str(tiny_preset_file), "--out", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_the_preset_itself_is_never_overwritten(tiny_preset_file, capsys):
    before = tiny_preset_file.read_text(encoding="utf-8")
    assert main(["data", str(tiny_preset_file), "--out", str(tiny_preset_file), "--force"]) == 2
    assert "the preset of this run" in capsys.readouterr().err
    assert tiny_preset_file.read_text(encoding="utf-8") == before


def test_out_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        main(["data", "article"])
    assert info.value.code == 2
    assert "--out" in capsys.readouterr().err
