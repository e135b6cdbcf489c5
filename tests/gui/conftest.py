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


@pytest.fixture(autouse=True)
def no_blocking_message_boxes(monkeypatch):  # type: ignore[no-untyped-def]
    """A message box nobody asked for fails the test with its text; offscreen, a modal box
    would otherwise wait for a click that never comes and hang the whole run. A test that
    expects a box patches the same name again (its patch wins)."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(kind: str):  # type: ignore[no-untyped-def]
        def box(parent, title, text, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError(f"unexpected QMessageBox.{kind}: {title}: {text}")
        return box

    for kind in ("warning", "critical", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(refuse(kind)))


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A main window with its settings in a private file (a test may define its own)."""
    from PySide6.QtCore import QSettings

    from ids_desktop.gui.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win
