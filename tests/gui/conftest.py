"""GUI tests never touch the user's data, cache or settings folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """Per-test data and cache folders under ``tmp_path`` (saved options, crash log,
    explanation cache); a fresh process-wide explanation cache. Returns the cache folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ids_desktop.gui.tab_tasks import explanation_cache

    explanation_cache.cache_clear()
    yield tmp_path / "cache"
    explanation_cache.cache_clear()
