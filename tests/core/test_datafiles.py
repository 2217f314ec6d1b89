"""Bring your own data: CSV, IDX (MNIST layout, gzip or not) and npz files, good and broken."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from regtui.cli import main
from regtui.core import presets
from regtui.core.config import ConfigError
from regtui.core.data import make_dataset


def data_of(toml: str, folder: Path):
    """Write a preset into ``folder`` and build its data set (paths resolve there)."""
    path = folder / "p.toml"
    path.write_text(toml)
    exp = presets.load_file(path)
    return make_dataset(exp.data, exp.source_dir)


def csv_preset(extra: str = "") -> str:
    return f'[data]\ndataset = "csv"\npath = "d.csv"\n{extra}\n'


IRIS_LIKE = "x1,x2,species\n" + "".join(
    f"{i * 0.1:.1f},{(i % 7) * 0.3:.1f},{'setosa' if i % 3 == 0 else 'virginica' if i % 3 == 1 else 'versicolor'}\n"
    for i in range(30))


def test_csv_with_a_header_and_text_classes(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(IRIS_LIKE)
    ds = data_of(csv_preset(), tmp_path)
    assert ds.task == "classification"
    assert ds.classes == ("setosa", "versicolor", "virginica")
    assert ds.x_train.shape == (24, 2) and ds.x_val.shape == (6, 2)  # every row; 20 % for validation
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) == {0, 1, 2}


def test_csv_sizes_subsample_and_features_select(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(IRIS_LIKE)
    ds = data_of(csv_preset('n_train = 10\nn_val = 5\nfeatures = ["x2"]\ntarget = "species"'), tmp_path)
    assert ds.x_train.shape == (10, 1) and ds.x_val.shape == (5, 1)


def test_csv_without_header_uses_the_last_column_and_infers_binary(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("".join(f"{i},{i * 2},{i % 2}\n" for i in range(20)))
    ds = data_of(csv_preset(), tmp_path)
    assert ds.task == "classification" and ds.classes == ("0", "1")


def test_csv_real_valued_target_is_regression(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i * 0.5 + 0.25}\n" for i in range(20)))
    assert data_of(csv_preset(), tmp_path).task == "regression"


def test_csv_ambiguous_integer_target_asks_for_the_task(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i % 5}\n" for i in range(20)))
    with pytest.raises(ConfigError) as info:
        data_of(csv_preset(), tmp_path)
    assert info.value.key == "data.task" and "5 distinct integers" in str(info.value)
    assert data_of(csv_preset('task = "classification"'), tmp_path).n_classes == 5


def test_csv_text_cell_names_line_and_column_and_drop_invalid_drops(tmp_path: Path) -> None:
    rows = "x1,x2,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)) + "3,abc,1\n4,,0\n"
    (tmp_path / "d.csv").write_text(rows)
    with pytest.raises(ConfigError) as info:
        data_of(csv_preset(), tmp_path)
    text = str(info.value)
    assert "2 row(s) with missing or non-numeric values, first at line 12, column 'x2' ('abc')" in text
    assert "drop_invalid" in text
    ds = data_of(csv_preset("drop_invalid = true"), tmp_path)
    assert len(ds.x_train) + len(ds.x_val) == 10


@pytest.mark.parametrize("content, key, words", [
    ("a,b\n1,2\n3,4\n", "data.target", "no column 'label'"),
    ("", "data.path", "is empty"),
])
def test_broken_csv_files(tmp_path: Path, content: str, key: str, words: str) -> None:
    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(ConfigError) as info:
        data_of(csv_preset('target = "label"'), tmp_path)
    assert info.value.key == key and words in str(info.value)


def test_a_missing_file_names_the_path_and_the_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.toml").write_text(csv_preset())
    assert main(["run", str(tmp_path / "p.toml"), "--no-history", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "p.toml") in err and str(tmp_path / "d.csv") in err and "no such file" in err


# --------------------------------------------------------------------------- IDX

def write_idx(path: Path, array: np.ndarray, *, gz: bool, magic: bytes | None = None, cut: int = 0) -> None:
    head = (magic or bytes([0, 0, 8, array.ndim])) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = head + array.astype(np.uint8).tobytes()
    data = data[: len(data) - cut]
    path.write_bytes(gzip.compress(data) if gz else data)


def mnist_folder(folder: Path, *, gz: bool = True, **broken) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    files = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (50, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 50),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 20),
    }
    for name, array in files.items():
        write_idx(folder / (name + (".gz" if gz else "")), array, gz=gz, **broken.get(name, {}))
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_loads_with_its_own_validation_split(tmp_path: Path, gz: bool) -> None:
    mnist_folder(tmp_path / "mnist", gz=gz)
    ds = data_of('[data]\ndataset = "idx"\npath = "mnist"\nstandardize = false\n', tmp_path)
    assert ds.x_train.shape == (50, 784) and ds.x_val.shape == (20, 784)
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert ds.n_classes == 10
    small = data_of('[data]\ndataset = "idx"\npath = "mnist"\nn_train = 30\nn_val = 10\n', tmp_path)
    assert small.x_train.shape == (30, 784) and small.x_val.shape == (10, 784)


@pytest.mark.parametrize("broken, words", [
    ({"train-images-idx3-ubyte": {"cut": 100}}, "truncated or corrupt"),
    ({"t10k-labels-idx1-ubyte": {"magic": b"\x00\x00\x09\x01"}}, "wrong magic number"),
])
def test_broken_idx_files_are_named(tmp_path: Path, broken: dict, words: str) -> None:
    mnist_folder(tmp_path / "mnist")
    name = next(iter(broken))
    rng = np.random.default_rng(1)
    shape = (50, 28, 28) if "images" in name else (20,)
    write_idx(tmp_path / "mnist" / (name + ".gz"), rng.integers(0, 256, shape), gz=True, **broken[name])
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "idx"\npath = "mnist"\n', tmp_path)
    assert name in str(info.value) and words in str(info.value)


def test_idx_label_count_mismatch_is_named(tmp_path: Path) -> None:
    mnist_folder(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(49), gz=True)
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "idx"\npath = "mnist"\n', tmp_path)
    assert "49 labels for 50 images" in str(info.value)


# --------------------------------------------------------------------------- npz

def test_npz_with_and_without_a_validation_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "a.npz", X=rng.normal(size=(40, 3)), y=rng.integers(0, 2, 40))
    ds = data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert ds.x_train.shape == (32, 3) and ds.x_val.shape == (8, 3) and ds.task == "classification"
    np.savez(tmp_path / "a.npz", X=rng.normal(size=(40, 3)), y=rng.normal(size=40),
             X_val=rng.normal(size=(7, 3)), y_val=rng.normal(size=7))
    ds = data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert ds.x_train.shape == (40, 3) and ds.x_val.shape == (7, 3) and ds.task == "regression"


@pytest.mark.parametrize("arrays, words", [
    ({"X": np.zeros((4, 2))}, "no array 'y'"),
    ({"X": np.zeros((4, 2)), "y": np.zeros(3)}, "X has 4 rows but y has 3"),
    ({"X": np.array([[1, None]], dtype=object), "y": np.zeros(1)}, "cannot read"),
])
def test_broken_npz_files(tmp_path: Path, arrays: dict, words: str) -> None:
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert words in str(info.value)


def test_a_csv_preset_trains_end_to_end_and_saves_the_class_mapping(tmp_path: Path) -> None:
    import json

    (tmp_path / "d.csv").write_text(IRIS_LIKE)
    (tmp_path / "p.toml").write_text(csv_preset() + '[model]\nhidden = [8]\n[train]\nepochs = 2\n')
    out = tmp_path / "r.json"
    assert main(["run", str(tmp_path / "p.toml"), "--json", str(out), "--no-history", "--quiet"]) == 0
    assert json.loads(out.read_text())["data"]["classes"] == ["setosa", "versicolor", "virginica"]


def test_a_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ConfigError) as info:
        data_of(csv_preset(), tmp_path)
    assert "is not a regular file" in str(info.value)
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "csv"\npath = "/dev/zero"\n', tmp_path)
    assert "/dev/zero is not a regular file" in str(info.value)
