"""Finding: what a host-level detector saw, with the flows it covers and one plain sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np


@dataclass(frozen=True, eq=False)
class Finding:
    """One detector's finding in one file.

    Attributes
    ----------
    detector
        The detector's name (``port_scan``, ``ssh_guessing``, ``syn_flood``, ``arp_spoofing``,
        ...); it is the ``flagged_by`` of the flows the finding covers.
    family
        The attack family from the shared vocabulary (``scan``, ``brute_force``, ``dos``,
        ``ddos``, ``botnet``, ``backdoor``, ``infiltration``, ``mitm``, ``exploit``).
    sources
        The acting hosts (addresses, or MAC addresses for layer-2 findings), most active first.
    targets
        The hosts acted on, most hit first (may be empty: a sweep over many hosts names them
        in ``summary`` and ``target_count``).
    ports
        Destination ports involved, most hit first (empty when none apply).
    first_seen, last_seen
        The time span (seconds since the epoch).
    rows
        Positions (0-based) of the flows the finding covers in the analysed flow table; may
        be empty when the finding lives below IP (an ARP scan).
    summary
        One plain sentence with the numbers, e.g. "192.0.2.7 tried 40 SSH logins on 10.0.0.5
        in 13 s; 38 closed within 2 s".
    target_count, port_count
        How many distinct targets and ports in all (``targets``/``ports`` may list fewer).
    """

    detector: str
    family: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    ports: tuple[int, ...]
    first_seen: float
    last_seen: float
    rows: np.ndarray
    summary: str
    target_count: int = 0
    port_count: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_seen - self.first_seen)


def span(seconds: float) -> str:
    """A duration as an analyst reads it: ``4.1 s``, ``13 s``, ``6.5 min``, ``3.2 h``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def when(ts: float) -> str:
    """A time stamp in UTC, to the second."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def names(items: list[str] | tuple[str, ...], limit: int = 3) -> str:
    """``a``, ``a and b``, ``a, b and c``, or ``a, b, c and 12 more``."""
    items = list(items)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit:,} more"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
