"""Typed analysis settings with defaults, read from and written to a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

SCHEMA_VERSION = 1


@dataclass
class Settings:
    """Analysis options shared by the CLI and the GUI.

    Attributes
    ----------
    idle_timeout
        Seconds of silence after which a capture flow is closed (nfstream ``idle_timeout``).
    active_timeout
        Seconds after which a long-lived capture flow is cut (nfstream ``active_timeout``).
    csv_chunk_rows
        Rows per chunk when reading large tables.
    meter_nice
        Niceness added to nfstream's meter processes (POSIX). 0 keeps the caller's priority,
        the fastest extraction (5 cost the CLI 7-15% on a 2-core VM); the desktop app sets 5,
        so its window keeps a CPU while a big capture is read (the worst early-extraction
        stall of a 1 GiB capture went from 111-144 ms to 83 ms).
    """

    idle_timeout: float = 120.0
    active_timeout: float = 1800.0
    csv_chunk_rows: int = 100_000
    meter_nice: int = 0
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings from ``path``; unknown keys are ignored, missing ones take defaults."""
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


DEFAULTS = Settings()
