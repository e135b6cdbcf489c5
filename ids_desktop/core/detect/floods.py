"""Floods: SYN, UDP and ICMP, from one source or many (spoofed) ones; reflection and
amplification, which arrive as replies nobody asked for.

A flood is named after its target: within :data:`WINDOW_S` (60 s), one host receives

- **SYN flood**: at least :data:`SYN_ATTEMPTS` (1,000) TCP connection attempts that never
  complete (no answer, a reset, or a SYN-ACK the client never acknowledges). 1,000 is the
  order of a Linux server's SYN backlog (``net.ipv4.tcp_max_syn_backlog``, 128-1,024 by
  default): past it, real clients are refused.
- **UDP flood**: at least :data:`FLOOD_PACKETS` (10,000) UDP packets it never answers.
- **ICMP flood**: at least 10,000 ICMP packets (``ping -f`` sends 100 a second; 10,000 in a
  minute is 170 a second).
- **Reflection / amplification**: at least :data:`REFLECTED_PACKETS` (1,000) packets from
  the service ports of reflectors (DNS, NTP, SNMP, SSDP, memcached, chargen, CLDAP, WS-
  Discovery, CoAP) or TCP SYN-ACKs, sent by at least :data:`REFLECTORS` (10) sources, in
  flows whose first packet was the reply: the target never asked.

Packets are counted at the rate they came: a flow of ``n`` packets over ``d`` seconds adds
``n * min(1, 60 / d)`` to a window, so a steady stream of 80 packets a second (RTP, syslog, a
fast ping) never adds up to a flood.

When at least :data:`DISTRIBUTED_SOURCES` (20) sources take part the family is ``ddos``,
else ``dos``; a SYN flood from hundreds of addresses that each appear once is a spoofed one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ids_desktop.core.detect.finding import Finding, names, span
from ids_desktop.core.detect.flows import ICMP, ICMP6, TCP, UDP, FlowView, top

WINDOW_S = 60.0
SYN_ATTEMPTS = 1000
FLOOD_PACKETS = 10_000
REFLECTED_PACKETS = 1000
REFLECTORS = 10
DISTRIBUTED_SOURCES = 20
#: One source on more distinct ports than this is scanning them, not flooding a service.
SCAN_PORTS = 20
#: UDP ports whose replies outgrow their requests (the amplification vectors of CISA's
#: "UDP-Based Amplification Attacks" alert, TA14-017A).
REFLECTOR_PORTS = (53, 123, 161, 1900, 11211, 19, 389, 3702, 5683, 17, 111, 137, 27015)


def detect(view: FlowView) -> list[Finding]:
    """SYN, UDP and ICMP floods and reflection in ``view``."""
    out = []
    syn = view.failed_tcp() | view.half_open()
    out += _flood(
        view, syn, np.ones(view.n), SYN_ATTEMPTS, "syn_flood", "half-open TCP connections"
    )
    per_window = view.s2d_packets * np.minimum(1.0, WINDOW_S / np.maximum(view.duration_s, 1e-9))
    udp = view.unanswered_udp() & ~np.isin(view.sport, REFLECTOR_PORTS)
    out += _flood(view, udp, per_window, FLOOD_PACKETS, "udp_flood", "unanswered UDP packets")
    icmp = np.isin(view.proto, (ICMP, ICMP6))
    out += _flood(view, icmp, per_window, FLOOD_PACKETS, "icmp_flood", "ICMP packets")
    replies = ((view.proto == UDP) & np.isin(view.sport, REFLECTOR_PORTS)) | (
        (view.proto == TCP) & (view.s2d_syn > 0) & (view.s2d_ack > 0)
    )
    unasked = replies & (view.d2s_packets == 0)
    out += _flood(
        view,
        unasked,
        per_window,
        REFLECTED_PACKETS,
        "reflection",
        "unsolicited replies",
        min_sources=REFLECTORS,
    )
    return out


def _flood(
    view: FlowView,
    mask: np.ndarray,
    weight: np.ndarray,
    threshold: float,
    detector: str,
    what: str,
    *,
    min_sources: int = 1,
) -> list[Finding]:
    at = np.flatnonzero(mask & ~np.isnan(view.start))
    if weight[at].sum() < threshold:
        return []
    totals = pd.Series(weight[at]).groupby(view.dst[at]).sum()
    out = []
    for dst in totals[totals >= threshold].index:
        rows = at[view.dst[at] == dst]
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        times, w = view.start[rows], np.cumsum(weight[rows])
        ends = np.searchsorted(times, times + WINDOW_S, side="right")
        before = np.concatenate(([0.0], w[:-1]))
        load = w[ends - 1] - before
        best = int(np.argmax(load))
        if load[best] < threshold:
            continue
        covered = rows[best : ends[best]]
        sources = top(view.src[covered], 5)
        n_src = len(np.unique(view.src[covered]))
        if n_src < min_sources:
            continue
        n_ports = len(np.unique(view.dport[covered]))
        if n_src < DISTRIBUTED_SOURCES and n_ports > SCAN_PORTS and detector != "reflection":
            continue  # one source on many ports: a port scan (scans.py), not a flood
        t0, t1 = float(view.start[covered[0]]), float(np.nanmax(view.end[covered]))
        family = "ddos" if n_src >= DISTRIBUTED_SOURCES else "dos"
        tcp_udp = np.isin(view.proto[covered], (TCP, UDP)) & (view.dport[covered] >= 0)
        ports = top(view.dport[covered][tcp_udp], 5)
        who = f"{n_src:,} sources ({names(sources)})" if n_src > 1 else sources[0]
        amount = int(load[best])
        summary = f"{dst} received {amount:,} {what} from {who} in {span(t1 - t0)}" + (
            f", to port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))}"
            if ports and detector != "reflection"
            else ""
        )
        out.append(
            Finding(
                detector,
                family,
                tuple(sources),
                (str(dst),),
                tuple(ports),
                t0,
                t1,
                covered,
                summary,
                target_count=1,
                port_count=len(ports),
                extra={"sources": float(n_src), "amount": float(amount)},
            )
        )
    return out
