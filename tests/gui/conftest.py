"""GUI tests never touch the user's cache or settings folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """A fresh explanation cache under ``tmp_path`` for each test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("ids_desktop.gui.analysis_tab._CACHE", None)
    return tmp_path / "cache"
