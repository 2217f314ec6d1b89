"""``regtui presets`` and every sub-command's ``--help``."""

from __future__ import annotations

import argparse

import pytest

from regtui.cli import build_parser, main
from regtui.core import presets


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _commands(sub, prefix + (name,))
    return out


COMMANDS = _commands(build_parser())


def test_the_documented_commands_exist():
    assert {(), ("run",), ("presets",), ("presets", "list"), ("presets", "show")} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "regtui")
def test_help_of_every_command_exits_0(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: regtui")


def test_version(capsys):
    """``--version`` says the installed distribution's version, and the package's
    ``__version__`` is that same number (pyproject.toml and regtui/__init__.py agree)."""
    import importlib.metadata

    import regtui

    installed = importlib.metadata.version("regtui")
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"regtui {installed}"
    assert regtui.__version__ == installed


@pytest.mark.parametrize("argv", [["presets"], ["presets", "list"]])
def test_presets_lists_the_bundled_presets(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    for path in presets.bundled_dir().glob("*.toml"):
        assert path.stem in out


@pytest.mark.parametrize("name", sorted(p.stem for p in presets.bundled_dir().glob("*.toml")))
def test_presets_show_prints_toml_that_parses_back(capsys, name):
    assert main(["presets", "show", name]) == 0
    out = capsys.readouterr().out
    assert presets.parse_toml(out, "stdout") == presets.load(name)


def test_presets_show_a_path(capsys, tiny_preset_file):
    assert main(["presets", "show", str(tiny_preset_file)]) == 0
    assert presets.parse_toml(capsys.readouterr().out, "stdout") == presets.load_file(tiny_preset_file)


def test_presets_show_unknown_is_exit_2_one_line(capsys):
    code = main(["presets", "show", "no-such-preset"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no-such-preset" in err and "Traceback" not in err
