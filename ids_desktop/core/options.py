"""AnalysisOptions: every choice an analysis takes, typed, frozen and validated in one place.

The CLI's flags and the Settings dialog both map onto one :class:`AnalysisOptions`;
:mod:`ids_desktop.config` loads and saves it. Nothing in the core reads a global setting:
the options travel with the call.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

#: nfstream's idle timeout (s) for capture flows.
DEFAULT_IDLE_TIMEOUT = 120.0
#: nfstream's active timeout (s) for capture flows.
DEFAULT_ACTIVE_TIMEOUT = 1800.0
#: Rows per read step of a flow table. Larger steps raise the peak memory of a 1.2 M-row
#: CIC-IDS2017 CSV (float64 intermediates for every column of the step) without reading faster.
DEFAULT_CSV_CHUNK_ROWS = 25_000
#: The largest read step accepted (see :data:`DEFAULT_CSV_CHUNK_ROWS`).
MAX_CSV_CHUNK_ROWS = 25_000
#: The smallest LIME neighbourhood accepted (0 means the bundle's own default).
MIN_LIME_SAMPLES = 100
MAX_LIME_SAMPLES = 200_000
#: Timeouts nfstream accepts (it stores them in milliseconds in a 64-bit field).
MAX_TIMEOUT_S = 10 * 365 * 24 * 3600.0


@dataclass(frozen=True)
class AnalysisOptions:
    """How a file is analysed: model, decision threshold, flow timeouts, explanations, resources.

    Attributes
    ----------
    model
        ``"auto"`` (the bundle serving the input's format), a bundle name or a bundle folder.
    threshold
        Override of the bundle's decision threshold on P(attack); ``None`` keeps the bundle's.
    idle_timeout, active_timeout
        Seconds after which nfstream closes an idle capture flow / cuts a long-lived one.
    lime_samples
        LIME neighbourhood size; 0 takes the bundle's default (``default_samples``).
    meter_nice
        Niceness added to nfstream's meter processes (POSIX). 0 keeps the caller's priority,
        the fastest extraction (5 cost the CLI 7-15 % on a 2-core VM); the desktop app sets 5
        (:data:`GUI_METER_NICE`), so its window keeps a CPU while a big capture is read (the
        worst early-extraction stall of a 1 GiB capture went from 111-144 ms to 83 ms).
    csv_chunk_rows
        Rows per read step of a flow table (at most :data:`MAX_CSV_CHUNK_ROWS`).
    """

    model: str = "auto"
    threshold: float | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    active_timeout: float = DEFAULT_ACTIVE_TIMEOUT
    lime_samples: int = 0
    meter_nice: int = 0
    csv_chunk_rows: int = DEFAULT_CSV_CHUNK_ROWS

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            from ids_desktop.errors import InputError

            raise InputError("invalid analysis options: " + "; ".join(problems))

    def replace(self, **changes: Any) -> AnalysisOptions:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisOptions:
        """Options from ``data``; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


#: The desktop app's meter niceness (see :attr:`AnalysisOptions.meter_nice`).
GUI_METER_NICE = 5


def _problems(o: AnalysisOptions) -> list[str]:
    out = []
    if not isinstance(o.model, str) or not o.model.strip():
        out.append("model must be 'auto', a bundle name or a folder")
    if o.threshold is not None and not (
        isinstance(o.threshold, (int, float)) and 0.0 <= float(o.threshold) <= 1.0
    ):
        out.append(f"threshold must be between 0 and 1, not {o.threshold!r}")
    for name in ("idle_timeout", "active_timeout"):
        value = getattr(o, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or not (
            0 <= value <= MAX_TIMEOUT_S
        ):
            out.append(f"{name} must be a non-negative number of seconds, "
                       f"not {value!r}")
    if not isinstance(o.lime_samples, int) or not (
        o.lime_samples == 0 or MIN_LIME_SAMPLES <= o.lime_samples <= MAX_LIME_SAMPLES
    ):
        out.append(f"LIME samples must be 0 (the bundle's default) or "
                   f"{MIN_LIME_SAMPLES:,}-{MAX_LIME_SAMPLES:,}, not {o.lime_samples!r}")
    if not isinstance(o.meter_nice, int) or not 0 <= o.meter_nice <= 19:
        out.append(f"meter niceness must be 0-19, not {o.meter_nice!r}")
    if not isinstance(o.csv_chunk_rows, int) or not 1 <= o.csv_chunk_rows <= MAX_CSV_CHUNK_ROWS:
        out.append(f"CSV chunk rows must be 1-{MAX_CSV_CHUNK_ROWS:,}, not {o.csv_chunk_rows!r}")
    return out
