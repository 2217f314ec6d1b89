"""``regtui presets ...`` in-process: list, show, save, delete, path; errors are one line, exit 2."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from regtui.cli import main
from regtui.core import presets
from regtui.core.overrides import with_overrides

ACTIONS = ["list", "show", "save", "delete", "path"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


# --------------------------------------------------------------------------- help

@pytest.mark.parametrize("argv", [["presets"], *[["presets", a] for a in ACTIONS]])
def test_every_action_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: regtui {' '.join(argv)}")


def test_presets_help_lists_actions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["presets", "--help"])
    out = capsys.readouterr().out
    for action in ACTIONS:
        assert action in out


# --------------------------------------------------------------------------- list

@pytest.mark.parametrize("argv", [["presets"], ["presets", "list"]])
def test_list_shows_bundled_user_shadowing_and_broken(argv: list[str], capsys: pytest.CaptureFixture[str],
                                                      broken_files: list[str], user_dir: Path) -> None:
    presets.save_preset(replace(presets.load("spirals"), description="my [bold]own[/] spirals"), "spirals")
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    lines = out.splitlines()

    def row(name: str, origin: str) -> str:
        found = [line for line in lines if f" {name} " in line and origin in line]
        assert found, f"{name} ({origin}) not in:\n{out}"
        return found[0]

    assert "moons-overfit" in row("moons-overfit", "bundled")
    assert "broken" not in row("moons-overfit", "bundled")
    row("spirals", "bundled, shadowed by user")
    assert "my [bold]own[/] spirals" in row("spirals", "user, shadows bundled")  # file text is not markup
    for name in broken_files:
        assert "broken:" in row(name, "user")
    assert str(user_dir) in out


def test_list_with_presets_dir_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    presets.save_preset(presets.load("spirals"), "only-here", other)
    for argv in (["--presets-dir", str(other), "presets", "list"],
                 ["presets", "--presets-dir", str(other)],
                 ["presets", "list", "--presets-dir", str(other)]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "only-here" in out, argv
    code, out, _ = run(capsys, "presets", "list")
    assert "only-here" not in out


# --------------------------------------------------------------------------- show

def test_show_prints_resolved_toml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "presets", "show", "d2l-weight-decay")
    assert code == 0
    assert presets.parse_toml(out, "stdout") == presets.load("d2l-weight-decay")
    assert "momentum = 0.0" in out  # defaults resolved


def test_show_errors(capsys: pytest.CaptureFixture[str], broken_files: list[str]) -> None:
    code, _, err = run(capsys, "presets", "show", "nope")
    assert_one_line_error(code, err, "no preset named 'nope'")
    code, _, err = run(capsys, "presets", "show", "unknown-key")
    assert_one_line_error(code, err, "train.epochz: unknown key")
    code, _, err = run(capsys, "presets", "show", "deep-nesting")
    assert_one_line_error(code, err, "malformed")


def test_a_name_ending_in_toml_is_refused_not_saved_as_toml_toml(capsys: pytest.CaptureFixture[str],
                                                                  user_dir: Path) -> None:
    code, _, err = run(capsys, "presets", "save", "a.toml", "--from", "spirals")
    assert_one_line_error(code, err, "leave out .toml", "the file becomes a.toml, loaded as a")
    assert not (user_dir / "a.toml.toml").exists()
    assert run(capsys, "presets", "save", "a", "--from", "spirals")[0] == 0
    assert run(capsys, "run", "a", "--set", "train.epochs=0", "--no-history", "--quiet")[0] == 0
    assert presets.suggest_name("mine.toml") == "mine"


def test_deep_nesting_is_one_line_everywhere(capsys: pytest.CaptureFixture[str], broken_files: list[str],
                                             user_dir: Path) -> None:
    """5,000 nested arrays: a RecursionError inside tomllib, once a traceback from every entry point."""
    deep = str(user_dir / "deep-nesting.toml")
    for argv in (["run", deep], ["run", "deep-nesting"], ["--preset", deep], ["sweep", deep],
                 ["run", "moons-overfit", "--set", "data.features=" + "[" * 5000 + "]" * 5000]):
        code, _, err = run(capsys, *argv)
        assert_one_line_error(code, err, "malformed")
    code, _, err = run(capsys, "run", "no-such-preset")  # the hint lists every preset, the deep one too
    assert_one_line_error(code, err, "known presets:")
    assert "deep-nesting" in err


# --------------------------------------------------------------------------- save

def test_save_derives_a_user_preset_with_overrides(capsys: pytest.CaptureFixture[str], user_dir: Path) -> None:
    code, out, err = run(capsys, "presets", "save", "quick", "--from", "moons-overfit",
                         "--set", "train.epochs=5", "--set", "variants.L2.l2=0.01", "--set", "model.hidden=[16]",
                         "--description", "five epochs ✓")
    assert code == 0, err
    assert out == f"saved quick to {user_dir / 'quick.toml'}\n"
    saved = presets.load("quick")
    expected = with_overrides(presets.load("moons-overfit"),
                                      ["train.epochs=5", "variants.L2.l2=0.01", "model.hidden=[16]"])
    assert saved == replace(expected, name="quick", description="five epochs ✓")
    code, out, _ = run(capsys, "presets", "show", "quick")
    assert out == (user_dir / "quick.toml").read_text(encoding="utf-8")  # the file is already fully resolved


def test_save_from_a_path_keeps_the_description(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "src.toml"
    source.write_text(presets.to_toml(replace(presets.load("spirals"), description="from a file")), encoding="utf-8")
    code, _, err = run(capsys, "presets", "save", "fromfile", "--from", str(source))
    assert code == 0, err
    assert presets.load("fromfile").description == "from a file"


def test_save_refuses_to_overwrite_without_force(capsys: pytest.CaptureFixture[str], user_dir: Path) -> None:
    assert run(capsys, "presets", "save", "mine", "--from", "spirals")[0] == 0
    before = (user_dir / "mine.toml").read_bytes()
    code, _, err = run(capsys, "presets", "save", "mine", "--from", "article")
    assert_one_line_error(code, err, "exists", "--force")
    assert (user_dir / "mine.toml").read_bytes() == before
    code, _, err = run(capsys, "presets", "save", "mine", "--from", "article", "--force")
    assert code == 0
    assert presets.load("mine").data == presets.load("article").data


def test_save_with_a_bundled_name_shadows_and_says_so(capsys: pytest.CaptureFixture[str], user_dir: Path) -> None:
    bundled = (presets.bundled_dir() / "spirals.toml").read_bytes()
    code, out, err = run(capsys, "presets", "save", "spirals", "--from", "spirals", "--set", "train.epochs=3")
    assert code == 0
    assert "shadows the bundled preset" in err
    assert (user_dir / "spirals.toml").exists()
    assert (presets.bundled_dir() / "spirals.toml").read_bytes() == bundled


def test_save_never_writes_into_the_bundled_folder(capsys: pytest.CaptureFixture[str], fake_bundled: Path) -> None:
    before = sorted(p.name for p in fake_bundled.iterdir())
    code, _, err = run(capsys, "presets", "--presets-dir", str(fake_bundled), "save", "x", "--from", "spirals")
    assert_one_line_error(code, err, "read-only")
    assert sorted(p.name for p in fake_bundled.iterdir()) == before


@pytest.mark.parametrize(("argv", "needle"), [
    (["../evil", "--from", "spirals"], "invalid preset name"),
    ([".hidden", "--from", "spirals"], "invalid preset name"),
    (["a/b", "--from", "spirals"], "invalid preset name"),
    (["ok", "--from", "nope"], "no preset named 'nope'"),
    (["ok", "--from", "spirals", "--set", "train.epochs=-1"], "train.epochs"),
    (["ok", "--from", "spirals", "--set", "train.nope=1"], "unknown key"),
    (["ok", "--from", "spirals", "--set", "variants.X.l2=1"], "no variant named 'X'"),
    (["ok", "--from", "spirals", "--set", "garbage"], "KEY=VALUE"),
])
def test_save_errors_are_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str],
                                  user_dir: Path) -> None:
    code, _, err = run(capsys, "presets", "save", *argv)
    assert_one_line_error(code, err, needle)
    assert not user_dir.exists() or list(user_dir.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_save_and_delete_refuse_a_link_leading_outside(capsys: pytest.CaptureFixture[str], user_dir: Path,
                                                       tmp_path: Path) -> None:
    victim = tmp_path / "victim.toml"
    victim.write_text("precious\n")
    user_dir.mkdir()
    (user_dir / "evil.toml").symlink_to(victim)
    code, _, err = run(capsys, "presets", "save", "evil", "--from", "spirals", "--force")
    assert_one_line_error(code, err, "outside the presets folder")
    code, _, err = run(capsys, "presets", "delete", "evil")
    assert_one_line_error(code, err, "outside the presets folder")
    assert victim.read_text() == "precious\n" and (user_dir / "evil.toml").is_symlink()


def test_save_requires_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["presets", "save", "x"])
    assert exc.value.code == 2
    assert "--from" in capsys.readouterr().err


# --------------------------------------------------------------------------- delete

def test_delete(capsys: pytest.CaptureFixture[str], user_dir: Path) -> None:
    run(capsys, "presets", "save", "mine", "--from", "spirals")
    code, out, _ = run(capsys, "presets", "delete", "mine")
    assert code == 0 and out == f"deleted {user_dir / 'mine.toml'}\n"
    assert not (user_dir / "mine.toml").exists()
    code, _, err = run(capsys, "presets", "delete", "mine")
    assert_one_line_error(code, err, "no user preset named 'mine'")


def test_delete_bundled_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "presets", "delete", "spirals")
    assert_one_line_error(code, err, "'spirals' is a bundled preset", "cannot be deleted")
    assert (presets.bundled_dir() / "spirals.toml").exists()


def test_delete_a_shadowing_preset_reveals_the_bundled_one(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "presets", "save", "spirals", "--from", "article")
    code, out, _ = run(capsys, "presets", "delete", "spirals")
    assert code == 0 and "bundled preset spirals is visible again" in out
    assert presets.load("spirals").data.dataset == "spirals"


def test_delete_invalid_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "presets", "delete", "../../etc/passwd")
    assert_one_line_error(code, err, "invalid preset name")


# --------------------------------------------------------------------------- path

def test_path_prints_both_folders(capsys: pytest.CaptureFixture[str], user_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "presets", "path")
    assert code == 0
    assert out == f"user: {user_dir}\nbundled: {presets.bundled_dir()}\n"
    code, out, _ = run(capsys, "presets", "path", "--presets-dir", str(tmp_path / "x"))
    assert out.splitlines()[0] == f"user: {tmp_path / 'x'}"
