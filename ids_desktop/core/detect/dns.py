"""DNS tunnels and exfiltration: conversations carried in DNS, and data spelled out in names.

- **DNS tunnel**: one DNS flow (one client port talking to one server) of at least
  :data:`TUNNEL_PACKETS` (100) packets or :data:`TUNNEL_BYTES` (50 kB). A resolver's client
  takes a new source port for every question, so its DNS flows hold one or two packets (16 at
  most in the 430 shared captures of everyday applications); iodine keeps one port for its
  whole session (434 packets in ``dns-tunnel-iodine.pcap``). Zone transfers are TCP and are
  left to the zone-transfer check.
- **Exfiltration in names**: one client asks for at least :data:`EXFIL_NAMES` (30) distinct
  names under one domain within 10 min whose leftmost labels look like encoded data: at
  least :data:`DATA_LABEL_CHARS` (24) characters of letters and digits with an entropy of at
  least :data:`DATA_LABEL_ENTROPY` (3.5 bits per character). Host names rarely pass: the
  longest label in the everyday captures is a CDN's 16-character hash. DNSBL lookups (reversed
  addresses under ``zen.spamhaus.org``) are many but numeric and short. In captures the
  names come from every DNS question the container walk read; in flow tables from each flow's
  first question.
- **Zone transfer**: a client asks a server for a whole zone (AXFR, or IXFR, query types 252
  and 251): the map of a network's names that reconnaissance wants. Secondary name servers
  do this on purpose; the finding says who asked whom, so an analyst who knows the pair can
  dismiss it (Suricata's ET POLICY rules report every AXFR the same way).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import TCP, FlowView

TUNNEL_PACKETS = 100
TUNNEL_BYTES = 50_000
EXFIL_NAMES = 30
EXFIL_WINDOW_S = 600.0
DATA_LABEL_CHARS = 24
DATA_LABEL_ENTROPY = 3.5


def entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_encoded(name: str) -> bool:
    """Whether a query name's leftmost label looks like encoded data (module docstring)."""
    label = name.split(".", 1)[0]
    core = "".join(ch for ch in label if ch.isalnum())
    return len(core) >= DATA_LABEL_CHARS and entropy(core.lower()) >= DATA_LABEL_ENTROPY


def parent_domain(name: str) -> str:
    """The last two labels of a name (``t.lab.internal`` -> ``lab.internal``)."""
    parts = [p for p in name.rstrip(".").split(".") if p]
    return ".".join(parts[-2:]) if parts else ""


def is_dns(view: FlowView) -> np.ndarray:
    return np.asarray((view.app == "DNS") | (view.dport == 53) | (view.sport == 53), dtype=bool)


Question = tuple[float, str, str, int, str, str, int]
ZONE_TRANSFER = {252: "AXFR", 251: "IXFR"}


def detect(view: FlowView, questions: Sequence[Question] | None = None) -> list[Finding]:
    """DNS tunnels, exfiltration in names and zone transfers (``questions``: the DNS questions
    a capture's walk read; ``None`` for flow tables)."""
    dns = is_dns(view)
    out = _tunnels(view, dns)
    if questions is None:
        return out + _exfiltration(view, dns)
    return out + _exfiltration_in_questions(view, questions) + _zone_transfers(view, questions)


def _zone_transfers(view: FlowView, questions: Sequence[Question]) -> list[Finding]:
    out = []
    for ts, src, dst, sport, _transport, name, qtype in questions:
        if qtype not in ZONE_TRANSFER:
            continue
        rows = np.flatnonzero(
            (view.src == src) & (view.dst == dst) & (view.sport == sport) & (view.dport == 53)
        )
        t1 = float(np.nanmax(view.end[rows])) if len(rows) else ts
        received = int(view.d2s_bytes[rows].sum()) if len(rows) else 0
        summary = (
            f"{src} asked {dst} for a zone transfer ({ZONE_TRANSFER[qtype]}) of "
            f"{name or 'the root zone'}"
            + (f" and received {received:,} bytes" if received else "")
            + ": the list of the zone's names and addresses"
        )
        out.append(
            Finding(
                "zone_transfer",
                "scan",
                (src,),
                (dst,),
                (53,),
                ts,
                t1,
                rows,
                summary,
                target_count=1,
                port_count=1,
            )
        )
    return out


