"""Every CLI test gets its own user folders and a wide, fixed terminal."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User presets and run history under ``tmp_path``: no test touches the real ones."""
    monkeypatch.setenv("REGTUI_PRESETS_DIR", str(tmp_path / "user-presets"))
    monkeypatch.setenv("REGTUI_HOME", str(tmp_path / "regtui-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("REGTUI_THREADS", "1")
    return tmp_path
