"""Join nfstream flows to the scenario log: every flow gets its label by construction.

A flow is an attack flow when it matches a rule of an event (attacker address on one side,
victim address, protocol, victim port and attacker source-port range as logged) and its time
span overlaps the event's window (with a little slack for flows that close late). Flows of a
dedicated attacker host that match no rule are attributed to that host's event closest in
time. Every other flow between two lab hosts is benign (the lab link's broadcast and link-local
multicast addresses and DHCP's 0.0.0.0 source count as lab hosts: DHCP and mDNS use them).
Flows with a non-lab address (there should be none) and attacker-host flows outside any window
are dropped and counted.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .attacks import ICMP, Event, Rule
from .netns import HOST_NET, is_link_scope

BEFORE, AFTER = 2.0, 15.0


def load_events(path: Path) -> list[Event]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        d["rules"] = [Rule(**r) for r in d["rules"]]
        out.append(Event(**d))
    return out


def _rule_mask(fr: pd.DataFrame, rule: Rule) -> np.ndarray:
    src, dst = fr["src_ip"].to_numpy(), fr["dst_ip"].to_numpy()
    sp, dp = fr["sport"].to_numpy(), fr["dport"].to_numpy()
    proto = fr["proto"].to_numpy()
    a = set(rule.a)
    fwd = np.isin(src, list(a))
    rev = np.isin(dst, list(a))
    other = np.where(fwd, dst, src)
    a_port = np.where(fwd, sp, dp)
    b_port = np.where(fwd, dp, sp)
    m = fwd | rev
    if rule.b is not None:
        m &= np.isin(other, rule.b)
    if rule.proto is not None:
        m &= np.isin(proto, rule.proto)
    icmp = proto == ICMP
    if rule.b_ports is not None:
        m &= np.isin(b_port, rule.b_ports) | icmp
    if rule.a_ports is not None:
        lo, hi = rule.a_ports
        m &= ((a_port >= lo) & (a_port <= hi)) | icmp
    return m


def label_flows(frame: pd.DataFrame, events: list[Event], attacker_ips: set[str],
                mix: str) -> tuple[pd.DataFrame, pd.DataFrame, Counter]:
    """Return (labelled canonical frame, per-flow label table, counts of dropped flows)."""
    fr = pd.DataFrame({
        "src_ip": frame["src_ip"].astype(str).to_numpy(),
        "dst_ip": frame["dst_ip"].astype(str).to_numpy(),
        "sport": frame["src_port"].fillna(0).astype("int64").to_numpy(),
        "dport": frame["dst_port"].fillna(0).astype("int64").to_numpy(),
        "proto": frame["protocol"].fillna(0).astype("int64").to_numpy(),
        "first": frame["first_seen"].to_numpy(),
        "last": frame["last_seen"].to_numpy(),
    })
    n = len(fr)
    ev_idx = np.full(n, -1)
    evs = [e for e in events if e.mix == mix]
    # specific rules first: rules with more constraints win over broad ones
    order = sorted(range(len(evs)), key=lambda i: -max(
        sum(x is not None for x in (r.b, r.proto, r.b_ports, r.a_ports)) for r in evs[i].rules))
    for i in order:
        e = evs[i]
        inwin = ((fr["first"].to_numpy() <= e.end + AFTER)
                 & (fr["last"].to_numpy() >= e.start - BEFORE))
        for r in e.rules:
            m = _rule_mask(fr, r) & inwin & (ev_idx < 0)
            ev_idx[m] = i
    drop = Counter()
    lab_ips = {str(ip) for ip in HOST_NET.hosts()} | {f"10.213.9.{i}" for i in range(32)}
    # the lab link's broadcast/multicast and DHCP's 0.0.0.0 source count as lab addresses:
    # a packet to or from them cannot leave the bridge (benign DHCP and mDNS use them)
    lab_ips |= {ip for ip in set(fr["src_ip"]) | set(fr["dst_ip"]) if is_link_scope(ip)}
    src_lab = fr["src_ip"].isin(lab_ips).to_numpy()
    dst_lab = fr["dst_ip"].isin(lab_ips).to_numpy()
    non_lab = ~(src_lab & dst_lab)
    att = fr["src_ip"].isin(attacker_ips).to_numpy() | fr["dst_ip"].isin(attacker_ips).to_numpy()
    # unmatched flows of dedicated attacker hosts: nearest event of that host
    fallback = np.where((ev_idx < 0) & att & ~non_lab)[0]
    for j in fallback:
        ips = {fr.at[j, "src_ip"], fr.at[j, "dst_ip"]}
        best, gap = -1, 1e18
        for i, e in enumerate(evs):
            if ips & {ip for r in e.rules for ip in r.a}:
                g = max(0.0, e.start - fr.at[j, "last"], fr.at[j, "first"] - e.end)
                if g < gap:
                    best, gap = i, g
        if best >= 0 and gap <= 60:
            ev_idx[j] = best
            drop["attributed_by_host"] += 1
    keep = ~non_lab & ~((ev_idx < 0) & att)
    drop["non_lab_address"] = int(non_lab.sum())
    drop["attacker_host_outside_windows"] = int(((ev_idx < 0) & att & ~non_lab).sum())
    out = frame.loc[keep].copy()
    idx = ev_idx[keep]
    is_att = idx >= 0
    fam = np.array([evs[i].family if i >= 0 else "benign" for i in idx], dtype=object)
    orig = np.array([evs[i].label if i >= 0 else "benign" for i in idx], dtype=object)
    out["label_binary"] = pd.array(is_att.astype("int8"), dtype="Int8")
    out["label_class"] = pd.array(fam, dtype="string")
    out["label_original"] = pd.array(orig, dtype="string")
    labels = pd.DataFrame({
        "flow_id": out["flow_id"].to_numpy(),
        "mix": mix,
        "src_ip": out["src_ip"].to_numpy(), "src_port": out["src_port"].to_numpy(),
        "dst_ip": out["dst_ip"].to_numpy(), "dst_port": out["dst_port"].to_numpy(),
        "protocol": out["protocol"].to_numpy(),
        "first_seen": out["first_seen"].to_numpy(), "last_seen": out["last_seen"].to_numpy(),
        "application": out["application"].to_numpy(),
        "label_binary": is_att.astype(int), "label_class": fam,
        "event": np.array([evs[i].id if i >= 0 else "" for i in idx], dtype=object),
        "tool": np.array([evs[i].tool if i >= 0 else "" for i in idx], dtype=object),
    })
    return out.reset_index(drop=True), labels, drop


def is_lab(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in HOST_NET
    except ValueError:
        return False
