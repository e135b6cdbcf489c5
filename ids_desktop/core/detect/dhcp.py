"""DHCP starvation: DHCP requests from many made-up client hardware addresses at once.

A starvation tool (Yersinia, dhcpstarv, ``pig.py``) asks the DHCP server for a lease for each
of a stream of invented hardware addresses until the pool is empty. The finding is at least
:data:`STARVATION_CLIENTS` (50) distinct client hardware addresses in DHCP discover or
request messages within :data:`WINDOW_S` (60 s). The 430 shared captures of everyday
applications show 7 at most in a whole capture; a building's morning rush spreads over
minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import UDP, FlowView

STARVATION_CLIENTS = 50
WINDOW_S = 60.0
DISCOVER, REQUEST = 1, 3


def detect(dhcp: Sequence[tuple[float, int, str, str]], view: FlowView) -> list[Finding]:
    """DHCP starvation among the DHCP client messages the walk kept."""
    asks = sorted(
        (ts, chaddr, mac) for ts, mtype, chaddr, mac in dhcp if mtype in (DISCOVER, REQUEST)
    )
    if len({c for _, c, _ in asks}) < STARVATION_CLIENTS:
        return []
    times = np.array([t for t, _, _ in asks])
    best_n, best, j = 0, (0, 0), 0
    counts: dict[str, int] = {}
    for i in range(len(asks)):
        while j < len(asks) and times[j] <= times[i] + WINDOW_S:
            counts[asks[j][1]] = counts.get(asks[j][1], 0) + 1
            j += 1
        if len(counts) > best_n:
            best_n, best = len(counts), (i, j)
        counts[asks[i][1]] -= 1
        if not counts[asks[i][1]]:
            del counts[asks[i][1]]
    if best_n < STARVATION_CLIENTS:
        return []
    i, j = best
    t0, t1 = float(times[i]), float(times[j - 1])
    senders = sorted({m for _, _, m in asks[i:j] if m})
    rows = np.flatnonzero(
        (view.proto == UDP) & (view.dport == 67) & (view.start <= t1) & (view.end >= t0)
    )
    who = f"from {len(senders):,} sending MACs" if len(senders) != 1 else f"from MAC {senders[0]}"
    summary = (
        f"{best_n:,} DHCP lease requests for distinct client hardware addresses {who} in "
        f"{span(t1 - t0)}: a DHCP starvation attack empties the server's address pool"
    )
    return [
        Finding(
            "dhcp_starvation",
            "dos",
            tuple(senders[:5]),
            ("DHCP server",),
            (67,),
            t0,
            t1,
            rows,
            summary,
            target_count=1,
            port_count=1,
        )
    ]
