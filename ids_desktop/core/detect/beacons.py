"""Beaconing: one host checking in with one destination at a regular pace, jitter allowed.

For each source, destination, destination port and protocol, the start times of its flows are
a series. It is a beacon when it holds at least :data:`MIN_CHECKINS` (20) flows, the gaps
between them have a median between :data:`MIN_PERIOD_S` (1 s) and :data:`MAX_PERIOD_S`
(1 h), they are regular (their median absolute deviation is at most :data:`MAX_JITTER`, 25 %,
of the median: the dispersion measure RITA (Active Countermeasures) scores beacons with,
robust to a missed or doubled check-in), and the series is steady: it spans at most twice the
time its check-ins at that pace would take (a dozen polls spread over weeks is not a beacon).
Malware adds jitter to its sleep (Cobalt Strike's default is 0-50 %; the traffic lab's beacons
use ±30 %): a quarter of the median absolute deviation keeps ±30 % uniform jitter in (its MAD
is 15 % of the period).

Only generic carriers are considered (:data:`CARRIERS`: TLS, HTTP, QUIC, or a protocol nDPI
cannot name), the channels C2 hides in: when nDPI recognises the service (Discord's voice
keep-alive every 60 s, an antivirus's update poll), the regularity is that application's own.
Multicast and broadcast destinations are skipped.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import FlowView

MIN_CHECKINS = 20
MIN_PERIOD_S = 1.0
MAX_PERIOD_S = 3600.0
MAX_JITTER = 0.25
#: nDPI application names (whole, sub-protocol included) of the carriers beacons are sought in.
CARRIERS = frozenset({"Unknown", "", "TLS", "HTTP", "QUIC", "HTTP_Proxy", "HTTP_Connect"})
#: Ports of services that poll by design (names, time, discovery, address configuration).
INFRASTRUCTURE_PORTS = frozenset(
    {53, 67, 68, 123, 137, 138, 161, 162, 514, 546, 547, 1900, 5353, 5355, 3478}
)


def detect(view: FlowView) -> list[Finding]:
    """Regular check-ins in ``view``."""
    carrier = np.isin(view.application, list(CARRIERS))
    ok = (
        carrier
        & ~np.isin(view.dport, list(INFRASTRUCTURE_PORTS))
        & ~np.isnan(view.start)
        & (view.dport >= 0)
    )
    at = np.flatnonzero(ok)
    if len(at) < MIN_CHECKINS:
        return []
    table = pd.DataFrame(
        {"s": view.src[at], "d": view.dst[at], "p": view.dport[at], "x": view.proto[at], "i": at}
    )
    sizes = table.groupby(["s", "d", "p", "x"], sort=False)["i"].transform("size")
    table = table[sizes >= MIN_CHECKINS]
    out = []
    for (src, dst, port, _proto), group in table.groupby(["s", "d", "p", "x"], sort=False):
        if _local_group(str(dst)):
            continue
        rows = group["i"].to_numpy()
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        gaps = np.diff(view.start[rows])
        period = float(np.median(gaps))
        if not MIN_PERIOD_S <= period <= MAX_PERIOD_S:
            continue
        jitter = float(np.median(np.abs(gaps - period))) / period
        if jitter > MAX_JITTER or gaps.sum() > 2 * period * len(gaps):
            continue
        t0, t1 = float(view.start[rows[0]]), float(np.nanmax(view.end[rows]))
        app = view.app[rows[0]]
        named = f" ({app})" if app not in ("", "Unknown") else ""
        summary = (
            f"{src} checked in with {dst}:{port}{named} "
            f"{len(rows):,} times over {span(t1 - t0)}, every {span(period)} "
            f"(median gap; typical deviation {jitter:.0%})"
        )
        out.append(
            Finding(
                "beacon",
                "botnet",
                (src,),
                (str(dst),),
                (int(port),),
                t0,
                t1,
                rows,
                summary,
                target_count=1,
                port_count=1,
                extra={"period_s": period, "jitter": jitter},
            )
        )
    return out


def _local_group(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_multicast or address.endswith(".255") or address == "255.255.255.255"