def _exfiltration_in_questions(view: FlowView, questions: Sequence[Question]) -> list[Finding]:
    encoded = [
        (ts, src, dst, name)
        for ts, src, dst, _sp, _tr, name, _qt in questions
        if looks_encoded(name)
    ]
    groups: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    for ts, src, dst, name in encoded:
        groups.setdefault((src, parent_domain(name)), []).append((ts, name, dst))
    out = []
    for (src, domain), seq in groups.items():
        if len({n for _, n, _ in seq}) < EXFIL_NAMES:
            continue
        seq.sort()
        best, end = _densest(np.array([t for t, _, _ in seq]))
        window = seq[best:end]
        distinct = {n for _, n, _ in window}
        if len(distinct) < EXFIL_NAMES:
            continue
        t0, t1 = float(window[0][0]), float(window[-1][0])
        servers = tuple(sorted({d for _, _, d in window}))
        rows = np.flatnonzero(
            (view.src == src)
            & np.isin(view.dst, servers)
            & (view.dport == 53)
            & (view.start <= t1)
            & (view.end >= t0)
        )
        out.append(_exfiltration_finding(src, domain, distinct, servers, t0, t1, rows))
    return out


def _densest(times: np.ndarray) -> tuple[int, int]:
    """``[start, end)`` of the sorted ``times`` holding the most within one
    :data:`EXFIL_WINDOW_S` (the earliest such window)."""
    ends = np.searchsorted(times, times + EXFIL_WINDOW_S, side="right")
    best = int(np.argmax(ends - np.arange(len(times))))
    return best, int(ends[best])


def _exfiltration_finding(src: str, domain: str, names: set[str], servers: tuple[str, ...],
                          t0: float, t1: float, rows: np.ndarray) -> Finding:
    """The ``dns_exfiltration`` finding of ``src`` asking for ``names`` under ``domain``."""
    chars = sum(len(n.split(".", 1)[0]) for n in names)
    summary = (
        f"{src} asked for {len(names):,} encoded-looking names under {domain} in "
        f"{span(t1 - t0)} ({chars:,} characters of data in their first labels)"
    )
    return Finding(
        "dns_exfiltration",
        "infiltration",
        (src,),
        servers,
        (53,),
        t0,
        t1,
        rows,
        summary,
        target_count=len(servers),
        port_count=1,
    )


def _tunnels(view: FlowView, dns: np.ndarray) -> list[Finding]:
    big = (
        dns
        & (view.proto != TCP)
        & ((view.packets >= TUNNEL_PACKETS) | (view.bytes >= TUNNEL_BYTES))
    )
    out = []
    for i in np.flatnonzero(big):
        t0, t1 = float(view.start[i]), float(view.end[i])
        name = view.name[i]
        summary = (
            f"{view.src[i]} kept one DNS conversation with {view.dst[i]} for {span(t1 - t0)}: "
            f"{int(view.packets[i]):,} packets, {int(view.bytes[i]):,} bytes"
            + (f", names under {parent_domain(name)}" if name else "")
            + "; a resolver's client sends one or two per port"
        )
        out.append(
            Finding(
                "dns_tunnel",
                "backdoor",
                (view.src[i],),
                (view.dst[i],),
                (53,),
                t0,
                t1,
                np.array([i]),
                summary,
                target_count=1,
                port_count=1,
            )
        )
    return out


def _exfiltration(view: FlowView, dns: np.ndarray) -> list[Finding]:
    named = np.flatnonzero(dns & (view.name != ""))
    if len(named) < EXFIL_NAMES:
        return []
    encoded = np.array([looks_encoded(n) for n in view.name[named]], dtype=bool)
    at = named[encoded]
    if len(at) < EXFIL_NAMES:
        return []
    table = pd.DataFrame(
        {
            "s": view.src[at],
            "dom": [parent_domain(n) for n in view.name[at]],
            "n": view.name[at],
            "i": at,
        }
    )
    out = []
    for (src, domain), group in table.groupby(["s", "dom"], sort=False):
        if group["n"].nunique() < EXFIL_NAMES:
            continue
        rows = group["i"].to_numpy()
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        best, end = _densest(view.start[rows])
        covered = rows[best:end]
        distinct = set(view.name[covered])
        if len(distinct) < EXFIL_NAMES:
            continue
        t0, t1 = float(view.start[covered[0]]), float(np.nanmax(view.end[covered]))
        servers = tuple(sorted(set(view.dst[covered])))
        out.append(_exfiltration_finding(str(src), str(domain), distinct, servers, t0, t1,
                                         covered))
    return out
