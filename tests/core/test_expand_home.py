"""A data path starting with ~ that names no user is a path, never an error (Hypothesis found "~0")."""

from __future__ import annotations

from pathlib import Path

from regtui.core.config import expand_home, resolve_data_path


def test_a_tilde_that_names_no_user_stays_as_written() -> None:
    assert expand_home("~0") == Path("~0")
    assert expand_home("~no-such-user-regtui/x.csv") == Path("~no-such-user-regtui/x.csv")
    assert resolve_data_path("~0", "/data") == Path("/data/~0")


def test_home_is_still_expanded(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert expand_home("~/d.csv") == tmp_path / "d.csv"
