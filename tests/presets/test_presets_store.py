"""The preset store in the core: names, folders, listing, save, delete, safety."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest

from regtui.core import presets
from regtui.core.config import ConfigError, Experiment, VariantConfig
from regtui.core.overrides import with_overrides

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).resolve().parent.parent / "data" / "presets"
BUNDLED = sorted(p.stem for p in presets.bundled_dir().glob("*.toml"))


def tiny() -> Experiment:
    return presets.load_file(DATA / "good" / "tiny.toml")


# --------------------------------------------------------------------------- names

@pytest.mark.parametrize("name", ["a", "A.b-c_d", "moons-overfit", "v1.2", "_x", "9", "x" * 64])
def test_valid_names(name: str) -> None:
    assert presets.check_name(name) == name
    assert presets.is_valid_name(name)


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "-x", "a/b", "../x", "a\\b", "a..b", "x" * 65,
                                  "a b", "ä", "a\x00", "/abs", "x/", "a:b", "~"])
def test_invalid_names_are_refused_everywhere(name: str, user_dir: Path) -> None:
    with pytest.raises(ConfigError, match="invalid preset name"):
        presets.check_name(name)
    with pytest.raises(ConfigError, match="invalid preset name"):
        presets.save_preset(tiny(), name)
    with pytest.raises(ConfigError, match="invalid preset name"):
        presets.delete_preset(name)
    with pytest.raises(ConfigError, match="invalid preset name"):
        presets.user_preset_path(name)
    assert not user_dir.exists() or not any(user_dir.iterdir())


# --------------------------------------------------------------------------- folders

def test_user_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(presets.PRESETS_ENV, str(tmp_path / "env"))
    assert presets.user_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    assert presets.user_dir() == tmp_path / "env"
    monkeypatch.delenv(presets.PRESETS_ENV)
    import platformdirs

    assert presets.user_dir() == Path(platformdirs.user_config_dir("regtui")) / "presets"


def test_bundled_presets_are_found_and_all_load() -> None:
    assert "moons-overfit" in BUNDLED and presets.DEFAULT_PRESET in BUNDLED
    for entry in presets.list_presets():
        assert entry.bundled and not entry.broken, entry.error


# --------------------------------------------------------------------------- listing

def test_listing_marks_origin_and_shadowing(user_dir: Path) -> None:
    presets.save_preset(tiny(), "moons-overfit")
    presets.save_preset(tiny(), "mine")
    entries = presets.list_presets()
    by_key = {(e.name, e.origin): e for e in entries}
    assert by_key[("moons-overfit", "bundled")].shadowed
    assert by_key[("moons-overfit", "bundled")].status == "bundled, shadowed by user"
    assert by_key[("moons-overfit", "user")].shadows
    assert by_key[("moons-overfit", "user")].status == "user, shadows bundled"
    assert by_key[("mine", "user")].status == "user"
    assert by_key[("spirals", "bundled")].status == "bundled"
    # bundled first, then user
    assert [e.bundled for e in entries] == sorted((e.bundled for e in entries), reverse=True)


def test_user_preset_shadows_bundled_when_loading_by_name(user_dir: Path) -> None:
    bundled = presets.load("moons-overfit")
    presets.save_preset(tiny(), "moons-overfit")
    assert presets.find("moons-overfit") == user_dir / "moons-overfit.toml"
    assert presets.load("moons-overfit").data == tiny().data != bundled.data


def test_broken_files_are_listed_with_their_error_and_the_rest_works(broken_files: list[str], user_dir: Path) -> None:
    presets.save_preset(tiny(), "fine")
    (user_dir / "bad name.toml").write_text('name = "x"\n')
    (user_dir / "huge.toml").write_bytes(b"#" * (presets.MAX_PRESET_BYTES + 1))
    (user_dir / ".hidden.toml").write_text("junk")
    (user_dir / "notes.txt").write_text("junk")
    (user_dir / "dir.toml").mkdir()
    users = {e.name: e for e in presets.list_presets() if not e.bundled}
    assert set(users) == set(broken_files) | {"fine", "bad name", "huge"}
    assert not users["fine"].broken
    for name in [*broken_files, "bad name", "huge"]:
        assert users[name].broken and users[name].experiment is None
    assert "not valid TOML" in users["bad-toml"].error
    assert "train.epochz: unknown key" in users["unknown-key"].error
    assert "train.epochs: must be an integer" in users["wrong-type"].error
    assert "dropout: must be a probability" in users["out-of-range"].error
    assert "not UTF-8" in users["not-utf8"].error
    assert "malformed: arrays or tables nested too deeply" in users["deep-nesting"].error
    assert "not a valid preset name" in users["bad name"].error
    assert "too large" in users["huge"].error
    assert str(user_dir / "bad-toml.toml") in users["bad-toml"].error  # the error names the file
    # everything else still works
    assert presets.load("fine") == replace(tiny(), name="fine")
    assert presets.load("spirals").data.dataset == "spirals"
    presets.save_preset(tiny(), "another")
    presets.delete_preset("bad-toml")
    with pytest.raises(ConfigError, match="unknown key"):
        presets.load("unknown-key")


def test_nothing_in_a_preset_is_executed(user_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    user_dir.mkdir()
    (user_dir / "sneaky.toml").write_text(
        f'name = "sneaky"\ndescription = "$(touch {marker}) `touch {marker}` __import__(\'os\')"\n'
    )
    exp = presets.load("sneaky")
    assert exp.description.startswith("$(touch")
    assert not marker.exists()
    (user_dir / "code.toml").write_text(f"import os; os.system('touch {marker}')\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        presets.load("code")
    assert not marker.exists()


# --------------------------------------------------------------------------- saving

def test_save_writes_every_key_and_the_name(user_dir: Path) -> None:
    path = presets.save_preset(tiny(), "saved")
    assert path == user_dir / "saved.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["name"] == "saved" and raw["description"] == tiny().description
    exp = tiny()
    for section in ("data", "model", "train"):
        assert set(raw[section]) == {f.name for f in fields(getattr(exp, section))}, section
    assert len(raw["variants"]) == len(exp.variants)
    for table in raw["variants"]:
        assert set(table) == {f.name for f in fields(VariantConfig)}


@pytest.mark.parametrize("name", BUNDLED)
def test_load_then_save_is_byte_identical(name: str, user_dir: Path) -> None:
    first = presets.save_preset(presets.load(name), "copy").read_bytes()
    second = presets.save_preset(presets.load("copy"), "copy", overwrite=True).read_bytes()
    assert first == second
    assert presets.load("copy") == replace(presets.load(name), name="copy")


def test_save_refuses_to_overwrite_unless_asked(user_dir: Path) -> None:
    presets.save_preset(tiny(), "mine")
    before = (user_dir / "mine.toml").read_bytes()
    changed = replace(tiny(), description="changed")
    with pytest.raises(presets.PresetExistsError, match="exists"):
        presets.save_preset(changed, "mine")
    assert (user_dir / "mine.toml").read_bytes() == before
    presets.save_preset(changed, "mine", overwrite=True)
    assert presets.load("mine").description == "changed"


def test_saving_a_bundled_name_makes_a_user_preset_and_leaves_bundled_alone(fake_bundled: Path, user_dir: Path) -> None:
    before = (fake_bundled / "spirals.toml").read_bytes()
    path = presets.save_preset(tiny(), "spirals")
    assert path.parent == user_dir
    assert (fake_bundled / "spirals.toml").read_bytes() == before


@pytest.mark.parametrize("inside", [False, True])
def test_never_writes_into_the_bundled_folder(fake_bundled: Path, inside: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = fake_bundled / "sub" if inside else fake_bundled
    monkeypatch.setenv(presets.PRESETS_ENV, str(folder))
    before = {p.name: p.read_bytes() for p in fake_bundled.glob("*.toml")}
    with pytest.raises(ConfigError, match="bundled presets are read-only"):
        presets.save_preset(tiny(), "new")
    with pytest.raises(ConfigError, match="bundled presets are read-only"):
        presets.save_preset(tiny(), "spirals", overwrite=True)
    with pytest.raises(ConfigError, match="read-only"):
        presets.delete_preset("spirals")
    assert {p.name: p.read_bytes() for p in fake_bundled.glob("*.toml")} == before
    assert not (fake_bundled / "sub").exists()


def test_write_failure_leaves_the_old_file_and_no_temporary(user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    presets.save_preset(tiny(), "mine")
    before = (user_dir / "mine.toml").read_bytes()

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ConfigError, match="No space left"):
        presets.save_preset(replace(tiny(), description="new"), "mine", overwrite=True)
    assert (user_dir / "mine.toml").read_bytes() == before
    assert sorted(p.name for p in user_dir.iterdir()) == ["mine.toml"]


def test_interrupted_write_leaves_no_half_file(user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        presets.save_preset(tiny(), "mine")
    assert list(user_dir.iterdir()) == []


# --------------------------------------------------------------------------- links

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "victim.toml"
    target.parent.mkdir()
    target.write_text("precious\n")
    return target


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_link_leading_outside_is_never_written_or_deleted_through(user_dir: Path, outside: Path) -> None:
    user_dir.mkdir()
    (user_dir / "evil.toml").symlink_to(outside)
    (user_dir / "dangling.toml").symlink_to(outside.parent / "new.toml")
    for name in ("evil", "dangling"):
        with pytest.raises(ConfigError, match="outside the presets folder"):
            presets.save_preset(tiny(), name, overwrite=True)
        with pytest.raises(ConfigError, match="outside the presets folder"):
            presets.delete_preset(name)
        assert (user_dir / f"{name}.toml").is_symlink()
    assert outside.read_text() == "precious\n"
    assert not (outside.parent / "new.toml").exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_linked_user_folder_and_links_within_it_are_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "dotfiles" / "presets"
    real.mkdir(parents=True)
    link = tmp_path / "config-presets"
    link.symlink_to(real, target_is_directory=True)
    monkeypatch.setenv(presets.PRESETS_ENV, str(link))
    presets.save_preset(tiny(), "a")
    (real / "alias.toml").symlink_to(real / "a.toml")
    presets.save_preset(replace(tiny(), description="alias"), "alias", overwrite=True)
    assert (real / "a.toml").exists() and presets.load("alias").description == "alias"
    presets.delete_preset("alias")
    assert (real / "a.toml").exists()


# --------------------------------------------------------------------------- deleting

def test_delete_user_preset(user_dir: Path) -> None:
    presets.save_preset(tiny(), "mine")
    assert presets.delete_preset("mine") == user_dir / "mine.toml"
    assert not (user_dir / "mine.toml").exists()
    with pytest.raises(ConfigError, match="no user preset named 'mine'"):
        presets.delete_preset("mine")


def test_delete_refuses_bundled_and_reveals_it_when_a_shadow_goes(user_dir: Path) -> None:
    with pytest.raises(ConfigError, match="bundled preset; bundled presets are read-only"):
        presets.delete_preset("spirals")
    assert (presets.bundled_dir() / "spirals.toml").exists()
    presets.save_preset(tiny(), "spirals")
    presets.delete_preset("spirals")
    assert presets.find("spirals") == presets.bundled_dir() / "spirals.toml"


# --------------------------------------------------------------------------- helpers

def test_suggest_name(user_dir: Path) -> None:
    assert presets.suggest_name("mine") == "mine"
    assert presets.suggest_name("moons-overfit") == "moons-overfit-copy"
    presets.save_preset(tiny(), "moons-overfit-copy")
    assert presets.suggest_name("moons-overfit") == "moons-overfit-copy-2"
    assert presets.suggest_name("moons-overfit-copy") == "moons-overfit-copy"  # a user preset: save over it
    assert presets.suggest_name("my preset/../x") == "my-preset-.-x"
    for weird in ("", "...", "--", " ", "λ", "x" * 200):
        assert presets.is_valid_name(presets.suggest_name(weird))


def test_summary_lines_name_what_the_preset_sets() -> None:
    text = "\n".join(presets.summary_lines(presets.load("d2l-weight-decay")))
    assert "regression, 20 train / 100 val, 200 features" in text
    assert "hidden none (linear)" in text
    assert "sgd, lr 0.003, batch 5, 100 epochs" in text
    assert "λ=3" in text and "no regularization" in text


def test_core_and_cli_import_neither_textual_nor_torch() -> None:
    code = ("import sys; from regtui.cli import main; rc = main(['presets', 'path']); "
            "assert 'textual' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules); "
            "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr



@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_files_are_readable_and_keep_their_permissions(user_dir: Path) -> None:
    path = presets.save_preset(tiny(), "mine")
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    presets.save_preset(tiny(), "mine", overwrite=True)
    assert path.stat().st_mode & 0o777 == 0o600


# --------------------------------------------------------------------------- data files

def csv_preset(path: str) -> str:
    return f'name = "mine"\n[data]\ndataset = "csv"\npath = "{path}"\n'


def test_a_relative_data_path_follows_the_preset_when_it_moves(tmp_path: Path, user_dir: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "mine.toml").write_text(csv_preset("data/train.csv"))
    exp = presets.load_file(project / "mine.toml")
    assert exp.source_dir == str(project) and exp.data.path == "data/train.csv"
    # saved into the user folder: the path is anchored where the data is
    saved = presets.load(presets.save_preset(exp, "moved").stem)
    assert saved.data.path == str(project / "data" / "train.csv")
    # saved again from there: nothing changes
    first = (user_dir / "moved.toml").read_bytes()
    presets.save_preset(saved, "moved", overwrite=True)
    assert (user_dir / "moved.toml").read_bytes() == first
    # overrides keep the anchor
    assert with_overrides(exp, ["train.epochs=1"]).source_dir == str(project)


def test_relative_data_paths_next_to_the_user_folder_and_absolute_ones_are_kept(user_dir: Path, tmp_path: Path) -> None:
    user_dir.mkdir()
    (user_dir / "here.toml").write_text(csv_preset("train.csv"))
    presets.save_preset(presets.load("here"), "here-too")
    assert presets.load("here-too").data.path == "train.csv"
    for kept in (str(tmp_path / "abs.csv"), "~/data/train.csv"):
        (tmp_path / "src.toml").write_text(csv_preset(kept))
        presets.save_preset(presets.load_file(tmp_path / "src.toml"), "kept", overwrite=True)
        assert presets.load("kept").data.path == kept


def test_a_relative_data_path_without_a_source_resolves_in_the_working_folder(
        user_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exp = presets.parse_toml(csv_preset("train.csv"), "built in the lab")
    assert exp.source_dir == ""
    presets.save_preset(exp, "from-lab")
    assert presets.load("from-lab").data.path == str(tmp_path / "train.csv")


def test_summary_of_a_file_data_set_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "f.toml").write_text(csv_preset("data/train.csv"))
    first = presets.summary_lines(presets.load_file(tmp_path / "f.toml"))[0]
    assert "csv file data/train.csv, every row / automatic val" in first
