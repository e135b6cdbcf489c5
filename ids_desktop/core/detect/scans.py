"""Port scans and host sweeps over TCP, UDP and ICMP, counted as Zeek's scan policy counts.

Thresholds (Zeek's ``policy/misc/scan.zeek``, which counts only *failed* attempts, so a busy
client that connects to many services or peers is not a scanner):

- **Port scan**: one source makes failed attempts on at least :data:`PORT_SCAN_PORTS` (15,
  Zeek's ``port_scan_threshold``) distinct ports of one host within :data:`WINDOW_S` (5 min,
  ``port_scan_interval``). TCP attempts fail when the target stays silent or refuses with a
  reset; UDP attempts when nothing comes back.
- **Host sweep**: one source makes failed TCP attempts on one port of at least
  :data:`SWEEP_HOSTS` (25, ``addr_scan_threshold``) distinct hosts within 5 min. UDP is left
  out of sweeps: peer-to-peer applications try dozens of peers that never answer (77 in one
  Gnutella capture of ``benign-more``). UDP from service ports (answers, as in a reflection)
  and to traceroute's ports (33434-33534) are not probes.
- **Ping sweep**: ICMP echo requests to at least :data:`PING_SWEEP_HOSTS` (15: Zeek's port
  threshold, as ICMP has no ports) distinct hosts within 5 min. The shared captures of
  everyday applications reach 3. The flow table carries no ICMP type, so an ICMP flow that
  answers a flow its destination opened (a port-unreachable error) is not a ping.
- **Stealth scan**: one source sends at least :data:`STEALTH_PROBES` (2) TCP probe flows whose
  every packet carries a flag combination that no TCP connection uses: no flag at all (NULL),
  SYN with FIN, FIN with PSH and URG and no ACK (Xmas), or a bare FIN without ACK. These are
  nmap's NULL, FIN and Xmas scans (``-sN``, ``-sF``, ``-sX``) and the odd probes of its OS
  detection (``-O``), and what the classic Snort scan rules match (``SCAN NULL``, sid 623;
  ``SCAN SYN FIN``, 624; ``SCAN FIN``, 621; ``SCAN nmap XMAS``, 1228). They carry no SYN, so
  Zeek's count of failed attempts above does not see them. One such packet alone is what a
  fuzzer or a damaged capture holds (Zeek logs it as a "weird", not a notice), so a scan takes
  two probes; flows with port 0 on either side are fragments, not probes. More than
  :data:`STEALTH_MAX_SOURCES` (20) sources with probes, spoofed or distributed, make one
  finding that counts them, not one finding each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ids_desktop.core.detect.finding import Finding, names, span
from ids_desktop.core.detect.flows import (
    ICMP,
    ICMP6,
    TCP,
    FlowView,
    densest_window,
    floats,
    top,
)
from ids_desktop.core.ingest.flowtable import TCP_FLAGS

WINDOW_S = 300.0
PORT_SCAN_PORTS = 15
SWEEP_HOSTS = 25
PING_SWEEP_HOSTS = 15
#: A probe is a flow the scanner opened with at most this many packets of its own.
PROBE_PACKETS = 4
#: UDP flows *from* these service ports are answers (a reflection's), never probes.
REPLY_PORTS = (53, 123, 161, 1900, 11211, 19, 389, 3702, 5683, 17, 111, 137, 27015, 5353, 67)
#: Linux traceroute's UDP probes go to consecutive ports from 33434 (one per hop and try).
TRACEROUTE_PORTS = (33434, 33534)
STEALTH_PROBES = 2
#: More sources than this, each with its probes, make one finding (spoofed or distributed).
STEALTH_MAX_SOURCES = 20


def detect(view: FlowView) -> list[Finding]:
    """Port scans, TCP host sweeps and ping sweeps in ``view``."""
    udp_probes = (
        view.unanswered_udp()
        & ~np.isin(view.sport, REPLY_PORTS)
        & ~((view.dport >= TRACEROUTE_PORTS[0]) & (view.dport <= TRACEROUTE_PORTS[1]))
    )
    failed = view.failed_tcp() | udp_probes
    out = _port_scans(view, failed)
    out += _sweeps(view, view.failed_tcp() & (view.dport >= 0), "host_sweep", SWEEP_HOSTS)
    icmp = np.isin(view.proto, (ICMP, ICMP6)) & (view.s2d_packets > 0)
    echo = icmp & ~view.answers_back() if icmp.sum() >= PING_SWEEP_HOSTS else icmp
    out += _sweeps(view, echo, "ping_sweep", PING_SWEEP_HOSTS)
    out += _stealth_scans(view)
    return out


def _port_scans(view: FlowView, failed: np.ndarray) -> list[Finding]:
    at = np.flatnonzero(failed & (view.dport >= 0))
    if len(at) < PORT_SCAN_PORTS:
        return []
    pairs = pd.DataFrame({"s": view.src[at], "d": view.dst[at], "p": view.dport[at], "i": at})
    counts = pairs.groupby(["s", "d"], sort=False)["p"].nunique()
    out = []
    for (src, dst), n in counts.items():
        if n < PORT_SCAN_PORTS:
            continue
        rows = pairs.loc[(pairs["s"] == src) & (pairs["d"] == dst), "i"].to_numpy()
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        i, j, k = densest_window(view.start[rows], view.dport[rows], WINDOW_S)
        if k < PORT_SCAN_PORTS:
            continue
        t0, t1 = float(view.start[rows[i]]), float(np.nanmax(view.end[rows[i:j]]))
        covered = _probes(view, src, dst, t0, t1)
        ports = view.dport[covered]
        failed_here = failed[covered]
        refused = int((view.d2s_rst[covered] > 0).sum())
        answered = int(len(covered) - failed_here.sum())
        protos = sorted(
            {"TCP" if p == TCP else "UDP" for p in view.proto[covered] if p in (TCP, 17)}
        )
        summary = (
            f"{src} probed {len(np.unique(ports)):,} {'/'.join(protos)} ports on {dst} in "
            f"{span(t1 - t0)}; {refused:,} got a reset, {answered:,} an answer"
        )
        out.append(
            Finding(
                "port_scan",
                "scan",
                (src,),
                (dst,),
                tuple(top(ports, 10)),
                t0,
                t1,
                covered,
                summary,
                target_count=1,
                port_count=len(np.unique(ports)),
            )
        )
    return out


def _probes(view: FlowView, src: str, dst: str, t0: float, t1: float) -> np.ndarray:
    """The scanner's short flows to ``dst`` within the scan's span (open ports answer too)."""
    return np.flatnonzero(
        (view.src == src)
        & (view.dst == dst)
        & (view.start >= t0)
        & (view.start <= t1)
        & (view.s2d_packets <= PROBE_PACKETS)
    )


def _sweeps(view: FlowView, mask: np.ndarray, detector: str, threshold: int) -> list[Finding]:
    at = np.flatnonzero(mask)
    if len(at) < threshold:
        return []
    ping = detector == "ping_sweep"
    key = np.zeros(len(at), dtype=np.int64) if ping else view.dport[at]
    table = pd.DataFrame({"s": view.src[at], "p": key, "d": view.dst[at], "i": at})
    counts = table.groupby(["s", "p"], sort=False)["d"].nunique()
    out = []
    for (src, port), n in counts.items():
        if n < threshold:
            continue
        rows = table.loc[(table["s"] == src) & (table["p"] == port), "i"].to_numpy()
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        i, j, k = densest_window(view.start[rows], view.dst[rows], WINDOW_S)
        if k < threshold:
            continue
        covered = rows[i:j]
        t0, t1 = float(view.start[covered[0]]), float(np.nanmax(view.end[covered]))
        hosts = top(view.dst[covered], 10)
        answered = int((view.d2s_packets[covered] > 0).sum())
        what = "pinged" if ping else f"tried TCP port {port} on"
        summary = (
            f"{src} {what} {k:,} hosts ({names(hosts)}) in {span(t1 - t0)}; {answered:,} answered"
        )
        out.append(
            Finding(
                detector,
                "scan",
                (src,),
                tuple(hosts),
                () if ping else (int(port),),
                t0,
                t1,
                covered,
                summary,
                target_count=k,
                port_count=0 if ping else 1,
            )
        )
    return out


def stealth_kinds(view: FlowView) -> np.ndarray:
    """Per flow, the odd flag combination every one of its client's packets carries (``NULL``,
    ``SYN+FIN``, ``Xmas``, ``FIN``), or ``""``. All ``""`` when the table has no flag counters
    (a dataset's table, not a capture's)."""
    kinds = np.full(view.n, "", dtype=object)
    columns = [f"src2dst_{flag}_packets" for flag in TCP_FLAGS]
    if not set(columns) <= set(view.frame.columns):
        return kinds
    c = {flag: floats(view.frame, col, 0.0) for flag, col in zip(TCP_FLAGS, columns, strict=True)
         if flag not in ("syn", "ack")}
    c["syn"], c["ack"] = view.s2d_syn, view.s2d_ack  # read already by the view
    n = view.s2d_packets
    probe = (view.proto == TCP) & (n > 0) & (view.sport > 0) & (view.dport > 0)
    every = {flag: c[flag] == n for flag in ("syn", "fin", "psh", "urg")}
    no_ack = c["ack"] == 0
    kinds[probe & (sum(c.values()) == 0)] = "NULL"
    kinds[probe & every["fin"] & no_ack & (c["syn"] == 0)] = "FIN"
    kinds[probe & every["fin"] & every["psh"] & every["urg"] & no_ack & (c["syn"] == 0)] = "Xmas"
    kinds[probe & every["syn"] & every["fin"]] = "SYN+FIN"
    return kinds


def _stealth_scans(view: FlowView) -> list[Finding]:
    kinds = stealth_kinds(view)
    at = np.flatnonzero(kinds != "")
    if len(at) < STEALTH_PROBES:
        return []
    sizes = pd.Series(view.src[at]).groupby(view.src[at], sort=False).transform("size")
    at = at[sizes.to_numpy() >= STEALTH_PROBES]
    sources = list(dict.fromkeys(view.src[at]))
    if len(sources) > STEALTH_MAX_SOURCES:
        # spoofed or distributed: one finding, not one per source
        return [_stealth_finding(view, kinds, at)]
    return [_stealth_finding(view, kinds, at[view.src[at] == src]) for src in sources]


def _stealth_finding(view: FlowView, kinds: np.ndarray, rows: np.ndarray) -> Finding:
    rows = rows[np.argsort(view.start[rows], kind="stable")]
    t0, t1 = float(np.nanmin(view.start[rows])), float(np.nanmax(view.end[rows]))
    srcs, hosts, ports = (top(view.src[rows], 10), top(view.dst[rows], 10),
                          top(view.dport[rows], 10))
    n_srcs = len(set(view.src[rows]))
    n_hosts, n_ports = len(set(view.dst[rows])), len(set(view.dport[rows]))
    used = ", ".join(f"{int((kinds[rows] == k).sum()):,} {k}"
                     for k in ("NULL", "FIN", "Xmas", "SYN+FIN") if (kinds[rows] == k).any())
    where = (f"{n_ports:,} port{'s' if n_ports > 1 else ''} of {names(hosts)}"
             if n_hosts <= 3 else f"{n_hosts:,} hosts ({names(hosts)})")
    who = srcs[0] if n_srcs == 1 else f"{n_srcs:,} sources ({names(srcs)})"
    summary = (
        f"{who} sent {len(rows):,} TCP probes with flags no connection uses ({used}) to "
        f"{where} in {span(t1 - t0)}, as nmap's NULL, FIN and Xmas scans and its OS "
        "detection do"
    )
    return Finding("stealth_scan", "scan", tuple(srcs), tuple(hosts),
                   tuple(int(p) for p in ports), t0, t1, rows, summary,
                   target_count=n_hosts, port_count=n_ports)
