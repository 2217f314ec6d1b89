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
    assert "2 row(s) with missing or invalid values, first at line 12, column 'x2': 'abc' is not a number" in text
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
    ({"X": np.array([[1, None]], dtype=object), "y": np.zeros(1)}, "must be numeric arrays"),
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


# --------------------------------------------------------------------------- hostile files (issue 16, item 8)

def csv_error(tmp_path: Path, content: str | bytes, extra: str = "") -> str:
    path = tmp_path / "d.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as info:
        data_of(csv_preset(extra), tmp_path)
    assert str(path) in str(info.value)  # every message names the file
    return str(info.value)


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", "1e400"])
def test_a_non_finite_regression_target_is_refused_not_made_a_class(tmp_path: Path, bad: str) -> None:
    rows = "a,y\n" + "".join(f"{i},{i * 0.5 + 0.25}\n" for i in range(20)) + f"3,{bad}\n"
    text = csv_error(tmp_path, rows)
    assert "first at line 22, column 'y'" in text and "not a finite number" in text
    ds = data_of(csv_preset("drop_invalid = true"), tmp_path)
    assert ds.task == "regression" and len(ds.x_train) + len(ds.x_val) == 20


def test_duplicate_header_names_are_refused(tmp_path: Path) -> None:
    text = csv_error(tmp_path, "a,b,a,y\n" + "".join(f"{i},{i},{-i},{i % 2}\n" for i in range(10)))
    assert "names column 'a' twice (columns 1 and 3)" in text


def test_a_headerless_csv_with_text_labels_keeps_its_first_row(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("".join(f"{i}.5,{i * 2},{'cat' if i % 2 else 'dog'}\n" for i in range(20)))
    ds = data_of(csv_preset(), tmp_path)
    assert len(ds.x_train) + len(ds.x_val) == 20 and ds.classes == ("cat", "dog")


def test_numeric_labels_are_compared_exactly(tmp_path: Path) -> None:
    big = 2 ** 63
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{big + i % 2}\n" for i in range(20)))
    ds = data_of(csv_preset(), tmp_path)
    assert ds.classes == (str(big), str(big + 1))  # float() would have made them one class
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{'1.0' if i % 3 == 0 else i % 2}\n" for i in range(20)))
    assert data_of(csv_preset(), tmp_path).n_classes == 2  # 1 and 1.0 are one class


def test_numbers_are_read_strictly(tmp_path: Path) -> None:
    rows = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)) + "1_000,1\n"
    assert "line 12, column 'a': '1_000' is not a number" in csv_error(tmp_path, rows)
    rows = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)) + "\uff11\uff12,1\n"  # full-width digits
    assert "is not a number" in csv_error(tmp_path, rows)


@pytest.mark.parametrize("standardize", ["true", "false"])
def test_features_beyond_float32_are_refused(tmp_path: Path, standardize: str) -> None:
    rows = "a,b,y\n" + "".join(f"{i},{(-1) ** i * 1e308},{i % 2}\n" for i in range(10))
    text = csv_error(tmp_path, rows, f"standardize = {standardize}")
    assert "column 'b'" in text and "beyond float32's range" in text


def test_rows_of_another_width_are_named(tmp_path: Path) -> None:
    rows = "a,b,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)) + "1,2,3,4\n"
    assert "line 12, 4 fields where the header has 3" in csv_error(tmp_path, rows)


@pytest.mark.parametrize("content, words", [
    ("y\n1\n2\n", "has one column"),
    ("1\n0\n1\n", "has one column"),
    ("a,y\n", "no data rows"),
    ("\n \n,,\n", "is empty"),
])
def test_degenerate_csv_files(tmp_path: Path, content: str, words: str) -> None:
    assert words in csv_error(tmp_path, content)


def test_a_field_over_the_csv_module_limit_is_one_line(tmp_path: Path) -> None:
    rows = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)) + '"' + "x" * 140_000 + '",1\n'
    text = csv_error(tmp_path, rows)
    assert "line 12" in text and "field larger than field limit" in text


