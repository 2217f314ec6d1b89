"""Text from presets, data files, names and paths is data, never Rich markup and
never raw escape sequences, on every CLI output path (issue 16, items 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regtui.cli import main

MARKUP = "[/]"
LINK = "[link=file:///etc/passwd]x[/link]"
TITLE = "\x1b]0;PWNED\x1b\\"  # sets the terminal's window title
CLEAR = "\x1b[2J"  # clears the screen
DESCRIPTION = r'description = "\u001b]0;PWNED\u001b\\"'  # TITLE, as TOML escapes it

PRESET = f"""\
name = "{LINK}"
{DESCRIPTION}
[data]
dataset = "moons"
n_train = 32
n_val = 16
[model]
hidden = [4]
[train]
epochs = 2
device = "cpu"
[[variants]]
name = "{MARKUP}"
[[variants]]
name = "{LINK}"
l2 = 0.01
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def clean(text: str) -> None:
    assert "\x1b" not in text and "Traceback" not in text and "MarkupError" not in text, text


def test_visible_makes_every_control_character_visible() -> None:
    from regtui.core.text import visible

    assert visible("plain [/] text") == "plain [/] text"
    assert visible("a\x1b[2Jb") == "a␛[2Jb"
    assert visible("\x00\t\n\x7f") == "␀␉␊␡"
    assert visible("\x9b31m") == "\\x9b31m"  # the 8-bit CSI
    assert visible("\u202eabc") == "\\u202eabc"  # right-to-left override
    assert all(ch.isprintable() for ch in visible("".join(map(chr, range(0x3000)))))


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A preset named with markup in folders named with markup."""
    home = tmp_path / MARKUP / "home"
    presets_dir = tmp_path / MARKUP / "presets"
    presets_dir.mkdir(parents=True)
    monkeypatch.setenv("REGTUI_HOME", str(home))
    monkeypatch.setenv("REGTUI_PRESETS_DIR", str(presets_dir))
    path = presets_dir / "hostile.toml"
    path.write_text(PRESET)
    return path


def test_run_and_history_show_markup_names_as_text(capsys, hostile: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "r.json"
    code, text = run(capsys, "run", str(hostile), "--json", str(out_json))
    assert code == 0, text
    clean(text)
    assert MARKUP in text and LINK in text  # shown literally: neither parsed nor a link
    assert {v["name"] for v in json.loads(out_json.read_text())["variants"]} == {MARKUP, LINK}
    for argv in (["history", "list"], ["history", "show", "1"], ["history", "list", "--json"]):
        code, text = run(capsys, *argv)
        assert code == 0, text
        clean(text)
    assert LINK in run(capsys, "history", "show", "1")[1]


def test_presets_list_and_unknown_preset_show_escapes_visibly(capsys, hostile: Path) -> None:
    code, text = run(capsys, "presets", "list")
    assert code == 0
    clean(text)
    assert "␛]0;PWNED" in text
    code, text = run(capsys, "run", "no-such-preset")
    assert code == 2
    clean(text)


def test_sweep_shows_markup_names_as_text(capsys, hostile: Path) -> None:
    code, text = run(capsys, "sweep", str(hostile), "--grid", f"variants.{MARKUP}.l2=0,0.1")
    assert code == 0, text
    clean(text)
    assert LINK in text


def test_a_preset_name_with_control_characters_is_refused(capsys, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('name = "a\\u001b[31mred"\n[[variants]]\nname = "b"\n')
    code, text = run(capsys, "run", str(path))
    assert code == 2 and "a preset name cannot hold control characters" in text
    clean(text)


def test_csv_class_labels_are_shown_visibly(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "home"))
    rows = "".join(f"{i * 0.1:.1f},{i % 3},{MARKUP if i % 2 else CLEAR}\n" for i in range(20))
    (tmp_path / "d.csv").write_text("a,b,label\n" + rows)
    (tmp_path / "p.toml").write_text('[data]\ndataset = "csv"\npath = "d.csv"\n[train]\nepochs = 1\n'
                                     '[[variants]]\nname = "x"\n')
    code, text = run(capsys, "run", str(tmp_path / "p.toml"))
    assert code == 0, text
    clean(text)
    assert "␛[2J" in text and MARKUP in text
