"""Where things live: the one module that knows about frozen (PyInstaller) builds."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def app_root() -> Path:
    """The folder holding ``models/`` and ``resources/``: the bundle dir or the source tree."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """A path inside the bundled ``resources/`` folder."""
    return app_root().joinpath("resources", *parts)


def models_dir() -> Path:
    """The bundled ``models/`` folder; ``IDS_DESKTOP_MODELS`` overrides it."""
    override = os.environ.get("IDS_DESKTOP_MODELS")
    return Path(override) if override else app_root() / "models"


def user_data_dir() -> Path:
    """Per-user writable folder for settings, caches and crash logs (XDG on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "ids-desktop"


def user_cache_dir() -> Path:
    """Per-user folder for caches that can be deleted at any time (XDG on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "ids-desktop" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ids-desktop"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ids-desktop"


def crash_log_path() -> Path:
    """Where an unexpected error's traceback is written."""
    return user_data_dir() / "crash.log"