def test_many_columns_are_read_by_name(tmp_path: Path) -> None:
    """Columns are found through a dict (the old list.index made 40,000 columns take 14 s);
    the speed is measured in benchmarks/bench_datafiles.py."""
    n = 3000
    header = ",".join(f"c{j}" for j in range(n)) + ",y\n"
    rows = "".join(",".join(str((i * j) % 7) for j in range(n)) + f",{i % 2}\n" for i in range(10))
    (tmp_path / "d.csv").write_text(header + rows)
    ds = data_of(csv_preset(f'features = ["c{n - 1}", "c1"]'), tmp_path)
    assert ds.n_features == 2
    raw = data_of(csv_preset("standardize = false"), tmp_path)
    assert raw.n_features == n and sorted(np.concatenate([raw.x_train, raw.x_val])[:, n - 1].tolist()) == \
        sorted(float((i * (n - 1)) % 7) for i in range(10))
    text = csv_error(tmp_path, header + rows, 'target = "nope"')
    assert f"({n + 1} in all)" in text and len(text) < 500  # the column list is cut, not 3000 names


def idx_bytes(dims: tuple[int, ...], data: bytes = b"") -> bytes:
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


@pytest.mark.parametrize("name, content, words", [
    ("train-images-idx3-ubyte", idx_bytes((0, 28, 28)), "holds no items"),
    ("train-images-idx3-ubyte", idx_bytes((50, 0, 0)), "images of 0×0 pixels"),
    ("train-images-idx3-ubyte", idx_bytes((2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1)), "truncated or corrupt"),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_bytes((2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1))), "is available"),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_bytes((50, 28, 28), bytes(50 * 28 * 28 * 40))),
     "holds more data bytes"),
], ids=["0-items", "0x0-images", "4e28-bytes-plain", "4e28-bytes-gzip", "gzip-bomb"])
def test_hostile_idx_headers(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    folder = mnist_folder(tmp_path / "mnist", gz=True)
    (folder / "train-images-idx3-ubyte.gz").unlink()
    (folder / name).write_bytes(content)
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "idx"\npath = "mnist"\n', tmp_path)
    assert str(folder / name) in str(info.value) and words in str(info.value)


@pytest.mark.parametrize("arrays, words", [
    ({"X": np.zeros((4, 0)), "y": np.zeros(4)}, "0 features"),
    ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, "X has no rows"),
    ({"X": np.array(1.0), "y": np.array(1.0)}, "0-d array"),
    ({"X": np.full((4, 2), 1e308), "y": np.array([0, 1, 0, 1])}, "beyond float32's range"),
    ({"X": np.zeros((4, 2)), "y": np.zeros((4, 2))}, "one target per row"),
])
def test_degenerate_npz_files(tmp_path: Path, arrays: dict, words: str) -> None:
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert str(tmp_path / "a.npz") in str(info.value) and words in str(info.value)


def test_npz_integer_labels_stay_exact(tmp_path: Path) -> None:
    big = np.uint64(2 ** 63)
    y = np.array([big, big + np.uint64(1)] * 10, dtype=np.uint64)
    np.savez(tmp_path / "a.npz", X=np.arange(40.0).reshape(20, 2), y=y)
    ds = data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert ds.classes == (str(2 ** 63), str(2 ** 63 + 1))


def test_a_zip_bomb_npz_is_refused_from_its_header(tmp_path: Path) -> None:
    """A member whose header promises 8 TB of zeros (a few hundred kB compressed) is
    refused before its data is read."""
    import zipfile

    header = io_npy_header((10 ** 12,), "<f8")
    with zipfile.ZipFile(tmp_path / "a.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("X.npy", "w", force_zip64=True) as fh:
            fh.write(header)
            fh.write(bytes(1 << 20))  # a start of the promised zeros is enough to show the point
        zf.writestr("y.npy", io_npy_header((10 ** 12,), "<f8"))
    with pytest.raises(ConfigError) as info:
        data_of('[data]\ndataset = "npz"\npath = "a.npz"\n', tmp_path)
    assert "is available" in str(info.value) and "X 1000000000000 float64" in str(info.value)


def io_npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()
