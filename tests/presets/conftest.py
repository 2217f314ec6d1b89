"""Fixtures for the preset tests: every test gets its own user presets folder.

The user folder is always under ``tmp_path`` (via ``REGTUI_PRESETS_DIR``), so no
test can write into the real user config folder or the bundled presets.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regtui.core import presets

DATA = Path(__file__).resolve().parent.parent / "data" / "presets"


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user presets folder for this test (not created yet)."""
    folder = tmp_path / "user-presets"
    monkeypatch.setenv(presets.PRESETS_ENV, str(folder))
    monkeypatch.setenv("COLUMNS", "250")  # rich tables in CLI output: no wrapping
    return folder


@pytest.fixture
def fake_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled presets that tests may point the user folder at."""
    folder = tmp_path / "bundled"
    shutil.copytree(presets.bundled_dir(), folder)
    monkeypatch.setattr(presets, "bundled_dir", lambda: folder)
    return folder


@pytest.fixture
def broken_files(user_dir: Path) -> list[str]:
    """The malformed fixture files copied into the user folder; returns their names."""
    user_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted((DATA / "broken").glob("*.toml")):
        shutil.copy(path, user_dir / path.name)
        names.append(path.stem)
    return names
