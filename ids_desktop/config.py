"""The analysis options a user saved: one JSON file, read and written here only.

The options themselves (types, defaults, validation) are
:class:`ids_desktop.core.options.AnalysisOptions`. The window loads them at start and saves
them from the Settings dialog; the command line starts from the defaults and its flags, so a
command gives the same result on every machine. Window geometry and splitter positions are
not options: they stay in Qt's ``QSettings``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ids_desktop.core.options import AnalysisOptions
from ids_desktop.errors import IdsError

#: Bumped when a saved key changes meaning; older files are migrated in :func:`load_options`.
SCHEMA_VERSION = 2
FILE_NAME = "settings.json"


def settings_path() -> Path:
    """Where the options are saved (the per-user data folder)."""
    from ids_desktop.paths import user_data_dir

    return user_data_dir() / FILE_NAME


def load_options(path: Path | None = None) -> tuple[AnalysisOptions, str | None]:
    """The saved options, and why they could not be read (``None`` when they were, or when
    nothing was saved yet). An unreadable or invalid file gives the defaults, never an error:
    a bad settings file must not keep the app from starting.
    """
    path = settings_path() if path is None else path
    if not path.is_file():
        return AnalysisOptions(), None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return AnalysisOptions.from_dict(_migrate(data)), None
    except (OSError, ValueError, TypeError, IdsError) as exc:
        return AnalysisOptions(), f"{path}: settings not read ({exc}); using the defaults"


def save_options(options: AnalysisOptions, path: Path | None = None) -> Path:
    """Write ``options`` atomically; returns the file written."""
    from ids_desktop.core.atomic import atomic_text

    path = settings_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(path) as fh:
        json.dump({"schema_version": SCHEMA_VERSION, **options.to_dict()}, fh, indent=2)
    return path


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 files (never written by the app) had no LIME samples, model or threshold;
    their keys are a subset of version 2's, so they read as they are."""
    return {k: v for k, v in data.items() if k != "schema_version"}
