"""ARP spoofing and ARP scans, from the ARP packets the container walk keeps.

nfstream meters IP flows only, so layer-2 attacks leave no trace in flow features. A
*claim* is an ARP packet's sender pair: this MAC says it has that IPv4 address.

**Spoofing** is a MAC claiming an address that is not its own, in one of three ways:

1. *Taking over an address in use*: MAC B claims an address MAC A claimed before, and A claims
   it again afterwards (both want it: arpwatch's "flip flop").
2. *Impersonation*: a MAC claims an address to other hosts and also asks, from another address
   of its own, which MAC has that address. A machine in the middle must learn the real
   owner's MAC to relay the traffic it draws (ettercap and arpspoof both do).
3. *Unsolicited replies*: a MAC sends ARP replies claiming an address to a host that never
   asked for it, and the address was claimed by another MAC before, or the sender also
   claims another address (its own): arpspoof's poisoning of a victim's gateway entry.

Ordinary address changes are none of these: a host leaving a link-local 169.254.x.x address
for its DHCP lease (one MAC, two addresses, announced gratuitously, no other MAC involved), a
machine with two addresses answering requests for both, and a proxy-ARP router answering
requests for hosts behind it (solicited replies). Probes from 0.0.0.0 claim nothing.

An **ARP scan** is one MAC asking for at least :data:`SCAN_TARGETS` (50) distinct addresses
within :data:`SCAN_WINDOW_S` (60 s): nmap's host discovery on a LAN asks for every address of
the subnet (245 in ``zeek_nmap-vsn.pcap``); the 430 shared captures of everyday applications
ask for 6 at most.

A spoofer's victims' flows from its first spoofing claim on may have passed through it; the
finding covers them (a man in the middle).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ids_desktop.core.detect.finding import Finding, names, span, when
from ids_desktop.core.detect.flows import FlowView

Claim = tuple[float, int, str, str, str, str]  # time, opcode, sender MAC, IP, target MAC, IP
REQUEST, REPLY = 1, 2
#: A reply answers a request the target sent for that address within this many seconds: real
#: answers come within milliseconds; one second allows for a slow or busy host.
SOLICITED_S = 1.0
SCAN_TARGETS = 50
SCAN_WINDOW_S = 60.0
_NOBODY = ("0.0.0.0", "")
_NO_MAC = ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")


def detect(claims: Sequence[Claim], view: FlowView) -> list[Finding]:
    """ARP spoofing and ARP scans among ``claims`` (time-ordered or not)."""
    claims = sorted(claims, key=lambda c: c[0])
    return _spoofing(claims, view) + _scans(claims)


def _spoofing(claims: list[Claim], view: FlowView) -> list[Finding]:
    own: dict[str, list[str]] = defaultdict(list)  # MAC -> addresses it claimed, in order
    reasons: dict[str, dict[str, None]] = defaultdict(dict)  # MAC -> its reasons, in order
    victims: dict[str, set[str]] = defaultdict(set)
    since: dict[str, float] = {}
    taken: dict[str, bool] = {}  # MAC -> it took an address another MAC had claimed
    claimed_by: dict[str, list[tuple[float, str]]] = defaultdict(list)
    asked: dict[tuple[str, str], float] = {}  # (asker IP, asked-for IP) -> last request time
    for ts, op, mac, ip, _tmac, tip in claims:
        if mac in _NO_MAC:
            continue
        if op == REQUEST and ip not in _NOBODY:
            asked[(ip, tip)] = ts
        if ip in _NOBODY:
            continue
        if ip not in own[mac]:
            own[mac].append(ip)
        claimed_by[ip].append((ts, mac))
        directed = tip not in (*_NOBODY, ip)
        if op == REPLY and directed and ts - asked.get((tip, ip), -1e18) > SOLICITED_S:
            earlier = next((m for _, m in claimed_by[ip] if m != mac), None)
            said = f"sent {tip} unsolicited ARP replies claiming {ip}"
            reasons[mac].setdefault(said + (f", which {earlier} had claimed" if earlier else ""))
            if earlier:
                taken[mac] = True
            victims[mac].add(tip)
            since.setdefault(mac, ts)
        if op == REQUEST and directed:
            victims[mac].add(tip)
    for mac, ips in own.items():  # impersonation: claims X, and asks for X from another address
        for ts, op, m, ip, _tmac, tip in claims:
            if m == mac and op == REQUEST and tip in ips and ip in ips and tip != ip:
                reasons[mac].setdefault(
                    f"claimed {tip} and also asked, as {ip}, which MAC has {tip}"
                )
                since[mac] = min(since.get(mac, ts), _first_claim(claims, mac, tip))
    for ip, history in claimed_by.items():  # flip flop: A, then B, then A again
        for k, (ts, mac_b) in enumerate(history):
            before = {m for _, m in history[:k] if m != mac_b}
            if before and any(m in before for _, m in history[k + 1 :]):
                other = next(m for _, m in history[k + 1 :] if m in before)
                reasons[mac_b].setdefault(f"took over {ip}, which {other} still uses")
                taken[mac_b] = True
                since.setdefault(mac_b, ts)
                break
    out = []
    for mac, why in reasons.items():
        # a MAC with a single address is only a spoofer when it took that address over
        if len(own[mac]) < 2 and not taken.get(mac):
            continue
        t0 = since[mac]
        hit = [v for v in sorted(victims[mac]) if v not in own[mac]]
        rows = np.flatnonzero((np.isin(view.src, hit) | np.isin(view.dst, hit)) & (view.end >= t0))
        t1 = max([t0, *view.end[rows]]) if len(rows) else t0
        summary = (
            f"MAC {mac} {'; '.join(why)} (from {when(t0)}); "
            f"{len(rows):,} flows of {names(hit) if hit else 'its victims'} ran after "
            f"that and may have passed through it"
        )
        out.append(
            Finding(
                "arp_spoofing",
                "mitm",
                (mac,),
                tuple(hit),
                (),
                t0,
                float(t1),
                rows,
                summary,
                target_count=len(hit),
            )
        )
    return out


def _first_claim(claims: list[Claim], mac: str, ip: str) -> float:
    return min((c[0] for c in claims if c[2] == mac and c[3] == ip), default=float("inf"))


def _scans(claims: list[Claim]) -> list[Finding]:
    asks: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for ts, op, mac, _ip, _tmac, tip in claims:
        if op == REQUEST and mac not in _NO_MAC and tip not in _NOBODY:
            asks[mac].append((ts, tip))
    out = []
    for mac, seq in asks.items():
        if len({t for _, t in seq}) < SCAN_TARGETS:
            continue
        times = np.array([t for t, _ in seq])
        best, best_n, j = (0, 0), 0, 0
        counts: dict[str, int] = {}
        for i in range(len(seq)):
            while j < len(seq) and times[j] <= times[i] + SCAN_WINDOW_S:
                counts[seq[j][1]] = counts.get(seq[j][1], 0) + 1
                j += 1
            if len(counts) > best_n:
                best, best_n = (i, j), len(counts)
            counts[seq[i][1]] -= 1
            if not counts[seq[i][1]]:
                del counts[seq[i][1]]
        if best_n < SCAN_TARGETS:
            continue
        i, j = best
        t0, t1 = float(times[i]), float(times[j - 1])
        targets = sorted({t for _, t in seq[i:j]})
        summary = (
            f"MAC {mac} asked over ARP for {best_n:,} addresses ({names(targets)}) in "
            f"{span(t1 - t0)}: a host discovery scan of the local network"
        )
        out.append(
            Finding(
                "arp_scan",
                "scan",
                (mac,),
                tuple(targets[:20]),
                (),
                t0,
                t1,
                np.zeros(0, dtype=np.int64),
                summary,
                target_count=best_n,
            )
        )
    return out
