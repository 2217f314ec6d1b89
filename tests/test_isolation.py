"""The suite runs in parallel (pytest-xdist) and never touches the real user folders."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest

from regtui.core import presets
from regtui.core.store import default_path


def test_history_and_user_presets_live_in_this_tests_own_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp().resolve()  # per xdist worker: .../popen-gwN
    history, user = default_path().resolve(), presets.user_dir().resolve()
    assert base in history.parents and base in user.parents
    assert Path(platformdirs.user_data_dir("regtui")).resolve() not in history.parents
    assert Path(platformdirs.user_config_dir("regtui")).resolve() not in user.parents


def test_each_test_starts_with_an_empty_history_folder_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's REGTUI_HOME is its own (the autouse fixture in tests/conftest.py)."""
    seen = os.environ["REGTUI_HOME"]
    assert Path(seen).name == "home" and Path(seen).parent.parent == tmp_path_factory.getbasetemp()
    assert not Path(seen).exists() or not any(Path(seen).iterdir())
